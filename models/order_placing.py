"""Placing imported orders: stock reserved first come, first served, then all written in bulk.

The checks are done by now (`models.order_import`); what is left is deciding each new order's
phase, writing orders, lines, phase events and outbox rows in a few big statements, and telling
the customers and resellers who already chat with the shop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.bulk import among, insert_rows
from models.catalog import Product
from models.enums import Fulfillment, Language, NotificationKind, Phase
from models.import_rows import Progress, chunks, table_of
from models.lifecycle import IMPORT, order_update_payload, unit_price
from models.linking import new_link_code
from models.orders import Order, OrderLine, PhaseEvent
from models.outbox import enqueue, order_update_key
from models.people import Chat, ChatLink, Reseller
from models.stages import Stage, estimate_ready_at, stages_to_json

WRITE_CHUNK = 5_000  # orders written (and reported to the progress bar) per step

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
)
_LINE_COLUMNS = ("order_id", "product_id", "qty", "unit_price", "from_stock")
_EVENT_COLUMNS = ("order_id", "at", "actor", "from_phase", "to_phase")


@dataclass(slots=True)
class OrderDraft:
    """One order of the file, its rows checked and grouped."""

    line: int  # where the order starts in the file
    code: str
    customer_name: str
    phone: str
    reseller: str  # empty for a direct sale
    language: Language | None
    lines: dict[str, int] = field(default_factory=dict)  # sku -> qty


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
        return cls(
            product.id,
            product.fulfillment is Fulfillment.READY_STOCK,
            product.stages,
            unit_price(product, dropship=False),
            unit_price(product, dropship=True),
        )


@dataclass(slots=True)
class PlacedOrder:
    """A new order as it is about to be written."""

    draft: OrderDraft
    items: list[tuple[CatalogItem, int]]
    reseller: Reseller | None
    phase: Phase
    stock_reserved: bool
    made_to_order: bool
    plan: list[dict[str, Any]]  # the stage plan as stored; one shared list per distinct plan
    estimated_ready_at: datetime | None
    id: int = 0  # known once written

    @property
    def fulfillment(self) -> Fulfillment:
        """Made to order if any line is, else from stock."""
        return Fulfillment.MADE_TO_ORDER if self.made_to_order else Fulfillment.READY_STOCK


def _minutes(stages: tuple[Stage, ...]) -> int:
    return sum(s.minutes for s in stages)


async def place_orders(
    session: AsyncSession,
    drafts: Sequence[OrderDraft],
    catalog: Mapping[str, CatalogItem],
    resellers: Mapping[str, Reseller],
    now: datetime,
) -> list[PlacedOrder]:
    """Decide each new order's phase, reserving stock in file order (first come, first served)."""
    if not drafts:
        return []
    stocked = sorted({item.id for item in catalog.values() if item.ready})
    available: dict[int, int] = {}
    for part in chunks(stocked):
        # Lock the rows: concurrent orders wait until this import has taken its share.
        locked = await session.execute(
            select(Product.id, Product.on_hand - Product.reserved)
            .where(Product.id.in_(part))
            .with_for_update()
        )
        available.update({pid: free for pid, free in locked})
    queued = await _products_with_waiters(session, stocked)

    # Orders of one product share their plan and estimate: work each out once.
    plans: dict[tuple[Stage, ...], tuple[list[dict[str, Any]], datetime]] = {}
    placed: list[PlacedOrder] = []
    reserved: dict[int, int] = {}
    for draft in drafts:
        items = [(catalog[sku], qty) for sku, qty in draft.lines.items()]
        stock = [(item.id, qty) for item, qty in items if item.ready]
        fits = True
        for pid, qty in stock:
            if pid in queued or available[pid] < qty:
                fits = False
                break
        if fits:
            for pid, qty in stock:
                available[pid] -= qty
                reserved[pid] = reserved.get(pid, 0) + qty
        else:
            queued.update(pid for pid, _ in stock)  # later orders queue behind this one
        made = len(stock) < len(items)  # some lines are made to order
        plan = max((i.stages for i, _ in items if not i.ready), key=_minutes) if made else ()
        if plan not in plans:
            eta = estimate_ready_at(plan, stage_index=None, stage_started_at=None, now=now)
            plans[plan] = (stages_to_json(plan), eta)
        stored_plan, eta = plans[plan]
        placed.append(
            PlacedOrder(
                draft=draft,
                items=items,
                reseller=resellers.get(draft.reseller),
                phase=Phase.PLACED if fits else Phase.AWAITING_STOCK,
                stock_reserved=fits and bool(stock),
                made_to_order=made,
                plan=stored_plan,
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


async def _products_with_waiters(session: AsyncSession, product_ids: Sequence[int]) -> set[int]:
    """Products that orders already wait for: new orders queue behind them."""
    waited: set[int] = set()
    for part in chunks(product_ids):
        waited.update(
            await session.scalars(
                select(OrderLine.product_id)
                .join(Order, Order.id == OrderLine.order_id)
                .where(Order.phase == Phase.AWAITING_STOCK, OrderLine.product_id.in_(part))
                .distinct()
            )
        )
    return waited


class _Audiences(NamedTuple):
    """Who already chats with the shop: the chats of customers and of resellers."""

    customers: dict[int, list[int]]  # customer id -> chat ids
    resellers: dict[int, list[int]]  # reseller id -> chat ids

    def of(self, order: PlacedOrder, customer_id: int) -> dict[int, str]:
        """The chats to tell of an order: chat id -> audience."""
        chats = {chat_id: "customer" for chat_id in self.customers.get(customer_id, [])}
        if order.reseller is not None:
            chats.update({c: "reseller" for c in self.resellers.get(order.reseller.id, [])})
        return chats


async def _audiences(
    session: AsyncSession, returning_customers: Sequence[int], placed: Sequence[PlacedOrder]
) -> _Audiences:
    """Find the chats to tell of new orders (customers created just now have none yet)."""
    by_customer: dict[int, list[int]] = {}
    if returning_customers:
        dialect = session.get_bind().dialect
        for cid, chat_id in await session.execute(
            select(ChatLink.customer_id, ChatLink.chat_id).where(
                among(ChatLink.customer_id, returning_customers, dialect)
            )
        ):
            by_customer.setdefault(cid, []).append(chat_id)
    reseller_ids = sorted({p.reseller.id for p in placed if p.reseller is not None})
    by_reseller: dict[int, list[int]] = {}
    if reseller_ids:
        for rid, chat_id in await session.execute(
            select(Chat.reseller_id, Chat.id).where(Chat.reseller_id.in_(reseller_ids))
        ):
            if rid is not None:
                by_reseller.setdefault(rid, []).append(chat_id)
    return _Audiences(by_customer, by_reseller)


async def write_orders(
    session: AsyncSession,
    placed: Sequence[PlacedOrder],
    customers: Mapping[str, int],
    names: Mapping[int, str],
    returning_customers: Sequence[int],
    now: datetime,
    progress: Progress | None,
) -> None:
    """Write new orders with their lines and first event; tell whoever already chats.

    `customers` maps phone numbers to customer ids, `names` ids to the names to greet them by;
    `returning_customers` were known before this import (only they can have linked chats).
    """
    audiences = await _audiences(session, returning_customers, placed)
    done = 0
    for batch in chunks(placed, WRITE_CHUNK):
        told = [(p, chats) for p in batch if (chats := audiences.of(p, customers[p.draft.phone]))]
        event_ids = await _insert(session, batch, customers, now, with_event_ids=bool(told))
        await enqueue(
            session,
            [
                _notification(p, event_ids[p.id], chat_id, audience, customers, names, now)
                for p, chats in told
                for chat_id, audience in sorted(chats.items())
            ],
        )
        done += len(batch)
        if progress:
            progress("writing", done, len(placed))


async def _insert(
    session: AsyncSession,
    placed: Sequence[PlacedOrder],
    customers: Mapping[str, int],
    now: datetime,
    *,
    with_event_ids: bool,
) -> dict[int, int]:
    """Insert orders, lines and first phase events; note order ids on `placed`.

    Return order id -> event id when asked (most imported orders reach nobody yet).
    """
    orders = [
        (
            p.draft.code,
            customers[p.draft.phone],
            p.reseller.id if p.reseller else None,
            p.fulfillment,
            p.phase,
            p.plan,
            p.stock_reserved,
            new_link_code(),
            now,
            now,
            None if p.phase is Phase.PLACED else now,
            p.estimated_ready_at,
            now,
        )
        for p in placed
    ]
    # RETURNING the code maps ids without relying on row order (which SQLite cannot promise
    # for multi-row inserts), and without a lookup query that PostgreSQL would plan from the
    # stale statistics of a table it thinks is still empty.
    returned = await insert_rows(
        session, table_of(Order), _ORDER_COLUMNS, orders, returning=("code", "id")
    )
    ids = dict(returned)
    for p in placed:
        p.id = ids[p.draft.code]
    lines = [
        (p.id, item.id, qty, item.price if p.reseller is None else item.dropship_price, item.ready)
        for p in placed
        for item, qty in p.items
    ]
    await insert_rows(session, table_of(OrderLine), _LINE_COLUMNS, lines)
    events = [(p.id, now, IMPORT.kind, None, p.phase) for p in placed]
    returning = ("order_id", "id") if with_event_ids else ()
    return dict(
        await insert_rows(
            session, table_of(PhaseEvent), _EVENT_COLUMNS, events, returning=returning
        )
    )


def _notification(
    placed: PlacedOrder,
    event_id: int,
    chat_id: int,
    audience: str,
    customers: Mapping[str, int],
    names: Mapping[int, str],
    now: datetime,
) -> dict[str, Any]:
    """The outbox row telling one chat of a new order."""
    customer_id = customers[placed.draft.phone]
    order = Order(
        id=placed.id,
        code=placed.draft.code,
        customer_id=customer_id,
        fulfillment=placed.fulfillment,
        phase=placed.phase,
        stage_plan=placed.plan,
        estimated_ready_at=placed.estimated_ready_at,
    )
    event = PhaseEvent(id=event_id, at=now, from_phase=None, to_phase=placed.phase)
    return {
        "chat_id": chat_id,
        "order_id": placed.id,
        "event_id": event_id,
        "kind": NotificationKind.ORDER_UPDATE,
        "idempotency_key": order_update_key(placed.id, event_id, chat_id),
        "due_at": now,
        "payload": order_update_payload(
            order,
            event,
            audience=audience,
            brand=placed.reseller.name if placed.reseller else None,
            customer_name=names[customer_id],
        ),
    }
