"""Placing orders, the one way: stock reserved first come, first served, all written in bulk.

The CSV import places thousands at once and the lifecycle one at a time (`place_order`), both
through `place_orders`: each new order's phase is decided in order (stock reserved, or queued
behind the orders already waiting), then orders, lines, first events and the messages to
whoever already chats with the shop are written in a few big statements.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.audience import audiences_of
from models.base import utcnow
from models.bulk import among, insert_rows
from models.catalog import Product, line_price
from models.change import SYSTEM, Actor
from models.enums import Fulfillment, Phase
from models.errors import DomainError
from models.import_rows import chunks, table_of
from models.linking import new_link_code
from models.orders import CODE_PATTERN, Order, OrderLine, PhaseEvent, clean_code
from models.people import Customer, Reseller
from models.stages import Stage, estimate_ready_at, stages_from_json, stages_to_json
from models.updates import Told, order_update, tell

WRITE_CHUNK = 1_000  # orders written per step (an import places this many at a time)
CATALOG_CHUNK = 1_000  # products read per query

_ORDER_COLUMNS = (
    "code",
    "customer_id",
    "reseller_id",
    "fulfillment",
    "phase",
    "stage_plan",
    "stock_reserved",
    "link_code",
    "placed_at",
    "phase_entered_at",
    "awaiting_since",
    "estimated_ready_at",
    "updated_at",
    "subtotal",
    "recipient_name",
    "recipient_phone",
    "address",
)
_LINE_COLUMNS = ("order_id", "product_id", "qty", "unit_price", "from_stock")
_EVENT_COLUMNS = ("order_id", "at", "actor", "staff_id", "from_phase", "to_phase")


class CatalogItem(NamedTuple):
    """What an order line needs of its product, read once per product rather than per line."""

    id: int
    ready: bool  # ready stock; otherwise made to order
    stages: tuple[Stage, ...]
    price: Decimal
    dropship_price: Decimal

    @classmethod
    def of(cls, product: Product) -> CatalogItem:
        """Read a product."""
        return cls.read(*(getattr(product, c.key) for c in _CATALOG_COLUMNS[1:]))

    @classmethod
    def read(
        cls,
        id: int,
        fulfillment: Fulfillment,
        stages_json: list[dict[str, Any]] | None,
        price: Decimal,
        reseller_price: Decimal | None,
    ) -> CatalogItem:
        """Read a product's columns (_CATALOG_COLUMNS after the SKU)."""
        return cls(
            id,
            fulfillment is Fulfillment.READY_STOCK,
            stages_from_json(stages_json),
            line_price(price, reseller_price, dropship=False),
            line_price(price, reseller_price, dropship=True),
        )


async def catalog_of(session: AsyncSession, skus: Sequence[str]) -> dict[str, CatalogItem]:
    """What lines of these SKUs need, by SKU (unknown ones left out).

    Read as plain rows: an import names thousands of products, and loading each as a Product
    cost more time and memory than the rest of reading the file.
    """
    catalog: dict[str, CatalogItem] = {}
    # Products of a kind share their plan and prices: one copy of each is kept, not one per
    # product (an import holds thousands).
    shared: dict[Any, Any] = {}
    dialect = session.get_bind().dialect
    # A chunk at a time: all of a big file's rows at once, JSON decoded, took 8 MB.
    for part in chunks(skus, CATALOG_CHUNK):
        rows = await session.execute(
            select(*_CATALOG_COLUMNS).where(among(Product.sku, part, dialect))
        )
        for sku, *columns in rows:
            item = CatalogItem.read(*columns)
            catalog[sku] = item._replace(
                stages=shared.setdefault(item.stages, item.stages),
                price=shared.setdefault(item.price, item.price),
                dropship_price=shared.setdefault(item.dropship_price, item.dropship_price),
            )
    return catalog


# What CatalogItem reads of a product, after its SKU.
_CATALOG_COLUMNS = (
    Product.sku,
    Product.id,
    Product.fulfillment,
    Product.stages_json,
    Product.price,
    Product.reseller_price,
)


@dataclass(slots=True)
class NewOrder:
    """An order to place: its code, customer, reseller (dropship) and lines."""

    code: str
    customer_id: int
    items: Sequence[tuple[CatalogItem, int]]  # (product, qty), one line per product
    reseller_id: int | None = None
    recipient_name: str | None = None  # where it goes (a dropship order: the end customer)
    recipient_phone: str | None = None
    address: str | None = None
    note: str | None = None  # the customer's words for the shop, on the "placed" event


@dataclass(slots=True)
class PlacedOrder:
    """A new order as it is written."""

    request: NewOrder
    customer_id: int  # the request's, at hand for audiences_of
    reseller_id: int | None
    phase: Phase
    stock_reserved: bool
    made_to_order: bool
    plan: tuple[Stage, ...]
    stored_plan: list[dict[str, Any]]  # the plan as stored; one shared list per distinct plan
    estimated_ready_at: datetime | None
    id: int = 0  # known once written

    @property
    def fulfillment(self) -> Fulfillment:
        """Made to order if any line is, else from stock."""
        return Fulfillment.MADE_TO_ORDER if self.made_to_order else Fulfillment.READY_STOCK

    @property
    def subtotal(self) -> Decimal:
        """The lines at the prices agreed: the reseller's on a dropship order."""
        dropship = self.request.reseller_id is not None
        return sum(
            (
                (item.dropship_price if dropship else item.price) * qty
                for item, qty in self.request.items
            ),
            Decimal(0),
        )


def _minutes(stages: tuple[Stage, ...]) -> int:
    return sum(s.minutes for s in stages)


def _check(order: NewOrder) -> None:
    """Refuse an order that cannot be placed, naming why; nothing is written."""
    if not CODE_PATTERN.fullmatch(order.code):  # the stored form: clean_code's
        raise DomainError(f"{order.code!r} cannot be an order code (letters, digits, . _ / -)")
    items = order.items
    if not items:
        raise DomainError(f"order {order.code} has no lines")
    if len(items) == 1:  # most orders: one line, nothing to compare
        if items[0][1] <= 0:
            raise DomainError(f"order {order.code}: quantities must be 1 or more")
        return
    if any(qty <= 0 for _, qty in items):
        raise DomainError(f"order {order.code}: quantities must be 1 or more")
    if len({item.id for item, _ in items}) != len(items):
        raise DomainError(f"order {order.code} names a product twice")


@dataclass(slots=True)
class StockLedger:
    """What placing has learnt of the stock so far in one transaction, so that orders placed
    in several calls (a big import, a chunk at a time) are decided as if in one."""

    available: dict[int, int] = field(default_factory=dict)  # product id -> units free
    queued: set[int] = field(default_factory=set)  # products that orders wait for

    async def learn(self, session: AsyncSession, product_ids: Iterable[int]) -> None:
        """Lock and read the ready-stock products not known yet (a few big reads are
        cheaper than many small ones: learn all of an import's products at once)."""
        new = sorted(set(product_ids) - self.available.keys())
        if not new:
            return
        # Lock the rows: concurrent orders wait until these have taken their share.
        locked = await session.execute(
            select(Product.id, Product.on_hand - Product.reserved)
            .where(among(Product.id, new, session.get_bind().dialect))
            .with_for_update()
        )
        self.available.update({pid: free for pid, free in locked})
        self.queued |= await _products_with_waiters(session, new)


async def place_orders(
    session: AsyncSession,
    orders: Sequence[NewOrder],
    *,
    now: datetime,
    actor: Actor = SYSTEM,
    ledger: StockLedger | None = None,
) -> list[PlacedOrder]:
    """Place new orders in the caller's transaction, first come first served, in given order.

    A ready-stock line reserves its units, or the order waits for stock (`awaiting_stock`),
    as does every later order for a product that orders already wait for. Customers and
    resellers who already chat with the shop are told at once. Calls that follow one another
    in one transaction share a `ledger`.
    """
    for order in orders:
        _check(order)
    placed = await _decide(session, orders, now, ledger or StockLedger())
    for part in chunks(placed, WRITE_CHUNK):
        await _write(session, part, actor, now)
    return placed


async def _decide(
    session: AsyncSession, orders: Sequence[NewOrder], now: datetime, ledger: StockLedger
) -> list[PlacedOrder]:
    """Decide each new order's phase, reserving stock in order (first come, first served)."""
    if not orders:
        return []
    await ledger.learn(session, {item.id for o in orders for item, _ in o.items if item.ready})
    available, queued = ledger.available, ledger.queued

    # Orders of one product share their plan and estimate: work each out once.
    plans: dict[tuple[Stage, ...], tuple[list[dict[str, Any]], datetime]] = {}
    placed: list[PlacedOrder] = []
    reserved: dict[int, int] = {}
    for order in orders:
        stock = [(item.id, qty) for item, qty in order.items if item.ready]
        fits = not any(_waits(pid, qty, available, queued) for pid, qty in stock)
        if fits:
            for pid, qty in stock:
                available[pid] -= qty
                reserved[pid] = reserved.get(pid, 0) + qty
        else:
            queued.update(pid for pid, _ in stock)  # later orders queue behind this one
        made = len(stock) < len(order.items)  # some lines are made to order
        # The slowest product's stages decide when a mixed order can be ready.
        plan: tuple[Stage, ...] = (
            max((i.stages for i, _ in order.items if not i.ready), key=_minutes) if made else ()
        )
        if plan not in plans:
            eta = estimate_ready_at(plan, stage_index=None, stage_started_at=None, now=now)
            plans[plan] = (stages_to_json(plan), eta)
        stored_plan, eta = plans[plan]
        placed.append(
            PlacedOrder(
                request=order,
                customer_id=order.customer_id,
                reseller_id=order.reseller_id,
                phase=Phase.PLACED if fits else Phase.AWAITING_STOCK,
                stock_reserved=fits and bool(stock),
                made_to_order=made,
                plan=plan,
                stored_plan=stored_plan,
                estimated_ready_at=eta if made else None,
            )
        )
    if reserved:
        products = table_of(Product)
        await session.execute(
            update(products)
            .where(products.c.id == bindparam("pid"))
            .values(reserved=products.c.reserved + bindparam("delta")),
            [{"pid": pid, "delta": delta} for pid, delta in sorted(reserved.items())],
        )
    return placed


def _waits(pid: int, qty: int, available: Mapping[int, int], queued: Container[int]) -> bool:
    """First come, first served: a line waits for stock when orders already wait for its
    product, or when fewer units than it asks for are free."""
    return pid in queued or available[pid] < qty


async def would_wait(session: AsyncSession, product: Product, qty: int) -> bool:
    """Whether an order of `qty` of this product, placed now, would wait for stock."""
    if product.fulfillment is not Fulfillment.READY_STOCK:
        return False
    queued = await _products_with_waiters(session, [product.id])
    return _waits(product.id, qty, {product.id: product.available}, queued)


async def _products_with_waiters(session: AsyncSession, product_ids: Sequence[int]) -> set[int]:
    """Products that orders already wait for: new orders queue behind them."""
    if not product_ids:
        return set()
    return set(
        await session.scalars(
            select(OrderLine.product_id)
            .join(Order, Order.id == OrderLine.order_id)
            .where(
                Order.phase == Phase.AWAITING_STOCK,
                among(OrderLine.product_id, product_ids, session.get_bind().dialect),
            )
            .distinct()
        )
    )


async def _write(
    session: AsyncSession, placed: Sequence[PlacedOrder], actor: Actor, now: datetime
) -> None:
    """Insert orders, lines and first events; tell whoever already chats."""
    rows = [
        (
            p.request.code,
            p.request.customer_id,
            p.request.reseller_id,
            p.fulfillment,
            p.phase,
            p.stored_plan,
            p.stock_reserved,
            new_link_code(),
            now,
            now,
            None if p.phase is Phase.PLACED else now,
            p.estimated_ready_at,
            now,
            p.subtotal,
            p.request.recipient_name,
            p.request.recipient_phone,
            p.request.address,
        )
        for p in placed
    ]
    # RETURNING the code maps ids without relying on row order (which SQLite cannot promise
    # for multi-row inserts), and without a lookup query that PostgreSQL would plan from the
    # stale statistics of a table it thinks is still empty.
    returned = await insert_rows(
        session, table_of(Order), _ORDER_COLUMNS, rows, returning=("code", "id")
    )
    ids = dict(returned)
    for p in placed:
        p.id = ids[p.request.code]
    lines = [
        (
            p.id,
            item.id,
            qty,
            item.dropship_price if p.request.reseller_id else item.price,
            item.ready,
        )
        for p in placed
        for item, qty in p.request.items
    ]
    await insert_rows(session, table_of(OrderLine), _LINE_COLUMNS, lines)
    # Most imported orders are new customers' and reach nobody yet: word only the others.
    heard = await audiences_of(session, placed)
    events: list[tuple[Any, ...]] = [
        (p.id, now, actor.kind, actor.staff_id, None, p.phase) for p in placed
    ]
    columns: tuple[str, ...] = _EVENT_COLUMNS
    if any(p.request.note for p in placed):  # an import has none: its rows stay as they were
        events = [(*event, p.request.note) for event, p in zip(events, placed, strict=True)]
        columns = (*_EVENT_COLUMNS, "note")
    returning = ("order_id", "id") if any(heard.values()) else ()
    event_ids = dict(
        await insert_rows(session, table_of(PhaseEvent), columns, events, returning=returning)
    )
    await tell(
        session,
        [
            Told(
                p,
                order_update(
                    code=p.request.code,
                    fulfillment=p.fulfillment,
                    plan=p.plan,
                    from_phase=None,
                    phase=p.phase,
                    stage=None,
                    eta=p.estimated_ready_at,
                    at=now,
                ),
                now,
                event_ids[p.id],
            )
            for p in placed
            if p.id in heard
        ],
        heard=heard,
    )


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
    """Place one order (see `place_orders`) and return it."""
    now = now or utcnow()
    clean = clean_code(code)
    if clean is None:
        raise DomainError(f"{code!r} cannot be an order code (letters, digits, . _ / -)")
    request = NewOrder(
        clean,
        customer.id,
        [(CatalogItem.of(product), qty) for product, qty in lines],
        reseller.id if reseller else None,
    )
    (placed,) = await place_orders(session, [request], now=now, actor=actor)
    order = await session.get(Order, placed.id)
    assert order is not None
    return order
