"""The outbox dispatcher: claims due notifications, words them per chat, sends, records."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import select

from bot.channels import ChatChannel, SendError, TemplateChannel
from bot.pacing import Limits, Pacer
from handlers.context import Settings
from handlers.i18n import Messages
from handlers.notifications import render_notification, template_variables
from models.base import utcnow
from models.enums import Channel, Language, NotificationKind, NotificationStatus
from models.linking import languages_of
from models.outbox import Notification, claim_due, enqueue, finish, finish_many
from models.people import Chat
from models.phones import mask_phone
from models.storage import Database

log = logging.getLogger(__name__)


URGENT = frozenset({NotificationKind.STAFF_ALERT})  # sent even in quiet hours


def _coalesce(
    queue: list[Notification], finish: Callable[..., None], now: datetime
) -> Notification:
    """Take the next row; later updates of the same order for this chat fold into one.

    The customer gets one message with the latest phase and the way it came ("paid →
    packed"); the folded rows count as told by it.
    """
    row = queue.pop(0)
    if row.kind is not NotificationKind.ORDER_UPDATE or row.order_id is None:
        return row
    same = [r for r in queue if r.kind is row.kind and r.order_id == row.order_id]
    if not same:
        return row
    latest = same[-1]
    folded = [row, *same[:-1]]
    for r in same[:-1]:
        queue.remove(r)
    queue.remove(latest)
    latest.payload = {
        **latest.payload,
        "path": [r.payload.get("phase") for r in folded] + [latest.payload.get("phase")],
    }
    for r in folded:
        finish(r.id, NotificationStatus.SENT, now, error=f"told with notification {latest.id}")
    return latest


def _inside(last_inbound: datetime | None, now: datetime, window: timedelta) -> bool:
    """Whether the person wrote recently enough for a free-form message."""
    return last_inbound is not None and now - last_inbound < window


class Dispatcher:
    """Sends what the outbox owes, at least once, never before it is due."""

    def __init__(
        self,
        db: Database,
        channels: Mapping[Channel, ChatChannel],
        messages: Messages,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        batch: int = 200,
        lease: timedelta = timedelta(seconds=60),
        max_attempts: int = 8,
        limits: Mapping[Channel, Limits] | None = None,
        concurrency: int = 64,
        backoff_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.channels = channels  # the live mapping: channels may start after the dispatcher
        self.messages = messages
        self.settings = settings
        self.clock = clock
        self.batch = batch
        self.lease = lease
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds  # the first retry waits about twice this
        self.pacers = {kind: Pacer(rates) for kind, rates in (limits or {}).items()}
        self.concurrency = asyncio.Semaphore(concurrency)
        self._results: list[dict[str, object]] = []
        self._templated: dict[object, bool] = {}
        self._sent = 0
        # Never hold more claimed rows than can go out well within their lease: one chat paced
        # at 1/s, or all of them at the slowest channel's overall rate. Unpaced, hold enough
        # that every sender has a chat to work on even when each chat has several rows.
        self.per_chat_queue = max(1, int(lease.total_seconds() / 2))
        rates = [r.per_second for r in (limits or {}).values() if r.per_second]
        self.backlog = (
            max(1, min(batch, int(min(rates) * lease.total_seconds() / 3)))
            if rates
            else max(batch, concurrency * 8)
        )

    async def tick(self) -> int:
        """Send every notification due now; return how many were sent.

        Each chat has a worker that sends its messages one after another, in the order they
        were written; chats go out side by side, paced to the platform's limits, and more rows
        are claimed as soon as the queues run low, so one slow chat never stalls the rest.
        Outcomes are written in batches: a crash loses at most the record of what was in
        flight, never a message, and those rows go out again when their lease ends.
        """
        self._sent = 0
        queues: dict[int, list[Notification]] = {}
        workers: dict[int, asyncio.Task[None]] = {}
        chats: dict[int, tuple[Chat | None, Language | None]] = {}
        flusher = asyncio.create_task(self._flush_every(0.1))
        try:
            while True:
                claimed: list[Notification] = []
                queued = sum(len(q) for q in queues.values())
                room = self.backlog - queued
                if room >= min(self.batch, self.backlog) // 2:
                    claimed = await self._claim(chats, min(self.batch, room))
                    for row in claimed:
                        queue = queues.setdefault(row.chat_id, [])
                        if len(queue) >= self.per_chat_queue:
                            self._requeue([row], delay=len(queue))
                            continue
                        queue.append(row)
                        if row.chat_id not in workers or workers[row.chat_id].done():
                            workers[row.chat_id] = asyncio.create_task(
                                self._work(chats[row.chat_id], queues[row.chat_id])
                            )
                busy = [worker for worker in workers.values() if not worker.done()]
                if not claimed and not busy:
                    return self._sent
                if busy and (not claimed or len(claimed) < self.batch):
                    await asyncio.wait(busy, timeout=0.2, return_when=asyncio.FIRST_COMPLETED)
        finally:
            flusher.cancel()
            for worker in workers.values():
                if not worker.done():
                    worker.cancel()
            await self._flush()
            for pacer in self.pacers.values():
                pacer.forget_idle()

    async def _claim(
        self, chats: dict[int, tuple[Chat | None, Language | None]], limit: int
    ) -> list[Notification]:
        """Claim the next due rows and load any chats not yet known to this tick."""
        async with self.db.transaction() as session:
            claimed = await claim_due(session, now=self.clock(), limit=limit, lease=self.lease)
        new = sorted({row.chat_id for row in claimed} - set(chats))
        if new:
            async with self.db.sessions() as session:
                found = list(await session.scalars(select(Chat).where(Chat.id.in_(new))))
                langs = await languages_of(session, found)
            for chat_id in new:
                chat = next((c for c in found if c.id == chat_id), None)
                chats[chat_id] = (chat, langs.get(chat_id))
        return claimed

    async def _work(
        self, chat: tuple[Chat | None, Language | None], queue: list[Notification]
    ) -> None:
        """Send one chat's queue in order; when one row must wait, the rest wait behind it."""
        async with self.concurrency:
            while queue:
                now = self.clock()
                quiet_end = self.settings.quiet_until(now)
                if quiet_end is not None and queue[0].kind not in URGENT:
                    # Quiet hours: customers hear in the morning; staff alerts still go.
                    held = queue.pop(0)
                    self._finish(
                        held.id, NotificationStatus.PENDING, now, retry_at=quiet_end, unclaimed=True
                    )
                    continue
                row = _coalesce(queue, self._finish, now)
                try:
                    outcome = await self._send_one(row, *chat)
                except Exception as exc:  # never leave a claimed row without an outcome
                    log.exception("notification %s failed unexpectedly", row.id)
                    self._finish(
                        row.id,
                        NotificationStatus.PENDING,
                        now,
                        error=repr(exc)[:200],
                        retry_at=now + timedelta(seconds=self.backoff_seconds * 2),
                    )
                    outcome = -1
                if outcome < 0:
                    self._requeue(queue[:], delay=1)
                    queue.clear()
                    return
                self._sent += max(outcome, 0)

    async def _flush_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await self._flush()
            except Exception:  # the database hiccupped: the outcomes wait for the next flush
                log.exception("could not record sent notifications yet")

    async def _flush(self) -> None:
        """Write the outcomes gathered so far, in one transaction."""
        results, self._results = self._results, []
        if not results:
            return
        try:
            async with self.db.transaction() as session:
                await finish_many(session, results)
        except BaseException:
            self._results[:0] = results  # keep them for the next try
            raise

    def _requeue(self, rows: list[Notification], *, delay: float = 0) -> None:
        """Give claimed rows back, due a little later, for a later claim."""
        due = self.clock() + timedelta(seconds=delay)
        for row in rows:
            self._finish(
                row.id, NotificationStatus.PENDING, self.clock(), retry_at=due, unclaimed=True
            )

    async def _send_one(self, row: Notification, chat: Chat | None, lang: Language | None) -> int:
        """Send one claimed row: 1 if it went out, 0 if it is done without, -1 if it waits."""
        now = self.clock()
        row_id, attempts = row.id, row.attempts
        if chat is None or not chat.reachable:
            reason = "chat opted out" if chat and chat.opted_out else "chat inactive"
            self._finish(row_id, NotificationStatus.SKIPPED, now, error=reason)
            return 0
        channel = self.channels.get(chat.channel)
        if channel is None:
            error = f"{chat.channel.value} is not running"
            self._finish(row_id, NotificationStatus.HELD, now, error=error)
            return 0
        reply = render_notification(
            self.messages,
            self.settings,
            lang or self.settings.default_language,
            row.kind,
            row.payload,
        )
        template = None
        templating = self._templating(channel)
        if templating is not None and (
            row.via_template or not _inside(chat.last_inbound_at, now, templating.session_window)
        ):
            # WhatsApp: outside the 24-hour window only an approved template may go out.
            template = templating.templates.get(row.kind.value)
            if template is None:
                await self._hold_for_template(row, chat, now)
                return 0
        pacer = self.pacers.get(chat.channel)
        try:
            async with pacer.turn(chat.id) if pacer is not None else nullcontext():
                if template is not None and templating is not None:
                    variables = template_variables(reply, row.kind, row.payload)
                    message_id = await templating.send_template(chat.address, template, variables)
                else:
                    message_id = await channel.send(chat.address, reply, track=True)
        except SendError as exc:
            if pacer is not None and exc.retry_after:
                pacer.hold_chat(chat.id, exc.retry_after)
            return await self._failed(row, chat, exc, attempts, now)
        except Exception as exc:  # an adapter bug must not stop the other sends
            log.exception("sending notification %s failed", row_id)
            return await self._failed(row, chat, SendError(repr(exc)), attempts, now)
        self._finish(row_id, NotificationStatus.SENT, self.clock(), message_id=message_id)
        return 1

    def _templating(self, channel: ChatChannel) -> TemplateChannel | None:
        """The channel as one that sends templates, if it is one (asked once per channel)."""
        if channel not in self._templated:  # a Protocol isinstance check is slow
            self._templated[channel] = isinstance(channel, TemplateChannel)
        return cast(TemplateChannel, channel) if self._templated[channel] else None

    async def _hold_for_template(self, row: Notification, chat: Chat, now: datetime) -> None:
        """Hold a push that needs a template nobody configured, and tell staff once per kind."""
        async with self.db.transaction() as session:
            await finish(
                session,
                row.id,
                NotificationStatus.HELD,
                now=now,
                error=f"needs template: no [whatsapp.templates] {row.kind.value}",
            )
            staff_chats = await session.scalars(
                select(Chat.id).where(Chat.staff_id.is_not(None), Chat.id != chat.id)
            )
            await enqueue(
                session,
                [
                    {
                        "chat_id": staff_chat,
                        "kind": NotificationKind.STAFF_ALERT,
                        "idempotency_key": f"alert:needs_template:{row.kind.value}:{staff_chat}",
                        "due_at": now,
                        "payload": {
                            "alert": "needs_template",
                            "kind": row.kind.value,
                            "chat": mask_phone(chat.address),
                        },
                    }
                    for staff_chat in staff_chats
                ],
            )

    async def _failed(
        self, row: Notification, chat: Chat, exc: SendError, attempts: int, now: datetime
    ) -> int:
        """Record a failed send: -1 when it will be retried, 0 when it is given up."""
        if exc.blocked:
            chat.active = False  # the preloaded copy: later rows of this tick skip it too
            async with self.db.transaction() as session:
                stored = await session.get(Chat, chat.id)
                if stored is not None:
                    stored.active, stored.inactive_reason = False, str(exc)[:200]
        if exc.permanent or attempts >= self.max_attempts:
            self._finish(row.id, NotificationStatus.DEAD, now, error=str(exc))
            if not exc.blocked:
                await self._tell_staff_dead(row, chat, str(exc), now)
            return 0
        if exc.retry_after is not None:
            delay = exc.retry_after
        else:  # exponential backoff with jitter: 2, 4, 8 … seconds, at most an hour
            delay = min(self.backoff_seconds * 2**attempts, 3600) * (0.5 + random.random())
        retry_at = now + timedelta(seconds=delay)
        self._finish(row.id, NotificationStatus.PENDING, now, error=str(exc), retry_at=retry_at)
        return -1

    async def _tell_staff_dead(
        self, row: Notification, chat: Chat, error: str, now: datetime
    ) -> None:
        """A push could not be delivered after every try: staff hear of it, once."""
        if row.kind is NotificationKind.STAFF_ALERT:
            return  # an alert about an alert would never end
        async with self.db.transaction() as session:
            staff_chats = list(
                await session.scalars(select(Chat.id).where(Chat.staff_id.is_not(None)))
            )
            await enqueue(
                session,
                [
                    {
                        "chat_id": staff_chat,
                        "kind": NotificationKind.STAFF_ALERT,
                        "idempotency_key": f"alert:dead:{row.id}:{staff_chat}",
                        "due_at": now,
                        "payload": {
                            "alert": "dead_letter",
                            "code": row.payload.get("order_code", "-"),
                            "chat": mask_phone(chat.address),
                            "error": error[:200],
                        },
                    }
                    for staff_chat in staff_chats
                ],
            )

    def _finish(
        self,
        row_id: int,
        status: NotificationStatus,
        now: datetime,
        *,
        message_id: str | None = None,
        error: str | None = None,
        retry_at: datetime | None = None,
        unclaimed: bool = False,
    ) -> None:
        """Note how a row ended; written with the next flush."""
        self._results.append(
            {
                "row_id": row_id,
                "status": status,
                "error": error,
                "message_id": message_id,
                "sent_at": now if status is NotificationStatus.SENT else None,
                "due_at": retry_at,
                "unclaimed": unclaimed,
            }
        )
