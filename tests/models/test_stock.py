"""Stock reservation under concurrency, restock filling waiting orders, back-in-stock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from models.catalog import Product, StockSubscription
from models.change import by_system
from models.chats import get_or_create_chat
from models.enums import Channel, NotificationKind, Phase
from models.errors import StockError
from models.inventory import set_stock
from models.lifecycle import cancel, load_for_change
from models.orders import Order
from models.outbox import Notification
from models.people import Customer
from models.placing import place_order
from models.storage import Database
from tests.support import factories

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


async def stock_of(db: Database, sku: str) -> tuple[int, int]:
    async with db.sessions() as s:
        item = await s.scalar(select(Product).where(Product.sku == sku))
        assert item is not None
        return item.on_hand, item.reserved


async def test_hundred_concurrent_orders_on_ten_units_reserve_exactly_ten(db: Database) -> None:
    async with db.transaction() as s:
        await factories.product(s, "KAOS-HTM-XL", stock=10)
        for i in range(100):
            await factories.customer(s, f"0812{i:08d}", f"Pembeli {i}")

    async def buy(i: int) -> None:
        async with db.transaction() as s:
            item = await s.scalar(select(Product).where(Product.sku == "KAOS-HTM-XL"))
            buyer = await s.scalar(select(Customer).where(Customer.name == f"Pembeli {i}"))
            assert item is not None and buyer is not None
            await place_order(
                s, code=f"INV-{i}", customer=buyer, lines=[(item, 1)], now=T0 + timedelta(0, i)
            )

    await asyncio.gather(*(buy(i) for i in range(100)))

    assert await stock_of(db, "KAOS-HTM-XL") == (10, 10)
    async with db.sessions() as s:
        phases = list(await s.scalars(select(Order.phase)))
    assert phases.count(Phase.PLACED) == 10
    assert phases.count(Phase.AWAITING_STOCK) == 90

    # Restock of 5 serves the five who waited longest, in that order.
    async with db.sessions() as s:
        queue = list(
            await s.scalars(
                select(Order.code)
                .where(Order.phase == Phase.AWAITING_STOCK)
                .order_by(Order.awaiting_since, Order.id)
            )
        )
    async with db.transaction() as s:
        change = await set_stock(s, "kaos-htm-xl", 5, add=True, now=T0 + timedelta(hours=1))
    assert [o.code for o in change.filled] == queue[:5]
    assert await stock_of(db, "KAOS-HTM-XL") == (15, 15)
    async with db.sessions() as s:
        still = await s.scalar(select(Order).where(Order.code == queue[5]))
        assert still is not None and still.phase is Phase.AWAITING_STOCK


async def test_stock_never_goes_negative_or_below_what_is_reserved(db: Database) -> None:
    async with db.transaction() as s:
        kaos = await factories.product(s, "KAOS-1", stock=3)
        sari = await factories.customer(s, "081234567890")
        await place_order(s, code="A", customer=sari, lines=[(kaos, 2)], now=T0)
    for amount, add in [(1, False), (-2, True), (-1, False)]:
        with pytest.raises(StockError, match="KAOS-1"):
            async with db.transaction() as s:
                await set_stock(s, "KAOS-1", amount, add=add)
    assert await stock_of(db, "KAOS-1") == (3, 2)


async def test_big_early_order_is_not_overtaken_by_a_small_later_one(db: Database) -> None:
    async with db.transaction() as s:
        kaos = await factories.product(s, "KAOS-2", stock=0)
        sari = await factories.customer(s, "081234567890")
        await place_order(s, code="BIG", customer=sari, lines=[(kaos, 3)], now=T0)
        await place_order(s, code="SMALL", customer=sari, lines=[(kaos, 1)], now=T0 + timedelta(1))
    async with db.transaction() as s:
        change = await set_stock(s, "KAOS-2", 2)
    assert change.filled == []
    async with db.transaction() as s:
        change = await set_stock(s, "KAOS-2", 4)
    assert [o.code for o in change.filled] == ["BIG", "SMALL"]


async def test_cancelling_a_reserved_order_serves_the_next_in_line(db: Database) -> None:

    async with db.transaction() as s:
        kaos = await factories.product(s, "KAOS-3", stock=1)
        sari = await factories.customer(s, "081234567890")
        await place_order(s, code="FIRST", customer=sari, lines=[(kaos, 1)], now=T0)
        await place_order(s, code="NEXT", customer=sari, lines=[(kaos, 1)], now=T0)
    async with db.transaction() as s:
        await cancel(s, await load_for_change(s, "FIRST"), by_system(T0), reason="batal")
    async with db.sessions() as s:
        nxt = await load_for_change(s, "NEXT")
        assert nxt.phase is Phase.PLACED and nxt.stock_reserved
    assert await stock_of(db, "KAOS-3") == (1, 1)


async def test_back_in_stock_subscribers_are_told_once_after_waiting_orders(db: Database) -> None:
    async with db.transaction() as s:
        kaos = await factories.product(s, "KAOS-4", stock=0)
        sari = await factories.customer(s, "081234567890")
        await place_order(s, code="WAIT", customer=sari, lines=[(kaos, 1)], now=T0)
        chat = await get_or_create_chat(s, Channel.TELEGRAM, "42")
        s.add(StockSubscription(chat_id=chat.id, product_id=kaos.id))
    async with db.transaction() as s:
        # One unit goes to the waiting order: nothing left, nobody told yet.
        change = await set_stock(s, "KAOS-4", 1)
        assert change.subscribers_told == 0
    async with db.transaction() as s:
        change = await set_stock(s, "KAOS-4", 3)
        assert change.subscribers_told == 1
    async with db.transaction() as s:
        change = await set_stock(s, "KAOS-4", 5)
        assert change.subscribers_told == 0
    async with db.sessions() as s:
        alerts = list(
            await s.scalars(
                select(Notification).where(Notification.kind == NotificationKind.BACK_IN_STOCK)
            )
        )
    assert len(alerts) == 1 and alerts[0].payload["sku"] == "KAOS-4"
    assert alerts[0].payload["available"] == 2
