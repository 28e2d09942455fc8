"""The work queue: open orders per phase and stage, and which of them are late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.enums import NotificationKind, Phase
from models.flows import FINAL
from models.orders import Order
from models.outbox import enqueue
from models.people import Chat, Reseller
from models.stages import estimate_ready_at
from models.updates import recipients

# How long an order may sit in a phase before someone should look at it. Production stages
# use their own expected durations; phases not listed wait on the customer (payment) or on
# stock, which staff cannot hurry.
PHASE_LIMITS = {
    Phase.PAID: timedelta(days=1),
    Phase.PACKED: timedelta(days=1),
    Phase.READY: timedelta(days=1),
    Phase.SHIPPED: timedelta(days=7),
}
OPEN = tuple(p for p in Phase if p not in FINAL)


def due_by(order: Order) -> datetime | None:
    """When the order should have left its current phase or stage; None if no limit applies."""
    if order.phase is Phase.IN_PRODUCTION and order.stage_index is not None:
        return order.phase_entered_at + order.plan[order.stage_index].duration
    limit = PHASE_LIMITS.get(order.phase)
    return order.phase_entered_at + limit if limit else None


def is_late(order: Order, now: datetime) -> bool:
    """Whether the order has overstayed its phase or stage."""
    due = due_by(order)
    return due is not None and now > due


@dataclass(frozen=True)
class QueueLine:
    """How many open orders stand at one phase (and production stage)."""

    phase: Phase
    stage: str | None
    count: int


@dataclass(frozen=True)
class Queue:
    """The open orders at a glance: counts per phase and stage, the late ones most late first."""

    lines: list[QueueLine]
    late: list[Order]


async def work_queue(session: AsyncSession, now: datetime, *, late_limit: int = 20) -> Queue:
    """Count open orders per phase and production stage and list the late ones."""
    counts = await session.execute(
        select(Order.phase, func.count())
        .where(Order.phase.in_(OPEN), Order.phase != Phase.IN_PRODUCTION)
        .group_by(Order.phase)
    )
    by_phase = dict(counts.all())
    timed = await _timed_orders(session)
    stages: dict[tuple[int, str], int] = {}
    for order in timed:
        if order.phase is Phase.IN_PRODUCTION and order.stage_index is not None:
            key = (order.stage_index, order.plan[order.stage_index].name)
            stages[key] = stages.get(key, 0) + 1
    lines: list[QueueLine] = []
    for phase in OPEN:
        if phase is Phase.IN_PRODUCTION:
            lines.extend(
                QueueLine(phase, name, count) for (_, name), count in sorted(stages.items())
            )
        elif by_phase.get(phase):
            lines.append(QueueLine(phase, None, by_phase[phase]))
    late = sorted(
        (o for o in timed if is_late(o, now)),
        key=lambda o: (due_by(o) or now, o.id),
    )
    return Queue(lines, late[:late_limit])


async def flag_late_orders(session: AsyncSession, now: datetime) -> int:
    """Tell staff, once per phase or stage, of each order that overstays it.

    A made-to-order customer whose production runs late is told once too, with the new
    estimate (the current stage ends now at the earliest, the rest as planned). Returns how
    many late orders were found.
    """
    late = [o for o in await _timed_orders(session) if is_late(o, now)]
    if not late:
        return 0
    staff_chats = list(await session.scalars(select(Chat.id).where(Chat.staff_id.is_not(None))))
    rows: list[dict[str, Any]] = []
    for order in late:
        spell = f"{order.phase.value}:{order.stage_index}:{order.phase_entered_at.isoformat()}"
        stage = order.stage_name
        rows += [
            {
                "chat_id": chat_id,
                "kind": NotificationKind.STAFF_ALERT,
                "order_id": order.id,
                "idempotency_key": f"late:{order.id}:{spell}:staff:{chat_id}",
                "due_at": now,
                "payload": {
                    "alert": "late",
                    "code": order.code,
                    "phase": order.phase.value,
                    "stage": stage or "",
                },
            }
            for chat_id in staff_chats
        ]
        if order.phase is Phase.IN_PRODUCTION and order.stage_index is not None:
            order.estimated_ready_at = estimate_ready_at(
                order.plan,
                stage_index=order.stage_index,
                stage_started_at=order.phase_entered_at,
                now=now,
            )
            reseller = await session.get(Reseller, order.reseller_id) if order.reseller_id else None
            for chat_id, audience in await recipients(session, order):
                rows.append(
                    {
                        "chat_id": chat_id,
                        "kind": NotificationKind.ORDER_UPDATE,
                        "order_id": order.id,
                        "idempotency_key": f"late:{order.id}:{spell}:chat:{chat_id}",
                        "due_at": now,
                        "payload": {
                            "late": True,
                            "order_code": order.code,
                            "audience": audience,
                            "brand": reseller.name if reseller else None,
                            "phase": order.phase.value,
                            "stage": stage,
                            "eta": order.estimated_ready_at.isoformat(),
                            "fulfillment": order.fulfillment.value,
                        },
                    }
                )
    await enqueue(session, rows)
    return len(late)


async def _timed_orders(session: AsyncSession) -> list[Order]:
    return list(
        await session.scalars(
            select(Order).where(Order.phase.in_([Phase.IN_PRODUCTION, *PHASE_LIMITS]))
        )
    )


async def queue_digest(session: AsyncSession, now: datetime, day: str) -> int:
    """Queue the morning digest for every staff chat, once per `day` (the shop's date)."""
    summary = await work_queue(session, now)
    counts = [[line.phase.value, line.stage or "", line.count] for line in summary.lines]
    staff_chats = list(await session.scalars(select(Chat.id).where(Chat.staff_id.is_not(None))))
    await enqueue(
        session,
        [
            {
                "chat_id": chat_id,
                "kind": NotificationKind.STAFF_ALERT,
                "idempotency_key": f"digest:{day}:{chat_id}",
                "due_at": now,
                "payload": {
                    "alert": "digest",
                    "day": day,
                    "counts": counts,
                    "late": [order.code for order in summary.late],
                },
            }
            for chat_id in staff_chats
        ],
    )
    return len(staff_chats)
