"""The runtime: configuration, command line, channels, web server, scheduler."""
