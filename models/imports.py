"""CSV import of products and orders: check every row first, then write all or nothing.

Re-importing the same file changes nothing (upsert by SKU and by order code).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.catalog import Product
from models.enums import Fulfillment, Language, NotificationKind, Phase
from models.errors import DomainError, InvalidPhone, InvalidStageSpec
from models.inventory import set_stock
from models.lifecycle import IMPORT, order_update_payload, unit_price
from models.linking import new_link_code
from models.orders import Order, OrderLine, PhaseEvent, clean_code
from models.outbox import enqueue, order_update_key
from models.people import Chat, ChatLink, Customer, Reseller
from models.phones import normalize_phone
from models.stages import estimate_ready_at, parse_stages, stages_to_json

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
CHUNK = 500  # keeps IN (...) lists and batches well inside every driver's limits

Progress = Callable[[str, int, int], None]  # (stage, done, total)
T = TypeVar("T")


@dataclass(frozen=True)
class RowError:
    """What is wrong with one line of the file."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportRejected(DomainError):
    """The file has bad rows; nothing was written."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = list(errors)
        super().__init__(f"{len(self.errors)} bad row(s); nothing was imported")


@dataclass
class ImportResult:
    """What an import did."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    awaiting_stock: int = 0
    notes: list[str] = field(default_factory=list)


Row = tuple[int, dict[str, str]]  # (line number, column -> stripped value)


def read_csv(path: Path, columns: Sequence[str]) -> list[Row]:
    """Read a UTF-8 CSV with a header row; extra columns are ignored, missing ones refused."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [name.strip().lower() for name in next(reader, [])]
            missing = [c for c in columns if c not in header]
            if missing:
                raise ImportRejected([RowError(1, f"missing column(s): {', '.join(missing)}")])
            where = {c: header.index(c) for c in columns}
            rows: list[Row] = []
            line = reader.line_num + 1
            for record in reader:
                if any(cell.strip() for cell in record):
                    rows.append(
                        (
                            line,
                            {
                                c: record[i].strip() if i < len(record) else ""
                                for c, i in where.items()
                            },
                        )
                    )
                line = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise ImportRejected([RowError(0, f"the file is not UTF-8 text ({exc.reason})")]) from exc
    except csv.Error as exc:
        raise ImportRejected([RowError(reader.line_num, f"unreadable CSV: {exc}")]) from exc
    return rows


def _table(model: type[Any]) -> Table:
    """The Core table of a model: bulk inserts skip the ORM's per-row bookkeeping."""
    return cast(Table, model.__table__)


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _code(value: str, what: str) -> str:
    code = clean_code(value)
    if code is None:
        raise ValueError(f"{what}: expected letters, digits and . _ / - (max 64), got {value!r}")
    return code


def _money(value: str, what: str, *, optional: bool = False) -> Decimal | None:
    if not value and optional:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{what}: expected a number like 350000, got {value!r}") from None
    if not amount.is_finite() or amount < 0 or amount != round(amount, 2):
        raise ValueError(f"{what}: expected a number like 350000, got {value!r}")
    return amount


def _count(value: str, what: str, *, minimum: int, default: int | None = None) -> int:
    if not value and default is not None:
        return default
    if not re.fullmatch(r"\d{1,9}", value) or int(value) < minimum:
        raise ValueError(f"{what}: expected a whole number >= {minimum}, got {value!r}")
    return int(value)


# ---------------------------------------------------------------------------------- products


@dataclass(frozen=True)
class _ProductRow:
    line: int
    sku: str
    values: dict[str, Any]
    stock: int


def _check_product(line: int, row: dict[str, str]) -> _ProductRow:
    sku = _code(row["sku"], "sku")
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
    stock = _count(row["stock"], "stock", minimum=0, default=0)
    if fulfillment is Fulfillment.MADE_TO_ORDER and stock:
        raise ValueError("stock: made_to_order products keep no stock; leave it empty or 0")
    values = {
        "sku": sku,
        "name": row["name"],
        "variant": row["variant"],
        "price": _money(row["price"], "price"),
        "reseller_price": _money(row["reseller_price"], "reseller_price", optional=True),
        "fulfillment": fulfillment,
        "stages_json": stages_to_json(stages),
    }
    return _ProductRow(line, sku, values, stock)


async def import_products(
    session: AsyncSession,
    rows: Sequence[Row],
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
    existing: dict[str, Product] = {}
    for skus in _chunks([c.sku for c in checked]):
        for product in await session.scalars(select(Product).where(Product.sku.in_(skus))):
            existing[product.sku] = product
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
    restock: list[tuple[str, int]] = []
    for done, item in enumerate(checked, start=1):
        old = existing.get(item.sku)
        if old is None:
            session.add(Product(**item.values, on_hand=item.stock, reserved=0))
            result.created += 1
        else:
            changed = {k: v for k, v in item.values.items() if getattr(old, k) != v}
            for key, value in changed.items():
                setattr(old, key, value)
            if item.stock != old.on_hand:
                restock.append((item.sku, item.stock))
            if changed or item.stock != old.on_hand:
                result.updated += 1
            else:
                result.unchanged += 1
        if progress and done % CHUNK == 0:
            progress("writing", done, len(checked))
    await session.flush()
    for sku, amount in restock:
        change = await set_stock(session, sku, amount, now=now)
        if change.filled:
            result.notes.append(f"{sku}: {len(change.filled)} waiting order(s) now placed")
    if progress:
        progress("writing", len(checked), len(checked))
    return result


# ------------------------------------------------------------------------------------ orders


@dataclass
class _OrderDraft:
    line: int
    code: str
    customer_name: str
    phone: str
    reseller: str
    language: Language | None
    lines: dict[str, int] = field(default_factory=dict)  # sku -> qty


def _check_order_row(row: dict[str, str]) -> tuple[str, str, str, str, int, str, Language | None]:
    code = _code(row["code"], "code")
    if not row["customer_name"]:
        raise ValueError("customer_name: required")
    try:
        phone = normalize_phone(row["customer_phone"])
    except InvalidPhone:
        raise ValueError(
            f"customer_phone: {row['customer_phone']!r} is not a phone number"
        ) from None
    sku = _code(row["sku"], "sku")
    qty = _count(row["qty"], "qty", minimum=1)
    reseller = _code(row["reseller"], "reseller") if row["reseller"] else ""
    try:
        language = Language(row["language"].lower()) if row["language"] else None
    except ValueError:
        raise ValueError(f"language: expected id or en, got {row['language']!r}") from None
    return code, row["customer_name"], phone, sku, qty, reseller, language


async def import_orders(
    session: AsyncSession,
    rows: Sequence[Row],
    *,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ImportResult:
    """Create the orders of the file (one row per line, rows grouped by code)."""
    now = now or utcnow()
    errors: list[RowError] = []
    drafts: dict[str, _OrderDraft] = {}
    for done, (line, row) in enumerate(rows, start=1):
        try:
            code, name, phone, sku, qty, reseller, language = _check_order_row(row)
        except ValueError as exc:
            errors.append(RowError(line, str(exc)))
            continue
        draft = drafts.get(code)
        if draft is None:
            drafts[code] = _OrderDraft(line, code, name, phone, reseller, language, {sku: qty})
        elif (draft.customer_name, draft.phone, draft.reseller, draft.language) != (
            name,
            phone,
            reseller,
            language,
        ):
            errors.append(
                RowError(
                    line,
                    f"order {code}: customer, reseller or language differ from line {draft.line}",
                )
            )
        else:
            draft.lines[sku] = draft.lines.get(sku, 0) + qty
        if progress and done % CHUNK == 0:
            progress("checking", done, len(rows))

    skus = sorted({sku for d in drafts.values() for sku in d.lines})
    products: dict[str, Product] = {}
    for part in _chunks(skus):
        for product in await session.scalars(select(Product).where(Product.sku.in_(part))):
            products[product.sku] = product
    resellers = {r.code: r for r in await session.scalars(select(Reseller))}
    existing = await _existing_orders(session, list(drafts))
    customers: dict[str, Customer] = {}
    for part in _chunks(sorted({d.phone for d in drafts.values()})):
        for person in await session.scalars(select(Customer).where(Customer.phone.in_(part))):
            customers[person.phone] = person

    fresh: list[_OrderDraft] = []
    result = ImportResult(rows=len(rows))
    for draft in drafts.values():
        missing = [sku for sku in draft.lines if sku not in products]
        if missing:
            errors.append(RowError(draft.line, f"sku: no product {', '.join(missing)}"))
        if draft.reseller and draft.reseller not in resellers:
            errors.append(RowError(draft.line, f"reseller: no reseller {draft.reseller}"))
        before = existing.get(draft.code)
        if before is None:
            fresh.append(draft)
        elif before != (draft.phone, draft.reseller or None, draft.lines):
            errors.append(
                RowError(
                    draft.line,
                    f"order {draft.code} already exists with another customer, reseller or lines",
                )
            )
        else:
            result.unchanged += 1
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.line))

    await _upsert_customers(session, drafts.values(), customers)
    await _create_orders(session, fresh, products, resellers, customers, now, result, progress)
    return result


async def _existing_orders(
    session: AsyncSession, codes: Sequence[str]
) -> dict[str, tuple[str, str | None, dict[str, int]]]:
    """For codes already in the database: (phone, reseller code, sku -> qty)."""
    found: dict[str, tuple[str, str | None, dict[str, int]]] = {}
    for part in _chunks(codes):
        rows = await session.execute(
            select(Order.code, Customer.phone, Reseller.code, Product.sku, OrderLine.qty)
            .join(Customer, Customer.id == Order.customer_id)
            .outerjoin(Reseller, Reseller.id == Order.reseller_id)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .join(Product, Product.id == OrderLine.product_id)
            .where(Order.code.in_(part))
        )
        for code, phone, reseller, sku, qty in rows:
            found.setdefault(code, (phone, reseller, {}))[2][sku] = qty
    return found


async def _upsert_customers(
    session: AsyncSession, drafts: Iterable[_OrderDraft], customers: dict[str, Customer]
) -> None:
    """Create new customers; the latest name and language of known ones win."""
    new: dict[str, dict[str, Any]] = {}
    for draft in drafts:
        person = customers.get(draft.phone)
        if person is None:
            new[draft.phone] = {
                "phone": draft.phone,
                "name": draft.customer_name,
                "language": draft.language,
                "created_at": utcnow(),
            }
        else:
            if person.name != draft.customer_name:
                person.name = draft.customer_name
            if draft.language is not None and person.language != draft.language:
                person.language = draft.language
    table = _table(Customer)
    for part in _chunks(list(new.values())):
        returned = await session.execute(insert(table).returning(table.c.phone, table.c.id), part)
        for phone, customer_id in returned:
            person = Customer(**new[phone])
            person.id = customer_id
            customers[phone] = person


async def _create_orders(
    session: AsyncSession,
    drafts: Sequence[_OrderDraft],
    products: dict[str, Product],
    resellers: dict[str, Reseller],
    customers: dict[str, Customer],
    now: datetime,
    result: ImportResult,
    progress: Progress | None,
) -> None:
    """Insert new orders in bulk, reserving stock in file order (first come, first served)."""
    if not drafts:
        return
    stocked = sorted({p.id for p in products.values() if p.fulfillment is Fulfillment.READY_STOCK})
    available: dict[int, int] = {}
    for part in _chunks(stocked):
        # Lock the rows: concurrent orders wait until this import has taken its share.
        locked = await session.execute(
            select(Product.id, Product.on_hand - Product.reserved)
            .where(Product.id.in_(part))
            .with_for_update()
        )
        available.update({pid: free for pid, free in locked})
    queued = await _products_with_waiters(session, stocked)

    orders: list[dict[str, Any]] = []
    reserved: dict[int, int] = {}
    for draft in drafts:
        items = [(products[sku], qty) for sku, qty in draft.lines.items()]
        wanted = [(p.id, q) for p, q in items if p.fulfillment is Fulfillment.READY_STOCK]
        fits = all(pid not in queued and available[pid] >= q for pid, q in wanted)
        if fits:
            for pid, q in wanted:
                available[pid] -= q
                reserved[pid] = reserved.get(pid, 0) + q
        else:
            queued.update(pid for pid, _ in wanted)  # later orders queue behind this one
            result.awaiting_stock += 1
        made = [p.stages for p, _ in items if p.fulfillment is Fulfillment.MADE_TO_ORDER]
        plan = max(made, key=lambda st: sum(s.minutes for s in st), default=())
        reseller = resellers.get(draft.reseller)
        orders.append(
            {
                "code": draft.code,
                "customer_id": customers[draft.phone].id,
                "reseller_id": reseller.id if reseller else None,
                "fulfillment": Fulfillment.MADE_TO_ORDER if made else Fulfillment.READY_STOCK,
                "phase": Phase.PLACED if fits else Phase.AWAITING_STOCK,
                "stage_plan": stages_to_json(plan),
                "stock_reserved": fits and bool(wanted),
                "link_code": new_link_code(),
                "placed_at": now,
                "phase_entered_at": now,
                "awaiting_since": None if fits else now,
                "estimated_ready_at": (
                    estimate_ready_at(plan, stage_index=None, stage_started_at=None, now=now)
                    if made
                    else None
                ),
                "updated_at": now,
                "_items": items,
                "_reseller": reseller,
            }
        )

    names = {c.id: c.name for c in customers.values()}
    done = 0
    for batch in _chunks(orders):
        columns = [{k: v for k, v in o.items() if not k.startswith("_")} for o in batch]
        orders_table = _table(Order)
        # RETURNING the code too maps ids without relying on row order (which SQLite
        # cannot promise for batched inserts), and without a lookup query that PostgreSQL
        # would plan from the stale statistics of a table it thinks is still empty.
        returned = await session.execute(
            insert(orders_table).returning(orders_table.c.code, orders_table.c.id), columns
        )
        ids = {code: order_id for code, order_id in returned}
        for order in batch:
            order["id"] = ids[order["code"]]
        await session.execute(
            insert(_table(OrderLine)),
            [
                {
                    "order_id": o["id"],
                    "product_id": p.id,
                    "qty": q,
                    "unit_price": unit_price(p, dropship=o["_reseller"] is not None),
                    "from_stock": p.fulfillment is Fulfillment.READY_STOCK,
                }
                for o in batch
                for p, q in o["_items"]
            ],
        )
        await session.execute(
            insert(_table(PhaseEvent)),
            [
                {
                    "order_id": o["id"],
                    "at": now,
                    "actor": IMPORT.kind,
                    "from_phase": None,
                    "to_phase": o["phase"],
                }
                for o in batch
            ],
        )
        await _notify_linked(session, batch, names, now)
        done += len(batch)
        if progress:
            progress("writing", done, len(orders))
    if reserved:
        products_table = _table(Product)
        await session.execute(
            update(products_table)
            .where(products_table.c.id == bindparam("pid"))
            .values(reserved=products_table.c.reserved + bindparam("delta")),
            [{"pid": pid, "delta": delta} for pid, delta in sorted(reserved.items())],
        )
    result.created += len(orders)


async def _products_with_waiters(session: AsyncSession, product_ids: Sequence[int]) -> set[int]:
    """Products that orders already wait for: new orders queue behind them."""
    waited: set[int] = set()
    for part in _chunks(product_ids):
        waited.update(
            await session.scalars(
                select(OrderLine.product_id)
                .join(Order, Order.id == OrderLine.order_id)
                .where(Order.phase == Phase.AWAITING_STOCK, OrderLine.product_id.in_(part))
                .distinct()
            )
        )
    return waited


async def _notify_linked(
    session: AsyncSession,
    orders: Sequence[dict[str, Any]],
    names: dict[int, str],
    now: datetime,
) -> None:
    """Queue the 'order received' message for customers (and resellers) who already chat."""
    by_customer: dict[int, list[int]] = {}
    customer_ids = sorted({o["customer_id"] for o in orders})
    for cid, chat_id in await session.execute(
        select(ChatLink.customer_id, ChatLink.chat_id).where(ChatLink.customer_id.in_(customer_ids))
    ):
        by_customer.setdefault(cid, []).append(chat_id)
    reseller_ids = sorted({o["reseller_id"] for o in orders if o["reseller_id"]})
    by_reseller: dict[int, list[int]] = {}
    if reseller_ids:
        for rid, chat_id in await session.execute(
            select(Chat.reseller_id, Chat.id).where(Chat.reseller_id.in_(reseller_ids))
        ):
            if rid is not None:
                by_reseller.setdefault(rid, []).append(chat_id)
    rows: list[dict[str, Any]] = []
    for o in orders:
        audiences = {chat_id: "customer" for chat_id in by_customer.get(o["customer_id"], [])}
        if o["reseller_id"] is not None:
            audiences.update({c: "reseller" for c in by_reseller.get(o["reseller_id"], [])})
        if not audiences:
            continue
        event_id = await session.scalar(select(PhaseEvent.id).where(PhaseEvent.order_id == o["id"]))
        assert event_id is not None
        order = Order(**{k: v for k, v in o.items() if not k.startswith("_")})
        event = PhaseEvent(id=event_id, at=now, from_phase=None, to_phase=o["phase"])
        for chat_id, audience in sorted(audiences.items()):
            rows.append(
                {
                    "chat_id": chat_id,
                    "order_id": o["id"],
                    "event_id": event_id,
                    "kind": NotificationKind.ORDER_UPDATE,
                    "idempotency_key": order_update_key(o["id"], event_id, chat_id),
                    "due_at": now,
                    "payload": order_update_payload(
                        order,
                        event,
                        audience=audience,
                        brand=o["_reseller"].name if o["_reseller"] else None,
                        customer_name=names[o["customer_id"]],
                    ),
                }
            )
    await enqueue(session, rows)
