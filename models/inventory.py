"""Restocking: set or add stock, serve waiting orders, then tell back-in-stock subscribers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, distinct, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.catalog import Product, StockSubscription
from models.enums import Fulfillment
from models.errors import NotFound, StockError
from models.flows import FINAL
from models.lifecycle import fill_awaiting
from models.linking import known_as, sees_order
from models.orders import Order, OrderLine, clean_code
from models.outbox import BackInStock, Outgoing, enqueue
from models.people import Chat


@dataclass(frozen=True)
class StockChange:
    """What a stock change did."""

    product: Product
    before: int
    filled: list[Order]
    subscribers_told: int


async def set_stock(
    session: AsyncSession,
    sku: str,
    amount: int,
    *,
    add: bool = False,
    now: datetime | None = None,
) -> StockChange:
    """Set (or with `add`, raise) a product's stock on hand and serve whoever waits for it."""
    now = now or utcnow()
    product = await session.scalar(
        select(Product)
        .where(Product.sku == (clean_code(sku) or ""))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if product is None:
        raise NotFound(f"product {sku} not found")
    if product.fulfillment is not Fulfillment.READY_STOCK:
        raise StockError(f"{product.sku} is made to order; it has no warehouse stock")
    before = product.on_hand
    target = before + amount if add else amount
    if target < 0:
        raise StockError(f"{product.sku}: stock cannot be negative (now {before})")
    if target < product.reserved:
        raise StockError(
            f"{product.sku}: {product.reserved} units are reserved by orders; "
            f"stock cannot go below that"
        )
    was_available = product.available
    product.on_hand = target
    await session.flush()
    filled = await fill_awaiting(session, product.id, now=now)
    await session.refresh(product)
    told = 0
    if was_available <= 0 < product.available:
        told = await _tell_subscribers(session, product, now)
    return StockChange(product, before, filled, told)


async def _tell_subscribers(session: AsyncSession, product: Product, now: datetime) -> int:
    """Queue one back-in-stock message per waiting subscription, and mark each told.

    A chat whose customer has this product on an open order hears of that order instead
    (just filled, or still first in line): "back in stock, order now" would mislead them.
    """
    has_it_on_order = (
        select(Order.id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(
            OrderLine.product_id == product.id,
            Order.phase.not_in(FINAL),
            sees_order(StockSubscription.chat_id),
        )
        .exists()
    )
    # A reseller orders by their own command, a reseller's customer from the reseller: neither
    # is offered to order it from the shop in the chat.
    buys_elsewhere = (Chat.reseller_id.is_not(None)) | known_as(Chat.id).is_not(None)
    rows = await session.execute(
        select(StockSubscription, has_it_on_order, buys_elsewhere)
        .join(Chat, Chat.id == StockSubscription.chat_id)
        .where(
            StockSubscription.product_id == product.id,
            StockSubscription.notified_at.is_(None),
        )
    )
    news: BackInStock = {
        "sku": product.sku,
        "name": product.name,
        "variant": product.variant,
        "available": product.available,
    }
    told: list[Outgoing] = []
    for sub, ordered, elsewhere in rows:
        sub.notified_at = now  # told now, or by their order's own news
        if not ordered:
            key = f"stock:{product.id}:sub:{sub.id}:{now.isoformat()}"
            said: BackInStock = {**news, "may_order": not elsewhere}
            told.append(Outgoing.back_in_stock(sub.chat_id, said, key=key, due_at=now))
    await enqueue(session, told)
    return len(told)


async def product_exists(session: AsyncSession, sku: str) -> bool:
    """Whether a product has this SKU."""
    clean = clean_code(sku)
    if clean is None:
        return False
    return await session.scalar(select(Product.id).where(Product.sku == clean)) is not None


async def subscribe(session: AsyncSession, chat_id: int, sku: str) -> Product | None:
    """Ask for a back-in-stock message for a product; return it, or None for an unknown SKU.

    A product that can be ordered now needs no waiting: nothing is noted for it. A chat told
    before is told again the next time it comes back.
    """
    product = await session.scalar(select(Product).where(Product.sku == (clean_code(sku) or "")))
    if product is None or product.orderable_now:
        return product
    sub = await session.scalar(
        select(StockSubscription).where(
            StockSubscription.chat_id == chat_id, StockSubscription.product_id == product.id
        )
    )
    if sub is None:
        session.add(StockSubscription(chat_id=chat_id, product_id=product.id))
    else:
        sub.notified_at = None
    return product


@dataclass(frozen=True, slots=True)
class Kind:
    """One product name of the catalogue with what its variants have in common."""

    name: str
    variants: int
    lowest: Decimal  # the lowest price of its variants
    highest: Decimal
    lowest_for_resellers: Decimal  # a variant without a reseller price counts at its price
    orderable: bool  # some variant can be ordered now (made to order, or in stock)
    made_to_order: bool  # every variant is made to order


async def catalogue(session: AsyncSession, limit: int) -> tuple[list[Kind], int]:
    """The catalogue by product name, alphabetical: the first `limit` names, and how many
    names there are in all (one statement each; a shop's catalogue is thousands of rows)."""
    made = Product.fulfillment == Fulfillment.MADE_TO_ORDER
    orderable = or_(made, Product.on_hand > Product.reserved)
    rows = await session.execute(
        select(
            Product.name,
            func.count(),
            func.min(Product.price),
            func.max(Product.price),
            func.min(func.coalesce(Product.reseller_price, Product.price)),
            func.max(case((orderable, 1), else_=0)),
            func.min(case((made, 1), else_=0)),
        )
        .group_by(Product.name)
        .order_by(Product.name)
        .limit(limit)
    )
    kinds = [
        Kind(name, count, Decimal(low), Decimal(high), Decimal(resold), bool(can), bool(made_all))
        for name, count, low, high, resold, can, made_all in rows
    ]
    total = await session.scalar(select(func.count(distinct(Product.name))))
    return kinds, int(total or 0)


async def running_low(session: AsyncSession, at_most: int, limit: int) -> tuple[int, list[Product]]:
    """How many ready-stock products have at most `at_most` units to promise, and the first
    `limit` of them, fewest first (then by SKU)."""
    available = Product.on_hand - Product.reserved
    low = (Product.fulfillment == Fulfillment.READY_STOCK, available <= at_most)
    count = await session.scalar(select(func.count()).select_from(Product).where(*low))
    rows = await session.scalars(
        select(Product).where(*low).order_by(available, Product.sku).limit(limit)
    )
    return int(count or 0), list(rows)
