"""Scheduled jobs besides the dispatcher: late orders, the staff's morning digest, idle
handover threads, forgetting old chat messages, and asking couriers about shipped orders."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from handlers.context import Settings
from models.base import utcnow
from models.chat_orders import DraftNews, tend_drafts
from models.chats import forget_delivery_ids
from models.dunning import Dunned, Dunning, chase_unpaid
from models.messages import forget_before
from models.outbox import forget_old_payloads
from models.queue import flag_late_orders, queue_digest
from models.storage import Database
from models.support import close_idle
from models.tracker import Tracker, TrackerError
from models.tracking import TrackingPolicy, end_round, open_tracks, record_check, take_due

log = logging.getLogger(__name__)

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
        dunning: Dunning | None = None,
        tracker: Tracker | None = None,
        tracking: TrackingPolicy | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.idle_close = idle_close
        self.keep_messages = keep_messages
        self.dunning = dunning or Dunning()
        self.tracker = tracker  # None: no provider configured, shipped orders wait for /terima
        self.tracking = tracking or TrackingPolicy(timezone=settings.timezone)

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
        """Delete chat messages older than `[privacy] keep_messages_days`, and empty the sent
        notifications' copies of them; return how many messages."""
        now = self.clock()
        async with self.db.transaction() as session:
            await forget_delivery_ids(session, now - DELIVERY_IDS_KEPT)
            await forget_old_payloads(session, now - self.keep_messages)
            return await forget_before(session, now - self.keep_messages)

    async def chase_unpaid(self) -> Dunned:
        """Remind unpaid customers once, tell staff of overdue orders, cancel if the shop says."""
        async with self.db.transaction() as session:
            return await chase_unpaid(session, self.clock(), self.dunning)

    async def tend_drafts(self) -> DraftNews:
        """Remind an order draft once half way, and drop the ones that ran out."""
        async with self.db.transaction() as session:
            return await tend_drafts(session, self.clock())

    async def track_shipments(self) -> int:
        """Ask the courier about shipped orders, longest unchecked first, as many as the day's
        quota allows by now; return how many calls were made.

        Each answer is taken in by its own transaction, so a round cut short keeps what it
        learnt; the first failure ends the round and the provider rests (`end_round`).
        """
        tracker = self.tracker
        if tracker is None:
            return 0
        async with self.db.transaction() as session:
            await open_tracks(session, tracker.couriers, self.clock())
        async with self.db.transaction() as session:
            due = await take_due(session, tracker.name, self.tracking, self.clock())
        if not due:
            return 0
        asked, failure = 0, None
        for shipment_due in due:
            try:
                shipment = await tracker.track(shipment_due.courier, shipment_due.resi)
            except TrackerError as exc:
                failure = exc
                break
            asked += 1
            async with self.db.transaction() as session:
                await record_check(session, shipment_due, shipment, self.tracking, self.clock())
        failed = due[asked] if failure is not None else None
        async with self.db.transaction() as session:
            await end_round(
                session,
                tracker.name,
                self.tracking,
                self.clock(),
                unused=due[asked + (failed is not None) :],
                failed=failed,
                error=failure,
            )
        if failure is not None:
            log.warning("tracking: %s did not answer (%s); it rests a while", tracker.name, failure)
        return asked + (failed is not None)
