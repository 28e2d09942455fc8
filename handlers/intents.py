"""Classify a customer's free chat text into an intent, Indonesian first, English too.

Keyword and pattern based, standard library only: no SDK, no database, no I/O. The text is
folded to lower-case ASCII words, chat spellings are mapped to one canonical word ("udh" ->
"sudah", "order" -> "pesanan"), and the words are matched against the small vocabularies of
handlers/vocabulary.py in a fixed order of precedence (see `classify`). Every step is linear
in the length of the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from itertools import pairwise

from handlers.vocabulary import (
    ACK,
    ADDS,
    ADVICE,
    ARRIVED_PHRASES,
    ASKING,
    ASKS_FOR,
    ASKS_IF,
    ASKS_IF_DONE,
    ASKS_WHEN_WHERE,
    ASKS_WHICH,
    AWAITED,
    BACK_WORDS,
    BELONGS,
    CALL_PHRASES,
    CALLS,
    CAME_IN,
    CANCEL,
    CHANGE,
    DETAILS,
    EVERY,
    FILLER,
    FOR_WHOM,
    GREET,
    HELP,
    HELP_PHRASES,
    HURRY,
    LATE,
    LEADING_NOISE,
    LIST,
    LIST_LOOK,
    MAY_I,
    MENU,
    MENU_PHRASES,
    MESSAGE_WORDS,
    MONEY,
    NOT_ABOUT,
    NOT_YET,
    OK_MARKS,
    ONCE,
    ORDER_NOUNS,
    PAID_ASKED_AFTER,
    PAID_ASKED_BEFORE,
    PAID_PHRASES,
    PARCEL,
    PERSON,
    PERSON_PHRASES,
    PLACES,
    POSSESSIVE,
    PRAISE,
    PRODUCTS,
    PROGRESS,
    QUANTITY_UNITS,
    QUESTION,
    REMOVE_FROM_QUERY,
    RESUME,
    RESUME_PHRASES,
    SEND,
    SEVERAL,
    SIZE_LABELS,
    SPELLING,
    STATUS,
    STATUS_PHRASES,
    STOCK_STRONG,
    STOCK_STRONG_PHRASES,
    STOCK_WEAK,
    STOCK_WEAK_PHRASES,
    STOP,
    STOP_PHRASES,
    TAKE,
    TAKER,
    TELL_WHEN_BACK,
    TELL_WHEN_BACK_PHRASES,
    THANKS,
    THANKS_MARKS,
    THANKS_PHRASES,
    TIME_OF_DAY,
    TO_AN_ORDER,
    TOWARDS,
    TRACKING,
    VARIANTS,
    VOCAB,
    WANT,
    WANTING,
    WISH,
    WRONG_WITH_IT,
    wordset,
)

__all__ = [
    "MAX_TEXT_LENGTH",
    "Intent",
    "IntentKind",
    "asks_the_price",
    "asks_what_is_late",
    "classify",
    "language_of",
    "narrowing",
    "normalise",
    "product_words",
    "says_thanks",
]

# A chat question is a sentence or two; anything longer is a paste, not a question.
MAX_TEXT_LENGTH = 1000


class IntentKind(StrEnum):
    """What a customer's free text asks for."""

    ORDER_STATUS = "order_status"
    MY_ORDERS = "my_orders"
    STOCK = "stock"
    GREETING = "greeting"
    MENU = "menu"
    THANKS = "thanks"
    HELP = "help"
    STOP = "stop"
    RESUME = "resume"  # pushes again, after a STOP
    PERSON = "person"  # a person, not the bot: "mau bicara sama admin", "komplain"
    PAID = "paid"  # the customer says they paid: "sudah transfer", "udah tf"
    BUY = "buy"  # an order to place: "mau order kaos hitam XL 2", "pesan 2 kaos", "I'd like to buy"
    UNKNOWN = "unknown"


class Hint(StrEnum):
    """What an order question is about, to pick the order it means among several."""

    TRACKING = "tracking"  # the courier's tracking number: "resi nya mana"
    PRODUCTION = "production"  # how far it is made: "batiknya udah jadi belum"
    PRAISE = "praise"  # a thank-you that is praise: "barangnya bagus, suka banget"
    AWAITS = "awaits"  # an acknowledgement that waits for news: "oke ditunggu kabarnya kak"
    OK = "ok"  # an acknowledgement and nothing more: "oke kak", "sip", "noted"
    ARRIVED = "arrived"  # said, not asked, that it came: "paketnya udah sampai kak"
    PAYMENT = "payment"  # whether the money came: "transferan saya sudah masuk belum?"
    # Paid, and the order has not moved since: "kok belum dikirim padahal sudah bayar".
    UNMOVED = "unmoved"
    # Something to be done, for a person: "tolong dikirim besok", "tolong dibungkus kado"
    # (where "tolong" alone asks for help).
    REQUEST = "request"


@dataclass(frozen=True)
class Intent:
    """A classified message: its kind, the order code it names, the product words it asks for.

    For an order question without a code, `about` holds the product words it names and
    `hints` what it asks of the order; both only help to pick an order, so they are left out
    when intents are compared.
    """

    kind: IntentKind
    order_code: str | None = None
    query: str | None = None
    about: str | None = field(default=None, compare=False)
    hints: frozenset[Hint] = field(default=frozenset(), compare=False)
    words: tuple[str, ...] = field(default=(), compare=False, repr=False)  # canonical words


_SIZE_RE = re.compile(r"x{0,4}[sml]|\d?xl|\d{2}")


def _wants_one(words: Sequence[str]) -> bool:
    """Whether praise words describe something wanted, not something received."""
    described = any(a in ("yang", "yg", "the") and b in PRAISE for a, b in pairwise(words))
    return described or bool(WANTING.intersection(words))


def _says_paid(words: list[str], text: str) -> bool:
    """Whether a message says the money went ("sudah transfer ya kak", "sudah transfer, sudah
    masuk belum?"), not only asks whether it did ("sudah dibayar belum?", "sudah lunas?")."""
    for phrase in PAID_PHRASES:
        parts = phrase.split()
        for i in range(len(words) - len(parts) + 1):
            if words[i : i + len(parts)] != parts:
                continue
            end = i + len(parts)
            after = words[end] if end < len(words) else None
            asked = (
                after in PAID_ASKED_AFTER
                or (i > 0 and words[i - 1] in PAID_ASKED_BEFORE)
                or (after is None and text.rstrip().endswith("?"))
            )
            if not asked:
                return True
    return False


_PRE_FOLD = str.maketrans({"'": None, "’": None, "‘": None, "`": None, "´": None, "ʼ": None})
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–−", "-"))  # hyphens; em dashes separate words
_SPLIT_RE = re.compile(r"[^a-z0-9._/-]+")
_INNER_RE = re.compile(r"[._/]+")
_CODE_RE = re.compile(r"[a-z0-9._/-]{2,64}")
_DIGIT_RE = re.compile(r"[0-9]")
_LETTER_RE = re.compile(r"[a-z]")
# Letters-and-digits tokens that are not order codes.
_NOT_CODE_RE = re.compile(
    r"[0-9]{1,4}[a-z]{1,6}"  # quantities, sizes, units, prices, ordinals: 2pcs 3xl 50rb 10am 2nd
    r"|[0-9]+x[0-9]+[a-z]*"  # dimensions and durations: 30x40cm 1x24jam
    r"|x[0-9]{1,3}"  # multipliers: x2
    r"|(?:h|ke)-?[0-9]{1,3}"  # "H-1" (a day before), "ke-2" (the second)
    r"|rp\.?[0-9.,]+"  # rupiah amounts
    r"|no\.?[0-9]+"  # "no.1"
)
_REDUP_RE = re.compile(r"([a-z]{2,})2")  # "kaos2" = "kaos-kaos" (Indonesian plural)
_QTY_RE = re.compile(r"[0-9]+(?:pcs|pc|x|biji|buah|lusin|lembar)")
_RUN3_RE = re.compile(r"([a-wyz])\1{2,}")  # "halooo"; x is spared for sizes like "xxxl"
_RUN2_RE = re.compile(r"([a-wyz])\1+")


def _fold(text: str) -> str:
    """Lower-case text and strip accents, apostrophes and invisible format characters."""
    folded = unicodedata.normalize("NFKD", text.translate(_PRE_FOLD).casefold())
    folded = folded.translate(_DASHES)
    return "".join(
        c for c in folded if not unicodedata.combining(c) and unicodedata.category(c) != "Cf"
    )


def _raw_tokens(folded: str) -> list[str]:
    """Split folded text into ASCII tokens, keeping code-like ones (INV-1001, ORD/2026/15) whole."""
    tokens: list[str] = []
    for chunk in folded.split():
        if "@" in chunk or "://" in chunk or chunk.startswith("www."):
            continue  # e-mail addresses, mentions and links carry no intent
        for piece in _SPLIT_RE.split(chunk):
            piece = piece.strip("._/-")
            if not piece:
                continue
            if _DIGIT_RE.search(piece):
                tokens.append(piece)
                continue
            tokens.extend(p for part in _INNER_RE.split(piece) if (p := part.strip("-")))
    return tokens


def _is_code(token: str) -> bool:
    """Tell whether a token looks like an order code: letters and digits, not a size or amount."""
    if len(token) > 64 or not _CODE_RE.fullmatch(token):
        return False
    if not (_DIGIT_RE.search(token) and _LETTER_RE.search(token)):
        return False
    if _NOT_CODE_RE.fullmatch(token):
        return False
    redup = _REDUP_RE.fullmatch(token)
    return not (redup and (len(redup[1]) >= 4 or redup[1] in VOCAB))


def _known(token: str) -> tuple[str, ...] | None:
    """Return the canonical words of a known token, or None."""
    if token in SPELLING:
        return SPELLING[token]
    return (token,) if token in VOCAB else None


def _canon(token: str) -> tuple[str, ...]:
    """Return the canonical word(s) of one lower-case ASCII token."""
    if (known := _known(token)) is not None:
        return known
    halves = token.split("-")
    if len(halves) == 2 and halves[0] == halves[1] and halves[0]:
        return _canon(halves[0])  # "pesanan-pesanan"
    if redup := _REDUP_RE.fullmatch(token):
        return _canon(redup[1])
    if not token.isalpha():
        return (token,)
    token = _RUN3_RE.sub(r"\1", token)
    if (known := _known(token)) is not None:
        return known
    if token.endswith("nya") and len(token) >= 6:  # "kaosnya" -> "kaos"; not "hanya", "punya"
        stem = token[:-3]
        return _known(stem) or _known(_RUN2_RE.sub(r"\1", stem)) or (stem,)
    for suffix in ("kah", "lah"):  # "adakah", "tolonglah"
        if token.endswith(suffix) and (known := _known(token[: -len(suffix)])) is not None:
            return known
    if token.endswith("ku") and (known := _known(token[:-2])) and known[0] in ORDER_NOUNS:
        return (*known, "saya")  # "pesananku"
    if (known := _known(_RUN2_RE.sub(r"\1", token))) is not None:
        return known  # "haloo", "thankss"
    return (token,)


# "order" as a verb, and its forms: "cara ordernya", "bagaimana cara memesan".
_ORDER_VERBS = frozenset({"order", "pesan", "ordernya", "pesannya", "memesan", "pesen", "mesen"})


def _no_product(query: str | None) -> bool:
    """Whether a query's words name no product: none, or only how many to add ("tambah 1")."""
    return all(w in ADDS or w.isdigit() for w in (query or "").split())


def _wants(words: list[str]) -> bool:
    """Tell whether the words so far end in a wish to buy: "mau", "can i", "how to",
    "format order", "how do I"."""
    if words and words[-1] in WANT:
        return True
    return words[-2:] in (["can", "i"], ["could", "i"], ["may", "i"], ["do", "i"])


def _a_product(word: str) -> bool:
    """Whether a word names a product: a kind of product ("kaos"), or a SKU (TOTE-KNV)."""
    return word in PRODUCTS or _sku_like(word)


def _orders_a_product(words: list[str]) -> bool:
    """Whether "order" opens an order for a product with how many: "order tote 1 kirim ke
    Budi", "order kaos hitam L 2 ya" (where "order kaos saya belum sampai" asks after one)."""
    start = 1 if words[:1] and words[0] in CALLS | GREET else 0
    opened = words[start : start + 2]
    if len(opened) < 2 or opened[0] != "pesanan" or not _a_product(opened[1]):
        return False
    counted = any(word.isdigit() and 0 < int(word) < 1000 for word in words[start + 2 :])
    return counted and not (ASKS_WHEN_WHERE | ASKS_IF_DONE).intersection(words)


def _asks_to_change(t: _Text, text: str) -> bool:
    """Whether a message asks the shop to change an order, not whether it could ("kapan
    dikirim ke rumah?" asks when)."""
    if t.has(HURRY):
        return True
    if t.says(WRONG_WITH_IT):
        return "?" not in text and not t.has(MAY_I)
    if t.has(CHANGE) and t.has(DETAILS):
        # "kaos L ganti XL ada?" asks for another size in stock; "pesanan saya ganti ukuran
        # L ya, ada?" still asks to change the order.
        return t.order_noun() or not (t.has(STOCK_STRONG) or t.weak_stock())
    if (sent := _sent_at(t, text)) is None:
        return False
    towards = next((i for i, word in enumerate(t.words[sent:], sent) if word in TOWARDS), None)
    return towards is not None and not PLACES.isdisjoint(t.words[towards + 1 :])


def _asks_to_send(t: _Text, text: str) -> bool:
    """Whether a message tells the shop when or whether to send ("tolong dikirim besok ya",
    "jangan dikirim dulu", "mohon segera dikirim"), not asks when it was ("sudah dikirim?")
    or asks for the tracking number ("tolong kirim resinya") or to be told when it is."""
    if t.has(TRACKING | TELL_WHEN_BACK | ONCE):
        return False  # "tolong infokan kalau sudah dikirim": told, as every change is
    return _sent_at(t, text) is not None and t.has(ASKS_FOR)


# "bisa dikirim hari ini?", "can you ship it tomorrow?": whether the shop can send on a day.
_SEND_DAYS: tuple[str, ...] = (
    "hari ini", "besok", "sekarang", "lusa", "nanti sore", "today", "tomorrow", "tonight",
    "right now",
)  # fmt: skip
_SENT_BY_NOW = wordset("sudah belum already yet")  # "apakah sudah dikirim hari ini?": was it


def _asks_to_send_on_a_day(t: _Text) -> bool:
    """Whether a message asks if the shop can send on a day ("bisa dikirim hari ini kak?"),
    which only a person can promise; not whether it was sent then."""
    wants = t.has(MAY_I | WISH) and t.has(SEND) and t.says(_SEND_DAYS)
    return wants and not t.has(_SENT_BY_NOW | TRACKING)


def _sent_at(t: _Text, text: str) -> int | None:
    """Where a message that asks nothing says "send", if it does."""
    if "?" in text or t.has(QUESTION | ASKING):
        return None
    return next((i for i, word in enumerate(t.words) if word in SEND), None)


_NO_FAVOUR = FILLER | ACK | GREET | TIME_OF_DAY | CALLS | THANKS | QUESTION


def _asks_a_favour(t: _Text) -> bool:
    """Whether "tolong" asks for something done ("tolong dibungkus kado ya", "tolong pakai
    jne") rather than for help ("tolong", "tolong bantu saya", "tolong, caranya gimana?")."""
    if t.vocab & HELP != {"tolong"} or t.says(HELP_PHRASES):
        return False
    return not t.vocab <= _NO_FAVOUR | {"tolong"}


# "saya pesan yang kemarin belum sampai": of an order placed, not a product picked.
_ORDERED = STATUS | NOT_YET | PROGRESS | wordset("kemarin kemaren tadi lalu yesterday last ago")


def _analyse(text: str) -> tuple[list[str], list[str]]:
    """Return the canonical words of text and the order-code-like tokens among them."""
    words: list[str] = []
    codes: list[str] = []
    takes: list[int] = []  # where a product may be taken: a purchase if a product follows
    for raw in _raw_tokens(_fold(text)):
        if _is_code(raw):
            codes.append(raw)
            words.append(raw)
        elif raw in ("beli", "buy", "purchase", "checkout") or (
            raw in _ORDER_VERBS and _wants(words)
        ):
            words.append("beli")
        else:
            last = words[-1] if words else ""
            if raw in TAKE and (_wants(words) or last in TAKER):
                takes.append(len(words))
            elif raw.isdigit() and last in WISH:
                takes.append(len(words) - 1)
            words.extend(_canon(raw))
    for i in takes if not ASKS_WHEN_WHERE.intersection(words) else ():
        if PRODUCTS.intersection(words[i + 1 :]):
            words[i] = "beli"
    for i, word in enumerate(words[:-2] if not ASKS_WHEN_WHERE.intersection(words) else ()):
        # "mau yang hitam L 1", "ambil yang XL", "saya pesan yang M 1", "I want the black
        # one": a product picked
        picks = word in WISH | TAKE or (word == "pesan" and not _ORDERED.intersection(words))
        if picks and words[i + 1] in ("yang", "the") and _query(words[i + 2 :]):
            words[i] = "beli"
    for i, word in enumerate(words[:-1]):
        if word == "pesan" and _a_product(words[i + 1]):
            words[i] = "beli"  # "pesan kaos 2" orders a product; "pesan" alone is a message
    if _orders_a_product(words):
        words[words.index("pesanan")] = "beli"
    return words, codes


def asks_to_be_told(words: Sequence[str]) -> bool:
    """Whether a stock question asks to be told when the product can be had again."""
    if TELL_WHEN_BACK.intersection(words):
        return True
    padded = f" {' '.join(words)} "
    return any(f" {phrase} " in padded for phrase in TELL_WHEN_BACK_PHRASES)


# Asking what the shop sells, with no product named: "ada produk apa aja?", "katalognya
# dong", "what do you sell?", "list harga".
_CATALOGUE = wordset("katalog catalog catalogue pricelist koleksi")
_CATALOGUE_PHRASES: tuple[str, ...] = (
    "daftar harga", "list harga", "price list", "daftar produk", "list produk", "semua produk",
    "all products", "all product", "produk apa", "barang apa", "products do you",
    "what do you sell", "jual apa", "jualan apa", "sell what", "what products",
    "what kind of products",
)  # fmt: skip
_ANY_PRODUCT = wordset("produk product products barang item items semua all")


def asks_for_the_catalogue(intent: Intent) -> bool:
    """Whether a message asks what the shop sells, naming no product of it."""
    if intent.query and not set(intent.query.split()) <= _ANY_PRODUCT:
        return False  # "ada kaos apa aja?" asks for the shirts
    padded = f" {' '.join(intent.words)} "
    return bool(_CATALOGUE.intersection(intent.words)) or any(
        f" {phrase} " in padded for phrase in _CATALOGUE_PHRASES
    )


_YES = wordset("ya iya yes yup yep boleh mau sure")
_YES_TOO = wordset("please pls kak kakak ka dong deh min sis gan")
_YES_STARTS = frozenset(word[:2] for word in _YES)


def affirms(text: str) -> bool:
    """Whether a message says only yes ("iya kak", "yes please", "boleh dong")."""
    if len(text) > 40 or text[:2].lower() not in _YES_STARTS:
        return False  # most messages: no need to read them word by word
    words = set(normalise(text))
    return bool(words & _YES) and words <= _YES | _YES_TOO


def normalise(text: str) -> list[str]:
    """Return the canonical words of text: folded, respelled, punctuation gone."""
    if len(text) > MAX_TEXT_LENGTH:
        return []
    return _analyse(text)[0]


class _Text:
    """The canonical words of one message, with the lookups the rules need."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.vocab = frozenset(words)
        self.padded = f" {' '.join(words)} "
        start, end = 0, len(words)
        while start < end and words[start] in LEADING_NOISE:
            start += 1
        while end > start and words[end - 1] in LEADING_NOISE:
            end -= 1
        self.core = words[start:end]

    def has(self, vocabulary: frozenset[str]) -> bool:
        """Tell whether any word is in vocabulary."""
        return not self.vocab.isdisjoint(vocabulary)

    def says(self, phrases: tuple[str, ...]) -> bool:
        """Tell whether any phrase occurs as whole words."""
        return any(f" {phrase} " in self.padded for phrase in phrases)

    def only(self, vocabulary: frozenset[str]) -> bool:
        """Tell whether every word is in vocabulary."""
        return self.vocab <= vocabulary

    def thanks(self) -> bool:
        """Tell whether the text thanks: "makasih ya", "terima kasih", "thanks"."""
        return self.has(THANKS) or self.says(THANKS_PHRASES)

    def weak_stock(self) -> bool:
        """Tell whether the text asks about availability without a stock word: "ada", "ready"."""
        if self.has(STOCK_WEAK) or self.says(STOCK_WEAK_PHRASES):
            return True
        if self.says(CALL_PHRASES):
            return False  # "saya ada pertanyaan soal ukuran": a question is coming
        core = self.core
        if not core or core == ["ada", "apa"]:
            return False
        if core[0] in ("ada", "punya") or core[-1] == "ada":
            return True
        if "ada" in self.vocab and self.has(SIZE_LABELS):
            return True  # "warna putih ada ukuran L?"
        return any(a == "ada" and b in ("tidak", "belum") for a, b in pairwise(core))

    def order_noun(self) -> bool:
        """Tell whether the text names an order: "pesanan", "paket", "my order", "barang
        saya", or what the customer bought as theirs: "kaos saya", "is my bag ready?"."""
        if self.has(ORDER_NOUNS):
            return True
        return any(
            ((a == "barang" or a in PRODUCTS) and b in POSSESSIVE)
            or (a in BELONGS and b in PRODUCTS)
            for a, b in pairwise(self.words)
        )


_BESIDES = wordset("selain kecuali except besides than")


def _query(words: list[str]) -> str | None:
    """Return the product words of a stock question, or None."""
    kept: list[str] = []
    for_whom = False  # in "buat teman", "for my son": who it is for is no product
    for i, word in enumerate(words):
        if not kept and word in LEADING_NOISE:
            continue  # "selamat pagi kak, ..." (time-of-day words are only noise up front)
        if word in _BESIDES or (i and words[i - 1] in _BESIDES):
            continue  # "warna lain selain hitam": the one not wanted is no product word
        if word in FOR_WHOM and kept and not PRODUCTS.intersection(words[i + 1 :]):
            for_whom = True
            continue
        if for_whom and not _SIZE_RE.fullmatch(word):
            for_whom = word not in SIZE_LABELS  # "… untuk kondangan ukuran M": M is a size
            continue
        if word in REMOVE_FROM_QUERY or _QTY_RE.fullmatch(word):
            continue
        if word.isdigit() and i + 1 < len(words) and words[i + 1] in QUANTITY_UNITS:
            continue  # "3 pcs"
        kept.append(word)
    return " ".join(kept) or None


def says_thanks(words: Sequence[str]) -> bool:
    """Whether a message's words thank ("makasih ya", "terima kasih", "thanks")."""
    return _Text(list(words)).thanks()


def says_all(text: str, *, surely: bool = False) -> bool:
    """Whether a message speaks of every one ("sudah transfer semua ya", "paid for both");
    `surely`: in words never said of one thing ("keduanya", "both", not "semuanya")."""
    words = SEVERAL if surely else EVERY
    return any(word in words for word in classify(text).words)


def asks_of_all_their_orders(words: Sequence[str]) -> bool:
    """Whether an order question asks of the person's orders ("pesanan saya gimana?", "where
    is my order"), not of the one just talked about ("kok lama ya", "paketnya kapan sampai?")."""
    return any(word in POSSESSIVE for word in words)


def asks_what_is_late(text: str) -> bool:
    """Whether a message asks which orders are late ("yang telat apa aja?"), naming none."""
    intent = classify(text)
    if intent.order_code is not None or intent.about is not None:
        return False
    asks = intent.kind in (IntentKind.ORDER_STATUS, IntentKind.MY_ORDERS)
    return asks and not LATE.isdisjoint(intent.words)


_PRICE = wordset("harga harganya price prices cost costs berapa much")


def asks_the_price(intent: Intent) -> bool:
    """Whether a message asks the price of what was just shown ("harganya berapa?", "how
    much?"), naming no product of its own."""
    if intent.kind not in (IntentKind.STOCK, IntentKind.UNKNOWN):
        return False
    words = list(intent.words)
    return bool(_PRICE.intersection(words)) and _query(words) is None


_MAKING = PROGRESS | wordset("pembuatan buat bikin dibikin pengerjaan jahit make making production")


def _how_long_to_make(words: Sequence[str]) -> bool:
    """Whether words ask how long making takes ("berapa lama pembuatannya?")."""
    said = set(words)
    asks = {"lama", "long"} & said or {"berapa", "hari"} <= said or {"how", "days"} <= said
    return bool(asks) and bool(_MAKING & said)


def asks_how_long_to_make(intent: Intent) -> bool:
    """Whether a message asks how long making takes ("berapa lama pembuatannya?", "how long
    to make it?"), naming neither an order nor a product."""
    named = intent.order_code is not None or intent.query is not None
    return _how_long_to_make(intent.words) and not named


_HASH_NUMBER = re.compile(r"#\s?\d{1,12}\s*\??")
_IF = wordset("kalau kalo klo jika if seandainya misal misalnya andaikan")


def buys_if(intent: Intent) -> bool:
    """Whether a message asks what buying would bring ("kalau beli 3 kaos ada diskon?", "if I
    buy two is shipping free?"), not says it buys."""
    words = intent.words
    bought = words.index("beli") if "beli" in words else -1
    return bought > 0 and bool(_IF.intersection(words[:bought]))


def asks_what_is_left(intent: Intent) -> bool:
    """Whether a message asks what is left, naming nothing ("sisa berapa kak?"): after a
    product shown, of its stock; with none, of the money still due."""
    words = set(intent.words)
    return bool({"sisa"} & words) and "berapa" in words and intent.query is None


def narrowing(intent: Intent) -> str | None:
    """How a message may follow up products just shown: the words that narrow them ("yang
    hitam ukuran apa aja?", "kalau yang XL?", "the black one?"), "" when it asks only which
    sizes or colours there are ("ukuran apa aja?", "other colours?"), or None when it is no
    follow-up. A stock question that names a kind of product ("ada tote?") asks anew."""
    if intent.kind not in (IntentKind.STOCK, IntentKind.UNKNOWN):
        return None
    if PRODUCTS.intersection(intent.words):
        return None
    query = _query(list(intent.words))
    if query is None and VARIANTS.intersection(intent.words):
        return ""
    return query


def asks_to_cancel(intent: Intent) -> bool:
    """Whether a message asks to cancel an order without naming one: "cancel my order",
    "batalin pesanan saya aja"."""
    return (
        intent.kind is IntentKind.PERSON
        and intent.order_code is None
        and not CANCEL.isdisjoint(intent.words)
    )


# The bill of an order: "minta invoicenya kak", "tagihannya berapa?", "send me the invoice".
_INVOICE = wordset("invoice tagihan nota faktur bill billing")


def asks_for_the_invoice(intent: Intent) -> bool:
    """Whether a message asks for an order's invoice (what it costs, what is left to pay),
    naming no product: "minta invoicenya kak", "INV-1002 tagihannya", "my bill please"."""
    about_an_order = intent.kind in (IntentKind.ORDER_STATUS, IntentKind.MY_ORDERS)
    if not (about_an_order or intent.kind is IntentKind.UNKNOWN):
        return False
    return not _INVOICE.isdisjoint(intent.words)


def variants_asked(intent: Intent) -> str | None:
    """What a question about sizes or colours names of a product, with no products shown to
    follow up ("yang putih ukuran apa aja?" -> "putih"; "warna apa aja?" -> ""), or None."""
    if not SIZE_LABELS.intersection(intent.words):
        return None
    return narrowing(intent)


def order_codes(text: str) -> list[str]:
    """Every order code a message names, upper-case, each once, in the order written."""
    if len(text) > MAX_TEXT_LENGTH:
        return []
    return list(dict.fromkeys(code.upper() for code in _analyse(text)[1]))


def product_words(text: str) -> str | None:
    """The words of a message that may name a product ("yang XL aja" -> "xl"), or None."""
    return _query(normalise(text))


def _sku_like(code: str) -> bool:
    """Tell whether a code has two or more lettered parts, as SKUs do (KAOS-HTM-42)."""
    return sum(1 for part in re.split(r"[-._/]", code) if _LETTER_RE.search(part)) >= 2


def _wordless(text: str) -> Intent:
    """Read a message with no word in it: a smile says thanks, a thumbs-up OK, a lone question
    mark calls for attention (it is answered as a hello); anything else is not understood."""
    marks = {mark for mark in text if mark in THANKS_MARKS}
    if marks:
        okays = marks <= OK_MARKS  # "👍": OK, where "🙏" and "❤" thank
        return Intent(IntentKind.THANKS, hints=frozenset({Hint.OK}) if okays else frozenset())
    if "?" in text:
        return Intent(IntentKind.GREETING)
    return Intent(IntentKind.UNKNOWN)


def classify(text: str) -> Intent:
    """Return the intent of one chat message; never raise on any string."""
    if len(text) > MAX_TEXT_LENGTH:
        return Intent(IntentKind.UNKNOWN)
    words, codes = _analyse(text)
    if not words:
        return _wordless(text)
    t = _Text(words)
    code = codes[0] if codes else None
    order_noun = t.order_noun()
    # "batiknya udah jadi belum?": how far an order is made, not whether a product is sold.
    progress = t.has(PROGRESS) and t.has(ASKS_IF_DONE)
    order_context = order_noun or t.has(STATUS) or t.says(STATUS_PHRASES) or progress
    query = _query(words)
    kept = tuple(words)

    # Said, not asked: "paketnya udah sampai kak (makasih ya)" tells that the order came.
    plain = "?" not in text and not t.has(QUESTION | ASKING | NOT_YET)
    arrived = plain and t.says(ARRIVED_PHRASES)

    def status(order_code: str | None = None, *, paying: bool = False) -> Intent:
        hints = {Hint.TRACKING} if t.has(TRACKING | PARCEL) else set()
        if paying:
            hints.add(Hint.PAYMENT)
        if _asks_to_send(t, text) or _asks_to_send_on_a_day(t):
            hints.add(Hint.REQUEST)
        if progress or _how_long_to_make(words):
            hints.add(Hint.PRODUCTION)
        if arrived:
            hints.add(Hint.ARRIVED)
        about = " ".join(w for w in (query or "").split() if w not in NOT_ABOUT) or None
        return Intent(
            IntentKind.ORDER_STATUS, order_code, about=about, hints=frozenset(hints), words=kept
        )

    def stock() -> Intent:
        return Intent(IntentKind.STOCK, query=query, words=kept)

    if _HASH_NUMBER.fullmatch(text.strip()):
        return status()  # "#1001": an order's number, as shops write it on invoices
    # Order of precedence: the most specific signal wins.
    if code is None and t.says(STOP_PHRASES) and (not order_noun or t.has(MESSAGE_WORDS)):
        return Intent(IntentKind.STOP, words=kept)
    if (
        t.has(PERSON)
        or t.says(PERSON_PHRASES)
        or (t.says(ADVICE) and not t.has(PRODUCTS))
        or (t.has(ADDS) and t.says(TO_AN_ORDER))
        # "INV-1002 bisa tambah 1?", "kalau mau tambah 1 lagi bisa?": more in an order placed
        or (t.has(ADDS) and (code or (_no_product(query) and (order_noun or "lagi" in t.vocab))))
        or ("beli" not in t.vocab and _asks_to_change(t, text))
    ):
        return Intent(IntentKind.PERSON, code.upper() if code else None, words=kept)
    if t.says(PAID_PHRASES):
        if _says_paid(words, text):
            if "padahal" in t.vocab or (t.has(NOT_YET) and t.has(STATUS | PROGRESS)):
                # Paid, and it has not moved: the order it is about, should nothing be owed
                asked = status(code.upper() if code else None)
                return replace(asked, kind=IntentKind.PAID, hints=asked.hints | {Hint.UNMOVED})
            return Intent(IntentKind.PAID, code.upper() if code else None, words=kept)
        return status(code.upper() if code else None, paying=True)  # "sudah dibayar belum?"
    money_in = t.has(MONEY) and t.has(CAME_IN) and not t.has(ASKS_WHICH)
    if money_in and ("?" in text or t.has(ASKS_IF - {"sudah"})):
        return status(code.upper() if code else None, paying=True)
    if money_in and "sudah" in t.vocab:  # "dp sudah masuk ya kak": said to have gone in
        hints = frozenset({Hint.PAYMENT})
        return Intent(IntentKind.PAID, code.upper() if code else None, hints=hints, words=kept)
    if code is None and "beli" in t.vocab and not order_noun:
        return Intent(IntentKind.BUY, query=query, words=kept)
    if arrived and code is None:
        return status()  # thanked for, and staff may mark it delivered
    says_it = code is None and "?" not in text and not t.has(QUESTION | ASKING)
    if says_it and t.thanks():
        return Intent(IntentKind.THANKS, words=kept)  # "paketnya sudah sampai, makasih ya"
    if says_it and t.has(PRAISE) and not t.weak_stock() and not _wants_one(words):
        return Intent(IntentKind.THANKS, hints=frozenset({Hint.PRAISE}), words=kept)
    resume = t.has(RESUME) or t.says(RESUME_PHRASES)
    if code is None and resume and not t.has(PRODUCTS | STOCK_STRONG | {"ready"}):
        return Intent(IntentKind.RESUME, words=kept)
    # "jangan lupa kabari ya kak", "kabarin terus ya": told of the order, as it is anyway
    # (where a product was just shown, the router takes it as the back-in-stock alert).
    keep_posted = code is None and query is None and t.has(TELL_WHEN_BACK)
    if keep_posted and not t.has(PRODUCTS | STOCK_STRONG | BACK_WORDS):
        return Intent(IntentKind.RESUME, words=kept)
    if code is not None and order_context:
        return status(code.upper())
    if t.has(STOCK_STRONG) or t.says(STOCK_STRONG_PHRASES):
        if t.says(STATUS_PHRASES) and not t.has(PRODUCTS):
            return status()  # "kok lama banget nunggu stoknya": an order waiting for stock
        return stock()
    weak_stock = t.weak_stock()
    if code is not None:
        if weak_stock and (_sku_like(code) or query not in (None, code)):
            return stock()
        return status(code.upper())
    if order_context and not (progress and weak_stock and not order_noun):
        if t.has(LIST) or t.says(("apa saja",)):
            return Intent(IntentKind.MY_ORDERS, words=kept)
        if order_noun and t.only(FILLER | LIST_LOOK | {"pesanan", "orders"}):
            return Intent(IntentKind.MY_ORDERS, words=kept)  # "pesanan saya": the /pesanan list
        return status()
    other_intent = t.has(THANKS | HELP | MENU | STOP) or t.says(
        THANKS_PHRASES + HELP_PHRASES + MENU_PHRASES
    )
    if weak_stock and (query is not None or not other_intent):
        return stock()
    if t.thanks():
        return Intent(IntentKind.THANKS, words=kept)
    if t.has(ACK) and t.only(ACK | FILLER | AWAITED):  # "oke", "ditunggu kabarnya kak"
        said = Hint.AWAITS if "ditunggu" in t.vocab else Hint.OK
        return Intent(IntentKind.THANKS, hints=frozenset({said}), words=kept)
    if query is not None and t.has(PRODUCTS):
        return stock()
    calls = t.says(CALL_PHRASES) or (t.has(CALLS) and t.only(FILLER | QUESTION))
    greeting = calls or t.has(GREET | TIME_OF_DAY)
    if greeting and t.only(GREET | TIME_OF_DAY | FILLER | QUESTION | ACK):
        return Intent(IntentKind.GREETING, words=kept)
    if t.has(HELP) or t.says(HELP_PHRASES):
        hints = frozenset({Hint.REQUEST}) if _asks_a_favour(t) else frozenset()
        return Intent(IntentKind.HELP, hints=hints, words=kept)
    if t.has(MENU) or t.says(MENU_PHRASES):
        return Intent(IntentKind.MENU, words=kept)
    if t.has(STOP):
        return Intent(IntentKind.STOP, words=kept)
    if greeting:
        return Intent(IntentKind.GREETING, words=kept)
    return Intent(IntentKind.UNKNOWN, words=kept)


# Words only one of the two languages uses, to tell which a message is written in. Words both
# use in chat ("order", "stock", "ready", "ok", "thanks", "hi") say nothing either way.
_ENGLISH_ONLY = wordset("""
    the is are am was were my your you where what when which how much many do does did can
    could would will please it this that have has i me we our of to in for with any there yet
    still not and if an want need get know just been be should shipped arrived like name
    address phone
""")
_INDONESIAN_ONLY = wordset("""
    ada saya aku sy kak kakak ka mau berapa brp apa yang yg sudah udah udh sdh belum blm dong
    ya gak ga nggak enggak tidak tdk bisa bs mana dimana kapan untuk buat dengan dan ini itu
    min gan sis pesanan barang stok kirim bayar harga terima kasih makasih tolong mohon kok
    sih deh lagi masih punya kah pak bu mas mbak nama alamat jumlah ukuran warna
""")


def language_of(text: str) -> str | None:
    """Which language a message is plainly written in ("en" or "id"); None when it does not
    say (one or two words, a code, a mix)."""
    if len(text) > MAX_TEXT_LENGTH:
        return None
    tokens = _raw_tokens(_fold(text))
    english = sum(token in _ENGLISH_ONLY for token in tokens)
    indonesian = sum(token in _INDONESIAN_ONLY for token in tokens)
    if english >= 2 and english > 2 * indonesian:
        return "en"
    if indonesian >= 2 and indonesian > 2 * english:
        return "id"
    return None


def _as_read(phrases: tuple[str, ...]) -> tuple[str, ...]:
    """Phrases in the words a message is read into ("change my order" is matched as "change
    my pesanan"): a phrase written as people type it would never match otherwise."""
    read = (" ".join(word for token in p.split() for word in _canon(token)) for p in phrases)
    return tuple(dict.fromkeys(read))


CALL_PHRASES = _as_read(CALL_PHRASES)
THANKS_PHRASES = _as_read(THANKS_PHRASES)
HELP_PHRASES = _as_read(HELP_PHRASES)
MENU_PHRASES = _as_read(MENU_PHRASES)
STOP_PHRASES = _as_read(STOP_PHRASES)
STATUS_PHRASES = _as_read(STATUS_PHRASES)
STOCK_STRONG_PHRASES = _as_read(STOCK_STRONG_PHRASES)
STOCK_WEAK_PHRASES = _as_read(STOCK_WEAK_PHRASES)
PERSON_PHRASES = _as_read(PERSON_PHRASES)
ADVICE = _as_read(ADVICE)
TO_AN_ORDER = _as_read(TO_AN_ORDER)
WRONG_WITH_IT = _as_read(WRONG_WITH_IT)
ARRIVED_PHRASES = _as_read(ARRIVED_PHRASES)
PAID_PHRASES = _as_read(PAID_PHRASES)
RESUME_PHRASES = _as_read(RESUME_PHRASES)
TELL_WHEN_BACK_PHRASES = _as_read(TELL_WHEN_BACK_PHRASES)
_CATALOGUE_PHRASES = _as_read(_CATALOGUE_PHRASES)
