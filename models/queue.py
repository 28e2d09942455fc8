"""The work queue: open orders per phase and stage, and which of them are late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.enums import OPEN_BILLS, Phase
from models.errors import InvalidPhone
from models.flows import FINAL
from models.orders import Order
from models.outbox import Alert, DigestAlert, LateAlert, alert_staff
from models.payments import Bill
from models.people import Customer
from models.phones import normalize_phone
from models.stages import estimate_ready_at
from models.updates import Told, order_update, tell

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
    codes: tuple[str, ...] = ()  # the first few, longest there first


@dataclass(frozen=True)
class Queue:
    """The open orders at a glance: counts per phase and stage, the late ones most late first."""

    lines: list[QueueLine]
    late: list[Order]


async def work_queue(
    session: AsyncSession, now: datetime, *, late_limit: int = 20, codes: int = 0
) -> Queue:
    """Count open orders per phase and production stage and list the late ones.

    With `codes`, each line names up to that many of its orders, longest there first.
    """
    counts = await session.execute(
        select(Order.phase, func.count())
        .where(Order.phase.in_(OPEN), Order.phase != Phase.IN_PRODUCTION)
        .group_by(Order.phase)
    )
    by_phase = dict(counts.all())
    timed = await _timed_orders(session)
    stages: dict[tuple[int, str], list[Order]] = {}
    for order in sorted(timed, key=lambda o: (o.phase_entered_at, o.id)):
        if order.phase is Phase.IN_PRODUCTION and order.stage_index is not None:
            key = (order.stage_index, order.plan[order.stage_index].name)
            stages.setdefault(key, []).append(order)
    lines: list[QueueLine] = []
    for phase in OPEN:
        if phase is Phase.IN_PRODUCTION:
            lines.extend(
                QueueLine(phase, name, len(there), tuple(o.code for o in there[:codes]))
                for (_, name), there in sorted(stages.items())
            )
        elif by_phase.get(phase):
            first = await _first_codes(session, phase, codes) if codes else ()
            lines.append(QueueLine(phase, None, by_phase[phase], first))
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
    alerts: list[Alert] = []
    notices: list[Told] = []
    for order in late:
        spell = f"{order.phase.value}:{order.stage_index}:{order.phase_entered_at.isoformat()}"
        alert: LateAlert = {
            "alert": "late",
            "code": order.code,
            "phase": order.phase.value,
            "stage": order.stage_name or "",
        }
        alerts.append(Alert(alert, f"late:{order.id}:{spell}:staff", order.id))
        if order.phase is Phase.IN_PRODUCTION and order.stage_index is not None:
            order.estimated_ready_at = estimate_ready_at(
                order.plan,
                stage_index=order.stage_index,
                stage_started_at=order.phase_entered_at,
                now=now,
            )
            notice = order_update(
                code=order.code,
                fulfillment=order.fulfillment,
                plan=order.plan,
                from_phase=order.phase,
                phase=order.phase,
                stage=order.stage_index,
                eta=order.estimated_ready_at,
                at=now,
            )
            notice["late"] = True
            key = f"late:{order.id}:{spell}"
            notices.append(Told(order, notice, now, None, key=key))
    await alert_staff(session, alerts, now=now)
    await tell(session, notices)
    return len(late)


async def _first_codes(session: AsyncSession, phase: Phase, limit: int) -> tuple[str, ...]:
    """The codes of the orders longest in a phase."""
    rows = await session.scalars(
        select(Order.code)
        .where(Order.phase == phase)
        .order_by(Order.phase_entered_at, Order.id)
        .limit(limit)
    )
    return tuple(rows)


async def _timed_orders(session: AsyncSession) -> list[Order]:
    return list(
        await session.scalars(
            select(Order).where(Order.phase.in_([Phase.IN_PRODUCTION, *PHASE_LIMITS]))
        )
    )


async def queue_digest(session: AsyncSession, now: datetime, day: str) -> int:
    """Queue the morning digest for every staff chat, once per `day` (the shop's date)."""
    summary = await work_queue(session, now)
    digest: DigestAlert = {
        "alert": "digest",
        "day": day,
        "counts": [(line.phase.value, line.stage or "", line.count) for line in summary.lines],
        "late": [order.code for order in summary.late],
    }
    return await alert_staff(session, [Alert(digest, f"digest:{day}")], now=now)


async def orders_of_customers(
    session: AsyncSession, words: str, limit: int
) -> list[tuple[Order, str]]:
    """Staff's search: the newest orders whose customer has this phone number, or whose
    customer's or recipient's name holds these words; each with its customer's name."""
    try:
        wanted = Customer.phone == normalize_phone(words)
    except InvalidPhone:
        typed = " ".join(words.lower().split())  # % and _ are only characters here
        wanted = func.lower(Customer.name).contains(typed, autoescape=True) | func.lower(
            Order.recipient_name
        ).contains(typed, autoescape=True)
    rows = await session.execute(
        select(Order, Customer.name)
        .join(Customer, Customer.id == Order.customer_id)
        .where(wanted)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return [(order, name) for order, name in rows]


async def awaiting_payment(
    session: AsyncSession, limit: int
) -> tuple[int, list[tuple[Order, str]]]:
    """Orders whose money is still due (unpaid, a proof to check, a down payment in), the
    cancelled left out: how many, and the `limit` placed longest ago with their customer's
    name."""
    waiting = (Order.payment_state.in_(OPEN_BILLS), Order.phase != Phase.CANCELLED)
    count = await session.scalar(select(func.count()).select_from(Order).where(*waiting))
    rows = await session.execute(
        select(Order, Customer.name)
        .join(Customer, Customer.id == Order.customer_id)
        .where(*waiting)
        .order_by(Order.placed_at, Order.id)
        .limit(limit)
    )
    return int(count or 0), [(order, name) for order, name in rows]


async def placed_since(
    session: AsyncSession, since: datetime, limit: int
) -> tuple[int, list[tuple[Order, str]]]:
    """Orders placed since `since`: how many, and the newest `limit` with their customer's
    name."""
    count = await session.scalar(
        select(func.count()).select_from(Order).where(Order.placed_at >= since)
    )
    rows = await session.execute(
        select(Order, Customer.name)
        .join(Customer, Customer.id == Order.customer_id)
        .where(Order.placed_at >= since)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return int(count or 0), [(order, name) for order, name in rows]


@dataclass(frozen=True)
class Sales:
    """What orders placed in a period add up to, the cancelled ones apart."""

    orders: int
    total: Decimal  # their bills: lines, shipping, less discounts
    paid: Decimal  # what came in for them
    due: Decimal  # what is still to come
    cancelled: int


async def sales_since(session: AsyncSession, since: datetime) -> Sales:
    """The sales of the orders placed since `since` (each bill as `Bill` reckons it)."""
    rows = await session.execute(
        select(
            Order.phase,
            Order.subtotal,
            Order.shipping_fee,
            Order.discount,
            Order.unique_code,
            Order.paid_amount,
        ).where(Order.placed_at >= since)
    )
    bills: list[Bill] = []
    cancelled = 0
    for phase, subtotal, shipping, discount, unique, paid in rows:
        if phase is Phase.CANCELLED:
            cancelled += 1
            continue
        bills.append(Bill(subtotal, shipping, discount, unique or 0, paid))
    zero = Decimal(0)
    return Sales(
        orders=len(bills),
        total=sum((bill.total for bill in bills), zero),
        paid=sum((bill.paid for bill in bills), zero),
        due=sum((bill.due for bill in bills), zero),
        cancelled=cancelled,
    )
