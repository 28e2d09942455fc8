"""The notification outbox: rows written with the change, sent later by the dispatcher."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.enums import NotificationKind, NotificationStatus


class Notification(Base):
    """One message owed to one chat, rendered from `payload` in its language at send time."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "status", "due_at"),)

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


def order_update_key(order_id: int, event_id: int, chat_id: int) -> str:
    """Return the idempotency key of an order update for one chat."""
    return f"order:{order_id}:event:{event_id}:chat:{chat_id}"


async def enqueue(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert outbox rows in the caller's transaction, skipping keys already there.

    Each row is a dict of Notification columns and must carry `idempotency_key`.
    """
    if not rows:
        return
    table = cast(Table, Notification.__table__)  # Core insert: no ORM bookkeeping per row
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).on_conflict_do_nothing(index_elements=["idempotency_key"])
    await session.execute(stmt, list(rows))


async def claim_due(
    session: AsyncSession, *, now: datetime, limit: int, lease: timedelta
) -> list[Notification]:
    """Claim up to `limit` due rows for sending, oldest first, under a lease.

    Due means pending and past `due_at`, or claimed by a dispatcher whose lease ran out (it
    died mid-send). PostgreSQL skips rows another dispatcher holds; SQLite's write lock
    makes the single UPDATE … RETURNING atomic.
    """
    due = (
        select(Notification.id)
        .where(
            or_(
                and_(
                    Notification.status == NotificationStatus.PENDING,
                    Notification.due_at <= now,
                ),
                and_(
                    Notification.status == NotificationStatus.SENDING,
                    Notification.lease_until < now,
                ),
            )
        )
        .order_by(Notification.due_at, Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = await session.scalars(
        update(Notification)
        .where(Notification.id.in_(due.scalar_subquery()))
        .values(
            status=NotificationStatus.SENDING,
            lease_until=now + lease,
            attempts=Notification.attempts + 1,
        )
        .returning(Notification)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return sorted(claimed.all(), key=lambda n: (n.due_at, n.id))


async def finish(
    session: AsyncSession,
    notification_id: int,
    status: NotificationStatus,
    *,
    now: datetime,
    provider_message_id: str | None = None,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    """Record how a claimed row ended: sent, skipped, dead, held, or pending again later."""
    values: dict[str, Any] = {"status": status, "lease_until": None, "last_error": error}
    if status is NotificationStatus.SENT:
        values |= {"sent_at": now, "provider_message_id": provider_message_id}
    if retry_at is not None:
        values["due_at"] = retry_at
    await session.execute(
        update(Notification)
        .where(Notification.id == notification_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def finish_many(session: AsyncSession, results: Sequence[dict[str, Any]]) -> None:
    """Record how many claimed rows ended, in one statement.

    Each result has `row_id`, `status`, `error`, and optionally `message_id`, `sent_at` and
    `due_at` (None keeps the row's value), and `unclaimed`: the row is handed back unsent, so
    its claim does not count as an attempt.
    """
    if not results:
        return
    table = cast(Table, Notification.__table__)
    stmt = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(
            status=bindparam("new_status"),
            lease_until=None,
            last_error=bindparam("error"),
            provider_message_id=func.coalesce(
                bindparam("message_id", type_=String), table.c.provider_message_id
            ),
            sent_at=func.coalesce(bindparam("sent_at", type_=UTCDateTime), table.c.sent_at),
            due_at=func.coalesce(bindparam("new_due", type_=UTCDateTime), table.c.due_at),
            attempts=table.c.attempts - bindparam("unclaimed", type_=Integer),
        )
    )
    await session.execute(
        stmt,
        [
            {
                "row_id": r["row_id"],
                "new_status": r["status"],
                "error": r.get("error"),
                "message_id": r.get("message_id"),
                "sent_at": r.get("sent_at"),
                "new_due": r.get("due_at"),
                "unclaimed": 1 if r.get("unclaimed") else 0,
            }
            for r in results
        ],
    )
