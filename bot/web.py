"""The one web app: Telegram and WhatsApp webhooks and a health check.

Every request is checked before its body is read (the Telegram secret, a Twilio signature
header), and bodies are read with a size cap and a deadline: one request cannot hold a
worker's memory or a connection for long. A malformed body gets a 4xx or, if it came from
the platform itself, a 2xx and one log line; never a 5xx or a traceback.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Message

from bot.media import MediaRelay
from bot.telegram import TelegramChannel
from bot.whatsapp import WhatsAppChannel
from models.base import utcnow
from models.storage import Database

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SIGNATURE_HEADER = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@dataclass(frozen=True)
class BodyLimits:
    """How much of a request body the app reads, and for how long it waits for it."""

    max_bytes: int = 1024 * 1024
    read_timeout: float = 10.0


class Refused(Exception):
    """A request answered with a 4xx before anything acted on it."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    # The rest of an unread body is not worth reading: close the connection after answering.
    return PlainTextResponse(exc.reason, status_code=exc.status, headers={"Connection": "close"})


async def read_body(request: Request, limits: BodyLimits) -> bytes:
    """The request's body, at most `limits.max_bytes` of it, read within the deadline."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limits.max_bytes:
        raise Refused(413, f"body over {limits.max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        # uvicorn has no body timeout: a client sending a byte now and then would hold on.
        async with asyncio.timeout(limits.read_timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limits.max_bytes:  # a chunked body has no length to check up front
                    raise Refused(413, f"body over {limits.max_bytes} bytes")
                chunks.append(chunk)
    except TimeoutError:
        log.info(
            "%s %s: body not sent within %ss, cut off",
            request.method,
            request.url.path,
            limits.read_timeout,
        )
        raise Refused(408, "body too slow") from None
    except ClientDisconnect:
        log.info("%s %s: the client hung up mid-request", request.method, request.url.path)
        raise Refused(400, "client went away") from None
    return b"".join(chunks)


async def _form(request: Request, body: bytes) -> dict[str, str]:
    """The fields of a form POST whose body was already read."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, replay).form()  # a bad multipart body: 400
    return {key: value for key, value in form.items() if isinstance(value, str)}


def create_web_app(
    db: Database,
    *,
    telegram: TelegramChannel | None = None,
    telegram_secret: str = "",
    whatsapp: WhatsAppChannel | None = None,
    media: MediaRelay | None = None,
    clock: Callable[[], datetime] = utcnow,
    limits: BodyLimits | None = None,
) -> Starlette:
    """Build the ASGI app `kabar run` serves."""
    body_limits = limits or BodyLimits()

    async def healthz(request: Request) -> Response:
        try:
            async with db.sessions() as session:
                await session.execute(text("SELECT 1"))
            database = "ok"
        except Exception as exc:  # any driver error means "not healthy", said plainly
            log.warning("health check: database unreachable: %s", exc)
            database = "unreachable"
        channels = {
            "telegram": "running" if telegram and telegram.running else "off",
            "whatsapp": "running" if whatsapp and whatsapp.running else "off",
        }
        healthy = (
            database == "ok"
            and (telegram is None or telegram.running)
            and (whatsapp is None or whatsapp.running)
        )
        return JSONResponse(
            {"status": "ok" if healthy else "degraded", "database": database, "channels": channels},
            status_code=200 if healthy else 503,
        )

    async def telegram_webhook(request: Request) -> Response:
        if telegram is None:
            return PlainTextResponse("telegram is not enabled", status_code=404)
        given = request.headers.get(SECRET_HEADER, "")
        if not telegram_secret or not hmac.compare_digest(given.encode(), telegram_secret.encode()):
            return PlainTextResponse("forbidden", status_code=403)
        try:
            data = json.loads(await read_body(request, body_limits))
        except ValueError:  # not JSON, or not UTF-8
            return PlainTextResponse("body is not JSON", status_code=400)
        if not isinstance(data, dict) or "update_id" not in data:
            return PlainTextResponse("body is not a Telegram update", status_code=400)
        update = telegram.read_update(data)
        if update is None:
            # It came with our secret, so from Telegram (or whoever holds it): sending it again
            # would not make it readable. Taken, and dropped.
            return PlainTextResponse("ignored")
        # Answer Telegram at once; the conversation runs after the response is sent.
        return PlainTextResponse("ok", background=BackgroundTask(telegram.process, update))

    async def signed_form(request: Request) -> dict[str, str] | None:
        """The posted fields, if Twilio signed them for our public URL; None otherwise."""
        assert whatsapp is not None
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature:  # unsigned: not worth reading
            return None
        params = await _form(request, await read_body(request, body_limits))
        return params if whatsapp.verify(request.url.path, params, signature) else None

    async def whatsapp_webhook(request: Request) -> Response:
        if whatsapp is None:
            return PlainTextResponse("whatsapp is not enabled", status_code=404)
        params = await signed_form(request)
        if params is None:
            return PlainTextResponse("forbidden", status_code=403)
        incoming = whatsapp.incoming(params)
        task = BackgroundTask(whatsapp.answer, incoming) if incoming is not None else None
        # An empty TwiML answer at once; replies go out through the API.
        return Response(EMPTY_TWIML, media_type="text/xml", background=task)

    async def whatsapp_status(request: Request) -> Response:
        if whatsapp is None:
            return PlainTextResponse("whatsapp is not enabled", status_code=404)
        params = await signed_form(request)
        if params is None:
            return PlainTextResponse("forbidden", status_code=403)
        await whatsapp.record_status(params, clock())
        return Response(status_code=204)

    async def media_file(request: Request) -> Response:
        # WhatsApp fetches the photos kabar sends from here: a signed link names one file.
        ref = media.read(request.path_params["token"]) if media is not None else None
        if media is None or ref is None:
            return PlainTextResponse("not found", status_code=404)
        try:
            data, content_type = await media.fetch(ref)
        except Exception as exc:  # the platform it lives on is down or lost it
            log.warning("media link could not be served: %s", exc)
            return PlainTextResponse("media unavailable", status_code=502)
        return Response(data, media_type=content_type)

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/media/{token}", media_file, methods=["GET"]),
            Route("/telegram/webhook", telegram_webhook, methods=["POST"]),
            Route("/whatsapp/webhook", whatsapp_webhook, methods=["POST"]),
            Route("/whatsapp/status", whatsapp_status, methods=["POST"]),
        ],
        exception_handlers={Refused: _refused},
    )
