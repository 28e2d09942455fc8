"""The dispatcher at the platform's limit: paced overall and per chat, in order, never a 429."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, func, select

from bot.channels import ChatChannel, ConsoleChannel
from bot.config import config_from_mapping
from bot.dispatcher import Dispatcher
from bot.pacing import Limits
from bot.telegram import TelegramChannel
from handlers.context import Settings
from handlers.conversation import Conversation
from handlers.i18n import Messages
from models import Chat, Notification, Staff
from models.enums import Channel, NotificationKind, NotificationStatus
from models.outbox import OrderUpdate
from models.storage import Database
from tests.fakes.telegram import FakeTelegram
from tests.support.outbox import code_of, queue_alerts

ONE_CHAT = 42
ORDER_UPDATE: OrderUpdate = {
    "order_code": "INV-7",
    "audience": "customer",
    "brand": None,
    "customer_name": "Sari",
    "fulfillment": "ready_stock",
    "from_phase": "placed",
    "phase": "paid",
    "stage": None,
    "stage_number": None,
    "stage_count": 0,
    "eta": None,
    "courier": None,
    "tracking_number": None,
    "note": None,
    "photo": None,
    "at": "2026-03-02T02:00:00+00:00",
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


async def _dispatcher(
    db: Database, fake: FakeTelegram, *, read_timeout: float | None = None
) -> tuple[Dispatcher, TelegramChannel]:
    messages, settings = Messages.load(), Settings()
    config = config_from_mapping(
        {"telegram": {"enabled": True, "token": fake.token, "api_base_url": fake.base_url}}
    ).telegram
    channel = TelegramChannel(
        config, Conversation(db, settings, messages), messages, db, read_timeout=read_timeout
    )
    await channel.app.initialize()
    dispatcher = Dispatcher(
        db,
        {Channel.TELEGRAM: channel},
        messages,
        settings,
        limits={Channel.TELEGRAM: Limits(30, 1)},
    )
    return dispatcher, channel


@pytest.mark.slow
async def test_three_hundred_chats_at_thirty_a_second_with_no_429(
    sqlite_db: Database, fake: FakeTelegram
) -> None:
    # Ten seconds of sending at the ceiling; bench/saturation.py holds it for longer.
    fake.limit(per_second=30, per_chat_per_second=1)
    chats = [ONE_CHAT] * 10 + list(range(1000, 1290))
    texts = [f"#{n:02d}" for n in range(10)] + [f"to {c}" for c in chats[10:]]
    await queue_alerts(sqlite_db, chats, texts)
    dispatcher, channel = await _dispatcher(sqlite_db, fake)
    try:
        started = time.monotonic()
        sent = await dispatcher.tick()
        elapsed = time.monotonic() - started
    finally:
        await channel.app.shutdown()
    assert sent == 300 and len(fake.sent) == 300
    singles = [m.at for m in fake.sent if m.chat_id != ONE_CHAT]
    rate = (len(singles) - 1) / (singles[-1] - singles[0])
    print(
        f"\n300 pushes in {elapsed:.1f}s; 290 chats at {rate:.1f} msg/s = {rate / 30:.2f} of 30/s"
    )
    assert fake.too_many == 0
    one = [m for m in fake.sent if m.chat_id == ONE_CHAT]
    assert [code_of(m.text) for m in one] == [f"#{n:02d}" for n in range(10)]
    gaps = [b.at - a.at for a, b in itertools.pairwise(one)]
    assert min(gaps) >= 0.99  # one chat: at most one message a second


async def test_a_push_that_cannot_be_delivered_is_dead_lettered_and_staff_told_once(
    sqlite_db: Database, fake: FakeTelegram
) -> None:
    await queue_alerts(sqlite_db, [7], ["halo"])
    async with sqlite_db.transaction() as s:
        dewi = Staff(name="Dewi")
        s.add(dewi)
        await s.flush()
        s.add(Chat(channel=Channel.CONSOLE, address="dewi", staff_id=dewi.id))
        row = await s.scalar(select(Notification))
        assert row is not None
        row.kind = NotificationKind.ORDER_UPDATE
        row.payload = dict(ORDER_UPDATE)
    dispatcher, channel = await _dispatcher(sqlite_db, fake)
    try:
        fake.fail_next("sendMessage", 400, description="Bad Request: chat not found")
        await dispatcher.tick()
        await dispatcher.tick()
    finally:
        await channel.app.shutdown()
    async with sqlite_db.sessions() as s:
        dead = await s.scalar(
            select(Notification).where(Notification.status == NotificationStatus.DEAD)
        )
        alerts = await s.scalar(
            select(func.count()).where(Notification.kind == NotificationKind.STAFF_ALERT)
        )
    assert dead is not None and dead.last_error == "telegram: Chat not found"
    assert alerts == 1


@pytest.mark.slow
async def test_two_dispatchers_on_one_database_never_send_a_row_twice(
    db: Database, fake: FakeTelegram
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("several dispatchers share a database only on PostgreSQL")
    chats = list(range(5000, 7000))
    await queue_alerts(db, chats, [f"n{c}" for c in chats])
    other_db = db.twin()  # another process's connections
    first, first_channel = await _dispatcher(db, fake)
    second, second_channel = await _dispatcher(other_db, fake)
    first.pacers = second.pacers = {}  # at full speed, to make races likely
    first.batch = second.batch = 50
    try:
        counts = await asyncio.gather(first.tick(), second.tick())
    finally:
        await first_channel.app.shutdown()
        await second_channel.app.shutdown()
        await other_db.dispose()
    assert sum(counts) == 2000 and all(counts)  # both took part
    assert len(fake.sent) == 2000
    assert len({m.chat_id for m in fake.sent}) == 2000


@pytest.mark.slow
async def test_every_push_arrives_through_server_errors_and_hangs(
    sqlite_db: Database, fake: FakeTelegram
) -> None:
    fake.flaky("sendMessage", 0.2)
    fake.hang("sendMessage", 3, seconds=3)
    chats = list(range(3000, 3100))
    await queue_alerts(sqlite_db, chats, [f"n{c}" for c in chats])
    dispatcher, channel = await _dispatcher(sqlite_db, fake, read_timeout=1)
    dispatcher.backoff_seconds = 0.05  # retries in a blink: the test is about not losing any
    try:
        async with asyncio.timeout(60):
            while len({m.chat_id for m in fake.sent}) < len(chats):
                await dispatcher.tick()
                await asyncio.sleep(0.5)
    finally:
        await channel.app.shutdown()
    failed = sum(1 for name, _ in fake.calls if name == "sendMessage") - len(fake.sent)
    assert failed >= 20  # faults did happen ...
    assert sorted(m.chat_id for m in fake.sent) == chats  # ... and each chat got its one push


async def test_when_a_tick_returns_every_outcome_of_it_is_written(sqlite_db: Database) -> None:
    await queue_alerts(sqlite_db, [1], ["A-1"])
    claims = 0

    def slow_writes(*args: Any) -> None:
        # Runs in the database's own thread. The tick's last claim holds SQLite's write lock
        # while the periodic flush queues behind it; then that flush's write is slow too. So
        # the tick is done while its outcome is still being written.
        nonlocal claims
        statement: str = args[2]
        if not statement.startswith("UPDATE notifications"):
            return
        if "attempts" in statement and "last_error" not in statement:
            claims += 1
            if claims >= 2:
                time.sleep(0.3)
        elif "last_error" in statement:
            time.sleep(0.3)

    engine = sqlite_db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", slow_writes)
    try:
        console = ConsoleChannel(lambda address, reply: None)
        channels: dict[Channel, ChatChannel] = {Channel.TELEGRAM: console}
        assert await Dispatcher(sqlite_db, channels, Messages.load(), Settings()).tick() == 1
        async with sqlite_db.sessions() as s:
            status = await s.scalar(select(Notification.status))
    finally:
        event.remove(engine, "before_cursor_execute", slow_writes)
    assert status is NotificationStatus.SENT


async def test_unpaced_a_claim_takes_rows_of_enough_chats_for_every_sender(
    sqlite_db: Database,
) -> None:
    # 100 chats with 5 rows each, their rows one after another: a claim of the usual batch
    # (200 rows) reached 40 chats, fewer than the 64 senders, and the next claim came only
    # once they had all been sent (a claim waits its turns of the busy event loop).
    chats = [chat for chat in range(1, 101) for _ in range(5)]
    await queue_alerts(sqlite_db, chats, [f"INV-{n}" for n in range(len(chats))])
    claims = 0

    def count_claims(*args: Any) -> None:
        nonlocal claims
        statement: str = args[2]
        if statement.startswith("UPDATE notifications") and "attempts" in statement:
            claims += "last_error" not in statement

    engine = sqlite_db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count_claims)
    try:
        sent: list[str] = []
        console = ConsoleChannel(lambda address, reply: sent.append(address))
        channels: dict[Channel, ChatChannel] = {Channel.TELEGRAM: console}
        dispatcher = Dispatcher(sqlite_db, channels, Messages.load(), Settings(), concurrency=64)
        assert await dispatcher.tick() == len(chats)
    finally:
        event.remove(engine, "before_cursor_execute", count_claims)
    assert len(sent) == len(chats)
    assert claims == 2  # all 500 rows at once (within its backlog of 512), then none left


async def test_a_row_no_renderer_can_word_is_dead_not_retried_forever(
    sqlite_db: Database,
) -> None:
    await queue_alerts(sqlite_db, [1], ["A-1"])
    async with sqlite_db.transaction() as s:
        row = await s.scalar(select(Notification))
        assert row is not None
        row.kind = NotificationKind.ORDER_UPDATE  # an order update without its fields
    console = ConsoleChannel(lambda address, reply: None)
    channels: dict[Channel, ChatChannel] = {Channel.TELEGRAM: console}
    assert await Dispatcher(sqlite_db, channels, Messages.load(), Settings()).tick() == 0
    async with sqlite_db.sessions() as s:
        dead = await s.scalar(select(Notification))
    assert dead is not None and dead.status is NotificationStatus.DEAD
    assert dead.last_error is not None and dead.last_error.startswith("cannot be worded")
    assert console.sent == []
