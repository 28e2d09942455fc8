"""The WhatsApp channel through Twilio: signed webhooks in, async API sends out."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels import SendError, send_reply, split_text
from bot.config import WhatsAppConfig
from bot.media import MAX_BYTES, MediaError, MediaRelay
from bot.pacing import Pacer
from handlers.conversation import Conversation
from handlers.i18n import Messages
from handlers.types import Attachment, Incoming, Reply
from models.enums import Channel, Language
from models.errors import InvalidPhone
from models.outbox import DeliveryReport, Verdict, apply_delivery_report
from models.phones import international_phone, mask_phone
from models.storage import Database
from models.text import unsafe_character

log = logging.getLogger(__name__)
BODY_LIMIT = 1600  # characters Twilio accepts in one WhatsApp message
OUTSIDE_WINDOW = "63016"  # free-form message outside the 24-hour session window
RATE_LIMITED = {"63018", "20429"}
# The person cannot receive: blocked the business, not on WhatsApp, or number invalid.
UNREACHABLE = {"63024", "63003", "63032", "21211", "21610", "131050"}


class _HeaderAuthHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Twilio's async HTTP client, sending basic auth as a header.

    aiohttp 3.14 deprecates the `BasicAuth` object the stock client passes on every request.
    """

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (twilio's signature)
        allow_redirects: bool = False,
    ) -> Any:
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers = {**(headers or {}), "Authorization": f"Basic {token}"}
        return await super().request(
            method, url, params, data, headers, None, timeout, allow_redirects
        )


class WhatsAppChannel:
    """Sends replies and pushes through Twilio, and reads Twilio's webhook posts."""

    kind = Channel.WHATSAPP
    session_window = timedelta(hours=24)

    def __init__(
        self,
        config: WhatsAppConfig,
        conversation: Conversation,
        messages: Messages,
        db: Database,
        *,
        media: MediaRelay | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        assert config.auth_token is not None
        token = config.auth_token.get_secret_value()
        self.client = Client(config.account_sid, token, http_client=_HeaderAuthHttpClient())
        if config.api_base_url:
            # The twilio SDK has no base-URL option; its API domain reads this attribute.
            self.client.api.base_url = config.api_base_url
        self.validator = RequestValidator(token)
        self.public_url = config.public_url
        self.sender = f"whatsapp:{config.from_number}"
        self.templates: Mapping[str, str] = dict(config.templates)
        self.conversation = conversation
        self.messages = messages
        self.db = db
        self.media = media  # WhatsApp fetches every photo kabar sends from kabar's own link
        self.pacer = pacer  # the sender's throughput, shared with the dispatcher's pushes
        self._auth = (config.account_sid, token)
        # Twilio's media URLs redirect to storage elsewhere; the password goes to Twilio only.
        self._files = httpx.AsyncClient(follow_redirects=True, timeout=30)
        self.running = True

    async def answer(self, incoming: Incoming) -> None:
        """Let the conversation answer an inbound message and send its replies."""
        for reply in await self.conversation.handle(incoming):
            await send_reply(self, self.pacer, incoming.chat, reply)

    async def close(self) -> None:
        """Close the HTTP sessions: the async client's, and the one media is fetched with."""
        self.running = False
        await self.client.http_client.close()
        await self._files.aclose()

    async def fetch_media(self, ref: str) -> tuple[bytes, str]:
        """The bytes of a file a customer sent (a Twilio media URL), and its content type."""
        try:
            async with self._files.stream("GET", ref, auth=self._auth) as response:
                if response.status_code != 200:
                    raise MediaError(f"whatsapp: media answered {response.status_code}")
                chunks = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise MediaError(f"whatsapp: media over {MAX_BYTES} bytes")
                    chunks.append(chunk)
                kind = response.headers.get("content-type", "application/octet-stream")
        except httpx.HTTPError as exc:
            raise MediaError(f"whatsapp: media could not be fetched ({exc})") from exc
        return b"".join(chunks), kind

    def verify(self, path: str, params: Mapping[str, str], signature: str) -> bool:
        """Check Twilio's signature over the public URL it called and every posted field."""
        if not signature:
            return False
        return bool(self.validator.validate(self.public_url + path, dict(params), signature))

    def incoming(self, params: Mapping[str, str]) -> Incoming | None:
        """Turn an inbound webhook's fields into the conversation's message; None if unusable."""
        raw = params.get("From", "").removeprefix("whatsapp:")
        try:
            phone = international_phone(raw)  # WhatsApp gives the country code
        except InvalidPhone:
            log.warning("whatsapp message from an unreadable number %s", mask_phone(raw))
            return None
        text = params.get("ButtonPayload") or params.get("Body", "")
        photo, attachment = _media(params)
        return Incoming(
            channel=Channel.WHATSAPP,
            chat=phone,
            sender=phone,
            name=params.get("ProfileName", ""),
            text=text,
            photo=photo,
            phone_verified=True,  # WhatsApp vouches for the sender's number
            message_id=params.get("MessageSid", "")[:64] or None,  # Twilio's are 34 long
            attachment=attachment,
            provider_id=params.get("MessageSid", "")[:64] or None,
        )

    def text_of(self, reply: Reply) -> str:
        """The message text, with any choices as numbered options to answer with a digit."""
        if not reply.choices:
            return reply.text
        lang = reply.lang or Language.ID
        lines = [reply.text, ""]
        lines += [f"{n}. {choice.label}" for n, choice in enumerate(reply.choices, start=1)]
        numbers = [str(n) for n in range(1, len(reply.choices) + 1)]
        joined = (
            numbers[0]
            if len(numbers) == 1
            else (
                ", ".join(numbers[:-1]) + f" {self.messages.text(lang, 'choices.or')} {numbers[-1]}"
            )
        )
        lines.append(self.messages.text(lang, "choices.hint", numbers=joined))
        return "\n".join(lines)

    async def send(self, address: str, reply: Reply, *, track: bool = False) -> str:
        """Send free-form text (and a photo or file, by URL) inside the session window."""
        parts = list(split_text(self.text_of(reply), BODY_LIMIT)) or [" "]
        ref = reply.photo or (reply.file.ref if reply.file and reply.file.sendable else None)
        media = None
        if ref and self.media is not None:
            media = [self.media.link(ref)]  # WhatsApp fetches it from kabar, which fetches it
        elif ref and ref.startswith("https://"):
            media = [ref]
        sid = ""
        for number, part in enumerate(parts):
            sid = await self._create(
                track,
                to=f"whatsapp:{address}",
                body=part,
                media_url=media if number == 0 else None,
            )
        return sid

    async def send_template(self, address: str, template: str, variables: dict[str, str]) -> str:
        """Send an approved template (Content SID) with its variables."""
        return await self._create(
            True,
            to=f"whatsapp:{address}",
            content_sid=template,
            content_variables=json.dumps(variables, ensure_ascii=False),
        )

    async def _create(self, track: bool, **fields: object) -> str:
        callback = f"{self.public_url}/whatsapp/status" if track and self.public_url else None
        try:
            message = await self.client.messages.create_async(
                from_=self.sender, status_callback=callback, **fields
            )
        except TwilioRestException as exc:
            raise _send_error(exc) from exc
        except Exception as exc:  # network trouble: the dispatcher retries with backoff
            raise SendError(f"whatsapp: {type(exc).__name__}: {exc}") from exc
        return str(message.sid)

    async def record_status(self, params: Mapping[str, str], now: datetime) -> None:
        """Store a delivery status callback on its notification (the outbox acts on it)."""
        fields = [params.get(key, "") for key in ("MessageSid", "MessageStatus", "ErrorCode")]
        if not fields[0] or any(unsafe_character(value) for value in fields):
            log.warning("whatsapp status callback ignored: no readable MessageSid or status")
            return
        report = delivery_report(params)
        async with self.db.transaction() as session:
            await apply_delivery_report(session, report, now)


def _media(params: Mapping[str, str]) -> tuple[str | None, Attachment | None]:
    """The first photo, or what else came with an inbound message (file, voice, place)."""
    if params.get("Latitude") and params.get("Longitude"):
        return None, Attachment("location", f"{params['Latitude']},{params['Longitude']}")
    if params.get("NumMedia", "0") in ("", "0") or not params.get("MediaUrl0"):
        return None, None
    url, mime = params["MediaUrl0"], params.get("MediaContentType0", "")
    if mime.startswith("image/"):
        return url, None
    kind = next((k for prefix, k in MEDIA_KINDS if mime.startswith(prefix)), "document")
    return None, Attachment(kind, url)


# Twilio's content types, to the kinds of attachment the conversation knows.
MEDIA_KINDS = (("audio/", "voice"), ("video/", "video"), ("text/vcard", "document"))


def delivery_report(params: Mapping[str, str]) -> DeliveryReport:
    """Read a Twilio status callback: its status, error code, and what the code means for us."""
    status, code = params.get("MessageStatus", ""), params.get("ErrorCode") or None
    verdict = Verdict.NOTED
    if status in ("failed", "undelivered") and code is not None:
        if code == OUTSIDE_WINDOW:
            verdict = Verdict.RESEND_AS_TEMPLATE
        elif code in RATE_LIMITED:
            verdict = Verdict.RETRY
        elif code in UNREACHABLE:
            verdict = Verdict.UNREACHABLE
    return DeliveryReport(params.get("MessageSid", ""), status, code, verdict)


def _send_error(exc: TwilioRestException) -> SendError:
    code = str(exc.code) if exc.code is not None else ""
    text = f"whatsapp: {code or exc.status} {exc.msg}"
    if exc.status == 429 or code in RATE_LIMITED:
        return SendError(text, retry_after=1)
    if code in UNREACHABLE:
        return SendError(text, blocked=True)
    if exc.status >= 500:
        return SendError(text)
    return SendError(text, permanent=True)
