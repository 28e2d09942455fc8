"""Scheduled jobs: late orders told once per stage, the morning digest once a day."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.jobs import Jobs
from models.storage import Database
from tests.support.shop import Shop, open_shop


@pytest.fixture
async def shop(db: Database) -> AsyncIterator[Shop]:
    yield await open_shop(db)


async def test_a_late_stage_is_told_to_staff_and_customer_once(shop: Shop) -> None:
    jobs = Jobs(shop.db, shop.settings, clock=shop.clock)
    await shop.say("dewi", "/tahap INV-1002 potong")  # cutting: expected one day
    await shop.deliver()
    assert await jobs.late_orders() == 0
    shop.clock.advance(30 * 3600)
    assert await jobs.late_orders() == 1
    pushed = {who: reply.text for who, reply in await shop.deliver(after=1)}
    assert pushed["dewi"] == "⚠️ INV-1002 terlambat: masih diproduksi · potong melewati perkiraan."
    assert "tahap potong butuh waktu lebih lama" in pushed["sari"]
    # Mon 09:00 + 30 h = Tue 15:00; the rest (jahit 2d, sablon 1d, qc 4h) → Fri 19:00.
    assert "Perkiraan siap yang baru: Jumat, 6 Maret 2026" in pushed["sari"]
    shop.clock.advance(3600)
    assert await jobs.late_orders() == 1  # still late ...
    assert await shop.deliver(after=1) == []  # ... but told once
    await shop.say("dewi", "/tahap INV-1002 jahit")
    shop.clock.advance(3 * 86400)
    await jobs.late_orders()
    pushed = {who: reply.text for who, reply in await shop.deliver(after=1)}
    assert "jahit" in pushed["dewi"]  # a new stage late is a new alert


async def test_the_morning_digest_reaches_staff_once_a_day(shop: Shop) -> None:
    jobs = Jobs(shop.db, shop.settings, clock=shop.clock)
    assert await jobs.morning_digest() == 1
    await jobs.morning_digest()
    (digest,) = [r.text for who, r in await shop.deliver(after=1) if who == "dewi"]
    assert digest.splitlines()[0] == "⚠️ Ringkasan pagi 2026-03-02:"
    assert "dipesan: 3" in digest and "menunggu stok: 1" in digest
    shop.clock.advance(86400)
    await jobs.morning_digest()
    assert [who for who, _ in await shop.deliver(after=1)] == ["dewi"]
