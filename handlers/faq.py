"""The shop's own answers (`[shop.faq]`): payment, shipping, COD, address, hours, returns, promo,
and what products are like (material, size chart, whether they are genuine, custom work).

A topic is matched from free text by its trigger phrases: the built-in ones of its kind, in
Indonesian and English, and any the seller adds. Phrases and messages are compared as the
intent reader's canonical words, so "bayar dmn", "bayar dimana" and "bayar di mana" are one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from handlers.intents import normalise
from models.enums import Language

# What is left to pay after a down payment: "pelunasannya berapa?", "kurang berapa lagi?"
LEFT_TO_PAY = (
    "sisa tagihan", "sisa pembayaran", "sisa bayar", "sisa pelunasan", "pelunasan",
    "pelunasannya", "melunasi", "lunasin", "kurang berapa", "kurangnya berapa", "kurang bayar",
    "balance due", "remaining balance", "left to pay", "still owe",
)  # fmt: skip

# The topics kabar knows the questions of; a seller may add others with words of their own.
BUILT_IN: dict[str, tuple[str, ...]] = {
    "payment": (
        "bayar", "transfer", "cara bayar", "cara pembayaran", "bayar ke mana", "bayar di mana",
        "bayar pakai apa", "bayar lewat", "transfer ke mana", "transfer di mana", "no rek",
        "nomor rekening",
        "rekening", "norek", "rek", "pembayaran", "metode pembayaran", "qris", "how do i pay",
        "how to pay", "how can i pay", "payment", "bank transfer", "bank account",
        "have to pay", "need to pay", "want to pay", "pay for", "how much to pay", "amount due",
        "total berapa", "berapa total", "total bayar", "total tagihan", "how much in total",
        "the total", "harus dibayar", "harus bayar", "harus saya bayar", "harus ditransfer",
        "pay by", "pay with", "pay using", "credit card", "debit card", "kartu kredit",
        "kartu debit", "e wallet", "ewallet", "dompet digital", "ovo", "gopay", "shopeepay",
        "paylater",
        *LEFT_TO_PAY,
    ),
    "shipping": (
        "ongkir", "ongkos kirim", "biaya kirim", "biaya pengiriman", "ekspedisi apa",
        "pakai ekspedisi", "kirim pakai", "lama pengiriman", "shipping cost", "shipping fee",
        "delivery fee", "delivery cost", "how much is shipping", "do you ship", "ship abroad",
        "ship internationally", "international shipping", "luar negeri", "bisa kirim ke",
        "ship to", "shipping to", "deliver to", "delivery to", "send to", "kirim hari ini",
        "same day", "estimasi pengiriman", "pengiriman berapa hari", "pengiriman berapa lama",
        "kirim berapa hari", "berapa hari pengiriman", "shipping time", "delivery time",
        "how long does shipping", "how long does delivery", "how long is shipping",
        # "kalau ke surabaya berapa hari?": * is a place, one or two words
        "ke * berapa hari", "ke * berapa lama", "ke * brp hari", "to * how long",
        "how many days to *",
        # which courier, and same-day couriers: "bisa gosend?", "kirim pake jnt bisa?"
        "kirim pake", "gosend", "go send", "go-send", "grab", "grabexpress", "grab express",
        "gojek", "lalamove", "paxel", "instant", "instan", "kurir instan", "which courier",
        "what courier",
    ),
    # Paying part first: whether the shop takes a down payment, and how much
    "down_payment": (
        "bisa dp", "boleh dp", "dp dulu", "pakai dp", "sistem dp", "dp berapa", "berapa dp",
        "minimal dp", "dp minimal", "down payment", "bayar setengah", "bayar separuh", "cicil",
        "nyicil", "dicicil", "cicilan", "installment", "installments", "pay half",
        "pay a deposit", "deposit first",
    ),
    "cod": ("cod", "bayar di tempat", "cash on delivery", "bayar ditempat"),
    "address": (
        "alamat toko", "alamat tokonya", "lokasi toko", "lokasi tokonya", "toko di mana",
        "tokonya di mana", "toko offline", "offline store", "bisa ambil", "ambil sendiri",
        "ambil di toko", "where is your shop", "where is the shop", "where is your store",
        "shop address", "store address", "pick up", "pickup",
    ),
    "hours": (
        "jam buka", "buka jam", "tutup jam", "jam operasional", "jam kerja", "jam berapa buka",
        "jam berapa tutup", "hari libur", "hari minggu buka", "libur", "opening hours",
        "open hours", "what time do you open", "are you open", "business hours", "open on",
        "open today", "open tomorrow", "buka hari", "buka besok", "hari minggu",
    ),
    "returns": (
        "retur", "return", "returns", "tukar", "tukar ukuran", "tukar barang", "refund",
        "pengembalian", "kembalikan", "dikembalikan", "garansi", "warranty", "exchange",
    ),
    "reseller": (
        "reseller", "jadi reseller", "daftar reseller", "dropship", "dropshipper", "agen",
        "jadi agen", "mitra", "grosir", "harga grosir", "wholesale", "become a reseller",
    ),
    "promo": (
        "promo", "diskon", "discount", "voucher", "kode promo", "potongan harga", "ada potongan",
        "sale", "harga spesial", "any promo", "any discount", "promo code",
        # bargaining: the shop's word on its prices
        "nego", "bisa nego", "boleh nego", "harga nego", "nego harga", "boleh kurang",
        "bisa kurang", "kurangin harga", "kurang harga", "harga pas", "harga nett", "negotiable",
        "best price", "lower the price",
    ),
    # "min order" is left out: "min, order saya kapan dikirim?" calls the admin.
    "minimum_order": (
        "minimal order", "minimum order", "minimal pesan", "minimal pembelian", "minimal beli",
        "beli minimal", "order minimal", "minimal berapa pcs", "minimum purchase", "moq",
    ),
    "material": (
        "bahan", "bahan apa", "material", "kain apa", "jenis kain", "jenis bahan", "fabric",
        "what material", "made of", "katun apa", "cotton apa",
    ),
    "size_chart": (
        "size chart", "sizechart", "ukuran detail", "detail ukuran", "lebar dada", "panjang baju",
        "lingkar dada", "lingkar pinggang", "berapa cm", "ukuran cm", "measurements",
        "chest width", "body length", "ukuran yang cocok", "ukuran apa yang cocok",
        "size yang cocok", "size apa yang cocok", "which size should", "what size should",
    ),
    # "kak ini ori?": whether the goods are genuine, not a copy
    "original": (
        "ori", "original", "orisinal", "orisinil", "keaslian", "asli tidak", "asli bukan",
        "asli atau", "barang asli", "produk asli", "kw", "replika", "palsu", "authentic",
        "genuine", "fake", "replica",
    ),
    "custom": (
        "custom", "kustom", "sablon custom", "bisa sablon", "desain sendiri", "design sendiri",
        "own design", "bordir", "tulis nama", "print nama",
    ),
}  # fmt: skip

# Topics about what a product is like ("kaos polos bahannya apa?"): asked with a product's
# name they still ask the shop, not how many are in stock.
ABOUT_PRODUCTS = frozenset({"material", "size_chart", "original", "custom"})
# Topics asked of the shop even with a product named: what it is like, and how it may be paid
# ("kemeja batik bisa dicicil?"), not how many are in stock.
ASKED_WITH_A_PRODUCT = ABOUT_PRODUCTS | {"down_payment"}


# The answers that speak as the shop itself: how to pay it, where it is, how to resell for it.
# A customer who bought through a reseller (dropship) knows the reseller, not the shop, and
# is sent to the reseller for these.
AS_THE_SHOP = frozenset({"payment", "down_payment", "address", "reseller"})


@dataclass(frozen=True)
class FaqTopic:
    """One of the shop's answers, in each language it is written in, with what asks for it."""

    key: str
    answers: Mapping[Language, str]
    phrases: tuple[str, ...]  # canonical words, space-joined
    title: str = ""  # the seller's own title; built-in topics have theirs in the catalogs
    open_phrases: tuple[str, ...] = ()  # those of `phrases` with a * in them

    def answer(self, lang: Language) -> str:
        """The answer in this language, or in Indonesian when it is not written in it."""
        return self.answers.get(lang) or self.answers[Language.ID]


def topic(
    key: str,
    answers: Mapping[Language, str],
    words: Iterable[str] = (),
    title: str = "",
) -> FaqTopic:
    """A topic with the built-in phrases of its kind (if it is one) and the seller's words."""
    phrases: list[str] = []
    for phrase in (*BUILT_IN.get(key, ()), *words):
        # A * stands for any one or two words ("ke * berapa hari"): kept as it is.
        parts = (" ".join(normalise(part)) for part in phrase.split(WILDCARD))
        canonical = f" {WILDCARD} ".join(parts).strip()
        if canonical.strip(f" {WILDCARD}") and canonical not in phrases:
            phrases.append(canonical)
    open_phrases = tuple(phrase for phrase in phrases if WILDCARD in phrase.split())
    return FaqTopic(key, dict(answers), tuple(phrases), title, open_phrases)


WILDCARD = "*"


@cache
def _pattern(phrase: str) -> re.Pattern[str]:
    """A phrase with a * in it, as a search over the space-padded words of a message."""
    any_words = r"[^ ]+(?: [^ ]+)?"
    inner = " ".join(any_words if w == WILDCARD else re.escape(w) for w in phrase.split())
    # "… berapa hari lagi?" asks how much longer something under way takes: an order.
    return re.compile(f" {inner} (?!lagi |more )")


@dataclass(frozen=True)
class Match:
    """The topic a message asks about, and how many words its phrase said took."""

    topic: FaqTopic
    words: int
    phrase: str = ""  # the phrase said, in canonical words


@cache
def _built_in() -> tuple[FaqTopic, ...]:
    """The topics kabar knows the questions of, without answers."""
    return tuple(topic(key, {}) for key in BUILT_IN)


def unanswered(topics: Sequence[FaqTopic], words: Sequence[str]) -> Match | None:
    """The kind of shop question these words ask (shipping cost, COD, hours, …) when the
    seller has written no answer to it in `topics`; None otherwise."""
    asked = match(_built_in(), words)
    if asked is None or any(t.key == asked.topic.key for t in topics):
        return None
    return asked


def match(topics: Sequence[FaqTopic], words: Sequence[str]) -> Match | None:
    """The topic a message asks about: the one with the longest phrase said; None if none."""
    if not topics or not words:
        return None
    padded = f" {' '.join(words)} "
    best: Match | None = None
    for candidate in topics:  # the seller's order breaks ties
        for phrase in candidate.phrases:  # a message's words never hold a *
            if f" {phrase} " in padded:
                length = len(phrase.split())
                if best is None or length > best.words:
                    best = Match(candidate, length, phrase)
        for phrase in candidate.open_phrases:
            length = len(phrase.split())
            if (best is None or length > best.words) and _pattern(phrase).search(padded):
                best = Match(candidate, length, phrase)
    return best
