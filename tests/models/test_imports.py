"""CSV import: every row checked first, all or nothing, idempotent, fast enough for big files."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, insert, select
from sqlalchemy import text as sql
from sqlalchemy.dialects import postgresql, sqlite

from models import Customer, Notification, Order, OrderLine, PhaseEvent, Product
from models.bulk import BATCH_ROWS, among, insert_rows, insert_statement
from models.catalog import StockSubscription
from models.chats import get_or_create_chat
from models.enums import Channel, Fulfillment, Language, NotificationKind, Phase
from models.import_rows import table_of
from models.imports import (
    ORDER_COLUMNS,
    PRODUCT_COLUMNS,
    ImportRejected,
    import_orders,
    import_products,
    read_csv,
)
from models.placing import WRITE_CHUNK
from models.stages import parse_stages, stages_to_json
from models.storage import Database
from tests.support import factories

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
        ("X1,Ka\x00os,,1000,,1,ready_stock,,", "name: contains a NUL byte"),
        ("X1,Kaos,Hi\x1btam,1000,,1,ready_stock,,", "variant: contains the control character"),
        ("X1,Kaos,,NaN,,1,ready_stock,,", "price: expected a number"),
        ("X1,Kaos,,1e309,,1,ready_stock,,", "price: expected less than 1,000,000,000,000"),
        ("X1,Kaos,,0.001,,1,ready_stock,,", "price: expected at most two decimals"),
        ("X1,Kaos,,-5,,1,ready_stock,,", "price: expected 0 or more"),
        ("X1,Kaos,,1000000000000,,1,ready_stock,,", "price: expected less than"),
        ("X1,Kaos,,999999999999.999,,1,ready_stock,,", "price: expected at most two decimals"),
        ("X1,Kaos,,1000,1e12,1,ready_stock,,", "reseller_price: expected less than"),
        ("X1,Kaos,,1000,,,made_to_order,jahit:99999999999d,", "at most 365d"),
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


async def test_the_largest_price_the_column_holds_is_imported(db: Database, tmp_path: Path) -> None:
    await load_products(db, tmp_path, PRODUCTS + "X1,Kaos,,999999999999.99,,1,ready_stock,,\n")
    async with db.sessions() as s:
        price = await s.scalar(select(Product.price).where(Product.sku == "X1"))
    assert str(price) == "999999999999.99"


@pytest.mark.parametrize("column", ["sku", "name", "variant", "stages"])
async def test_a_lone_surrogate_in_any_product_field_is_named(db: Database, column: str) -> None:
    row = {
        "sku": "X1",
        "name": "Kaos",
        "variant": "Hitam",
        "price": "1000",
        "reseller_price": "",
        "stock": "",
        "fulfillment": "made_to_order",
        "stages": "jahit:1d",
    }
    row[column] += "\ud800"
    with pytest.raises(ImportRejected) as caught:
        async with db.transaction() as s:
            await import_products(s, [(2, row)])
    assert [(e.line, e.message) for e in caught.value.errors] == [
        (2, f"{column}: contains a lone surrogate U+D800")
    ]


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
        (738, "customer_phone: '**' is not a phone number")
    ]
    assert await counts(db) == before


async def test_an_order_that_waits_at_the_end_of_one_chunk_is_not_overtaken_in_the_next(
    db: Database, tmp_path: Path
) -> None:
    # The file is placed WRITE_CHUNK orders at a time; first come, first served must hold
    # across the seam: the last order of the first chunk wants 2 of the 1 unit left, and the
    # first order of the next chunk, wanting 1, queues behind it.
    await load_products(db, tmp_path, PRODUCTS.replace("70000,10,", f"70000,{WRITE_CHUNK},"))
    rows = orders_csv(WRITE_CHUNK + 1).splitlines()
    last = WRITE_CHUNK  # the first chunk's last order (the header is line 0 of the list)
    rows[last] = rows[last].replace(",KAOS-HTM-XL,1,", ",KAOS-HTM-XL,2,")
    path = write(tmp_path, "seam.csv", "\n".join(rows) + "\n")
    async with db.transaction() as s:
        result = await import_orders(s, read_csv(path, ORDER_COLUMNS))
    assert (result.created, result.awaiting_stock) == (WRITE_CHUNK + 1, 2)
    async with db.sessions() as s:
        waiting = await s.scalars(
            select(Order.code).where(Order.phase == Phase.AWAITING_STOCK).order_by(Order.id)
        )
        kaos = await s.scalar(select(Product).where(Product.sku == "KAOS-HTM-XL"))
        assert list(waiting) == [f"INV-{WRITE_CHUNK - 1}", f"INV-{WRITE_CHUNK}"]
    assert kaos is not None and kaos.reserved == WRITE_CHUNK - 1


_CELLS = st.text(st.sampled_from(["a", "Z", " ", ",", '"', "\n", "\r", "é", "\t"]), max_size=6)


@settings(max_examples=200, deadline=None)
@given(records=st.lists(st.lists(_CELLS, min_size=0, max_size=4), max_size=8))
def test_csv_rows_are_read_as_the_csv_module_reads_them(
    tmp_path_factory: pytest.TempPathFactory, records: list[list[str]]
) -> None:
    # read_csv parses its text line by line; the csv module's own reading of the same file
    # (from a StringIO) is the reference: same values, same line numbers, same rows skipped.
    columns = ("a", "b", "c")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["A", " b ", "c", "extra"])
    writer.writerows(records)
    text = buffer.getvalue()
    path = tmp_path_factory.mktemp("csv") / "rows.csv"
    path.write_bytes(text.encode("utf-8"))

    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    expected = []
    line = reader.line_num + 1
    for record in reader:
        if any(cell.strip() for cell in record):
            cells = [cell.strip() for cell in record] + ["", "", ""]
            expected.append((line, dict(zip(columns, cells[:3], strict=True))))
        line = reader.line_num + 1

    rows = read_csv(path, columns)
    assert list(rows) == expected
    assert len(rows) == len(expected)
    assert list(rows) == expected  # read again: the rows are made anew on each pass


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
        ("INV-9,Sa\x00ri,081234567890,TOTE-01,1,,id", "customer_name: contains a NUL byte"),
        ("INV-9,Sari,0812\x0034567890,TOTE-01,1,,id", "customer_phone: contains a NUL byte"),
        ("INV-9,Sari,081234567890,TOTE-01,1,\x7f,id", "reseller: contains the control"),
        ("INV-9," + "Sari " * 41 + ",081234567890,TOTE-01,1,,id", "at most 200 characters"),
        ("INV-9,Sari,0812345678901234567890,TOTE-01,1,,id", "customer_phone: '08123"),
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
    assert "Sari" not in error.message and "34567890" not in error.message  # no personal data
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


@pytest.mark.slow
async def test_fifty_thousand_order_rows_import(db: Database, tmp_path: Path) -> None:
    await load_products(db, tmp_path, PRODUCTS.replace("70000,10,", "70000,40000,"))
    path = write(tmp_path, "big.csv", orders_csv(50_000))
    reading = time.perf_counter()
    rows = read_csv(path, ORDER_COLUMNS)
    started = time.perf_counter()
    async with db.transaction() as s:
        result = await import_orders(s, rows)
    elapsed = time.perf_counter() - started
    print(
        f"\n50,000 order rows on {db.dialect}: {elapsed:.1f}s, {50_000 / elapsed:,.0f} rows/s"
        f" (read_csv before that: {started - reading:.2f}s)"
    )
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


NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)


async def test_imported_orders_read_back_with_every_field(db: Database, tmp_path: Path) -> None:
    await load_products(db, tmp_path)
    async with db.transaction() as s:
        await factories.reseller(s, "MAWAR", "Mawar Batik Store")
    text = "code,customer_name,customer_phone,sku,qty,reseller,language\n"
    text += "MIX-1,Sari,0812-7777-0001,BATIK-PRM,1,,en\n"
    text += "MIX-1,Sari,0812-7777-0001,TOTE-01,2,,en\n"
    text += "DS-1,Rina,+62 812 9999 0000,KAOS-HTM-XL,1,mawar,\n"
    text += "LATE-1,Rina,+62 812 9999 0000,TOTE-01,2,mawar,\n"  # only 1 tote left
    async with db.transaction() as s:
        result = await import_orders(
            s, read_csv(write(tmp_path, "o.csv", text), ORDER_COLUMNS), now=NOW
        )
    assert (result.created, result.awaiting_stock) == (3, 1)
    async with db.sessions() as s:
        orders = {o.code: o for o in await s.scalars(select(Order))}
        lines = {
            (code, sku): (line.qty, str(line.unit_price), line.from_stock)
            for line, code, sku in await s.execute(
                select(OrderLine, Order.code, Product.sku)
                .join(Order, Order.id == OrderLine.order_id)
                .join(Product, Product.id == OrderLine.product_id)
            )
        }
        events = {e.order_id: e for e in await s.scalars(select(PhaseEvent))}
        people = {c.phone: (c.name, c.language) for c in await s.scalars(select(Customer))}
        stock = dict((await s.execute(select(Product.sku, Product.reserved))).all())

    mix, dropship, late = orders["MIX-1"], orders["DS-1"], orders["LATE-1"]
    assert (mix.fulfillment, mix.phase, mix.stock_reserved) == (
        Fulfillment.MADE_TO_ORDER,
        Phase.PLACED,
        True,
    )
    assert [st.name for st in mix.plan] == ["potong", "jahit", "qc"]
    assert mix.estimated_ready_at == NOW + timedelta(days=3, hours=4)
    assert (mix.placed_at, mix.phase_entered_at, mix.updated_at) == (NOW, NOW, NOW)
    assert mix.awaiting_since is None and mix.reseller_id is None
    assert (dropship.fulfillment, dropship.plan, dropship.estimated_ready_at) == (
        Fulfillment.READY_STOCK,
        (),
        None,
    )
    assert dropship.reseller_id is not None
    assert (late.phase, late.awaiting_since, late.stock_reserved) == (
        Phase.AWAITING_STOCK,
        NOW,
        False,
    )
    assert len({o.link_code for o in orders.values()}) == 3
    assert all(len(o.link_code) >= 16 for o in orders.values())
    assert lines == {
        ("MIX-1", "BATIK-PRM"): (1, "350000.00", False),
        ("MIX-1", "TOTE-01"): (2, "60000.00", True),
        ("DS-1", "KAOS-HTM-XL"): (1, "70000.00", True),  # the reseller's price
        ("LATE-1", "TOTE-01"): (2, "60000.00", True),  # no reseller price: retail
    }
    assert {(e.actor, e.from_phase, e.to_phase, e.at) for e in events.values()} == {
        ("import", None, Phase.PLACED, NOW),
        ("import", None, Phase.AWAITING_STOCK, NOW),
    }
    assert events[late.id].to_phase is Phase.AWAITING_STOCK
    assert people == {
        "+6281277770001": ("Sari", Language.EN),
        "+6281299990000": ("Rina", None),
    }
    assert (stock["TOTE-01"], stock["KAOS-HTM-XL"]) == (2, 1)


async def test_known_customers_take_the_latest_name_and_language_of_the_file(
    db: Database, tmp_path: Path
) -> None:
    await load_products(db, tmp_path)
    async with db.transaction() as s:
        await factories.customer(s, "081277770001", "Sari")  # language id
    text = "code,customer_name,customer_phone,sku,qty,reseller,language\n"
    text += "A-1,Sari W,081277770001,TOTE-01,1,,en\n"
    text += "A-2,Sari Wulandari,081277770001,TOTE-01,1,,\n"  # no language: keeps en
    async with db.transaction() as s:
        await import_orders(s, read_csv(write(tmp_path, "o.csv", text), ORDER_COLUMNS))
    async with db.sessions() as s:
        (sari,) = await s.scalars(select(Customer))
        owners = set(await s.scalars(select(Order.customer_id)))
    assert (sari.name, sari.language) == ("Sari Wulandari", Language.EN)
    assert owners == {sari.id}


async def test_every_linked_chat_hears_of_its_new_order_with_that_orders_event(
    db: Database, tmp_path: Path
) -> None:
    await load_products(db, tmp_path)
    async with db.transaction() as s:
        sari = await factories.customer(s, "081277770001", "Sari")
        await factories.customer_chat(s, sari, Channel.TELEGRAM, "5001")
        await factories.customer_chat(s, sari, Channel.WHATSAPP, "+6281277770001")
        await factories.reseller(s, "MAWAR", "Mawar Batik Store", telegram_id=7007)
    text = "code,customer_name,customer_phone,sku,qty,reseller,language\n"
    text += "A-1,Sari,081277770001,TOTE-01,1,,id\n"
    text += "B-1,Budi,081200000002,TOTE-01,1,,id\n"  # nobody chats for Budi yet
    text += "DS-1,Sari,081277770001,KAOS-HTM-XL,1,MAWAR,id\n"
    async with db.transaction() as s:
        await import_orders(s, read_csv(write(tmp_path, "o.csv", text), ORDER_COLUMNS))
    async with db.sessions() as s:
        events: dict[int | None, int] = dict(
            (await s.execute(select(PhaseEvent.order_id, PhaseEvent.id))).all()
        )
        codes: dict[int | None, str] = dict((await s.execute(select(Order.id, Order.code))).all())
        notes = list(await s.scalars(select(Notification)))
    told = sorted((codes[n.order_id], n.payload["audience"], n.payload["brand"]) for n in notes)
    assert told == [
        ("A-1", "customer", None),
        ("A-1", "customer", None),
        ("DS-1", "customer", "Mawar Batik Store"),
        ("DS-1", "customer", "Mawar Batik Store"),
        ("DS-1", "reseller", "Mawar Batik Store"),
    ]
    assert all(n.event_id == events[n.order_id] for n in notes)
    assert all(n.payload["customer_name"] == "Sari" for n in notes)


async def test_a_big_import_takes_a_handful_of_statements(db: Database, tmp_path: Path) -> None:
    await load_products(db, tmp_path, PRODUCTS.replace("70000,10,", "70000,5000,"))
    rows = read_csv(write(tmp_path, "orders.csv", orders_csv(5_000)), ORDER_COLUMNS)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with db.transaction() as s:
            await import_orders(s, rows)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    # Per BATCH_ROWS orders: one insert each of orders, lines, events and customers; the
    # lookups (existing orders, customers, products, stock) are one query each whatever the size.
    budget = 4 * -(-5_000 // BATCH_ROWS) + 20
    assert len(statements) <= budget, "\n".join(s[:80] for s in statements)


async def test_restock_by_import_still_serves_subscribers_and_sets_the_rest(
    db: Database, tmp_path: Path
) -> None:
    text = PRODUCTS.replace("60000,,3,", "60000,,0,")  # the tote is sold out
    await load_products(db, tmp_path, text)
    async with db.transaction() as s:
        tote = await s.scalar(select(Product).where(Product.sku == "TOTE-01"))
        assert tote is not None
        chat = await get_or_create_chat(s, Channel.TELEGRAM, "5001")
        s.add(StockSubscription(chat_id=chat.id, product_id=tote.id))
    restocked = text.replace("60000,,0,", "60000,,4,").replace("70000,10,", "70000,25,")
    await load_products(db, tmp_path, restocked)
    async with db.sessions() as s:
        on_hand = dict((await s.execute(select(Product.sku, Product.on_hand))).all())
        (note,) = await s.scalars(select(Notification))
    assert (on_hand["TOTE-01"], on_hand["KAOS-HTM-XL"]) == (4, 25)
    assert note.kind is NotificationKind.BACK_IN_STOCK and note.payload["sku"] == "TOTE-01"


async def test_new_products_are_stored_as_the_orm_would_store_them(
    db: Database, tmp_path: Path
) -> None:
    await load_products(db, tmp_path)
    async with db.transaction() as s:
        await factories.product(
            s, "ORM-1", stages="potong:1d;jahit:2d;qc:4h", price="350000", reseller_price="300000"
        )
    columns = "price, reseller_price, fulfillment, stages, on_hand, reserved"
    async with db.sessions() as s:
        stored = (
            await s.execute(
                sql(f"SELECT sku, {columns} FROM products WHERE sku IN ('ORM-1', 'BATIK-PRM')")
            )
        ).all()
        batik = await s.scalar(select(Product).where(Product.sku == "BATIK-PRM"))
    raw = {row[0]: tuple(row[1:]) for row in stored}
    assert raw["BATIK-PRM"] == raw["ORM-1"]
    assert batik is not None and batik.created_at.tzinfo is not None


async def test_bulk_insert_stores_what_sqlalchemy_would(db: Database) -> None:
    """The same row through SQLAlchemy's own insert and through insert_rows is stored alike."""
    async with db.transaction() as s:
        person = await factories.customer(s, "081277770001")
        table = table_of(PhaseEvent)
        order_table = table_of(Order)
        plan = stages_to_json(parse_stages("potong:1d;qc:4h"))
        values = {
            "customer_id": person.id,
            "reseller_id": None,
            "fulfillment": Fulfillment.MADE_TO_ORDER,
            "phase": Phase.AWAITING_STOCK,
            "stage_plan": plan,
            "stock_reserved": True,
            "placed_at": NOW,
            "phase_entered_at": NOW.astimezone(timezone(timedelta(hours=7))),
            "awaiting_since": NOW,
            "estimated_ready_at": None,
            "updated_at": NOW,
        }
        await s.execute(
            insert(order_table), [{**values, "code": "CORE-1", "link_code": "core-link"}]
        )
        columns = ("code", "link_code", *values)
        ((bulk_id,),) = await insert_rows(
            s,
            order_table,
            columns,
            [("BULK-1", "bulk-link", *values.values())],
            returning=("id",),
        )
        core_id = await s.scalar(select(Order.id).where(Order.code == "CORE-1"))
        event_values = (NOW, "import", None, Phase.PLACED)
        await s.execute(
            insert(table),
            [
                dict(
                    zip(
                        ("order_id", "at", "actor", "from_phase", "to_phase"),
                        (core_id, *event_values),
                        strict=True,
                    )
                )
            ],
        )
        await insert_rows(
            s,
            table,
            ("order_id", "at", "actor", "from_phase", "to_phase"),
            [(bulk_id, *event_values)],
        )
    async with db.sessions() as s:
        shown = ", ".join(c for c in values if c != "customer_id")
        stored = {
            row[0]: tuple(row[1:])
            for row in await s.execute(sql(f"SELECT code, {shown} FROM orders"))
        }
        stored_events = [
            tuple(row)
            for row in await s.execute(
                sql("SELECT at, actor, from_phase, to_phase FROM phase_events ORDER BY id")
            )
        ]
    assert stored["BULK-1"] == stored["CORE-1"]
    assert stored_events[0] == stored_events[1]


async def test_among_finds_more_values_than_a_statement_takes_parameters(db: Database) -> None:
    # Past every driver's limit: asyncpg 32,767 parameters, SQLite 32,766 (250,000 in Debian's).
    wanted = [f"+62812{i:08d}" for i in range(300_000)]
    async with db.transaction() as s:
        await insert_rows(
            s,
            table_of(Customer),
            ("phone", "name", "language", "created_at"),
            [(phone, "x", None, NOW) for phone in wanted[::10_000]],
        )
    async with db.sessions() as s:
        dialect = s.get_bind().dialect
        found = set(
            await s.scalars(select(Customer.phone).where(among(Customer.phone, wanted, dialect)))
        )
    assert found == set(wanted[::10_000])


@pytest.mark.parametrize(
    ("dialect", "values"),
    [
        (sqlite.dialect(), "VALUES (?, ?), (?, ?)"),
        (postgresql.asyncpg.dialect(), "VALUES ($1, $2), ($3, $4)"),  # type: ignore[no-untyped-call]
        (postgresql.psycopg.dialect(), "VALUES (%s, %s), (%s, %s)"),  # type: ignore[no-untyped-call]
    ],
)
def test_bulk_statements_use_each_drivers_parameter_style(dialect: Any, values: str) -> None:
    sql = insert_statement(dialect, table_of(OrderLine), ("order_id", "qty"), 2, ("id",))
    assert sql == f"INSERT INTO order_lines (order_id, qty) {values} RETURNING id"
