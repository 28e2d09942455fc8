"""SQLite under concurrent async use: readers never wait for writers, writers take turns."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from models import Customer
from models.storage import Database
from tests.support import factories


async def test_a_reader_is_not_blocked_by_an_open_write_transaction(sqlite_db: Database) -> None:
    async with sqlite_db.transaction() as writer:
        await factories.customer(writer, "081234567890")
        # While the writer holds the write lock, a reader sees the last committed state at once.
        async with sqlite_db.sessions() as reader:
            seen = await asyncio.wait_for(
                reader.scalar(select(func.count()).select_from(Customer)), timeout=2
            )
        assert seen == 0
    async with sqlite_db.sessions() as reader:
        assert await reader.scalar(select(func.count()).select_from(Customer)) == 1


async def test_concurrent_read_then_write_transactions_take_turns(sqlite_db: Database) -> None:
    async def add(i: int) -> None:
        async with sqlite_db.transaction() as s:
            # Read first, then write: deferred transactions would fail with "database is locked".
            await s.scalar(select(func.count()).select_from(Customer))
            await factories.customer(s, f"0812{i:08d}")

    await asyncio.gather(*(add(i) for i in range(30)))
    async with sqlite_db.sessions() as reader:
        assert await reader.scalar(select(func.count()).select_from(Customer)) == 30


async def test_a_failed_statement_never_shows_its_parameters(db: Database) -> None:
    async with db.transaction() as s:
        await factories.customer(s, "081234567890", "Sari")
    with pytest.raises(IntegrityError) as caught:
        async with db.transaction() as s:
            await s.execute(insert(Customer).values(phone="+6281234567890", name="Sari Wulandari"))
    assert "Wulandari" not in str(caught.value)  # a name, or a note, never reaches a log
