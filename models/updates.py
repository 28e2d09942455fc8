"""Order updates: what a change is told as, and the events and messages written in bulk.

A staff command may move a thousand orders. Their events are written in a few multi-row
inserts and the chats to tell are found in a few queries for all of them, not per order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.audience import Audience, Owned, Recipient, audiences_of, end_customer_name
from models.bulk import among, insert_rows
from models.enums import Fulfillment, Phase
from models.orders import Order, PhaseEvent
from models.outbox import (
    OrderUpdate,
    Outgoing,
    PaymentNews,
    TrackingNews,
    enqueue,
    order_update_key,
)
from models.payments import bill_is_theirs, bill_of
from models.people import Customer, Reseller
from models.stages import Stage


def order_update(
    *,
    code: str,
    fulfillment: Fulfillment,
    plan: Sequence[Stage],
    from_phase: Phase | None,
    phase: Phase,
    stage: int | None,
    eta: datetime | None,
    at: datetime,
    courier: str | None = None,
    tracking_number: str | None = None,
    note: str | None = None,
    photo: str | None = None,
) -> OrderUpdate:
    """An order update as the renderer words it later, before we know who hears it.

    `audience`, `brand` and `customer_name` are set per recipient by `for_recipient`.
    """
    return {
        "order_code": code,
        "audience": "customer",
        "brand": None,
        "customer_name": "",
        "fulfillment": fulfillment.value,
        "from_phase": from_phase.value if from_phase else None,
        "phase": phase.value,
        "stage": plan[stage].name if stage is not None else None,
        "stage_number": stage + 1 if stage is not None else None,
        "stage_count": len(plan),
        "eta": eta.isoformat() if eta else None,
        "courier": courier,
        "tracking_number": tracking_number,
        "note": note,
        "photo": photo,
        "at": at.isoformat(),
    }


def update_of(order: Order, event: PhaseEvent) -> OrderUpdate:
    """The update an event of this order is told as, worded from the order as it is now.

    Only the note written for the customer is told; an event that stays where the order was
    is news from inside a phase or stage (a progress photo or note).
    """
    update = order_update(
        code=order.code,
        fulfillment=order.fulfillment,
        plan=order.plan,
        from_phase=event.from_phase,
        phase=event.to_phase,
        stage=event.to_stage,
        eta=order.estimated_ready_at,
        at=event.at,
        courier=order.courier,
        tracking_number=order.tracking_number,
        note=event.customer_note,
        photo=event.photo,
    )
    if (event.from_phase, event.from_stage) == (event.to_phase, event.to_stage):
        update["progress"] = True
        before = event.before or {}
        if (before.get("courier"), before.get("tracking_number")) != (
            order.courier,
            order.tracking_number,
        ):
            update["corrected"] = True  # news of its own: the parcel has another resi
            if not (before.get("courier") or before.get("tracking_number")):
                update["resi_added"] = True  # shipped without one, the resi came later
    if event.payment is not None:
        update["payment"] = payment_news(order, event.payment, event.paid)
    cancelled = event.to_phase is Phase.CANCELLED and event.from_phase is not Phase.CANCELLED
    if cancelled and order.paid_amount > 0:
        update["held"] = str(order.paid_amount)
    if event.tracking:
        update["tracking"] = cast(TrackingNews, event.tracking)
    return update


def payment_news(order: Order, news: str, amount: Decimal | None = None) -> PaymentNews:
    """What an update says of the order's money, worded later in each chat's language
    (`amount` as it moved: a refund's is below zero, and told as what was given back)."""
    bill = bill_of(order)
    return {
        "news": news,
        "amount": str(abs(amount or 0)),
        "due": str(bill.due),
        "total": str(bill.total),
    }


def for_recipient(
    update: OrderUpdate,
    audience: Audience,
    brand: str | None,
    customer_name: str,
    *,
    billed: bool = True,
) -> OrderUpdate | None:
    """The update as one chat hears it: as the customer (under `brand`) or as the reseller.

    Where the bill is not `billed` to this chat (a dropship order's customer: `bill_is_theirs`)
    its money is left out, and news that is only about money is not told there at all.
    """
    heard: OrderUpdate = {
        **update,
        "audience": audience,
        "brand": brand,
        "customer_name": customer_name,
    }
    if not billed:
        heard.pop("held", None)  # their money is with their seller
    if billed or "payment" not in heard:
        return heard
    if heard.get("progress") or heard["from_phase"] == heard["phase"]:
        return None  # a payment, a reminder, a refused proof, a new bill, a refund
    del heard["payment"]  # a move that money made (cancelled unpaid) is told as the move
    return heard


@dataclass(frozen=True, slots=True)
class Told:
    """One order update to tell everyone who hears of its order."""

    order: Owned
    update: OrderUpdate
    due_at: datetime
    event_id: int | None  # None for notices that are no phase change (a late estimate)
    key: str = ""  # idempotency key per chat is `{key}:chat:{id}`; empty: the event's own key


async def tell(
    session: AsyncSession,
    told: Sequence[Told],
    *,
    heard: Mapping[int, Sequence[Recipient]] | None = None,
) -> None:
    """Queue each update for every chat that hears of its order, in a few statements.

    `heard` is `audiences_of` these orders, when the caller has it already.
    """
    if not told:
        return
    dialect = session.get_bind().dialect
    if heard is None:
        heard = await audiences_of(session, (t.order for t in told))
    reached = [t for t in told if t.order.id in heard]
    if not reached:
        return
    order_ids = sorted({t.order.id for t in reached})
    names: dict[int, str] = {}
    for order_id, name in await session.execute(
        select(Order.id, end_customer_name())
        .join(Customer, Customer.id == Order.customer_id)
        .where(among(Order.id, order_ids, dialect))
    ):
        names[order_id] = name
    reseller_ids = sorted({t.order.reseller_id for t in reached if t.order.reseller_id})
    brands: dict[int, str] = {}
    if reseller_ids:
        for seller, seller_brand in await session.execute(
            select(Reseller.id, Reseller.name).where(among(Reseller.id, reseller_ids, dialect))
        ):
            brands[seller] = seller_brand
    rows: list[Outgoing] = []
    for t in reached:
        order_id, reseller_id = t.order.id, t.order.reseller_id
        brand = brands.get(reseller_id) if reseller_id is not None else None
        for chat_id, audience in heard[order_id]:
            if t.key:
                key = f"{t.key}:chat:{chat_id}"
            else:
                assert t.event_id is not None
                key = order_update_key(order_id, t.event_id, chat_id)
            billed = bill_is_theirs(t.order, audience)
            update = for_recipient(t.update, audience, brand, names[order_id], billed=billed)
            if update is None:
                continue
            rows.append(
                Outgoing.order_update(
                    chat_id,
                    update,
                    key=key,
                    due_at=t.due_at,
                    order_id=order_id,
                    event_id=t.event_id,
                )
            )
    await enqueue(session, rows)


EVENT_COLUMNS = tuple(c.key for c in PhaseEvent.__table__.columns if c.key != "id")
STEPS = (256, 64, 16, 4, 1)  # rows per INSERT: 1,000 events are 12 statements


def _steps(count: int) -> Iterator[tuple[int, int]]:
    """Split `count` rows into (start, size) runs whose sizes come from STEPS, largest first."""
    start = 0
    for size in STEPS:
        while count - start >= size:
            yield start, size
            start += size


async def insert_events(
    session: AsyncSession, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[int]:
    """Insert event rows (tuples in `columns` order, `order_id` among them); return their ids.

    The ORM would insert them one statement each: it cannot batch RETURNING on SQLite.
    Statements come in a few fixed sizes, so the drivers' prepared-statement caches hold a
    few shapes rather than one per bulk command (a cached 1,000-row INSERT takes ~1 MB).
    Ids come back in the order of `rows`; an order may have several events among them.
    """
    table = cast(Table, PhaseEvent.__table__)
    returned: list[tuple[Any, ...]] = []
    for start, size in _steps(len(rows)):
        returned += await insert_rows(
            session, table, columns, rows[start : start + size], returning=("id", "order_id")
        )
    # Rows get ids in the order written; RETURNING may list them in any order.
    ids: dict[int, list[int]] = {}
    for event_id, order_id in sorted(returned, reverse=True):
        ids.setdefault(order_id, []).append(event_id)
    at = columns.index("order_id")
    return [ids[row[at]].pop() for row in rows]


class Batch:
    """Changes whose events and notifications are written together, in the caller's transaction.

    `add` keeps a change and its new event; `write` inserts the events and tells everyone who
    hears of each order, in a few statements for any number of changes. Until `write`,
    nothing of them is stored: write the batch before the transaction commits.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._changes: list[tuple[Order, PhaseEvent, OrderUpdate, datetime]] = []

    def add(self, order: Order, event: PhaseEvent, due_at: datetime) -> None:
        """Keep a change to announce; its wording is fixed now, before the order moves again."""
        self._changes.append((order, event, update_of(order, event), due_at))

    async def write(self) -> None:
        """Write the kept events and queue their notifications."""
        changes, self._changes = self._changes, []
        if not changes:
            return
        await self.session.flush()
        events = [event for _, event, _, _ in changes]
        rows = [tuple(getattr(event, name) for name in EVENT_COLUMNS) for event in events]
        for event, event_id in zip(
            events, await insert_events(self.session, EVENT_COLUMNS, rows), strict=True
        ):
            event.id = event_id
        await tell(
            self.session,
            [Told(order, update, due_at, event.id) for order, event, update, due_at in changes],
        )
