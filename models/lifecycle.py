"""Order lifecycle after placing: advance, hold, resume, cancel, fill from restock.

Every change writes its PhaseEvent and the outbox rows for every chat that must hear of it
in the caller's transaction, so the change and its notifications commit or vanish together.
Placing an order is `models.placing`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import stock
from models.base import utcnow
from models.catalog import Product
from models.change import Change, by_system
from models.enums import Fulfillment, PaymentState, Phase
from models.errors import InvalidTransition, NotFound
from models.flows import FLOWS, Position, check_advance, check_progress, check_side_exit
from models.orders import Order, OrderLine, PhaseEvent, clean_code, other_forms
from models.outbox import TrackingNews
from models.payments import (
    PaymentEvent,
    bill_of,
    check_paid_for,
    check_payable,
    ledger,
    settle,
    unsettled,
)
from models.stages import estimate_ready_at
from models.updates import Batch

CHUNK = 500  # codes per IN (...) list


async def load_for_change(session: AsyncSession, code: str) -> Order:
    """Load an order by code and lock its row for the rest of the transaction."""
    order = (await load_many_for_change(session, [code])).get(clean_code(code) or "")
    if order is None:
        raise NotFound(f"order {code} not found")
    return order


async def load_many_for_change(session: AsyncSession, codes: Sequence[str]) -> dict[str, Order]:
    """Load and lock the orders of these codes, keyed by the code as given (cleaned).

    A code that finds nothing as typed is tried in its other forms (`inv1001` is INV-1001);
    unknown codes are left out.
    """
    wanted = sorted({clean for clean in map(clean_code, codes) if clean})
    stored = await _lock_codes(session, wanted)
    found = {code: stored[code] for code in wanted if code in stored}
    missing = {code: other_forms(code) for code in wanted if code not in stored}
    if any(missing.values()):
        alternatives = await _lock_codes(
            session, sorted({f for fs in missing.values() for f in fs})
        )
        for code, forms in missing.items():
            order = next((alternatives[f] for f in forms if f in alternatives), None)
            if order is not None:
                found[code] = order
    return found


async def _lock_codes(session: AsyncSession, codes: Sequence[str]) -> dict[str, Order]:
    """Load and lock the orders stored under exactly these codes, by code."""
    found: dict[str, Order] = {}
    for start in range(0, len(codes), CHUNK):
        rows = await session.scalars(
            select(Order)
            .where(Order.code.in_(codes[start : start + CHUNK]))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        found.update((order.code, order) for order in rows)
    return found


async def advance(
    session: AsyncSession,
    order: Order,
    target: Position,
    change: Change,
    *,
    note: str | None = None,
    customer_note: str | None = None,
    photo: str | None = None,
    courier: str | None = None,
    tracking_number: str | None = None,
    tracking: TrackingNews | None = None,
) -> PhaseEvent:
    """Move an order forward to `target` (a phase, or a production stage).

    `note` stays with the shop; `customer_note` is told to the people who hear of the order;
    `tracking` is the courier's news that moved it.
    """
    check_advance(order.code, order.fulfillment, order.position, target, len(order.plan))
    check_paid_for(order, target.phase, change.policy)
    if target.phase is Phase.PAID and order.payment_state is not PaymentState.PAID:
        # "paid" as a phase is the money coming in: the same as /bayar for what is due.
        return await pay(session, order, change, None, note=note, customer_note=customer_note)
    before, effect = _Before.of(order), None
    flow = FLOWS[order.fulfillment]
    if order.stock_reserved and flow.index(target.phase) >= flow.index(Phase.SHIPPED):
        await stock.consume(session, await stock_lines(session, order))
        order.stock_reserved = False
        effect = "consumed"
    order.phase, order.stage_index = target.phase, target.stage
    if courier is not None:
        order.courier = courier
    if tracking_number is not None:
        order.tracking_number = tracking_number
    if order.fulfillment is Fulfillment.MADE_TO_ORDER:
        now = change.now
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
        change,
        before,
        note=note,
        customer_note=customer_note,
        photo=photo,
        effect=effect,
        tracking=tracking,
    )


async def pay(
    session: AsyncSession,
    order: Order,
    change: Change,
    amount: Decimal | None,
    *,
    note: str | None = None,
    customer_note: str | None = None,
) -> PhaseEvent:
    """Record money for an order in any phase before delivered (None: all that is due).

    Paid in full while still placed, the order moves on to paid; otherwise it stays where it
    is (a down payment, or money for an order already in production or packed).
    """
    check_payable(order)
    due = bill_of(order).due
    if amount is None:
        amount = due
    if amount <= 0:
        raise InvalidTransition(
            order.code, order.phase.value, "paid", "nothing is due", "nothing_due"
        )
    before, state = _Before.of(order), order.payment_state
    settle(order, amount)
    if order.phase is Phase.PLACED and order.payment_state is PaymentState.PAID:
        order.phase = Phase.PAID
        if order.fulfillment is Fulfillment.MADE_TO_ORDER:
            order.estimated_ready_at = estimate_ready_at(
                order.plan, stage_index=None, stage_started_at=None, now=change.now
            )
    moved = order.phase is not before.position.phase
    phase_entered_at = order.phase_entered_at
    event = await record(
        session,
        order,
        change,
        before,
        note=note,
        customer_note=customer_note,
        paid=amount,
        payment=order.payment_state.value,
    )
    if not moved:
        order.phase_entered_at = phase_entered_at  # the phase did not change, its clock neither
    session.add(ledger(order, change, "payment", state, amount=amount, note=note))
    return event


async def refund(
    session: AsyncSession,
    order: Order,
    change: Change,
    amount: Decimal | None,
    *,
    note: str | None = None,
) -> PhaseEvent:
    """Record money given back to the customer (None: all that was paid), in any phase: a
    cancelled order's money, a return, or what was paid too much. Nothing moves.

    All of it given back leaves the payment `refunded`; part of it, what the rest covers.
    """
    paid = order.paid_amount
    if paid <= 0:
        raise InvalidTransition(
            order.code, order.phase.value, "refunded", "nothing was paid", "nothing_paid"
        )
    amount = paid if amount is None else amount
    if not 0 < amount <= paid:
        raise InvalidTransition(
            order.code, order.phase.value, "refunded", "more than was paid", "over_refund"
        )
    before, state = _Before.of(order), order.payment_state
    order.paid_amount = paid - amount
    if order.paid_amount > 0:
        settle(order, Decimal(0))
    else:
        order.payment_state = PaymentState.REFUNDED
    phase_entered_at = order.phase_entered_at
    event = await record(
        session, order, change, before, note=note, paid=-amount, payment="refunded"
    )
    order.phase_entered_at = phase_entered_at
    session.add(ledger(order, change, "refund", state, amount=-amount, note=note))
    return event


async def charge(
    session: AsyncSession,
    order: Order,
    change: Change,
    *,
    shipping: Decimal | None = None,
    discount: Decimal | None = None,
) -> PhaseEvent:
    """Set the shipping fee or the discount of an order not yet paid in full."""
    check_payable(order)
    if order.payment_state is PaymentState.PAID:
        raise InvalidTransition(
            order.code, order.phase.value, "bill", "it is paid in full", "already_paid"
        )
    before = _Before.of(order)
    if shipping is not None:
        order.shipping_fee = shipping
    if discount is not None:
        order.discount = min(discount, order.subtotal + order.shipping_fee)
    phase_entered_at = order.phase_entered_at
    event = await record(session, order, change, before, payment="bill")
    order.phase_entered_at = phase_entered_at
    return event


async def claim_payment(
    session: AsyncSession,
    order: Order,
    change: Change,
    *,
    proof: str | None,
    chat_id: int,
    said: str = "",
) -> PaymentEvent:
    """A customer says they paid (a transfer proof, or "sudah transfer"): staff will check."""
    check_payable(order)
    state = order.payment_state
    if state is PaymentState.UNPAID:
        order.payment_state = PaymentState.PROOF_SENT
    event = ledger(
        order, change, "proof", state, note=said[:500] or None, proof=proof, chat_id=chat_id
    )
    session.add(event)
    await session.flush()
    return event


async def refuse_payment(
    session: AsyncSession, order: Order, change: Change, *, reason: str
) -> PhaseEvent:
    """A proof that does not hold up: the bill is open again; the customer hears why."""
    if order.payment_state is not PaymentState.PROOF_SENT:
        raise InvalidTransition(
            order.code, order.phase.value, "rejected", "no proof waits", "no_proof"
        )
    before, state = _Before.of(order), order.payment_state
    order.payment_state = unsettled(order)
    phase_entered_at = order.phase_entered_at
    event = await record(
        session,
        order,
        change,
        before,
        note=reason,
        customer_note=reason,
        payment="rejected",
    )
    order.phase_entered_at = phase_entered_at
    session.add(ledger(order, change, "rejected", state, note=reason))
    return event


async def tell_progress(
    session: AsyncSession,
    order: Order,
    change: Change,
    *,
    note: str | None = None,
    customer_note: str | None = None,
    photo: str | None = None,
    tracking: TrackingNews | None = None,
) -> PhaseEvent:
    """Tell of progress inside the current phase or stage (a photo, a note, a courier
    milestone); nothing moves."""
    check_progress(order.code, order.position)
    before = _Before.of(order)
    phase_entered_at = order.phase_entered_at  # still in the same phase or stage
    event = await record(
        session,
        order,
        change,
        before,
        note=note,
        customer_note=customer_note,
        photo=photo,
        tracking=tracking,
    )
    order.phase_entered_at = phase_entered_at
    return event


async def ship(
    session: AsyncSession, order: Order, change: Change, *, courier: str, tracking_number: str
) -> PhaseEvent:
    """Ship an order with its courier and resi; on an order already shipped, put them right.

    A correction (a typo in /kirim) moves nothing: everyone who hears of the order is told
    the new resi, the tracker follows it afresh (`models.tracking.open_tracks`), and /undo
    puts the old one back. The same courier and resi again is refused, as shipping twice is.
    """
    if order.phase is not Phase.SHIPPED or (courier, tracking_number) == (
        order.courier,
        order.tracking_number,
    ):
        target = Position(Phase.SHIPPED)
        return await advance(
            session, order, target, change, courier=courier, tracking_number=tracking_number
        )
    before = _Before.of(order)
    shipped_at = order.phase_entered_at
    note = (
        f"resi {order.courier or '-'} {order.tracking_number or '-'} → {courier} {tracking_number}"
    )
    order.courier, order.tracking_number = courier, tracking_number
    event = await record(session, order, change, before, note=note)
    order.phase_entered_at = shipped_at  # a correction is no new phase
    return event


async def hold(
    session: AsyncSession,
    order: Order,
    change: Change,
    *,
    note: str | None = None,
    customer_note: str | None = None,
) -> PhaseEvent:
    """Put an order on hold; it keeps its stock and resumes where it was."""
    check_side_exit(order.code, order.position, Phase.ON_HOLD)
    before = _Before.of(order)
    order.held_phase, order.held_stage_index = order.phase, order.stage_index
    order.phase, order.stage_index = Phase.ON_HOLD, None
    return await record(session, order, change, before, note=note, customer_note=customer_note)


async def resume(
    session: AsyncSession,
    order: Order,
    change: Change,
    *,
    note: str | None = None,
    customer_note: str | None = None,
) -> PhaseEvent:
    """Take an order off hold, back to the phase and stage it was in."""
    if order.phase is not Phase.ON_HOLD or order.held_phase is None:
        raise InvalidTransition(
            order.code, order.phase.value, "resume", "it is not on hold", "not_held"
        )
    before = _Before.of(order)
    order.phase, order.stage_index = order.held_phase, order.held_stage_index
    order.held_phase = order.held_stage_index = None
    if order.phase is Phase.IN_PRODUCTION:
        order.estimated_ready_at = estimate_ready_at(
            order.plan, stage_index=order.stage_index, stage_started_at=change.now, now=change.now
        )
    return await record(session, order, change, before, note=note, customer_note=customer_note)


async def cancel(
    session: AsyncSession,
    order: Order,
    change: Change,
    *,
    reason: str | None = None,
    customer_note: str | None = None,
    payment: str | None = None,
) -> PhaseEvent:
    """Cancel an order from any non-final phase; its reserved stock goes to waiting orders.

    The `reason` is the shop's; what the customer is told is `customer_note`.
    """
    check_side_exit(order.code, order.position, Phase.CANCELLED)
    before = _Before.of(order)
    freed: list[tuple[int, int]] = []
    if order.stock_reserved:
        freed = await stock_lines(session, order)
        await stock.release(session, freed)
        order.stock_reserved = False
    order.phase, order.stage_index = Phase.CANCELLED, None
    order.held_phase = order.held_stage_index = None
    event = await record(
        session,
        order,
        change,
        before,
        note=reason,
        customer_note=customer_note,
        effect="released" if freed else None,
        payment=payment,
    )
    for product_id, _ in freed:
        await fill_awaiting(session, product_id, now=change.now)
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
            before = _Before.of(order)
            order.stock_reserved = True
            paid = order.payment_state is PaymentState.PAID  # paid while it waited
            order.phase, order.awaiting_since = (Phase.PAID if paid else Phase.PLACED), None
            await record(session, order, by_system(now), before)
            filled.append(order)
            continue
        product = await session.get(Product, product_id, populate_existing=True)
        needed = sum(q for pid, q in lines if pid == product_id)
        if product is None or product.available < needed:
            break
    return filled


async def stock_lines(session: AsyncSession, order: Order) -> list[tuple[int, int]]:
    """The (product_id, qty) pairs of an order that come from warehouse stock."""
    rows = await session.execute(
        select(OrderLine.product_id, OrderLine.qty)
        .where(OrderLine.order_id == order.id, OrderLine.from_stock.is_(True))
        .order_by(OrderLine.product_id)
    )
    return [(pid, qty) for pid, qty in rows]


@dataclass(frozen=True)
class _Before:
    """An order as it was before a change: where it stood, and what undo would put back."""

    position: Position
    snapshot: dict[str, Any]

    @classmethod
    def of(cls, order: Order) -> _Before:
        """Take note of the order before changing it."""
        return cls(order.position, snapshot_of(order))


async def record(
    session: AsyncSession,
    order: Order,
    change: Change,
    before: _Before,
    *,
    note: str | None = None,
    customer_note: str | None = None,
    photo: str | None = None,
    effect: str | None = None,
    paid: Decimal | None = None,
    payment: str | None = None,
    tracking: TrackingNews | None = None,
) -> PhaseEvent:
    """Append the event of a change and the messages to everyone who must hear of it.

    The order entered its new phase now. With the change's batch, the event and messages are
    written when the batch is; without one, at once.
    """
    order.phase_entered_at = change.now
    event = PhaseEvent(
        order_id=order.id,
        at=change.now,
        actor=change.actor.kind,
        staff_id=change.actor.staff_id,
        from_phase=before.position.phase,
        from_stage=before.position.stage,
        to_phase=order.phase,
        to_stage=order.stage_index,
        note=note,
        customer_note=customer_note,
        photo=photo,
        paid=paid,
        payment=payment,
        command_id=change.command,
        before=before.snapshot,
        stock_effect=effect,
        tracking=dict(tracking) if tracking else None,
    )
    batch = change.batch or Batch(session)
    batch.add(order, event, change.due_at)
    if change.batch is None:
        await batch.write()
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
    "paid_amount",
    "payment_state",
    "shipping_fee",
    "discount",
)


def snapshot_of(order: Order) -> dict[str, Any]:
    """The order fields a change may touch, as JSON: what undo puts back."""
    out: dict[str, Any] = {}
    for name in SNAPSHOT_FIELDS:
        value = getattr(order, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        out[name] = value
    return out


def restore_snapshot(order: Order, snapshot: dict[str, Any]) -> None:
    """Put back the fields saved by snapshot_of."""
    for name in SNAPSHOT_FIELDS:
        value = snapshot[name]
        if name in ("phase", "held_phase") and value is not None:
            value = Phase(value)
        elif name == "payment_state":
            value = PaymentState(value)
        elif name in ("paid_amount", "shipping_fee", "discount"):
            value = Decimal(value)
        elif name in ("awaiting_since", "phase_entered_at", "estimated_ready_at") and value:
            value = datetime.fromisoformat(value)
        setattr(order, name, value)
