"""Orders, their lines and their append-only phase history."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.catalog import MONEY, Product
from models.enums import Fulfillment, PaymentState, Phase
from models.flows import Position
from models.people import Customer, Reseller
from models.stages import Stage, stages_from_json

# Order codes and SKUs: what a seller writes on an invoice, and never a comma (bulk separator).
CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9._/-]{0,63}")


def clean_code(raw: str) -> str | None:
    """Return an order code or SKU in its stored (upper-case) form, or None if it cannot be one."""
    code = raw.strip().upper()
    return code if CODE_PATTERN.fullmatch(code) else None


_SEPARATORS = re.compile(r"[._/-]")
_LETTERS_DIGITS = re.compile(r"(?<=[A-Z])(?=[0-9])|(?<=[0-9])(?=[A-Z])")


def other_forms(code: str) -> list[str]:
    """Other ways a clean order code may be stored: `INV1001` for `INV-1001`, and back.

    People type codes without the dash (or with one where the invoice has none); a code as
    typed is looked up first, these only when it finds nothing.
    """
    bare = _SEPARATORS.sub("", code)
    dashed = _LETTERS_DIGITS.sub("-", bare)
    return [form for form in dict.fromkeys((bare, dashed)) if form and form != code]


class Order(Base):
    """A customer's order: where it stands, how it is fulfilled, who sold it."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_phase_stage", "phase", "stage_index"),
        Index("ix_orders_awaiting", "awaiting_since", "id"),
        # The reminder jobs look for unpaid orders by age.
        Index("ix_orders_payment_placed", "payment_state", "placed_at"),
        # Staff's "pesanan hari ini?" and the sales of a period: the orders placed since then.
        Index("ix_orders_placed", "placed_at", "id"),
        # A unique code names one open bill: no two orders waiting for money share one.
        Index(
            "uq_orders_open_unique_code",
            "unique_code",
            unique=True,
            sqlite_where=text("payment_state IN ('unpaid', 'proof_sent', 'partly_paid')"),
            postgresql_where=text("payment_state IN ('unpaid', 'proof_sent', 'partly_paid')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    # Set for dropship orders: the reseller whose brand the end customer sees.
    reseller_id: Mapped[int | None] = mapped_column(ForeignKey("resellers.id"), index=True)
    fulfillment: Mapped[Fulfillment] = mapped_column(str_enum(Fulfillment))
    phase: Mapped[Phase] = mapped_column(str_enum(Phase))
    # 0-based index into stage_plan while in production.
    stage_index: Mapped[int | None] = mapped_column(Integer)
    # Snapshot of the production stages at order time, so later product edits don't move it.
    stage_plan: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    held_phase: Mapped[Phase | None] = mapped_column(str_enum(Phase))
    held_stage_index: Mapped[int | None] = mapped_column(Integer)
    stock_reserved: Mapped[bool] = mapped_column(Boolean, default=False)
    courier: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    link_code: Mapped[str] = mapped_column(String(64), unique=True)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    phase_entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    awaiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    estimated_ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Money (models/payments.py): the lines at their agreed prices, what staff add or take off,
    # what came in; the payment's own state, apart from the phase.
    subtotal: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    shipping_fee: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    discount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    paid_amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    # A few rupiah added to the amount due so a transfer names its order ([payment] unique_code).
    unique_code: Mapped[int | None] = mapped_column(Integer)
    payment_state: Mapped[PaymentState] = mapped_column(
        str_enum(PaymentState), default=PaymentState.UNPAID
    )
    # Where it goes: the customer, or on a dropship order the reseller's customer.
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    recipient_phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(Text)

    customer: Mapped[Customer] = relationship(lazy="raise")
    reseller: Mapped[Reseller | None] = relationship(lazy="raise")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", lazy="raise", cascade="all, delete-orphan", order_by="OrderLine.id"
    )

    @property
    def plan(self) -> tuple[Stage, ...]:
        """The production stages this order goes through (empty for ready stock)."""
        return stages_from_json(self.stage_plan)

    @property
    def position(self) -> Position:
        """Phase and production stage together."""
        return Position(self.phase, self.stage_index)

    @property
    def stage_name(self) -> str | None:
        """The current production stage's name, if in production."""
        if self.stage_index is None:
            return None
        return self.plan[self.stage_index].name


class OrderLine(Base):
    """So many units of one product in an order, at the price agreed."""

    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "product_id"),
        CheckConstraint("qty > 0", name="qty_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    qty: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    # Taken from warehouse stock (ready stock) rather than produced: snapshot at order time.
    from_stock: Mapped[bool] = mapped_column(Boolean)

    order: Mapped[Order] = relationship(back_populates="lines", lazy="raise")
    product: Mapped[Product] = relationship(lazy="raise")


class PhaseEvent(Base):
    """One change of an order's phase or stage: who, when, from, to, why. Never updated."""

    __tablename__ = "phase_events"
    # Undo looks for a staff member's changes of the last few seconds among millions.
    __table_args__ = (Index("ix_phase_events_staff_at", "staff_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(16))  # staff, system, import, tracker
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    from_phase: Mapped[Phase | None] = mapped_column(str_enum(Phase))
    from_stage: Mapped[int | None] = mapped_column(Integer)
    to_phase: Mapped[Phase] = mapped_column(str_enum(Phase))
    to_stage: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)  # for the shop's eyes only
    # Money this change recorded (a payment, a down payment); None for other changes. With
    # `payment`, the news about money it is told as: paid, partly_paid, rejected.
    paid: Mapped[Decimal | None] = mapped_column(MONEY)
    payment: Mapped[str | None] = mapped_column(String(16))
    # What the staff member wrote for the customer (after `--ke-pelanggan`): pushed and shown.
    customer_note: Mapped[str | None] = mapped_column(Text)
    photo: Mapped[str | None] = mapped_column(String(255))  # a channel's file reference
    # The events of one staff command share this id; /undo reverts them together.
    command_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # The order's fields before the change, and what it did to stock: enough to undo it.
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    stock_effect: Mapped[str | None] = mapped_column(String(16))  # consumed, released
    # A courier milestone the tracker recorded (models.outbox.TrackingNews): told as such.
    tracking: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    undoes_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("phase_events.id", ondelete="SET NULL"), index=True
    )
