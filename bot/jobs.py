"""Scheduled jobs besides the dispatcher: late orders, and the staff's morning digest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from handlers.context import Settings
from models.base import utcnow
from models.queue import flag_late_orders, queue_digest
from models.storage import Database


class Jobs:
    """The jobs `kabar run` schedules; each is safe to run again (its messages are keyed)."""

    def __init__(
        self, db: Database, settings: Settings, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock

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
