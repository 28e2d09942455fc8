"""Pacing: send as fast as a platform allows, never faster, per channel and per chat."""

from __future__ import annotations

import asyncio
import heapq
import itertools
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
    Of the chats waiting for an overall slot, the one with the most still to send goes first:
    a chat with many messages (staff, a reseller) sends at its own rate however busy the bot,
    instead of queueing behind every other chat after each of its messages.

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
        # Those waiting for an overall slot: (-backlog, when the chat first asked, when this
        # message asked, woken when it is theirs).
        self._waiting: list[tuple[int, int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()
        self._first_asked: dict[object, int] = {}
        self._releaser: asyncio.Task[None] | None = None
        self._window = asyncio.Lock()
        self._answered: deque[float] = deque()  # when recent sends were answered
        self._in_flight = 0
        self._freed = asyncio.Event()

    @asynccontextmanager
    async def turn(
        self, chat: object, *, first: bool = False, backlog: int = 1
    ) -> AsyncIterator[None]:
        """Wait until this chat may send its next message; the block is the send.

        `first` (a reply to someone who just wrote) skips the queue of evenly spaced slots
        the pushes wait in; it still keeps the chat's own spacing and the platform's limit.
        `backlog`: how many messages the chat has to send, this one included.
        """
        lock = self._chat_locks.setdefault(chat, asyncio.Lock())
        async with lock, self._overall(chat, first=first, backlog=backlog):
            yield

    @asynccontextmanager
    async def _overall(self, chat: object, *, first: bool, backlog: int) -> AsyncIterator[None]:
        """The chat's own spacing, then an overall slot; the block is the send."""
        # Again after waking: a retry_after may have held the chat meanwhile.
        while (ready := self._chat_next.get(chat, 0.0) - self._clock()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(ready)
        if not first and self._interval:
            await self._slot(chat, backlog)
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

    async def _slot(self, chat: object, backlog: int) -> None:
        """Wait for an overall slot: they come evenly spaced, each to the waiting chat with
        the most to send; among equals, to the chat that began asking first (a chat's last
        message is not queued behind those that came while it sent the others)."""
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        arrival = next(self._arrivals)
        first = self._first_asked.setdefault(chat, arrival)
        heapq.heappush(self._waiting, (-backlog, first, arrival, turn))
        if self._releaser is None or self._releaser.done():
            self._releaser = asyncio.create_task(self._release())
        try:
            await turn  # cancelled while waiting, the future is cancelled: its slot goes on
        except asyncio.CancelledError:
            if self._releaser is not None and all(w[-1].done() for w in self._waiting):
                self._releaser.cancel()  # nobody is left to hand a slot to
            raise

    async def _release(self) -> None:
        """Hand out the overall slots while anyone waits for one."""
        while self._waiting:
            wait = self._next - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            while self._waiting:
                turn = heapq.heappop(self._waiting)[-1]
                if not turn.done():
                    turn.set_result(None)
                    # Woken a little late, the slots keep their even spacing; after a pause
                    # (nobody waited), they start again from now.
                    now = self._clock()
                    slot = self._next if now - self._next < self._interval else now
                    self._next = slot + self._interval
                    break

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
            self._first_asked.pop(chat, None)
