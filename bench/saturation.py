"""Saturation: kabar against a fake Telegram that enforces 30 msg/s overall and 1/s per chat.

1,200 pushes to 600 chats. The dispatcher must reach the platform's ceiling without once being
told to slow down: the achieved rate / 30 and the count of 429 answers.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.common import Table, fresh_database, run_from_command_line
from bench.fakes import fake_platform, fetch_stats
from bench.pushes import push_all, seed_pushes
from bot.pacing import Limits
from models.enums import Channel

PER_SECOND, PER_CHAT = 30, 1
SIZES = {"full": (600, 2), "smoke": (60, 2)}  # chats, pushes per chat
TARGET = 0.97


async def measure(size: str, folder: Path) -> dict[str, Any]:
    """Push everything at the limit; return what the fake saw."""
    chats, per_chat = SIZES[size]
    async with fresh_database("sqlite", folder) as db:
        total = await seed_pushes(db, Channel.TELEGRAM, chats, per_chat)
        async with fake_platform("telegram", per_second=PER_SECOND, per_chat=PER_CHAT) as fake:
            run = await push_all(db, Channel.TELEGRAM, fake.ready, Limits(PER_SECOND, PER_CHAT))
            stats = await fetch_stats(fake)
    times = sorted(at for _, at in stats["times"])
    # The rate the platform saw, from its own clock: sends after the first over the time taken.
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    return {
        "pushes": total,
        "chats": chats,
        "sent": stats["sent"],
        "dispatcher_sent": run.sent,
        "too_many": stats["too_many"],
        "rate": rate,
        "seconds": run.seconds,
    }


async def run(size: str = "full") -> list[Table]:
    """Measure once; return the table."""
    with tempfile.TemporaryDirectory() as folder:
        result = await measure(size, Path(folder))
    share = result["rate"] / PER_SECOND
    table = Table(
        f"Saturation: fake Telegram enforcing {PER_SECOND}/s overall and {PER_CHAT}/s per chat",
        ["pushes", "chats", "delivered", "seconds", "msg/s", "rate / 30", "429s", "target"],
    )
    met = share >= TARGET and result["too_many"] == 0
    table.add(
        result["pushes"],
        result["chats"],
        result["sent"],
        result["seconds"],
        result["rate"],
        f"{share:.3f}",
        result["too_many"],
        f"≥ {TARGET}, no 429: {'met' if met else 'MISSED'}",
    )
    return [table]


def main() -> None:
    run_from_command_line("Saturation", __doc__, run)


if __name__ == "__main__":
    main()
