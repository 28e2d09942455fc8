"""A dispatching `kabar run` killed mid-way loses nothing when started again."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from models.schema import upgrade
from models.storage import Database
from tests.fakes.telegram import FakeTelegram
from tests.support.outbox import queue_alerts

PUSHES = 1000
LEASE = 3


async def _kabar(config: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KABAR_")}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--config", str(config), cwd=config.parent, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


@pytest.mark.slow
async def test_sigkill_mid_dispatch_then_restart_delivers_everything(tmp_path: Path) -> None:
    database = tmp_path / "shop.db"
    db = Database(f"sqlite+aiosqlite:///{database}")
    await upgrade(db)
    await queue_alerts(db, list(range(10_000, 10_000 + PUSHES)), [f"n{i}" for i in range(PUSHES)])
    await db.dispose()
    async with FakeTelegram() as fake:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[database]\nurl = "sqlite+aiosqlite:///{database}"\n'
            f'[telegram]\nenabled = true\ntoken = "{fake.token}"\n'
            f'api_base_url = "{fake.base_url}"\n'
            f"[notifications]\ntelegram_per_second = 100\nlease_seconds = {LEASE}\n"
            "[scheduler]\ndispatch_interval_seconds = 0.5\n",
            encoding="utf-8",
        )
        first = await _kabar(config)
        try:
            await fake.wait_for_sent(PUSHES // 3, timeout=60)
        finally:
            first.send_signal(signal.SIGKILL)  # no goodbye: mid-send, outcomes unwritten
            await first.wait()
        at_kill = len(fake.sent)
        second = await _kabar(config)
        try:
            async with asyncio.timeout(90):
                while len({m.chat_id for m in fake.sent}) < PUSHES:  # noqa: ASYNC110 (another process)
                    await asyncio.sleep(0.2)
            await asyncio.sleep(1)  # anything still coming would be a duplicate
        finally:
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), timeout=10) == 0
    duplicates = len(fake.sent) - PUSHES
    print(f"\nkilled after {at_kill} of {PUSHES} pushes; after restart all delivered, "
          f"{duplicates} duplicate(s)")  # fmt: skip
    assert len({m.chat_id for m in fake.sent}) == PUSHES
    # Only what was in flight when the process died may go twice: at most what one dispatcher
    # holds claimed at once (100/s x a 3 s lease / 3 = 100 rows); in practice about ten.
    assert duplicates <= 100
