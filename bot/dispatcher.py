"""The outbox dispatcher: claims due notifications, words them per chat, sends, says how it went."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import cast

from bot.channels import ChatChannel, SendError, TemplateChannel
from bot.pacing import Limits, Pacer
from handlers.context import Settings
from handlers.i18n import Messages
from handlers.notifications import (
    render_notification,
    says_more_than_its_phase,
    template_variables,
)
from handlers.types import Reply
from models.base import utcnow
from models.chats import Destination, destinations
from models.enums import Channel, NotificationKind
from models.messages import Logged
from models.outbox import Claimed, OrderUpdate, Outcomes, StaffReply, claim
from models.phones import mask_phone
from models.storage import Database

log = logging.getLogger(__name__)


# Sent even in quiet hours: staff hear at once, and a person's answer goes when they give it;
# a customer hears at once that another chat now sees their orders (it may not be theirs).
URGENT = frozenset(
    {
        NotificationKind.STAFF_ALERT,
        NotificationKind.HANDOVER,
        NotificationKind.STAFF_REPLY,
        NotificationKind.LINK_NOTICE,
    }
)


def _coalesce(queue: list[Claimed], outcomes: Outcomes, now: datetime) -> Claimed:
    """Take the next row; later updates of the same order for this chat fold into one.

    The customer gets one message with the latest phase and the way it came ("paid →
    packed"); the folded rows count as told by it. An update with words of its own (a photo,
    a note, money received) is never folded, and nothing folds past it: the customer hears
    every such update, in the order it happened. A resi put right before "shipped" was told
    is the one exception: the customer hears "shipped" once, with the right resi.
    """
    row = queue.pop(0)
    if row.kind is not NotificationKind.ORDER_UPDATE or row.order_id is None or _news(row):
        return row
    run: list[Claimed] = []  # the plain moves of this order that follow it, up to any news
    shipping = _ships(row)
    for later in queue:
        if later.kind is row.kind and later.order_id == row.order_id:
            if _news(later) and not (shipping and _only_corrects(later)):
                break
            run.append(later)
            shipping = shipping or _ships(later)
    if not run:
        return row
    latest = run[-1]
    folded = [row, *run[:-1]]
    for r in run:
        queue.remove(r)
    updates = [cast(OrderUpdate, r.payload) for r in (*folded, latest)]
    told: OrderUpdate = {**updates[-1], "path": [update["phase"] for update in updates]}
    if told.get("corrected"):  # told as the shipping it corrects, with the resi as it is now
        shipped = next(u for u in reversed(updates) if u["phase"] == "shipped" and _moves(u))
        courier, resi = told["courier"], told["tracking_number"]
        told = {**shipped, "courier": courier, "tracking_number": resi, "path": told["path"]}
    latest.payload = told
    for r in folded:
        outcomes.told_with(r, latest, now)
    return latest


def _news(row: Claimed) -> bool:
    return says_more_than_its_phase(cast(OrderUpdate, row.payload))


def _moves(update: OrderUpdate) -> bool:
    return not update.get("progress")


def _ships(row: Claimed) -> bool:
    update = cast(OrderUpdate, row.payload)
    return update["phase"] == "shipped" and _moves(update)


def _only_corrects(row: Claimed) -> bool:
    """Whether an update's only words of its own are a corrected courier or resi."""
    update = cast(OrderUpdate, row.payload)
    return bool(update.get("corrected")) and not says_more_than_its_phase(
        {**update, "corrected": False}
    )


def _said(row: Claimed, chat: Destination, reply: Reply, message_id: str, now: datetime) -> Logged:
    """A sent notification as the chat log keeps it: a staff member's answer, or kabar's."""
    staff_id = None
    if row.kind is NotificationKind.STAFF_REPLY:
        staff_id = cast(StaffReply, row.payload)["staff_id"]
    return Logged(
        chat.id,
        "out",
        "staff" if staff_id is not None else "kabar",
        reply.text,
        now,
        media_kind=reply.media[0] if reply.media else None,
        media=reply.media[1] if reply.media else None,
        provider_message_id=message_id,
        order_id=row.order_id,
        staff_id=staff_id,
    )


def _inside(last_inbound: datetime | None, now: datetime, window: timedelta) -> bool:
    """Whether the person wrote recently enough for a free-form message."""
    return last_inbound is not None and now - last_inbound < window


class Dispatcher:
    """Sends what the outbox owes, at least once, never before it is due.

    The outbox's rules (what a failure means, who is told of a dead letter) are
    `models.outbox`'s; the dispatcher words each row, sends it, and says how the send ended.
    """

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
        pacers: Mapping[Channel, Pacer] | None = None,
        concurrency: int = 64,
        backoff_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.channels = dict(channels)
        self.messages = messages
        self.settings = settings
        self.clock = clock
        self.batch = batch
        self.lease = lease
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds  # the first retry waits about twice this
        # The platforms' budgets: shared with the channels' replies when the root hands them in.
        self.pacers = dict(pacers or {}) or {
            kind: Pacer(rates) for kind, rates in (limits or {}).items()
        }
        self.concurrency = asyncio.Semaphore(concurrency)
        self.outcomes = Outcomes()
        self._templated: dict[object, bool] = {}
        self._sent = 0
        # Never hold more claimed rows than can go out well within their lease: one chat paced
        # at 1/s, or all of them at the slowest channel's overall rate. Unpaced, hold enough
        # that every sender has a chat to work on even when each chat has several rows.
        self.per_chat_queue = max(1, int(lease.total_seconds() / 2))
        rates = [p.limits.per_second for p in self.pacers.values() if p.limits.per_second]
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
        flight, never a message, and those rows go out again when their lease ends. When
        `tick` returns, every outcome of it is written.
        """
        self._sent = 0
        queues: dict[int, list[Claimed]] = {}
        workers: dict[int, asyncio.Task[None]] = {}
        chats: dict[int, Destination | None] = {}
        done = asyncio.Event()
        flusher = asyncio.create_task(self._flush_every(0.1, done))
        try:
            while True:
                claimed: list[Claimed] = []
                queued = sum(len(q) for q in queues.values())
                room = self.backlog - queued
                if room >= min(self.batch, self.backlog) // 2:
                    # All the room at once (paced, the backlog is at most a batch): a claim
                    # waits its turns of a loop busy with sends, and rows of too few chats
                    # left senders idle until it came back (bench.outbound).
                    claimed = await self._claim(chats, room)
                    for row in claimed:
                        queue = queues.setdefault(row.chat_id, [])
                        if len(queue) >= self.per_chat_queue:
                            self.outcomes.later(row, self.clock() + timedelta(seconds=len(queue)))
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
            for worker in workers.values():
                if not worker.done():
                    worker.cancel()
            # Let a write in progress finish (never cancel it midway), then write the rest.
            done.set()
            await asyncio.gather(flusher, return_exceptions=True)
            await self._flush()
            for pacer in self.pacers.values():
                pacer.forget_idle()

    async def _claim(self, chats: dict[int, Destination | None], limit: int) -> list[Claimed]:
        """Claim the next due rows and load any chats not yet known to this tick."""
        async with self.db.transaction() as session:
            claimed = await claim(session, now=self.clock(), limit=limit, lease=self.lease)
        new = sorted({row.chat_id for row in claimed} - set(chats))
        if new:
            async with self.db.sessions() as session:
                found = await destinations(session, new)
            for chat_id in new:
                chats[chat_id] = found.get(chat_id)
        return claimed

    async def _work(self, chat: Destination | None, queue: list[Claimed]) -> None:
        """Send one chat's queue in order; when one row must wait, the rest wait behind it."""
        async with self.concurrency:
            while queue:
                now = self.clock()
                quiet_end = self.settings.quiet_until(now)
                if quiet_end is not None and queue[0].kind not in URGENT:
                    # Quiet hours: customers hear in the morning; staff alerts still go.
                    self.outcomes.later(queue.pop(0), quiet_end)
                    continue
                row = _coalesce(queue, self.outcomes, now)
                try:
                    went = await self._send_one(row, chat, backlog=len(queue) + 1)
                except Exception as exc:  # never leave a claimed row without an outcome
                    log.exception("notification %s failed unexpectedly", row.id)
                    retry_at = now + timedelta(seconds=self.backoff_seconds * 2)
                    self.outcomes.retry(row, retry_at, repr(exc)[:200])
                    went = None
                if went is None:  # it waits: so does the rest of this chat's queue
                    for later in queue:
                        self.outcomes.later(later, self.clock() + timedelta(seconds=1))
                    queue.clear()
                    return
                self._sent += went

    async def _flush_every(self, seconds: float, done: asyncio.Event) -> None:
        """Write outcomes every few moments until `done`."""
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout=seconds)
            try:
                await self._flush()
            except Exception:  # the database hiccupped: the outcomes wait for the next flush
                log.exception("could not record sent notifications yet")

    async def _flush(self) -> None:
        """Write the outcomes noted so far, in one transaction."""
        if not self.outcomes:
            return
        taken = self.outcomes.take()
        try:
            async with self.db.transaction() as session:
                await taken.write(session, self.clock())
        except BaseException:
            self.outcomes.put_back(taken)  # for the next try
            raise

    async def _send_one(
        self, row: Claimed, chat: Destination | None, *, backlog: int = 1
    ) -> int | None:
        """Send one claimed row: 1 if it went out, 0 if it is done without, None if it waits
        (`backlog`: how many the chat has to send, this one included; the pacer lets the chat
        with most go first)."""
        now = self.clock()
        if chat is None or not chat.reachable:
            self.outcomes.skipped(
                row, "chat opted out" if chat and chat.opted_out else "chat inactive"
            )
            return 0
        channel = self.channels.get(chat.channel)
        if channel is None:
            self.outcomes.held(row, f"{chat.channel.value} is not running")
            return 0
        lang = chat.language or self.settings.default_language
        try:
            reply = render_notification(self.messages, self.settings, lang, row.kind, row.payload)
        except (KeyError, ValueError, TypeError) as exc:  # a payload no renderer can word
            self.outcomes.dead(row, f"cannot be worded: {exc!r}"[:200], mask_phone(chat.address))
            return 0
        template = None
        templating = self._templating(channel)
        if templating is not None and (
            row.via_template or not _inside(chat.last_inbound_at, now, templating.session_window)
        ):
            # WhatsApp: outside the 24-hour window only an approved template may go out.
            template = templating.templates.get(row.kind.value)
            if template is None:
                self.outcomes.needs_template(row, chat.id, mask_phone(chat.address))
                return 0
        pacer = self.pacers.get(chat.channel)
        try:
            turn = pacer.turn(chat.address, backlog=backlog) if pacer is not None else nullcontext()
            async with turn:
                if template is not None and templating is not None:
                    variables = template_variables(reply, row.kind, row.payload)
                    message_id = await templating.send_template(chat.address, template, variables)
                else:
                    message_id = await channel.send(chat.address, reply, track=True)
        except SendError as exc:
            if pacer is not None and exc.retry_after:
                pacer.hold_chat(chat.address, exc.retry_after)
            return self._failed(row, chat, exc, now)
        except Exception as exc:  # an adapter bug must not stop the other sends
            log.exception("sending notification %s failed", row.id)
            return self._failed(row, chat, SendError(repr(exc)), now)
        now = self.clock()
        self.outcomes.sent(row, now, message_id, _said(row, chat, reply, message_id, now))
        if reply.choices:
            self.outcomes.offered(chat.id, [choice.command for choice in reply.choices])
        return 1

    def _templating(self, channel: ChatChannel) -> TemplateChannel | None:
        """The channel as one that sends templates, if it is one (asked once per channel)."""
        if channel not in self._templated:  # a Protocol isinstance check is slow
            self._templated[channel] = isinstance(channel, TemplateChannel)
        return cast(TemplateChannel, channel) if self._templated[channel] else None

    def _failed(self, row: Claimed, chat: Destination, exc: SendError, now: datetime) -> int | None:
        """Note a failed send: None when it will be retried, 0 when it is given up."""
        if exc.blocked:
            chat.active = False  # later rows of this tick skip the chat too
            self.outcomes.blocked(row, str(exc))
            return 0
        if exc.permanent or row.attempts >= self.max_attempts:
            self.outcomes.dead(row, str(exc), mask_phone(chat.address))
            return 0
        if exc.retry_after is not None:
            delay = exc.retry_after
        else:  # exponential backoff with jitter: 2, 4, 8 … seconds, at most an hour
            delay = min(self.backoff_seconds * 2**row.attempts, 3600) * (0.5 + random.random())
        self.outcomes.retry(row, now + timedelta(seconds=delay), str(exc))
        return None
