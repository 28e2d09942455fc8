"""Pacing: a platform that counts a send anywhere between our start and its answer never sees
more than the limit in any second, nor two sends to one chat within a second."""

from __future__ import annotations

import asyncio
import itertools
import random
import time

import pytest

from bot.pacing import Limits, Pacer


async def _send_all(
    pacer: Pacer, chats: list[int], latency: list[float]
) -> list[tuple[int, float, float]]:
    """Send once per entry of `chats` (in order per chat, each chat saying how many it has
    left, as the dispatcher does); return (chat, start, answered)."""
    done: list[tuple[int, float, float]] = []
    queues: dict[int, list[float]] = {}
    for chat, seconds in zip(chats, latency, strict=True):
        queues.setdefault(chat, []).append(seconds)

    async def worker(chat: int) -> None:
        for left, seconds in enumerate(queues[chat]):
            async with pacer.turn(chat, backlog=len(queues[chat]) - left):
                started = time.monotonic()
                await asyncio.sleep(seconds)  # the request on its way, and the answer back
                done.append((chat, started, time.monotonic()))

    await asyncio.gather(*(worker(chat) for chat in queues))
    return done


@pytest.mark.slow
async def test_no_second_can_hold_more_than_the_limit_however_slow_the_answers() -> None:
    rng = random.Random(3)
    chats = list(range(60))
    # Some answers take longer than the gap between slots: a pacer that counted sends from
    # their start alone would let a platform window see more than 10.
    latency = [rng.choice([0.001, 0.01, 0.15, 0.4]) for _ in chats]
    sends = await _send_all(Pacer(Limits(per_second=10)), chats, latency)
    for _, start, _ in sends:
        # Every send the platform may count in the second before this one arrives: those
        # started earlier and answered less than a second before this one started.
        counted = [s for s in sends if s[1] < start and s[2] > start - 1.0 + 1e-3]
        assert len(counted) < 10


async def test_one_chat_waits_a_second_after_its_last_answer() -> None:
    chats = [7, 7, 7, 8]
    sends = await _send_all(Pacer(Limits(per_chat_per_second=1)), chats, [0.2, 0.05, 0.0, 0.0])
    seven = sorted((s for s in sends if s[0] == 7), key=lambda s: s[1])
    for a, b in itertools.pairwise(seven):
        assert b[1] >= a[2] + 1.0 - 1e-3
    eight = next(s for s in sends if s[0] == 8)
    assert eight[1] < seven[1][1]  # another chat is not held up by chat 7


async def test_a_held_chat_waits_and_the_others_go_on() -> None:
    pacer = Pacer(Limits(per_second=100, per_chat_per_second=100))
    pacer.hold_chat(1, 0.5)
    sends = await _send_all(pacer, [1, 2], [0.0, 0.0])
    starts = {chat: started for chat, started, _ in sends}
    assert starts[1] - starts[2] >= 0.45


async def test_a_chat_with_many_to_send_is_not_queued_behind_everyone_after_each() -> None:
    # Staff's alerts or a reseller's pushes during a bulk: one chat with eight, sixty with one.
    pacer = Pacer(Limits(per_second=20, per_chat_per_second=5))
    chats = [0] * 8 + list(range(1, 61))
    sends = await _send_all(pacer, chats, [0.0] * len(chats))
    busy = sorted(start for chat, start, _ in sends if chat == 0)
    others = sorted(start for chat, start, _ in sends if chat != 0)
    # Its messages go at its own rate in between the others': all before the others end.
    # Queued behind them instead, its second would only go once all sixty had.
    assert busy[-1] < others[-1]
    for a, b in itertools.pairwise(busy):
        assert b - a >= 0.2 - 1e-3  # and never faster than its own limit
