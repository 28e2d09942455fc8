"""The scale benchmark at its smoke size: real shops are built and every answer is the right one."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bench.common import Table, backends
from bench.scale import SIZES, run
from bench.scale_probe import statement_times
from models.people import Chat
from tests.support.database import open_database

pytestmark = pytest.mark.slow  # each runs a benchmark, small


def column(table: Table, name: str) -> list[object]:
    """The cells of one column, row by row."""
    at = list(table.columns).index(name)
    return [row[at] for row in table.rows]


async def test_smoke_run_builds_each_shop_and_every_answer_is_the_one_asked_for() -> None:
    spec = SIZES["smoke"][0]
    latency, work, targets = await run("smoke")

    # One shop of the smoke size per backend, each in its own process.
    assert column(latency, "backend") == backends()
    assert column(latency, "orders") == [spec.orders] * len(backends())
    # Every sampled /status showed that order's timeline to its own customer, every /pesanan
    # listed orders, every /stok question found products (or named the sizes and colours there
    # are, when the one asked for is not in the catalogue).
    expected = " / ".join([f"{spec.samples}/{spec.samples}"] * 3)
    assert column(latency, "answered (status / pesanan / stok)") == [expected] * len(backends())
    # The one bulk /tahap moved every order it named to packed.
    assert column(work, "bulk orders") == [spec.bulk] * len(backends())
    assert column(work, "bulk moved") == [spec.bulk] * len(backends())
    # The import counted every row of its CSV; the process reported its memory.
    assert column(work, "import rows") == [spec.import_rows] * len(backends())
    serving, peak = column(work, "peak RSS MB before import"), column(work, "peak RSS MB")
    for mb, top in zip(serving, peak, strict=True):
        assert isinstance(mb, float) and isinstance(top, float) and 0 < mb <= top
    # Every target is judged, each as met or missed.
    assert set(column(targets, "verdict")) <= {"OK", "miss"}
    assert len(targets.rows) == 7 * len(backends())


async def test_statement_times_are_kept_by_first_words_only_when_asked_for(
    tmp_path: Path,
) -> None:
    db, _ = await open_database("sqlite", tmp_path)

    async def ask() -> None:
        async with db.sessions() as session:  # on the engine, not SQLite's thread
            await session.execute(select(Chat.id).where(Chat.id == 1))

    try:
        with statement_times(db, True) as timed:
            await ask()
            await ask()
        with statement_times(db, False) as untimed:
            await ask()
        await ask()  # after the block: no longer timed
    finally:
        await db.dispose()

    # SQLite's read sessions say BEGIN themselves (models/storage.py): that is timed too.
    assert set(timed) == {"BEGIN", "SELECT chats.id FROM"}
    assert len(timed["SELECT chats.id FROM"]) == 2
    assert all(ms > 0 for ms in timed["SELECT chats.id FROM"])
    assert untimed == {}
