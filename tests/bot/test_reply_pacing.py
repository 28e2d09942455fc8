"""Replies count against the platform's limits like pushes do: paced, retried, never dropped."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import update

from bot.dispatcher import Dispatcher
from bot.pacing import Limits, Pacer
from bot.telegram import TelegramChannel
from models import Staff
from models.enums import Channel
from models.storage import Database
from tests.bot.test_telegram import DEWI, telegram_config
from tests.fakes.telegram import FakeTelegram
from tests.support.shop import UNDO, Shop, open_shop


@pytest.fixture
async def paced(sqlite_db: Database) -> AsyncIterator[tuple[Shop, FakeTelegram]]:
    """The demo shop on Telegram, replies and pushes drawing on one budget (30/s, 1/s a chat),
    against a fake that answers 429 to anything faster."""
    shop = await open_shop(sqlite_db)
    async with shop.db.transaction() as s:
        await s.execute(update(Staff).values(telegram_id=DEWI))
    async with FakeTelegram() as fake:
        fake.limit(per_second=30, per_chat_per_second=1)
        pacer = Pacer(Limits(30, 1))
        channel = TelegramChannel(
            telegram_config(fake), shop.conversation, shop.messages, shop.db, pacer=pacer
        )
        shop.dispatcher = Dispatcher(
            shop.db,
            {**shop.dispatcher.channels, Channel.TELEGRAM: channel},
            shop.messages,
            shop.settings,
            clock=shop.clock,
            pacers={Channel.TELEGRAM: pacer},
        )
        await channel.start()
        try:
            yield shop, fake
        finally:
            await channel.stop()


@pytest.mark.slow
async def test_a_burst_of_new_chats_gets_every_reply_without_flood_control(
    paced: tuple[Shop, FakeTelegram],
) -> None:
    _, fake = paced
    chats = range(7000, 7090)  # 90 people open the bot at once: three seconds' worth
    for chat in chats:
        fake.push_update(fake.message_update(chat_id=chat, user_id=chat, text="/start"))
    await fake.wait_for_sent(len(chats), timeout=30)
    assert {m.chat_id for m in fake.sent} == set(chats)
    assert fake.too_many == 0


async def test_a_reply_told_to_wait_waits_and_goes(paced: tuple[Shop, FakeTelegram]) -> None:
    _, fake = paced
    fake.fail_next("sendMessage", 429, retry_after=1)
    fake.push_update(fake.message_update(chat_id=7001, user_id=7001, text="/start"))
    [reply] = await fake.wait_for_sent(1, timeout=10)
    assert reply.chat_id == 7001 and reply.text.startswith("Halo")


@pytest.mark.slow
async def test_staff_replies_during_a_bulk_push_all_arrive_and_nothing_is_refused(
    paced: tuple[Shop, FakeTelegram],
) -> None:
    shop, fake = paced
    await shop.say("dewi", "/bayar INV-1001,INV-1002,INV-1003,DS-2001")  # to the console chats
    shop.clock.advance(UNDO + 1)
    # Dewi works on Telegram while the dispatcher sends: four commands in quick succession.
    for command in ("/antrian", "/antrian dibayar", "/inbox", "/bantuan"):
        fake.push_update(fake.message_update(chat_id=DEWI, user_id=DEWI, text=command))
    await shop.dispatcher.tick()
    sent = await fake.wait_for_sent(4, timeout=15)
    assert len([m for m in sent if m.chat_id == DEWI]) >= 4
    assert fake.too_many == 0
