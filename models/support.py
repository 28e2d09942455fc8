"""Handover threads: a chat a person takes over, from the customer's first word to its close.

A thread's life, top to bottom:

    open (asked for a person, two misunderstood messages, media nobody reads)
      │  staff chats are told: #N, who, their orders, the last messages
      │  every later message of the customer is forwarded, at most once per FORWARD_GAP
      │  /ambil N: one staff member takes it (the others see who)
      │  /balas N teks (or a reply to the forwarded message): the customer gets it
      ▼
    closed (/selesai N, or idle for `[support] idle_close_minutes`: the customer is told)

While a thread is open the bot keeps quiet on the customer's free text; commands and pushes
still work. Everything sent goes through the outbox, so it is paced, retried and never lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    literal_column,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.audience import staff_chat_ids
from models.base import Base, UTCDateTime, str_enum, utcnow
from models.enums import NotificationKind, Phase
from models.flows import FINAL
from models.linking import chat_orders, known_as, linked_customers, reseller_orders
from models.messages import ChatMessage, last_messages, messages_after
from models.outbox import (
    Alert,
    ClaimedAlert,
    ForwardedMessage,
    HandoverForward,
    Notification,
    Outgoing,
    StaffReply,
    SupportNotice,
    alert_staff,
    enqueue,
    revise,
    sent_payload,
)
from models.people import Chat, Customer, Staff
from models.phones import mask_phone

FORWARD_GAP = timedelta(seconds=10)  # at most one forward per thread this often
FIRST_MESSAGES = 5  # the first forward shows this many of the chat's last messages
MAX_FORWARDED = 20  # messages in one forward; older ones are counted, not shown


class ThreadStatus(StrEnum):
    """Where a handover thread stands."""

    OPEN = "open"
    CLOSED = "closed"


class Reason(StrEnum):
    """Why a thread opened."""

    ASKED = "asked"  # the customer asked for a person
    NOT_UNDERSTOOD = "not_understood"  # the bot could not answer twice in a row
    MEDIA = "media"  # a photo, document, voice note or location nothing reads
    NO_ANSWER = "no_answer"  # a question of a kind the shop has written no answer to


class SupportThread(Base):
    """A chat handed over to the shop's people; its id is the number staff answer by (#12)."""

    __tablename__ = "support_threads"
    __table_args__ = (
        # One open thread per chat, however many messages race in.
        Index(
            "uq_support_threads_open_chat",
            "chat_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_support_threads_status_activity", "status", "last_activity_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    status: Mapped[ThreadStatus] = mapped_column(str_enum(ThreadStatus))
    reason: Mapped[Reason] = mapped_column(str_enum(Reason))
    name: Mapped[str] = mapped_column(String(200), default="")  # as the platform names them
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The customer's latest message, and anyone's latest word: idle threads close by it.
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # unanswered since
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Forwarding: messages up to `forwarded_through` are told or in the pending batch, which
    # starts at `batch_from`; the next batch may not leave before `next_forward_at`.
    forwarded_through: Mapped[int] = mapped_column(Integer, default=0)
    batch: Mapped[int] = mapped_column(Integer, default=0)
    batch_from: Mapped[int] = mapped_column(Integer, default=0)
    next_forward_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def is_open() -> ColumnElement[bool]:
    """`SupportThread` is open, written as the open-thread index's own condition.

    A literal, not a bound value: SQLite may use a partial index only for a condition it can
    prove when it prepares a statement, and with `status = ?` it prepares the statement
    again at every run to look (0.1 ms of each message's sender query).
    """
    return SupportThread.status == literal_column(f"'{ThreadStatus.OPEN.value}'")


# ------------------------------------------------------------------------------- opening


async def open_thread_of(session: AsyncSession, chat_id: int) -> SupportThread | None:
    """The chat's open thread, locked for this transaction; None if it has none."""
    return await session.scalar(
        select(SupportThread).where(SupportThread.chat_id == chat_id, is_open()).with_for_update()
    )


@dataclass(frozen=True)
class Opened:
    """The chat's open thread, and whether this message opened it."""

    thread: SupportThread
    new: bool


async def open_thread(
    session: AsyncSession, chat: Chat, reason: Reason, now: datetime, *, name: str = ""
) -> Opened:
    """Open a thread for the chat (or find the one open) and tell staff of what is new."""
    thread = await open_thread_of(session, chat.id)
    if thread is not None:
        await customer_wrote(session, thread, now)
        return Opened(thread, False)
    thread = SupportThread(
        chat_id=chat.id,
        status=ThreadStatus.OPEN,
        reason=reason,
        name=name[:200],
        opened_at=now,
        waiting_since=now,
        last_activity_at=now,
    )
    session.add(thread)
    await session.flush()
    recent = await last_messages(session, chat.id, FIRST_MESSAGES)
    thread.forwarded_through = recent[-1].id if recent else 0
    await _forward(session, thread, chat, recent, now, first=True)
    return Opened(thread, True)


async def customer_wrote(session: AsyncSession, thread: SupportThread, now: datetime) -> None:
    """A message of the customer's arrived in an open thread: forward it to staff.

    Within FORWARD_GAP of the last forward the waiting one grows instead (a flood of messages
    is a few forwards, not a flood); each photo or file gets a forward of its own.
    """
    thread.waiting_since = thread.waiting_since or now
    thread.last_activity_at = now
    chat = await session.get(Chat, thread.chat_id)
    assert chat is not None
    fresh = await messages_after(session, chat.id, thread.forwarded_through, author="person")
    if not fresh:
        return
    if thread.next_forward_at is not None and now < thread.next_forward_at:
        batch = await messages_after(session, chat.id, thread.batch_from - 1, author="person")
        if sum(1 for m in batch if m.media) <= 1 and await _grow(session, thread, chat, batch):
            thread.forwarded_through = fresh[-1].id
            return
    thread.forwarded_through = fresh[-1].id
    await _forward(session, thread, chat, fresh, now, first=False)


async def _forward(
    session: AsyncSession,
    thread: SupportThread,
    chat: Chat,
    messages: Sequence[ChatMessage],
    now: datetime,
    *,
    first: bool,
) -> None:
    """Queue a forward of these messages for every staff chat, as a new batch."""
    due = max(now, thread.next_forward_at or now)
    thread.batch += 1
    thread.batch_from = messages[0].id if messages else thread.forwarded_through + 1
    thread.next_forward_at = due + FORWARD_GAP
    payload = await _forward_payload(session, thread, chat, messages, first=first)
    rows = [
        Outgoing.handover(staff_chat, payload, key=_batch_key(thread, staff_chat), due_at=due)
        for staff_chat in await _staff_chats(session, chat)
    ]
    await enqueue(session, rows)


async def _grow(
    session: AsyncSession, thread: SupportThread, chat: Chat, batch: Sequence[ChatMessage]
) -> bool:
    """Put these messages into the thread's waiting forward; False if it has gone already."""
    chats = await _staff_chats(session, chat)
    if not chats:
        return True  # nobody to tell: nothing waits
    shown = list(batch)
    if thread.batch == 1:  # the first forward also shows what came before
        recent = await last_messages(session, chat.id, FIRST_MESSAGES)
        shown = sorted({m.id: m for m in (*recent, *batch)}.values(), key=lambda m: m.id)
    payload = await _forward_payload(session, thread, chat, shown, first=thread.batch == 1)
    return await revise(session, [_batch_key(thread, c) for c in chats], payload) > 0


async def _staff_chats(session: AsyncSession, chat: Chat) -> list[int]:
    """The staff chats a thread is forwarded to (never the customer's own chat)."""
    return [c for c in await staff_chat_ids(session) if c != chat.id]


def _batch_key(thread: SupportThread, staff_chat: int) -> str:
    return f"handover:{thread.id}:{thread.batch}:chat:{staff_chat}"


async def _forward_payload(
    session: AsyncSession,
    thread: SupportThread,
    chat: Chat,
    messages: Sequence[ChatMessage],
    *,
    first: bool,
) -> HandoverForward:
    """What staff are shown: the thread, and on its first forward who writes and their orders."""
    shown = list(messages)[-MAX_FORWARDED:]
    payload: HandoverForward = {
        "thread": thread.id,
        "first": first,
        "reason": thread.reason.value,
        "customer": thread.name,
        "phone": "",
        "channel": chat.channel.value,
        "orders": [],
        "messages": [_forwarded(m) for m in shown],
        "more": len(messages) - len(shown),
        "claimed_by": None,
    }
    if first:
        customer = await session.scalar(
            select(Customer)
            .where(Customer.id.in_(linked_customers(chat.id)))
            .order_by(Customer.id)
            .limit(1)
        )
        named = customer.name if customer is not None else ""
        if not thread.name:
            payload["customer"] = named
        elif named and named.casefold() != thread.name.casefold():
            # Someone writes from a chat that sees another's orders (a forwarded invoice, a
            # relative's phone): staff see both names, not the customer's alone.
            payload["orders_of"] = named
        # The number that writes, where the chat has one (WhatsApp); else the customer's.
        phone = chat.address if chat.address.startswith("+") or customer is None else customer.phone
        payload["phone"] = mask_phone(phone) if phone.startswith("+") else ""
        payload["orders"] = await _orders_of(session, chat)
        # Staff answer a reseller's customer in the reseller's name, never the shop's.
        if brand := await session.scalar(select(known_as(chat.id))):
            payload["brand"] = brand
    if thread.claimed_by is not None:
        payload["claimed_by"] = await session.scalar(
            select(Staff.name).where(Staff.id == thread.claimed_by)
        )
    return payload


async def _orders_of(session: AsyncSession, chat: Chat) -> list[tuple[str, str, str]]:
    """The chat's newest orders, open ones first: (code, phase, production stage or ""); a
    reseller's chat has the orders placed through them too."""
    orders = await chat_orders(session, chat, 10)
    if chat.reseller_id is not None:
        placed = await reseller_orders(session, chat.reseller_id, 10)
        orders += [order for order, _ in placed if order not in orders]
    ranked = sorted(orders, key=lambda o: o.phase in FINAL)[:5]
    return [
        (o.code, o.phase.value, o.stage_name or "" if o.phase is Phase.IN_PRODUCTION else "")
        for o in ranked
    ]


def _forwarded(message: ChatMessage) -> ForwardedMessage:
    return {
        "at": message.at.isoformat(),
        "author": message.author,
        "text": message.text[:1000],
        "media_kind": message.media_kind,
        "media": message.media,
    }


# ------------------------------------------------------------------------------- staff


class ThreadError(Exception):
    """A staff command about a thread that cannot be done; `rule` names why."""

    def __init__(self, number: int, rule: str, who: str = "") -> None:
        super().__init__(f"thread {number}: {rule}")
        self.number = number
        self.rule = rule  # not_found, closed, claimed
        self.who = who


async def _thread(session: AsyncSession, number: int) -> SupportThread:
    thread = await session.scalar(
        select(SupportThread).where(SupportThread.id == number).with_for_update()
    )
    if thread is None:
        raise ThreadError(number, "not_found")
    return thread


async def reply(
    session: AsyncSession,
    number: int,
    staff: Staff,
    words: str,
    now: datetime,
    *,
    photo: str | None = None,
    file: tuple[str, str] | None = None,
) -> SupportThread:
    """Send a staff member's answer to the thread's customer (through the outbox), with a
    photo or a `file` (kind, reference) if they sent one."""
    thread = await _thread(session, number)
    if thread.status is ThreadStatus.CLOSED:
        raise ThreadError(number, "closed")
    if thread.claimed_by is not None and thread.claimed_by != staff.id:
        other = await session.scalar(select(Staff.name).where(Staff.id == thread.claimed_by))
        raise ThreadError(number, "claimed", other or "")
    thread.waiting_since = None
    thread.last_activity_at = now
    payload: StaffReply = {
        "thread": thread.id,
        "text": words,
        "photo": photo,
        "staff": staff.name,
        "staff_id": staff.id,
    }
    if file is not None:
        payload["file_kind"], payload["file"] = file
    key = f"reply:{thread.id}:{uuid.uuid4().hex}"  # each answer its own; redeliveries stop earlier
    await enqueue(session, [Outgoing.staff_reply(thread.chat_id, payload, key=key, due_at=now)])
    return thread


async def answered_since(session: AsyncSession, chat_id: int, since: datetime) -> bool:
    """Whether staff answered the chat's customer at `since` or later (sent, or on its way)."""
    found = await session.scalar(
        select(Notification.id)
        .where(
            Notification.chat_id == chat_id,
            Notification.kind == NotificationKind.STAFF_REPLY,
            Notification.due_at >= since,
        )
        .limit(1)
    )
    return found is not None


async def claim(
    session: AsyncSession, number: int, staff: Staff, now: datetime, *, staff_chat: int
) -> SupportThread:
    """Take a thread, so two staff members don't answer at once; the other staff are told."""
    thread = await _thread(session, number)
    if thread.status is ThreadStatus.CLOSED:
        raise ThreadError(number, "closed")
    if thread.claimed_by is not None and thread.claimed_by != staff.id:
        other = await session.scalar(select(Staff.name).where(Staff.id == thread.claimed_by))
        raise ThreadError(number, "claimed", other or "")
    if thread.claimed_by is None:
        thread.claimed_by = staff.id
        thread.last_activity_at = now
        taken: ClaimedAlert = {"alert": "claimed", "thread": thread.id, "staff": staff.name}
        await alert_staff(
            session, [Alert(taken, f"claimed:{thread.id}:{staff.id}", besides=staff_chat)], now=now
        )
    return thread


async def close(
    session: AsyncSession, number: int, now: datetime, *, idle: bool = False
) -> SupportThread:
    """Close a thread; the customer is told they can write again (the bot answers again)."""
    thread = await _thread(session, number)
    if thread.status is ThreadStatus.CLOSED:
        raise ThreadError(number, "closed")
    thread.status = ThreadStatus.CLOSED
    thread.closed_at = now
    notice: SupportNotice = {"notice": "closed_idle" if idle else "closed", "thread": thread.id}
    await enqueue(
        session,
        [
            Outgoing.support_notice(
                thread.chat_id, notice, key=f"support:{thread.id}:closed", due_at=now
            )
        ],
    )
    return thread


async def close_idle(session: AsyncSession, now: datetime, idle: timedelta) -> list[int]:
    """Close every open thread nobody wrote in for `idle`; return their numbers."""
    stale = await session.scalars(
        select(SupportThread.id).where(is_open(), SupportThread.last_activity_at < now - idle)
    )
    closed = []
    for number in stale.all():
        await close(session, number, now, idle=True)
        closed.append(number)
    return closed


@dataclass(frozen=True)
class Waiting:
    """An open thread as the inbox lists it."""

    number: int
    name: str
    waiting_since: datetime | None
    claimed_by: str | None
    reason: Reason


async def inbox(session: AsyncSession, limit: int = 20) -> list[Waiting]:
    """The open threads, the longest waiting for an answer first, answered ones after."""
    rows = await session.execute(
        select(SupportThread, Staff.name)
        .outerjoin(Staff, Staff.id == SupportThread.claimed_by)
        .where(is_open())
        .order_by(SupportThread.waiting_since.is_(None), SupportThread.waiting_since)
        .order_by(SupportThread.id)
        .limit(limit)
    )
    return [
        Waiting(thread.id, thread.name, thread.waiting_since, who, thread.reason)
        for thread, who in rows
    ]


async def thread_of_forward(
    session: AsyncSession, staff_chat_id: int, provider_message_id: str
) -> int | None:
    """The thread a forwarded message in a staff chat was about (a Telegram reply to it)."""
    payload = await sent_payload(
        session, staff_chat_id, provider_message_id, NotificationKind.HANDOVER
    )
    thread = payload.get("thread") if payload else None
    return thread if isinstance(thread, int) else None
