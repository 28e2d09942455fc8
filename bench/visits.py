"""Visits: what storing the questions answered meanwhile costs, batch by batch.

A question answered from a read still owes a write: the chat's visit, its messages in the
chat log, the platform's message id. One write serves every question answered while the
last one ran (handlers/conversation.py `Visits`): a lone question pays a whole write, a busy
minute shares them. Each batch here is N chats that each asked once (a message id, the
question and its answer in the log), stored with `models.visits.store_visits`.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from bench.common import Table, backends, fresh_database, run_from_command_line
from models.base import utcnow
from models.enums import Channel
from models.messages import ChatMessage, Logged
from models.people import Chat
from models.storage import Database
from models.visits import Answered, Delivery, Visit, store_visits

SIZES = {"full": ([1, 10, 40], 2_000), "smoke": ([1, 10], 20)}  # batch sizes, batches each


async def _batches(db: Database, chats: list[int], batches: int, tag: str) -> None:
    """Store `batches` batches, one question from each chat in each."""
    for n in range(batches):
        now = utcnow()
        deliveries: list[Delivery] = []
        visits: dict[int, Visit] = {}
        logged: list[tuple[Delivery | None, Logged]] = []
        for chat_id in chats:
            delivery = (Channel.TELEGRAM, f"{tag}-{n}-{chat_id}")
            deliveries.append(delivery)
            visits[chat_id] = (now, None)
            logged.append((delivery, Logged(chat_id, "in", "person", "/status INV-1", now)))
            logged.append((delivery, Logged(chat_id, "out", "kabar", "INV-1: dikemas", now)))
        await store_visits(db, Answered(deliveries, visits, logged, now))


async def measure(backend: str, size: int, batches: int, folder: Path) -> dict[str, Any]:
    """CPU and wall time per batch of `size` chats on one backend; and the rows logged."""
    async with fresh_database(backend, folder) as db:
        async with db.transaction() as session:
            result = await session.execute(
                insert(Chat).returning(Chat.id),
                [{"channel": Channel.TELEGRAM, "address": str(9000 + n)} for n in range(size)],
            )
            chats = list(result.scalars())
        await _batches(db, chats, max(1, batches // 10), "warm")
        cpu, wall = time.process_time(), time.perf_counter()
        await _batches(db, chats, batches, "timed")
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        async with db.sessions() as session:
            logged = await session.scalar(select(func.count()).select_from(ChatMessage))
    return {
        "backend": backend,
        "size": size,
        "batches": batches,
        "cpu_ms": 1e3 * cpu / batches,
        "wall_ms": 1e3 * wall / batches,
        "logged": logged,
    }


async def run(size: str = "full") -> list[Table]:
    """Measure each batch size on every backend; return the table."""
    sizes, batches = SIZES[size]
    table = Table(
        f"Storing the visits of a batch of questions ({batches:,} batches each)",
        ["database", "questions a batch", "CPU ms a batch", "wall ms a batch", "rows logged"],
    )
    with tempfile.TemporaryDirectory() as folder:
        for backend in backends():
            for chats in sizes:
                r = await measure(backend, chats, batches, Path(folder))
                table.add(backend, chats, r["cpu_ms"], r["wall_ms"], r["logged"])
    return [table]


def main() -> None:
    run_from_command_line("Visits", __doc__, run)


if __name__ == "__main__":
    main()
