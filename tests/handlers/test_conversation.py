"""The conversation, command by command, role by role, in Indonesian and English."""

from __future__ import annotations

import re
import string
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, event, func, select, update

from handlers.router import ROUTES, find_route, reads_as_command
from handlers.types import Incoming, Reply, Role
from models import Notification, Order, Product, Staff, StockSubscription
from models.enums import Channel, Fulfillment, Language, NotificationStatus, Phase
from models.linking import is_link_code, new_link_code
from models.storage import Database
from tests.support.shop import Shop, attach, open_shop


@pytest.fixture
async def shop(sqlite_db: Database) -> AsyncIterator[Shop]:
    yield await open_shop(sqlite_db)


@pytest.fixture
async def any_shop(db: Database) -> AsyncIterator[Shop]:
    """The demo shop on SQLite and on PostgreSQL."""
    yield await open_shop(db)


# Every command row of design.md: words (Indonesian, English), arguments, a persona allowed to
# use it, a persona who is not (None: everyone may), and a check on the allowed answer's key.
# Staff are told a command is not theirs; a customer's or reseller's is read as a question.
COMMANDS = [
    ("start", "start", "", "sari", None, "start.hello.customer"),
    ("bantuan", "help", "", "sari", None, "help.title"),
    ("bahasa", "language", "", "sari", None, "language.ask"),
    ("info", "faq", "", "sari", None, "info.none"),
    ("pesanan", "orders", "", "sari", None, "orders.title"),  # staff: a search (below)
    ("status", "status", "INV-1001", "sari", None, "status.timeline"),
    ("lacak", "track", "INV-1001", "sari", None, "status.timeline"),
    ("stok", "stock", "kaos hitam xl", "sari", None, "stock.in_stock"),
    ("kabari", "notify", "KAOS-PTH-L", "sari", "dewi", "notify.done"),
    ("bukti", "proof", "INV-1001", "sari", "dewi", "pay.claim_received"),  # no photo with it
    ("tagihan", "invoice", "INV-1001", "sari", None, "invoice.header"),
    ("berhenti", "stop", "", "sari", "dewi", "stop.done"),
    ("putus", "unlink", "", "sari", "dewi", "unlink.all"),
    ("tahap", "stage", "INV-1002 potong", "dewi", "sari", "staff.undo_hint"),
    ("bayar", "paid", "INV-1001", "dewi", "sari", "staff.undo_hint"),
    ("ongkir", "shipping", "INV-1001 15000", "dewi", "sari", "staff.undo_hint"),
    ("diskon", "discount", "INV-1001 5rb", "dewi", "sari", "staff.undo_hint"),
    ("tolak", "reject", "INV-1001 salah nominal", "dewi", "sari", None),
    ("kembalikan", "refund", "INV-1001", "dewi", "sari", None),
    ("kirim", "ship", "INV-1001 jne JN12345678", "dewi", "mawar", "staff.undo_hint"),
    ("terima", "delivered", "INV-1001", "dewi", "rina", "staff.undo_hint"),
    ("batal", "cancel", "INV-1001 salah ukuran", "dewi", "sari", "staff.undo_hint"),
    ("undo", "undo", "", "dewi", "sari", "undo.nothing"),
    ("foto", "photo", "INV-1002 kain sudah dipotong", "dewi", "sari", "progress.done"),
    ("stokset", "setstock", "KAOS-HTM-XL +2", "dewi", "mawar", None),
    ("antrian", "queue", "", "dewi", "sari", "queue.title"),
    ("pesananku", "myorders", "", "mawar", "sari", None),
    ("pesan", "order", "kaos hitam xl 2", "sari", None, "draft.ask_name_or"),
    (
        "pesananbaru",
        "neworder",
        "Budi; 0812-3456-7001; TOTE-KNV 1; Jl. Melati 5",
        "dewi",
        "sari",
        "neworder.placed",
    ),
    ("inbox", "inbox", "", "dewi", "sari", "support.inbox_empty"),
    ("balas", "reply", "12 baik kak", "dewi", "sari", "support.refuse.not_found"),
    ("ambil", "claim", "12", "dewi", "sari", "support.refuse.not_found"),
    ("selesai", "done", "12", "dewi", "sari", "support.refuse.not_found"),
]


def _first_line(template: str) -> str:
    """The fixed words of a message, up to its first placeholder."""
    return template.split("{")[0].strip() or template


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("which", [0, 1], ids=["indonesian-word", "english-word"])
@pytest.mark.parametrize(
    ("id_word", "en_word", "args", "allowed", "forbidden", "key"),
    COMMANDS,
    ids=[row[0] for row in COMMANDS],
)
async def test_every_command_answers_its_roles_and_refuses_others(
    shop: Shop,
    lang: str,
    which: int,
    id_word: str,
    en_word: str,
    args: str,
    allowed: str,
    forbidden: str | None,
    key: str | None,
) -> None:
    word = (id_word, en_word)[which]
    if forbidden is not None:
        await shop.say(forbidden, f"/bahasa {lang}")
        # A customer's "/batal" asks a person to cancel: handed over, and nothing else done.
        before = await shop.snapshot(but_handovers=True)
        refused = await shop.text(forbidden, f"/{word} {args}")
        if forbidden == "dewi":
            assert refused == shop.t(lang, "error.not_allowed")
        else:
            assert shop.t(lang, "error.not_allowed") not in refused
            assert shop.t(lang, "error.sorry") not in refused
        assert await shop.snapshot(but_handovers=True) == before
    await shop.say(allowed, f"/bahasa {lang}")
    answer = await shop.text(allowed, f"/{word} {args}")
    assert answer not in (shop.t(lang, "error.not_allowed"), shop.t(lang, "error.sorry"))
    assert shop.t(lang, "unknown.command") not in answer
    if key is not None:
        assert _first_line(shop.messages.template(Language(lang), key)) in answer


def test_the_table_covers_every_route() -> None:
    words = {w for row in COMMANDS for w in row[:2]}
    for route in ROUTES:
        assert words & set(route.words), route.words


async def test_a_stranger_who_knows_an_order_code_learns_nothing(any_shop: Shop) -> None:
    real = await any_shop.text("tamu", "/status INV-1001")
    fake = await any_shop.text("tamu", "/status INV-9999")
    assert real.replace("INV-1001", "X") == fake.replace("INV-9999", "X")
    assert "Sari" not in real and "KAOS" not in real
    # A reseller sees their own dropship orders, not the shop's direct ones.
    assert "INV-1001" not in (await any_shop.text("mawar", "/status INV-1001")).split("\n")[1:]
    assert "Rina" not in await any_shop.text("mawar", "/status INV-1001")
    assert any_shop.t("id", "status.timeline") in await any_shop.text("mawar", "/status DS-2001")


async def test_status_shows_timeline_progress_estimate_and_courier(any_shop: Shop) -> None:
    shop = any_shop
    await shop.say("dewi", "/bayar INV-1002")
    await shop.say("dewi", "/tahap INV-1002 potong")
    await shop.say("dewi", "/tahap INV-1002 jahit")
    status = await shop.text("sari", "/status INV-1002")
    assert "Toko Batik Kabar · Pesanan INV-1002" in status
    assert "▓▓░░ 2/4 jahit" in status
    assert "Perkiraan siap: Kamis, 5 Maret 2026" in status  # Mon 09:00 + 2d + 1d + 4h
    assert "Sen 2 Mar 09:00 dipesan" in status  # Indonesian day and month names, shop time
    await shop.say("dewi", "/kirim INV-1001 jnt jt0012345678")
    status = await shop.text("sari", "/status INV-1001")
    assert "Kurir: J&T · Resi: JT0012345678" in status
    await shop.say("sari", "/bahasa en")
    assert "Mon 2 Mar 09:00 placed" in await shop.text("sari", "/status INV-1001")


async def test_customer_lists_orders_and_asks_in_free_text(shop: Shop) -> None:
    listing = await shop.text("sari", "/pesanan")
    assert "INV-1001 · Kaos Polos Hitam XL ×2 · dipesan" in listing
    assert "INV-1003 · Kaos Polos Putih L · menunggu stok" in listing
    assert "DS-2001" not in listing
    free = await shop.text("sari", "pesanan saya sudah sampai mana?")
    assert shop.t("id", "status.pick") in free
    stock = await shop.text("sari", "ada stok kaos hitam XL?")
    assert "Kaos Polos Hitam XL (KAOS-HTM-XL) — Rp85.000" in stock
    assert "tersedia ✅" in stock
    english = await shop.text("rina", "is the tote bag available")
    assert "Tote Bag Kanvas (TOTE-KNV)" in english and "only 2 left!" in english
    assert "sold out" in await shop.text("rina", "/stock KAOS-PTH-L")
    assert "made to order, ready in about 5 days" in await shop.text("rina", "/stock batik")
    assert shop.t("id", "unknown.text") in await shop.text("sari", "qwerty zxcv")


@pytest.mark.parametrize(
    ("who", "key", "lang"),
    [
        ("sari", "unknown.text", "id"),
        ("rina", "unknown.text", "en"),
        ("dewi", "unknown.staff", "id"),
        ("dewi", "unknown.staff", "en"),
    ],
)
async def test_what_is_not_understood_gets_examples_that_are(
    shop: Shop, who: str, key: str, lang: str
) -> None:
    await shop.say(who, f"/bahasa {lang}")
    said = await shop.text(who, "qwerty zxcv")
    assert said == shop.t(lang, key)
    examples = re.findall(r'"([^"]+)"', said)
    assert len(examples) >= 2
    for example in examples:  # each is answered, or offered as the command it means
        answer = await shop.text(who, example)
        assert said not in answer and shop.t(lang, "unknown.text") not in answer, example


async def test_stock_answer_depends_on_who_asks(shop: Shop) -> None:
    reseller = await shop.text("mawar", "/stok KAOS-HTM-XL")
    assert "Rp70.000" in reseller and "stok 10" in reseller  # 2 of 12 reserved by INV-1001
    staff = await shop.text("dewi", "/stok KAOS-HTM-XL")
    assert "di gudang 12, dipesan 2, tersedia 10" in staff
    customer = await shop.text("sari", "/stok KAOS-HTM-XL")
    assert "Rp85.000" in customer and "tersedia ✅" in customer and "12" not in customer
    several = await shop.say("sari", "/stok kaos hitam")
    assert len(several[0].choices) == 2
    assert {c.command for c in several[0].choices} == {"/stok KAOS-HTM-XL", "/stok KAOS-HTM-L"}


async def test_asking_what_the_shop_sells_gets_the_catalogue_priced_for_the_asker(
    any_shop: Shop,
) -> None:
    shop = any_shop
    lines = (await shop.text("sari", "ada produk apa aja kak?")).splitlines()
    assert lines[:4] == [
        shop.t("id", "catalogue.title"),
        "• Kaos Polos — Rp85.000 · 3 varian",
        "• Kemeja Batik — Rp350.000 · dibuat sesuai pesanan",
        "• Tote Bag — Rp60.000",
    ]
    [tapped] = await shop.say("sari", "/stok")  # the menu's "Cek stok"
    assert tapped.text.splitlines() == lines
    assert tapped.choices[0].command == "/stok Kaos Polos"
    # A reseller sees their prices; a reseller's customer no price of the shop's.
    assert "• Kaos Polos — mulai Rp70.000 · 3 varian" in await shop.text("mawar", "list harga")
    assert "• Kaos Polos · 3 variants" in await shop.text("rina", "what do you sell?")
    # A product named is a stock question; reselling asked of the shop is the shop's answer.
    assert "KAOS-HTM-L" in await shop.text("sari", "ada kaos apa aja?")
    asked = await shop.text("tamu", "list harga reseller dong")
    assert shop.t("id", "catalogue.title") not in asked


async def test_a_long_catalogue_is_cut_with_how_many_more(shop: Shop) -> None:
    async with shop.db.transaction() as s:
        for n in range(12):
            s.add(
                Product(
                    sku=f"SARUNG-{n:02}",
                    name=f"Sarung {n:02}",
                    price=Decimal(50000),
                    on_hand=0,
                    fulfillment=Fulfillment.READY_STOCK,
                )
            )
    catalogue = (await shop.text("sari", "katalognya dong")).splitlines()
    assert catalogue[1] == "• Kaos Polos — Rp85.000 · 3 varian"
    assert "• Sarung 00 — Rp50.000 · habis" in catalogue
    assert shop.t("id", "catalogue.more", count=5) in catalogue  # 15 names, 10 shown


async def test_staff_move_reaches_customer_after_the_undo_window_in_their_language(
    any_shop: Shop,
) -> None:
    shop = any_shop
    reply = await shop.text("dewi", "/bayar INV-1001")
    assert "✅ INV-1001: dibayar" in reply
    assert await shop.deliver(after=5) == []  # still inside the undo window
    pushed = await shop.deliver()
    assert [(who, r.text.splitlines()[1]) for who, r in pushed] == [
        ("sari", "Pembayaran sudah kami terima. Terima kasih! 🙏")
    ]
    await shop.say("dewi", "/bayar DS-2001")
    texts = {who: r.text for who, r in await shop.deliver()}
    assert texts["rina"].startswith("Mawar Batik Store · Order DS-2001")  # reseller's brand
    assert "Toko Batik Kabar" not in texts["rina"]
    assert texts["mawar"].startswith("Pesanan dropship DS-2001 untuk Rina")


async def test_undo_inside_the_window_sends_nothing(any_shop: Shop) -> None:
    shop = any_shop
    await shop.say("dewi", "/bayar INV-1001,INV-1002")
    shop.clock.advance(10)
    undone = await shop.text("dewi", "/undo")
    assert "↩️ INV-1001" in undone and "↩️ INV-1002" in undone
    assert await shop.deliver(after=120) == []
    status = await shop.text("sari", "/status INV-1001")
    assert "Status: dipesan" in status and "09:00 dibayar" not in status
    # Outside the window there is nothing left to take back, and the change is told.
    await shop.say("dewi", "/bayar INV-1001")
    assert len(await shop.deliver()) == 1
    assert shop.t("id", "undo.nothing", seconds=30) == await shop.text("dewi", "/undo")


@pytest.mark.parametrize(
    ("said", "offered"),
    [
        ("INV-1001, INV-1002 lunas", ["/bayar INV-1001,INV-1002"]),
        ("INV-1001 dan inv1002 sudah dikemas", ["/tahap INV-1001,INV-1002 dikemas"]),
        ("INV-1001 dan INV-1003 batal stok habis", ["/batal INV-1001,INV-1003 stok habis"]),
        # /kirim takes one order: one tap each, and the resi is never read as an order
        (
            "INV-1001 dan INV-1002 dikirim jne JP123456789",
            ["/kirim INV-1001 JNE JP123456789", "/kirim INV-1002 JNE JP123456789"],
        ),
        ("INV-1001 dan INV-9999 lunas", ["/bayar INV-1001"]),  # no such order: left out
        ("INV-1001 INV-1002 dp 100rb", ["/bayar INV-1001 100000"]),  # a sum is one order's
    ],
)
async def test_staff_naming_several_orders_in_passing_are_offered_them_all(
    shop: Shop, said: str, offered: list[str]
) -> None:
    before = await shop.snapshot()
    [offer] = await shop.say("dewi", said)
    assert [c.command for c in offer.choices] == offered
    assert await shop.snapshot() == before


@pytest.mark.parametrize("said", ["eh salah, batalin", "waduh keliru", "oops, wrong one"])
async def test_staff_saying_they_slipped_are_offered_the_undo_while_it_can_be_undone(
    shop: Shop, said: str
) -> None:
    await shop.say("dewi", "/tahap INV-1001,INV-1002 dibayar")
    before = await shop.snapshot()
    [offer] = await shop.say("dewi", said)
    assert offer.text == shop.t("id", "undo.offer", codes="INV-1001, INV-1002")
    assert [c.command for c in offer.choices] == ["/undo"]
    assert await shop.snapshot() == before  # words alone take nothing back
    assert "↩️ INV-1001" in await shop.text("dewi", "/undo")
    assert await shop.deliver() == []
    # With nothing left to take back, the same words get no offer.
    [after] = await shop.say("dewi", said)
    assert after.choices == () or "/undo" not in [c.command for c in after.choices]


@pytest.mark.parametrize(
    ("said", "offered"),
    [
        ("INV-1001 lunas", "/bayar INV-1001"),
        ("INV-1001 sudah transfer kak", "/bayar INV-1001"),
        ("INV-1002 baru dp 100rb", "/bayar INV-1002 100000"),  # the sum said is the sum paid
        ("INV-1002 dp Rp150.000 masuk", "/bayar INV-1002 150000"),
        ("INV-1001 sudah tf 1,5 jt", "/bayar INV-1001 1500000"),
        ("INV-1002 dp", "/bayar INV-1002 ?"),  # a DP, and how much is asked
        ("INV-1002 ongkir 15rb", "/ongkir INV-1002 15000"),
        ("INV-1002 diskon Rp10.000", "/diskon INV-1002 10000"),
        ("INV-1003 tunda dulu", "/tahap INV-1003 tahan"),
        ("INV-1001 sudah sampai", "/terima INV-1001"),
        ("INV-1002 mulai potong", "/tahap INV-1002 potong"),
        ("INV-1002 jahit sudah selesai", "/tahap INV-1002 sablon"),  # it is at potong
        ("INV-1002 potong beres", "/tahap INV-1002 jahit"),
        ("INV-1001 dikirim JNE JP1234567890", "/kirim INV-1001 JNE JP1234567890"),
        ("INV-1001 sudah dikirim jnt jp1234567890", "/kirim INV-1001 J&T JP1234567890"),
        ("INV-1003 batal, stok habis", "/batal INV-1003 stok habis"),  # the reason kept
        ("INV-1001 cancelled: customer's wish", "/batal INV-1001 customer's wish"),
    ],
)
async def test_staff_writing_what_became_of_an_order_get_the_command_one_tap_away(
    shop: Shop, said: str, offered: str
) -> None:
    await shop.say("dewi", "/tahap INV-1002 potong")
    await shop.deliver()
    before = await shop.snapshot()
    [offer] = await shop.say("dewi", said)
    assert [c.command for c in offer.choices] == [offered]
    # Nothing moves until tapped: not on the words, nor on a yes, nor on the code typed again.
    for after in ("ya", "INV-1001", "INV-1002"):
        await shop.say("dewi", after)
    assert await shop.snapshot() == before


async def test_an_order_on_hold_resumed_in_words_is_offered_one_tap_away(shop: Shop) -> None:
    await shop.say("dewi", "/tahap INV-1003 tahan")
    [offer] = await shop.say("dewi", "INV-1003 lanjut lagi ya")
    assert [c.command for c in offer.choices] == ["/tahap INV-1003 lanjut"]
    # Not on hold, "lanjut" names nothing to do; with a stage, the stage is the move.
    assert (await shop.say("dewi", "INV-1001 lanjut"))[0].choices == ()
    [stage] = await shop.say("dewi", "INV-1002 lanjut jahit")
    assert [c.command for c in stage.choices] == ["/tahap INV-1002 jahit"]


async def test_a_cancel_in_words_without_a_reason_says_how(shop: Shop) -> None:
    before = await shop.snapshot()
    assert await shop.text("dewi", "INV-1003 batal") == shop.t("id", "cancel.usage")
    assert await shop.snapshot() == before


async def test_a_resi_corrected_in_words_is_offered_with_the_orders_courier(shop: Shop) -> None:
    await shop.say("dewi", "/kirim INV-1001 JNE JP1234567890")
    await shop.deliver()
    [offer] = await shop.say("dewi", "resi INV-1001 salah, harusnya JP9876543210")
    assert [c.command for c in offer.choices] == ["/kirim INV-1001 JNE JP9876543210"]


async def test_staff_asking_after_an_order_get_its_status_and_no_offer(shop: Shop) -> None:
    [status] = await shop.say("dewi", "INV-1001 sudah sampai mana?")
    assert status.text.startswith("Toko Batik Kabar · Pesanan INV-1001") and not status.choices


async def test_batalkan_with_an_order_code_cancels_nothing_and_takes_nothing_back(
    shop: Shop,
) -> None:
    # "batalkan" is /undo's Indonesian word; with a code it means "cancel that order".
    await shop.say("dewi", "/bayar INV-1001")
    before = await shop.snapshot()
    assert await shop.text("dewi", "batalkan INV-1003") == shop.t("id", "cancel.usage")
    # With a reason, the cancel it means is one tap away; nothing moves until tapped.
    [offer] = await shop.say("dewi", "batalkan INV-1003 stok habis")
    assert [c.command for c in offer.choices] == ["/batal INV-1003 stok habis"]
    assert await shop.snapshot() == before  # INV-1001 stays paid, INV-1003 stays open


async def test_undo_again_steps_back_again_and_nothing_is_told(any_shop: Shop) -> None:
    shop = any_shop
    for stage in ("potong", "jahit", "sablon"):
        await shop.say("dewi", f"/tahap INV-1002 {stage}")
    assert await shop.text("dewi", "/undo") == "↩️ INV-1002: dikembalikan, pembeli tidak dikabari"
    assert "diproduksi · jahit" in await shop.text("sari", "/status INV-1002")
    assert "↩️ INV-1002" in await shop.text("dewi", "/undo")
    assert "↩️ INV-1002" in await shop.text("dewi", "/undo")
    status = await shop.text("sari", "/status INV-1002")
    assert "Status: dipesan" in status and "potong" not in status
    assert await shop.deliver(after=120) == []
    assert shop.t("id", "undo.nothing", seconds=30) == await shop.text("dewi", "/undo")


LISTED = "kaos polos ada warna apa aja?"  # lists the black L, the black XL and the white L


def skus_in(answer: str) -> list[str]:
    """The SKUs a stock answer names, in order."""
    return re.findall(r"\(([A-Z]+-[A-Z0-9-]+)\)", answer)


@pytest.mark.parametrize(
    ("follow_up", "skus"),
    [
        ("yang hitam ukuran apa aja?", ["KAOS-HTM-L", "KAOS-HTM-XL"]),
        ("kalau yang putih?", ["KAOS-PTH-L"]),
        ("the black one in XL?", ["KAOS-HTM-XL"]),
    ],
)
async def test_a_follow_up_picks_among_the_products_just_listed(
    shop: Shop, follow_up: str, skus: list[str]
) -> None:
    assert skus_in(await shop.text("sari", LISTED)) == ["KAOS-HTM-L", "KAOS-HTM-XL", "KAOS-PTH-L"]
    assert skus_in(await shop.text("sari", follow_up)) == skus


async def test_a_follow_up_names_the_sizes_of_the_products_listed(shop: Shop) -> None:
    await shop.say("sari", LISTED)
    answer = await shop.text("sari", "yang XXL ada?")
    # The shirts listed (black and white) share their name, and the answer says it.
    wanted = "Kaos Polos XXL"
    assert answer == shop.t("id", "stock.no_variant", wanted=wanted, alternatives="L, XL")


@pytest.mark.parametrize(
    ("follow_up", "skus"),
    [
        ("ada ukuran lain?", ["KAOS-HTM-L", "KAOS-HTM-XL", "KAOS-PTH-L"]),
        ("what sizes?", ["KAOS-HTM-L", "KAOS-HTM-XL", "KAOS-PTH-L"]),
        ("kalau yang putih?", ["KAOS-PTH-L"]),
    ],
)
async def test_a_follow_up_to_one_product_asks_after_its_other_variants(
    shop: Shop, follow_up: str, skus: list[str]
) -> None:
    assert skus_in(await shop.text("tamu", "ada kaos hitam XL?")) == ["KAOS-HTM-XL"]
    assert skus_in(await shop.text("tamu", follow_up)) == skus


async def test_a_colour_the_product_shown_does_not_come_in_is_said_plainly(shop: Shop) -> None:
    await shop.say("tamu", "ada tote?")
    answer = await shop.text("tamu", "yang hitam?")
    assert answer == shop.t("id", "stock.not_made_in", product="Tote Bag Kanvas", missing="hitam")
    await shop.say("tamu", "/bahasa en")
    answer = await shop.text("tamu", "do you have the tote in black?")
    assert answer == "Sorry, Tote Bag Kanvas does not come in black."


@pytest.mark.parametrize("follow_up", ["kalau warna putih ada?", "do you have it in white?"])
async def test_a_colour_none_listed_has_asks_after_that_product_in_it(
    shop: Shop, follow_up: str
) -> None:
    assert skus_in(await shop.text("tamu", "kak ready kaos hitam?")) == [
        "KAOS-HTM-L",
        "KAOS-HTM-XL",
    ]
    assert skus_in(await shop.text("tamu", follow_up)) == ["KAOS-PTH-L"]


async def test_taking_the_one_shown_may_say_how_many_in_words(shop: Shop) -> None:
    await shop.say("tamu", "do you have the tote bag?")
    taken = await shop.text("tamu", "ok I'll take one")
    assert "(TOTE-KNV)" in taken and taken.endswith(shop.t("en", "draft.ask_name_or", name="Tamu"))


async def test_asking_the_price_of_what_was_just_shown_shows_it_again(shop: Shop) -> None:
    await shop.say("tamu", LISTED)
    assert skus_in(await shop.text("tamu", "harganya berapa?")) == [
        "KAOS-HTM-L",
        "KAOS-HTM-XL",
        "KAOS-PTH-L",
    ]
    await shop.say("tamu", "ada tote?")
    [again] = await shop.say("tamu", "how much?")
    assert skus_in(again.text) == ["TOTE-KNV"]
    assert [c.command for c in again.choices] == ["/pesan TOTE-KNV"]  # still one tap to order


async def test_asking_the_price_with_nothing_shown_shows_the_catalogue(shop: Shop) -> None:
    title = shop.t("id", "catalogue.title")
    assert (await shop.text("tamu", "harganya berapa kak?")).startswith(title)
    assert "• Tote Bag — Rp60.000" in await shop.text("sari", "harganya berapa?")
    # A reseller asking "the reseller price" asks their own, of what was shown or of all.
    listed = await shop.text("mawar", "harga reseller berapa?")
    assert listed.startswith(title) and "• Tote Bag — Rp48.000" in listed
    await shop.say("mawar", "ada tote?")
    assert skus_in(await shop.text("mawar", "harga reseller berapa?")) == ["TOTE-KNV"]
    # Anyone else asks how reselling works: the shop's answer, here a person.
    asked = await shop.text("sari", "harga reseller berapa?")
    assert asked.startswith(shop.t("id", "support.ack.no_answer", number=1))


async def test_taking_one_of_several_listed_by_number_asks_which(shop: Shop) -> None:
    await shop.say("tamu", "kak ready kaos hitam?")
    [which] = await shop.say("tamu", "ok saya ambil 1")
    assert which.text == shop.t("id", "draft.which_product")
    assert [c.command for c in which.choices] == ["/pesan KAOS-HTM-L 1", "/pesan KAOS-HTM-XL 1"]
    picked = await shop.text("tamu", which.choices[1].command)
    assert "(KAOS-HTM-XL)" in picked and picked.endswith(
        shop.t("id", "draft.ask_name_or", name="Tamu")
    )


async def test_only_a_stock_answer_just_shown_is_followed_up(shop: Shop) -> None:
    follow_up = "ukuran apa aja?"  # which product's? none shown: the customer is asked
    assert await shop.text("sari", follow_up) == shop.t("id", "stock.ask")
    await shop.say("sari", LISTED)
    assert skus_in(await shop.text("sari", "ada tote?")) == ["TOTE-KNV"]  # a new question
    await shop.say("sari", "halo")  # another answer in between
    assert await shop.text("sari", follow_up) == shop.t("id", "stock.ask")


async def test_a_question_about_colours_with_nothing_shown_is_asked_of_the_shop(
    shop: Shop,
) -> None:
    answer = await shop.text("sari", "yang hitam ukuran apa aja?")
    assert skus_in(answer) == ["KAOS-HTM-L", "KAOS-HTM-XL"]


async def test_undo_puts_shipped_stock_back(shop: Shop) -> None:
    before = await shop.text("dewi", "/stok KAOS-HTM-XL")
    await shop.say("dewi", "/kirim INV-1001 jne JN12345678")
    assert "di gudang 10, dipesan 0" in await shop.text("dewi", "/stok KAOS-HTM-XL")
    await shop.say("dewi", "/undo")
    assert await shop.text("dewi", "/stok KAOS-HTM-XL") == before
    assert "Kurir" not in await shop.text("sari", "/status INV-1001")


async def test_bulk_stage_gives_one_line_per_order(shop: Shop) -> None:
    reply = await shop.text("dewi", "/bayar INV-1001, INV-1002,NOPE-1,INV-1003")
    lines = reply.splitlines()
    assert lines[0] == "✅ INV-1001: dibayar · pembayaran lunas ✅"
    assert lines[1] == "✅ INV-1002: dibayar · pembayaran lunas ✅"
    assert lines[2] == "❌ NOPE-1: pesanan tidak ditemukan"
    # Money may come in while an order waits for stock: it stays in line, and the line says
    # it is paid (its phase alone would not).
    assert lines[3] == "✅ INV-1003: menunggu stok · pembayaran lunas ✅"
    pushed = await shop.deliver()
    assert sorted(r.text.splitlines()[0] for _, r in pushed) == [
        "Toko Batik Kabar · Pesanan INV-1001",
        "Toko Batik Kabar · Pesanan INV-1002",
        "Toko Batik Kabar · Pesanan INV-1003",
    ]


async def test_next_moves_each_order_to_its_own_next_step(shop: Shop) -> None:
    # A workshop moves a batch along without naming each order's stage; money and the
    # courier are never guessed: paid is skipped, shipped needs a resi.
    reply = await shop.text("dewi", "/tahap INV-1002,INV-1001 next")
    assert reply.splitlines()[:2] == ["✅ INV-1002: diproduksi · potong", "✅ INV-1001: dikemas"]
    for stage in ("jahit", "sablon", "qc"):
        assert (await shop.text("dewi", "/tahap INV-1002 berikutnya")).startswith(
            f"✅ INV-1002: diproduksi · {stage}"
        )
    assert (await shop.text("dewi", "/tahap INV-1002 next")).startswith("✅ INV-1002: siap")
    before = await shop.snapshot()
    refused = await shop.text("dewi", "/tahap INV-1002,INV-1001 next")
    assert refused.splitlines() == [
        "❌ INV-1002: " + shop.t("id", "stage.no_next", ahead="dikirim, diterima"),
        "❌ INV-1001: " + shop.t("id", "stage.no_next", ahead="dikirim, diterima"),
    ]
    assert await shop.snapshot() == before


async def test_staff_asking_status_without_a_code_are_asked_which_order(shop: Shop) -> None:
    usage = shop.t("id", "status.staff_usage")
    assert await shop.text("dewi", "/status") == usage
    assert await shop.text("dewi", "pesanannya sudah sampai mana?") == usage
    assert "INV-1001" in (await shop.text("dewi", "/status INV-1001")).splitlines()[0]


async def test_one_open_order_is_shown_without_reading_the_items_of_a_list(shop: Shop) -> None:
    for move in ("/terima INV-1001", "/batal INV-1003 stok habis"):  # Sari's other two orders end
        assert "✅" in await shop.text("dewi", move)
    read: list[str] = []

    def note(*args: Any) -> None:
        read.append(args[2])

    event.listen(Engine, "before_cursor_execute", note)
    try:
        answer = await shop.text("sari", "/status")
    finally:
        event.remove(Engine, "before_cursor_execute", note)
    assert answer.splitlines()[0] == "Toko Batik Kabar · Pesanan INV-1002"
    assert read and not [statement for statement in read if "order_lines" in statement]


async def test_refused_moves_are_worded_and_change_nothing(shop: Shop) -> None:
    await shop.say("dewi", "/terima INV-1001")
    before = await shop.snapshot()
    reply = await shop.text("dewi", "/tahap INV-1001 dikemas")
    assert reply == "❌ INV-1001 sudah diterima: tidak bisa diubah lagi"
    assert 'tahap "lompat" tidak dikenal' in await shop.text("dewi", "/tahap INV-1002 lompat")
    assert "packed" not in await shop.text("dewi", "/tahap INV-1002 dikemas")
    assert await shop.snapshot() == before


async def test_thanks_and_praise_said_are_answered_as_such_not_as_questions(shop: Shop) -> None:
    thanked = await shop.text("sari", "paketnya sudah sampai kak, makasih ya")
    assert thanked == shop.t("id", "greeting.thanks")
    praised = await shop.text("sari", "barangnya bagus, suka banget")
    assert praised == shop.t("id", "greeting.praised")
    # "I'll wait for news" is told that news will come, not "you're welcome".
    assert await shop.text("sari", "oke ditunggu kabarnya kak") == shop.t("id", "greeting.awaits")
    # An OK is no thanks: it gets an OK back, not "you're welcome".
    assert await shop.text("sari", "ok sip") == shop.t("id", "greeting.ok")
    assert await shop.text("sari", "oke kak") == shop.t("id", "greeting.ok")
    assert await shop.text("sari", "👍🏻") == shop.t("id", "greeting.ok")
    assert await shop.text("sari", "🙏") == shop.t("id", "greeting.thanks")
    # Asked, it is a question again.
    assert "Pesanan" in await shop.text("sari", "makasih, paketnya kapan sampai?")


async def test_a_chat_with_no_language_is_answered_in_the_one_it_plainly_writes(
    shop: Shop,
) -> None:
    # Tamu chose no language and bought nothing: written to in English, kabar answers in it.
    asked = await shop.text("tamu", "hello, is the tote bag in stock?")
    assert asked.splitlines()[-1].strip() == shop.t("en", "stock.low", count=2)
    # It is kept for the chat: a word both languages use is answered in it too.
    assert await shop.text("tamu", "thanks") == shop.t("en", "greeting.thanks")
    # Until the chat picks another.
    await shop.say("tamu", "/bahasa id")
    asked = await shop.text("tamu", "how much is the tote?")
    assert asked.splitlines()[-1].strip() == shop.t("id", "stock.low", count=2)


async def test_a_chat_with_a_language_keeps_it_whatever_the_message(shop: Shop) -> None:
    # Sari's orders were placed in Indonesian: an English question does not change that.
    before = await shop.snapshot()
    answer = await shop.text("sari", "where is my order INV-1001?")
    assert answer.splitlines()[0] == "Toko Batik Kabar · Pesanan INV-1001"
    assert await shop.snapshot() == before
    # A mix says nothing: the shop's language.
    assert "Rp60.000" in await shop.text("tamu", "hi kak, is the tote ready?")
    # Staff write to customers in the customers' language: their own chat keeps the shop's.
    await shop.say("dewi", "where is INV-1001?")
    assert "Pesanan INV-1001" in await shop.text("dewi", "/status INV-1001")


async def test_staff_find_a_customers_orders_by_name_or_phone(any_shop: Shop) -> None:
    shop = any_shop
    by_name = (await shop.text("dewi", "pesanan sari")).splitlines()
    assert by_name == [
        shop.t("id", "findorders.title", words="sari"),
        "INV-1003 · Sari · menunggu stok",
        "INV-1002 · Sari · dipesan",
        "INV-1001 · Sari · dipesan",
    ]
    by_phone = await shop.text("dewi", "/pesanan 0812-3456-7890")
    assert by_phone.splitlines()[1:] == by_name[1:]
    assert await shop.text("dewi", "/pesanan rin") == "\n".join(
        [shop.t("id", "findorders.title", words="rin"), "DS-2001 · Rina · dipesan"]
    )
    # LIKE's own characters are only characters.
    assert await shop.text("dewi", "/pesanan %") == shop.t("id", "findorders.none", words="%")
    assert await shop.text("dewi", "/pesanan") == shop.t("id", "findorders.usage")
    # A customer's /pesanan is still their own orders, never a search.
    assert "Rina" not in await shop.text("sari", "/pesanan rina")


@pytest.mark.parametrize(
    "asked",
    [
        "pesanan hari ini berapa?",
        "berapa order hari ini?",
        "orderan hari ini",
        "/pesanan hari ini",
        "ada pesanan baru?",
        "any new orders?",
    ],
)
async def test_staff_asking_for_todays_orders_get_those_placed_since_midnight(
    any_shop: Shop, asked: str
) -> None:
    shop = any_shop
    shop.clock.advance(24 * 3600)  # the demo's orders were placed yesterday
    await shop.say("dewi", "/pesananbaru Budi; 0812-3456-7001; tote 1; Jl. Melati 5 Bandung")
    assert (await shop.text("dewi", asked)).splitlines() == [
        shop.t("id", "findorders.today", count=1),
        "INV-1004 · Budi · dipesan",
    ]


@pytest.mark.parametrize(
    "asked",
    [
        "yang belum bayar siapa aja?",
        "siapa yang belum transfer?",
        "pesanan belum lunas",
        "/antrian belum bayar",
        "/queue unpaid",
        "unpaid orders?",
        "who hasn't paid?",
        "which orders are not paid yet?",
        "who still owes us?",
    ],
)
async def test_staff_asking_who_has_not_paid_get_the_orders_still_owed_oldest_first(
    any_shop: Shop, asked: str
) -> None:
    shop = any_shop
    await shop.say("dewi", "/bayar INV-1001")  # paid: not owed
    await shop.say("dewi", "/bayar INV-1002 100000")  # a down payment: the rest is owed
    await shop.say("dewi", "/batal INV-1003 stok habis")  # cancelled: nothing is owed
    [owed] = await shop.say("dewi", asked)
    assert owed.text.splitlines() == [
        shop.t("id", "findorders.unpaid", count=2),
        "INV-1002 · Sari · " + shop.t("id", "payment.partly", paid="Rp100.000", due="Rp250.000"),
        "DS-2001 · Rina · " + shop.t("id", "payment.unpaid", due="Rp48.000"),
    ]
    assert [c.command for c in owed.choices] == ["/status INV-1002", "/status DS-2001"]
    # A customer asking so asks about their own bill, never the shop's list.
    assert "Rina" not in await shop.text("sari", "yang belum bayar siapa aja?")
    await shop.say("dewi", "/bayar INV-1002,DS-2001")
    assert await shop.text("dewi", asked) == shop.t("id", "findorders.none_unpaid")


async def test_staff_asking_the_sales_of_a_period_get_what_its_orders_add_up_to(
    any_shop: Shop,
) -> None:
    shop = any_shop
    await shop.say("dewi", "/bayar INV-1001")  # Rp170.000 in
    await shop.say("dewi", "/bayar INV-1002 100000")  # a down payment of Rp350.000
    await shop.say("dewi", "/batal INV-1003 stok habis")  # not counted
    today = await shop.text("dewi", "omzet hari ini berapa?")
    assert today.splitlines() == [  # with DS-2001's Rp48.000 at Mawar's price
        shop.t("id", "sales.day", since="Senin, 2 Maret 2026", count=3),
        shop.t("id", "sales.total", amount="Rp568.000"),
        shop.t("id", "sales.paid", amount="Rp270.000"),
        shop.t("id", "sales.due", amount="Rp298.000"),
        shop.t("id", "sales.cancelled", count=1),
    ]
    # A week on, shop time: none today or this week, the same three this month.
    shop.clock.advance(7 * 24 * 3600)
    week = await shop.text("dewi", "penjualan minggu ini?")
    assert week.splitlines()[0] == shop.t("id", "sales.week", since="Senin, 9 Maret 2026", count=0)
    month = await shop.text("dewi", "sales this month")
    assert month.splitlines()[0] == shop.t(
        "id", "sales.month", since="Minggu, 1 Maret 2026", count=3
    )
    # A customer asking so asks nothing of the shop's sales.
    assert "Rp568.000" not in await shop.text("sari", "omzet hari ini?")


@pytest.mark.parametrize(
    ("asked", "found"),
    [
        ("cari pesanan sari", "sari"),
        ("orderan atas nama Sari?", "Sari"),
        ("/pesanan a.n. sari", "sari"),
        ("cari 0812-3456-7890", "0812-3456-7890"),
        ("0812 3456 7890", "0812 3456 7890"),  # a customer just called
        ("no hp +62 812-3456-7890", "+62 812-3456-7890"),
    ],
)
async def test_staff_asking_in_words_for_a_customers_orders_get_them(
    shop: Shop, asked: str, found: str
) -> None:
    assert (await shop.text("dewi", asked)).splitlines() == [
        shop.t("id", "findorders.title", words=found),
        "INV-1003 · Sari · menunggu stok",
        "INV-1002 · Sari · dipesan",
        "INV-1001 · Sari · dipesan",
    ]


@pytest.mark.parametrize("said", ["cari kaos hitam", "pesanan hari ini", "0812 3456 7890"])
async def test_words_that_name_no_customer_search_for_none(shop: Shop, said: str) -> None:
    who = "sari" if said[0].isdigit() else "dewi"  # a number from a customer is no search
    answer = await shop.text(who, said)
    searched = (
        shop.t("id", "findorders.title", words=said),
        shop.t("id", "findorders.none", words=said),
    )
    assert answer not in searched and not answer.startswith(searched[0])


async def test_an_unknown_stage_word_lists_what_the_order_can_go_to_in_its_flows_order(
    shop: Shop,
) -> None:
    ahead = "dibayar, potong, jahit, sablon, qc, siap, dikirim, diterima"
    assert await shop.text("dewi", "/tahap INV-1002 selesai") == "❌ INV-1002: " + shop.t(
        "id", "stage.unknown", word="selesai", ahead=ahead
    )
    await shop.say("dewi", "/tahap INV-1002 jahit")  # the stages behind it are gone
    assert (await shop.text("dewi", "/tahap INV-1002 beres")).endswith(
        "sablon, qc, siap, dikirim, diterima"
    )
    await shop.say("dewi", "/language en")
    assert (await shop.text("dewi", "/stage INV-1001 done")).endswith(
        "paid, packed, shipped, delivered"
    )


async def test_shipping_normalises_the_courier_and_tells_the_tracking_number(shop: Shop) -> None:
    await shop.say("dewi", "/kirim INV-1001 ninja express nx00012345")
    ((who, reply),) = await shop.deliver()
    assert who == "sari"
    assert "Kurir: Ninja Xpress · Resi: NX00012345" in reply.text
    assert shop.t("id", "ship.bad_resi", resi="#") in await shop.text(
        "dewi", "/kirim INV-1002 jne #"
    )
    assert shop.t("id", "ship.usage") == await shop.text("dewi", "/kirim INV-1002")


@pytest.mark.parametrize(
    "typed",
    [
        "kirim INV-1001 pakai jne resi JN123456789",
        "/kirim INV-1001 via JNE no. resi JN123456789",
        "/kirim INV-1001 kurir jne awb JN123456789",
    ],
)
async def test_words_around_the_courier_are_no_part_of_its_name(shop: Shop, typed: str) -> None:
    done = await shop.text("dewi", typed)
    assert done.splitlines()[0] == "✅ INV-1001: dikirim · JNE JN123456789"


async def test_shipping_without_a_courier_asks_for_one(shop: Shop) -> None:
    answer = await shop.text("dewi", "/kirim INV-1001 resi JN123456789")
    assert answer == shop.t("id", "ship.usage")


async def order_row(shop: Shop, code: str) -> tuple[Phase, str | None, str | None, datetime]:
    async with shop.db.sessions() as s:
        order = await s.scalar(select(Order).where(Order.code == code))
    assert order is not None
    return order.phase, order.courier, order.tracking_number, order.phase_entered_at


async def test_shipping_again_with_another_resi_puts_it_right_and_tells_the_customer(
    shop: Shop,
) -> None:
    await shop.say("dewi", "/kirim INV-1001 jne JN1234567")
    await shop.deliver()
    shipped = await order_row(shop, "INV-1001")
    shop.clock.advance(3600)  # an hour later the customer says the resi is unknown
    fixed = await shop.text("dewi", "/kirim INV-1001 jnt JT0012345678")
    assert fixed.splitlines()[0] == "✅ INV-1001: dikirim · J&T JT0012345678"
    ((who, told),) = await shop.deliver()
    assert who == "sari"
    assert told.text.splitlines()[1:] == [
        "Nomor resi pesanan Anda diperbaiki:",
        "Kurir: J&T · Resi: JT0012345678",
    ]
    phase, courier, resi, since = await order_row(shop, "INV-1001")
    assert (phase, courier, resi) == (Phase.SHIPPED, "J&T", "JT0012345678")
    assert since == shipped[3]  # still shipped when it was: a correction is no new phase
    status = await shop.text("sari", "/status INV-1001")
    assert "Resi: JT0012345678" in status and "JN1234567" not in status


async def test_the_timeline_names_a_resi_given_after_shipping_and_a_resi_changed(
    shop: Shop,
) -> None:
    await shop.say("dewi", "/tahap INV-1001 dikirim")  # out of the door before the resi came
    await shop.say("dewi", "/kirim INV-1001 jne JN1234567")
    await shop.say("dewi", "/kirim INV-1001 jnt JT0012345678")
    await shop.say("dewi", "/kirim INV-1001 sicepat SC999")
    await shop.say("dewi", "/undo")  # the last one was a slip: it never happened
    status = await shop.text("sari", "/status INV-1001")
    timeline = [line.split(" ", 5)[-1] for line in status.splitlines() if line.startswith("•")]
    assert timeline == [
        "dipesan",
        "dikirim",
        "dikirim · resi JNE JN1234567",
        "dikirim · resi diganti: J&T JT0012345678",
    ]
    staff = await shop.text("dewi", "/status INV-1001")  # staff see the same history
    assert "dikirim · resi diganti: J&T JT0012345678" in staff and "SC999" not in staff


async def test_the_same_resi_again_is_refused_and_a_correction_can_be_undone(shop: Shop) -> None:
    await shop.say("dewi", "/kirim INV-1001 jne JN1234567")
    await shop.deliver()
    before = await shop.snapshot()
    again = await shop.text("dewi", "/kirim INV-1001 JNE jn1234567")
    assert again.startswith("❌ INV-1001")
    assert await shop.snapshot() == before and await shop.deliver() == []
    await shop.say("dewi", "/kirim INV-1001 jne JN7654321")
    assert "↩️ INV-1001" in await shop.text("dewi", "/undo")
    assert await shop.deliver() == []  # the customer hears nothing of it
    assert (await order_row(shop, "INV-1001"))[1:3] == ("JNE", "JN1234567")
    await shop.say("dewi", "/terima INV-1001")
    done = await shop.text("dewi", "/kirim INV-1001 jne JN7654321")
    assert done.startswith("❌ INV-1001") and "diterima" in done


async def test_a_staff_photo_goes_to_the_customer_with_the_update(shop: Shop) -> None:
    await shop.say(
        "dewi", "/tahap INV-1002 jahit benang habis --ke-pelanggan rapi", photo="photo-file-123"
    )
    ((who, reply),) = await shop.deliver()
    assert who == "sari" and reply.photo == "photo-file-123"
    assert "Pesan dari toko: rapi" in reply.text and "▓▓░░ 2/4 jahit" in reply.text
    assert "benang" not in reply.text  # the shop's own note stays with the shop


async def test_a_photo_sent_alone_goes_with_the_staff_command_right_after_it(shop: Shop) -> None:
    # WhatsApp staff cannot always caption: the photo first, then the command for it.
    [which] = await shop.say("dewi", "", photo="cut-fabric")
    assert which.text == shop.t("id", "staff.photo_which")
    await shop.say("dewi", "/foto INV-1002 kain sudah dipotong")
    ((who, reply),) = await shop.deliver()
    assert who == "sari" and reply.photo == "cut-fabric"
    # A photo goes once, with the command right after it, never with a later one.
    await shop.say("dewi", "/foto INV-1001 dikemas besok")
    await shop.say("dewi", "", photo="sewing")
    await shop.say("dewi", "halo")
    await shop.say("dewi", "/tahap INV-1002 potong")
    assert [r.photo for _, r in await shop.deliver()] == [None, None]


async def test_a_photo_sent_alone_goes_with_the_command_its_words_were_offered(
    shop: Shop,
) -> None:
    await shop.say("dewi", "", photo="sewing")
    [offer] = await shop.say("dewi", "INV-1002 jahit")
    [tap] = [c.command for c in offer.choices]
    assert tap == "/tahap INV-1002 jahit"
    await shop.say("dewi", tap)
    ((who, reply),) = await shop.deliver()
    assert who == "sari" and reply.photo == "sewing"
    # Words about another order in between lend the photo to nothing.
    await shop.say("dewi", "", photo="packing")
    await shop.say("dewi", "INV-1001 dikemas")
    await shop.say("dewi", "/tahap INV-1002 sablon")
    assert [r.photo for _, r in await shop.deliver()] == [None]


@pytest.mark.parametrize("answer", ["INV-1002", "inv-1002 ya", "untuk INV-1002"])
async def test_an_order_code_alone_after_a_photo_sends_it_as_that_orders_progress(
    shop: Shop, answer: str
) -> None:
    await shop.say("dewi", "", photo="cut-fabric")  # asked which order it is for
    done = await shop.text("dewi", answer)
    assert done.startswith("✅") and "INV-1002" in done.splitlines()[0]
    ((who, reply),) = await shop.deliver()
    assert who == "sari" and reply.photo == "cut-fabric"
    status = await shop.text("sari", "/status INV-1002")
    assert status.splitlines()[-1].endswith("dipesan 📷")  # the timeline says a photo came
    # Typed again, the photo is gone: the code asks after the order, and nothing is sent.
    before = await shop.snapshot()
    assert "Pesanan INV-1002" in await shop.text("dewi", answer)
    assert await shop.snapshot() == before


async def test_staff_talk_in_their_group_gets_no_answer_and_lends_no_photo(shop: Shop) -> None:
    async with shop.db.transaction() as s:
        await s.execute(update(Staff).values(telegram_id=7001))  # Dewi, on Telegram

    async def in_group(text: str, photo: str | None = None) -> list[Reply]:
        incoming = Incoming(
            channel=Channel.TELEGRAM,
            chat="-100200",
            sender="7001",
            name="Dewi",
            text=text,
            group=True,
            photo=photo,
        )
        return await shop.conversation.handle(incoming)

    [queue] = await in_group("/antrian")  # staff commands are answered there
    assert queue.text.startswith(shop.t("id", "queue.title").split(":")[0])
    for chatter in ("sudah makan belum?", "INV-1002 jahit hari ini ya"):
        assert await in_group(chatter) == []
    assert await in_group("", photo="lunch") == []
    await in_group("/foto INV-1002 sudah dijahit")
    assert [r.photo for _, r in await shop.deliver()] == [None]


async def test_a_plain_yes_takes_the_one_thing_offered(shop: Shop) -> None:
    offer = await shop.text("sari", "ada kemeja batik?")
    assert "BATIK-PRM-M" in offer
    assert (await shop.text("sari", "iya kak")).endswith(shop.t("id", "draft.ask_qty"))
    await shop.say("sari", "1")
    assert await shop.text("sari", "ya") == shop.t("id", "draft.ask_address")  # "Sari", offered
    await shop.say("sari", "batal")
    await shop.say("sari", "pesanan saya")  # three orders: a yes picks none of them
    assert "Status" not in await shop.text("sari", "iya")


@pytest.mark.parametrize(
    ("who", "asked"),
    [("rina", "yes please let me know when it's back"), ("sari", "iya mau dikabari")],
)
async def test_asking_to_hear_of_the_product_just_shown_subscribes(
    shop: Shop, who: str, asked: str
) -> None:
    await shop.say(who, "/stok KAOS-PTH-L")  # sold out: 🔔 offered
    await shop.say(who, asked)
    async with shop.db.sessions() as s:
        subscribed = await s.scalar(select(func.count()).select_from(StockSubscription))
    assert subscribed == 1


async def test_restock_serves_the_waiting_order_then_tells_subscribers(shop: Shop) -> None:
    for who in ("sari", "rina"):
        await shop.say(who, "/kabari kaos-pth-l")
    reply = await shop.text("dewi", "/stokset KAOS-PTH-L +3")
    assert "Stok KAOS-PTH-L: 0 → 3 (tersedia 2)" in reply and "INV-1003" in reply
    pushed = [(who, r.text) for who, r in await shop.deliver(after=1)]
    # Sari's waiting order is served; she hears of it, not that the product is back.
    assert pushed == [
        (
            "sari",
            shop.t("id", "push.header", brand="Toko Batik Kabar", code="INV-1003")
            + "\n"
            + shop.t("id", "push.filled"),
        ),
        (
            "rina",
            shop.t("en", "push.back_in_stock", product="Kaos Polos Putih L", sku="KAOS-PTH-L"),
        ),
    ]
    # Its timeline says the stock came, not a step back from "menunggu stok" to "dipesan".
    timeline = (await shop.text("sari", "/status INV-1003")).splitlines()[-2:]
    assert [line.split(" ", 5)[-1] for line in timeline] == [
        "menunggu stok",
        shop.t("id", "status.stock_came"),
    ]
    assert "tidak bisa" not in await shop.text("dewi", "/stokset KAOS-PTH-L 5")
    assert "❌" in await shop.text("dewi", "/stokset KAOS-PTH-L 0")  # 1 unit is reserved


async def test_back_in_stock_offers_to_order_it_to_those_who_may_order_here(shop: Shop) -> None:
    for who in ("tamu", "rina", "mawar"):
        await shop.say(who, "/kabari KAOS-PTH-L")
    await shop.say("dewi", "/stokset KAOS-PTH-L +5")
    pushed = {who: r for who, r in await shop.deliver(after=1) if who != "sari"}
    order_it = (shop.t("id", "push.order_now"), "/pesan KAOS-PTH-L")
    assert [(c.label, c.command) for c in pushed["tamu"].choices] == [order_it]
    # Rina buys from Mawar, and Mawar orders by her own command: no button to the shop.
    assert pushed["rina"].choices == () and pushed["mawar"].choices == ()


async def test_stop_silences_pushes_until_the_customer_writes_again(shop: Shop) -> None:
    await shop.say("sari", "/berhenti")
    await shop.say("dewi", "/bayar INV-1001")
    assert await shop.deliver() == []
    await shop.say("sari", "halo")
    await shop.say("dewi", "/tahap INV-1001 dikemas")
    assert [who for who, _ in await shop.deliver()] == ["sari"]


async def test_start_with_a_link_code_links_a_new_chat(shop: Shop) -> None:
    [stranger_view] = await shop.say("tamu", "/pesanan")
    assert stranger_view.text == shop.t("id", "orders.none")
    # Its choices lead on, not back to the same question.
    assert "/pesanan" not in [c.command for c in stranger_view.choices]
    linked = await shop.text("tamu", f"/start {shop.links['INV-1002']}")
    assert "terhubung dengan pesanan INV-1002" in linked
    # The invoice opens its own order, not the same customer's others.
    assert "INV-1001" not in await shop.text("tamu", "/pesanan")
    assert "INV-1002" in await shop.text("tamu", "/pesanan")
    assert shop.t("id", "start.bad_code") == await shop.text("tamu2", "/start not-a-real-code")


# Codes without a digit are where "kabar <code>" used to read as the greeting "kabar …".
@pytest.mark.parametrize("code", ["vKxQpZrTyWmNbHgFdSaLeJ", "Ab_cd-EfGhIjKlMnOpQrSt", "a1" * 11])
async def test_the_whatsapp_invoice_text_links_whatever_the_code(shop: Shop, code: str) -> None:
    async with shop.db.transaction() as s:
        await s.execute(update(Order).where(Order.code == "DS-2001").values(link_code=code))
    # The WhatsApp invoice link types "kabar <code>" without a slash.
    assert "DS-2001" in await shop.text("tamu3", f"kabar {code}")


@given(st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=22, max_size=22))
def test_kabar_and_any_link_code_reads_as_the_start_command(code: str) -> None:
    route, _ = find_route("kabar", Role.UNKNOWN)
    assert route is not None and reads_as_command(f"kabar {code}", code, route)


def test_link_codes_have_the_shape_the_conversation_reads() -> None:
    assert all(is_link_code(new_link_code()) for _ in range(1000))
    # "kabar baik" (I'm fine) stays a greeting.
    route, _ = find_route("kabar", Role.UNKNOWN)
    assert route is not None and not reads_as_command("kabar baik", "baik", route)


async def test_a_superscript_digit_after_a_menu_is_text_not_a_choice(shop: Shop) -> None:
    await shop.say("sari", "/pesanan")  # a menu of her orders
    assert await shop.text("sari", "²") != shop.t("id", "error.sorry")
    await shop.say("sari", "/pesanan")
    assert "Riwayat:" in await shop.text("sari", "٢")  # Arabic-Indic 2 picks the second


async def test_language_choice_is_kept_per_chat(shop: Shop) -> None:
    assert shop.t("en", "language.set") == await shop.text("sari", "/bahasa en")
    assert shop.t("en", "help.title") in await shop.text("sari", "/help")
    assert shop.t("id", "language.set") == await shop.text("sari", "/language id")
    choice = await shop.say("sari", "/bahasa")
    assert [c.command for c in choice[0].choices] == ["/bahasa id", "/bahasa en"]


async def test_thank_you_is_not_the_terima_command(shop: Shop) -> None:
    before = await shop.snapshot()
    assert await shop.text("dewi", "terima kasih") == shop.t("id", "greeting.thanks")
    assert await shop.text("sari", "terima kasih ya") == shop.t("id", "greeting.thanks")
    assert await shop.snapshot() == before


async def test_queue_lists_counts_and_late_orders_first(shop: Shop) -> None:
    await shop.say("dewi", "/tahap INV-1002 potong")
    shop.clock.advance(2 * 86400)  # cutting was expected to take one day
    queue = await shop.text("dewi", "/antrian")
    lines = queue.splitlines()
    assert lines[0] == "Terlambat (1):"
    assert lines[1].startswith("⚠️ INV-1002 · diproduksi · potong")
    assert (
        "dipesan: 2" in lines and "menunggu stok: 1" in lines and "diproduksi · potong: 1" in lines
    )


async def test_commands_work_in_any_case_and_addressed_to_this_bot(shop: Shop) -> None:
    named = attach(shop.db, bot_username="kabar_test_bot")
    assert "✅ INV-1001: dibayar" in await named.text("dewi", "/BAYAR@kabar_test_bot INV-1001")
    assert await named.say("dewi", "/bayar@another_bot INV-1002") == []  # not for us
    assert "✅ INV-1002: dibayar" in await named.text("dewi", "Bayar inv-1002")  # no slash


async def test_several_changes_inside_the_window_reach_the_customer_as_one(shop: Shop) -> None:
    await shop.say("dewi", "/bayar INV-1001")
    shop.clock.advance(5)
    await shop.say("dewi", "/tahap INV-1001 dikemas")
    shop.clock.advance(5)
    await shop.say("dewi", "/kirim INV-1001 jne JN12345678")
    pushed = [r.text for who, r in await shop.deliver() if who == "sari"]
    assert len(pushed) == 1
    assert "Pesanan sudah dikirim!" in pushed[0]
    assert "Perjalanan: dipesan → dibayar → dikemas → dikirim" not in pushed[0]
    assert "Perjalanan: dibayar → dikemas → dikirim" in pushed[0]
    assert await shop.deliver(after=3600) == []  # the folded ones count as told


async def test_a_resi_put_right_before_shipping_was_told_is_told_once_right(shop: Shop) -> None:
    await shop.say("dewi", "/tahap INV-1001 dikemas")
    await shop.say("dewi", "/kirim INV-1001 jne JNE123456789")
    await shop.say("dewi", "/kirim INV-1001 jnt JT123456789")  # a typo, seen at once
    [told] = [r.text for who, r in await shop.deliver() if who == "sari"]
    assert "Pesanan sudah dikirim!" in told and "Kurir: J&T · Resi: JT123456789" in told
    assert "JNE" not in told and shop.t("id", "push.resi_corrected") not in told
    assert "Perjalanan: dikemas → dikirim" in told
    assert await shop.deliver(after=3600) == []
    # Once "shipped" has been told, a new resi is news of its own.
    await shop.say("dewi", "/kirim INV-1001 jnt JT999999999")
    [again] = [r.text for who, r in await shop.deliver() if who == "sari"]
    assert shop.t("id", "push.resi_corrected") in again and "JT999999999" in again


async def test_a_resi_given_after_shipping_without_one_is_told_as_its_resi(shop: Shop) -> None:
    await shop.say("dewi", "/tahap INV-1001 dikirim")  # out with the shop's own rider, say
    [shipped] = [r.text for who, r in await shop.deliver() if who == "sari"]
    assert "Resi" not in shipped
    await shop.say("dewi", "/kirim INV-1001 jne JN0012345678")  # the resi came later
    [told] = [r.text for who, r in await shop.deliver() if who == "sari"]
    assert shop.t("id", "push.resi_added") in told and "Kurir: JNE · Resi: JN0012345678" in told
    assert shop.t("id", "push.resi_corrected") not in told  # nothing was wrong before


async def test_money_received_inside_the_window_is_told_beside_the_phases(shop: Shop) -> None:
    await shop.say("dewi", "/tahap INV-1002 potong")
    await shop.say("dewi", "/bayar INV-1002 100000")  # a down payment: no phase moves
    pushed = [r.text for who, r in await shop.deliver() if who == "sari"]
    assert len(pushed) == 2  # production began, and the money came: neither hides the other
    assert "tahap potong" in pushed[0] and "1/4" in pushed[0]
    assert "Rp100.000 (DP)" in pushed[1] and "Rp250.000" in pushed[1]

    await shop.say("dewi", "/tahap INV-1002 jahit")
    await shop.say("dewi", "/bayar INV-1002 250000")  # paid in full inside the stage
    await shop.say("dewi", "/tahap INV-1002 sablon")
    await shop.say("dewi", "/tahap INV-1002 qc")
    pushed = [r.text for who, r in await shop.deliver() if who == "sari"]
    assert len(pushed) == 3
    assert "tahap jahit" in pushed[0]
    assert "Rp250.000 sudah kami terima. Lunas" in pushed[1]
    assert "tahap qc" in pushed[2] and "Perjalanan" not in pushed[2]  # both in production
    assert await shop.deliver(after=3600) == []  # the folded sablon counts as told


async def test_quiet_hours_hold_customer_pushes_until_morning(sqlite_db: Database) -> None:
    shop = await open_shop(sqlite_db)
    shop.settings = replace(shop.settings, quiet_hours=(time(21), time(7)))
    shop.dispatcher.settings = shop.settings
    shop.clock.advance(13 * 3600)  # Monday 22:00 in Jakarta
    await shop.say("dewi", "/bayar INV-1001")
    assert await shop.deliver() == []
    for _ in range(10):  # Tuesday 06:00 and later: still quiet, however often it looks
        shop.clock.advance(60)
        await shop.dispatcher.tick()
    shop.clock.advance(8 * 3600 - 600)
    await shop.dispatcher.tick()
    assert shop.pushed == []
    async with shop.db.sessions() as s:
        attempts = set(
            await s.scalars(
                select(Notification.attempts).where(
                    Notification.status == NotificationStatus.PENDING
                )
            )
        )
    assert attempts == {0}  # held back is not an attempt: the night cannot exhaust them
    pushed = await shop.deliver(after=3600 + 1)  # 07:00
    assert [who for who, _ in pushed] == ["sari"]


async def test_the_runtime_hears_after_each_committed_message(shop: Shop) -> None:
    woken: list[int] = []
    shop.conversation.on_commit = lambda: woken.append(1)
    await shop.say("dewi", "/stokset KAOS-PTH-L +1")  # serves INV-1003: a push due at once
    assert woken == [1]


async def test_staff_hold_and_resume_an_order(shop: Shop) -> None:
    assert "✅ INV-1002: ditahan" in await shop.text("dewi", "/tahap INV-1002 tahan kain habis")
    assert "ditahan" in await shop.text("dewi", "/tahap INV-1002 potong")  # refused while held
    assert "✅ INV-1002: dipesan" in await shop.text("dewi", "/tahap INV-1002 lanjut")
