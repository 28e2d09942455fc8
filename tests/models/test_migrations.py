"""Migrations: they build exactly the schema the models describe, and running them again is safe."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, select, text

from models import Base, Chat, ChatLink, Customer, Order, OrderLink
from models.chats import get_or_create_chat
from models.enums import Channel, Language, PaymentState
from models.linking import chat_orders
from models.placing import place_order
from models.schema import alembic_config, current_revision, migrate, upgrade
from models.storage import Database
from tests.support import factories


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def schema_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "target_metadata": Base.metadata}
    )
    return list(compare_metadata(context, Base.metadata))


def schema_snapshot(connection: Connection) -> dict[str, Any]:
    """Everything a migration could change, in a comparable form."""
    inspector = inspect(connection)
    snapshot: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        snapshot[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ],
            "pk": inspector.get_pk_constraint(table),
            "fks": sorted(
                (fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (ix["name"] or "", tuple(str(c) for c in ix["column_names"]), ix["unique"])
                for ix in inspector.get_indexes(table)
            ),
            "unique": sorted(
                (uq["name"] or "", tuple(uq["column_names"]))
                for uq in inspector.get_unique_constraints(table)
            ),
        }
    return snapshot


async def test_upgraded_database_matches_the_models_exactly(db: Database) -> None:
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(schema_diff)
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert diff == []
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


async def test_database_is_at_the_head_revision(db: Database) -> None:
    head = head_revision()
    assert await current_revision(db) == head
    async with db.sessions() as s:
        assert list(await s.scalars(text("SELECT version_num FROM alembic_version"))) == [head]


async def test_upgrading_again_changes_nothing(db: Database) -> None:
    async with db.transaction() as s:
        s.add(Customer(phone="+6281234567890", name="Sari", language=Language.ID))
    async with db.engine.connect() as conn:
        before = await conn.run_sync(schema_snapshot)
    assert before  # the snapshot sees the tables

    await upgrade(db)
    await upgrade(db)

    async with db.engine.connect() as conn:
        after = await conn.run_sync(schema_snapshot)
        diff = await conn.run_sync(schema_diff)
    assert after == before
    assert diff == []
    assert await current_revision(db) == head_revision()
    async with db.sessions() as s:
        assert list(await s.scalars(select(Customer.name))) == ["Sari"]
        assert list(await s.scalars(text("SELECT version_num FROM alembic_version"))) == [
            head_revision()
        ]


async def test_an_empty_database_has_no_revision_until_upgraded(sqlite_db: Database) -> None:
    fresh = Database(sqlite_db.url.set(database=f"{sqlite_db.url.database}.fresh"))
    try:
        assert await current_revision(fresh) is None
        await upgrade(fresh)
        assert await current_revision(fresh) == head_revision()
    finally:
        await fresh.dispose()


async def sqlite_pragmas(db: Database) -> dict[str, Any]:
    async with db.sessions() as s:
        return {
            name: await s.scalar(text(f"PRAGMA {name}"))
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }


async def test_sqlite_connections_use_wal_foreign_keys_and_wait_for_locks(
    sqlite_db: Database,
) -> None:
    expected = {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000, "synchronous": 1}
    assert await sqlite_pragmas(sqlite_db) == expected
    # Every new connection is tuned, not only the first one.
    await sqlite_db.dispose()
    assert await sqlite_pragmas(sqlite_db) == expected


async def test_migrating_keeps_the_rows_that_point_at_an_altered_table(db: Database) -> None:
    # SQLite rebuilds a table to alter it; with foreign keys on, dropping the old `chats`
    # deleted every chat's links (ON DELETE CASCADE) when 0006 added a column to it.
    await migrate(db, "0005")
    async with db.engine.begin() as conn:
        for statement in (
            "INSERT INTO customers (phone, name, created_at) VALUES ('+6281234567890', 'Sari', "
            "'2026-03-02 02:00:00.000000')",
            "INSERT INTO chats (channel, address, active, opted_out, created_at) "
            "VALUES ('telegram', '5001', true, false, '2026-03-02 02:00:00.000000')",
            "INSERT INTO chat_links (chat_id, customer_id, via, linked_at) SELECT chats.id, "
            "customers.id, 'phone', '2026-03-02 02:00:00.000000' FROM chats, customers",
        ):
            await conn.execute(text(statement))
    await migrate(db, "head")
    await migrate(db, "0005")
    await migrate(db, "head")
    async with db.sessions() as s:
        assert list(await s.scalars(select(ChatLink.via))) == ["phone"]
    if db.dialect == "sqlite":
        assert (await sqlite_pragmas(db))["foreign_keys"] == 1


async def test_a_chat_linked_by_code_keeps_the_orders_it_saw_and_no_later_ones(
    db: Database,
) -> None:
    async with db.transaction() as s:
        sari = await factories.customer(s, "0812-3456-7890", "Sari")
        kaos = await factories.product(s, "KAOS", stock=5)
        first = await place_order(s, code="INV-1", customer=sari, lines=[(kaos, 1)])
        second = await place_order(s, code="INV-2", customer=sari, lines=[(kaos, 1)])
        by_code = await get_or_create_chat(s, Channel.TELEGRAM, "5001")
        by_phone = await get_or_create_chat(s, Channel.WHATSAPP, "+6281234567890")
    await migrate(db, "0006")
    async with db.engine.begin() as conn:
        # Before 0007 a link code linked the whole customer.
        for chat, via in ((by_code, "code"), (by_phone, "phone")):
            await conn.execute(
                text(
                    "INSERT INTO chat_links (chat_id, customer_id, via, linked_at) "
                    "VALUES (:chat, :customer, :via, '2026-03-02 02:00:00.000000')"
                ),
                {"chat": chat.id, "customer": sari.id, "via": via},
            )
    await migrate(db, "head")
    async with db.transaction() as s:
        later = await place_order(s, code="INV-3", customer=sari, lines=[(kaos, 1)])
    async with db.sessions() as s:
        code_chat = await s.get(Chat, by_code.id)
        phone_chat = await s.get(Chat, by_phone.id)
        assert code_chat is not None and phone_chat is not None
        assert [o.code for o in await chat_orders(s, code_chat, 10)] == ["INV-2", "INV-1"]
        assert [o.code for o in await chat_orders(s, phone_chat, 10)] == ["INV-3", "INV-2", "INV-1"]
        assert list(await s.scalars(select(ChatLink.via))) == ["phone"]
        assert sorted(await s.scalars(select(OrderLink.order_id))) == [first.id, second.id]
    assert later.id not in (first.id, second.id)
    # Going back, the links per order become the customer-wide link they were.
    await migrate(db, "0006")
    async with db.engine.begin() as conn:
        rows = (
            await conn.execute(text("SELECT chat_id, via FROM chat_links ORDER BY chat_id"))
        ).all()
    await migrate(db, "head")
    assert [tuple(r) for r in rows] == [(by_code.id, "code"), (by_phone.id, "phone")]


def _to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_existing_orders_get_their_money_and_those_past_paid_are_paid(
    sqlite_db: Database,
) -> None:
    fresh = Database(sqlite_db.url.set(database=f"{sqlite_db.url.database}.old"))
    try:
        async with fresh.engine.begin() as conn:
            await conn.run_sync(_to, "0006")
            await conn.execute(
                text(
                    "INSERT INTO customers (id, phone, name, created_at)"
                    " VALUES (1, '+6281234567890', 'Sari', '2026-03-01')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO products (id, sku, name, variant, price, on_hand, reserved,"
                    " fulfillment, stages, created_at, updated_at) VALUES (1, 'KAOS', 'Kaos', '',"
                    " 85000, 10, 0, 'ready_stock', '[]', '2026-03-01', '2026-03-01')"
                )
            )
            for order_id, phase in ((1, "placed"), (2, "packed"), (3, "in_production")):
                await conn.execute(
                    text(
                        "INSERT INTO orders (id, code, customer_id, fulfillment, phase,"
                        " stage_plan, stock_reserved, link_code, placed_at, phase_entered_at,"
                        " updated_at) VALUES (:id, :code, 1, 'ready_stock', :phase, '[]', 0,"
                        " :link, '2026-03-01', '2026-03-01', '2026-03-01')"
                    ),
                    {"id": order_id, "code": f"INV-{order_id}", "phase": phase, "link": order_id},
                )
                await conn.execute(
                    text(
                        "INSERT INTO order_lines (order_id, product_id, qty, unit_price,"
                        " from_stock) VALUES (:id, 1, 2, 85000, 1)"
                    ),
                    {"id": order_id},
                )
        await upgrade(fresh)
        async with fresh.sessions() as s:
            rows = (
                await s.execute(
                    select(
                        Order.code, Order.subtotal, Order.paid_amount, Order.payment_state
                    ).order_by(Order.id)
                )
            ).all()
        assert rows == [
            ("INV-1", Decimal(170000), Decimal(0), PaymentState.UNPAID),
            ("INV-2", Decimal(170000), Decimal(170000), PaymentState.PAID),
            ("INV-3", Decimal(170000), Decimal(170000), PaymentState.PAID),
        ]
    finally:
        await fresh.dispose()


ROWS_AT_0004 = (
    "INSERT INTO customers (id, phone, name, created_at)"
    " VALUES (1, '+6281234567890', 'Sari', '2026-03-01')",
    "INSERT INTO products (id, sku, name, variant, price, on_hand, reserved, fulfillment, stages,"
    " created_at, updated_at) VALUES (1, 'KAOS', 'Kaos', '', 85000, 10, 0, 'ready_stock', '[]',"
    " '2026-03-01', '2026-03-01')",
    "INSERT INTO orders (id, code, customer_id, fulfillment, phase, stage_plan, stock_reserved,"
    " link_code, placed_at, phase_entered_at, updated_at) VALUES (1, 'INV-1', 1, 'ready_stock',"
    " 'placed', '[]', 0, 'x', '2026-03-01', '2026-03-01', '2026-03-01')",
    "INSERT INTO order_lines (order_id, product_id, qty, unit_price, from_stock)"
    " VALUES (1, 1, 2, 85000, 1)",
    "INSERT INTO phase_events (id, order_id, at, actor, to_phase, note)"
    " VALUES (1, 1, '2026-03-01', 'staff', 'placed', 'rapi')",
    "INSERT INTO chats (id, channel, address, active, opted_out, created_at)"
    " VALUES (1, 'console', 'sari', 1, 0, '2026-03-01')",
    "INSERT INTO chat_links (chat_id, customer_id, via, linked_at)"
    " VALUES (1, 1, 'phone', '2026-03-01')",
    "INSERT INTO notifications (chat_id, order_id, event_id, kind, payload, idempotency_key,"
    " status, attempts, due_at, via_template, created_at) VALUES (1, 1, 1, 'order_update', '{}',"
    " 'k', 'sent', 1, '2026-03-01', 0, '2026-03-01')",
    "INSERT INTO stock_subscriptions (chat_id, product_id, created_at) VALUES (1, 1, '2026-03-01')",
)
TABLES_AT_0004 = (
    "customers", "products", "orders", "order_lines", "phase_events", "chats", "chat_links",
    "notifications", "stock_subscriptions",
)  # fmt: skip


async def test_upgrading_a_shop_keeps_every_row_of_every_table(sqlite_db: Database) -> None:
    # A rebuilt SQLite table must not take the rows that point at it along (ON DELETE CASCADE).
    shop = Database(sqlite_db.url.set(database=f"{sqlite_db.url.database}.shop"))
    try:
        async with shop.engine.begin() as conn:
            await conn.run_sync(_to, "0004")
            for statement in ROWS_AT_0004:
                await conn.execute(text(statement))
        await upgrade(shop)
        async with shop.engine.connect() as conn:
            counts = {
                table: (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
                for table in TABLES_AT_0004
            }
            note = (await conn.execute(text("SELECT customer_note FROM phase_events"))).scalar()
        assert counts == dict.fromkeys(TABLES_AT_0004, 1)
        assert note == "rapi"  # notes written before were told to customers: they stay told
    finally:
        await shop.dispose()
