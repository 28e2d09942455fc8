"""Money on an order, and its payment's life apart from the fulfilment phase.

    unpaid ──proof──▶ proof_sent ──/bayar (all)──▶ paid
      │   ▲              │   └──/tolak──▶ unpaid (or partly_paid)
      │   └──────────────┘
      └──/bayar (part)──▶ partly_paid ──/bayar (the rest)──▶ paid

Production may start on a down payment or on trust; packing and shipping wait for the money
unless `[payment] ship_before_paid` lets a flow go first. A payment may be recorded in any
phase before delivered. Every payment, proof and refusal is a row of the ledger here, never
changed afterwards; an undone payment is a row of its own that takes it back.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.audience import Audience, Owned
from models.base import Base, UTCDateTime, str_enum, utcnow
from models.catalog import MONEY
from models.change import Change, Policy
from models.enums import OPEN_BILLS, PaymentState, Phase
from models.errors import InvalidTransition
from models.orders import Order

UNIQUE_CODES = range(1, 1000)  # rupiah added to a bill so a transfer names its order
MUST_BE_PAID = frozenset({Phase.PACKED, Phase.SHIPPED, Phase.DELIVERED})


class PaymentEvent(Base):
    """One thing that happened to an order's money: a payment, a proof, a refusal. Never updated."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(16))  # staff, system, customer
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))  # payment, proof, rejected, undo
    amount: Mapped[Decimal | None] = mapped_column(MONEY)
    from_state: Mapped[PaymentState] = mapped_column(str_enum(PaymentState))
    to_state: Mapped[PaymentState] = mapped_column(str_enum(PaymentState))
    note: Mapped[str | None] = mapped_column(Text)
    proof: Mapped[str | None] = mapped_column(String(1000))  # a photo or file of the transfer
    command_id: Mapped[str | None] = mapped_column(String(32), index=True)
    chat_id: Mapped[int | None] = mapped_column(Integer)  # where a proof came from


@dataclass(frozen=True)
class Bill:
    """What an order costs and what is left to pay."""

    subtotal: Decimal  # the lines at their agreed prices
    shipping: Decimal
    discount: Decimal
    unique_code: int  # 0 when none
    paid: Decimal

    @property
    def total(self) -> Decimal:
        """Lines, plus shipping, less the discount, plus the unique code."""
        return self.subtotal + self.shipping - self.discount + self.unique_code

    @property
    def due(self) -> Decimal:
        """What is left to pay (never below zero)."""
        return max(self.total - self.paid, Decimal(0))


def bill_of(order: Order) -> Bill:
    """The order's bill as it stands."""
    return Bill(
        order.subtotal,
        order.shipping_fee,
        order.discount,
        order.unique_code or 0,
        order.paid_amount,
    )


def flow_of(order: Order) -> str:
    """The flow a payment rule names: dropship for reseller orders, else the fulfilment."""
    return "dropship" if order.reseller_id is not None else order.fulfillment.value


def check_paid_for(order: Order, target: Phase, policy: Policy | None) -> None:
    """Refuse packing or shipping an order not paid in full, unless its flow may go first."""
    if policy is None or target not in MUST_BE_PAID:
        return
    if order.payment_state is PaymentState.PAID or flow_of(order) in policy.ship_unpaid:
        return
    raise InvalidTransition(
        order.code, order.phase.value, target.value, "it is not paid in full yet", "unpaid"
    )


def bill_is_theirs(order: Owned, audience: Audience) -> bool:
    """Whether the order's bill is settled with the shop by this side of it: a direct order's
    customer, a dropship order's reseller.

    A dropship order's customer pays the reseller the reseller's own price: the shop's price
    to the reseller, what the reseller paid and what they still owe are never theirs to see.
    """
    return audience == ("reseller" if order.reseller_id is not None else "customer")


def check_payable(order: Order) -> None:
    """Refuse money for an order that is delivered or cancelled."""
    if order.phase in (Phase.DELIVERED, Phase.CANCELLED):
        raise InvalidTransition(
            order.code, order.phase.value, "paid", f"the order is {order.phase.value}", "final"
        )


def settle(order: Order, amount: Decimal) -> PaymentState:
    """Add a payment to the order; return the state it leaves the payment in."""
    order.paid_amount = order.paid_amount + amount
    bill = bill_of(order)
    order.payment_state = (
        PaymentState.PAID if bill.due <= 0 and bill.paid > 0 else PaymentState.PARTLY_PAID
    )
    return order.payment_state


def unsettled(order: Order) -> PaymentState:
    """The state an order's payment falls back to when a proof is refused."""
    return PaymentState.PARTLY_PAID if order.paid_amount > 0 else PaymentState.UNPAID


def ledger(
    order: Order,
    change: Change,
    kind: str,
    before: PaymentState,
    *,
    amount: Decimal | None = None,
    note: str | None = None,
    proof: str | None = None,
    chat_id: int | None = None,
    actor: str | None = None,
) -> PaymentEvent:
    """The ledger row of something that happened to an order's money."""
    return PaymentEvent(
        order_id=order.id,
        at=change.now,
        actor=actor or change.actor.kind,
        staff_id=change.actor.staff_id,
        kind=kind,
        amount=amount,
        from_state=before,
        to_state=order.payment_state,
        note=note,
        proof=proof,
        command_id=change.command,
        chat_id=chat_id,
    )


async def assign_unique_code(
    session: AsyncSession, order: Order, rng: random.Random | None = None
) -> int:
    """Give an unpaid order its unique code, one no other open bill has; return it.

    With every code taken (999 open bills), the order keeps none: its amount alone names it.
    """
    if order.unique_code is not None or order.payment_state not in OPEN_BILLS:
        return order.unique_code or 0
    taken = set(
        await session.scalars(
            select(Order.unique_code).where(
                Order.payment_state.in_(OPEN_BILLS), Order.unique_code.is_not(None)
            )
        )
    )
    free = [code for code in UNIQUE_CODES if code not in taken]
    if not free:
        return 0
    order.unique_code = (rng or random.SystemRandom()).choice(free)
    await session.flush()  # the partial unique index refuses a code another writer just took
    return order.unique_code


async def unpaid_orders(session: AsyncSession, order_ids: Iterable[int]) -> list[Order]:
    """Those of these orders that still wait for money, newest first."""
    ids = sorted(set(order_ids))
    if not ids:
        return []
    return list(
        await session.scalars(
            select(Order)
            .where(
                Order.id.in_(ids),
                Order.payment_state.in_(OPEN_BILLS),
                Order.phase.not_in((Phase.DELIVERED, Phase.CANCELLED)),
            )
            .order_by(Order.placed_at.desc(), Order.id.desc())
        )
    )


async def last_proof(session: AsyncSession, order_id: int) -> PaymentEvent | None:
    """The latest transfer proof of an order."""
    return await session.scalar(
        select(PaymentEvent)
        .where(PaymentEvent.order_id == order_id, PaymentEvent.kind == "proof")
        .order_by(PaymentEvent.id.desc())
        .limit(1)
    )


async def waiting_claim(session: AsyncSession, order_id: int) -> PaymentEvent | None:
    """The customer's proof or claim that staff have not answered yet, when it is the order's
    latest money event (no payment, refusal or undo since); None otherwise."""
    latest = await session.scalar(
        select(PaymentEvent)
        .where(PaymentEvent.order_id == order_id)
        .order_by(PaymentEvent.id.desc())
        .limit(1)
    )
    return latest if latest is not None and latest.kind == "proof" else None


async def claim_waits(session: AsyncSession, order_id: int) -> bool:
    """Whether a customer's proof or claim of the order waits for staff (waiting_claim)."""
    return await waiting_claim(session, order_id) is not None
