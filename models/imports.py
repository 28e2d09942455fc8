"""CSV import of products and orders: check every row first, then write all or nothing.

Re-importing the same file changes nothing (upsert by SKU and by order code). This module is
what callers use; the file's rows live in `models.import_rows`, the orders' checks in
`models.order_import`, and placing them in `models.placing`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.bulk import among, insert_rows
from models.catalog import Product, StockSubscription
from models.enums import Fulfillment, Phase
from models.errors import InvalidStageSpec
from models.import_rows import (
    CHUNK,
    ImportRejected,
    ImportResult,
    Progress,
    Row,
    RowError,
    Rows,
    check_code,
    check_count,
    check_money,
    check_text,
    read_csv,
    table_of,
)
from models.inventory import set_stock
from models.order_import import import_orders
from models.orders import Order, OrderLine
from models.stages import parse_stages, stages_to_json

__all__ = [
    "ORDER_COLUMNS",
    "PRODUCT_COLUMNS",
    "ImportRejected",
    "ImportResult",
    "Progress",
    "Row",
    "RowError",
    "import_orders",
    "import_products",
    "read_csv",
]

PRODUCT_COLUMNS = (
    "sku",
    "name",
    "variant",
    "price",
    "reseller_price",
    "stock",
    "fulfillment",
    "stages",
)
ORDER_COLUMNS = ("code", "customer_name", "customer_phone", "sku", "qty", "reseller", "language")

# ---------------------------------------------------------------------------------- products


@dataclass(frozen=True)
class _ProductRow:
    line: int
    sku: str
    values: dict[str, Any]
    stock: int


def _check_product(line: int, row: dict[str, str]) -> _ProductRow:
    check_text(row)
    sku = check_code(row["sku"], "sku")
    if not row["name"]:
        raise ValueError("name: required")
    if len(row["name"]) > 200 or len(row["variant"]) > 200:
        raise ValueError("name and variant: at most 200 characters")
    try:
        fulfillment = Fulfillment(row["fulfillment"].lower() or "ready_stock")
    except ValueError:
        raise ValueError(
            f"fulfillment: expected ready_stock or made_to_order, got {row['fulfillment']!r}"
        ) from None
    try:
        stages = parse_stages(row["stages"])
    except InvalidStageSpec as exc:
        raise ValueError(f"stages: {exc}") from None
    if fulfillment is Fulfillment.MADE_TO_ORDER and not stages:
        raise ValueError("stages: made_to_order products need stages, like potong:1d;jahit:2d")
    if fulfillment is Fulfillment.READY_STOCK and stages:
        raise ValueError("stages: only made_to_order products have stages")
    stock = check_count(row["stock"], "stock", minimum=0, default=0)
    if fulfillment is Fulfillment.MADE_TO_ORDER and stock:
        raise ValueError("stock: made_to_order products keep no stock; leave it empty or 0")
    values = {
        "sku": sku,
        "name": row["name"],
        "variant": row["variant"],
        "price": check_money(row["price"], "price"),
        "reseller_price": check_money(row["reseller_price"], "reseller_price", optional=True),
        "fulfillment": fulfillment,
        "stages_json": stages_to_json(stages),
    }
    return _ProductRow(line, sku, values, stock)


async def import_products(
    session: AsyncSession,
    rows: Rows,
    *,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ImportResult:
    """Upsert products by SKU; stock changes serve waiting orders like a restock."""
    now = now or utcnow()
    errors: list[RowError] = []
    checked: list[_ProductRow] = []
    seen: dict[str, int] = {}
    for done, (line, row) in enumerate(rows, start=1):
        try:
            item = _check_product(line, row)
            if item.sku in seen:
                raise ValueError(f"sku {item.sku} is already on line {seen[item.sku]}")
            seen[item.sku] = line
            checked.append(item)
        except ValueError as exc:
            errors.append(RowError(line, str(exc)))
        if progress and done % CHUNK == 0:
            progress("checking", done, len(rows))
    skus = [c.sku for c in checked]
    existing = {
        p.sku: p
        for p in await session.scalars(
            select(Product).where(among(Product.sku, skus, session.get_bind().dialect))
        )
    }
    for item in checked:
        old = existing.get(item.sku)
        if old is not None and item.stock < old.reserved:
            errors.append(
                RowError(
                    item.line,
                    f"stock: {item.stock} is below the {old.reserved} units reserved by orders",
                )
            )
        if old is not None and old.reserved and item.values["fulfillment"] != old.fulfillment:
            errors.append(RowError(item.line, "fulfillment: orders hold stock of this product"))
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.line))

    result = ImportResult(rows=len(rows))
    new: list[_ProductRow] = []
    restock: list[tuple[Product, int]] = []
    for done, item in enumerate(checked, start=1):
        old = existing.get(item.sku)
        if old is None:
            new.append(item)
            result.created += 1
        else:
            changed = {k: v for k, v in item.values.items() if getattr(old, k) != v}
            for key, value in changed.items():
                setattr(old, key, value)
            if item.stock != old.on_hand:
                restock.append((old, item.stock))
            if changed or item.stock != old.on_hand:
                result.updated += 1
            else:
                result.unchanged += 1
        if progress and done % CHUNK == 0:
            progress("writing", done, len(checked))
    await _insert_products(session, new)
    restock = await _set_quiet_stock(session, restock)
    await session.flush()
    for product, amount in restock:
        change = await set_stock(session, product.sku, amount, now=now)
        if change.filled:
            result.notes.append(f"{product.sku}: {len(change.filled)} waiting order(s) now placed")
    if progress:
        progress("writing", len(checked), len(checked))
    return result


async def _insert_products(session: AsyncSession, new: Sequence[_ProductRow]) -> None:
    """Insert new products in bulk, with no stock reserved."""
    columns = (
        "sku",
        "name",
        "variant",
        "price",
        "reseller_price",
        "fulfillment",
        "stages",  # the column behind Product.stages_json
        "on_hand",
        "reserved",
        "created_at",
        "updated_at",
    )
    created = utcnow()
    rows: list[tuple[Any, ...]] = []
    for item in new:
        v = item.values
        rows.append(
            (
                v["sku"],
                v["name"],
                v["variant"],
                v["price"],
                v["reseller_price"],
                v["fulfillment"],
                v["stages_json"],
                item.stock,
                0,
                created,
                created,
            )
        )
    await insert_rows(session, table_of(Product), columns, rows)


async def _set_quiet_stock(
    session: AsyncSession, restock: Sequence[tuple[Product, int]]
) -> list[tuple[Product, int]]:
    """Set the stock of products nobody waits for or watches; return the others.

    For such a product `set_stock` would only set the number, one product at a time; the
    rest need it to serve waiting orders and tell back-in-stock subscribers.
    """
    if not restock:
        return []
    dialect = session.get_bind().dialect
    ids = [product.id for product, _ in restock]
    watched = set(
        await session.scalars(
            select(OrderLine.product_id)
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.phase == Phase.AWAITING_STOCK, among(OrderLine.product_id, ids, dialect))
            .distinct()
        )
    )
    watched.update(
        await session.scalars(
            select(StockSubscription.product_id)
            .where(
                StockSubscription.notified_at.is_(None),
                among(StockSubscription.product_id, ids, dialect),
            )
            .distinct()
        )
    )
    others: list[tuple[Product, int]] = []
    for product, amount in restock:
        if product.id in watched or product.fulfillment is not Fulfillment.READY_STOCK:
            others.append((product, amount))
        else:
            product.on_hand = amount  # written by the next flush, with the other changes
    return others
