"""Outbox rows to push, and kabar's full path that sends them: dispatcher → render → SDK."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.channels import ChatChannel
from bot.config import config_from_mapping
from bot.dispatcher import Dispatcher
from bot.pacing import Limits
from bot.telegram import TelegramChannel
from bot.whatsapp import WhatsAppChannel
from handlers.context import Settings
from handlers.conversation import Conversation
from handlers.i18n import Messages
from models.base import utcnow
from models.chats import get_or_create_chat
from models.enums import Channel, Language
from models.linking import link_by_phone
from models.placing import place_order
from models.storage import Database
from tests.support import factories

SHOP_NUMBER = "+6281100000000"
PUBLIC_URL = "https://kabar.example"


def address_of(channel: Channel, n: int) -> str:
    """The n-th benchmark chat's address on a channel."""
    return str(700_000 + n) if channel is Channel.TELEGRAM else f"+62812{n:08d}"


async def seed_pushes(db: Database, channel: Channel, chats: int, per_chat: int) -> int:
    """Give `chats` linked customers `per_chat` orders each: one due push per order.

    Half the orders are made to order (the push carries stages and an estimate), half ready
    stock; each order is its own, so no two pushes fold into one.
    """
    now = utcnow()
    async with db.transaction() as s:
        kaos = await factories.product(
            s, "KAOS-HTM-XL", stock=chats * per_chat, name="Kaos Polos", variant="Hitam XL"
        )
        batik = await factories.product(
            s, "BATIK-PRM-M", stages="potong:1d;jahit:2d;qc:4h", name="Kemeja Batik"
        )
        for n in range(chats):
            phone = f"+62813{n:08d}"
            person = await factories.customer(s, phone, name=f"Pembeli {n}")
            chat = await get_or_create_chat(s, channel, address_of(channel, n))
            chat.language = Language.ID if n % 4 else Language.EN
            chat.last_inbound_at = now  # inside WhatsApp's 24-hour window: plain text
            await link_by_phone(s, chat, phone)
            for k in range(per_chat):
                await place_order(
                    s,
                    code=f"INV-{n}-{k}",
                    customer=person,
                    lines=[(batik if k % 2 else kaos, 1)],
                    now=now,
                )
    return chats * per_chat


@dataclass
class PushRun:
    """What one run of the dispatcher did."""

    sent: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def telegram_channel(db: Database, fake: Mapping[str, Any]) -> TelegramChannel:
    """kabar's Telegram adapter, pointed at a fake Bot API."""
    messages, settings = Messages.load(), Settings()
    config = config_from_mapping(
        {
            "telegram": {
                "enabled": True,
                "token": fake["token"],
                "api_base_url": fake["base_url"],
            }
        }
    ).telegram
    return TelegramChannel(config, Conversation(db, settings, messages), messages, db)


def whatsapp_channel(db: Database, fake: Mapping[str, Any]) -> WhatsAppChannel:
    """kabar's WhatsApp adapter, pointed at a fake Messages API."""
    messages, settings = Messages.load(), Settings()
    config = config_from_mapping(
        {
            "whatsapp": {
                "enabled": True,
                "account_sid": fake["account_sid"],
                "auth_token": fake["auth_token"],
                "from_number": SHOP_NUMBER,
                "public_url": PUBLIC_URL,
                "api_base_url": fake["base_url"],
            }
        }
    ).whatsapp
    return WhatsAppChannel(config, Conversation(db, settings, messages), messages, db)


async def push_all(
    db: Database, kind: Channel, fake: Mapping[str, Any], limits: Limits | None
) -> PushRun:
    """Send every due push through kabar's dispatcher; time it from first claim to last record."""
    channel: ChatChannel
    if kind is Channel.TELEGRAM:
        telegram = telegram_channel(db, fake)
        await telegram.app.initialize()
        channel = telegram
    else:
        whatsapp = whatsapp_channel(db, fake)
        channel = whatsapp
    dispatcher = Dispatcher(
        db,
        {kind: channel},
        Messages.load(),
        Settings(),
        limits={kind: limits} if limits else None,
        # Long enough that no row comes back for a second try within one run.
        lease=timedelta(minutes=10),
    )
    try:
        started = time.perf_counter()
        sent = await dispatcher.tick()
        seconds = time.perf_counter() - started
    finally:
        if kind is Channel.TELEGRAM:
            await telegram.app.shutdown()
        else:
            await whatsapp.close()
    return PushRun(sent, seconds)
