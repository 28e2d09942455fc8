"""Pacing: send as fast as a platform allows, never faster, per channel and per chat."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# Aim this far under a platform's published rate, so clock jitter never tips a send over it.
MARGIN = 0.985


@dataclass(frozen=True)
class Limits:
    """A platform's rates: messages per second overall, and per chat (None: no limit)."""

    per_second: float | None = None
    per_chat_per_second: float | None = None


class Pacer:
    """Hands out send slots: evenly spaced overall, and at most the per-chat rate per chat.

    A chat waits for its own next slot before it takes an overall one, so a slow chat never
    holds the others up; `hold_chat` pauses one chat (a platform's retry_after) and no other.
    """

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = 1 / (limits.per_second * MARGIN) if limits.per_second else 0.0
        self._chat_interval = (
            1 / (limits.per_chat_per_second * MARGIN) if limits.per_chat_per_second else 0.0
        )
        self._clock = clock
        # However late the event loop wakes a sender, no second holds more than this many.
        self._per_window = max(1, int(limits.per_second * MARGIN)) if limits.per_second else 0
        self._window: deque[float] = deque()
        self._next = 0.0
        self._chat_next: dict[object, float] = {}
        self._lock = asyncio.Lock()

    async def turn(self, chat: object) -> None:
        """Wait until this chat may send its next message."""
        ready = self._chat_next.get(chat, 0.0) - self._clock()
        if ready > 0:
            await asyncio.sleep(ready)
        async with self._lock:  # book the next overall slot, first come first served
            slot = max(self._clock(), self._next)
            self._next = slot + self._interval
        wait = slot - self._clock()
        if wait > 0:
            await asyncio.sleep(wait)
        if self._per_window:
            async with self._lock:
                while True:
                    now = self._clock()
                    while self._window and self._window[0] <= now - 1.0:
                        self._window.popleft()
                    if len(self._window) < self._per_window:
                        break
                    await asyncio.sleep(self._window[0] + 1.0 - now)
                self._window.append(now)
        if self._chat_interval:  # from when it really goes, which may be after its slot
            self._chat_next[chat] = max(slot, self._clock()) + self._chat_interval
        elif chat in self._chat_next:
            del self._chat_next[chat]

    def hold_chat(self, chat: object, seconds: float) -> None:
        """Keep one chat quiet for a while (the platform asked us to wait)."""
        self._chat_next[chat] = max(self._chat_next.get(chat, 0.0), self._clock() + seconds)

    def forget_idle(self) -> None:
        """Drop per-chat state that no longer holds anyone back."""
        now = self._clock()
        for chat in [c for c, t in self._chat_next.items() if t <= now]:
            del self._chat_next[chat]
