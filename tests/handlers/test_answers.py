"""Answers that know the customer and the shop: the questions people really type.

The corpus (`data/corpus.csv`) holds real-looking messages with what kabar must read them as
and what the answer must be about; sellers' reports of misread messages belong there.
"""

from __future__ import annotations

import asyncio
import csv
import shutil
import string
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from handlers import common
from handlers.faq import AS_THE_SHOP, match, topic
from handlers.i18n import Messages
from handlers.intents import normalise
from handlers.router import COMMAND, ROUTES, find_route, reads_as_command, understand
from handlers.types import Role
from models import Order, Product, StockSubscription, SupportThread
from models.enums import Language, Phase
from models.linking import LINK_CODE_BYTES, invoice_links, link_code_from
from models.storage import Database
from tests.support.database import sqlite_file
from tests.support.shop import Shop, attach, open_shop

CORPUS = Path(__file__).with_name("data") / "corpus.csv"

# The shop's own answers, as a seller would write them in [shop.faq].
FAQ = (
    topic("payment", {Language.ID: "Transfer ke BCA 123", Language.EN: "Pay to BCA 123"}),
    topic("shipping", {Language.ID: "Ongkir sesuai ekspedisi", Language.EN: "By courier rate"}),
    topic("cod", {Language.ID: "Bisa COD di Jabodetabek", Language.EN: "COD in Jakarta"}),
    topic("address", {Language.ID: "Jl. Melati 5 Bandung", Language.EN: "5 Melati St"}),
    topic("hours", {Language.ID: "Buka 08.00-21.00", Language.EN: "Open 8am-9pm"}),
    topic("returns", {Language.ID: "Retur 7 hari", Language.EN: "Returns within 7 days"}),
    topic("reseller", {Language.ID: "Daftar reseller di sini", Language.EN: "Join as reseller"}),
    topic("promo", {Language.ID: "Diskon 10% minggu ini", Language.EN: "10% off this week"}),
    topic("down_payment", {Language.ID: "Bisa DP 50%", Language.EN: "A 50% deposit is fine"}),
)


def corpus() -> Iterator[tuple[str, str, str, str]]:
    """The corpus rows: persona, text, intent, what the answer is about."""
    with CORPUS.open(encoding="utf-8", newline="") as file:
        rows = csv.DictReader(line for line in file if not line.startswith("#"))
        for row in rows:
            yield row["persona"], row["text"], row["intent"], row["resolves"]


ROWS = list(corpus())


@pytest.mark.parametrize(
    ("said", "asked"),
    [
        ("ukuran kaos anak ada?", "kids"),
        ("ukuran celana anak berapa?", "kids"),  # * is one word or two
        ("ukuran kaos lengan panjang anak?", None),  # not three
        ("ukuran anak?", None),  # nor none
    ],
)
def test_a_sellers_words_may_leave_a_word_or_two_open(said: str, asked: str | None) -> None:
    kids = topic("kids", {Language.ID: "Ukuran anak 2-12 tahun"}, words=["ukuran * anak"])
    found = match((kids,), normalise(said))
    assert (found.topic.key if found else None) == asked


def test_the_corpus_holds_enough_messages() -> None:
    assert len(ROWS) >= 150
    assert len({(who, text) for who, text, _, _ in ROWS}) == len(ROWS)  # no message twice


async def _corpus_state(db: Database) -> None:
    """The demo shop with INV-1001 shipped with a resi and INV-1002 in production."""
    shop = await open_shop(db)
    for command in (
        "/bayar INV-1001,INV-1002",
        "/kirim INV-1001 jne JN0012345678",
        "/tahap INV-1002 potong",
        "/tahap INV-1002 jahit",
    ):
        await shop.say("dewi", command)
    await shop.deliver()


@pytest.fixture(scope="module")
def corpus_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus's shop in a SQLite file, made once; each message talks to a copy."""
    return sqlite_file(tmp_path_factory.mktemp("corpus") / "shop.db", _corpus_state)


@pytest.fixture
async def corpus_db(corpus_shop: Path, tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "copy.db"
    await asyncio.to_thread(shutil.copyfile, corpus_shop, path)
    db = Database(f"sqlite+aiosqlite:///{path}")
    yield db
    await db.dispose()


@pytest.mark.parametrize(("persona", "text", "intent", "resolves"), ROWS, ids=[r[1] for r in ROWS])
async def test_a_customer_message_is_read_and_answered_as_meant(
    corpus_db: Database, persona: str, text: str, intent: str, resolves: str
) -> None:
    assert understand(text, FAQ).kind == intent
    shop = attach(corpus_db)
    shop.settings = replace(shop.settings, faq=FAQ)
    shop.conversation.settings = shop.settings
    replies = await shop.say(persona, text)
    answer = "\n".join(reply.text for reply in replies)
    lang = "en" if persona == "rina" else "id"
    assert shop.t(lang, "error.not_allowed") not in answer
    assert shop.t(lang, "error.sorry") not in answer
    first = answer.splitlines()[0] if answer else ""
    kind, _, what = resolves.partition(":")
    if resolves == "-":
        return
    if resolves == "pick":
        assert replies[-1].text == shop.t(lang, "status.pick")
        labels = [choice.label for choice in replies[-1].choices]
        assert all(" · " in label for label in labels) and len(labels) > 1  # items and phase
    elif resolves == "person":  # handed to a person, who is asked to look at once
        async with corpus_db.sessions() as session:
            [thread] = await session.scalars(select(SupportThread))
        assert first.startswith(shop.t(lang, f"support.ack.{thread.reason}", number=thread.id))
    elif resolves == "ask":  # which product?
        assert answer == shop.t(lang, "stock.ask")
    elif resolves == "help":
        assert first == shop.t(lang, "help.title")
    elif resolves == "orders":
        assert first == shop.t(lang, "orders.title")
    elif resolves == "myorders":
        assert first == shop.t(lang, "myorders.title", brand="Mawar Batik Store")
    elif resolves == "no_orders":
        assert answer == shop.t(lang, "orders.none")
    elif resolves == "not_found":
        assert "tidak ditemukan" in answer or "not found" in answer
    elif resolves == "via_seller":
        assert answer == shop.t(lang, "info.via_seller", seller="Mawar Batik Store")
    elif resolves == "none":
        assert answer.startswith(shop.t(lang, "stock.none", query="").split('"')[0])
    elif kind == "faq":
        expected = next(t for t in FAQ if t.key == what).answer(Language(lang))
        assert answer == expected
    elif kind == "missing":
        assert what.casefold() in first.casefold()
        assert "tidak ada" in first or "not available" in first
    elif resolves[0].isupper() and "-" in resolves and resolves.split("-")[0] in ("INV", "DS"):
        assert resolves in first  # the status of that order, its code in the header
    else:
        for sku in resolves.split("|"):
            assert f"({sku})" in answer


# --- links: every code the generator makes links, through either invoice link ------------------


@given(st.binary(min_size=LINK_CODE_BYTES, max_size=LINK_CODE_BYTES))
def test_every_generated_code_reads_as_a_link_from_both_invoice_links(raw: bytes) -> None:
    code = link_code_from(raw)
    links = invoice_links(code, "tokobatik_bot", "+6281100000000")
    assert links["whatsapp"] is not None and links["telegram"] is not None
    typed = parse_qs(urlsplit(links["whatsapp"]).query)["text"][0]  # what WhatsApp pre-fills
    match = COMMAND.match(typed)
    assert match is not None
    route, _ = find_route(match["word"].lower(), Role.UNKNOWN)
    assert route is not None and route.handler is common.start
    assert match["args"] == code and reads_as_command(typed, code, route)
    start = parse_qs(urlsplit(links["telegram"]).query)["start"][0]  # Telegram's /start payload
    assert start == code and len(start) <= 64
    assert set(start) <= set(string.ascii_letters + string.digits + "_-")


@pytest.fixture
def link_shop(tmp_path: Path) -> Path:
    return sqlite_file(tmp_path / "links.db", open_shop)


async def _link(path: Path, code: str, n: int) -> tuple[str, str]:
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.transaction() as s:
            await s.execute(update(Order).where(Order.code == "DS-2001").values(link_code=code))
        shop = attach(db)
        by_whatsapp = await shop.text(f"wa{n}", f"kabar {code}")
        by_telegram = await shop.text(f"tg{n}", f"/start {code}")
        return by_whatsapp, by_telegram
    finally:
        await db.dispose()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(min_size=LINK_CODE_BYTES, max_size=LINK_CODE_BYTES), n=st.integers(0, 10**6))
def test_every_generated_code_links_a_new_chat_through_the_conversation(
    link_shop: Path, raw: bytes, n: int
) -> None:
    by_whatsapp, by_telegram = asyncio.run(_link(link_shop, link_code_from(raw), n))
    assert "DS-2001" in by_whatsapp.splitlines()[0]
    assert "DS-2001" in by_telegram.splitlines()[0]


# --- a customer is never told off --------------------------------------------------------------

WORDS = sorted({word for route in ROUTES for word in route.words})
MESSAGES = Messages.load()


async def _ask(path: Path, persona: str, text: str) -> str:
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        return await attach(db).text(persona, text)
    finally:
        await db.dispose()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    persona=st.sampled_from(["sari", "rina", "mawar", "tamu"]),
    slash=st.booleans(),
    word=st.sampled_from(WORDS),
    args=st.sampled_from(["", "INV-1001", "INV-1001 jne JN123456", "dimana?", "aja kak", "2"]),
)
def test_no_customer_or_reseller_is_ever_told_a_command_is_not_for_them(
    link_shop: Path, persona: str, slash: bool, word: str, args: str
) -> None:
    text = f"{'/' if slash else ''}{word} {args}".strip()
    answer = asyncio.run(_ask(link_shop, persona, text))
    for lang in Language:
        assert MESSAGES.text(lang, "error.not_allowed") not in answer


@pytest.fixture
async def shop(sqlite_db: Database) -> AsyncIterator[Shop]:
    yield await open_shop(sqlite_db)


@pytest.mark.parametrize("text", ["bayar dimana?", "kirim kapan?", "batal aja", "terima barangnya"])
async def test_staff_words_from_a_customer_are_questions(shop: Shop, text: str) -> None:
    before = await shop.snapshot(but_handovers=True)  # "batal aja" goes to a person
    answer = await shop.text("sari", text)
    assert answer != shop.t("id", "error.not_allowed")
    assert await shop.snapshot(but_handovers=True) == before


# --- the order a question points to --------------------------------------------------------------


async def test_the_question_picks_the_order_it_points_to(shop: Shop) -> None:
    await shop.say("dewi", "/bayar INV-1001,INV-1002")
    await shop.say("dewi", "/kirim INV-1001 jne JN0012345678")
    await shop.say("dewi", "/tahap INV-1002 potong")
    await shop.deliver()
    resi = await shop.text("sari", "resi nya mana")
    assert "INV-1001" in resi.splitlines()[0] and "JN0012345678" in resi
    made = await shop.text("sari", "kak, batiknya udah jadi belum?")
    assert "INV-1002" in made.splitlines()[0]
    assert "▓░░░ 1/4 potong" in made and "Perkiraan siap" in made
    for asked in ("kemejanya udah sampai tahap apa?", "udah tahap apa kak?"):
        staged = await shop.text("sari", asked)  # the stage: the order being made
        assert "INV-1002" in staged.splitlines()[0], asked
    [pick] = await shop.say("sari", "pesanan saya sudah sampai mana?")
    assert [c.label for c in pick.choices] == [
        "INV-1003 · Kaos Polos Putih L · menunggu stok",
        "INV-1002 · Kemeja Batik Premium M · diproduksi · potong",
        "INV-1001 · Kaos Polos Hitam XL ×2 · dikirim",
    ]


async def test_a_question_about_a_product_the_customer_ordered_is_about_the_order(
    shop: Shop,
) -> None:
    answer = await shop.text("sari", "kak, batiknya udah jadi belum?")
    assert "Pesanan INV-1002" in answer and shop.t("id", "stock.none", query="batik") != answer


async def test_order_codes_are_read_in_any_case_and_without_the_dash(shop: Shop) -> None:
    assert "Pesanan INV-1001" in await shop.text("sari", "/status inv1001")
    assert "✅ " in await shop.text("dewi", "/bayar inv1001")
    assert "dibayar" in await shop.text("sari", "/status Inv-1001")


# --- stock: the variant asked for, or plainly not -------------------------------------------------


async def test_a_size_that_does_not_exist_is_said_plainly_with_the_ones_that_do(
    shop: Shop,
) -> None:
    answer = await shop.text("sari", "ada kaos hitam ukuran XXL?")
    wanted = "Kaos Polos Hitam XXL"  # what was asked, by the name the shop gives it
    assert answer == shop.t("id", "stock.no_variant", wanted=wanted, alternatives="L, XL")
    assert "tersedia" not in answer
    [told] = await shop.say("sari", "ada kaos hitam ukuran XXL?")
    assert [(c.label, c.command) for c in told.choices] == [
        ("Kaos Polos Hitam L", "/stok KAOS-HTM-L"),
        ("Kaos Polos Hitam XL", "/stok KAOS-HTM-XL"),
    ]
    await shop.say("rina", "/language en")
    assert await shop.text("rina", "black tee XXL available?") == shop.t(
        "en", "stock.no_variant", wanted=wanted, alternatives="L, XL"
    )


async def test_the_one_size_there_is_instead_may_be_ordered_or_asked_after(shop: Shop) -> None:
    [told] = await shop.say("sari", "kemeja batik ada ukuran XL?")
    assert told.text == shop.t(
        "id", "stock.no_variant", wanted="Kemeja Batik Premium XL", alternatives="M"
    )
    assert [c.command for c in told.choices] == ["/pesan BATIK-PRM-M"]
    assert "Rp350.000" in await shop.text("sari", "harganya berapa?")
    # The one out of stock is offered to be told of instead.
    [told] = await shop.say("sari", "kaos putih XL ada?")
    assert [c.command for c in told.choices] == ["/kabari KAOS-PTH-L"]


@pytest.mark.parametrize(
    ("persona", "asked"),
    [
        ("sari", "kabari kalau kaos putih L ready ya"),
        ("sari", "kasih tau kalau kaos putih L sudah ada"),
        ("rina", "let me know when the white tee size L is in stock"),
        ("rina", "tell me when the white tee L is back"),
    ],
)
async def test_asking_to_be_told_when_a_product_is_back_subscribes(
    shop: Shop, persona: str, asked: str
) -> None:
    lang = "en" if persona == "rina" else "id"
    answer = await shop.text(persona, asked)
    assert answer == shop.t(lang, "notify.done", product="Kaos Polos Putih L")
    async with shop.db.sessions() as s:
        wanted = list(await s.scalars(select(Product.sku).join(StockSubscription)))
    assert wanted == ["KAOS-PTH-L"]
    # In stock, there is nothing to wait for: the answer is the stock, and nothing is noted.
    in_stock = await shop.text(persona, asked.replace("putih", "hitam").replace("white", "black"))
    assert "KAOS-HTM-L" in in_stock
    async with shop.db.sessions() as s:
        assert len(list(await s.scalars(select(StockSubscription.id)))) == 1


# --- the shop's answers -----------------------------------------------------------------------


async def test_a_dropship_customer_hears_the_resellers_brand_and_no_shop_price(
    shop: Shop,
) -> None:
    shop.conversation.settings = replace(shop.settings, faq=FAQ)
    mawar, toko = "Mawar Batik Store", "Toko Batik Kabar"
    await shop.say("rina", "/bahasa id")
    [hello] = await shop.say("rina", "/start")
    assert mawar in hello.text and toko not in hello.text
    [listing] = await shop.say("rina", "/info")
    assert listing.text == shop.t("id", "info.title", shop=mawar)
    shown = [c.command for c in listing.choices]
    assert shown == [f"/info {t.key}" for t in FAQ if t.key not in AS_THE_SHOP]
    sent_there = shop.t("id", "info.via_seller", seller=mawar)
    for asked in ("/info payment", "alamat toko di mana?", "mau jadi reseller", "/info address"):
        assert await shop.text("rina", asked) == sent_there, asked
    assert await shop.text("rina", "bisa cod?") == "Bisa COD di Jabodetabek"  # the shop ships
    # Stock, but no price: Mawar names her own (Sari sees the shop's).
    # Ordering again is done with Mawar too: the shop never sells past her to her customer.
    to_mawar = shop.t("id", "draft.via_seller", seller=mawar)
    assert await shop.text("rina", "/stok tote") == "\n".join(
        ["Tote Bag Kanvas (TOTE-KNV)", "  tinggal 2 lagi!", to_mawar]
    )
    assert "Rp" in await shop.text("sari", "/stok tote")
    assert await shop.text("rina", "/pesan") == to_mawar
    assert await shop.text("rina", "mau order tote 1") == to_mawar
    # Sari bought from the shop itself, and so does Rina once she opens one of its orders.
    assert toko in await shop.text("sari", "/start")
    assert await shop.text("sari", "alamat toko di mana?") == "Jl. Melati 5 Bandung"
    await shop.say("rina", f"/start {shop.links['INV-1001']}")
    assert toko in await shop.text("rina", "/start")
    assert await shop.text("rina", "alamat toko di mana?") == "Jl. Melati 5 Bandung"


async def test_info_lists_the_shop_answers_and_gives_one(shop: Shop) -> None:
    shop.conversation.settings = replace(shop.settings, faq=FAQ)
    [listing] = await shop.say("sari", "/info")
    assert listing.text == shop.t("id", "info.title", shop="Toko Batik Kabar")
    assert [c.command for c in listing.choices] == [f"/info {t.key}" for t in FAQ]
    assert listing.choices[2].label == shop.t("id", "faq.title.cod")
    assert await shop.text("sari", "/info cod") == "Bisa COD di Jabodetabek"
    await shop.say("rina", "/language en")
    assert await shop.text("rina", "do you do cash on delivery?") == "COD in Jakarta"


async def test_a_shop_question_without_an_answer_goes_to_a_person_at_once(shop: Shop) -> None:
    cod_only = tuple(t for t in FAQ if t.key == "cod")
    shop.conversation.settings = replace(shop.settings, faq=cod_only)
    assert await shop.text("sari", "bisa COD?") == "Bisa COD di Jabodetabek"
    asked = await shop.text("sari", "ongkir ke surabaya berapa kak?")  # no answer written
    assert asked.startswith(shop.t("id", "support.ack.no_answer", number=1))
    async with shop.db.sessions() as s:
        reasons = list(await s.scalars(select(SupportThread.reason)))
    assert reasons == ["no_answer"]
    [forward] = [r.text for who, r in await shop.deliver(after=0) if who == "dewi"]
    assert "ongkir ke surabaya berapa kak?" in forward


@pytest.mark.parametrize(
    "asked",
    ["how much is shipping to Surabaya?", "is cash on delivery available?", "ada toko offline?"],
)
async def test_an_unwritten_answer_goes_to_a_person_however_the_question_reads(
    shop: Shop, asked: str
) -> None:
    # Read as an order question ("shipping") or a stock one ("available"), it is still a
    # question about the shop that no answer was written to.
    shop.conversation.settings = replace(shop.settings, faq=())
    reply = await shop.text("sari", asked)
    assert reply.startswith(shop.t("id", "support.ack.no_answer", number=1)), reply
    staff = await shop.text("dewi", "is cash on delivery available?")  # staff hand nothing over
    assert staff == shop.t("id", "stock.none", query="cash delivery")


async def test_a_reseller_asking_the_wholesale_price_of_a_product_gets_it(shop: Shop) -> None:
    shop.conversation.settings = replace(shop.settings, faq=FAQ)  # with a reseller answer
    assert await shop.text("mawar", "harga grosir berapa?") == "Daftar reseller di sini"
    answer = await shop.text("mawar", "harga grosir tote kanvas berapa?")
    assert answer.startswith("Tote Bag Kanvas (TOTE-KNV) — Rp48.000"), answer
    # Right after a product was shown, it is that product's price.
    assert (await shop.text("mawar", "harga grosir berapa?")).startswith("Tote Bag Kanvas")
    # The list of them is the catalogue at their prices, the shop's answer written or not.
    listed = await shop.text("mawar", "list harga reseller dong")
    assert listed.startswith(shop.t("id", "catalogue.title")) and "Rp48.000" in listed


# --- pushes that say the right thing --------------------------------------------------------------


@pytest.mark.parametrize("lang", ["id", "en"])
async def test_a_restocked_waiting_order_is_told_it_is_processed_not_received_again(
    shop: Shop, lang: str
) -> None:
    await shop.say("sari", f"/bahasa {lang}")
    await shop.say("sari", "/kabari KAOS-PTH-L")  # she also asked to hear when it is back
    await shop.say("dewi", "/stokset KAOS-PTH-L +3")
    pushed = await shop.deliver(after=1)
    header = "Toko Batik Kabar · " + ("Pesanan" if lang == "id" else "Order") + " INV-1003"
    assert [(who, reply.text) for who, reply in pushed] == [
        ("sari", header + "\n" + shop.t(lang, "push.filled"))
    ]
    assert (
        shop.t(lang, "push.filled")
        == {
            "id": "Kabar baik! Stoknya sudah tersedia, pesanan Anda kini kami proses. 🙌",
            "en": "Good news! The stock is in and your order is now being processed. 🙌",
        }[lang]
    )


@pytest.mark.parametrize(
    ("lang", "wording"),
    [
        ("id", "Pesan dari toko: Maaf, stoknya habis"),
        ("en", "A note from the shop: Maaf, stoknya habis"),
    ],
)
async def test_a_cancel_reason_stays_with_the_shop_unless_written_for_the_customer(
    shop: Shop, lang: str, wording: str
) -> None:
    await shop.say("sari", f"/bahasa {lang}")
    await shop.say("dewi", "/batal INV-1001 customer minta batal")
    [(_, silent)] = await shop.deliver()
    assert "minta batal" not in silent.text
    assert silent.text.endswith(shop.t(lang, "push.phase.cancelled"))
    await shop.say("dewi", "/batal INV-1002 produksi gagal --ke-pelanggan Maaf, stoknya habis")
    [(_, told)] = await shop.deliver()
    assert told.text.splitlines()[-1] == wording and "gagal" not in told.text
    staff_view = await shop.text("dewi", "/status INV-1002")
    assert "produksi gagal · ke pelanggan: Maaf, stoknya habis" in staff_view
    customer_view = await shop.text("sari", "/status INV-1002")
    assert "gagal" not in customer_view and "Maaf, stoknya habis" in customer_view


RESUMED = {
    "id": "Kabar untuk chat ini aktif lagi: kami akan mengabari setiap perkembangan pesanan "
    "Anda. Ketik /berhenti untuk berhenti.",
    "en": "Updates for this chat are on again: we will tell you of every step of your orders. "
    "Send /stop to stop them.",
}


@pytest.mark.parametrize(("lang", "notice"), RESUMED.items())
async def test_after_stop_any_message_turns_pushes_back_on_and_says_so(
    shop: Shop, lang: str, notice: str
) -> None:
    await shop.say("sari", f"/bahasa {lang}")
    await shop.say("sari", "/berhenti")
    assert await shop.text("sari", "oke lanjut kabari lagi") == notice
    assert await shop.text("sari", "oke lanjut kabari lagi") == shop.t(lang, "stop.active")
    await shop.say("sari", "/berhenti")
    greeting = await shop.say("sari", "halo")
    assert greeting[0].text == notice and len(greeting) == 2
    await shop.say("dewi", "/bayar INV-1001")
    assert [who for who, _ in await shop.deliver()] == ["sari"]


@pytest.mark.parametrize(
    ("lang", "first"),
    [("id", "Ada kabar terbaru dari pesanan Anda (diproduksi · potong):"),
     ("en", "News from your order (in production · potong):")],
)  # fmt: skip
async def test_a_progress_photo_reaches_the_customer_and_the_stage_stays(
    shop: Shop, lang: str, first: str
) -> None:
    await shop.say("sari", f"/bahasa {lang}")
    await shop.say("dewi", "/tahap INV-1002 potong")
    await shop.deliver()
    reply = await shop.text("dewi", "/foto INV-1002 kainnya sudah dipotong", photo="file-77")
    assert "INV-1002" in reply and "❌" not in reply
    [(who, pushed)] = await shop.deliver()
    assert who == "sari" and pushed.photo == "file-77"
    assert pushed.text.splitlines()[1] == first
    assert pushed.text.splitlines()[-1].endswith("kainnya sudah dipotong")
    # A captioned photo without a stage is progress too; the stage never moved.
    await shop.say("dewi", "/tahap INV-1002", photo="file-78")
    [(_, again)] = await shop.deliver()
    assert again.photo == "file-78" and again.text.splitlines()[1] == first
    async with shop.db.sessions() as s:
        order = await s.scalar(select(Order).where(Order.code == "INV-1002"))
    assert order is not None and (order.phase, order.stage_index) == (Phase.IN_PRODUCTION, 0)


# --- staff ergonomics ---------------------------------------------------------------------------


async def test_an_unknown_stage_word_gets_the_closest_real_one_with_a_button(shop: Shop) -> None:
    [reply] = await shop.say("dewi", "/tahap INV-1002 jait rapi")
    assert 'maksud Anda "jahit"?' in reply.text
    assert [c.command for c in reply.choices] == ["/tahap INV-1002 jahit rapi"]


async def test_the_queue_lists_codes_and_takes_a_filter(shop: Shop) -> None:
    await shop.say("dewi", "/bayar INV-1001")
    queue = await shop.text("dewi", "/antrian")
    assert "dibayar: 1\n  INV-1001" in queue and "dipesan: 2\n  INV-1002, DS-2001" in queue
    paid = await shop.text("dewi", "/antrian dibayar")
    assert "INV-1001" in paid and "INV-1002" not in paid
    shop.clock.advance(2 * 86400)  # a day past "paid"
    late = await shop.text("dewi", "/antrian telat")
    assert late.splitlines()[0] == shop.t("id", "queue.late_title", count=1)
    assert "INV-1001" in late and "dipesan" not in late


@pytest.mark.parametrize(
    "asked",
    ["yang telat apa aja?", "ada yang telat?", "which orders are late?", "pesanan yang telat"],
)
async def test_staff_asking_which_orders_are_late_get_the_late_ones(shop: Shop, asked: str) -> None:
    await shop.say("dewi", "/bayar INV-1001")
    shop.clock.advance(2 * 86400)  # a day past "paid"
    assert await shop.text("dewi", asked) == await shop.text("dewi", "/antrian telat")


@pytest.mark.parametrize(
    ("said", "code"), [("kok telat sih kak", None), ("batik saya terlambat ya?", "INV-1002")]
)
async def test_a_customer_saying_it_is_late_asks_after_the_order(
    shop: Shop, said: str, code: str | None
) -> None:
    await shop.say("sari", f"/start {shop.links['INV-1001']}")
    [reply] = await shop.say("sari", said)
    if code is None:  # Sari has three orders open: which one?
        assert reply.text == shop.t("id", "status.pick")
    else:
        assert code in reply.text.splitlines()[0]


async def test_a_question_without_a_code_means_the_order_just_talked_about(shop: Shop) -> None:
    pick = shop.t("id", "status.pick")
    [which] = await shop.say("sari", "kok lama ya")  # three orders open, none talked about
    assert which.text == pick
    await shop.say("sari", "/status INV-1002")
    for asked in ("kok lama ya", "ada update kak?", "paketnya kapan sampai?"):
        answer = await shop.text("sari", asked)
        assert "INV-1002" in answer.splitlines()[0], asked
    # Of all her orders, after something else was said, or a day later: which one, again.
    [mine] = await shop.say("sari", "pesanan saya gimana?")
    assert mine.text == pick
    await shop.say("sari", "/status INV-1002")
    await shop.say("sari", "ada stok kaos hitam XL?")
    [after_stock] = await shop.say("sari", "kok lama ya")
    assert after_stock.text == pick
    await shop.say("sari", "/status INV-1002")
    shop.clock.advance(25 * 3600)
    [next_day] = await shop.say("sari", "kok lama ya")
    assert next_day.text == pick


async def test_when_ready_right_after_an_orders_status_asks_after_that_order(
    shop: Shop,
) -> None:
    await shop.say("sari", "/status INV-1003")  # waiting for stock
    header = shop.t("id", "status.header", brand="Toko Batik Kabar", code="INV-1003")
    assert (await shop.text("sari", "kapan ready?")).startswith(header)
    await shop.say("sari", "ada stok kaos hitam?")  # products since: which one, then
    assert await shop.text("sari", "kapan ready?") == shop.t("id", "stock.ask")


async def test_news_of_one_order_is_what_the_next_question_asks_after(shop: Shop) -> None:
    await shop.say("dewi", "/bayar INV-1002")
    [news] = [r for who, r in await shop.deliver() if who == "sari"]
    assert "INV-1002" in news.text
    asked = await shop.text("sari", "kok belum ada kabar ya kak")
    assert "Pesanan INV-1002" in asked.splitlines()[0]
    # News of two orders at once points to neither.
    await shop.say("dewi", "/bayar INV-1001,INV-1003")
    await shop.deliver()
    [which] = await shop.say("sari", "kok belum ada kabar ya kak")
    assert which.text == shop.t("id", "status.pick")


@pytest.mark.parametrize(
    ("said", "command"),
    [
        ("stok kaos hitam XL tambah 5", "/stokset KAOS-HTM-XL +5"),
        ("kaos putih L jadi 20", "/stokset KAOS-PTH-L 20"),
        ("stok tote kurangi 1", "/stokset TOTE-KNV -1"),
        ("stock black tee XL +3", "/stokset KAOS-HTM-XL +3"),
        ("tambah stok tote 10", "/stokset TOTE-KNV +10"),  # the change first
        ("kurangi stok kaos hitam L 2", "/stokset KAOS-HTM-L -2"),
        ("kaos hitam XL sisa 3", "/stokset KAOS-HTM-XL 3"),  # what is left
        ("stok kaos hitam L habis", "/stokset KAOS-HTM-L 0"),  # none left
        ("restock tote 20", "/stokset TOTE-KNV +20"),  # what came in
        ("tote masuk 10 pcs", "/stokset TOTE-KNV +10"),
    ],
)
async def test_staff_writing_a_stock_change_get_it_one_tap_away(
    shop: Shop, said: str, command: str
) -> None:
    before = await shop.snapshot()
    [offer] = await shop.say("dewi", said)
    assert [c.command for c in offer.choices] == [command]
    assert await shop.snapshot() == before  # words alone change no stock
    [done] = await shop.say("dewi", command)
    assert done.text.startswith(f"Stok {command.split()[1]}: ")


@pytest.mark.parametrize(
    ("asked", "skus"),
    [
        ("stok menipis apa aja?", ["KAOS-PTH-L", "TOTE-KNV", "KAOS-HTM-L"]),  # fewest first
        ("stok yang habis apa saja?", ["KAOS-PTH-L"]),
        ("what is out of stock?", ["KAOS-PTH-L"]),
    ],
)
async def test_staff_ask_what_runs_low_or_is_out(shop: Shop, asked: str, skus: list[str]) -> None:
    before = await shop.snapshot()
    [listed] = await shop.say("dewi", asked)  # it searched a product called "menipis"
    assert [c.command for c in listed.choices] == [f"/stok {sku}" for sku in skus]
    assert listed.text.splitlines()[0].endswith(f": {len(skus)}")
    assert await shop.snapshot() == before
    # A product named with it is a stock change, one tap away, as before.
    [offer] = await shop.say("dewi", "stok kaos hitam L habis")
    assert [c.command for c in offer.choices] == ["/stokset KAOS-HTM-L 0"]


@pytest.mark.parametrize("said", ["stok tote tinggal berapa?", "kaos hitam L habis?"])
async def test_staff_asking_about_stock_are_offered_no_change(shop: Shop, said: str) -> None:
    [answer] = await shop.say("dewi", said)
    assert answer.choices == ()


async def test_a_stock_change_in_words_for_several_products_asks_which(shop: Shop) -> None:
    [which] = await shop.say("dewi", "stok kaos hitam tambah 2")
    assert which.text == shop.t("id", "setstock.which")
    assert [c.command for c in which.choices] == [
        "/stokset KAOS-HTM-L +2",
        "/stokset KAOS-HTM-XL +2",
    ]


async def test_setting_stock_by_product_name(shop: Shop) -> None:
    assert "Stok KAOS-PTH-L: 0 → 5" in await shop.text("dewi", "/stokset kaos putih L 5")
    [several] = await shop.say("dewi", "/stokset kaos hitam +1")
    assert [c.command for c in several.choices] == [
        "/stokset KAOS-HTM-L +1",
        "/stokset KAOS-HTM-XL +1",
    ]


async def test_a_shipped_order_cannot_be_put_on_hold(shop: Shop) -> None:
    await shop.say("dewi", "/kirim INV-1001 jne JN0012345678")
    assert "❌ INV-1001 sudah dikirim" in await shop.text("dewi", "/tahap INV-1001 tahan")


@pytest.mark.parametrize(
    ("asked", "key"),
    [
        ("mau tanya kak, kaos polos bahannya apa ya?", "material"),
        ("kaos hitam L lebar dadanya berapa?", "size_chart"),
        ("bisa custom sablon nama?", "custom"),
        ("what is the black tee made of?", "material"),
        ("kak ini ori?", "original"),
        ("kemeja batiknya asli gak kak?", "original"),
        ("is the tote bag genuine?", "original"),
    ],
)
async def test_what_a_product_is_like_is_the_shops_answer_or_a_persons(
    shop: Shop, asked: str, key: str
) -> None:
    # Unanswered in [shop.faq], it goes to a person, even with a product named.
    [handed] = await shop.say("sari", asked)
    assert handed.text.startswith(shop.t("id", "support.ack.no_answer", number=1))
    # Answered there, the shop's answer comes.
    answer = topic(key, {Language.ID: "Jawaban toko", Language.EN: "The shop's answer"})
    shop.conversation.settings = replace(shop.settings, faq=(answer,))
    await shop.say("dewi", "/selesai 1")
    assert await shop.text("rina", asked) == "The shop's answer"


@pytest.mark.parametrize("asked", ["kaos oversize ada?", "stok sepatu?", "/stok sepatu?"])
async def test_a_product_the_shop_does_not_sell_offers_what_it_does(shop: Shop, asked: str) -> None:
    [none] = await shop.say("tamu", asked)
    assert none.text.startswith(shop.t("id", "stock.none", query="").split('"')[0])
    assert '?"' not in none.text  # the question mark asks; it is no part of the product
    [see_all] = none.choices
    [listed] = await shop.say("tamu", see_all.command)
    assert listed.text.splitlines()[0] == shop.t("id", "catalogue.title")


async def test_a_stock_question_with_a_size_is_no_size_chart_question(shop: Shop) -> None:
    assert "(KAOS-HTM-L)" in await shop.text("sari", "ada kaos hitam ukuran L?")
