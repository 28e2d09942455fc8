"""The inbound load driver: a fake Bot API and the customers who post updates to the bot's webhook.

Run as a `bench.common.Helper`. It announces the fake's address, then reads one job per line on
stdin (a JSON object, see `run_job`), plays it and prints its result as one JSON line. It exits
when stdin closes. Both the posting and the reply arrive here, so latency is measured on one clock.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, TCPConnector

from bench.common import announce, percentile
from tests.fakes.telegram import FakeTelegram, JSONDict

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
REPLY_TIMEOUT = 30.0  # seconds a customer waits for an answer before counting it as lost
SETTLE = 0.3  # seconds to wait after the last answer for replies nobody asked for
MAX_JOB_LINE = 1 << 26  # a job carries every update's text: let its line be long
# A made-up token that only this fake accepts; the parent configures the bots with it.
TOKEN = "700100:inbound-bench-fake"


class ReplyCatcher(FakeTelegram):
    """The fake Bot API, handing each message the bot sends to the customer waiting on that chat."""

    def __init__(self) -> None:
        super().__init__(token=TOKEN, username="kabar_bench_bot")
        self.waiting: dict[int, asyncio.Future[tuple[str, float]]] = {}
        self.unasked = 0

    async def _send(self, method: str, params: JSONDict) -> JSONDict:
        result = await super()._send(method, params)
        arrived = time.perf_counter()
        chat_id = int(params["chat_id"])
        waiter = self.waiting.pop(chat_id, None)
        if waiter is None or waiter.done():
            self.unasked += 1  # a second reply, or one to a chat nobody wrote from
        else:
            waiter.set_result((str(result.get("text") or result.get("caption") or ""), arrived))
        return result

    def expect_reply(self, chat_id: int) -> asyncio.Future[tuple[str, float]]:
        """Return a future for the next message the bot sends to this chat."""
        waiter: asyncio.Future[tuple[str, float]] = asyncio.get_running_loop().create_future()
        self.waiting[chat_id] = waiter
        return waiter


@dataclass
class Tally:
    """What one phase of a job saw."""

    latencies: list[float] = field(default_factory=list)
    replies: int = 0
    right: int = 0
    refused: int = 0
    lost: int = 0
    wrong_samples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Customer:
    """A Telegram user writing from their private chat."""

    chat_id: int
    user_id: int
    name: str


Step = tuple[int, str, str]  # (customer index, text to write, a piece the answer must contain)


async def _play(
    fake: ReplyCatcher,
    http: ClientSession,
    url: str,
    secret: str,
    customers: Sequence[Customer],
    steps: Sequence[Step],
    concurrency: int,
    first_update_id: int,
) -> Tally:
    """Post every step, each customer waiting for the answer before writing again."""
    # A customer belongs to one writer, so a chat never has two questions open at once and each
    # reply answers exactly one post.
    lanes: list[list[tuple[int, Step]]] = [[] for _ in range(concurrency)]
    for number, step in enumerate(steps):
        lanes[step[0] % concurrency].append((first_update_id + number, step))
    tally = Tally()
    headers = {SECRET_HEADER: secret}

    async def writer(lane: list[tuple[int, Step]]) -> None:
        for update_id, (index, text, expect) in lane:
            who = customers[index]
            update = fake.message_update(
                chat_id=who.chat_id, user_id=who.user_id, text=text, first_name=who.name
            )
            update["update_id"] = update_id
            answer = fake.expect_reply(who.chat_id)
            posted = time.perf_counter()
            async with http.post(url, json=update, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    fake.waiting.pop(who.chat_id, None)
                    tally.refused += 1
                    continue
            try:
                reply, arrived = await asyncio.wait_for(answer, REPLY_TIMEOUT)
            except TimeoutError:
                fake.waiting.pop(who.chat_id, None)
                tally.lost += 1
                continue
            tally.latencies.append(arrived - posted)
            tally.replies += 1
            if expect in reply:
                tally.right += 1
            elif len(tally.wrong_samples) < 3:
                tally.wrong_samples.append(f"{text!r} -> {reply[:200]!r}")

    await asyncio.gather(*(writer(lane) for lane in lanes if lane))
    return tally


async def run_job(fake: ReplyCatcher, job: dict[str, Any]) -> dict[str, Any]:
    """Play a warm-up, then the measured updates; return throughput, latency and checks."""
    # The job: `url`, `secret`, `concurrency`, `customers` ([chat_id, user_id, name] each),
    # `warmup` and `updates` (each [customer index, text, expected piece of the answer]).
    customers = [Customer(int(c), int(u), str(n)) for c, u, n in job["customers"]]
    warmup: list[Step] = [(int(i), str(t), str(e)) for i, t, e in job["warmup"]]
    updates: list[Step] = [(int(i), str(t), str(e)) for i, t, e in job["updates"]]
    concurrency = int(job["concurrency"])
    connector = TCPConnector(limit=concurrency, force_close=False)
    async with ClientSession(connector=connector, timeout=ClientTimeout(total=60)) as http:
        args = (fake, http, job["url"], job["secret"], customers)
        await _play(*args, warmup, concurrency, first_update_id=1)
        fake.unasked = 0
        cpu, started = time.process_time(), time.perf_counter()
        tally = await _play(*args, updates, concurrency, first_update_id=len(warmup) + 1)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
    await asyncio.sleep(SETTLE)
    return {
        "updates": len(updates),
        "seconds": elapsed,
        "per_second": len(updates) / elapsed if elapsed > 0 else 0.0,
        "p50_ms": percentile(tally.latencies, 0.50) * 1000,
        "p99_ms": percentile(tally.latencies, 0.99) * 1000,
        "replies": tally.replies,
        "right": tally.right,
        "refused": tally.refused,
        "lost": tally.lost,
        "unasked": fake.unasked,
        "wrong_samples": tally.wrong_samples,
        # Near 1.0 the driver itself is the bottleneck and the figure says little about the bot.
        "driver_cpu": cpu / elapsed if elapsed > 0 else 0.0,
    }


async def main() -> None:
    """Serve the fake, then play jobs from stdin until it closes."""
    loop = asyncio.get_running_loop()
    jobs = asyncio.StreamReader(limit=MAX_JOB_LINE)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(jobs), sys.stdin)
    async with ReplyCatcher() as fake:
        announce(api=fake.base_url, username=fake.username)
        while line := await jobs.readline():
            result = await run_job(fake, json.loads(line))
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
