"""Backlog: what a dispatcher's claim costs when many notifications are due at once.

A bulk stage change or a long outage leaves tens of thousands of rows due. A claim takes the
oldest few hundred of them; it should cost the same whether 1,000 or 100,000 wait behind.
"""

from __future__ import annotations

import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.common import Table, backends, fresh_database, median, run_from_command_line
from models.base import utcnow
from models.outbox import claim
from models.storage import Database
from tests.support.outbox import queue_alerts

LIMIT = 512  # what an unpaced dispatcher claims at once (its backlog)
CLAIMS = 5
SIZES = {"full": [1_000, 10_000, 100_000], "smoke": [100, 1_000]}


async def _claims(db: Database, limit: int) -> tuple[list[float], int]:
    """Claim `CLAIMS` times in a row; return the milliseconds of each and the rows taken."""
    times, taken = [], 0
    for _ in range(CLAIMS):
        started = time.perf_counter()
        async with db.transaction() as session:
            rows = await claim(session, now=utcnow(), limit=limit, lease=timedelta(minutes=10))
        times.append(1e3 * (time.perf_counter() - started))
        taken += len(rows)
    return times, taken


async def measure(backend: str, due: int, folder: Path) -> dict[str, Any]:
    """Claim from a backlog of `due` rows (staff alerts to 1,000 chats) on one backend."""
    async with fresh_database(backend, folder) as db:
        await queue_alerts(db, [n % 1_000 for n in range(due)], [f"INV-{n}" for n in range(due)])
        if db.dialect == "postgresql":
            # As autovacuum would after such a burst: the planner's figures, not stale ones.
            async with db.transaction() as session:
                await session.execute(text("ANALYZE notifications"))
        times, taken = await _claims(db, min(LIMIT, due))
    return {"backend": backend, "due": due, "times": times, "taken": taken}


async def run(size: str = "full") -> list[Table]:
    """Measure each backlog size on every backend; return the table."""
    table = Table(
        f"A claim of {LIMIT} rows from a backlog ({CLAIMS} claims in a row)",
        ["database", "rows due", "first claim ms", "median ms", "rows taken"],
    )
    with tempfile.TemporaryDirectory() as folder:
        for backend in backends():
            for due in SIZES[size]:
                result = await measure(backend, due, Path(folder))
                times = result["times"]
                table.add(backend, due, times[0], median(times), result["taken"])
    return [table]


def main() -> None:
    run_from_command_line("Backlog", __doc__, run)


if __name__ == "__main__":
    main()
