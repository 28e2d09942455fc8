"""Free chat text to intents: order status, my orders, stock and small talk, id and en."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from handlers.intents import (
    MAX_TEXT_LENGTH,
    Hint,
    Intent,
    IntentKind,
    classify,
    language_of,
    normalise,
)

K = IntentKind


def status(code: str | None = None) -> Intent:
    return Intent(K.ORDER_STATUS, order_code=code)


def stock(query: str | None = None) -> Intent:
    return Intent(K.STOCK, query=query)


def buy(query: str | None = None) -> Intent:
    return Intent(K.BUY, query=query)


MY_ORDERS = Intent(K.MY_ORDERS)
GREETING = Intent(K.GREETING)
MENU = Intent(K.MENU)
HELP = Intent(K.HELP)
THANKS = Intent(K.THANKS)
AWAITS = Intent(K.THANKS, hints=frozenset({Hint.AWAITS}))
STOP = Intent(K.STOP)
UNKNOWN = Intent(K.UNKNOWN)

# The sentences from the design brief.
BRIEF: list[tuple[str, Intent]] = [
    ("INV-1001", status("INV-1001")),
    ("cek INV-1001", status("INV-1001")),
    ("status inv-1001?", status("INV-1001")),
    ("pesanan INV-1001 gimana", status("INV-1001")),
    ("inv1001", status("INV1001")),
    ("DS-7", status("DS-7")),
    ("ORD/2026/15", status("ORD/2026/15")),
    ("pesanan saya sudah sampai mana?", status()),
    ("where is my order", status()),
    ("paket saya di mana", status()),
    ("kapan pesanan saya dikirim", status()),
    ("status pesanan", status()),
    ("resi saya berapa", status()),
    ("has my order shipped", status()),
    ("track my package", status()),
    ("kiriman saya sudah sampai belum", status()),
    ("pesanan saya apa aja", MY_ORDERS),
    ("daftar pesanan", MY_ORDERS),
    ("my orders", MY_ORDERS),
    ("list my orders", MY_ORDERS),
    ("lihat semua pesanan", MY_ORDERS),
    ("ada stok kaos hitam XL?", stock("kaos hitam xl")),
    ("is the black tee in stock", stock("black tee")),
    ("is the tote bag available", stock("tote bag")),
    ("kemeja batik ukuran M masih ada?", stock("kemeja batik m")),
    ("ready tas kanvas kak?", stock("tas kanvas")),
    ("do you have batik shirts", stock("batik shirts")),
    ("stok KAOS-HTM-XL", stock("kaos-htm-xl")),
    ("ada stok?", stock()),
    ("halo", GREETING),
    ("hai kak", GREETING),
    ("hello", GREETING),
    ("hi", GREETING),
    ("selamat pagi", GREETING),
    ("assalamualaikum", GREETING),
    ("pagi min", GREETING),
    ("p", GREETING),
    ("menu", MENU),
    ("mulai", MENU),
    ("start", MENU),
    ("apa saja yang bisa kamu lakukan", MENU),
    ("bantuan", HELP),
    ("help", HELP),
    ("tolong", HELP),
    ("cara pakai", HELP),
    ("how does this work", HELP),
    ("terima kasih", THANKS),
    ("makasih kak", THANKS),
    ("trims", THANKS),
    ("thx", THANKS),
    ("thanks a lot", THANKS),
    ("tq", THANKS),
    ("stop", STOP),
    ("berhenti", STOP),
    ("unsubscribe", STOP),
    ("jangan kirim pesan lagi", STOP),
    ("halo kak, pesanan saya sudah sampai mana?", status()),
    ("", UNKNOWN),
    ("   \t\n ", UNKNOWN),
    ("🙂🙂👍", THANKS),
    ("asdfghjkl", UNKNOWN),
]

# More chat as customers really type it: slang, typos, mixed language, stray punctuation.
OWN: list[tuple[str, Intent]] = [
    # order status, with and without a code
    ("pesanan INV-1001 sdh sampe mana kak??", status("INV-1001")),
    ("#INV1002 gmn kak", status("INV1002")),
    ("cek resi ORD/2026/15 dong", status("ORD/2026/15")),
    ("INV-1001 sudah ready?", status("INV-1001")),
    ("Ｉｎｖ－１００１ sudah sampai?", status("INV-1001")),  # full-width, as some keyboards send
    ("\u200fINV-1001\u200f", status("INV-1001")),  # wrapped in right-to-left marks
    ("مرحبا INV-1001", status("INV-1001")),
    ("terima INV-1001", status("INV-1001")),
    ("kak udh dikirim blm?", status()),
    ("is my bag ready?", status()),  # what they bought, as theirs: their order
    ("who is sending my bag?", status()),
    ("kaos saya sudah dikirim belum?", status()),
    ("ada kaos buat anak saya?", stock("kaos")),  # someone's, not what they bought
    ("brp lama lg nyampe paket sy?", status()),
    ("min orderan aku kok blm dikirim2 ya", status()),
    ("where's my package??", status()),
    ("has my parcel arrived yet", status()),
    ("barang saya kok belum datang", status()),
    ("pesanan ke-2 saya sudah dikirim belum", status()),  # "ke-2" is "the second", not a code
    ("h-1 lebaran sampai ga kak", status()),  # "H-1" is "the day before", not a code
    ("jangan kirim pesanan saya dulu", status()),  # about shipping, not about our messages
    # my orders
    ("pesananku", MY_ORDERS),
    ("PESANAN SAYA", MY_ORDERS),
    ("orderan aku apa aja ya kak", MY_ORDERS),
    ("riwayat pesanan", MY_ORDERS),
    # stock
    ("Halo kak, stok tas kanvas masih ada gak?", stock("tas kanvas")),
    ("selamat siang, kaosnya ready ukuran L?", stock("kaos l")),
    ("kaos polos putih size XXL ada?", stock("kaos polos putih xxl")),
    ("kaos2 hitam redi?", stock("kaos hitam")),
    ("kaos-kaos batik ada?", stock("kaos batik")),
    ("kaos A12 ready?", stock("kaos a12")),  # a product code next to product words
    ("ready KAOS-HTM-42?", stock("kaos-htm-42")),  # SKU-shaped: two lettered parts
    ("cek setok KAOS-HTM-42", stock("kaos-htm-42")),
    ("any black tees left?", stock("black tees")),
    ("do u sell tote bags?", stock("tote bags")),
    ("jual batik tulis ga kak?", stock("batik tulis")),
    ("cari kemeja batik lengan panjang", stock("kemeja batik lengan panjang")),
    ("mau order kaos hitam 2pcs", buy("kaos hitam")),  # buying, not an existing order
    ("kak mau pesan kaos hitam 3 pcs", buy("kaos hitam")),
    ("can i order a black tee?", buy("black tee")),
    ("kapan restock kaos hitam?", stock("kaos hitam")),
    ("kaos hitam sold out ya?", stock("kaos hitam")),
    ("berapa harga kemeja batik?", stock("kemeja batik")),
    ("berapa harga reseller tote?", stock("tote")),  # a reseller asks their own price
    ("harga grosir kaos hitam xl", stock("kaos hitam xl")),
    ("apakah tersedia?", stock()),
    ("ready kak?", stock()),
    # small talk
    ("halooo kakkk", GREETING),
    ("Good morning!", GREETING),
    ("apa kabar min", GREETING),
    ("Assalamu'alaikum wr wb", GREETING),
    ("makasih banyak kakak 🙏", THANKS),
    ("kaosnya bagus, makasih kak", THANKS),
    ("ok sip", THANKS),
    ("oke ditunggu ya kak", AWAITS),  # "I'll wait": answered that news will come
    ("ditunggu kabarnya kak", AWAITS),
    ("siap ditunggu infonya", AWAITS),
    ("jangan lupa kabari ya kak", Intent(K.RESUME)),  # told of every change: said so
    ("kabarin terus ya", Intent(K.RESUME)),
    ("kabari kalau ready ya", stock()),  # which product?
    ("sampai jumpa", THANKS),
    ("👍🏻", THANKS),  # a thumbs-up after an answer, skin tone and all
    ("🙏", THANKS),
    # calling the shop before asking: answered with a hello and the menu, never a miss
    ("kak", GREETING),
    ("min?", GREETING),
    ("gan", GREETING),
    ("kak mau tanya", GREETING),
    ("mau tanya dong", GREETING),
    ("I have a question", GREETING),
    ("?", GREETING),
    ("?!?!", GREETING),
    # waiting: how long is a question about the order
    ("berapa lama lagi?", status()),
    ("masih lama ya kak?", status()),
    ("kok lama banget", status()),
    ("how much longer?", status()),
    ("how long until it arrives", status()),
    ("gimana cara order?", buy()),  # answered by starting an order
    ("how to order?", buy()),
    ("bingung nih", HELP),
    ("ada yang bisa bantu?", HELP),
    ("what can you do", MENU),
    ("HAI KAK, MENU", MENU),
    ("/start", MENU),
    ("stop kirim notif pesanan", STOP),
    ("pls stop messaging me", STOP),
    # nothing to go on
    ("ada apa", UNKNOWN),
    ("1001", UNKNOWN),  # a code needs a letter
    ("Rp50.000", UNKNOWN),
    ("lorem ipsum dolor sit amet", UNKNOWN),
    ("email saya budi99@gmail.com", UNKNOWN),
    ("cek www.toko123.com", UNKNOWN),
    ("😡", UNKNOWN),
    ("saya", UNKNOWN),
    ("a" * 10_000, UNKNOWN),
    ("stok kaos hitam " * 1_000, UNKNOWN),  # far too long to be a question
]


@pytest.mark.parametrize(("text", "expected"), BRIEF + OWN, ids=lambda v: repr(v)[:40])
def test_classifies_chat_text(text: str, expected: Intent) -> None:
    assert classify(text) == expected


@pytest.mark.parametrize("token", ["XL", "2pcs", "3xl", "50rb", "10am", "30x40cm", "x2", "kaos2"])
def test_sizes_quantities_and_plurals_are_not_order_codes(token: str) -> None:
    assert classify(f"pesanan {token} sudah dikirim?") == status()


# Asked to do something to an order, not asked about one: only a person does it.
TO_BE_DONE = [
    ("alamat pengiriman saya mau ganti", K.PERSON, False),  # the change named last
    ("ukurannya diganti L aja kak", K.PERSON, False),
    ("nomor hp penerima salah", K.PERSON, False),
    ("kak tolong cepetin ya", K.PERSON, False),
    ("kirim ke alamat kantor aja", K.PERSON, False),
    ("send it to my office please", K.PERSON, False),
    ("tolong jangan dikirim dulu", K.ORDER_STATUS, True),  # the order named: after the FAQ
    ("mohon segera dikirim ya", K.ORDER_STATUS, True),
    ("tolong dibungkus kado ya", K.HELP, True),
    ("my shirt is too small", K.PERSON, False),  # an exchange: a person arranges it
    ("kaosnya kekecilan kak", K.PERSON, False),
    ("ukurannya gak pas", K.PERSON, False),
    ("the bag arrived but it's torn", K.PERSON, False),
    ("please send it quickly", K.PERSON, False),
    # ... and what stays a question, or help
    ("kapan dikirim ke rumah saya?", K.ORDER_STATUS, False),
    ("apakah pesanan saya segera dikirim?", K.ORDER_STATUS, False),
    ("kak tolong infokan kalau sudah dikirim ya", K.RESUME, False),  # told, as of every change
    ("tolong kirim resinya", K.ORDER_STATUS, False),  # the tracking number, answered
    ("kaos hitam ukuran L ganti XL ada?", K.STOCK, False),  # another size in stock
    ("bisa tukar ukuran?", K.UNKNOWN, False),  # the shop's rule on exchanges
    ("kalau barangnya cacat bisa retur?", K.UNKNOWN, False),  # and on returns
    ("quick question", K.GREETING, False),  # a question is coming
    ("tolong bantu saya", K.HELP, False),
    ("tolong kak", K.HELP, False),
]


@pytest.mark.parametrize(("text", "kind", "to_be_done"), TO_BE_DONE, ids=[r[0] for r in TO_BE_DONE])
def test_a_request_for_the_order_is_told_from_a_question(
    text: str, kind: IntentKind, to_be_done: bool
) -> None:
    intent = classify(text)
    assert (intent.kind, Hint.REQUEST in intent.hints) == (kind, to_be_done)


@pytest.mark.parametrize(
    ("text", "asks_after_the_money"),
    [
        ("transferan saya udah diterima?", True),
        ("uang saya sudah masuk kak?", True),
        ("has my payment been received?", True),
        ("bayar masuk ke rekening apa?", False),  # how to pay
        ("pesanan saya sudah dikirim belum?", False),
    ],
)
def test_asking_whether_the_money_came_is_an_order_question_about_paying(
    text: str, asks_after_the_money: bool
) -> None:
    intent = classify(text)
    paying = intent.kind is K.ORDER_STATUS and Hint.PAYMENT in intent.hints
    assert paying is asks_after_the_money


def test_normalise_maps_chat_spellings_to_canonical_words() -> None:
    assert normalise("Udh sampe gmn, brp? Gak tdk! Pesenan psnan orderan setok redi") == [
        "sudah",
        "sampai",
        "bagaimana",
        "berapa",
        "tidak",
        "tidak",
        "pesanan",
        "pesanan",
        "pesanan",
        "stok",
        "ready",
    ]


def test_normalise_strips_accents_and_punctuation() -> None:
    assert normalise("  Café… ÉNAK!!  kaosnya—hitam ") == ["cafe", "enak", "kaos", "hitam"]


@pytest.mark.slow
def test_longest_accepted_text_is_classified_fast() -> None:
    worst = [
        "a" * MAX_TEXT_LENGTH,
        "a-" * (MAX_TEXT_LENGTH // 2),
        "1a" * (MAX_TEXT_LENGTH // 2),
        "ada " * (MAX_TEXT_LENGTH // 4),
        "nya" * (MAX_TEXT_LENGTH // 3),
        "\ufdfa" * MAX_TEXT_LENGTH,  # one character that decomposes into eighteen
        ("kak INV-1001 stok " * 100)[:MAX_TEXT_LENGTH],
    ]
    for text in worst:
        started = time.perf_counter()
        classify(text)
        assert time.perf_counter() - started < 0.5, text[:20]


CODE = re.compile(r"[A-Z0-9._/-]{2,64}")
CHAT_WORDS = st.sampled_from(
    [
        "pesanan", "INV-1001", "stok", "kaos", "ada", "ready", "halo", "p", "kak", "?", "!!",
        "makasih", "stop", "menu", "ORD/2026/15", "🙂", "📦", "مرحبا", "שלום", "\u200f", "\u202e",
        "ﷺ", "ｎｙａ", "e\u0301", "\x00", "-", "/", ".", "2pcs", "xl", "nya", "kaos2", "",
    ]
)  # fmt: skip
ANY_TEXT = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.lists(CHAT_WORDS, max_size=60).map(" ".join),
    st.lists(CHAT_WORDS, max_size=60).map("".join),
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=5), st.integers(1, 10_000)),
)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
@example("BELI:0")  # a wish to buy carries what it wishes for
def test_any_text_gives_a_well_formed_intent_without_raising(text: str) -> None:
    intent = classify(text)
    assert isinstance(intent.kind, IntentKind)
    if intent.order_code is not None:
        assert intent.kind is K.ORDER_STATUS
        assert CODE.fullmatch(intent.order_code)
        assert re.search("[0-9]", intent.order_code) and re.search("[A-Z]", intent.order_code)
    if intent.query is not None:  # what is asked after, or wished for ("beli kaos")
        assert intent.kind in (K.STOCK, K.BUY)
        assert intent.query == intent.query.strip() != ""


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("hello, is the tote bag in stock?", "en"),
        ("where is my order", "en"),
        ("can I get 2 tote bags?", "en"),
        ("pesanan saya sudah sampai mana?", "id"),
        ("ada stok kaos hitam XL?", "id"),
        ("kak, barangnya udah dikirim belum?", "id"),
        # Too little, or both: no language of its own.
        ("thanks", None),
        # An order form says its language in its labels.
        ("Name: John\nPhone: +65 9123 4567\nAddress: 12 Orchard Road\nOrder: tote 1", "en"),
        ("Nama: Budi\nNo HP: 0812-3456-7001\nAlamat: Jl. Melati 5\nPesanan: tote 1", "id"),
        ("ok", None),
        ("INV-1001", None),
        ("order 2 black tees", None),
        ("hi kak, is the tote ready?", None),
        ("x" * (MAX_TEXT_LENGTH + 1), None),
    ],
)
def test_the_language_a_message_is_plainly_written_in(text: str, language: str | None) -> None:
    assert language_of(text) == language
