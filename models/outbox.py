"""The notification outbox: every message owed to a chat, and the whole life of its row.

A row is written in the same transaction as the change it tells of, so the change and its
messages commit or vanish together. Its life, top to bottom:

    enqueue ─▶ pending ──claim──▶ sending ──▶ sent ──delivery report──▶ (status stored)
                 ▲  │                │  ├──▶ held     needs a template nobody configured; staff told
                 │  │                │  ├──▶ skipped  the chat blocked us or said STOP
                 │  │                │  └──▶ dead     permanent error or last try; staff told
                 │  │                └─ retry (backoff) / later (handed back unsent)
                 │  └──undo──▶ withdrawn
                 └──── report "outside the 24-hour window": sent again as a template

A claim that is never answered (the dispatcher died) ends with its lease: the row is claimable
again, so delivery is at least once. What a row carries is typed per kind below, written and
read through the same TypedDict; `bot/` only sends and says how each send ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, NamedTuple, NotRequired, TypedDict, cast

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    case,
    func,
    select,
    union_all,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.audience import Audience, staff_chat_ids
from models.base import Base, UTCDateTime, insert_for, str_enum, utcnow
from models.enums import NotificationKind, NotificationStatus
from models.messages import Logged, log_messages
from models.people import Chat


class Notification(Base):
    """One message owed to one chat, rendered from `payload` in its language at send time."""

    __tablename__ = "notifications"
    # A claim reads due rows in exactly this order and stops at its limit (with `id` last,
    # PostgreSQL need not sort the whole backlog to find the oldest; SQLite's rowid is there).
    __table_args__ = (Index("ix_notifications_due", "status", "due_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    # Indexed: undo withdraws the rows of the events it reverts.
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("phase_events.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # One row per (order, event, chat) or per other fact: enqueueing it again is a no-op.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[NotificationStatus] = mapped_column(
        str_enum(NotificationStatus), default=NotificationStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Not sent before this time (undo window, backoff, quiet hours).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    delivery_error_code: Mapped[str | None] = mapped_column(String(20))
    # WhatsApp said the free-form message was outside the 24-hour window: resend as template.
    via_template: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


_TABLE = cast(Table, Notification.__table__)  # Core statements: no ORM bookkeeping per row

# ------------------------------------------------------------------------------- payloads


class TrackingNews(TypedDict):
    """A courier milestone an order update tells: which, where, who received it, when."""

    milestone: str  # models.milestones.Milestone
    place: str | None
    receiver: str | None
    at: str  # ISO time of the courier's checkpoint


class OrderUpdate(TypedDict):
    """An order moved (or runs late): everything needed to word it later, in any language.

    `brand` is the reseller's on dropship orders (the end customer never sees the shop's
    name); None means the shop's own, filled in at send time.
    """

    order_code: str
    audience: Audience
    brand: str | None
    customer_name: str
    fulfillment: str
    from_phase: str | None
    phase: str
    stage: str | None
    stage_number: int | None
    stage_count: int
    eta: str | None  # ISO time
    courier: str | None
    tracking_number: str | None
    note: str | None  # written for the customer; the shop's own notes are never told
    photo: str | None
    at: str  # ISO time
    late: NotRequired[bool]  # production runs late: a new estimate, not a new phase
    progress: NotRequired[bool]  # news from inside the phase or stage: a photo or a note
    payment: NotRequired[PaymentNews]  # money came in, a proof was refused, a reminder
    path: NotRequired[list[str]]  # set when several updates are told as one: the phases passed
    tracking: NotRequired[TrackingNews]  # the courier's news: a milestone of the parcel
    corrected: NotRequired[bool]  # staff put the courier or resi right (/kirim again)
    resi_added: NotRequired[bool]  # … where the order had gone out with none
    # Cancelled with money paid and not given back (Decimal as text): the customer is told
    # a person will see to it.
    held: NotRequired[str]


class PaymentNews(TypedDict):
    """What an order update says about money: paid, partly_paid, rejected or reminder."""

    news: str
    amount: str  # Decimal as text: this payment (0 when none)
    due: str  # what is left to pay
    total: str


class BackInStock(TypedDict):
    """A product a chat asked about can be ordered again."""

    sku: str
    name: str
    variant: str
    available: int
    may_order: NotRequired[bool]  # the chat may order it from the shop here (default: yes)


class LateAlert(TypedDict):
    """Staff: an order overstays its phase or production stage."""

    alert: Literal["late"]
    code: str
    phase: str
    stage: str


class DigestAlert(TypedDict):
    """Staff: the morning's open orders per phase and stage, and the late ones."""

    alert: Literal["digest"]
    day: str
    counts: list[tuple[str, str, int]]  # (phase, stage or "", count); JSON gives lists back
    late: list[str]


class NeedsTemplateAlert(TypedDict):
    """Staff: a WhatsApp push waits for an approved template that is not configured."""

    alert: Literal["needs_template"]
    kind: str
    chat: str  # masked


class DeadLetterAlert(TypedDict):
    """Staff: a push could not be delivered after every try."""

    alert: Literal["dead_letter"]
    code: str
    chat: str  # masked
    error: str


class ClaimedAlert(TypedDict):
    """Staff: a handover thread was taken by one of them."""

    alert: Literal["claimed"]
    thread: int
    staff: str


class OverdueAlert(TypedDict):
    """Staff: an order is still unpaid past `[payment] overdue_hours`."""

    alert: Literal["overdue"]
    code: str


class ProofAlert(TypedDict):
    """Staff: a customer sent a transfer proof (or said they paid); one tap confirms it."""

    alert: Literal["proof"]
    code: str
    customer: str
    total: str  # Decimal as text
    due: str
    paid: str
    proof: str | None  # the photo or file
    proof_kind: NotRequired[str]  # `photo` (also when missing: rows written before) or `document`
    said: str  # what they wrote with it


class ArrivedAlert(TypedDict):
    """Staff: a customer says a shipped order came; one tap marks it delivered."""

    alert: Literal["arrived"]
    code: str
    customer: str  # as the chat's platform names them


class ChatOrderAlert(TypedDict):
    """Staff: a customer or a reseller placed an order in chat; its shipping fee is theirs to
    set, and the customer's note theirs to read."""

    alert: Literal["chat_order"]
    code: str
    who: str  # the customer's name, or the reseller's (a dropship order)
    total: str  # the lines, Decimal as text
    note: str  # what the customer asked of the shop besides ("" for none)
    to: NotRequired[str]  # where it goes (the shipping fee depends on it); "" for unknown


class ForwardedMessage(TypedDict):
    """One message of a handover thread, as staff are shown it."""

    at: str  # ISO time
    author: str  # person (who writes in the chat), kabar, staff
    text: str
    media_kind: str | None
    media: str | None  # the platform's reference


class TrackingAlert(TypedDict):
    """Staff: a shipment needs a person (a failed attempt, a return, an unknown or stuck resi),
    or the tracking provider refused kabar's key."""

    alert: Literal["tracking"]
    fact: str  # failed_attempt, returning, returned, not_found, stuck, refused
    code: str  # the order's ("" for refused)
    courier: str
    resi: str
    text: str  # the courier's words, or the provider's answer
    days: int  # since shipping (not_found) or since the last checkpoint (stuck)


class HandoverForward(TypedDict):
    """Staff: a customer's messages in a handover thread; the first one says who and why."""

    thread: int
    first: bool
    reason: str  # asked, not_understood, media
    customer: str  # the name the platform shows for the chat, else its customer's
    orders_of: NotRequired[str]  # the customer whose orders it sees, when another name
    phone: str  # masked, or "" when there is none
    channel: str
    orders: list[tuple[str, str, str]]  # (code, phase, stage or ""); JSON gives lists back
    brand: NotRequired[str]  # the reseller a dropship customer knows the shop by
    messages: list[ForwardedMessage]
    more: int  # earlier messages of the batch left out
    claimed_by: str | None


class StaffReply(TypedDict):
    """A customer: a staff member's answer in a handover thread."""

    thread: int
    text: str
    photo: str | None
    file: NotRequired[str]  # a document, voice note, audio or video sent with it
    file_kind: NotRequired[str]
    staff: str
    staff_id: int


class SupportNotice(TypedDict):
    """A customer: their handover thread closed (by staff, or idle); the bot answers again."""

    notice: Literal[
        "closed",
        "closed_idle",
        "draft_reminder",
        "draft_expired",
        "draft_reminder_for_another",  # staff's or a reseller's, for a customer of theirs
        "draft_expired_for_another",
    ]
    thread: int  # 0 for the notices about an order draft


class LinkNotice(TypedDict):
    """A customer: a new chat now sees their orders (a link code used, a number verified)."""

    via: Literal["code", "phone"]
    channel: str  # where the new chat is: telegram, whatsapp, console
    orders: list[str]  # the order codes it sees, the first few
    more: int  # how many more it sees


StaffAlert = (
    LateAlert
    | DigestAlert
    | NeedsTemplateAlert
    | DeadLetterAlert
    | ClaimedAlert
    | OverdueAlert
    | ProofAlert
    | TrackingAlert
    | ArrivedAlert
    | ChatOrderAlert
)
Payload = (
    OrderUpdate
    | BackInStock
    | StaffAlert
    | HandoverForward
    | StaffReply
    | SupportNotice
    | LinkNotice
)

# ------------------------------------------------------------------------------- writing


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A row to enqueue; the constructors below pair each kind with its payload type."""

    chat_id: int
    kind: NotificationKind
    key: str  # idempotency key: enqueueing the same key twice writes one row
    payload: Payload
    due_at: datetime
    order_id: int | None = None
    event_id: int | None = None

    @classmethod
    def order_update(
        cls,
        chat_id: int,
        payload: OrderUpdate,
        *,
        key: str,
        due_at: datetime,
        order_id: int,
        event_id: int | None = None,
    ) -> Outgoing:
        """An order update for one chat."""
        return cls(chat_id, NotificationKind.ORDER_UPDATE, key, payload, due_at, order_id, event_id)

    @classmethod
    def back_in_stock(
        cls, chat_id: int, payload: BackInStock, *, key: str, due_at: datetime
    ) -> Outgoing:
        """A back-in-stock message for one subscribed chat."""
        return cls(chat_id, NotificationKind.BACK_IN_STOCK, key, payload, due_at)

    @classmethod
    def handover(
        cls, chat_id: int, payload: HandoverForward, *, key: str, due_at: datetime
    ) -> Outgoing:
        """A handover forward for one staff chat (sent even in quiet hours)."""
        return cls(chat_id, NotificationKind.HANDOVER, key, payload, due_at)

    @classmethod
    def staff_reply(
        cls, chat_id: int, payload: StaffReply, *, key: str, due_at: datetime
    ) -> Outgoing:
        """A staff member's answer for the customer's chat (sent even in quiet hours)."""
        return cls(chat_id, NotificationKind.STAFF_REPLY, key, payload, due_at)

    @classmethod
    def support_notice(
        cls, chat_id: int, payload: SupportNotice, *, key: str, due_at: datetime
    ) -> Outgoing:
        """The customer is told their handover thread closed."""
        return cls(chat_id, NotificationKind.SUPPORT_NOTICE, key, payload, due_at)

    @classmethod
    def link_notice(
        cls, chat_id: int, payload: LinkNotice, *, key: str, due_at: datetime
    ) -> Outgoing:
        """A customer's chat is told another chat now sees their orders."""
        return cls(chat_id, NotificationKind.LINK_NOTICE, key, payload, due_at)

    @classmethod
    def staff_alert(
        cls,
        chat_id: int,
        payload: StaffAlert,
        *,
        key: str,
        due_at: datetime,
        order_id: int | None = None,
    ) -> Outgoing:
        """An alert for one staff chat (sent even in quiet hours)."""
        return cls(chat_id, NotificationKind.STAFF_ALERT, key, payload, due_at, order_id)


def order_update_key(order_id: int, event_id: int, chat_id: int) -> str:
    """Return the idempotency key of an order update for one chat."""
    return f"order:{order_id}:event:{event_id}:chat:{chat_id}"


async def enqueue(session: AsyncSession, rows: Sequence[Outgoing]) -> None:
    """Insert outbox rows in the caller's transaction, skipping keys already there."""
    if not rows:
        return
    stmt = insert_for(session)(_TABLE).on_conflict_do_nothing(index_elements=["idempotency_key"])
    await session.execute(
        stmt,
        [
            {
                "chat_id": row.chat_id,
                "order_id": row.order_id,
                "event_id": row.event_id,
                "kind": row.kind,
                "idempotency_key": row.key,
                "due_at": row.due_at,
                "payload": row.payload,
            }
            for row in rows
        ],
    )


class Alert(NamedTuple):
    """A staff alert to raise: what it says, its key (one per fact), what it is about."""

    payload: StaffAlert
    key: str  # each staff chat's row is keyed `{key}:{chat_id}`
    order_id: int | None = None
    besides: int | None = None  # a chat not to tell (the very one that cannot be reached)


async def alert_staff(session: AsyncSession, alerts: Sequence[Alert], *, now: datetime) -> int:
    """Tell every staff chat of each alert, once per key; return how many rows were written.

    An alert raised again (the late job runs every few minutes, a push fails twice) reaches
    nobody twice.
    """
    if not alerts:
        return 0
    chats = await staff_chat_ids(session)
    rows = [
        Outgoing.staff_alert(
            chat_id,
            alert.payload,
            key=f"{alert.key}:{chat_id}",
            due_at=now,
            order_id=alert.order_id,
        )
        for alert in alerts
        for chat_id in chats
        if chat_id != alert.besides
    ]
    await enqueue(session, rows)
    return len(rows)


async def revise_alert(session: AsyncSession, key: str, payload: Payload) -> int:
    """Give an alert raised with alert_staff under `key` a new payload in every staff chat it
    still waits to reach; return how many rows took it."""
    chats = await staff_chat_ids(session)
    return await revise(session, [f"{key}:{chat_id}" for chat_id in chats], payload)


async def revise(session: AsyncSession, keys: Sequence[str], payload: Payload) -> int:
    """Give the rows of these keys that still wait to be sent a new payload; return how many.

    A row claimed or sent meanwhile keeps what it had: the caller writes a new row instead.
    """
    if not keys:
        return 0
    result = await session.execute(
        update(_TABLE)
        .where(_TABLE.c.idempotency_key.in_(keys), _TABLE.c.status == NotificationStatus.PENDING)
        .values(payload=payload)
        .returning(_TABLE.c.id)
    )
    return len(result.all())


# Where an outbox row's life ends: nothing of it is sent again.
FINISHED = (
    NotificationStatus.SENT,
    NotificationStatus.SKIPPED,
    NotificationStatus.WITHDRAWN,
    NotificationStatus.DEAD,
)


async def forget_old_payloads(session: AsyncSession, before: datetime) -> int:
    """Empty what finished rows due before `before` said (names, words, files); return how
    many.

    The chat log forgets its messages after `[privacy] keep_messages_days`, and a payload is a
    copy of one. The rows stay: their keys keep each message told once, and their status says
    what became of it.
    """
    result = await session.execute(
        update(_TABLE)
        .where(
            _TABLE.c.status.in_(FINISHED),
            _TABLE.c.due_at < before,
            sql_cast(_TABLE.c.payload, Text) != "{}",
        )
        .values(payload={})
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def sent_payload(
    session: AsyncSession, chat_id: int, provider_message_id: str, kind: NotificationKind
) -> dict[str, Any] | None:
    """The payload of the message of this kind the platform calls `provider_message_id` in
    this chat (what a person replied to), if kabar sent it."""
    payload = await session.scalar(
        select(_TABLE.c.payload).where(
            _TABLE.c.chat_id == chat_id,
            _TABLE.c.provider_message_id == provider_message_id[:64],
            _TABLE.c.kind == kind,
        )
    )
    return payload if isinstance(payload, dict) else None


# ------------------------------------------------------------------------------- claiming


@dataclass(slots=True)
class Claimed:
    """A row claimed for sending: what the dispatcher needs of it, nothing more."""

    id: int
    chat_id: int
    order_id: int | None
    kind: NotificationKind
    payload: Payload
    attempts: int  # this claim included
    due_at: datetime
    via_template: bool


async def claim(
    session: AsyncSession, *, now: datetime, limit: int, lease: timedelta
) -> list[Claimed]:
    """Claim up to `limit` due rows for sending, oldest first, under a lease.

    Due means pending and past `due_at`, or claimed by a dispatcher whose lease ran out (it
    died mid-send). PostgreSQL skips rows another dispatcher holds; SQLite's write lock
    makes the single UPDATE … RETURNING atomic.
    """
    t = _TABLE.c
    # Each kind of due row read apart, in the order of the (status, due_at, id) index, and
    # limited: asked as one "pending or lapsed" condition, both databases read and sorted
    # every due row at each claim, so a backlog of 20,000 cost 20,000 rows a claim.
    arms = [
        select(t.id, t.due_at)
        .where(t.status == status, condition)
        .order_by(t.due_at, t.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .subquery()
        for status, condition in (
            (NotificationStatus.PENDING, t.due_at <= now),
            (NotificationStatus.SENDING, t.lease_until < now),
        )
    ]
    both = union_all(*(select(arm.c.id, arm.c.due_at) for arm in arms)).subquery()
    due = select(both.c.id).order_by(both.c.due_at, both.c.id).limit(limit)
    result = await session.execute(
        update(_TABLE)
        .where(t.id.in_(due.scalar_subquery()))
        .values(
            status=NotificationStatus.SENDING,
            lease_until=now + lease,
            attempts=t.attempts + 1,
        )
        .returning(
            t.id, t.chat_id, t.order_id, t.kind, t.payload, t.attempts, t.due_at, t.via_template
        )
    )
    claimed = [Claimed(*row) for row in result]
    claimed.sort(key=lambda row: (row.due_at, row.id))
    return claimed


# ------------------------------------------------------------------------------- outcomes


@dataclass(slots=True)
class _Ending:
    row_id: int
    status: NotificationStatus
    error: str | None = None
    message_id: str | None = None
    sent_at: datetime | None = None
    due_at: datetime | None = None  # None keeps the row's
    unclaimed: bool = False  # handed back unsent: the claim does not count as an attempt


@dataclass
class Outcomes:
    """How claimed rows ended, noted as each send finishes and written together by `write`.

    A dispatcher notes an outcome the moment a send ends and writes them every fraction of
    a second: a crash in between loses only the record, and those rows go out again when
    their lease ends (at least once, never lost).
    """

    _endings: list[_Ending] = field(default_factory=list)
    _blocked: dict[int, str] = field(default_factory=dict)  # chat id -> why
    _alerts: list[Alert] = field(default_factory=list)
    _said: list[Logged] = field(default_factory=list)  # for the chat log
    _menus: dict[int, list[str]] = field(default_factory=dict)  # chat id -> commands offered

    def __len__(self) -> int:
        return len(self._endings)

    def sent(
        self, row: Claimed, now: datetime, message_id: str, said: Logged | None = None
    ) -> None:
        """It went out; the platform calls it `message_id`; `said` is what the chat log keeps."""
        self._endings.append(
            _Ending(row.id, NotificationStatus.SENT, message_id=message_id, sent_at=now)
        )
        if said is not None:
            self._said.append(said)

    def offered(self, chat_id: int, commands: list[str]) -> None:
        """A push with choices went to a chat: a bare "2" there picks the second (WhatsApp)."""
        self._menus[chat_id] = commands

    def told_with(self, row: Claimed, other: Claimed, now: datetime) -> None:
        """Folded into another row's message: told by it."""
        self._endings.append(
            _Ending(
                row.id,
                NotificationStatus.SENT,
                error=f"told with notification {other.id}",
                sent_at=now,
            )
        )

    def retry(self, row: Claimed, at: datetime, error: str) -> None:
        """It failed for now: pending again from `at`; the attempt counts."""
        self._endings.append(_Ending(row.id, NotificationStatus.PENDING, error=error, due_at=at))

    def later(self, row: Claimed, at: datetime) -> None:
        """Handed back unsent (quiet hours, a full queue): pending from `at`, no attempt used."""
        self._endings.append(_Ending(row.id, NotificationStatus.PENDING, due_at=at, unclaimed=True))

    def skipped(self, row: Claimed, reason: str) -> None:
        """Not sent and never will be: the chat is closed to pushes."""
        self._endings.append(_Ending(row.id, NotificationStatus.SKIPPED, error=reason))

    def held(self, row: Claimed, reason: str) -> None:
        """Waits for a person (a channel not running here); nobody is told."""
        self._endings.append(_Ending(row.id, NotificationStatus.HELD, error=reason))

    def needs_template(self, row: Claimed, chat_id: int, masked_address: str) -> None:
        """Held: outside the session window with no template for its kind; staff told once."""
        kind = row.kind.value
        self.held(row, f"needs template: no [whatsapp.templates] {kind}")
        alert: NeedsTemplateAlert = {
            "alert": "needs_template",
            "kind": kind,
            "chat": masked_address,
        }
        self._alerts.append(Alert(alert, f"alert:needs_template:{kind}", besides=chat_id))

    def dead(self, row: Claimed, error: str, masked_address: str) -> None:
        """Given up after a permanent error or the last try; staff hear of it once."""
        self._endings.append(_Ending(row.id, NotificationStatus.DEAD, error=error))
        if row.kind is not NotificationKind.STAFF_ALERT:  # an alert about an alert never ends
            dead: DeadLetterAlert = {
                "alert": "dead_letter",
                "code": str(row.payload.get("order_code", "-")),
                "chat": masked_address,
                "error": error[:200],
            }
            self._alerts.append(Alert(dead, f"alert:dead:{row.id}", row.order_id))

    def blocked(self, row: Claimed, error: str) -> None:
        """The person blocked us: the row is dead and the chat closed until they write again."""
        self._endings.append(_Ending(row.id, NotificationStatus.DEAD, error=error))
        self._blocked[row.chat_id] = error[:200]

    def take(self) -> Outcomes:
        """Hand over what was noted so far and start afresh (see `put_back`)."""
        taken = Outcomes(self._endings, self._blocked, self._alerts, self._said, self._menus)
        self._endings, self._blocked, self._alerts, self._said, self._menus = [], {}, [], [], {}
        return taken

    def put_back(self, taken: Outcomes) -> None:
        """Return outcomes whose write failed, ahead of those noted since."""
        self._endings[:0] = taken._endings
        self._blocked = taken._blocked | self._blocked
        self._alerts[:0] = taken._alerts
        self._said[:0] = taken._said
        self._menus = taken._menus | self._menus

    async def write(self, session: AsyncSession, now: datetime) -> None:
        """Record every outcome noted, in the caller's transaction."""
        if self._endings:
            await _write_endings(session, self._endings)
        for chat_id, why in sorted(self._blocked.items()):
            await close_chat(session, chat_id, why)
        await alert_staff(session, self._alerts, now=now)
        await log_messages(session, self._said)
        for chat_id, commands in sorted(self._menus.items()):
            await session.execute(
                update(Chat)
                .where(Chat.id == chat_id)
                .values(last_choices=commands)
                .execution_options(synchronize_session=False)
            )


async def _write_endings(session: AsyncSession, endings: Sequence[_Ending]) -> None:
    t = _TABLE.c
    stmt = (
        update(_TABLE)
        .where(t.id == bindparam("row_id"))
        .values(
            status=bindparam("new_status"),
            lease_until=None,
            last_error=bindparam("error"),
            provider_message_id=func.coalesce(
                bindparam("message_id", type_=String), t.provider_message_id
            ),
            # A new message (sent again, as a template say) has heard nothing yet: the reports
            # of the one before must not hold back its own.
            delivery_status=case(
                (bindparam("new_message", type_=Boolean), None), else_=t.delivery_status
            ),
            delivery_error_code=case(
                (bindparam("new_message", type_=Boolean), None), else_=t.delivery_error_code
            ),
            sent_at=func.coalesce(bindparam("sent_at", type_=UTCDateTime), t.sent_at),
            due_at=func.coalesce(bindparam("new_due", type_=UTCDateTime), t.due_at),
            attempts=t.attempts - bindparam("unclaimed", type_=Integer),
        )
    )
    await session.execute(
        stmt,
        [
            {
                "row_id": e.row_id,
                "new_status": e.status,
                "error": e.error,
                "message_id": e.message_id,
                "new_message": e.message_id is not None,
                "sent_at": e.sent_at,
                "new_due": e.due_at,
                "unclaimed": 1 if e.unclaimed else 0,
            }
            for e in endings
        ],
    )


async def close_chat(session: AsyncSession, chat_id: int, why: str) -> None:
    """Stop pushing to a chat whose person cannot receive; their next message reopens it."""
    await session.execute(
        update(Chat)
        .where(Chat.id == chat_id)
        .values(active=False, inactive_reason=why[:200])
        .execution_options(synchronize_session=False)
    )


# ------------------------------------------------------------------------------- after sending


class Verdict(StrEnum):
    """What a platform's delivery report means for the row it is about."""

    NOTED = "noted"  # stored, nothing to do
    RESEND_AS_TEMPLATE = "resend_as_template"  # outside the session window: use the template
    RETRY = "retry"  # the platform was over its rate: send again in a minute
    UNREACHABLE = "unreachable"  # the person cannot receive: close the chat


@dataclass(frozen=True)
class DeliveryReport:
    """A platform's word on a message it was given: its status, error code, and our reading."""

    message_id: str
    status: str  # the platform's own: queued, sent, delivered, read, failed, undelivered …
    error_code: str | None
    verdict: Verdict = Verdict.NOTED


RETRY_AFTER_RATE_LIMIT = timedelta(minutes=1)


# The statuses a message passes, in order; a report of an earlier one comes late (callbacks
# race each other) and changes nothing. The final ones end the message's story.
_PROGRESS = {"accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3}
_PROGRESS |= {"delivered": 4, "read": 5}
_FINAL = frozenset({"failed", "undelivered", "canceled"})


def moves_forward(stored: str | None, reported: str) -> bool:
    """Whether a report of `reported` may replace the stored delivery status."""
    if stored is None:
        return True
    if stored in _FINAL:
        return False
    if reported in _FINAL:  # a failure after delivery is a late word about an old attempt
        return _PROGRESS.get(stored, -1) < _PROGRESS["delivered"]
    return _PROGRESS.get(reported, -1) > _PROGRESS.get(stored, -1)


async def apply_delivery_report(
    session: AsyncSession, report: DeliveryReport, now: datetime
) -> bool:
    """Store a delivery report on its row and act on it; False if no push has that id (a reply).

    A report that comes after a later one (sent after delivered) changes nothing, nor does
    one about a message that already failed or was delivered.
    """
    row = await session.scalar(
        select(Notification)
        .where(Notification.provider_message_id == report.message_id)
        # Two reports of one message may arrive at once: the second waits and sees the first.
        .with_for_update()
    )
    if row is None:
        return False
    if not moves_forward(row.delivery_status, report.status):
        return True
    row.delivery_status = report.status[:20]
    row.delivery_error_code = report.error_code[:20] if report.error_code else None
    if report.verdict is Verdict.RESEND_AS_TEMPLATE:
        row.status, row.via_template, row.due_at = NotificationStatus.PENDING, True, now
    elif report.verdict is Verdict.RETRY:
        row.status, row.due_at = NotificationStatus.PENDING, now + RETRY_AFTER_RATE_LIMIT
    elif report.verdict is Verdict.UNREACHABLE:
        await close_chat(session, row.chat_id, f"undeliverable ({report.error_code})")
    return True


async def withdraw(session: AsyncSession, event_id: int, reason: str) -> None:
    """Withdraw the unsent rows of an event that was undone: nobody hears of it."""
    await session.execute(
        update(_TABLE)
        .where(
            _TABLE.c.event_id == event_id,
            _TABLE.c.status == NotificationStatus.PENDING,
        )
        .values(status=NotificationStatus.WITHDRAWN, last_error=reason)
    )
