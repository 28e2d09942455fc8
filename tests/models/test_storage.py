"""SQLite under concurrent async use: readers never wait for writers, writers take turns."""

from __future__ import annotations

import asyncio
import functools
import threading

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models import Customer
from models.base import utcnow
from models.bulk import insert_rows
from models.import_rows import table_of
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


async def test_a_read_on_sqlite_runs_whole_off_the_event_loop(sqlite_db: Database) -> None:
    async with sqlite_db.transaction() as s:
        await factories.customer(s, "081234567890")
    loop_thread = threading.current_thread()

    async def count(session: AsyncSession) -> tuple[int | None, threading.Thread]:
        found = await session.scalar(select(func.count()).select_from(Customer))
        return found, threading.current_thread()

    found, ran_in = await sqlite_db.read(count)
    assert found == 1
    assert ran_in is not loop_thread  # one hop for the whole read, not one per statement


async def test_work_that_awaits_the_loop_runs_on_the_loop(db: Database) -> None:
    async def count_after_a_pause(session: AsyncSession) -> tuple[int | None, threading.Thread]:
        await asyncio.sleep(0)  # only an event loop can give this
        found = await session.scalar(select(func.count()).select_from(Customer))
        return found, threading.current_thread()

    found, ran_in = await db.read(count_after_a_pause)
    assert (found, ran_in) == (0, threading.current_thread())


async def test_a_write_commits_when_it_returns_and_leaves_nothing_when_it_raises(
    db: Database,
) -> None:
    async def add(session: AsyncSession, phone: str, fail: bool) -> None:
        await factories.customer(session, phone)
        if fail:
            raise LookupError("changed my mind")

    await db.write(functools.partial(add, phone="081234567890", fail=False))
    with pytest.raises(LookupError):
        await db.write(functools.partial(add, phone="081234567891", fail=True))
    async with db.sessions() as reader:
        phones = (await reader.scalars(select(Customer.phone))).all()
    assert phones == ["+6281234567890"]


async def test_a_write_that_finds_the_lock_taken_waits_without_holding_up_reads(
    sqlite_db: Database,
) -> None:
    async def add(session: AsyncSession) -> None:
        await factories.customer(session, "081234567890")

    async def count(session: AsyncSession) -> int | None:
        return await session.scalar(select(func.count()).select_from(Customer))

    # Another writer (an import, say) holds SQLite's write lock: the write waits for it on the
    # loop's side, and SQLite's one thread goes on answering questions meanwhile.
    async with sqlite_db.transaction() as other:
        await other.execute(text("UPDATE chats SET active = active"))
        writing = asyncio.create_task(sqlite_db.write(add))
        for _ in range(3):
            assert await sqlite_db.read(count) == 0
        assert not writing.done()
    await writing
    assert await sqlite_db.read(count) == 1

    # The thread keeps its connection through the failed BEGIN: its next write is its own.
    async def add_another(session: AsyncSession) -> None:
        await factories.customer(session, "081234567891")

    await sqlite_db.write(add_another)
    assert await sqlite_db.read(count) == 2


async def test_a_bulk_insert_runs_in_a_unit_of_work_on_either_database(db: Database) -> None:
    async def add(session: AsyncSession) -> list[tuple[object, ...]]:
        rows = [("+6281234567890", "Sari", utcnow()), ("+6281234567891", "Budi", utcnow())]
        columns = ("phone", "name", "created_at")
        return await insert_rows(session, table_of(Customer), columns, rows, returning=("name",))

    assert sorted(await db.write(add)) == [("Budi",), ("Sari",)]
    async with db.sessions() as reader:
        assert await reader.scalar(select(func.count()).select_from(Customer)) == 2


async def test_a_read_on_sqlite_holds_no_transaction_open(sqlite_db: Database) -> None:
    async def in_transaction(session: AsyncSession) -> bool:
        await session.scalar(select(func.count()).select_from(Customer))
        raw = session.sync_session.connection().connection.driver_connection
        assert raw is not None
        return bool(raw.in_transaction)

    assert await sqlite_db.read(in_transaction) is False  # no BEGIN, so no ROLLBACK either


async def test_a_read_on_postgresql_holds_no_transaction_open(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite reads in a thread of their own (the test above)")

    async def two_moments(session: AsyncSession) -> tuple[object, object]:
        first = await session.scalar(text("SELECT transaction_timestamp()"))
        await session.execute(text("SELECT pg_sleep(0.01)"))
        return first, await session.scalar(text("SELECT transaction_timestamp()"))

    first, second = await db.read(two_moments)
    assert first != second  # each statement its own transaction: no BEGIN, no ROLLBACK sent
    async with db.sessions() as session:  # other read sessions keep one transaction
        first, second = await two_moments(session)
    assert first == second
