"""The one web app: Telegram (and later WhatsApp) webhooks and a health check."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.telegram import TelegramChannel
from bot.whatsapp import WhatsAppChannel
from models.base import utcnow
from models.storage import Database

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def create_web_app(
    db: Database,
    *,
    telegram: TelegramChannel | None = None,
    telegram_secret: str = "",
    whatsapp: WhatsAppChannel | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Starlette:
    """Build the ASGI app `kabar run` serves."""

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
            update = json.loads(await request.body())
        except ValueError:
            return PlainTextResponse("body is not JSON", status_code=400)
        if not isinstance(update, dict) or "update_id" not in update:
            return PlainTextResponse("body is not a Telegram update", status_code=400)
        # Answer Telegram at once; the conversation runs after the response is sent.
        return PlainTextResponse("ok", background=BackgroundTask(telegram.process, update))

    async def signed_form(request: Request) -> dict[str, str] | None:
        """The posted fields, if Twilio signed them for our public URL; None otherwise."""
        assert whatsapp is not None
        form = await request.form()
        params = {key: value for key, value in form.items() if isinstance(value, str)}
        signature = request.headers.get("X-Twilio-Signature", "")
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

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/telegram/webhook", telegram_webhook, methods=["POST"]),
            Route("/whatsapp/webhook", whatsapp_webhook, methods=["POST"]),
            Route("/whatsapp/status", whatsapp_status, methods=["POST"]),
        ]
    )
