"""Order-update notifications: who hears of a change, what they are told, queued in bulk.

A staff command may move a thousand orders. Their events are written in one insert and the
chats to tell are found in a few queries for all of them, not a few queries per order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.bulk import insert_rows
from models.enums import NotificationKind
from models.orders import Order, PhaseEvent
from models.outbox import enqueue, order_update_key
from models.people import Chat, ChatLink, Customer, Reseller

CHUNK = 500  # ids per IN (...) list: well inside every driver's limit
T = TypeVar("T")


def order_update_payload(
    order: Order, event: PhaseEvent, *, audience: str, brand: str | None, customer_name: str
) -> dict[str, Any]:
    """Everything a renderer needs to word an order update later, in any language.

    `brand` is the reseller's brand on dropship orders (the end customer never sees the
    shop's name); None means the shop's own name, filled in at send time.
    """
    plan = order.plan
    stage = event.to_stage
    return {
        "order_code": order.code,
        "audience": audience,
        "brand": brand,
        "customer_name": customer_name,
        "fulfillment": order.fulfillment.value,
        "from_phase": event.from_phase.value if event.from_phase else None,
        "phase": event.to_phase.value,
        "stage": plan[stage].name if stage is not None else None,
        "stage_number": stage + 1 if stage is not None else None,
        "stage_count": len(plan),
        "eta": order.estimated_ready_at.isoformat() if order.estimated_ready_at else None,
        "courier": order.courier,
        "tracking_number": order.tracking_number,
        "note": event.note,
        "photo": event.photo,
        "at": event.at.isoformat(),
    }


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


async def _pairs(
    session: AsyncSession, key: Any, value: Any, ids: set[int]
) -> dict[int, list[Any]]:
    """Map each id to the values of the rows whose `key` column is that id."""
    found: dict[int, list[Any]] = {}
    for part in _chunks(sorted(ids)):
        for ident, item in await session.execute(select(key, value).where(key.in_(part))):
            found.setdefault(ident, []).append(item)
    return found


async def recipients_of(
    session: AsyncSession, orders: Sequence[Order]
) -> dict[int, list[tuple[int, str]]]:
    """Every chat that must hear of each order, once each, by order id: (chat_id, audience).

    The customer's linked chats hear as `customer`; for dropship the reseller's own chats
    hear as `reseller` (which wins if a chat is both).
    """
    customer_chats = await _pairs(
        session, ChatLink.customer_id, ChatLink.chat_id, {o.customer_id for o in orders}
    )
    reseller_ids = {o.reseller_id for o in orders if o.reseller_id is not None}
    reseller_chats = await _pairs(session, Chat.reseller_id, Chat.id, reseller_ids)
    out: dict[int, list[tuple[int, str]]] = {}
    for order in orders:
        found = dict.fromkeys(customer_chats.get(order.customer_id, ()), "customer")
        if order.reseller_id is not None:
            found.update(dict.fromkeys(reseller_chats.get(order.reseller_id, ()), "reseller"))
        out[order.id] = sorted(found.items())
    return out


async def recipients(session: AsyncSession, order: Order) -> list[tuple[int, str]]:
    """Every chat that must hear of this one order: (chat_id, audience)."""
    return (await recipients_of(session, [order]))[order.id]


@dataclass(frozen=True)
class _Change:
    order: Order
    event: PhaseEvent
    due_at: datetime
    payload: dict[str, Any]  # worded from the order as it was right after this change


EVENT_COLUMNS = tuple(c.key for c in PhaseEvent.__table__.columns if c.key != "id")
STEPS = (256, 64, 16, 4, 1)  # rows per INSERT: 1,000 events are 12 statements


def _steps(count: int) -> Iterator[tuple[int, int]]:
    """Split `count` rows into (start, size) runs whose sizes come from STEPS, largest first."""
    start = 0
    for size in STEPS:
        while count - start >= size:
            yield start, size
            start += size


async def insert_events(session: AsyncSession, events: Sequence[PhaseEvent]) -> None:
    """Insert new events in multi-row statements and give each its id.

    The ORM would insert them one statement each: it cannot batch RETURNING on SQLite.
    Statements come in a few fixed sizes, so the drivers' prepared-statement caches hold a
    few shapes rather than one per bulk command (a cached 1,000-row INSERT takes ~1 MB).
    """
    table = cast(Table, PhaseEvent.__table__)
    rows = [tuple(getattr(event, name) for name in EVENT_COLUMNS) for event in events]
    returned: list[tuple[Any, ...]] = []
    for start, size in _steps(len(rows)):
        part = rows[start : start + size]
        returned += await insert_rows(
            session, table, EVENT_COLUMNS, part, returning=("id", "order_id")
        )
    # Rows get ids in the order written; RETURNING may list them in any order.
    ids: dict[int, list[int]] = {}
    for event_id, order_id in sorted(returned, reverse=True):
        ids.setdefault(order_id, []).append(event_id)
    for event in events:
        event.id = ids[event.order_id].pop()


class Batch:
    """Changes whose events and notifications are written together, in the caller's transaction.

    `add` keeps a change and its new event; `write` inserts the events, finds who hears of
    each order and queues every notification, in a few statements for any number of changes.
    Until `write`, nothing of them is stored: a batch that is never written loses its changes'
    history and messages, so write it before the transaction commits.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._changes: list[_Change] = []

    def add(self, order: Order, event: PhaseEvent, due_at: datetime) -> None:
        """Keep a change to announce; its wording is fixed now, before the order moves again."""
        payload = order_update_payload(order, event, audience="", brand=None, customer_name="")
        self._changes.append(_Change(order, event, due_at, payload))

    async def write(self) -> None:
        """Write the kept events and queue their notifications."""
        changes, self._changes = self._changes, []
        if not changes:
            return
        await self.session.flush()
        await insert_events(self.session, [change.event for change in changes])
        orders = [change.order for change in changes]
        names = await _pairs(
            self.session, Customer.id, Customer.name, {o.customer_id for o in orders}
        )
        brands = await _pairs(
            self.session,
            Reseller.id,
            Reseller.name,
            {o.reseller_id for o in orders if o.reseller_id is not None},
        )
        heard = await recipients_of(self.session, orders)
        rows: list[dict[str, Any]] = []
        for change in changes:
            order, event = change.order, change.event
            brand = brands[order.reseller_id][0] if order.reseller_id is not None else None
            for chat_id, audience in heard[order.id]:
                payload = change.payload | {
                    "audience": audience,
                    "brand": brand,
                    "customer_name": names[order.customer_id][0],
                }
                rows.append(
                    {
                        "chat_id": chat_id,
                        "order_id": order.id,
                        "event_id": event.id,
                        "kind": NotificationKind.ORDER_UPDATE,
                        "idempotency_key": order_update_key(order.id, event.id, chat_id),
                        "due_at": change.due_at,
                        "payload": payload,
                    }
                )
        await enqueue(self.session, rows)
