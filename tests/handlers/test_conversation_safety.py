"""The conversation's entry: hostile characters cleaned once, failures logged without a flood."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from handlers.context import Settings
from handlers.conversation import Conversation
from handlers.i18n import Messages
from handlers.types import Incoming
from models import Order, PhaseEvent
from models.enums import Channel
from models.storage import Database
from models.text import clean_text, unsafe_character
from tests.support.shop import Clock, Shop, open_shop


@pytest.fixture
async def any_shop(db: Database) -> AsyncIterator[Shop]:
    """The demo shop on SQLite and on PostgreSQL."""
    yield await open_shop(db)


def test_clean_text_drops_controls_keeps_lines_and_replaces_lone_surrogates() -> None:
    assert clean_text("a\x00b\x07c\x1b[0m\x7f") == "abc[0m"
    assert clean_text("baris 1\r\nbaris 2\rbaris 3\tkolom") == "baris 1\nbaris 2\nbaris 3\tkolom"
    assert clean_text("INV\ud800-1\udfff") == "INV\ufffd-1\ufffd"
    assert clean_text("Kaos 🙂 hitam") == "Kaos 🙂 hitam"
    assert unsafe_character("Kaos\x00") == "a NUL byte"
    assert unsafe_character("Ka\tos") == "the control character U+0009"
    assert unsafe_character("\udc80") == "a lone surrogate U+DC80"
    assert unsafe_character("Kaos Polos 🙂") is None


async def _order(shop: Shop, code: str) -> tuple[Order, PhaseEvent]:
    async with shop.db.sessions() as s:
        order = await s.scalar(select(Order).where(Order.code == code))
        assert order is not None
        event = await s.scalar(
            select(PhaseEvent)
            .where(PhaseEvent.order_id == order.id)
            .order_by(PhaseEvent.id.desc())
            .limit(1)
        )
    assert event is not None
    return order, event


async def test_nul_and_lone_surrogates_never_make_staff_commands_fail(any_shop: Shop) -> None:
    shop, sorry = any_shop, any_shop.t("id", "error.sorry")
    assert (await shop.text("dewi", "/bayar INV-1001")).startswith("✅ INV-1001: dibayar")
    moved = await shop.text("dewi", "/tahap INV-1001 dikemas a\x00b\ud800")
    assert moved.startswith("✅ INV-1001: dikemas")
    _, event = await _order(shop, "INV-1001")
    assert event.note == "ab\ufffd"
    shipped = await shop.text("dewi", "/kirim INV-1001 JNE\x00 JN123\x01")
    assert shipped.startswith("✅ INV-1001: dikirim")
    order, _ = await _order(shop, "INV-1001")
    assert (order.courier, order.tracking_number) == ("JNE", "JN123")
    cancelled = await shop.text("dewi", "/batal INV-1002 salah\x00 ukuran\ud83d")
    assert cancelled.startswith("✅ INV-1002: dibatalkan")
    for text in ("/status INV\ud800", "/stokset KAOS\x00-HTM-XL +1", "/tahap INV\udfff-1, INV-2 x"):
        answer = await shop.text("dewi", text)
        assert answer and answer != sorry
        answer.encode("utf-8")  # every platform can send it


async def test_customers_text_is_cleaned_before_it_is_read(any_shop: Shop) -> None:
    shop, sorry = any_shop, any_shop.t("id", "error.sorry")
    stock = await shop.text("sari", "/stok kaos\x00 hitam xl")
    assert "KAOS-HTM-XL" in stock
    for text in ("\ud800", "halo\x00", "/status INV-1001\ud800", "/stok \udbff\udfff"):
        answer = await shop.text("sari", text)
        assert answer and answer != sorry
        answer.encode("utf-8")
    stranger = Incoming(
        channel=Channel.CONSOLE,
        chat="tamu\x00",
        sender="tamu",
        name="Ta\x00mu\ud800",
        text="/start",
    )
    (hello, *_) = await shop.conversation.handle(stranger)
    assert "Tamu\ufffd" in hello.text


async def test_a_failure_repeated_many_times_logs_one_traceback_a_minute(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A database that cannot be opened: every message fails at the same place.
    threads = set(threading.enumerate())
    broken = Database(f"sqlite+aiosqlite:///{tmp_path / 'no-such-folder' / 'kabar.db'}")
    clock = Clock()
    messages = Messages.load()
    conversation = Conversation(broken, Settings(shop_name="Toko"), messages, clock=clock)
    sorry = messages.text(Settings(shop_name="Toko").default_language, "error.sorry")
    incoming = Incoming(channel=Channel.TELEGRAM, chat="5001", sender="5001", text="/pesanan")

    async def fail(times: int) -> list[logging.LogRecord]:
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="handlers.conversation"):
            for _ in range(times):
                assert [r.text for r in await conversation.handle(incoming)] == [sorry]
        return [r for r in caplog.records if r.name == "handlers.conversation"]

    try:
        records = await fail(50)
        assert len(records) == 50  # every failure is a line in the log
        assert [r.exc_info is not None for r in records] == [True] + [False] * 49
        assert all("\n" not in r.getMessage() for r in records)
        assert "OperationalError" in records[1].getMessage()
        clock.advance(30)
        assert not any(r.exc_info for r in await fail(5))
        clock.advance(31)  # a minute after the last traceback: the next failure shows one
        assert [r.exc_info is not None for r in await fail(3)] == [True, False, False]
    finally:
        await broken.dispose()
        # aiosqlite's thread of a failed open reports to this loop after the open failed: let
        # those threads finish while the loop is here to hear them (else a later test hears it).
        for thread in set(threading.enumerate()) - threads:
            await asyncio.to_thread(_join, thread)


def _join(thread: threading.Thread) -> None:
    """Wait for a thread to end (unless it is the one waiting: a worker of asyncio's)."""
    if thread is not threading.current_thread():
        thread.join(10)
