"""Conversation: the CPU one question costs kabar itself, without a platform around it.

Run `python -m bench.conversation [--smoke]`. The shop and the questions are the inbound
benchmark's (bench/inbound.py): linked customers ask about their orders and about stock, in
Indonesian and English, commands and free text, `concurrency` at a time. Here they go straight
to `Conversation.handle` in this process, so the figure is the conversation's own: finding the
sender, reading the answer, wording it, storing the visit. The inbound benchmark's "bot CPU per
update" is this plus python-telegram-bot's receive and send, which the echo bot pays too.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import Table, backends, run_from_command_line
from bench.inbound import Person, fresh_url, plan, seed, write_config
from bot.app import build
from bot.config import load_config
from handlers.conversation import Conversation
from handlers.types import Incoming
from models.enums import Channel


@dataclass(frozen=True)
class Size:
    """How many questions, after how many to warm up, from how many customers at once."""

    questions: int
    warmup: int
    customers: int
    concurrency: int


SIZES = {
    "full": Size(questions=4_000, warmup=300, customers=600, concurrency=8),
    "smoke": Size(questions=60, warmup=10, customers=24, concurrency=4),
}


async def ask(
    conversation: Conversation, people: list[Person], steps: list[list[Any]], first_id: int
) -> int:
    """Ask each question (steps from `plan`); return how many got the answer they should."""
    right = 0
    for number, (index, question, expect) in enumerate(steps, start=first_id):
        person = people[index]
        sender = str(person.user_id)
        incoming = Incoming(
            Channel.TELEGRAM, sender, sender, person.name, text=question, message_id=str(number)
        )
        replies = await conversation.handle(incoming)
        right += expect in "\n".join(reply.text for reply in replies)
    return right


async def measure(size: Size, backend: str) -> dict[str, Any]:
    """Seed the inbound benchmark's shop and time the questions on one backend."""
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="kabar-conversation-"))
    try:
        async with fresh_url(backend, folder) as (db, url):
            await db.dispose()
            config = await asyncio.to_thread(
                write_config,
                folder / f"kabar-{backend}.toml",
                api="http://127.0.0.1:9/bot",  # never called: nothing is sent here
                database_url=url,
                port=1,  # never listened on: nothing is served here
                secret="conversation-benchmark-secret",
            )
            people = await seed(config, size.customers)
            app = build(load_config(config))
            try:
                steps = plan(people, size.warmup + size.questions, 11)
                await ask(app.conversation, people, steps[: size.warmup], 1)
                lanes = [
                    steps[size.warmup + lane :: size.concurrency]
                    for lane in range(size.concurrency)
                ]
                cpu, wall = time.process_time(), time.perf_counter()
                right = await asyncio.gather(
                    *(
                        ask(app.conversation, people, lane, 1_000_000 * (n + 1))
                        for n, lane in enumerate(lanes)
                    )
                )
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            finally:
                await app.close()
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)
    return {
        "backend": backend,
        "questions": size.questions,
        "right": sum(right),
        "cpu_ms": 1000 * cpu / size.questions,
        "wall_ms": 1000 * wall / size.questions,
    }


async def run(size: str = "full") -> list[Table]:
    """Time the conversation on every backend; return one table."""
    chosen = SIZES[size]
    table = Table(
        f"Conversation alone: {chosen.questions:,} questions, {chosen.concurrency} at a time",
        ["database", "questions", "answered right", "CPU ms/question", "wall ms/question"],
    )
    for backend in backends():
        r = await measure(chosen, backend)
        table.add(r["backend"], r["questions"], r["right"], r["cpu_ms"], r["wall_ms"])
    return [table]


def main() -> None:
    """Run from the command line."""
    run_from_command_line("Conversation", __doc__, run)


if __name__ == "__main__":
    main()
