"""Orders moving through the three flows, with events and outbox rows in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.catalog import Product
from models.change import Actor, Change
from models.enums import Channel, Fulfillment, Phase
from models.errors import InvalidTransition
from models.flows import Position
from models.lifecycle import advance, cancel, hold, load_for_change, resume
from models.orders import Order, PhaseEvent
from models.outbox import Notification
from models.placing import place_order
from models.storage import Database
from tests.support import factories

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 09:00 in Jakarta
STAFF = Actor.staff(1)


@pytest.fixture
async def db(db: Database) -> Database:
    """The shop's database with one staff member (id 1) who makes the changes."""
    async with db.transaction() as s:
        assert (await factories.staff(s)).id == STAFF.staff_id
    return db


async def outbox(db: Database) -> list[Notification]:
    async with db.sessions() as session:
        return list(await session.scalars(select(Notification).order_by(Notification.id)))


async def events(db: Database, code: str) -> list[PhaseEvent]:
    async with db.sessions() as session:
        return list(
            await session.scalars(
                select(PhaseEvent)
                .join(Order, Order.id == PhaseEvent.order_id)
                .where(Order.code == code)
                .order_by(PhaseEvent.id)
            )
        )


async def test_ready_stock_order_walks_every_phase_and_tells_the_customer_each_time(
    db: Database,
) -> None:
    async with db.transaction() as s:
        kaos = await factories.product(s, "KAOS-HTM-XL", stock=5)
        sari = await factories.customer(s, "0812-3456-7890")
        await factories.customer_chat(s, sari, Channel.TELEGRAM, "5001")
        order = await place_order(s, code="inv-1", customer=sari, lines=[(kaos, 2)], now=T0)
        assert order.code == "INV-1"
        assert order.phase is Phase.PLACED and order.stock_reserved
    steps = [Phase.PAID, Phase.PACKED, Phase.SHIPPED, Phase.DELIVERED]
    for i, phase in enumerate(steps, start=1):
        async with db.transaction() as s:
            order = await load_for_change(s, "INV-1")
            shipped = phase is Phase.SHIPPED
            await advance(
                s,
                order,
                Position(phase),
                Change(STAFF, T0 + timedelta(hours=i)),
                courier="JNE" if shipped else None,
                tracking_number="JN123" if shipped else None,
            )

    history = await events(db, "INV-1")
    assert [(e.from_phase, e.to_phase) for e in history] == [
        (None, Phase.PLACED),
        (Phase.PLACED, Phase.PAID),
        (Phase.PAID, Phase.PACKED),
        (Phase.PACKED, Phase.SHIPPED),
        (Phase.SHIPPED, Phase.DELIVERED),
    ]
    assert [e.actor for e in history] == ["system", "staff", "staff", "staff", "staff"]
    rows = await outbox(db)
    assert [r.payload["phase"] for r in rows] == [
        "placed",
        "paid",
        "packed",
        "shipped",
        "delivered",
    ]
    assert rows[3].payload["courier"] == "JNE" and rows[3].payload["tracking_number"] == "JN123"
    assert {r.event_id for r in rows} == {e.id for e in history}
    async with db.sessions() as s:
        kaos = await factories_product(s, "KAOS-HTM-XL")
        # Shipping took the two reserved units out of the warehouse.
        assert (kaos.on_hand, kaos.reserved) == (3, 0)


async def factories_product(session: AsyncSession, sku: str) -> Product:
    product = await session.scalar(select(Product).where(Product.sku == sku))
    assert product is not None
    return product


async def test_made_to_order_stages_report_progress_and_a_moving_estimate(db: Database) -> None:
    async with db.transaction() as s:
        batik = await factories.product(s, "BATIK-01", stages="potong:1d;jahit:2d;sablon:1d;qc:4h")
        budi = await factories.customer(s, "+62 813 1111 2222", "Budi")
        await factories.customer_chat(s, budi, Channel.WHATSAPP, "+6281311112222")
        order = await place_order(s, code="INV-2", customer=budi, lines=[(batik, 1)], now=T0)
        assert order.fulfillment is Fulfillment.MADE_TO_ORDER
        total = timedelta(days=4, hours=4)
        assert order.estimated_ready_at == T0 + total

    async def move(target: Position, at: datetime) -> Order:
        async with db.transaction() as s:
            order = await load_for_change(s, "INV-2")
            await advance(s, order, target, Change(STAFF, at))
            return order

    paid_at = T0 + timedelta(hours=1)
    await move(Position(Phase.PAID), paid_at)
    start = T0 + timedelta(hours=2)
    order = await move(Position(Phase.IN_PRODUCTION, 0), start)
    assert order.estimated_ready_at == start + timedelta(days=4, hours=4)
    # Cutting finished half a day early: the estimate moves earlier by as much.
    early = start + timedelta(hours=12)
    order = await move(Position(Phase.IN_PRODUCTION, 1), early)
    assert order.estimated_ready_at == start + timedelta(days=3, hours=16)
    # Sewing ran a day late: the estimate moves later.
    late = early + timedelta(days=3)
    order = await move(Position(Phase.IN_PRODUCTION, 2), late)
    assert order.estimated_ready_at == late + timedelta(days=1, hours=4)
    await move(Position(Phase.IN_PRODUCTION, 3), late + timedelta(days=1))
    ready_at = late + timedelta(days=1, hours=3)
    order = await move(Position(Phase.READY), ready_at)
    assert order.estimated_ready_at == ready_at
    await move(Position(Phase.SHIPPED), ready_at + timedelta(hours=1))
    await move(Position(Phase.DELIVERED), ready_at + timedelta(days=2))

    rows = await outbox(db)
    progress = [
        (r.payload["stage"], r.payload["stage_number"], r.payload["stage_count"]) for r in rows
    ]
    assert progress[2:6] == [("potong", 1, 4), ("jahit", 2, 4), ("sablon", 3, 4), ("qc", 4, 4)]
    assert [r.payload["phase"] for r in rows] == [
        "placed", "paid", "in_production", "in_production", "in_production", "in_production",
        "ready", "shipped", "delivered",
    ]  # fmt: skip
    assert rows[3].payload["eta"] == (start + timedelta(days=3, hours=16)).isoformat()


async def test_dropship_tells_end_customer_under_reseller_brand_and_the_reseller_too(
    db: Database,
) -> None:
    async with db.transaction() as s:
        tote = await factories.product(s, "TOTE-01", stock=3, reseller_price="60000")
        rina = await factories.customer(s, "081299990000", "Rina")
        rina_chat = await factories.customer_chat(s, rina, Channel.WHATSAPP, "+6281299990000")
        mawar = await factories.reseller(s, "MAWAR", "Mawar Batik Store", telegram_id=7007)
        order = await place_order(
            s, code="DS-1", customer=rina, lines=[(tote, 1)], reseller=mawar, now=T0
        )
        assert order.reseller_id == mawar.id
    async with db.transaction() as s:
        order = await load_for_change(s, "DS-1")
        await advance(s, order, Position(Phase.PAID), Change(STAFF, T0 + timedelta(hours=1)))

    rows = await outbox(db)
    assert len(rows) == 4  # two events x (end customer, reseller)
    to_customer = [r for r in rows if r.chat_id == rina_chat.id]
    to_reseller = [r for r in rows if r.chat_id != rina_chat.id]
    assert [r.payload["phase"] for r in to_customer] == ["placed", "paid"]
    assert [r.payload["phase"] for r in to_reseller] == ["placed", "paid"]
    assert all(r.payload["brand"] == "Mawar Batik Store" for r in to_customer)
    assert all(r.payload["audience"] == "customer" for r in to_customer)
    assert all(r.payload["audience"] == "reseller" for r in to_reseller)
    assert to_reseller[0].payload["customer_name"] == "Rina"


async def test_direct_sale_payload_carries_no_reseller_brand(db: Database) -> None:
    async with db.transaction() as s:
        kaos = await factories.product(s, "KAOS-1", stock=1)
        sari = await factories.customer(s, "081234567890")
        await factories.customer_chat(s, sari, Channel.TELEGRAM, "1")
        await place_order(s, code="INV-3", customer=sari, lines=[(kaos, 1)], now=T0)
    (row,) = await outbox(db)
    assert row.payload["brand"] is None and row.payload["audience"] == "customer"


async def test_cancel_releases_stock_and_hold_resumes_where_it_was(db: Database) -> None:
    async with db.transaction() as s:
        kaos = await factories.product(s, "KAOS-2", stock=2)
        sari = await factories.customer(s, "081234567890")
        await place_order(s, code="A", customer=sari, lines=[(kaos, 2)], now=T0)
    async with db.transaction() as s:
        order = await load_for_change(s, "A")
        await advance(s, order, Position(Phase.PAID), Change(STAFF, T0))
        held = await hold(s, order, Change(STAFF, T0), note="alamat belum jelas")
        assert held.to_phase is Phase.ON_HOLD
        with pytest.raises(InvalidTransition, match="on hold"):
            await advance(s, order, Position(Phase.PACKED), Change(STAFF, T0))
        resumed = await resume(s, order, Change(STAFF, T0))
        assert resumed.to_phase is Phase.PAID
        await cancel(s, order, Change(STAFF, T0), reason="customer asked")
    async with db.sessions() as s:
        kaos = await factories_product(s, "KAOS-2")
        assert (kaos.on_hand, kaos.reserved) == (2, 0)
        order = await load_for_change(s, "A")
        assert order.phase is Phase.CANCELLED and not order.stock_reserved
    with pytest.raises(InvalidTransition, match="cancelled"):
        async with db.transaction() as s:
            order = await load_for_change(s, "A")
            await cancel(s, order, Change(STAFF, T0))


async def test_a_refused_move_changes_nothing(db: Database) -> None:
    async with db.transaction() as s:
        kaos = await factories.product(s, "KAOS-3", stock=1)
        sari = await factories.customer(s, "081234567890")
        await factories.customer_chat(s, sari, Channel.TELEGRAM, "1")
        await place_order(s, code="B", customer=sari, lines=[(kaos, 1)], now=T0)
    with pytest.raises(InvalidTransition, match="B is placed: cannot move to in_production"):
        async with db.transaction() as s:
            order = await load_for_change(s, "B")
            await advance(s, order, Position(Phase.IN_PRODUCTION, 0), Change(STAFF, T0))
    assert len(await events(db, "B")) == 1
    assert len(await outbox(db)) == 1


async def test_change_and_its_outbox_rows_roll_back_together(db: Database) -> None:
    async with db.transaction() as s:
        kaos = await factories.product(s, "KAOS-4", stock=1)
        sari = await factories.customer(s, "081234567890")
        await factories.customer_chat(s, sari, Channel.TELEGRAM, "1")
        await place_order(s, code="C", customer=sari, lines=[(kaos, 1)], now=T0)

    class Crash(Exception):
        pass

    with pytest.raises(Crash):
        async with db.transaction() as s:
            order = await load_for_change(s, "C")
            await advance(s, order, Position(Phase.PAID), Change(STAFF, T0))
            assert await s.scalar(select(func.count()).select_from(Notification)) == 2
            raise Crash  # e.g. the process dies before commit

    async with db.sessions() as s:
        order = await load_for_change(s, "C")
        assert order.phase is Phase.PLACED
    assert [r.payload["phase"] for r in await outbox(db)] == ["placed"]
    assert len(await events(db, "C")) == 1


async def test_staff_change_waits_out_the_undo_window(db: Database) -> None:
    async with db.transaction() as s:
        kaos = await factories.product(s, "KAOS-5", stock=1)
        sari = await factories.customer(s, "081234567890")
        await factories.customer_chat(s, sari, Channel.TELEGRAM, "1")
        order = await place_order(s, code="D", customer=sari, lines=[(kaos, 1)], now=T0)
        await advance(s, order, Position(Phase.PAID), Change(STAFF, T0, timedelta(seconds=30)))
    placed, paid = await outbox(db)
    assert placed.due_at == T0
    assert paid.due_at == T0 + timedelta(seconds=30)
