"""The work queue: open orders per phase and stage, and which of them are late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.enums import Phase
from models.flows import FINAL
from models.orders import Order

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
    timed = list(
        await session.scalars(
            select(Order).where(Order.phase.in_([Phase.IN_PRODUCTION, *PHASE_LIMITS]))
        )
    )
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
