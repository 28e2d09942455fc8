"""Fuzzy, bilingual product search over name, variant and SKU, for stock questions in chat."""

from __future__ import annotations

import bisect
import heapq
import math
import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache

from rapidfuzz import fuzz, process
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.catalog import Product

# A product is shown when, on average over the query's words, its best word matches this well.
# Every word matched (even with a typo) scores 75 or more; one word of three missing scores 67
# (a near alternative: another size or colour); one of two missing scores 50 (not shown).
MATCH_CUTOFF = 65.0

# Two words count as the same word from this fuzz.ratio on: one letter added or dropped in a word
# of three or more letters ("bagg", "hitm"), one letter changed in a word of four or more ("kaus").
# Sizes stay apart: "xl" against "l" is 67.
WORD_CUTOFF = 75.0

# Words a customer may use → the catalog's (Indonesian) words they mean. Applied to the query and
# to product text alike, so English queries find Indonesian names and the other way round.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "black": ("hitam",),
    "white": ("putih",),
    "red": ("merah",),
    "blue": ("biru",),
    "navy": ("biru", "dongker"),
    "green": ("hijau",),
    "grey": ("abu",),
    "gray": ("abu",),
    "yellow": ("kuning",),
    "brown": ("coklat",),
    "cokelat": ("coklat",),
    "purple": ("ungu",),
    "orange": ("oranye",),
    "cream": ("krem",),
    "tee": ("kaos",),
    "tees": ("kaos",),
    "t-shirt": ("kaos",),
    "t-shirts": ("kaos",),
    "tshirt": ("kaos",),
    "tshirts": ("kaos",),
    "kaus": ("kaos",),
    "item": ("hitam",),  # chat Indonesian for black
    # An English "shirt" may be a t-shirt or a collared shirt: it finds both.
    "shirt": ("kaos", "kemeja"),
    "shirts": ("kaos", "kemeja"),
    "bag": ("tas",),
    "bags": ("tas",),
    "totebag": ("tote", "tas"),
    "canvas": ("kanvas",),
    "leather": ("kulit",),
    "cotton": ("katun",),
    "sling": ("selempang",),
    "backpack": ("ransel",),
    "wallet": ("dompet",),
    "jacket": ("jaket",),
    "hat": ("topi",),
    "cap": ("topi",),
    "pants": ("celana",),
    "trousers": ("celana",),
}

# Words that say how a question is asked, not what is asked for; dropped from the query only.
IGNORED = frozenset(
    {
        # size words: the size itself ("xl") stays
        "ukuran",
        "size",
        "uk",
        # Indonesian question words and chat particles
        "ada",
        "apa",
        "apakah",
        "masih",
        "stok",
        "stock",
        "ready",
        "tersedia",
        "yang",
        "ga",
        "gak",
        "nggak",
        "ngga",
        "ya",
        "kak",
        "dong",
        "warna",
        # English question words
        "is",
        "are",
        "the",
        "a",
        "an",
        "in",
        "do",
        "you",
        "have",
        "any",
        "still",
        "available",
        "color",
        "colour",
    }
)

# Sizes and colours are what tell one variant of a product from the next: a customer who asks
# for XXL must never hear that the XL is available. They match exactly (a colour typo is read
# as the colour it is closest to), while the other words of a query match fuzzily.
SIZES = ("xxs", "xs", "s", "m", "l", "xl", "xxl", "xxxl", "4xl", "5xl")
SIZE_ALIASES = {"2xl": "xxl", "3xl": "xxxl", "xxxxl": "4xl", "xxxxxl": "5xl"}
COLOURS = (
    "hitam", "putih", "merah", "biru", "hijau", "kuning", "abu", "coklat", "ungu", "oranye",
    "krem", "pink", "navy", "dongker", "maroon", "marun", "tosca", "salem", "mocca", "silver",
    "emas", "gold", "khaki", "olive", "nude", "beige",
)  # fmt: skip
_COLOUR_WORDS = frozenset(COLOURS) | frozenset(
    word for word, means in SYNONYMS.items() if set(means) & set(COLOURS)
)
_COLOUR_ORDER = COLOURS + tuple(sorted(_COLOUR_WORDS - set(COLOURS)))  # how alternatives list

_SEPARATORS = re.compile(r"(?:[^\w-]|_)+")
# "t shirt" and "tee shirt" are one word, "tshirt", so that "t" is not read as a size.
_T_SHIRT = re.compile(r"\bt(?:ee)? (shirts?)\b")


def size_of(word: str) -> str | None:
    """The size a query word names (`2xl` is XXL), or None."""
    word = SIZE_ALIASES.get(word, word)
    return word if word in SIZES else None


# Words of their own a letter away from a colour: never read as its typo.
_NEAR_COLOURS = frozenset(
    {"orang", "marah", "merak", "salam", "emak", "good", "golf", "kaki", "pick", "ping", "write"}
)


def _is_a(kind: str, word: str) -> bool:
    """Whether a word of a label is a size (`kind` "size") or a colour ("colour")."""
    return size_of(word) is not None if kind == "size" else word in _COLOUR_WORDS


def colour_of(word: str) -> str | None:
    """The colour a query word names, a typo read as the nearest colour ("hitm"); or None."""
    if word in _COLOUR_WORDS:
        return word
    if len(word) < 4 or not word.isalpha() or word in _NEAR_COLOURS:
        return None
    # A typo keeps the first letter and about the length: "hitm", "puith", "merha"; a word of
    # its own that happens to be near one is not ("kuningan" a town, "orang", "ready", "lacak").
    near = [c for c in _COLOUR_WORDS if c[0] == word[0] and abs(len(c) - len(word)) <= 1]
    found = process.extractOne(word, near, scorer=fuzz.ratio, score_cutoff=WORD_CUTOFF)
    return found[0] if found else None


@dataclass(frozen=True, slots=True)
class Wanted:
    """A size or colour the asker named: a product has it, or is not what they asked for."""

    kind: str  # "size" or "colour"
    word: str  # as the catalogue spells it (after aliases and synonyms are applied)


@dataclass(frozen=True, slots=True)
class Found:
    """What a search found; when a named size or colour exists nowhere among the products
    that match the rest of the query, what was asked for and which ones do exist."""

    matches: list[ProductMatch]
    missing: tuple[str, ...] = ()  # the sizes or colours asked for that no match has
    alternatives: tuple[str, ...] = ()  # the ones the products asked about do come in
    product: str = ""  # what those products are called, when they share a name
    others: tuple[str, ...] = ()  # the SKUs of those products in the others, when few


@dataclass(frozen=True, slots=True)
class ProductMatch:
    """One product found by a search, with how well it matched (0-100)."""

    product_id: int
    sku: str
    label: str
    score: float


def normalize(text: str) -> str:
    """Lower-case text, strip accents and turn punctuation other than '-' into single spaces."""
    text = text.casefold()
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    spaced = _SEPARATORS.sub(" ", text)
    if "-" in spaced:
        spaced = " ".join(filter(None, (word.strip("-") for word in spaced.split())))
    else:
        spaced = " ".join(spaced.split())
    if "shirt" in spaced:
        spaced = _T_SHIRT.sub(r"t\1", spaced)
    return spaced


def expand(word: str) -> frozenset[str]:
    """Return the word with its synonyms, or with its parts when hyphenated ("abu-abu")."""
    if word in SYNONYMS:
        return frozenset((word, *SYNONYMS[word]))
    if "-" in word:
        forms = {word}
        for part in filter(None, word.split("-")):
            forms |= expand(part)
        return frozenset(forms)
    return frozenset((word,))


def query_words(query: str) -> list[str]:
    """Return the query's meaningful words, normalised, without repeats, in order."""
    words: list[str] = []
    for word in normalize(query).split():
        # Each part of "kaos-htm-xl" must match, not just one of them.
        words.extend(word.split("-") if word not in SYNONYMS else (word,))
    return list(dict.fromkeys(word for word in words if word and word not in IGNORED))


class ProductIndex:
    """An in-memory search index over products (name, variant, SKU), rebuilt when they change."""

    __slots__ = (
        "_by_length",
        "_by_sku",
        "_ids",
        "_labels",
        "_lengths",
        "_literal",
        "_order",
        "_postings",
        "_rank",
        "_skus",
        "_slot_at",
        "_slot_of",
        "_vocabulary",
    )

    def __init__(
        self,
        ids: Sequence[int],
        skus: Sequence[str],
        labels: Sequence[str],
        vocabulary: Sequence[str],
        postings: Sequence[Sequence[int]],
        literal: frozenset[str] = frozenset(),
    ) -> None:
        self._ids = tuple(ids)
        self._skus = tuple(skus)
        self._labels = tuple(labels)
        self._vocabulary = list(vocabulary)
        # _postings[slot]: the positions of the products whose text holds _vocabulary[slot].
        self._postings = tuple(tuple(positions) for positions in postings)
        self._slot_of = {word: slot for slot, word in enumerate(self._vocabulary)}
        self._literal = literal  # words as the catalogue writes them, before synonyms
        # The vocabulary by length: a word is only compared with words of a length that could
        # reach WORD_CUTOFF, not with the catalogue's every SKU.
        self._slot_at = sorted(range(len(self._vocabulary)), key=lambda s: len(self._vocabulary[s]))
        self._by_length = [self._vocabulary[slot] for slot in self._slot_at]
        self._lengths = [len(word) for word in self._by_length]
        # Ties are broken by label: _rank[position] is the product's place in label order.
        self._order = sorted(range(len(self._ids)), key=lambda p: (self._labels[p], self._skus[p]))
        self._rank = [0] * len(self._order)
        for rank, position in enumerate(self._order):
            self._rank[position] = rank
        self._by_sku: dict[str, int] = {}
        for position, sku in enumerate(self._skus):
            self._by_sku.setdefault(sku.strip().casefold(), position)
            self._by_sku.setdefault(normalize(sku), position)

    @classmethod
    def build(cls, rows: Iterable[tuple[int, str, str, str]]) -> ProductIndex:
        """Index (id, sku, name, variant) rows."""
        ids: list[int] = []
        skus: list[str] = []
        labels: list[str] = []
        slots: dict[str, int] = {}
        postings: list[list[int]] = []
        # Names and variants repeat across a catalog: each text is read once.
        forms_of: dict[str, frozenset[str]] = {}
        for position, (product_id, sku, name, variant) in enumerate(rows):
            ids.append(product_id)
            skus.append(sku)
            labels.append(f"{name} {variant}".strip())
            for text in (name, variant, sku):
                if text not in forms_of:
                    forms_of[text] = frozenset().union(*map(expand, normalize(text).split()))
            for form in forms_of[name] | forms_of[variant] | forms_of[sku]:
                slot = slots.setdefault(form, len(postings))
                if slot == len(postings):
                    postings.append([])
                postings[slot].append(position)
        literal = frozenset(
            part
            for text in forms_of
            for word in normalize(text).split()
            for part in word.split("-")
        )
        return cls(ids, skus, labels, list(slots), postings, literal)

    def __len__(self) -> int:
        """Return the number of products indexed."""
        return len(self._ids)

    def search(self, query: str, limit: int = 5) -> list[ProductMatch]:
        """Return up to `limit` products matching the query, best first."""
        return self.find(query, limit).matches

    def find(self, query: str, limit: int = 5, among: Collection[str] | None = None) -> Found:
        """Search, and say which named size or colour is missing and which ones exist;
        `among` the products of these SKUs alone, when given (a list the asker was shown)."""
        if limit <= 0 or not query.strip():
            return Found([])
        within = None if among is None else self._positions(among)
        exact = self._exact_sku(query)
        if exact is not None and (within is None or exact in within):
            return Found([self._match(exact, 100.0)])
        free: list[str] = []
        wanted: list[Wanted] = []
        for word in query_words(query):
            if word.isdigit() and word not in self._slot_of:
                continue  # a quantity ("mau beli 2"); numbers the catalogue has still count
            if (size := size_of(word)) is not None:
                wanted.append(Wanted("size", size))
            elif (colour := self._colour(word)) is not None:
                wanted.append(Wanted("colour", colour))
            else:
                free.append(word)
        if not free and not wanted:
            return Found([])
        wanted, having = self._either_size(wanted)
        everyone = range(len(self._ids)) if within is None else within
        scores = self._scores(free, len(wanted)) if free else dict.fromkeys(everyone, 100.0)
        if within is not None:
            scores = {p: score for p, score in scores.items() if p in within}
        kept: dict[int, float] = {}
        best = best_kept = 0.0  # one pass: a catalogue's every shirt may score
        for p, score in scores.items():
            best = max(best, score)
            if all(p in h for h in having):
                kept[p] = score
                best_kept = max(best_kept, score)
        if kept and wanted and best - best_kept > CLEAR_LEAD:
            # "batik shirt L": the batik shirt was meant, and it has no L. Say so; never
            # answer with the t-shirts that have one.
            meant = {p: score for p, score in scores.items() if score >= best - CLEAR_LEAD}
            return self._missing(meant, wanted, having)
        if kept or not scores:
            return Found(self._best(kept, limit))
        return self._missing(scores, wanted, having)

    def _either_size(self, wanted: list[Wanted]) -> tuple[list[Wanted], list[frozenset[int]]]:
        """The sizes and colours named, each with the products that have it. Sizes named
        together ask for either ("kaos hitam L sama XL"): a product has one size. Colours
        named together stay all wanted ("kaos hitam putih" is a two-tone shirt)."""
        sizes = [w for w in wanted if w.kind == "size"]
        if len(sizes) < 2:
            return wanted, [self._having(w) for w in wanted]
        colours = [w for w in wanted if w.kind != "size"]
        either = frozenset().union(*(self._having(w) for w in sizes))
        merged = Wanted("size", "/".join(dict.fromkeys(w.word for w in sizes)))
        return [*colours, merged], [*(self._having(w) for w in colours), either]

    def _positions(self, skus: Collection[str]) -> frozenset[int]:
        """The positions of the products of these SKUs (unknown ones are left out)."""
        found = (self._by_sku.get(sku.strip().casefold()) for sku in skus)
        return frozenset(position for position in found if position is not None)

    def _colour(self, word: str) -> str | None:
        """The colour a query word names; a word the catalogue has ("hijab") is never a typo."""
        if word in _COLOUR_WORDS or word not in self._slot_of:
            return colour_of(word)
        return None

    def _scores(self, words: Sequence[str], exact: int = 0) -> dict[int, float]:
        """Each product whose words match these well enough, with its score (0-100).

        A product's score is the mean, over the query's words, of its best word's similarity;
        the `exact` sizes and colours count as matched (products without them are left out
        afterwards), so one unknown word among them does not lose the product.
        """
        totals: dict[int, float] = {}
        for word in words:
            for position, similarity in self._word_matches(word).items():
                totals[position] = totals.get(position, 0.0) + similarity
        count = len(words) + exact
        needed, bonus = MATCH_CUTOFF * count, 100.0 * exact
        return {
            p: (total + bonus) / count for p, total in totals.items() if total + bonus >= needed
        }

    def _best(self, scores: dict[int, float], limit: int) -> list[ProductMatch]:
        """The `limit` best-scored products, ties by label."""
        # One integer per product orders by score (to 0.1), then label: cheap to compare.
        size, rank = len(self._ids), self._rank
        keys = [(1000 - round(score * 10)) * size + rank[p] for p, score in scores.items()]
        return [
            self._match(self._order[key % size], (1000 - key // size) / 10)
            for key in heapq.nsmallest(limit, keys)
        ]

    def _having(self, wanted: Wanted) -> frozenset[int]:
        """The products whose name, variant or SKU carries this size or colour."""
        forms = expand(wanted.word) if wanted.kind == "colour" else (wanted.word,)
        positions: set[int] = set()
        for form in forms:
            slot = self._slot_of.get(form)
            if slot is not None:
                positions.update(self._postings[slot])
        return frozenset(positions)

    def _missing(
        self, scores: dict[int, float], wanted: Sequence[Wanted], having: Sequence[frozenset[int]]
    ) -> Found:
        """Nothing has every size and colour named: say which is missing and what exists."""
        asked = set(scores)
        absent = [i for i, h in enumerate(having) if not asked & h]
        if not absent:  # each exists, never together: the colour stands, the size is missing
            absent = [i for i, w in enumerate(wanted) if w.kind == "size"] or [len(wanted) - 1]
        within = asked
        for i, h in enumerate(having):
            if i not in absent:
                within &= h
        kind = wanted[absent[0]].kind
        values = SIZES if kind == "size" else _COLOUR_ORDER
        exist = [
            v
            for v in values
            if v in self._literal and not within.isdisjoint(self._postings[self._slot_of[v]])
        ]
        shown = [v.upper() if kind == "size" else v.capitalize() for v in exist]
        missing = [wanted[i].word for i in absent if wanted[i].kind == kind]
        offered: set[int] = set()
        for v in exist:
            offered.update(within.intersection(self._postings[self._slot_of[v]]))
        return Found(
            [],
            tuple(w.upper() if kind == "size" else w for w in missing),
            tuple(shown),
            self._named(within, kind),
            tuple(self._skus[p] for p in sorted(offered, key=self._rank.__getitem__))
            if len(offered) <= OFFERED_AT_MOST
            else (),
        )

    def _named(self, positions: Collection[int], kind: str) -> str:
        """What these products have in common by name ("Kaos Polos Hitam"), without the size
        or colour that is missing; "" when they are many, or share nothing."""
        if not positions or len(positions) > NAMED_AT_MOST:
            return ""
        labels = [self._labels[p].split() for p in positions]
        common = labels[0]
        for other in labels[1:]:
            same = 0
            while same < min(len(common), len(other)) and (
                common[same].casefold() == other[same].casefold()
            ):
                same += 1
            common = common[:same]
        while common and _is_a(kind, common[-1].casefold()):
            common = common[:-1]
        return " ".join(common)

    def _exact_sku(self, query: str) -> int | None:
        """Return the position of the product whose SKU the query is, if any."""
        found = self._by_sku.get(query.strip().casefold())
        if found is None:
            words = [word for word in normalize(query).split() if word not in IGNORED]
            found = self._by_sku.get(" ".join(words))
        return found

    def _word_matches(self, word: str) -> dict[int, float]:
        """Return each product's best similarity to the word or one of its synonyms."""
        hits: list[tuple[float, int]] = []
        for form in expand(word):
            first, last = self._comparable(len(form))
            found = process.extract(
                form,
                self._by_length[first:last],
                scorer=fuzz.ratio,
                score_cutoff=WORD_CUTOFF,
                limit=None,
            )
            hits.extend((similarity, self._slot_at[first + at]) for _, similarity, at in found)
        # Weakest first, so that a product's best similarity is the one written last.
        hits.sort()
        best: dict[int, float] = {}
        for similarity, slot in hits:
            best.update(dict.fromkeys(self._postings[slot], similarity))
        return best

    def _comparable(self, length: int) -> tuple[int, int]:
        """The range of _by_length whose words a word of this length could match.

        fuzz.ratio is 100 * (1 - indel / (a + b)) and indel >= |a - b|, so reaching
        WORD_CUTOFF needs |a - b| <= (1 - WORD_CUTOFF / 100) * (a + b).
        """
        slack = 1 - WORD_CUTOFF / 100
        shortest = math.ceil(length * (1 - slack) / (1 + slack) - 1e-9)
        longest = math.floor(length * (1 + slack) / (1 - slack) + 1e-9)
        return (
            bisect.bisect_left(self._lengths, shortest),
            bisect.bisect_right(self._lengths, longest),
        )

    def _match(self, position: int, score: float) -> ProductMatch:
        """Describe the product at a position as a match."""
        return ProductMatch(
            product_id=self._ids[position],
            sku=self._skus[position],
            label=self._labels[position],
            score=score,
        )


async def load_index(session: AsyncSession) -> ProductIndex:
    """Build the search index from every product, in one query."""
    rows = await session.execute(select(Product.id, Product.sku, Product.name, Product.variant))
    return ProductIndex.build(rows)


class IndexCache:
    """The last index built, rebuilt only when a product is added or renamed.

    Stock moves touch a product's `updated_at` too, many times a minute in a busy shop: the
    rows changed since the last look are compared with the words indexed, and only a change of
    words costs a rebuild. (Products are never deleted; one deleted by hand would only be
    left out of the answers, which read the products found afresh.)
    """

    def __init__(self) -> None:
        # What was built and from what, swapped whole: questions may be read in two threads.
        self._built: _Built | None = None

    @property
    def last(self) -> ProductIndex | None:
        """The index built last, as it was when last checked; None before the first."""
        return self._built.index if self._built is not None else None

    async def get(self, session: AsyncSession) -> ProductIndex:
        """Return an index that reflects the products as they are now."""
        last_id, newest = (await session.execute(_freshness_query())).one()
        return await self.as_of(session, last_id, newest)

    async def as_of(
        self, session: AsyncSession, last_id: int | None, newest: datetime | None
    ) -> ProductIndex:
        """Return an index of the products whose newest id and change are these (just read):
        the last one built if no product was added or renamed since."""
        built = self._built
        if built is None or last_id != built.last_id or await _renamed(session, built, newest):
            rows = (
                await session.execute(
                    select(Product.id, Product.sku, Product.name, Product.variant)
                )
            ).all()
            texts = {pid: (sku, name, variant) for pid, sku, name, variant in rows}
            built = _Built(ProductIndex.build(rows), texts, last_id, newest)
        elif newest != built.newest:
            built = replace(built, newest=newest)
        self._built = built
        return built.index


@cache
def _freshness_query() -> Select[int | None, datetime | None]:
    """The newest product id and change, built once: every stock question asks it (most of
    them within _checked_products_query).

    Two scalar subqueries, so each is one step down an index rather than a table scan.
    """
    return select(
        select(func.max(Product.id)).scalar_subquery(),
        select(func.max(Product.updated_at)).scalar_subquery(),
    )


@cache
def _products_query() -> Select[Product]:
    """The products of some ids, built once (see _freshness_query)."""
    return select(Product).where(Product.id.in_(bindparam("ids", expanding=True)))


@cache
def _checked_products_query() -> Select[Product, int | None, datetime | None]:
    """The products of some ids, each row with what _freshness_query reads, built once."""
    last_id, newest = _freshness_query().selected_columns
    return select(Product, last_id, newest).where(Product.id.in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True)
class _Built:
    """An index and what it was built from: the products' words, newest id and change."""

    index: ProductIndex
    texts: dict[int, tuple[str, str, str]]
    last_id: int | None
    newest: datetime | None


async def _renamed(session: AsyncSession, built: _Built, newest: datetime | None) -> bool:
    """Whether a product updated since the index was last checked now reads differently."""
    if newest == built.newest:
        return False
    if built.newest is None:
        return True
    changed = await session.execute(
        select(Product.id, Product.sku, Product.name, Product.variant).where(
            Product.updated_at >= built.newest
        )
    )
    return any(built.texts.get(pid) != (sku, name, variant) for pid, sku, name, variant in changed)


NAMED_AT_MOST = 200  # products whose common name a "not in that size" answer looks for
OFFERED_AT_MOST = 5  # products in another size or colour a "not in that size" answer offers
CLEAR_LEAD = 20  # a match this far behind the best one is not worth showing


@dataclass(frozen=True)
class StockFound:
    """The products a stock question found; or the size or colour asked for that no product
    has, with the ones that exist (and what the products asked about are called)."""

    products: list[Product]
    missing: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    product: str = ""
    others: tuple[str, ...] = ()  # the SKUs of the products that come in the alternatives


async def search_products(
    session: AsyncSession, query: str, limit: int = 5, *, cache: IndexCache | None = None
) -> list[Product]:
    """Return up to `limit` products matching the query, best first (see `find_products`)."""
    return (await find_products(session, query, limit, cache=cache)).products


async def find_products(
    session: AsyncSession,
    query: str,
    limit: int = 5,
    *,
    cache: IndexCache | None = None,
    among: Collection[str] | None = None,
) -> StockFound:
    """Find the products a question asks about, best first (`among` the products of these
    SKUs alone, when given).

    Matches far behind the best one are dropped: "kaos hitam xl" answers with the black XL
    alone, not with every black or every XL shirt. A size or colour named must match
    exactly: "XXL" never finds the XL, it finds which sizes there are.
    """
    if cache is not None and (index := cache.last) is not None:
        # Most questions find the index as it was: the products it finds and whether it is
        # still fresh are read in one statement. If it is not, it is made fresh and asked again.
        ids = _clearly_best(index.find(query, limit, among))
        if ids:
            rows = (await session.execute(_checked_products_query(), {"ids": ids})).all()
            if rows and await cache.as_of(session, rows[0][1], rows[0][2]) is index:
                return _in_order(ids, [product for product, _, _ in rows])
    index = await cache.get(session) if cache else await load_index(session)
    found = index.find(query, limit, among)
    ids = _clearly_best(found)
    if not ids:
        return StockFound([], found.missing, found.alternatives, found.product, found.others)
    return _in_order(ids, await session.scalars(_products_query(), {"ids": ids}))


def _clearly_best(found: Found) -> list[int]:
    """The ids of the matches found, best first, without those far behind the best."""
    if not found.matches:
        return []
    floor = found.matches[0].score - CLEAR_LEAD
    return [match.product_id for match in found.matches if match.score >= floor]


def _in_order(ids: list[int], products: Iterable[Product]) -> StockFound:
    """The products read for these ids, in the order of the ids (one deleted is left out)."""
    by_id = {product.id: product for product in products}
    return StockFound([by_id[pid] for pid in ids if pid in by_id])
