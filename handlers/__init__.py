"""The channel-neutral conversation: an incoming message in, a reply out (no SDK here)."""
