"""Scheduled jobs besides the dispatcher: late orders, the staff's morning digest, idle
handover threads, and forgetting old chat messages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from handlers.context import Settings
from models.base import utcnow
from models.chats import forget_delivery_ids
from models.messages import forget_before
from models.queue import flag_late_orders, queue_digest
from models.storage import Database
from models.support import close_idle

# Platforms redeliver within hours (Telegram keeps an unanswered update for a day). Kept
# longer, an id could come back as a new message: Telegram draws update ids afresh after a
# quiet week.
DELIVERY_IDS_KEPT = timedelta(days=3)


class Jobs:
    """The jobs `kabar run` schedules; each is safe to run again (its messages are keyed)."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
        *,
        idle_close: timedelta = timedelta(minutes=120),
        keep_messages: timedelta = timedelta(days=90),
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.idle_close = idle_close
        self.keep_messages = keep_messages

    async def late_orders(self) -> int:
        """Flag orders past their phase's or stage's expected time."""
        async with self.db.transaction() as session:
            return await flag_late_orders(session, self.clock())

    async def morning_digest(self) -> int:
        """Queue today's digest for staff (once a day, however often it runs)."""
        now = self.clock()
        today = now.astimezone(self.settings.timezone).date().isoformat()
        async with self.db.transaction() as session:
            return await queue_digest(session, now, today)

    async def close_idle_threads(self) -> list[int]:
        """Close handover threads nobody wrote in for `[support] idle_close_minutes`."""
        async with self.db.transaction() as session:
            return await close_idle(session, self.clock(), self.idle_close)

    async def forget_old_messages(self) -> int:
        """Delete chat messages older than `[privacy] keep_messages_days`; return how many."""
        now = self.clock()
        async with self.db.transaction() as session:
            await forget_delivery_ids(session, now - DELIVERY_IDS_KEPT)
            return await forget_before(session, now - self.keep_messages)
