"""Placing orders: many at once (an import) is the same as one after another (a chat)."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from models.catalog import Product
from models.enums import Channel, Phase
from models.errors import DomainError
from models.orders import Order, PhaseEvent
from models.outbox import Notification
from models.placing import CatalogItem, NewOrder, StockLedger, place_order, place_orders
from models.storage import Database
from tests.support import factories
from tests.support.database import sqlite_file

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
STAGES = ["", "potong:1d;jahit:2d", "potong:2d;qc:4h"]  # "" is ready stock


@dataclass(frozen=True)
class Shop:
    """What a generated shop sells and what its customers order, in arrival order."""

    products: list[tuple[str, int]]  # (stages, stock)
    orders: list[tuple[int, list[tuple[int, int]]]]  # (customer 0/1, [(product index, qty)])


@st.composite
def shops(draw: st.DrawFn) -> Shop:
    products = draw(
        st.lists(
            st.tuples(st.sampled_from(STAGES), st.integers(0, 3)).map(
                lambda p: (p[0], 0 if p[0] else p[1])  # made to order keeps no stock
            ),
            min_size=1,
            max_size=3,
        )
    )
    line = st.tuples(st.integers(0, len(products) - 1), st.integers(1, 3))
    lines = st.lists(line, min_size=1, max_size=3, unique_by=lambda item: item[0])
    # Few products, several orders: orders compete for the same units.
    orders = draw(st.lists(st.tuples(st.integers(0, 1), lines), min_size=2, max_size=6))
    return Shop(products, orders)


_runs = itertools.count()


async def _place(db: Database, shop: Shop, how: str) -> tuple[object, ...]:
    """Place the shop's orders `together`, in `parts` of two sharing a ledger (as a big import
    does), or one by one; return what came of it."""
    run = f"R{next(_runs)}"
    async with db.transaction() as s:
        products = [
            await factories.product(s, f"{run}-P{i}", stock=stock, stages=stages)
            for i, (stages, stock) in enumerate(shop.products)
        ]
        people = [await factories.customer(s, f"0812{run[1:]:0>4}{n:04d}") for n in range(2)]
        await factories.customer_chat(s, people[0], Channel.TELEGRAM, f"{run}-chat")
        codes = [f"{run}-O{n}" for n in range(len(shop.orders))]
        if how != "one by one":
            requests = [
                NewOrder(
                    code,
                    people[who].id,
                    [(CatalogItem.of(products[p]), qty) for p, qty in lines],
                )
                for code, (who, lines) in zip(codes, shop.orders, strict=True)
            ]
            if how == "together":
                await place_orders(s, requests, now=T0)
            else:
                ledger = StockLedger()
                for start in range(0, len(requests), 2):
                    await place_orders(s, requests[start : start + 2], now=T0, ledger=ledger)
        else:
            for code, (who, lines) in zip(codes, shop.orders, strict=True):
                order_lines = [(products[p], qty) for p, qty in lines]
                await place_order(s, code=code, customer=people[who], lines=order_lines, now=T0)
    async with db.sessions() as s:
        orders = (await s.scalars(select(Order).where(Order.code.in_(codes)))).all()
        by_id: dict[int | None, int] = {o.id: codes.index(o.code) for o in orders}
        placed = sorted(
            (
                codes.index(o.code),
                o.phase,
                o.stock_reserved,
                o.fulfillment,
                str(o.stage_plan),
                o.estimated_ready_at,
                o.awaiting_since,
            )
            for o in orders
        )
        events = sorted(
            (by_id[e.order_id], e.actor, e.from_phase, e.to_phase)
            for e in await s.scalars(select(PhaseEvent).where(PhaseEvent.order_id.in_(list(by_id))))
        )
        told = sorted(
            (by_id[n.order_id], n.payload["phase"], n.payload["audience"], n.event_id is not None)
            for n in await s.scalars(
                select(Notification).where(Notification.order_id.in_(list(by_id)))
            )
        )
        ids = [p.id for p in products]
        rows = await s.execute(
            select(Product.id, Product.on_hand, Product.reserved).where(Product.id.in_(ids))
        )
        stock = sorted((ids.index(pid), on_hand, reserved) for pid, on_hand, reserved in rows)
    return tuple(placed), tuple(events), tuple(told), tuple(stock)


@pytest.fixture
def shop_file(tmp_path: Path) -> Path:
    """One migrated SQLite file for every example; each example adds its own products."""
    return sqlite_file(tmp_path / "placing.db")


@pytest.mark.slow
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shop=shops())
def test_orders_placed_together_end_as_if_placed_one_after_another(
    shop_file: Path, shop: Shop
) -> None:
    async def every_way() -> list[tuple[object, ...]]:
        db = Database(f"sqlite+aiosqlite:///{shop_file}")
        try:
            return [await _place(db, shop, how) for how in ("together", "parts", "one by one")]
        finally:
            await db.dispose()

    together, in_parts, one_by_one = asyncio.run(every_way())
    assert together == one_by_one
    assert in_parts == one_by_one


async def test_first_come_first_served_holds_inside_one_batch(sqlite_db: Database) -> None:
    async with sqlite_db.transaction() as s:
        kaos = CatalogItem.of(await factories.product(s, "KAOS", stock=3))
        sari = await factories.customer(s, "081234567890")
        placed = await place_orders(
            s,
            [
                NewOrder("BIG", sari.id, [(kaos, 2)]),
                NewOrder("TOO-BIG", sari.id, [(kaos, 2)]),
                NewOrder("SMALL", sari.id, [(kaos, 1)]),  # fits, but must not overtake
            ],
            now=T0,
        )
    assert [p.phase for p in placed] == [Phase.PLACED, Phase.AWAITING_STOCK, Phase.AWAITING_STOCK]


@pytest.mark.parametrize(
    ("code", "lines", "why"),
    [
        ("bad code!", [(0, 1)], "cannot be an order code"),
        ("EMPTY", [], "has no lines"),
        ("ZERO", [(0, 0)], "quantities must be 1 or more"),
        ("TWICE", [(0, 1), (0, 2)], "names a product twice"),
    ],
)
async def test_an_order_that_cannot_be_placed_is_refused_and_nothing_written(
    sqlite_db: Database, code: str, lines: list[tuple[int, int]], why: str
) -> None:
    async with sqlite_db.transaction() as s:
        kaos = CatalogItem.of(await factories.product(s, "KAOS", stock=3))
        sari = await factories.customer(s, "081234567890")
    with pytest.raises(DomainError, match=why):
        async with sqlite_db.transaction() as s:
            await place_orders(s, [NewOrder(code, sari.id, [(kaos, q) for _, q in lines])], now=T0)
    async with sqlite_db.sessions() as s:
        assert (await s.scalars(select(Order))).all() == []
