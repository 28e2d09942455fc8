"""Photos and files crossing platforms: each platform can only read references of its own.

A Telegram file id means nothing to Twilio, and a Twilio media URL needs the account's
password to read. So a photo going to WhatsApp is given as a link to kabar's own web server
(`GET /media/{token}`), which fetches it from where it came from; a photo going to Telegram
from WhatsApp is fetched and uploaded. The link is signed and expires: it names one file and
cannot be made up.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import mimetypes
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

from models.enums import Channel

LINK_LIFETIME = 7 * 24 * 3600  # seconds: long enough for a push held in quiet hours or retried
MAX_BYTES = 16 * 1024 * 1024  # WhatsApp's own limit for media


class MediaError(Exception):
    """A file that cannot be fetched from its platform (gone, too big, platform down)."""


@runtime_checkable
class MediaSource(Protocol):
    """A channel that can hand over the bytes of a file it gave kabar a reference to."""

    async def fetch_media(self, ref: str) -> tuple[bytes, str]:
        """Return the file's bytes and content type."""
        ...


LOCAL = "file:"  # the shop's own files (a QRIS image from the configuration)


def source_of(ref: str) -> Channel | None:
    """The platform a media reference comes from: WhatsApp gives URLs, Telegram file ids; None
    for the shop's own files."""
    if ref.startswith(LOCAL):
        return None
    return Channel.WHATSAPP if ref.startswith(("https://", "http://")) else Channel.TELEGRAM


async def read_local(ref: str) -> tuple[bytes, str]:
    """The bytes and content type of one of the shop's own files."""
    path = Path(ref.removeprefix(LOCAL))
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise MediaError(f"{path.name}: {exc.strerror}") from exc
    if len(data) > MAX_BYTES:
        raise MediaError(f"{path.name} is over {MAX_BYTES} bytes")
    return data, mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class MediaRelay:
    """Turns a media reference from one platform into something another platform can send."""

    def __init__(
        self,
        secret: bytes,
        public_url: str,
        sources: Mapping[Channel, object],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = hashlib.sha256(b"kabar media links\0" + secret).digest()
        self.public_url = public_url.rstrip("/")
        self._sources = sources  # the process's channels, as the composition root made them
        self._clock = clock

    def link(self, ref: str) -> str:
        """A public URL that serves this file for a while (for WhatsApp, which fetches media)."""
        expires = int(self._clock()) + LINK_LIFETIME
        body = _b64(json.dumps([ref, expires], separators=(",", ":")).encode())
        return f"{self.public_url}/media/{body}.{self._sign(body)}"

    def read(self, token: str) -> str | None:
        """The reference a link names, if kabar signed it and it has not expired."""
        body, _, signature = token.partition(".")
        if not body or not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            return None
        try:
            ref, expires = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, TypeError):
            return None
        if not isinstance(ref, str) or not isinstance(expires, int) or expires < self._clock():
            return None
        return ref

    async def fetch(self, ref: str) -> tuple[bytes, str]:
        """The file's bytes and content type, from the platform it came from."""
        origin = source_of(ref)
        if origin is None:
            return await read_local(ref)
        source = self._sources.get(origin)
        if not isinstance(source, MediaSource):
            raise MediaError(f"no {origin.value} channel here to fetch media from")
        data, content_type = await source.fetch_media(ref)
        if len(data) > MAX_BYTES:
            raise MediaError(f"media of {len(data)} bytes is over {MAX_BYTES}")
        return data, content_type

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return _b64(digest[:18])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
