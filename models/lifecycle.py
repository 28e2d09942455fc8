"""Order lifecycle: place, advance, hold, resume, cancel, fill from restock.

Every change writes its PhaseEvent and the outbox rows for every chat that must hear of it
in the caller's transaction, so the change and its notifications commit or vanish together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import stock
from models.base import utcnow
from models.catalog import Product
from models.enums import Fulfillment, Phase
from models.errors import DomainError, InvalidTransition, NotFound
from models.flows import FLOWS, Position, check_advance, check_side_exit
from models.linking import new_link_code
from models.orders import Order, OrderLine, PhaseEvent, clean_code
from models.people import Customer, Reseller
from models.stages import estimate_ready_at, stages_to_json
from models.updates import Batch
from models.updates import order_update_payload as order_update_payload  # for imports


@dataclass(frozen=True)
class Actor:
    """Who made a change: a staff member, the system (scheduler, restock) or an import."""

    kind: str
    staff_id: int | None = None

    @classmethod
    def staff(cls, staff_id: int) -> Actor:
        """A change made by a staff member."""
        return cls("staff", staff_id)


SYSTEM = Actor("system")
IMPORT = Actor("import")
CHUNK = 500  # codes per IN (...) list


async def load_for_change(session: AsyncSession, code: str) -> Order:
    """Load an order by code and lock its row for the rest of the transaction."""
    order = (await load_many_for_change(session, [code])).get(clean_code(code) or "")
    if order is None:
        raise NotFound(f"order {code} not found")
    return order


async def load_many_for_change(session: AsyncSession, codes: Sequence[str]) -> dict[str, Order]:
    """Load and lock the orders of these codes, keyed by stored code; unknown ones left out."""
    wanted = sorted({clean for clean in map(clean_code, codes) if clean})
    found: dict[str, Order] = {}
    for start in range(0, len(wanted), CHUNK):
        rows = await session.scalars(
            select(Order)
            .where(Order.code.in_(wanted[start : start + CHUNK]))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        found.update((order.code, order) for order in rows)
    return found


async def place_order(
    session: AsyncSession,
    *,
    code: str,
    customer: Customer,
    lines: Sequence[tuple[Product, int]],
    reseller: Reseller | None = None,
    actor: Actor = SYSTEM,
    now: datetime | None = None,
) -> Order:
    """Create an order, reserving its stock lines atomically or queueing it for stock."""
    now = now or utcnow()
    clean = clean_code(code)
    if clean is None:
        raise DomainError(f"{code!r} cannot be an order code (letters, digits, . _ / -)")
    if not lines:
        raise DomainError(f"order {clean} has no lines")
    made = [p for p, _ in lines if p.fulfillment is Fulfillment.MADE_TO_ORDER]
    # The slowest product's stages decide when a mixed order can be ready.
    plan = max((p.stages for p in made), key=lambda st: sum(s.minutes for s in st), default=())
    order = Order(
        code=clean,
        customer_id=customer.id,
        reseller_id=reseller.id if reseller else None,
        fulfillment=Fulfillment.MADE_TO_ORDER if made else Fulfillment.READY_STOCK,
        phase=Phase.PLACED,
        stage_plan=stages_to_json(plan),
        link_code=new_link_code(),
        placed_at=now,
        phase_entered_at=now,
    )
    session.add(order)
    await session.flush()
    for product, qty in lines:
        session.add(
            OrderLine(
                order_id=order.id,
                product_id=product.id,
                qty=qty,
                unit_price=unit_price(product, dropship=reseller is not None),
                from_stock=product.fulfillment is Fulfillment.READY_STOCK,
            )
        )
    wanted = [(p.id, q) for p, q in lines if p.fulfillment is Fulfillment.READY_STOCK]
    # Orders already waiting for one of these products are served first: queue behind them.
    if wanted and (
        await _has_waiters(session, [pid for pid, _ in wanted])
        or not await stock.reserve(session, wanted)
    ):
        order.phase = Phase.AWAITING_STOCK
        order.awaiting_since = now
    else:
        order.stock_reserved = bool(wanted)
    if made:
        order.estimated_ready_at = estimate_ready_at(
            plan, stage_index=None, stage_started_at=None, now=now
        )
    await record(session, order, None, actor=actor, now=now)
    return order


def unit_price(product: Product, *, dropship: bool) -> Any:
    """The price a line is sold at: the reseller's price for dropship when there is one."""
    if dropship and product.reseller_price is not None:
        return product.reseller_price
    return product.price


async def advance(
    session: AsyncSession,
    order: Order,
    target: Position,
    *,
    actor: Actor,
    now: datetime | None = None,
    note: str | None = None,
    photo: str | None = None,
    courier: str | None = None,
    tracking_number: str | None = None,
    notify_delay: timedelta = timedelta(0),
    command_id: str | None = None,
    batch: Batch | None = None,
) -> PhaseEvent:
    """Move an order forward to `target` (a phase, or a production stage)."""
    now = now or utcnow()
    check_advance(order.code, order.fulfillment, order.position, target, len(order.plan))
    before, snapshot, effect = order.position, snapshot_of(order), None
    flow = FLOWS[order.fulfillment]
    if order.stock_reserved and flow.index(target.phase) >= flow.index(Phase.SHIPPED):
        await stock.consume(session, await stock_lines(session, order))
        order.stock_reserved = False
        effect = "consumed"
    order.phase, order.stage_index = target.phase, target.stage
    order.phase_entered_at = now
    if courier is not None:
        order.courier = courier
    if tracking_number is not None:
        order.tracking_number = tracking_number
    if order.fulfillment is Fulfillment.MADE_TO_ORDER:
        if target.phase is Phase.IN_PRODUCTION:
            order.estimated_ready_at = estimate_ready_at(
                order.plan, stage_index=target.stage, stage_started_at=now, now=now
            )
        elif target.phase is Phase.READY:
            order.estimated_ready_at = now
        elif target.phase in (Phase.PLACED, Phase.PAID):
            order.estimated_ready_at = estimate_ready_at(
                order.plan, stage_index=None, stage_started_at=None, now=now
            )
    return await record(
        session,
        order,
        before,
        actor=actor,
        now=now,
        note=note,
        photo=photo,
        delay=notify_delay,
        command_id=command_id,
        batch=batch,
        snapshot=snapshot,
        stock_effect=effect,
    )


async def hold(
    session: AsyncSession,
    order: Order,
    *,
    actor: Actor,
    note: str | None = None,
    now: datetime | None = None,
    notify_delay: timedelta = timedelta(0),
    command_id: str | None = None,
    batch: Batch | None = None,
) -> PhaseEvent:
    """Put an order on hold; it keeps its stock and resumes where it was."""
    now = now or utcnow()
    check_side_exit(order.code, order.position, Phase.ON_HOLD)
    before, snapshot = order.position, snapshot_of(order)
    order.held_phase, order.held_stage_index = order.phase, order.stage_index
    order.phase, order.stage_index = Phase.ON_HOLD, None
    order.phase_entered_at = now
    return await record(
        session,
        order,
        before,
        actor=actor,
        now=now,
        note=note,
        delay=notify_delay,
        command_id=command_id,
        batch=batch,
        snapshot=snapshot,
    )


async def resume(
    session: AsyncSession,
    order: Order,
    *,
    actor: Actor,
    note: str | None = None,
    now: datetime | None = None,
    notify_delay: timedelta = timedelta(0),
    command_id: str | None = None,
    batch: Batch | None = None,
) -> PhaseEvent:
    """Take an order off hold, back to the phase and stage it was in."""
    now = now or utcnow()
    if order.phase is not Phase.ON_HOLD or order.held_phase is None:
        raise InvalidTransition(
            order.code, order.phase.value, "resume", "it is not on hold", "not_held"
        )
    before, snapshot = order.position, snapshot_of(order)
    order.phase, order.stage_index = order.held_phase, order.held_stage_index
    order.held_phase = order.held_stage_index = None
    order.phase_entered_at = now
    if order.phase is Phase.IN_PRODUCTION:
        order.estimated_ready_at = estimate_ready_at(
            order.plan, stage_index=order.stage_index, stage_started_at=now, now=now
        )
    return await record(
        session,
        order,
        before,
        actor=actor,
        now=now,
        note=note,
        delay=notify_delay,
        command_id=command_id,
        batch=batch,
        snapshot=snapshot,
    )


async def cancel(
    session: AsyncSession,
    order: Order,
    *,
    actor: Actor,
    reason: str | None = None,
    now: datetime | None = None,
    notify_delay: timedelta = timedelta(0),
    command_id: str | None = None,
    batch: Batch | None = None,
) -> PhaseEvent:
    """Cancel an order from any non-final phase; its reserved stock goes to waiting orders."""
    now = now or utcnow()
    check_side_exit(order.code, order.position, Phase.CANCELLED)
    before, snapshot = order.position, snapshot_of(order)
    freed: list[tuple[int, int]] = []
    if order.stock_reserved:
        freed = await stock_lines(session, order)
        await stock.release(session, freed)
        order.stock_reserved = False
    order.phase, order.stage_index = Phase.CANCELLED, None
    order.held_phase = order.held_stage_index = None
    order.phase_entered_at = now
    event = await record(
        session,
        order,
        before,
        actor=actor,
        now=now,
        note=reason,
        delay=notify_delay,
        command_id=command_id,
        batch=batch,
        snapshot=snapshot,
        stock_effect="released" if freed else None,
    )
    for product_id, _ in freed:
        await fill_awaiting(session, product_id, now=now)
    return event


async def fill_awaiting(
    session: AsyncSession, product_id: int, *, now: datetime | None = None
) -> list[Order]:
    """Serve orders waiting for this product, first come first served; return those placed.

    The queue stops at the first order that this product cannot cover, so a later, smaller
    order never overtakes it; an order held up by another product is passed over.
    """
    now = now or utcnow()
    waiting = await session.scalars(
        select(Order)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.phase == Phase.AWAITING_STOCK, OrderLine.product_id == product_id)
        .order_by(Order.awaiting_since, Order.id)
        .with_for_update()
    )
    filled: list[Order] = []
    for order in waiting.all():
        lines = await stock_lines(session, order)
        if await stock.reserve(session, lines):
            before = order.position
            order.stock_reserved = True
            order.phase, order.awaiting_since = Phase.PLACED, None
            order.phase_entered_at = now
            await record(session, order, before, actor=SYSTEM, now=now)
            filled.append(order)
            continue
        product = await session.get(Product, product_id, populate_existing=True)
        needed = sum(q for pid, q in lines if pid == product_id)
        if product is None or product.available < needed:
            break
    return filled


async def _has_waiters(session: AsyncSession, product_ids: Sequence[int]) -> bool:
    waiting = await session.scalar(
        select(OrderLine.id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.phase == Phase.AWAITING_STOCK, OrderLine.product_id.in_(product_ids))
        .limit(1)
    )
    return waiting is not None


async def stock_lines(session: AsyncSession, order: Order) -> list[tuple[int, int]]:
    """The (product_id, qty) pairs of an order that come from warehouse stock."""
    rows = await session.execute(
        select(OrderLine.product_id, OrderLine.qty)
        .where(OrderLine.order_id == order.id, OrderLine.from_stock.is_(True))
        .order_by(OrderLine.product_id)
    )
    return [(pid, qty) for pid, qty in rows]


async def record(
    session: AsyncSession,
    order: Order,
    before: Position | None,
    *,
    actor: Actor,
    now: datetime,
    note: str | None = None,
    photo: str | None = None,
    delay: timedelta = timedelta(0),
    command_id: str | None = None,
    snapshot: dict[str, Any] | None = None,
    stock_effect: str | None = None,
    batch: Batch | None = None,
) -> PhaseEvent:
    """Append the event of a change and the outbox rows of everyone who must hear of it.

    With a batch, both are written when the batch is; without, now.
    """
    event = PhaseEvent(
        order_id=order.id,
        at=now,
        actor=actor.kind,
        staff_id=actor.staff_id,
        from_phase=before.phase if before else None,
        from_stage=before.stage if before else None,
        to_phase=order.phase,
        to_stage=order.stage_index,
        note=note,
        photo=photo,
        command_id=command_id,
        before=snapshot,
        stock_effect=stock_effect,
    )
    if batch is not None:
        batch.add(order, event, now + delay)
    else:
        alone = Batch(session)
        alone.add(order, event, now + delay)
        await alone.write()
    return event


SNAPSHOT_FIELDS = (
    "phase",
    "stage_index",
    "held_phase",
    "held_stage_index",
    "courier",
    "tracking_number",
    "stock_reserved",
    "awaiting_since",
    "phase_entered_at",
    "estimated_ready_at",
)


def snapshot_of(order: Order) -> dict[str, Any]:
    """The order fields a change may touch, as JSON: what undo puts back."""
    out: dict[str, Any] = {}
    for name in SNAPSHOT_FIELDS:
        value = getattr(order, name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def restore_snapshot(order: Order, snapshot: dict[str, Any]) -> None:
    """Put back the fields saved by snapshot_of."""
    for name in SNAPSHOT_FIELDS:
        value = snapshot[name]
        if name in ("phase", "held_phase") and value is not None:
            value = Phase(value)
        elif name in ("awaiting_since", "phase_entered_at", "estimated_ready_at") and value:
            value = datetime.fromisoformat(value)
        setattr(order, name, value)
