"""The inbound baseline: a raw python-telegram-bot echo bot behind a Starlette + uvicorn webhook.

Run as a `bench.common.Helper`: `python -m bench.echo_bot --config FILE` takes the Bot API URL,
token and webhook secret from the `[telegram]` section of the kabar configuration the benchmark
gives kabar too, announces its port and serves until stdin closes. It is built like PTB's
customwebhookbot/starlettebot.py example and like kabar's own webhook: check the secret header,
answer 200 at once, let PTB process the update.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import socket
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bench.common import announce, stdin_closed
from bot.config import load_config

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the message's text back to its chat."""
    message = update.effective_message
    if message is not None and message.text:
        await context.bot.send_message(message.chat_id, message.text)


def web_app(bot: Application[Any, Any, Any, Any, Any, Any], secret: str) -> Starlette:
    """Build the webhook route: check the secret, queue the update for PTB, answer at once."""

    async def webhook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return PlainTextResponse("forbidden", status_code=403)
        try:
            data = json.loads(await request.body())
        except ValueError:
            return PlainTextResponse("body is not JSON", status_code=400)
        await bot.update_queue.put(Update.de_json(data, bot.bot))
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/telegram/webhook", webhook, methods=["POST"])])


async def serve(api: str, token: str, secret: str) -> None:
    """Run the echo bot until the parent closes our stdin."""
    # The same PTB set-up as kabar's webhook mode: no updater, updates handled concurrently.
    bot = (
        ApplicationBuilder()
        .token(token)
        .base_url(api)
        .base_file_url(api.removesuffix("/bot") + "/file/bot")
        .concurrent_updates(True)
        .updater(None)
        .build()
    )
    bot.add_handler(MessageHandler(filters.TEXT, echo))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(web_app(bot, secret), log_level="warning", lifespan="off", access_log=False)
    )
    async with bot:
        await bot.start()
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no event)
            await asyncio.sleep(0.01)
        announce(port=port)
        await stdin_closed()
        server.should_exit = True
        await task
        await bot.stop()


def main() -> None:
    """Read the configuration and serve."""
    parser = argparse.ArgumentParser(description="A raw PTB echo bot behind a webhook.")
    parser.add_argument("--config", required=True, help="a kabar configuration file")
    telegram = load_config(parser.parse_args().config).telegram
    if telegram.token is None or telegram.webhook_secret is None:
        parser.error("the configuration needs telegram.token and telegram.webhook_secret")
    token, secret = telegram.token.get_secret_value(), telegram.webhook_secret.get_secret_value()
    asyncio.run(serve(telegram.api_base_url, token, secret))


if __name__ == "__main__":
    main()
