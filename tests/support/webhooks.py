"""The web app served as `kabar run` serves it, for tests that speak raw HTTP to it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bot.config import ServerConfig, config_from_mapping
from bot.server import serving
from bot.telegram import TelegramChannel
from bot.web import BodyLimits, create_web_app
from bot.whatsapp import WhatsAppChannel
from models.enums import Channel
from models.storage import Database
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twilio import FakeTwilio, sign
from tests.support.shop import Shop, open_shop

PUBLIC = "https://shop.example"
SECRET = "s3cret-Token_for-tests"
SHOP_NUMBER = "+6281100001111"


@dataclass
class Served:
    """The demo shop's web app on a local port, Telegram (webhook mode) and WhatsApp on."""

    shop: Shop
    port: int
    telegram_api: FakeTelegram
    twilio: FakeTwilio

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def signature(self, path: str, params: dict[str, str]) -> str:
        """What Twilio would send as X-Twilio-Signature for these fields posted to `path`."""
        return sign(self.twilio.auth_token, PUBLIC + path, params)

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A raw connection to the server."""
        return await asyncio.open_connection("127.0.0.1", self.port)


def server_config(**limits: Any) -> ServerConfig:
    """[server] with these keys (read_timeout_seconds, limit_concurrency, max_body_bytes)."""
    return config_from_mapping({"server": limits}).server


@asynccontextmanager
async def served(db: Database, server: ServerConfig | None = None) -> AsyncIterator[Served]:
    """Serve the demo shop's web app through `bot.server.serving`, as `kabar run` does."""
    server = server or server_config()
    shop = await open_shop(db)
    async with FakeTelegram() as telegram_api, FakeTwilio() as twilio:
        config = config_from_mapping(
            {
                "telegram": {
                    "enabled": True,
                    "token": telegram_api.token,
                    "api_base_url": telegram_api.base_url,
                    "mode": "webhook",
                    "webhook_url": f"{PUBLIC}/telegram/webhook",
                    "webhook_secret": SECRET,
                },
                "whatsapp": {
                    "enabled": True,
                    "account_sid": twilio.account_sid,
                    "auth_token": twilio.auth_token,
                    "from_number": SHOP_NUMBER,
                    "public_url": PUBLIC,
                    "api_base_url": twilio.base_url,
                },
            }
        )
        telegram = TelegramChannel(config.telegram, shop.conversation, shop.messages, shop.db)
        whatsapp = WhatsAppChannel(config.whatsapp, shop.conversation, shop.messages, shop.db)
        shop.dispatcher.channels[Channel.TELEGRAM] = telegram
        shop.dispatcher.channels[Channel.WHATSAPP] = whatsapp
        web = create_web_app(
            shop.db,
            telegram=telegram,
            telegram_secret=SECRET,
            whatsapp=whatsapp,
            clock=shop.clock,
            limits=BodyLimits(server.max_body_bytes, server.read_timeout_seconds),
        )
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.setblocking(False)
        await telegram.start()
        try:
            async with serving(web, sock, server):
                yield Served(shop, sock.getsockname()[1], telegram_api, twilio)
        finally:
            sock.close()
            await telegram.stop()
            await whatsapp.close()
