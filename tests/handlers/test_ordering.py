"""Orders placed in chat: staff for a customer, resellers (dropship), customers' own drafts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.jobs import Jobs
from handlers.context import OrderSettings
from handlers.faq import topic
from handlers.types import Incoming, Reply
from models import (
    Chat,
    Notification,
    Order,
    OrderDraft,
    OrderLine,
    PhaseEvent,
    Product,
    SupportThread,
)
from models.enums import Channel, Language, NotificationKind, Phase
from models.imports import ORDER_COLUMNS, import_orders, read_csv
from models.storage import Database
from tests.support.factories import product
from tests.support.shop import Shop, attach, open_shop

PHONE = "+6281234567890"  # Sari's, who chats on the console and (here) on WhatsApp


@pytest.fixture
async def shop(db: Database) -> AsyncIterator[Shop]:
    yield await open_shop(db)


async def wa(shop: Shop, phone: str, text: str, name: str = "Pembeli") -> list[Reply]:
    """Someone writes on WhatsApp (the number vouched for), straight into the conversation."""
    incoming = Incoming(
        channel=Channel.WHATSAPP,
        chat=phone,
        sender=phone,
        name=name,
        text=text,
        phone_verified=True,
    )
    return await shop.conversation.handle(incoming)


async def text(shop: Shop, phone: str, said: str) -> str:
    return "\n".join(r.text for r in await wa(shop, phone, said))


async def orders_named(shop: Shop, code: str) -> Order:
    async with shop.db.sessions() as s:
        order = await s.scalar(select(Order).where(Order.code == code))
    assert order is not None
    return order


# --- staff -------------------------------------------------------------------------------------


async def test_staff_place_an_order_in_one_message(shop: Shop) -> None:
    replies = await shop.say(
        "dewi",
        "/pesananbaru Budi Santoso; 0812-3456-7001; KAOS-HTM-L 2, TOTE-KNV 1; Jl. Melati 5 Bandung",
    )
    assert replies[0].text.splitlines() == [
        shop.t("id", "neworder.placed", code="INV-1004", name="Budi Santoso"),
        "• Kaos Polos Hitam L ×2 — Rp170.000",
        "• Tote Bag Kanvas ×1 — Rp60.000",
        "Total: Rp230.000",
        shop.t("id", "neworder.reserved"),
        shop.t("id", "neworder.forward_hint"),
    ]
    assert replies[1].text.startswith(
        shop.t(
            "id", "neworder.forward", name="Budi Santoso", code="INV-1004", shop="Toko Batik Kabar"
        )
    )
    order = await orders_named(shop, "INV-1004")
    assert (order.recipient_name, order.recipient_phone, order.address) == (
        "Budi Santoso",
        "+6281234567001",
        "Jl. Melati 5 Bandung",
    )
    assert (order.phase, order.subtotal) == (Phase.PLACED, Decimal(230000))


async def test_the_forwarded_message_links_the_customers_chat_without_links_set_up(
    shop: Shop,
) -> None:
    # No bot username, no WhatsApp number: the message still carries what to type.
    replies = await shop.say("dewi", "/pesananbaru Budi; 0812-3456-7001; TOTE-KNV 1; Jl. Melati 5")
    order = await orders_named(shop, "INV-1004")
    typed = f"kabar {order.link_code}"
    assert replies[1].text.endswith(shop.t("id", "neworder.forward_code", code=order.link_code))
    status = await shop.text("budi", typed)
    assert "INV-1004" in status


async def test_the_forwarded_message_carries_the_invoice_links(db: Database) -> None:
    shop = attach(db, (await open_shop(db)).links, bot_username="TokoBatikBot")
    replies = await shop.say("dewi", "/pesananbaru Budi; 0812-3456-7001; TOTE-KNV 1; Jl. Melati 5")
    order = await orders_named(shop, "INV-1004")
    assert replies[1].text.splitlines()[-1] == f"https://t.me/TokoBatikBot?start={order.link_code}"


async def test_a_customer_already_in_chat_is_simply_told(shop: Shop) -> None:
    reply = await shop.text("dewi", f"/pesananbaru Sari; {PHONE}; BATIK-PRM-M 1; Jl. Mawar 1")
    assert shop.t("id", "neworder.customer_told") in reply
    assert shop.t("id", "neworder.made_to_order", date="Jumat, 6 Maret 2026") in reply
    pushed = [(w, r.text) for w, r in await shop.deliver(after=0)]
    assert ("sari", pushed[0][1]) == pushed[0] and "Pesanan INV-1004" in pushed[0][1]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("Budi; 0812-3456-7001; NOPE-1 2; Jl. Melati 5",
         "• \"NOPE-1\" tidak ada di katalog (sebagai SKU atau nama produk)"),
        ("Budi; 0812-3456-7001; sepatu hitam 2; Jl. Melati 5",
         "• \"sepatu hitam\" tidak ada di katalog (sebagai SKU atau nama produk)"),
        ("Budi; 0812-3456-7001; kaos hitam 2; Jl. Melati 5",
         "• \"kaos hitam\": ada beberapa, tulis SKU-nya: KAOS-HTM-L, KAOS-HTM-XL"),
        ("Budi; 0812-3456-7001; KAOS-HTM-L dua; Jl. Melati 5",
         "• KAOS-HTM-L: jumlah \"dua\" tidak valid (1–999)"),
        ("Budi; 0812-3456-7001; KAOS-HTM-L 0; Jl. Melati 5",
         "• KAOS-HTM-L: jumlah \"0\" tidak valid (1–999)"),
        ("Budi; 12; KAOS-HTM-L 1; Jl. Melati 5", "• nomor HP \"12\" tidak valid"),
        ("; 0812-3456-7001; KAOS-HTM-L 1; Jl. Melati 5", "• nama penerima belum ditulis"),
        ("Budi; 0812-3456-7001; KAOS-HTM-L 1, KAOS-HTM-L 2; Jl. Melati 5",
         "• KAOS-HTM-L ditulis dua kali"),
        ("Budi; 0812-3456-7001; KAOS-HTM-L lengan panjang 2; Jl. Melati 5",
         "• KAOS-HTM-L: jumlah \"lengan panjang\" tidak valid (1–999)"),  # was placed
    ],
)  # fmt: skip
async def test_a_bad_line_is_named_and_nothing_is_written(
    shop: Shop, line: str, problem: str
) -> None:
    before = await shop.snapshot()
    reply = await shop.text("dewi", f"/pesananbaru {line}")
    assert reply.splitlines() == [shop.t("id", "neworder.problems"), problem]
    assert await shop.snapshot() == before


@pytest.mark.parametrize(
    "lines",
    ["kaos hitam xl 2, tote 1", "2 pcs kaos hitam xl, TOTE-KNV", "KAOS-HTM-XL x2, tote bag"],
)
async def test_an_order_line_may_name_the_product_instead_of_its_sku(
    shop: Shop, lines: str
) -> None:
    reply = await shop.text("dewi", f"/pesananbaru Budi; 0812-3456-7001; {lines}; Jl. Melati 5")
    assert "• Kaos Polos Hitam XL ×2 — Rp170.000" in reply.splitlines()
    assert "• Tote Bag Kanvas ×1 — Rp60.000" in reply.splitlines()


async def test_products_joined_by_words_are_each_a_line(shop: Shop) -> None:
    # Before, "dan" and "sama" were read as part of the first product: staff placed the tee
    # alone (counted by the tote's "1"), and a reseller was told of an unknown product.
    await shop.say(
        "dewi", "/pesananbaru Budi; 0812-3456-7001; KAOS-HTM-L 2 dan TOTE-KNV 1; Jl. M 5"
    )
    order = await orders_named(shop, "INV-1004")
    assert order.subtotal == Decimal(230000)
    placed = await shop.text(
        "mawar", "/pesan kaos hitam L 2 sama tote 1; Joko; 0813-2222-3333; Jl. Anggrek 3"
    )
    assert "• Kaos Polos Hitam L ×2 — Rp140.000\n• Tote Bag Kanvas ×1 — Rp48.000" in placed


async def test_staff_place_an_order_step_by_step(shop: Shop) -> None:
    assert await shop.text("dewi", "/pesananbaru") == shop.t("id", "neworder.ask_name")
    assert await shop.text("dewi", "Budi Santoso") == shop.t("id", "neworder.ask_phone")
    bad = await shop.text("dewi", "12")
    assert bad.splitlines()[0] == '• nomor HP "12" tidak valid'
    assert await shop.text("dewi", "0812-3456-7001") == shop.t("id", "neworder.ask_lines")
    assert await shop.text("dewi", "TOTE-KNV 1") == shop.t("id", "neworder.ask_address")
    done = await shop.text("dewi", "Jl. Melati 5 Bandung")
    assert done.startswith(shop.t("id", "neworder.placed", code="INV-1004", name="Budi Santoso"))


# --- resellers ---------------------------------------------------------------------------------


async def test_a_reseller_places_a_dropship_order_step_by_step(shop: Shop) -> None:
    assert await shop.text("mawar", "/pesan") == shop.t("id", "neworder.ask_name")  # was usage
    assert await shop.text("mawar", "Budi") == shop.t("id", "neworder.ask_phone")
    assert await shop.text("mawar", "0812-9999-1111") == shop.t("id", "neworder.ask_lines")
    assert await shop.text("mawar", "tote 2") == shop.t("id", "neworder.ask_address")
    done = await shop.text("mawar", "Jl. Kenari 9 Malang")
    assert done.startswith(shop.t("id", "neworder.placed", code="INV-1004", name="Budi"))
    assert "• Tote Bag Kanvas ×2 — Rp96.000" in done  # at the reseller's price
    assert (await orders_named(shop, "INV-1004")).reseller_id is not None


async def test_a_reseller_orders_dropship_at_their_price_under_their_brand(shop: Shop) -> None:
    rina = "+6281399990000"  # Rina, Mawar's customer, already chats (in English)
    reply = await shop.text("mawar", f"/pesan TOTE-KNV 2; Rina; {rina}; Jl. Kenanga 9 Jakarta")
    assert reply.splitlines()[:3] == [
        shop.t("id", "neworder.placed", code="INV-1004", name="Rina"),
        "• Tote Bag Kanvas ×2 — Rp96.000",  # the reseller's price
        "Total: Rp96.000",
    ]
    order = await orders_named(shop, "INV-1004")
    assert order.reseller_id is not None and order.address == "Jl. Kenanga 9 Jakarta"
    pushed = {who: r.text for who, r in await shop.deliver(after=0)}
    assert pushed["mawar"].startswith("Pesanan dropship INV-1004 untuk Rina:")
    assert pushed["rina"].startswith("Mawar Batik Store · Order INV-1004")  # never the shop's
    assert reply.splitlines()[-1] == shop.t("id", "neworder.customer_told")  # nothing to pass on


async def test_a_reseller_gets_a_message_to_pass_on_to_a_buyer_not_yet_in_chat(shop: Shop) -> None:
    placed, to_buyer = await shop.say("mawar", "/pesan TOTE-KNV 1; Budi; 0812-9988-7766; Jl. A 1")
    assert placed.text.splitlines()[-1] == shop.t("id", "neworder.forward_hint")
    code = (await orders_named(shop, "INV-1004")).link_code
    assert to_buyer.text.splitlines() == [  # under the reseller's name, never the shop's
        shop.t("id", "neworder.forward", name="Budi", code="INV-1004", shop="Mawar Batik Store"),
        shop.t("id", "neworder.forward_code", code=code),
    ]
    # The buyer who sends it is linked to that order, and hears of it under the reseller's name.
    buyer = Incoming(
        channel=Channel.WHATSAPP,
        chat="+6281299887766",
        sender="+6281299887766",
        text=f"kabar {code}",
        phone_verified=True,
    )
    linked = "\n".join(r.text for r in await shop.conversation.handle(buyer))
    assert "INV-1004" in linked and "Mawar Batik Store" in linked
    assert "Toko Batik Kabar" not in linked


async def test_a_reseller_never_learns_the_name_the_shop_keeps_for_a_phone(shop: Shop) -> None:
    sari = "0812-3456-7890"  # the shop's customer Sari; the reseller calls the buyer Budi
    await shop.say("mawar", f"/pesan KAOS-HTM-L 1; Budi; {sari}; Jl. Mawar 1 Bandung")
    pushed = {who: r.text for who, r in await shop.deliver(after=0)}
    assert pushed["mawar"].startswith("Pesanan dropship INV-1004 untuk Budi:")
    mine = await shop.text("mawar", "/pesananku")
    assert "INV-1004 · Budi ·" in mine and "Sari" not in mine


async def test_an_order_for_more_than_is_on_hand_is_told_there_is_not_enough(shop: Shop) -> None:
    assert "stok 2" in await shop.text("mawar", "/stok TOTE-KNV")  # two on hand: not out of stock
    reply = await shop.text("mawar", "/pesan TOTE-KNV 5; Budi; 0812-9988-7766; Jl. Mawar 1")
    assert shop.t("id", "neworder.awaiting") in reply.splitlines()
    assert "belum cukup" in shop.t("id", "neworder.awaiting")


def offered(shop: Shop, lang: str, lines: str) -> str:
    """The dropship command filled in, and the offer to give its parts one at a time."""
    return "\n".join(
        [shop.t(lang, "resellerorder.fill", lines=lines), shop.t(lang, "resellerorder.or_steps")]
    )


async def test_a_reseller_asking_to_order_in_words_gets_the_dropship_command_filled_in(
    shop: Shop,
) -> None:
    # A draft would take no recipient's phone and place no dropship order: the command does.
    asked = await shop.text("mawar", "mau order tote 2")
    assert asked.endswith("\n" + offered(shop, "id", "TOTE-KNV 2"))
    assert "Rp48.000" in asked  # their price, as /stok shows it
    for whom in ("mau order tote 2 buat customer saya", "pesan tote 2 untuk kado"):
        filled = await shop.text("mawar", whom)
        assert filled.endswith(offered(shop, "id", "TOTE-KNV 2"))
    # Products named one after another are all written in, each with its own count.
    both = await shop.text("mawar", "mau order kaos hitam L 2 sama tote 1")
    assert both.endswith(offered(shop, "id", "KAOS-HTM-L 2, TOTE-KNV 1"))
    await shop.say("mawar", "/bahasa en")
    asked = await shop.text("mawar", "can I get 3 black tees XL?")
    assert asked.endswith(offered(shop, "en", "KAOS-HTM-XL 3"))
    # Right after a stock answer, a number takes its product; so does its button.
    await shop.say("mawar", "ada tote?")
    assert await shop.text("mawar", "mau 2") == offered(shop, "en", "TOTE-KNV 2")
    assert await shop.text("mawar", "/pesan TOTE-KNV") == offered(shop, "en", "TOTE-KNV 1")
    await shop.say("mawar", "ada tote?")  # and where it goes, who it is for, said besides
    for whom in ("mau order 2 kirim ke pembeli saya", "mau pesan 2 untuk konsumen saya"):
        filled = await shop.text("mawar", whom)
        assert filled.endswith(offered(shop, "en", "TOTE-KNV 2"))
    # Several products: their SKUs, then how to write the order.
    several = await shop.text("mawar", "I want to order a tee")
    assert "(KAOS-HTM-L)" in several and "(KAOS-HTM-XL)" in several
    assert several.endswith(shop.t("en", "resellerorder.usage"))


async def test_a_reseller_may_give_an_offered_order_part_by_part(shop: Shop) -> None:
    await shop.say("mawar", "ada tote?")
    assert await shop.text("mawar", "mau ambil 2") == offered(shop, "id", "TOTE-KNV 2")
    # A question meanwhile is answered as ever, not taken for the buyer's name.
    assert "(KAOS-HTM-L)" in await shop.text("mawar", "stok kaos hitam berapa?")
    assert await shop.text("mawar", "Andi Wijaya") == shop.t("id", "neworder.ask_phone")
    assert await shop.text("mawar", "0812-3456-7001") == shop.t("id", "neworder.ask_address")
    shown = await shop.text("mawar", "Jl. Melati 5, Bogor")
    assert shown.startswith(shop.t("id", "neworder.form_check"))  # not placed unasked
    assert "• Tote Bag Kanvas (TOTE-KNV) ×2 — Rp96.000" in shown.splitlines()
    placed = await shop.text("mawar", "ya")
    assert placed.startswith("✅ Pesanan INV-1004 untuk Andi Wijaya")
    # Written in one message after all: the offer is done with, a name is no order's.
    await shop.say("mawar", "ada tote?")
    await shop.say("mawar", "mau ambil 1")
    done = await shop.text("mawar", "/pesan TOTE-KNV 1; Budi; 0812-3456-7002; Jl. Mawar 2")
    assert done.startswith("✅ Pesanan INV-1005 untuk Budi")
    async with shop.db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(OrderDraft)) == 0


# --- customers ---------------------------------------------------------------------------------


async def test_a_customer_orders_in_chat_from_product_to_confirmation(shop: Shop) -> None:
    first = await text(shop, PHONE, "mau order kaos hitam XXL 2 pcs")
    no_xxl = shop.t("id", "stock.no_variant", wanted="Kaos Polos Hitam XXL", alternatives="L, XL")
    assert first.startswith(no_xxl)
    [which] = await wa(shop, PHONE, "mau order kaos hitam XXL 2 pcs")  # the ones there are
    assert [c.command for c in which.choices] == ["/pesan KAOS-HTM-L", "/pesan KAOS-HTM-XL"]
    picked = await text(shop, PHONE, "kaos hitam XL")
    assert "Kaos Polos Hitam XL (KAOS-HTM-XL)" in picked
    assert picked.endswith(shop.t("id", "draft.ask_name_or", name="Pembeli"))
    assert await text(shop, PHONE, "Sari Wulandari") == shop.t("id", "draft.ask_address")
    [summary] = await wa(shop, PHONE, "Jl. Mawar 12, Bandung")
    assert summary.text.splitlines() == [
        shop.t("id", "draft.summary"),
        "• Kaos Polos Hitam XL (KAOS-HTM-XL) ×2 — Rp170.000",
        "Total: Rp170.000",
        shop.t("id", "draft.to", name="Sari Wulandari", address="Jl. Mawar 12, Bandung"),
    ]
    assert [c.command for c in summary.choices] == ["/pesan ok", "/pesan tambah", "/pesan batal"]
    placed = await text(shop, PHONE, "/pesan ok")
    assert placed.startswith(shop.t("id", "draft.placed", code="INV-1004", due="Rp170.000"))
    order = await orders_named(shop, "INV-1004")
    assert (order.recipient_name, order.address) == ("Sari Wulandari", "Jl. Mawar 12, Bandung")
    # The next order starts from that address.
    again = await text(shop, PHONE, "mau beli tote bag 1")
    assert (
        shop.t("id", "draft.same_address", name="Sari Wulandari", address="Jl. Mawar 12, Bandung")
        in again
    )


async def test_a_customer_orders_again_what_an_order_held(shop: Shop) -> None:
    await wa(shop, PHONE, "mau order kaos hitam L 2 sama tote 1")
    await wa(shop, PHONE, "Sari Wulandari")
    await wa(shop, PHONE, "Jl. Mawar 12, Bandung")
    await wa(shop, PHONE, "/pesan ok")  # INV-1004
    # Its products at today's prices, to the same person and address: the summary to confirm.
    [again] = await wa(shop, PHONE, "mau order lagi yang sama kayak INV-1004 kak")
    assert again.text.splitlines() == [
        shop.t("id", "draft.summary"),
        "• Kaos Polos Hitam L (KAOS-HTM-L) ×2 — Rp170.000",
        "• Tote Bag Kanvas (TOTE-KNV) ×1 — Rp60.000",
        "Total: Rp230.000",
        shop.t("id", "draft.to", name="Sari Wulandari", address="Jl. Mawar 12, Bandung"),
    ]
    placed = await text(shop, PHONE, "/pesan ok")
    assert placed.startswith(shop.t("id", "draft.placed", code="INV-1005", due="Rp230.000"))
    first, second = await orders_named(shop, "INV-1004"), await orders_named(shop, "INV-1005")
    assert (second.recipient_name, second.address) == (first.recipient_name, first.address)
    # With several orders and none named or just talked about, the customer picks.
    [which] = await shop.say("sari", "mau RO kak")
    assert which.text == shop.t("id", "reorder.which")
    assert [c.command for c in which.choices] == [f"order lagi INV-100{n}" for n in (5, 4, 3, 2, 1)]
    picked = await shop.text("sari", which.choices[-1].command)
    assert "Kaos Polos Hitam XL (KAOS-HTM-XL)" in picked  # INV-1001's product, its name next
    # Said of another day, or of a message sent again: no order starts.
    later = await text(shop, PHONE, "nanti saya order lagi ya kak")
    assert later == shop.t("id", "greeting.next_order")
    assert shop.t("id", "reorder.which") not in await text(shop, PHONE, "tolong kirim pesan lagi")
    # A chat that opened INV-1004 by its invoice's code orders its products, not to its address.
    await shop.say("tamu", f"/start {first.link_code}")
    stranger = await shop.text("tamu", "order lagi INV-1004")
    assert "Tote Bag Kanvas (TOTE-KNV)" in stranger
    assert "Mawar 12" not in stranger and "Wulandari" not in stranger
    # Another's order opens nothing; a reseller's customer orders from the reseller.
    other = await shop.text("sari", "order lagi DS-2001")
    assert other == shop.t("id", "status.not_found", code="DS-2001")
    assert await shop.text("rina", "can I order it again?") == shop.t(
        "en", "draft.via_seller", seller="Mawar Batik Store"
    )


async def test_the_summary_says_before_confirming_when_the_order_would_wait(shop: Shop) -> None:
    waits = shop.t("id", "draft.waits")
    await text(shop, PHONE, "mau beli tote bag 3")  # two on hand
    await text(shop, PHONE, "Sari Wulandari")
    summary = await text(shop, PHONE, "Jl. Mawar 12, Bandung")
    assert summary.splitlines()[-1] == waits
    assert await text(shop, PHONE, "/pesan batal") == shop.t("id", "draft.dropped")
    # Two would fit now, but an order already waits for the tote: a new one queues behind it.
    await shop.say("mawar", "/pesan TOTE-KNV 5; Budi; 0812-9988-7766; Jl. Mawar 1")
    await text(shop, PHONE, "mau beli tote bag 1")
    await text(shop, PHONE, "Sari Wulandari")
    summary = await text(shop, PHONE, "Jl. Mawar 12, Bandung")
    assert summary.splitlines()[-1] == waits
    placed = await text(shop, PHONE, "/pesan ok")
    assert shop.t("id", "neworder.awaiting") in placed.splitlines()


async def test_a_quantity_typed_as_a_bare_number_is_the_quantity_not_a_menu_pick(
    shop: Shop,
) -> None:
    [which] = await wa(shop, PHONE, "mau order kaos hitam")
    assert [c.command for c in which.choices] == ["/pesan KAOS-HTM-L", "/pesan KAOS-HTM-XL"]
    picked = await text(shop, PHONE, "2")  # the second product of the menu
    assert "KAOS-HTM-XL" in picked and picked.endswith(shop.t("id", "draft.ask_qty"))
    # "2" now answers "how many?": the product menu before it answers nothing any more.
    assert await text(shop, PHONE, "2") == shop.t("id", "draft.ask_name_or", name="Pembeli")
    assert await text(shop, PHONE, "Sari Wulandari") == shop.t("id", "draft.ask_address")
    [summary] = await wa(shop, PHONE, "Jl. Mawar 12, Bandung")
    assert "• Kaos Polos Hitam XL (KAOS-HTM-XL) ×2 — Rp170.000" in summary.text.splitlines()
    assert (await text(shop, PHONE, "1")).startswith(  # the summary's first choice: order it
        shop.t("id", "draft.placed", code="INV-1004", due="Rp170.000")
    )


NEW = "+6285711112222"  # a new customer: no earlier address to offer


async def test_a_change_of_mind_in_a_draft_changes_it_and_its_question_stands(shop: Shop) -> None:
    await wa(shop, NEW, "mau pesan kaos hitam L 10")  # four on hand
    again = await text(shop, NEW, "yaudah 4 aja")  # at "whose name?": not a name
    assert again.splitlines() == [
        shop.t("id", "draft.changed", item="Kaos Polos Hitam L (KAOS-HTM-L)", qty=4),
        shop.t("id", "draft.ask_name_or", name="Pembeli"),
    ]
    assert await text(shop, NEW, "ganti nama") == shop.t("id", "draft.ask_name_or", name="Pembeli")
    asked = await text(shop, NEW, "katalognya dong kak")  # a question, answered: no name
    assert asked.startswith(shop.t("id", "catalogue.title"))
    assert await text(shop, NEW, "Sari Wulandari") == shop.t("id", "draft.ask_address")
    switched = await text(shop, NEW, "eh ganti XL deh")  # at "where to?": not an address
    assert "KAOS-HTM-XL" in switched and switched.endswith(shop.t("id", "draft.ask_address"))
    # A colour the XL does not come in: the XL stays, and the customer hears what there is.
    kept = await text(shop, NEW, "yang putih aja")
    assert "KAOS-PTH-L" not in kept and "KAOS-HTM-XL" in kept
    [summary] = await wa(shop, NEW, "Jl. Mawar 12, Bandung")
    assert "• Kaos Polos Hitam XL (KAOS-HTM-XL) ×4 — Rp340.000" in summary.text.splitlines()
    assert await text(shop, NEW, "ubah alamat") == shop.t("id", "draft.ask_address")  # no person
    [summary] = await wa(shop, NEW, "Jl. Melati 3, Bogor")
    assert "Jl. Melati 3, Bogor" in summary.text and "Sari Wulandari" in summary.text
    [summary] = await wa(shop, NEW, "jadi 2 ya kak")
    assert "• Kaos Polos Hitam XL (KAOS-HTM-XL) ×2 — Rp170.000" in summary.text.splitlines()


async def test_an_address_given_for_the_name_is_kept_and_the_name_asked(shop: Shop) -> None:
    await wa(shop, NEW, "mau pesan kaos hitam L 1")
    asked = await text(shop, NEW, "Jl. Mawar 12 Bandung")  # at "whose name?": where, not who
    assert asked.splitlines() == [
        shop.t("id", "draft.address_first"),
        shop.t("id", "draft.ask_name_or", name="Pembeli"),
    ]
    [summary] = await wa(shop, NEW, "Sari Wulandari")  # the address is not asked again
    assert "Dikirim ke: Sari Wulandari, Jl. Mawar 12 Bandung" in summary.text.splitlines()


@pytest.mark.parametrize(
    "change", ["alamat pengiriman saya mau ganti", "change my delivery address please"]
)
async def test_the_address_changed_in_any_word_order_is_asked_again(
    shop: Shop, change: str
) -> None:
    await at_the_summary(shop, NEW)
    await wa(shop, NEW, "/bahasa en" if change.startswith("change") else "/bahasa id")
    lang = "en" if change.startswith("change") else "id"
    assert await text(shop, NEW, change) == shop.t(lang, "draft.ask_address")  # no person
    [summary] = await wa(shop, NEW, "Jl. Melati 3, Bogor")
    assert "Jl. Melati 3, Bogor" in summary.text


async def draft_lines(shop: Shop, phone: str, said: str) -> list[str]:
    """The product lines of the summary a message is answered with."""
    replies = "\n".join(r.text for r in await wa(shop, phone, said))
    return [line for line in replies.splitlines() if line.startswith("• ")]


async def ordered(shop: Shop, phone: str, wish: str) -> list[str]:
    """A new customer's wish, then their name and address: the summary's product lines."""
    await wa(shop, phone, wish)
    await wa(shop, phone, "Sari Wulandari")
    return await draft_lines(shop, phone, "Jl. Mawar 12, Bandung")


async def at_the_summary(shop: Shop, phone: str) -> None:
    """A new customer's draft of one black tee L, at its summary."""
    assert await ordered(shop, phone, "mau order kaos hitam L 1") == [
        "• Kaos Polos Hitam L (KAOS-HTM-L) ×1 — Rp85.000"
    ]


async def test_more_products_join_the_draft_and_are_placed_as_one_order(shop: Shop) -> None:
    await at_the_summary(shop, NEW)
    # Asked for in words at the summary: before, "tambah tote 1" was a search for a
    # product called "tambah tote", and "mau order tote 1" dropped the tee.
    assert await draft_lines(shop, NEW, "tambah tote 1") == [
        "• Kaos Polos Hitam L (KAOS-HTM-L) ×1 — Rp85.000",
        "• Tote Bag Kanvas (TOTE-KNV) ×1 — Rp60.000",
    ]
    asked = await wa(shop, NEW, "mau order kaos hitam XL")
    assert asked[-1].text.endswith(shop.t("id", "draft.ask_qty"))
    [summary] = await wa(shop, NEW, "2")
    assert summary.text.splitlines()[1:5] == [
        "• Kaos Polos Hitam L (KAOS-HTM-L) ×1 — Rp85.000",
        "• Tote Bag Kanvas (TOTE-KNV) ×1 — Rp60.000",
        "• Kaos Polos Hitam XL (KAOS-HTM-XL) ×2 — Rp170.000",
        "Total: Rp315.000",
    ]
    # The same product again is one line, with both counts.
    lines = await draft_lines(shop, NEW, "sama tote 1 ya kak")
    assert lines[1] == "• Tote Bag Kanvas (TOTE-KNV) ×2 — Rp120.000" and len(lines) == 3
    placed = await text(shop, NEW, "/pesan ok")
    assert placed.startswith(shop.t("id", "draft.placed", code="INV-1004", due="Rp375.000"))
    order = await orders_named(shop, "INV-1004")
    async with shop.db.sessions() as s:
        rows = await s.execute(
            select(Product.sku, OrderLine.qty)
            .join(Product, Product.id == OrderLine.product_id)
            .where(OrderLine.order_id == order.id)
        )
        assert sorted(tuple(row) for row in rows) == [
            ("KAOS-HTM-L", 1),
            ("KAOS-HTM-XL", 2),
            ("TOTE-KNV", 2),
        ]


async def test_the_same_wish_sent_again_is_not_a_second_line(shop: Shop) -> None:
    await at_the_summary(shop, NEW)
    # Sent again, the product being chosen keeps one line, with the count said now.
    assert await draft_lines(shop, NEW, "mau order kaos hitam L 3") == [
        "• Kaos Polos Hitam L (KAOS-HTM-L) ×3 — Rp255.000"
    ]


async def test_a_product_taken_out_leaves_the_rest_and_the_last_one_is_batal(shop: Shop) -> None:
    await at_the_summary(shop, NEW)
    await wa(shop, NEW, "tambah tote 1")
    taken = await text(shop, NEW, "totenya gak jadi kak")
    assert taken.splitlines()[0] == shop.t("id", "draft.removed", item="Tote Bag Kanvas (TOTE-KNV)")
    assert [line for line in taken.splitlines() if line.startswith("• ")] == [
        "• Kaos Polos Hitam L (KAOS-HTM-L) ×1 — Rp85.000"
    ]
    # The one product left is the whole order: taking it out is cancelling, said so.
    assert await text(shop, NEW, "hapus kaos hitam") == shop.t("id", "draft.only_product")
    placed = await text(shop, NEW, "/pesan ok")
    assert placed.startswith(shop.t("id", "draft.placed", code="INV-1004", due="Rp85.000"))


async def test_products_named_one_after_another_are_chosen_in_turn(shop: Shop) -> None:
    # Another size of the same shirt is a product of its own, as said.
    assert await ordered(shop, NEW, "mau order kaos hitam L 1 dan XL 2") == [
        "• Kaos Polos Hitam L (KAOS-HTM-L) ×1 — Rp85.000",
        "• Kaos Polos Hitam XL (KAOS-HTM-XL) ×2 — Rp170.000",
    ]
    await text(shop, NEW, "batal")
    # Before, the tote was lost and the tee was counted by the tote's "1".
    assert await ordered(shop, NEW, "kak mau order kaos hitam L 2 sama tote 1") == [
        "• Kaos Polos Hitam L (KAOS-HTM-L) ×2 — Rp170.000",
        "• Tote Bag Kanvas (TOTE-KNV) ×1 — Rp60.000",
    ]
    # Added at the summary, one of them needing a choice: the other waits for it.
    [which] = await wa(shop, NEW, "tambah kaos hitam 1 dan batik 1")
    assert [c.command for c in which.choices] == ["/pesan KAOS-HTM-L", "/pesan KAOS-HTM-XL"]
    assert (await draft_lines(shop, NEW, "XL"))[2:] == [
        "• Kaos Polos Hitam XL (KAOS-HTM-XL) ×1 — Rp85.000",
        "• Kemeja Batik Premium M (BATIK-PRM-M) ×1 — Rp350.000",
    ]


async def test_one_product_of_several_is_counted_again_by_name(shop: Shop) -> None:
    await at_the_summary(shop, NEW)
    await wa(shop, NEW, "tambah tote 1")
    # Before, "kaosnya jadi 3" at the summary was a stock question, and the order kept 1.
    assert await draft_lines(shop, NEW, "kaosnya jadi 3 aja") == [
        "• Kaos Polos Hitam L (KAOS-HTM-L) ×3 — Rp255.000",
        "• Tote Bag Kanvas (TOTE-KNV) ×1 — Rp60.000",
    ]
    assert (await draft_lines(shop, NEW, "tote 2 ya kak"))[1] == (
        "• Tote Bag Kanvas (TOTE-KNV) ×2 — Rp120.000"
    )
    # "tambah" adds to the count; a plain count sets it.
    assert (await draft_lines(shop, NEW, "tambah tote 1"))[1] == (
        "• Tote Bag Kanvas (TOTE-KNV) ×3 — Rp180.000"
    )


async def test_staff_hear_of_an_order_a_customer_or_reseller_places_in_chat(shop: Shop) -> None:
    await at_the_summary(shop, NEW)
    await wa(shop, NEW, "/pesan ok")
    await shop.say("mawar", "/pesan TOTE-KNV 1; Budi; 081211113333; Jl. Mawar 1 Bandung")
    heard = [reply for who, reply in await shop.deliver(after=0) if who == "dewi"]
    said = [  # with where each goes: the shipping fee to set depends on it
        shop.t("id", "alert.chat_order", code="INV-1004", who="Sari Wulandari", total="Rp85.000")
        + "\n"
        + shop.t("id", "status.ship_to", to="Jl. Mawar 12, Bandung"),
        shop.t("id", "alert.chat_order", code="INV-1005", who="Mawar Batik Store", total="Rp48.000")
        + "\n"
        + shop.t("id", "status.ship_to", to="Jl. Mawar 1 Bandung"),
    ]
    assert [r.text for r in heard] == [shop.t("id", "push.staff_alert", text=s) for s in said]
    assert [c.command for r in heard for c in r.choices] == ["/status INV-1004", "/status INV-1005"]
    # What staff place themselves they know of.
    await shop.say("dewi", "/pesananbaru Ani; 081211112222; TOTE-KNV 1; Jl. Anggrek 5 Bogor")
    assert [who for who, _ in await shop.deliver(after=0) if who == "dewi"] == []
    # Whoever packs it reads what goes in and where; the customer who placed it does not
    # need the label, and a forwarded invoice must not show a stranger their address.
    packing = [
        shop.t("id", "status.contents", items="Tote Bag Kanvas"),
        shop.t("id", "status.ship_to", to="Budi · +6281211113333 · Jl. Mawar 1 Bandung"),
    ]
    for who in ("dewi", "mawar"):
        shown = (await shop.text(who, "/status INV-1005")).splitlines()
        assert all(line in shown for line in packing), who
    buyer = (await wa(shop, NEW, "/status INV-1004"))[0].text
    assert "Jl. Mawar 12" not in buyer and shop.t("id", "status.contents", items="") not in buyer


async def test_a_count_of_several_products_naming_none_asks_which(shop: Shop) -> None:
    await wa(shop, NEW, "mau order kaos hitam L 2 sama tote 1")  # at "whose name?"
    [which] = await wa(shop, NEW, "jadi 3 aja")  # the tee or the tote? (it was the tote)
    assert which.text == shop.t("id", "draft.which_count", qty=3)
    assert [(c.label, c.command) for c in which.choices] == [
        ("Kaos Polos Hitam L ×3", "KAOS-HTM-L jadi 3"),
        ("Tote Bag Kanvas ×3", "TOTE-KNV jadi 3"),
    ]
    [again] = await wa(shop, NEW, which.choices[0].command)  # picked before the name
    assert again.text.endswith(shop.t("id", "draft.ask_name_or", name="Pembeli"))
    await wa(shop, NEW, "Sari Wulandari")
    assert await draft_lines(shop, NEW, "Jl. Mawar 12, Bandung") == [
        "• Kaos Polos Hitam L (KAOS-HTM-L) ×3 — Rp255.000",
        "• Tote Bag Kanvas (TOTE-KNV) ×1 — Rp60.000",
    ]


async def test_the_summary_button_adds_a_product_and_that_s_all_goes_back(shop: Shop) -> None:
    await at_the_summary(shop, NEW)
    [asked] = await wa(shop, NEW, "/pesan tambah")
    assert asked.text == shop.t("id", "draft.ask_more")
    assert [c.command for c in asked.choices] == ["/pesan cukup"]
    # Nothing more after all: the summary again, as it was.
    assert await draft_lines(shop, NEW, "cukup") == [
        "• Kaos Polos Hitam L (KAOS-HTM-L) ×1 — Rp85.000"
    ]
    # On WhatsApp the summary's second option adds; a product then picked by its name.
    assert (await text(shop, NEW, "2")) == shop.t("id", "draft.ask_more")
    assert len(await draft_lines(shop, NEW, "tote 1")) == 2
    # "cukup" at the choice of one of two products named at once drops both.
    await wa(shop, NEW, "tambah kaos hitam 1 dan batik 1")  # which kaos?
    assert len(await draft_lines(shop, NEW, "cukup")) == 2
    lines = await draft_lines(shop, NEW, "tambah kaos putih 1")
    assert len(lines) == 3 and not any("BATIK" in line for line in lines)


async def test_a_product_added_before_the_summary_comes_back_to_the_question_asked(
    shop: Shop,
) -> None:
    await wa(shop, NEW, "mau order kaos hitam L 1")  # asked whose name it is in
    added = await text(shop, NEW, "tote 1 juga ya kak")
    assert added.splitlines()[-2:] == [
        shop.t("id", "draft.added", item="Tote Bag Kanvas (TOTE-KNV)", qty=1),
        shop.t("id", "draft.ask_name_or", name="Pembeli"),
    ]
    assert await text(shop, NEW, "Sari Wulandari") == shop.t("id", "draft.ask_address")
    assert len(await draft_lines(shop, NEW, "Jl. Mawar 12, Bandung")) == 2


async def test_an_order_in_chat_holds_twenty_products(shop: Shop) -> None:
    async with shop.db.transaction() as s:
        for n in range(20):
            await product(s, f"SARUNG-{chr(65 + n)}X", stock=5, name="Sarung")
    await wa(shop, NEW, "mau order SARUNG-AX 1")
    await wa(shop, NEW, "Sari Wulandari")
    await wa(shop, NEW, "Jl. Mawar 12, Bandung")
    for n in range(1, 20):
        lines = await draft_lines(shop, NEW, f"tambah SARUNG-{chr(65 + n)}X 1")
    assert len(lines) == 20
    refused = await text(shop, NEW, "tambah tote 1")
    assert refused.splitlines()[0] == shop.t("id", "draft.too_many", most=20)
    assert "TOTE-KNV" not in refused and refused.count("• ") == 20
    # Named all at once, the twenty first and those after it are refused once.
    await text(shop, NEW, "batal")
    many = ", ".join(f"SARUNG-{chr(65 + n)}X 1" for n in range(20))
    refused = await text(shop, NEW, f"mau order {many}, KAOS-HTM-L 1, TOTE-KNV 1")
    assert refused.count(shop.t("id", "draft.too_many", most=20)) == 1
    await text(shop, NEW, "Sari Wulandari")
    lines = await draft_lines(shop, NEW, "Jl. Mawar 12, Bandung")
    assert len(lines) == 20 and not any("TOTE-KNV" in line for line in lines)


@pytest.mark.parametrize(
    ("said", "qty"),
    [
        ("I'd like to order 2 black tees size XL", 2),
        ("mau beli 3 kaos hitam xl", 3),
        ("can I get 2 black tees size XL?", 2),
        ("mau 3 kaos hitam xl kak", 3),
    ],
)
async def test_how_many_said_before_the_product_is_not_asked_again(
    shop: Shop, said: str, qty: int
) -> None:
    picked = await text(shop, PHONE, said)
    assert picked.endswith(shop.t("id", "draft.ask_name_or", name="Pembeli")), picked
    await text(shop, PHONE, "Sari Wulandari")
    [summary] = await wa(shop, PHONE, "Jl. Mawar 12, Bandung")
    assert f"• Kaos Polos Hitam XL (KAOS-HTM-XL) ×{qty}" in summary.text


@pytest.mark.parametrize(
    ("said", "line"),
    [
        ("oke saya mau yang hitam L 1 ya", "Kaos Polos Hitam L (KAOS-HTM-L) ×1"),
        ("ambil yang XL 3 kak", "Kaos Polos Hitam XL (KAOS-HTM-XL) ×3"),
        ("I want the black one in L, 2 please", "Kaos Polos Hitam L (KAOS-HTM-L) ×2"),
    ],
)
async def test_a_product_picked_by_its_colour_or_size_is_ordered_with_how_many(
    shop: Shop, said: str, line: str
) -> None:
    [asked] = await wa(shop, "+6281299990000", said)  # a stranger; "yang"/"the" picks a product
    assert asked.text.endswith(
        shop.t("en" if said.startswith("I") else "id", "draft.ask_name_or", name="Pembeli")
    )
    await text(shop, "+6281299990000", "Andi")
    [summary] = await wa(shop, "+6281299990000", "Jl. Sudirman 10, Jakarta")
    assert any(line in row for row in summary.text.splitlines()), summary.text


@pytest.mark.parametrize(("said", "qty"), [("dua", 2), ("tiga pcs", 3), ("two", 2), ("x4", 4)])
async def test_how_many_may_be_said_in_words(shop: Shop, said: str, qty: int) -> None:
    await wa(shop, PHONE, "mau beli kaos hitam XL")
    assert await text(shop, PHONE, said) == shop.t("id", "draft.ask_name_or", name="Pembeli")
    await text(shop, PHONE, "Sari Wulandari")
    [summary] = await wa(shop, PHONE, "Jl. Mawar 12, Bandung")
    assert f"• Kaos Polos Hitam XL (KAOS-HTM-XL) ×{qty}" in summary.text


async def test_a_stock_answer_offers_to_order_it_and_a_wish_to_buy_then_means_it(
    shop: Shop,
) -> None:
    new = "+6281299990000"  # a stranger writing in English
    [asked] = await wa(shop, new, "Hi, do you have the black tee in size L?")
    assert [c.command for c in asked.choices] == ["/pesan KAOS-HTM-L"]
    picked = await text(shop, new, "I want to buy 2 please")
    assert "(KAOS-HTM-L)" in picked and picked.endswith(
        shop.t("en", "draft.ask_name_or", name="Pembeli")
    )
    await text(shop, new, "Andi")
    [summary] = await wa(shop, new, "Jl. Sudirman 10, Jakarta")
    assert "• Kaos Polos Hitam L (KAOS-HTM-L) ×2 — IDR170,000" in summary.text.splitlines()


@pytest.mark.parametrize(
    ("said", "qty"),
    [
        ("mau 2 ya kak", 2),
        ("ambil 3", 3),
        ("I'll take 2", 2),
        ("mau beli satu kak", 1),  # two verbs in a row; it read "satu" as a product
        ("I'd like to buy one", 1),
        ("want to buy 3 please", 3),
    ],
)
async def test_taking_the_product_just_shown_by_number_alone_orders_it(
    shop: Shop, said: str, qty: int
) -> None:
    await wa(shop, PHONE, "ada kaos hitam xl?")
    picked = await text(shop, PHONE, said)
    assert "(KAOS-HTM-XL)" in picked
    await text(shop, PHONE, "Sari Wulandari")
    [summary] = await wa(shop, PHONE, "Jl. Mawar 12, Bandung")
    assert f"• Kaos Polos Hitam XL (KAOS-HTM-XL) ×{qty}" in summary.text
    # With nothing shown, a number alone takes nothing.
    await wa(shop, PHONE, "batal")
    assert shop.t("id", "draft.ask_name_or", name="Pembeli") not in await text(shop, PHONE, said)


async def test_how_long_making_takes_is_the_product_just_shown_and_picking_it_orders_it(
    shop: Shop,
) -> None:
    await shop.say("tamu", "ada kemeja batik?")
    [asked] = await shop.say("tamu", "berapa lama pembuatannya?")  # no order of theirs to ask
    assert shop.t("id", "stock.made_to_order", days=5) in asked.text
    assert [c.command for c in asked.choices] == ["/pesan BATIK-PRM-M"]
    picked = await shop.text("tamu", "oke saya pesan yang M 1")  # it was "not understood"
    assert "(BATIK-PRM-M)" in picked
    assert picked.endswith(shop.t("id", "draft.ask_name_or", name="Tamu"))


async def test_the_order_button_is_only_where_the_chat_may_order_it_here(shop: Shop) -> None:
    offered = shop.t("id", "push.order_now")

    async def buttons(who: str, asked: str) -> list[str]:
        return [c.label for c in (await shop.say(who, asked))[-1].choices]

    assert await buttons("tamu", "ada tote bag?") == [offered]
    assert await buttons("sari", "/stok tote") == [offered]
    assert await buttons("rina", "/stok tote") == []  # she buys from Mawar
    assert await buttons("mawar", "/stok tote") == [offered]  # shows the dropship command
    assert await buttons("dewi", "/stok tote") == []
    # None left to order: the button asks to be told when it is back.
    assert await buttons("tamu", "ada kaos putih L?") == [shop.t("id", "stock.tell_me")]
    [(_, command)] = [
        (c.label, c.command) for c in (await shop.say("tamu", "/stok KAOS-PTH-L"))[0].choices
    ]
    assert await shop.text("tamu", command) == shop.t(
        "id", "notify.done", product="Kaos Polos Putih L"
    )
    shop.conversation.settings = replace(
        shop.settings, orders=OrderSettings(customers_can_order=False)
    )
    assert await buttons("tamu", "ada tote bag?") == []


async def test_a_wish_to_buy_with_no_product_and_none_shown_asks_which(shop: Shop) -> None:
    assert await text(shop, PHONE, "mau beli 2") == shop.t("id", "draft.ask_product")
    # A product named by its SKU is that product, whatever was shown before.
    await wa(shop, PHONE, "batal")
    await wa(shop, PHONE, "ada tote bag?")
    assert "(KAOS-HTM-L)" in await text(shop, PHONE, "/pesan KAOS-HTM-L")


async def test_words_after_which_product_narrow_the_choice(shop: Shop) -> None:
    [which] = await wa(shop, PHONE, "mau order kaos polos")
    assert len(which.choices) == 3
    [which] = await wa(shop, PHONE, "yang hitam")
    assert [c.command for c in which.choices] == ["/pesan KAOS-HTM-L", "/pesan KAOS-HTM-XL"]
    picked = await text(shop, PHONE, "yang L aja kak")  # the white L is no longer in question
    assert "(KAOS-HTM-L)" in picked and picked.endswith(shop.t("id", "draft.ask_qty"))
    # A product of its own is a new choice, not a narrowing.
    await text(shop, PHONE, "batal")
    await wa(shop, PHONE, "mau order kaos polos")
    assert "(TOTE-KNV)" in await text(shop, PHONE, "tote bag aja deh")


async def test_a_shop_question_in_the_middle_of_a_draft_is_answered_and_the_draft_waits(
    shop: Shop,
) -> None:
    shipping = topic("shipping", {Language.ID: "Ongkir sesuai ekspedisi, dihitung admin"})
    shop.conversation.settings = replace(shop.settings, faq=(shipping,))
    await wa(shop, PHONE, "mau beli kaos hitam XL")
    assert await text(shop, PHONE, "ongkirnya berapa?") == "Ongkir sesuai ekspedisi, dihitung admin"
    assert await text(shop, PHONE, "2") == shop.t("id", "draft.ask_name_or", name="Pembeli")
    # Asked while the name is wanted, the answer comes and the name is still wanted.
    assert await text(shop, PHONE, "ongkir ke bandung berapa?") == (
        "Ongkir sesuai ekspedisi, dihitung admin"
    )
    assert await text(shop, PHONE, "Sari Wulandari") == shop.t("id", "draft.ask_address")
    # Asked while the address is wanted, it is no address (it is long enough to be one).
    assert await text(shop, PHONE, "ongkir ke bandung berapa?") == (
        "Ongkir sesuai ekspedisi, dihitung admin"
    )
    [summary] = await wa(shop, PHONE, "Jl. Mawar 12, Bandung")
    assert "Dikirim ke: Sari Wulandari, Jl. Mawar 12, Bandung" in summary.text
    await text(shop, PHONE, "batal")
    # One the shop has written no answer to goes to a person, as anywhere else.
    shop.conversation.settings = replace(shop.settings, faq=())
    await wa(shop, PHONE, "mau beli tote bag")
    handed, meanwhile = await wa(shop, PHONE, "bisa cod?")
    assert handed.text.startswith(shop.t("id", "support.ack.no_answer", number=1))
    assert meanwhile.text.endswith(shop.t("id", "draft.ask_qty"))


async def test_which_product_waits_for_a_question_asked_instead_of_a_product(shop: Shop) -> None:
    shipping = topic("shipping", {Language.ID: "Ongkir sesuai ekspedisi, dihitung admin"})
    shop.conversation.settings = replace(shop.settings, faq=(shipping,))
    assert await text(shop, PHONE, "mau order dong") == shop.t("id", "draft.ask_product")
    assert await text(shop, PHONE, "ongkirnya berapa kak?") == (
        "Ongkir sesuai ekspedisi, dihitung admin"
    )
    assert await text(shop, PHONE, "ya") == shop.t("id", "draft.ask_product")  # no "ya" sold
    [which] = await wa(shop, PHONE, "pesanan saya mana?")  # Sari's orders, to pick from
    assert which.choices and all(c.command.startswith("/status INV-") for c in which.choices)
    # When a product is back asks when; it picks nothing (it asked for a name next).
    [back] = await wa(shop, PHONE, "kaos putih kapan ready lagi?")
    assert [c.command for c in back.choices] == ["/kabari KAOS-PTH-L"]
    assert "(TOTE-KNV)" in await text(shop, PHONE, "tote bag")
    await wa(shop, PHONE, "batal")
    # One the shop wrote no answer to goes to a person; the question is asked again, and
    # a product named then is still taken.
    await wa(shop, PHONE, "mau order dong")
    handed, meanwhile = await wa(shop, PHONE, "bisa cod?")
    assert handed.text.startswith(shop.t("id", "support.ack.no_answer", number=1))
    assert meanwhile.text.endswith(shop.t("id", "draft.ask_product"))
    assert "(TOTE-KNV)" in await text(shop, PHONE, "tote bag")


async def orders_placed(shop: Shop) -> int:
    async with shop.db.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Order)) or 0)


async def test_a_draft_goes_on_while_a_person_answers_a_question_asked_in_it(shop: Shop) -> None:
    await wa(shop, PHONE, "mau beli kaos hitam XL")
    handed, meanwhile = await wa(shop, PHONE, "ongkir ke bandung berapa?")  # no answer written
    assert handed.text.startswith(shop.t("id", "support.ack.no_answer", number=1))
    assert meanwhile.text == shop.t("id", "draft.meanwhile") + "\n" + shop.t("id", "draft.ask_qty")
    assert await wa(shop, PHONE, "oke ditunggu") == []  # for the person, not a quantity
    assert await text(shop, PHONE, "2") == shop.t("id", "draft.ask_name_or", name="Pembeli")
    assert await text(shop, PHONE, "Sari Wulandari") == shop.t("id", "draft.ask_address")
    [summary] = await wa(shop, PHONE, "Jl. Mawar 12, Bandung")
    assert "• Kaos Polos Hitam XL (KAOS-HTM-XL) ×2" in summary.text
    before = await orders_placed(shop)
    assert "✅" in await text(shop, PHONE, "ok")
    assert await orders_placed(shop) == before + 1
    async with shop.db.sessions() as s:  # the question still waits for its person
        assert await s.scalar(select(func.count()).select_from(SupportThread)) == 1
        assert await s.scalar(select(SupportThread.closed_at)) is None


async def test_a_draft_takes_no_reply_meant_for_the_person_who_answered(shop: Shop) -> None:
    await wa(shop, PHONE, "mau beli 2 kaos hitam XL")
    await wa(shop, PHONE, "Sari Wulandari")
    await wa(shop, PHONE, "ongkir ke bandung berapa?")  # to a person, the address still wanted
    [summary] = await wa(shop, PHONE, "Jl. Mawar 12, Bandung")
    assert summary.choices  # ✅ / ❌
    await shop.say("dewi", "/balas 1 Ongkir ke Bandung Rp15.000, lanjut?")
    await shop.deliver(after=1)
    before = await orders_placed(shop)
    assert await wa(shop, PHONE, "ok") == []  # a reply to the person: it goes to them
    assert await orders_placed(shop) == before
    assert "✅" in await text(shop, PHONE, "/pesan ok")  # the summary's button still places it
    assert await orders_placed(shop) == before + 1


async def test_what_is_no_quantity_or_no_name_is_asked_again(shop: Shop) -> None:
    await wa(shop, PHONE, "mau beli kaos hitam XL")
    for unclear in ("dua hitam", "0", "banyak"):
        assert await text(shop, PHONE, unclear) == shop.t("id", "draft.ask_qty"), unclear
    await text(shop, PHONE, "1")
    for unclear in ("-", "?", "123"):
        assert await text(shop, PHONE, unclear) == shop.t("id", "draft.ask_name_or", name="Pembeli")
    assert await text(shop, PHONE, "Sari Wulandari") == shop.t("id", "draft.ask_address")


async def test_the_name_the_platform_shows_is_one_tap(shop: Shop) -> None:
    [asked] = await wa(shop, PHONE, "mau beli 2 kaos hitam XL")
    assert asked.text.endswith(shop.t("id", "draft.ask_name_or", name="Pembeli"))
    assert [(c.label, c.command) for c in asked.choices] == [("Pembeli", "Pembeli")]
    assert await text(shop, PHONE, "1") == shop.t("id", "draft.ask_address")  # WhatsApp's pick
    [summary] = await wa(shop, PHONE, "Jl. Mawar 12, Bandung")
    assert shop.t("id", "draft.to", name="Pembeli", address="Jl. Mawar 12, Bandung") in summary.text


async def test_a_shown_name_with_no_letters_is_not_offered(shop: Shop) -> None:
    [asked] = await wa(shop, "+6281299990000", "mau beli tote bag 1", name="🙂 ")
    assert asked.text.endswith(shop.t("id", "draft.ask_name")) and asked.choices == ()


async def test_cancel_my_order_with_no_order_but_the_draft_drops_the_draft(shop: Shop) -> None:
    await at_the_summary(shop, NEW)  # a new customer: the draft is all they have
    assert await text(shop, NEW, "cancel my order") == shop.t("id", "draft.dropped")
    async with shop.db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(OrderDraft)) == 0
        assert await s.scalar(select(func.count()).select_from(SupportThread)) == 0
    # Sari has orders placed: which one she means is for a person, and her draft waits.
    await shop.say("sari", "mau order tote 1")
    [handed, meanwhile] = await shop.say("sari", "batalin pesanan saya")
    assert handed.text.startswith(shop.t("id", "support.ack.asked", number=1))
    assert meanwhile.text.endswith(shop.t("id", "draft.ask_name_or", name="Sari"))


async def test_a_draft_is_cancelled_reminded_expires_and_survives_a_restart(shop: Shop) -> None:
    await text(shop, PHONE, "mau order tote bag")
    assert await text(shop, PHONE, "batal") == shop.t("id", "draft.dropped")
    await text(shop, PHONE, "mau order tote bag")
    restarted = attach(shop.db)
    restarted.clock.now = shop.clock.now
    # After a restart the draft goes on where it was: the quantity, then the name.
    [asked] = await wa(restarted, PHONE, "3")
    assert asked.text == restarted.t("id", "draft.ask_name_or", name="Pembeli")
    jobs = Jobs(shop.db, shop.settings, shop.clock)
    shop.clock.advance(31 * 60)
    assert (await jobs.tend_drafts()).reminded
    assert await notices(shop) == ["draft_reminder"]
    assert (await jobs.tend_drafts()).reminded == []  # once
    shop.clock.advance(30 * 60)
    assert (await jobs.tend_drafts()).expired
    assert await notices(shop) == ["draft_reminder", "draft_expired"]
    async with shop.db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(OrderDraft)) == 0


async def notices(shop: Shop) -> list[str]:
    """The notices queued for Sari's WhatsApp chat, oldest first."""
    async with shop.db.sessions() as s:
        rows = await s.scalars(
            select(Notification.payload)
            .join(Chat, Chat.id == Notification.chat_id)
            .where(Chat.address == PHONE, Notification.kind == NotificationKind.SUPPORT_NOTICE)
            .order_by(Notification.id)
        )
    return [payload["notice"] for payload in rows]


async def _ready_to_confirm(shop: Shop, phone: str) -> None:
    await text(shop, phone, "mau order tote bag 1")
    await text(shop, phone, "Pembeli")
    await text(shop, phone, "Jl. Melati 5 Bandung")


async def test_fifty_confirm_at_once_on_ten_units(shop: Shop) -> None:
    await shop.say("dewi", "/stokset TOTE-KNV 11")  # DS-2001 holds one: ten are left
    phones = [f"+62812990{n:05d}" for n in range(50)]
    for phone in phones:
        await _ready_to_confirm(shop, phone)
    await asyncio.gather(*(wa(shop, phone, "/pesan ok") for phone in phones))
    async with shop.db.sessions() as s:
        phases = list(
            await s.scalars(
                select(Order.phase)
                .join(OrderLine, OrderLine.order_id == Order.id)
                .join(Product, Product.id == OrderLine.product_id)
                .where(Product.sku == "TOTE-KNV", Order.code != "DS-2001")
            )
        )
        product = await s.scalar(select(Product).where(Product.sku == "TOTE-KNV"))
    assert len(phases) == 50
    assert phases.count(Phase.PLACED) == 10 and phases.count(Phase.AWAITING_STOCK) == 40
    assert product is not None and product.reserved == product.on_hand == 11


async def test_a_double_tap_on_confirm_places_one_order(shop: Shop) -> None:
    await _ready_to_confirm(shop, PHONE)
    await asyncio.gather(wa(shop, PHONE, "/pesan ok"), wa(shop, PHONE, "/pesan ok"))
    async with shop.db.sessions() as s:
        count = await s.scalar(
            select(func.count()).select_from(Order).where(Order.code.like("INV-10%"))
        )
    assert count == 4  # INV-1001..1003, and the one just placed


# --- one rule ------------------------------------------------------------------------------------


async def test_the_import_and_a_chat_order_write_the_same_rows(shop: Shop, tmp_path: Path) -> None:
    csv = tmp_path / "orders.csv"
    csv.write_text(
        "code,customer_name,customer_phone,sku,qty,reseller,language\n"
        "IMP-1,Budi,0812-3456-7001,KAOS-HTM-L,2,,\n",
        encoding="utf-8",
    )
    lines = read_csv(csv, ORDER_COLUMNS)
    async with shop.db.transaction() as s:
        await import_orders(s, lines, now=shop.clock.now)
    await shop.say("dewi", "/pesananbaru Budi; 0812-3456-7001; KAOS-HTM-L 2; Jl. Melati 5")

    async def rows(code: str) -> tuple[object, ...]:
        async with shop.db.sessions() as s:
            order = await s.scalar(select(Order).where(Order.code == code))
            assert order is not None
            lines = (
                await s.execute(
                    select(
                        OrderLine.product_id,
                        OrderLine.qty,
                        OrderLine.unit_price,
                        OrderLine.from_stock,
                    ).where(OrderLine.order_id == order.id)
                )
            ).all()
            events = (
                await s.execute(
                    select(PhaseEvent.from_phase, PhaseEvent.to_phase).where(
                        PhaseEvent.order_id == order.id
                    )
                )
            ).all()
        kept = (
            order.customer_id, order.reseller_id, order.fulfillment, order.phase, order.stage_plan,
            order.stock_reserved, order.subtotal, order.payment_state, order.estimated_ready_at,
        )  # fmt: skip
        return kept, tuple(lines), tuple(events)

    assert await rows("IMP-1") == await rows("INV-1004")


async def test_a_shop_that_takes_orders_itself_hands_them_to_a_person(shop: Shop) -> None:
    shop.conversation.settings = replace(
        shop.settings, orders=OrderSettings(customers_can_order=False)
    )
    ack = await text(shop, PHONE, "mau order kaos hitam XL 2")
    assert "#" in ack and shop.t("id", "support.soon") in ack


async def test_draft_expiry_after_an_hour_uses_the_configured_lifetime(shop: Shop) -> None:
    await text(shop, PHONE, "mau order tote bag")
    async with shop.db.sessions() as s:
        draft = await s.scalar(select(OrderDraft))
    assert draft is not None and draft.expires_at - draft.created_at == timedelta(minutes=60)


async def test_an_english_stranger_orders_to_an_address_with_a_postcode(shop: Shop) -> None:
    uk = "+447911123456"
    [asked] = await wa(shop, uk, "Hi! I'd like to order a black tee size L")
    assert asked.text.endswith(shop.t("en", "draft.ask_qty"))  # in English from the start
    await wa(shop, uk, "2")
    await wa(shop, uk, "John Smith")
    [summary] = await wa(shop, uk, "12 Baker Street, London NW1 6XE, UK")  # NW1 is no order
    assert "John Smith, 12 Baker Street, London NW1 6XE, UK" in summary.text
    assert "✅" in await text(shop, uk, "yes")


@pytest.mark.parametrize(
    "address",
    [
        "Perum Griya Indah Blok C2 No 10 Bekasi",  # a housing block reads like an order code
        "Komplek Batik Indah Blok B-12 Pekalongan",
        "Jl. Sudirman No. 5, RT 01/RW 02, Kel. Karet, Jakarta Selatan 12920",
    ],
)
async def test_an_address_with_a_block_or_house_number_is_the_address(
    shop: Shop, address: str
) -> None:
    await wa(shop, NEW, "mau pesan tote 1")
    await wa(shop, NEW, "Andi")
    [summary] = await wa(shop, NEW, address)
    assert f"Andi, {address}" in summary.text


async def test_a_vouched_number_kabar_cannot_read_hands_the_order_to_a_person(shop: Shop) -> None:
    unknown_range = "+447700900123"  # WhatsApp vouches for it; phonenumbers knows no such range
    [handed] = await wa(shop, unknown_range, "I'd like to order a black tee size L")
    assert handed.text.startswith(shop.t("en", "support.ack.asked", number=1))
