"""Products, their stock and production stages, and back-in-stock subscriptions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.enums import Fulfillment
from models.stages import Stage, stages_from_json

MONEY = Numeric(14, 2)


class Product(Base):
    """One sellable item: a SKU with its variant, prices, stock and fulfilment mode."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    variant: Mapped[str] = mapped_column(String(200), default="")
    price: Mapped[Decimal] = mapped_column(MONEY)
    reseller_price: Mapped[Decimal | None] = mapped_column(MONEY)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    fulfillment: Mapped[Fulfillment] = mapped_column(str_enum(Fulfillment))
    # [{"name": "jahit", "minutes": 2880}, ...]: the production plan of made-to-order products.
    stages_json: Mapped[list[dict[str, Any]]] = mapped_column("stages", JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Indexed: the search index cache asks for the newest change on every stock question.
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, index=True
    )

    @property
    def available(self) -> int:
        """Units that can still be promised to a new order."""
        return self.on_hand - self.reserved

    @property
    def orderable_now(self) -> bool:
        """Whether an order for it would go ahead now: made to order, or units available."""
        return self.fulfillment is Fulfillment.MADE_TO_ORDER or self.available > 0

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The production stages, in order."""
        return stages_from_json(self.stages_json)

    @property
    def label(self) -> str:
        """Name and variant, as a person reads them."""
        return f"{self.name} {self.variant}".strip()


class StockSubscription(Base):
    """A chat that asked to be told when a product is back in stock."""

    __tablename__ = "stock_subscriptions"
    __table_args__ = (UniqueConstraint("chat_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def unit_price(product: Product, *, dropship: bool) -> Decimal:
    """The price a line is sold at: the reseller's price for dropship when there is one."""
    return line_price(product.price, product.reseller_price, dropship=dropship)


def line_price(price: Decimal, reseller_price: Decimal | None, *, dropship: bool) -> Decimal:
    """`unit_price` from a product's two prices."""
    if dropship and reseller_price is not None:
        return reseller_price
    return price
