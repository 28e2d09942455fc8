"""What a customer's message says while their draft order waits for an answer.

A change of mind ("4 aja", "ganti nama"), another product ("tambah tote 1"), a question of
its own asked in between, something that cannot be a name, or may be an address. Reading
only: handlers/drafts.py decides what the draft does with it.
"""

from __future__ import annotations

import re

from handlers import faq
from handlers.context import Context
from handlers.forms import YES, names_a_product
from handlers.intents import IntentKind, asks_for_the_catalogue, classify, normalise

# Words around a change of mind: "yaudah 4 aja", "eh ganti XL deh", "make it 3 please".
CHANGE_WORDS = frozenset(
    {
        "yaudah", "ya", "udah", "sudah", "ok", "oke", "okay", "eh", "deh", "aja", "saja", "dong",
        "kak", "kakak", "min", "gan", "sis", "jadi", "ganti", "diganti", "ubah", "diubah",
        "kalau", "kalo", "gitu", "begitu", "just", "only", "make", "it", "then", "instead",
        "please", "pls", "sih", "mau", "yang", "yg", "change", "actually", "sorry", "maaf",
    }
)  # fmt: skip
SAYS_CHANGE = frozenset({"ganti", "diganti", "ubah", "diubah", "aja", "saja", "instead", "change"})

NAME_WORDS = frozenset({"nama", "namanya", "name", "penerima", "penerimanya", "recipient"})
ADDRESS_WORDS = frozenset(
    {"alamat", "alamatnya", "address", "kirim", "pengiriman", "delivery", "shipping"}
)
OWN_WORDS = frozenset({"saya", "aku", "my", "our", "the", "of"})  # "alamat pengiriman saya"


MORE = frozenset({"tambah", "tambahin", "tambahkan", "nambah", "add", "plus"})  # another product
_TOO = frozenset({"juga", "too", "also"})  # "tote 1 juga ya": this as well as the rest
# No other product after all: back to the summary, or to the question the draft had asked.
ENOUGH = frozenset(
    {"cukup", "sudah", "udah", "itu aja", "itu saja", "gak", "nggak", "enggak", "tidak", "no",
     "selesai", "done", "enough", "that's all", "thats all", *YES}
)  # fmt: skip


def adds(said: str) -> str | None:
    """What a message asks to add to the order being put together ("tambah tote 1",
    "sama tote 1 ya", "a tote too"; "" for the bare ➕), or None when it asks no such thing.
    Adding to an order placed ("tambah ke pesanan INV-1001") is not this."""
    # Whole words as written: a SKU (TOTE-KNV) stays one; "sama-sama" is no "sama".
    words = [w.strip(".,!?;:") for w in said.lower().split()]
    if not any(words) or _ADDRESS_PARTS.intersection(re.findall(r"\w+", said.lower())):
        return None  # "Jl. Tambah Raya 5", "rumah saya juga toko, Jl. …": an address
    intent = classify(said)
    if intent.order_code is not None:
        return None
    rest = [w for w in words if w and w not in MORE | _TOO | CHANGE_WORDS]
    if rest and rest[0] == "sama" and words[0] == "sama":
        rest = rest[1:]  # "sama tote 1 ya": "and a tote"
    elif not MORE.intersection(words) and not (
        _TOO.intersection(words) and intent.kind in (IntentKind.STOCK, IntentKind.BUY)
    ):
        return None
    wanted = " ".join(rest)
    if words[0] == "sama" and not names_a_product(wanted):
        return None  # "sama aja", "sama-sama": no product
    return wanted


_REMOVE = frozenset(
    {"hapus", "hapusin", "hapuskan", "buang", "remove", "delete", "drop", "cancel", "batal",
     "batalin", "batalkan", "without"}
)  # fmt: skip
# "totenya gak jadi", "ga usah tote": this one not after all
_NOT_AFTER_ALL = re.compile(r"\b(?:gak|ga|nggak|enggak|tidak|tdk|gk)\s+(?:jadi|usah)\b|\bgajadi\b")


def removes(said: str) -> str | None:
    """What a message asks to take out of the order being put together ("hapus tote",
    "totenya gak jadi", "remove the tote"), or None when it asks no such thing."""
    lowered = " ".join(said.lower().split())
    unsaid = _NOT_AFTER_ALL.sub(" ", lowered)
    words = [w.strip(".,!?;:") for w in unsaid.split()]
    if unsaid == lowered and not _REMOVE.intersection(words):
        return None
    if classify(said).order_code is not None:
        return None  # "batal INV-1001": an order placed
    wanted = " ".join(w for w in words if w and w not in _REMOVE | CHANGE_WORDS)
    return wanted if names_a_product(wanted) else None


def in_between(ctx: Context, said: str) -> bool:
    """Whether a message sent when the draft asked something is a question of its own."""
    return classify(said).kind is not IntentKind.UNKNOWN or asks_the_shop(ctx, said)


# What a product is named with: a stock question ("kaos hitam XL"), a wish to buy, a word.
_NAMING_A_PRODUCT = (IntentKind.STOCK, IntentKind.BUY, IntentKind.UNKNOWN)
# Said to "which product?" without naming one: asked again, not searched for ("ya", "halo").
_NO_ANSWER = (IntentKind.THANKS, IntentKind.GREETING)


def says_no_product(said: str) -> bool:
    """Whether a message sent when the draft asks which product is a bare yes, thanks or
    hello: the question is asked again, not a product called "ya" looked for."""
    return classify(said).kind in _NO_ANSWER or said.lower().strip(" .!") in YES


def asks_instead_of_a_product(ctx: Context, said: str) -> bool:
    """Whether a message sent when the draft asks which product is a question of its own: a
    shop question ("ongkirnya berapa?", "bayarnya kemana?"), or one about an order, help or
    a person. A stock question names the product, as does a word the bot does not know."""
    intent = classify(said)
    kind = intent.kind
    if kind is IntentKind.STOCK and _WHEN.intersection(intent.words):
        return True  # "kaos putih kapan ready lagi?" asks when, not picks it
    if kind in _NAMING_A_PRODUCT:
        return kind is IntentKind.UNKNOWN and asks_the_shop(ctx, said)
    return kind not in _NO_ANSWER


_WHEN = frozenset({"kapan", "when"})


def asks_instead_of_a_name(ctx: Context, said: str) -> bool:
    """Whether a message sent when a name is wanted says something else: a question, a shop
    question ("katalognya dong" too), a paste too long to be anyone's name."""
    intent = classify(said)
    asks = intent.kind not in (IntentKind.UNKNOWN, IntentKind.GREETING)
    shop = asks_the_shop(ctx, said) or asks_for_the_catalogue(intent)
    return asks or shop or len(said) > 200


# Words only an address has: a street, a block, a house number, a district.
_ADDRESS_PARTS = frozenset(
    {
        "jl", "jln", "jalan", "gang", "gg", "blok", "no", "nomor", "rt", "rw", "kel", "kelurahan",
        "kec", "kecamatan", "kab", "kabupaten", "desa", "ds", "dsn", "dusun", "perum",
        "perumahan", "komplek", "kompleks", "apartemen", "tower", "lantai", "lt", "unit", "kav",
        "kavling", "street", "road", "avenue", "lane",
    }
)  # fmt: skip


def an_address(ctx: Context, said: str) -> bool:
    """Whether a message may be an address: no question to the shop ("ongkir ke bandung
    berapa?") or of any other kind (a street may well sound like a product, and a postcode
    like an order code)."""
    intent = classify(said)
    if asks_the_shop(ctx, said):
        return False
    if intent.kind in (IntentKind.UNKNOWN, IntentKind.STOCK):
        return True
    # A postcode or a housing block reads as an order code ("12 Baker Street, London NW1
    # 6XE", "Perum Griya Indah Blok C2 No 10"); an order question is short, has no commas
    # and no word of an address.
    words = said.lower().replace(".", " ").split()
    written_out = "?" not in said and len(words) >= 4
    addressed = "," in said or bool(_ADDRESS_PARTS.intersection(words))
    coded = intent.kind is IntentKind.ORDER_STATUS and intent.order_code is not None
    return coded and written_out and addressed


def plainly_an_address(said: str) -> bool:
    """Whether a message can only be an address: a word of one and a number ("Jl. Melati 5
    Bandung", "Perum Griya Blok C2"), which no one's name has."""
    words = re.findall(r"\w+", said.lower())
    return bool(_ADDRESS_PARTS.intersection(words)) and any(ch.isdigit() for ch in said)


def asks_the_shop(ctx: Context, said: str) -> bool:
    """Whether a message in the middle of a draft is a shop question ("ongkirnya berapa?"):
    it is answered as usual, or handed to a person, and the draft waits."""
    words = normalise(said)
    return faq.match(ctx.settings.faq, words) is not None or bool(
        faq.unanswered(ctx.settings.faq, words)
    )
