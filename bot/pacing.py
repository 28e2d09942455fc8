"""Pacing: send as fast as a platform allows, never faster, per channel and per chat."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

# Space sends this far under a platform's published rate: bursts stay smooth.
MARGIN = 0.985
WINDOW = 1.0  # seconds: the platforms count sends per second


@dataclass(frozen=True)
class Limits:
    """A platform's rates: messages per second overall, and per chat (None: no limit)."""

    per_second: float | None = None
    per_chat_per_second: float | None = None


class Pacer:
    """Hands out send slots: evenly spaced overall, and at most the per-chat rate per chat.

    A chat waits for its own next slot before it takes an overall one, so a slow chat never
    holds the others up; `hold_chat` pauses one chat (a platform's retry_after) and no other.

    The platform counts a send when the request reaches it, somewhere between our start and
    our answer. So a send only starts once every send it could share a platform second with
    has been answered a full second ago: however late the loop wakes or the network stalls,
    no window on the platform's side ever holds more than the limit.
    """

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._interval = 1 / (limits.per_second * MARGIN) if limits.per_second else 0.0
        self._chat_gap = 1 / limits.per_chat_per_second if limits.per_chat_per_second else 0.0
        self._capacity = max(1, int(limits.per_second)) if limits.per_second else 0
        self._clock = clock
        self._next = 0.0
        self._chat_next: dict[object, float] = {}
        # One send at a time per chat: replies to one chat may be handled side by side.
        self._chat_locks: dict[object, asyncio.Lock] = {}
        self._slots = asyncio.Lock()
        self._window = asyncio.Lock()
        self._answered: deque[float] = deque()  # when recent sends were answered
        self._in_flight = 0
        self._freed = asyncio.Event()

    @asynccontextmanager
    async def turn(self, chat: object, *, first: bool = False) -> AsyncIterator[None]:
        """Wait until this chat may send its next message; the block is the send.

        `first` (a reply to someone who just wrote) skips the queue of evenly spaced slots
        the pushes wait in; it still keeps the chat's own spacing and the platform's limit.
        """
        lock = self._chat_locks.setdefault(chat, asyncio.Lock())
        async with lock, self._overall(chat, first=first):
            yield

    @asynccontextmanager
    async def _overall(self, chat: object, *, first: bool) -> AsyncIterator[None]:
        """The chat's own spacing, then an overall slot; the block is the send."""
        # Again after waking: a retry_after may have held the chat meanwhile.
        while (ready := self._chat_next.get(chat, 0.0) - self._clock()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(ready)
        if not first:
            async with self._slots:  # book the next overall slot, first come first served
                slot = max(self._clock(), self._next)
                self._next = slot + self._interval
            wait = slot - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
        if self._capacity:
            await self._room()
        try:
            yield
        finally:
            answered = self._clock()
            if self._capacity:
                self._in_flight -= 1
                self._answered.append(answered)
                self._freed.set()
            if self._chat_gap:
                self._chat_next[chat] = max(
                    self._chat_next.get(chat, 0.0), answered + self._chat_gap
                )
            else:
                self._chat_next.pop(chat, None)

    async def _room(self) -> None:
        """Wait until fewer than the limit were sent in flight or answered within a window."""
        async with self._window:
            while True:
                now = self._clock()
                while self._answered and self._answered[0] <= now - WINDOW:
                    self._answered.popleft()
                if self._in_flight + len(self._answered) < self._capacity:
                    break
                if self._answered:
                    await asyncio.sleep(self._answered[0] + WINDOW - now)
                else:  # every counted send is still in flight: wait for an answer
                    self._freed.clear()
                    await self._freed.wait()
            self._in_flight += 1

    def hold_chat(self, chat: object, seconds: float) -> None:
        """Keep one chat quiet for a while (the platform asked us to wait)."""
        self._chat_next[chat] = max(self._chat_next.get(chat, 0.0), self._clock() + seconds)

    def forget_idle(self) -> None:
        """Drop per-chat state that no longer holds anyone back."""
        now = self._clock()
        for chat in [c for c, t in self._chat_next.items() if t <= now]:
            del self._chat_next[chat]
        for chat in [c for c, lock in self._chat_locks.items() if not lock.locked()]:
            del self._chat_locks[chat]
