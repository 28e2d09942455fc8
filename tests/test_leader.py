"""One process leads the scheduler; another takes over when it is gone."""

from __future__ import annotations

import asyncio

from bot.leader import Leadership
from models.storage import Database


async def test_only_one_process_leads_and_another_takes_over(db: Database) -> None:
    if db.dialect != "postgresql":
        assert Leadership(db).held  # one SQLite process: it leads
        return
    other = db.twin()  # another process's connections
    first, second = Leadership(db), Leadership(other, retry_seconds=0.1)
    try:
        assert await first.try_acquire()
        assert not await second.try_acquire() and not second.held
        stop = asyncio.Event()
        waiting = asyncio.create_task(second.wait(stop))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await first.release()  # the leader steps down (a dead process loses its connection)
        assert await asyncio.wait_for(waiting, timeout=5)
        assert second.held
    finally:
        await first.release()
        await second.release()
        await other.dispose()
