"""CSV import: every row checked first, all or nothing, idempotent, fast enough for big files."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import Customer, Notification, Order, OrderLine, PhaseEvent, Product
from models.enums import Channel, Fulfillment, Phase
from models.imports import (
    ORDER_COLUMNS,
    PRODUCT_COLUMNS,
    ImportRejected,
    import_orders,
    import_products,
    read_csv,
)
from models.storage import Database
from tests import factories

PRODUCTS = """sku,name,variant,price,reseller_price,stock,fulfillment,stages,notes
kaos-htm-xl,Kaos Polos,Hitam XL,85000,70000,10,ready_stock,,ignored column
BATIK-PRM,Kemeja Batik,Premium M,350000,300000,,made_to_order,potong:1d;jahit:2d;qc:4h,
TOTE-01,Tote Bag,Kanvas,60000,,3,ready_stock,,
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def load_products(db: Database, tmp_path: Path, text: str = PRODUCTS) -> None:
    rows = read_csv(write(tmp_path, "products.csv", text), PRODUCT_COLUMNS)
    async with db.transaction() as s:
        await import_products(s, rows)


def orders_csv(count: int, *, sku: str = "KAOS-HTM-XL", bad_line: int | None = None) -> str:
    """One single-line order per row; `bad_line` (file line number) gets a broken phone."""
    lines = ["code,customer_name,customer_phone,sku,qty,reseller,language"]
    for i in range(count):
        phone = "12" if bad_line == i + 2 else f"0812{i % 5000:08d}"
        lines.append(f"INV-{i},Pembeli {i % 5000},{phone},{sku},1,,id")
    return "\n".join(lines) + "\n"


async def counts(db: Database) -> dict[str, int]:
    async with db.sessions() as s:
        return {
            model.__name__: int(await s.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Order, OrderLine, Customer, PhaseEvent, Notification)
        }


async def test_products_import_upserts_by_sku_and_twice_changes_nothing(
    db: Database, tmp_path: Path
) -> None:
    await load_products(db, tmp_path)
    async with db.sessions() as s:
        items = {p.sku: p for p in await s.scalars(select(Product))}
    assert set(items) == {"KAOS-HTM-XL", "BATIK-PRM", "TOTE-01"}
    assert items["BATIK-PRM"].fulfillment is Fulfillment.MADE_TO_ORDER
    assert [st.name for st in items["BATIK-PRM"].stages] == ["potong", "jahit", "qc"]
    assert (items["KAOS-HTM-XL"].on_hand, str(items["KAOS-HTM-XL"].reseller_price)) == (
        10,
        "70000.00",
    )

    rows = read_csv(write(tmp_path, "again.csv", PRODUCTS), PRODUCT_COLUMNS)
    async with db.transaction() as s:
        result = await import_products(s, rows)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)


async def test_products_import_stock_change_serves_waiting_orders(
    db: Database, tmp_path: Path
) -> None:
    await load_products(db, tmp_path)
    async with db.transaction() as s:
        await import_orders(s, read_csv(write(tmp_path, "o.csv", orders_csv(12)), ORDER_COLUMNS))
    async with db.sessions() as s:
        waiting = await s.scalar(select(func.count()).where(Order.phase == Phase.AWAITING_STOCK))
    assert waiting == 2
    await load_products(db, tmp_path, PRODUCTS.replace("70000,10,", "70000,13,"))
    async with db.sessions() as s:
        phases = dict((await s.execute(select(Order.code, Order.phase))).all())
        kaos = await s.scalar(select(Product).where(Product.sku == "KAOS-HTM-XL"))
    assert phases["INV-10"] is Phase.PLACED and phases["INV-11"] is Phase.PLACED
    assert kaos is not None and (kaos.on_hand, kaos.reserved) == (13, 12)


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("X1,Kaos,,abc,,1,ready_stock,,", "price"),
        ("X1,Kaos,,1000,,-1,ready_stock,,", "stock"),
        ("X1,Kaos,,1000,,1,preorder,,", "fulfillment"),
        ("X1,Kaos,,1000,,,made_to_order,,", "stages"),
        ("X1,Kaos,,1000,,,made_to_order,jahit:2w,", "stages"),
        ("X1,Kaos,,1000,,2,ready_stock,jahit:2d,", "stages"),
        ("X1,,,1000,,2,ready_stock,,", "name"),
        ("TOTE-01,Tote,,1000,,2,ready_stock,,", "already on line 4"),
        ("bad sku!,Tote,,1000,,2,ready_stock,,", "sku"),
    ],
)
async def test_a_bad_product_row_is_named_and_nothing_is_written(
    db: Database, tmp_path: Path, bad_row: str, message: str
) -> None:
    text = PRODUCTS + bad_row + "\n"
    with pytest.raises(ImportRejected) as caught:
        await load_products(db, tmp_path, text)
    (error,) = caught.value.errors
    assert error.line == 5 and message in error.message
    async with db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Product)) == 0


async def test_stock_cannot_be_imported_below_what_orders_hold(
    db: Database, tmp_path: Path
) -> None:
    await load_products(db, tmp_path)
    async with db.transaction() as s:
        await import_orders(s, read_csv(write(tmp_path, "o.csv", orders_csv(4)), ORDER_COLUMNS))
    with pytest.raises(ImportRejected, match="1 bad row") as caught:
        await load_products(db, tmp_path, PRODUCTS.replace("70000,10,", "70000,3,"))
    assert "below the 4 units reserved" in caught.value.errors[0].message


async def test_one_bad_row_in_a_thousand_writes_nothing_and_names_its_line(
    db: Database, tmp_path: Path
) -> None:
    await load_products(db, tmp_path, PRODUCTS.replace("70000,10,", "70000,5000,"))
    path = write(tmp_path, "orders.csv", orders_csv(1000, bad_line=738))
    before = await counts(db)
    with pytest.raises(ImportRejected) as caught:
        async with db.transaction() as s:
            await import_orders(s, read_csv(path, ORDER_COLUMNS))
    assert [(e.line, e.message) for e in caught.value.errors] == [
        (738, "customer_phone: '12' is not a phone number")
    ]
    assert await counts(db) == before


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("INV-9,Sari,081234567890,NOPE,1,,id", "no product NOPE"),
        ("INV-9,Sari,081234567890,TOTE-01,0,,id", "qty"),
        ("INV-9,Sari,081234567890,TOTE-01,1,GHOST,id", "no reseller GHOST"),
        ("INV-9,Sari,081234567890,TOTE-01,1,,fr", "language"),
        ("INV-9,,081234567890,TOTE-01,1,,id", "customer_name"),
        ("INV 9,Sari,081234567890,TOTE-01,1,,id", "code"),
        ("INV-1,Sari,081299999999,TOTE-01,1,,id", "differ from line 2"),
    ],
)
async def test_a_bad_order_row_is_named(
    db: Database, tmp_path: Path, row: str, message: str
) -> None:
    await load_products(db, tmp_path)
    text = "code,customer_name,customer_phone,sku,qty,reseller,language\n"
    text += "INV-1,Sari,081234567890,KAOS-HTM-XL,1,,id\n" + row + "\n"
    with pytest.raises(ImportRejected) as caught:
        async with db.transaction() as s:
            await import_orders(s, read_csv(write(tmp_path, "o.csv", text), ORDER_COLUMNS))
    (error,) = caught.value.errors
    assert error.line == 3 and message in error.message
    assert (await counts(db))["Order"] == 0


async def test_importing_orders_twice_changes_nothing(db: Database, tmp_path: Path) -> None:
    await load_products(db, tmp_path)
    async with db.transaction() as s:
        sari = await factories.customer(s, "081277770001", "Sari")
        await factories.customer_chat(s, sari, Channel.TELEGRAM, "5001")
    text = orders_csv(8) + "MIX-1,Sari,081277770001,BATIK-PRM,1,,en\n"
    text += "MIX-1,Sari,081277770001,TOTE-01,2,,en\n"
    path = write(tmp_path, "orders.csv", text)
    async with db.transaction() as s:
        first = await import_orders(s, read_csv(path, ORDER_COLUMNS))
    assert first.created == 9
    after_first = await counts(db)
    async with db.sessions() as s:
        snapshot = (await s.execute(select(Order.code, Order.phase, Order.link_code))).all()
    async with db.transaction() as s:
        second = await import_orders(s, read_csv(path, ORDER_COLUMNS))
    assert (second.created, second.unchanged) == (0, 9)
    assert await counts(db) == after_first
    async with db.sessions() as s:
        assert (await s.execute(select(Order.code, Order.phase, Order.link_code))).all() == snapshot
        mix = await s.scalar(select(Order).where(Order.code == "MIX-1"))
        assert mix is not None and mix.fulfillment is Fulfillment.MADE_TO_ORDER
        assert mix.stock_reserved and mix.estimated_ready_at is not None
        # The customer already chatting with the shop hears of the new order.
        (note,) = await s.scalars(select(Notification))
        assert note.payload["order_code"] == "MIX-1" and note.payload["phase"] == "placed"


async def test_dropship_orders_import_tells_the_reseller(db: Database, tmp_path: Path) -> None:
    await load_products(db, tmp_path)
    async with db.transaction() as s:
        await factories.reseller(s, "MAWAR", "Mawar Batik Store", telegram_id=7007)
    text = "code,customer_name,customer_phone,sku,qty,reseller,language\n"
    text += "DS-1,Rina,081299990000,TOTE-01,1,mawar,\n"
    async with db.transaction() as s:
        await import_orders(s, read_csv(write(tmp_path, "o.csv", text), ORDER_COLUMNS))
    async with db.sessions() as s:
        (note,) = await s.scalars(select(Notification))
        line = await s.scalar(select(OrderLine))
    assert note.payload["audience"] == "reseller" and note.payload["brand"] == "Mawar Batik Store"
    assert line is not None and str(line.unit_price) == "60000.00"  # no reseller price: retail


async def test_missing_columns_and_non_utf8_files_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "o.csv", "code,customer_name,sku\nA,B,C\n")
    with pytest.raises(ImportRejected) as caught:
        read_csv(path, ORDER_COLUMNS)
    assert caught.value.errors[0].line == 1
    assert "customer_phone, qty, reseller, language" in caught.value.errors[0].message
    latin = tmp_path / "latin.csv"
    latin.write_bytes(
        "code,customer_name,customer_phone,sku,qty,reseller,language\nA,Jos\xe9,1,2,3,,\n".encode(
            "latin-1"
        )
    )
    with pytest.raises(ImportRejected, match="bad row") as caught:
        read_csv(latin, ORDER_COLUMNS)
    assert "UTF-8" in caught.value.errors[0].message


async def test_fifty_thousand_order_rows_import(db: Database, tmp_path: Path) -> None:
    await load_products(db, tmp_path, PRODUCTS.replace("70000,10,", "70000,40000,"))
    path = write(tmp_path, "big.csv", orders_csv(50_000))
    rows = read_csv(path, ORDER_COLUMNS)
    started = time.perf_counter()
    async with db.transaction() as s:
        result = await import_orders(s, rows)
    elapsed = time.perf_counter() - started
    print(f"\n50,000 order rows on {db.dialect}: {elapsed:.1f}s, {50_000 / elapsed:,.0f} rows/s")
    assert (result.created, result.awaiting_stock) == (50_000, 10_000)
    found = await counts(db)
    assert (found["Order"], found["OrderLine"], found["Customer"], found["PhaseEvent"]) == (
        50_000,
        50_000,
        5_000,
        50_000,
    )
    async with db.sessions() as s:
        kaos = await s.scalar(select(Product).where(Product.sku == "KAOS-HTM-XL"))
    assert kaos is not None and (kaos.on_hand, kaos.reserved) == (40_000, 40_000)
