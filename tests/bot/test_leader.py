"""One process leads the scheduler; another takes over when it is gone."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest

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


async def test_a_killed_leader_process_is_replaced(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("leadership is elected only on PostgreSQL")
    holder = (
        "import asyncio, sys\n"
        "from bot.leader import Leadership\n"
        "from models.storage import Database\n"
        "async def main():\n"
        "    lead = Leadership(Database(sys.argv[1]))\n"
        "    assert await lead.try_acquire()\n"
        "    print('leading', flush=True)\n"
        "    await asyncio.sleep(600)\n"
        "asyncio.run(main())\n"
    )
    url = db.url.render_as_string(hide_password=False)
    leader = await asyncio.create_subprocess_exec(
        sys.executable, "-c", holder, url, stdout=asyncio.subprocess.PIPE
    )
    standby = Leadership(db.twin(), retry_seconds=0.1)
    try:
        assert leader.stdout is not None
        assert (await asyncio.wait_for(leader.stdout.readline(), timeout=20)).strip() == b"leading"
        assert not await standby.try_acquire()
        leader.kill()  # SIGKILL: no goodbye, its database session just ends
        killed = time.monotonic()
        assert await asyncio.wait_for(standby.wait(asyncio.Event()), timeout=10)
        print(f"\ntakeover {time.monotonic() - killed:.2f}s after the leader was killed")
    finally:
        if leader.returncode is None:
            leader.kill()
        await leader.wait()
        await standby.release()
        await standby.db.dispose()
