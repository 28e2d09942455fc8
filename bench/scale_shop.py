"""Fill an empty database with a shop of a given size, fast: Core bulk inserts, chunk by chunk.

Every row is one the real code could have written (the handlers read them as their own): orders
walk their flow's phases with one event per step, ready-stock orders hold their reservations,
shipped ones carry a courier and resi. Nothing is held for the whole run but the catalogue, so
a million orders cost no more memory than ten thousand.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bench.scale_catalog import Item, items, product_row
from models.base import utcnow
from models.catalog import Product
from models.enums import Channel, Fulfillment, Language, PaymentState, Phase
from models.linking import new_link_code
from models.orders import Order, OrderLine, PhaseEvent
from models.people import Chat, ChatLink, Customer, Reseller, Staff
from models.stages import parse_stages, stages_to_json
from models.storage import Database

CHUNK = 2_000  # orders written per transaction (with their lines and events)
STAFF_TELEGRAM = 900
RESELLERS = 20
TELEGRAM_BASE = 5_000_000_000  # customers' Telegram user ids start here
STRIDE = 7_919  # a prime: order i belongs to customer (i * STRIDE) mod customers
SPAN = timedelta(days=730)  # the shop's history
OPEN_SHARE = 0.03  # the newest orders are still on their way
COURIERS = ("JNE", "J&T", "SiCepat", "AnterAja", "Ninja Xpress")
FIRST = ("Sari", "Rina", "Dewi", "Budi", "Agus", "Putri", "Ayu", "Rizky", "Fajar", "Indah", "Nur")
LAST = ("Wulandari", "Saputra", "Lestari", "Hidayat", "Pratama", "Kusuma", "Santoso", "Nugroho")
NOTES = ("sudah dicek", "warna sesuai", "packing rapi", None, None, None, None, None)


@dataclass(frozen=True)
class Shape:
    """How big a shop to build."""

    orders: int
    skus: int
    bulk: int  # the newest ready-stock orders, all paid: one bulk /tahap moves them
    seed: int = 7

    @property
    def customers(self) -> int:
        """About one customer per three orders."""
        return max(1, self.orders // 3)


def order_code(order_id: int) -> str:
    """The invoice code of an order id."""
    return f"INV-{order_id:07d}"


def customer_of(shape: Shape, order_id: int) -> int:
    """The customer id of an order id (the same rule the builder used)."""
    return 1 + ((order_id - 1) * STRIDE) % shape.customers


def customer_address(customer_id: int) -> str:
    """The Telegram chat (and user) id of a customer's private chat."""
    return str(TELEGRAM_BASE + customer_id)


def customer_phone(customer_id: int) -> str:
    """A customer's E.164 phone number."""
    return f"+62812{customer_id:08d}"


def customer_name(customer_id: int) -> str:
    """A customer's name."""
    return f"{FIRST[customer_id % len(FIRST)]} {LAST[customer_id // len(FIRST) % len(LAST)]}"


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


@dataclass
class _Catalog:
    """What order generation needs to know of each product, by position (id - 1)."""

    items: list[Item]
    plans: list[list[dict[str, Any]]]
    ready: list[int]  # product ids of ready-stock products

    def plan_of(self, product_ids: Sequence[int]) -> list[dict[str, Any]]:
        """The production plan of an order of these products: the slowest one's, as placing does."""
        plans = [self.plans[pid - 1] for pid in product_ids if self.items[pid - 1].made_to_order]
        return max(plans, key=lambda p: sum(s["minutes"] for s in p), default=[])


async def build(db: Database, shape: Shape) -> None:
    """Write the whole shop: catalogue, people and chats, orders with lines and events."""
    rng = random.Random(shape.seed)
    now = utcnow()
    catalog = await _write_catalog(db, shape, rng, now)
    await _write_people(db, shape, now)
    reserved: dict[int, int] = {}
    for start in range(1, shape.orders + 1, CHUNK):
        ids = range(start, min(start + CHUNK, shape.orders + 1))
        async with db.transaction() as session:
            await _write_orders(session, shape, catalog, ids, rng, now, reserved)
    async with db.transaction() as session:
        table = _table(Product)
        if reserved:
            await session.execute(
                update(table)
                .where(table.c.id == bindparam("pid"))
                .values(on_hand=table.c.on_hand + bindparam("held"), reserved=bindparam("held")),
                [{"pid": pid, "held": held} for pid, held in sorted(reserved.items())],
            )
    if db.dialect == "postgresql":
        await _after_load(db)


async def _write_catalog(db: Database, shape: Shape, rng: random.Random, now: datetime) -> _Catalog:
    """The products, about one in ten sold out; return what order writing needs of them."""
    made = items(shape.skus, rng)
    rows = [
        product_row(i, item, 0 if rng.random() < 0.1 else rng.randrange(1, 300), now)
        for i, item in enumerate(made, start=1)
    ]
    async with db.transaction() as session:
        for part in range(0, len(rows), CHUNK):
            await session.execute(insert(_table(Product)), rows[part : part + CHUNK])
    plans = [stages_to_json(parse_stages(item.stages)) for item in made]
    ready = [i for i, item in enumerate(made, start=1) if not item.made_to_order]
    return _Catalog(made, plans, ready)


async def _write_people(db: Database, shape: Shape, now: datetime) -> None:
    """Staff, resellers and customers, each with a linked Telegram chat."""
    async with db.transaction() as session:
        await session.execute(
            insert(_table(Staff)),
            [{"id": 1, "name": "Staf Gudang", "telegram_id": STAFF_TELEGRAM, "created_at": now}],
        )
        await session.execute(
            insert(_table(Reseller)),
            [
                {
                    "id": r,
                    "code": f"RS{r:02d}",
                    "name": f"{FIRST[r % len(FIRST)]} Store",
                    "telegram_id": 800 + r,
                    "created_at": now,
                }
                for r in range(1, RESELLERS + 1)
            ],
        )
        chats = [_chat(1, str(STAFF_TELEGRAM), now, staff_id=1)]
        chats += [_chat(1 + r, str(800 + r), now, reseller_id=r) for r in range(1, RESELLERS + 1)]
        await session.execute(insert(_table(Chat)), chats)
    first_chat = RESELLERS + 2
    for start in range(1, shape.customers + 1, CHUNK * 5):
        ids = range(start, min(start + CHUNK * 5, shape.customers + 1))
        async with db.transaction() as session:
            await session.execute(
                insert(_table(Customer)),
                [
                    {
                        "id": c,
                        "phone": customer_phone(c),
                        "name": customer_name(c),
                        "language": Language.EN if c % 7 == 0 else Language.ID,
                        "created_at": now,
                    }
                    for c in ids
                ],
            )
            await session.execute(
                insert(_table(Chat)),
                [_chat(first_chat + c - 1, customer_address(c), now) for c in ids],
            )
            await session.execute(
                insert(_table(ChatLink)),
                [
                    {
                        "chat_id": first_chat + c - 1,
                        "customer_id": c,
                        "via": "phone",
                        "linked_at": now,
                    }
                    for c in ids
                ],
            )


def _chat(
    chat_id: int,
    address: str,
    now: datetime,
    *,
    staff_id: int | None = None,
    reseller_id: int | None = None,
) -> dict[str, Any]:
    return {
        "id": chat_id,
        "channel": Channel.TELEGRAM,
        "address": address,
        "language": None,
        "active": True,
        "opted_out": False,
        "last_inbound_at": now,
        "staff_id": staff_id,
        "reseller_id": reseller_id,
        "created_at": now,
    }


Step = tuple[Phase, int | None]


def _flow(plan: list[dict[str, Any]]) -> list[Step]:
    """The steps of an order's flow, every production stage one step."""
    if not plan:
        phases = (Phase.PLACED, Phase.PAID, Phase.PACKED, Phase.SHIPPED, Phase.DELIVERED)
        return [(phase, None) for phase in phases]
    stages: list[Step] = [(Phase.IN_PRODUCTION, i) for i in range(len(plan))]
    return [
        (Phase.PLACED, None),
        (Phase.PAID, None),
        *stages,
        (Phase.READY, None),
        (Phase.SHIPPED, None),
        (Phase.DELIVERED, None),
    ]


def _path(shape: Shape, order_id: int, flow: list[Step], rng: random.Random) -> list[Step]:
    """The steps an order has taken, by its age: old ones are done, the newest still moving."""
    newness = shape.orders - order_id  # 0 for the newest
    if newness < shape.bulk:
        return flow[:2]  # placed, paid: waiting to be packed
    if newness < shape.bulk + max(50, int(shape.orders * OPEN_SHARE)):
        return flow[: rng.randrange(1, len(flow))]
    if rng.random() < 0.08:
        return [*flow[: rng.randrange(1, 3)], (Phase.CANCELLED, None)]
    return flow


async def _write_orders(
    session: AsyncSession,
    shape: Shape,
    catalog: _Catalog,
    ids: range,
    rng: random.Random,
    now: datetime,
    reserved: dict[int, int],
) -> None:
    """Write one chunk of orders, their lines and events; add their reservations to `reserved`."""
    orders: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for order_id in ids:
        newness = shape.orders - order_id
        pool = catalog.ready if newness < shape.bulk else None
        count = 1 if rng.random() < 0.6 else 2 if rng.random() < 0.75 else 3
        products = rng.sample(pool, count) if pool else rng.sample(range(1, shape.skus + 1), count)
        qtys = [1 if rng.random() < 0.7 else rng.randrange(2, 4) for _ in products]
        plan = catalog.plan_of(products)
        path = _path(shape, order_id, _flow(plan), rng)
        reseller_id = rng.randrange(1, RESELLERS + 1) if rng.random() < 0.1 else None
        placed_at = now - SPAN * (1 - (order_id - 0.5) / shape.orders)
        step = min(timedelta(days=1), (now - placed_at) / (len(path) + 1))
        phase, stage = path[-1]
        # Ready-stock lines stay reserved until the order ships (or is cancelled).
        holds = phase not in (Phase.SHIPPED, Phase.DELIVERED, Phase.CANCELLED)
        first = len(lines)
        for pid, qty in zip(products, qtys, strict=True):
            item = catalog.items[pid - 1]
            lines.append(
                {
                    "order_id": order_id,
                    "product_id": pid,
                    "qty": qty,
                    "unit_price": item.price,
                    "from_stock": not item.made_to_order,
                }
            )
            if holds and not item.made_to_order:
                reserved[pid] = reserved.get(pid, 0) + qty
        shipped = any(p is Phase.SHIPPED for p, _ in path)
        paid = any(p is Phase.PAID for p, _ in path)
        subtotal = sum(line["unit_price"] * line["qty"] for line in lines[first:])
        total = timedelta(minutes=sum(s["minutes"] for s in plan))
        order = {
            "id": order_id,
            "code": order_code(order_id),
            "customer_id": customer_of(shape, order_id),
            "reseller_id": reseller_id,
            "fulfillment": Fulfillment.MADE_TO_ORDER if plan else Fulfillment.READY_STOCK,
            "phase": phase,
            "stage_index": stage,
            "stage_plan": plan,
            "stock_reserved": holds and any(line["from_stock"] for line in lines[first:]),
            "subtotal": subtotal,
            "paid_amount": subtotal if paid else 0,
            "payment_state": PaymentState.PAID if paid else PaymentState.UNPAID,
            "courier": rng.choice(COURIERS) if shipped else None,
            "tracking_number": f"JP{rng.randrange(10**10):010d}" if shipped else None,
            "link_code": new_link_code(),
            "placed_at": placed_at,
            "phase_entered_at": placed_at + step * (len(path) - 1),
            "estimated_ready_at": placed_at + total if plan else None,
            "updated_at": placed_at + step * (len(path) - 1),
        }
        orders.append(order)
        events += _events(order, path, placed_at, step, rng)
    for model, rows in ((Order, orders), (OrderLine, lines), (PhaseEvent, events)):
        await _insert(session, model, rows)


async def _insert(session: AsyncSession, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """Insert rows with one prepared statement (executemany).

    Multi-row INSERTs of varying length would each stay in the driver's statement cache, about
    1 MB apiece on SQLite, and the builder's memory would count against the shop's.
    """
    await session.execute(insert(_table(model)), rows)


def _events(
    order: dict[str, Any],
    path: list[Step],
    placed_at: datetime,
    step: timedelta,
    rng: random.Random,
) -> list[dict[str, Any]]:
    """One event per step, with the snapshot undo would need, as advance() writes them."""
    out = []
    before: Step | None = None
    for n, (phase, stage) in enumerate(path):
        at = placed_at + step * n
        staff = n > 0
        out.append(
            {
                "order_id": order["id"],
                "at": at,
                "actor": "staff" if staff else "import",
                "staff_id": 1 if staff else None,
                "from_phase": before[0] if before else None,
                "from_stage": before[1] if before else None,
                "to_phase": phase,
                "to_stage": stage,
                "note": rng.choice(NOTES) if staff else None,
                "command_id": f"{rng.getrandbits(128):032x}" if staff else None,
                "before": _snapshot(order, before, placed_at + step * (n - 1)) if staff else None,
                "stock_effect": None,
            }
        )
        before = (phase, stage)
    return out


def _snapshot(order: dict[str, Any], before: Step | None, entered: datetime) -> dict[str, Any]:
    eta = order["estimated_ready_at"]
    return {
        "phase": before[0].value if before else None,
        "stage_index": before[1] if before else None,
        "held_phase": None,
        "held_stage_index": None,
        "courier": None,
        "tracking_number": None,
        "stock_reserved": order["stock_reserved"],
        "awaiting_since": None,
        "phase_entered_at": entered.isoformat(),
        "estimated_ready_at": eta.isoformat() if eta else None,
    }


async def _after_load(db: Database) -> None:
    """Move PostgreSQL's id sequences past the ids written, and gather planner statistics."""
    async with db.engine.begin() as conn:
        for table in ("products", "staff", "resellers", "chats", "customers", "orders"):
            await conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        # A database that has been running has statistics (autovacuum gathers them); a bulk
        # load has none until this.
        await conn.execute(text("ANALYZE"))
