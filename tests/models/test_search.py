"""Product search: fuzzy, bilingual, typo-tolerant, variant-aware, exact on SKUs."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import event, update

from models.catalog import Product
from models.search import (
    MATCH_CUTOFF,
    IndexCache,
    ProductIndex,
    colour_of,
    load_index,
    normalize,
    search_products,
)
from models.storage import Database
from tests.support import factories

# (id, sku, name, variant)
CATALOG = [
    (1, "KAOS-HTM-XL", "Kaos Polos", "Hitam XL"),
    (2, "KAOS-HTM-L", "Kaos Polos", "Hitam L"),
    (3, "KAOS-PTH-XL", "Kaos Polos", "Putih XL"),
    (4, "BATIK-PRM-M", "Kemeja Batik", "Premium M"),
    (5, "TOTE-01", "Tote Bag", "Kanvas"),
    (6, "TAS-SLP-01", "Tas Selempang", "Kulit Coklat"),
]


@pytest.fixture(scope="module")
def index() -> ProductIndex:
    """The small catalog, indexed."""
    return ProductIndex.build(CATALOG)


def skus(index: ProductIndex, query: str, limit: int = 5) -> list[str]:
    """Return the SKUs a search finds, best first."""
    return [match.sku for match in index.search(query, limit)]


# --- normalisation -------------------------------------------------------------------------------


def test_normalize_lowercases_strips_accents_and_punctuation_but_keeps_hyphens() -> None:
    assert normalize("  KAÓS, Polos / Hitam-XL (baru!)_promo ") == "kaos polos hitam-xl baru promo"


def test_accents_and_punctuation_in_the_query_do_not_matter(index: ProductIndex) -> None:
    assert skus(index, "KAÓS... hitam!! (XL)")[0] == "KAOS-HTM-XL"


# --- exact SKU -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["KAOS-HTM-XL", "kaos-htm-xl", "  Kaos-Htm-Xl\n", "stok kaos-htm-xl?"]
)
def test_exact_sku_in_any_case_finds_that_product_alone_with_full_score(
    index: ProductIndex, query: str
) -> None:
    [match] = index.search(query)
    assert (match.product_id, match.sku, match.label, match.score) == (
        1,
        "KAOS-HTM-XL",
        "Kaos Polos Hitam XL",
        100.0,
    )


def test_a_mistyped_sku_still_finds_its_product_first(index: ProductIndex) -> None:
    assert skus(index, "KAOS-HTM-XLL")[0] == "KAOS-HTM-XL"


# --- Indonesian and English ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kaos hitam xl", "KAOS-HTM-XL"),
        ("kaos putih", "KAOS-PTH-XL"),
        ("kemeja batik", "BATIK-PRM-M"),
        ("tote kanvas", "TOTE-01"),
        ("tas selempang kulit", "TAS-SLP-01"),
        ("ada stok kaos hitam xl kak?", "KAOS-HTM-XL"),
        ("kaus hitam xl", "KAOS-HTM-XL"),
    ],
)
def test_indonesian_queries_find_the_product(
    index: ProductIndex, query: str, expected: str
) -> None:
    assert skus(index, query)[0] == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("black tee xl", "KAOS-HTM-XL"),
        ("white t-shirt", "KAOS-PTH-XL"),
        ("white t shirt", "KAOS-PTH-XL"),
        ("batik shirt", "BATIK-PRM-M"),
        ("canvas tote bag", "TOTE-01"),
        ("brown leather bag", "TAS-SLP-01"),
        ("is the black tshirt in stock, size XL?", "KAOS-HTM-XL"),
    ],
)
def test_english_queries_find_indonesian_product_names(
    index: ProductIndex, query: str, expected: str
) -> None:
    assert skus(index, query)[0] == expected


def test_indonesian_queries_find_english_product_names() -> None:
    index = ProductIndex.build(
        [
            (1, "TEE-BLK-M", "Graphic Tee", "Black M"),
            (2, "SHIRT-WHT-L", "Linen Shirt", "White L"),
            (3, "BAG-CNV", "Canvas Bag", "Grey"),
        ]
    )
    assert skus(index, "kaos hitam m")[0] == "TEE-BLK-M"
    assert skus(index, "kemeja putih")[0] == "SHIRT-WHT-L"
    assert skus(index, "tas kanvas abu") == ["BAG-CNV"]


def test_shirt_finds_both_kaos_and_kemeja(index: ProductIndex) -> None:
    assert set(skus(index, "shirt")) == {"KAOS-HTM-XL", "KAOS-HTM-L", "KAOS-PTH-XL", "BATIK-PRM-M"}


def test_size_words_are_ignored(index: ProductIndex) -> None:
    assert index.search("kaos hitam ukuran xl") == index.search("kaos hitam xl")
    assert index.search("black tee size xl") == index.search("black tee xl")


# --- typos ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kaoss hitam xl", "KAOS-HTM-XL"),
        ("kemeja batk", "BATIK-PRM-M"),
        ("tote bagg", "TOTE-01"),
        ("tas kanvass", "TOTE-01"),
        ("tas selempag", "TAS-SLP-01"),
    ],
)
def test_typos_still_find_the_product(index: ProductIndex, query: str, expected: str) -> None:
    matches = index.search(query)
    assert matches[0].sku == expected
    assert matches[0].score < 100


# --- variants and ranking ------------------------------------------------------------------------


def test_a_colour_typo_reads_as_the_nearest_colour(index: ProductIndex) -> None:
    assert skus(index, "kaos hitm xl") == ["KAOS-HTM-XL"]


def test_the_exact_variant_alone_answers(index: ProductIndex) -> None:
    [first] = index.search("kaos hitam xl")
    assert (first.sku, first.score) == ("KAOS-HTM-XL", 100)


def test_a_colour_returns_that_colour_only(index: ProductIndex) -> None:
    assert skus(index, "kaos hitam", limit=10) == ["KAOS-HTM-L", "KAOS-HTM-XL"]


def test_matches_are_above_the_cutoff_best_first_ties_by_label(index: ProductIndex) -> None:
    for query in ["kaos", "tas", "kaos hitam xl", "black tee", "kemeja batk"]:
        matches = index.search(query)
        assert matches, query
        assert all(match.score >= MATCH_CUTOFF for match in matches)
        assert matches == sorted(matches, key=lambda m: (-m.score, m.label))


def test_equal_matches_are_ordered_by_label(index: ProductIndex) -> None:
    assert [match.label for match in index.search("kaos")] == [
        "Kaos Polos Hitam L",
        "Kaos Polos Hitam XL",
        "Kaos Polos Putih XL",
    ]


def test_limit_caps_the_number_of_matches(index: ProductIndex) -> None:
    assert skus(index, "kaos", limit=2) == ["KAOS-HTM-L", "KAOS-HTM-XL"]
    assert index.search("kaos", limit=0) == []


# --- nothing to find -----------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["sepatu kulit", "laptop", "celana jeans biru", "zzz"])
def test_a_query_naming_nothing_in_the_catalog_finds_nothing(
    index: ProductIndex, query: str
) -> None:
    assert index.search(query) == []


@pytest.mark.parametrize("query", ["", "   ", "\n\t", "?!", "ada stok?"])
def test_an_empty_query_finds_nothing(index: ProductIndex, query: str) -> None:
    assert index.search(query) == []


def test_an_empty_catalog_finds_nothing() -> None:
    assert ProductIndex.build([]).search("kaos") == []


# --- a big catalog -------------------------------------------------------------------------------

KINDS = ["Kaos", "Kemeja", "Tas", "Celana", "Jaket", "Topi"]
MOTIFS = [
    *("Parang", "Kawung", "Mega Mendung", "Truntum", "Sekar Jagad", "Sidomukti", "Tambal"),
    *("Lereng", "Ceplok", "Nitik", "Polos", "Garis", "Kotak", "Bunga", "Daun", "Ombak", "Awan"),
    *("Bintang", "Bulan", "Matahari", "Gunung", "Laut", "Hutan", "Kopi", "Teh", "Kuda", "Naga"),
    *("Burung", "Ikan", "Gajah", "Harimau", "Kucing", "Rusa", "Merak", "Kupu", "Lotus"),
    *("Melati", "Mawar", "Anggrek", "Padi"),
]
COLOURS = [
    "Hitam",
    "Putih",
    "Merah",
    "Biru",
    "Hijau",
    "Abu-abu",
    "Kuning",
    "Coklat",
    "Ungu",
    "Krem",
]
SIZES = ["S", "M", "L", "XL", "XXL"]


@pytest.mark.slow
def test_ten_thousand_products_still_find_the_right_one() -> None:
    combos = itertools.product(KINDS, MOTIFS, COLOURS, SIZES)
    rows = [
        (n, f"P{n:05d}", f"{kind} {motif}", f"{colour} {size}")
        for n, (kind, motif, colour, size) in enumerate(itertools.islice(combos, 10_000), 1)
    ]
    assert len(rows) == 10_000
    index = ProductIndex.build(rows)
    assert len(index) == 10_000

    assert index.search("kemeja kawung biru xl")[0].label == "Kemeja Kawung Biru XL"
    assert index.search("kemeja kawng biru xl")[0].label == "Kemeja Kawung Biru XL"
    assert index.search("grey sidomukti shirt m")[0].label in {
        "Kaos Sidomukti Abu-abu M",
        "Kemeja Sidomukti Abu-abu M",
    }
    [match] = index.search("p04321")
    assert match.sku == "P04321"
    assert index.search("sepatu kulit") == []


# --- the database ---------------------------------------------------------------------------------


async def add_catalog(db: Database) -> None:
    """Store the small catalog."""
    async with db.transaction() as s:
        for _, sku, name, variant in CATALOG:
            await factories.product(s, sku, name=name, variant=variant, stock=3)


async def test_search_products_returns_stored_products_best_first(db: Database) -> None:
    await add_catalog(db)
    async with db.sessions() as s:
        found = await search_products(s, "black tee xl")
        # The others match two words of three: far behind the clear winner, so left out.
        assert [product.sku for product in found] == ["KAOS-HTM-XL"]
        assert found[0].label == "Kaos Polos Hitam XL"
        assert found[0].available == 3

        assert [p.sku for p in await search_products(s, "kaos", limit=2)] == [
            "KAOS-HTM-L",
            "KAOS-HTM-XL",
        ]


async def test_search_products_finds_a_sku_typos_and_nothing_for_the_unknown(db: Database) -> None:
    await add_catalog(db)
    async with db.sessions() as s:
        assert [p.sku for p in await search_products(s, "tote-01")] == ["TOTE-01"]
        assert [p.sku for p in await search_products(s, "kemeja batk")] == ["BATIK-PRM-M"]
        assert await search_products(s, "sepatu kulit") == []
        assert await search_products(s, "   ") == []


async def test_a_new_index_sees_products_added_since_the_last(db: Database) -> None:
    await add_catalog(db)
    async with db.sessions() as s:
        before = await load_index(s)
    async with db.transaction() as s:
        await factories.product(s, "KMJ-LNN-L", name="Kemeja Linen", variant="Putih L")
    async with db.sessions() as s:
        after = await load_index(s)
    assert (len(before), len(after)) == (6, 7)
    assert [m.sku for m in before.search("kemeja linen")] == []
    assert after.search("white linen shirt")[0].sku == "KMJ-LNN-L"


async def test_the_index_cache_rebuilds_only_when_products_change(db: Database) -> None:
    await add_catalog(db)
    cache = IndexCache()
    async with db.sessions() as s:
        first = await cache.get(s)
        assert await cache.get(s) is first
    async with db.transaction() as s:
        await factories.product(s, "SARUNG-01", stock=2, name="Sarung", variant="Tenun")
    async with db.sessions() as s:
        assert await cache.get(s) is not first
        assert [p.sku for p in await search_products(s, "sarung tenun", cache=cache)] == [
            "SARUNG-01"
        ]


async def test_a_question_to_a_fresh_index_reads_its_products_in_one_statement(
    db: Database,
) -> None:
    await add_catalog(db)
    cache = IndexCache()
    read: list[str] = []

    def note(*args: Any) -> None:
        read.append(args[2])

    async with db.sessions() as s:
        await search_products(s, "tote", cache=cache)  # the first builds the index
        event.listen(db.engine.sync_engine, "before_cursor_execute", note)
        try:
            found = await search_products(s, "kemeja batik", cache=cache)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", note)
    assert [p.sku for p in found] == ["BATIK-PRM-M"]
    assert len(read) == 1, read


async def test_a_cached_index_never_answers_with_a_product_renamed_since(db: Database) -> None:
    await add_catalog(db)
    cache = IndexCache()
    async with db.sessions() as s:
        assert [p.sku for p in await search_products(s, "tas selempang", cache=cache)] == [
            "TAS-SLP-01"
        ]
    async with db.transaction() as s:
        await s.execute(update(Product).where(Product.sku == "TAS-SLP-01").values(name="Dompet"))
    async with db.sessions() as s:
        assert await search_products(s, "tas selempang", cache=cache) == []
        assert [p.name for p in await search_products(s, "dompet", cache=cache)] == ["Dompet"]


async def test_a_stock_move_keeps_the_index_and_answers_with_the_new_stock(db: Database) -> None:
    await add_catalog(db)
    cache = IndexCache()
    async with db.sessions() as s:
        await search_products(s, "kaos hitam xl", cache=cache)
    built = cache.last
    async with db.transaction() as s:
        await s.execute(update(Product).where(Product.sku == "KAOS-HTM-XL").values(on_hand=9))
    async with db.sessions() as s:
        found = await search_products(s, "kaos hitam xl", cache=cache)
    assert [(p.sku, p.available) for p in found] == [("KAOS-HTM-XL", 9)]
    assert cache.last is built


# --- sizes and colours are exact ----------------------------------------------------------------

# Kaos in three colours, S to XXL except white XXL and navy S; a hoodie in grey M-XL; a batik
# shirt in M and L; a one-size tote.
VARIANTS = ProductIndex.build(
    [
        *(
            (n, f"KAOS-{code}-{size}", "Kaos Polos", f"{colour} {size}")
            for n, (colour, code, size) in enumerate(
                (
                    (colour, code, size)
                    for colour, code in (("Hitam", "HTM"), ("Putih", "PTH"), ("Navy", "NVY"))
                    for size in ("S", "M", "L", "XL", "XXL")
                    if (code, size) not in (("PTH", "XXL"), ("NVY", "S"))
                ),
                start=1,
            )
        ),
        (20, "HOOD-ABU-M", "Hoodie", "Abu-abu M"),
        (21, "HOOD-ABU-L", "Hoodie", "Abu-abu L"),
        (22, "HOOD-ABU-XL", "Hoodie", "Abu-abu XL"),
        (30, "BTK-M", "Kemeja Batik", "Parang M"),
        (31, "BTK-L", "Kemeja Batik", "Parang L"),
        (40, "TOTE-KNV", "Tote Bag", "Kanvas Krem"),
    ]
)


@pytest.mark.parametrize(
    ("query", "found", "missing", "alternatives"),
    [
        ("kaos hitam s", ["KAOS-HTM-S"], (), ()),
        ("kaos hitam m", ["KAOS-HTM-M"], (), ()),
        ("kaos hitam l", ["KAOS-HTM-L"], (), ()),
        ("kaos hitam xl", ["KAOS-HTM-XL"], (), ()),
        ("kaos hitam xxl", ["KAOS-HTM-XXL"], (), ()),
        ("kaos hitam 2xl", ["KAOS-HTM-XXL"], (), ()),
        ("black tee XXL", ["KAOS-HTM-XXL"], (), ()),
        ("kaos putih xl", ["KAOS-PTH-XL"], (), ()),
        ("white t-shirt size M", ["KAOS-PTH-M"], (), ()),
        ("kaos navy l", ["KAOS-NVY-L"], (), ()),
        ("kaos hitm l", ["KAOS-HTM-L"], (), ()),
        ("kaos item xl", ["KAOS-HTM-XL"], (), ()),
        ("hoodie abu-abu xl", ["HOOD-ABU-XL"], (), ()),
        ("grey hoodie L", ["HOOD-ABU-L"], (), ()),
        ("kemeja batik L", ["BTK-L"], (), ()),
        ("batik parang M", ["BTK-M"], (), ()),
        ("tote krem", ["TOTE-KNV"], (), ()),
        ("kaos putih xxl", [], ("XXL",), ("S", "M", "L", "XL")),
        ("kaos putih 2xl", [], ("XXL",), ("S", "M", "L", "XL")),
        ("kaos navy s", [], ("S",), ("M", "L", "XL", "XXL")),
        ("kaos hitam xxxl", [], ("XXXL",), ("S", "M", "L", "XL", "XXL")),
        ("hoodie xxl", [], ("XXL",), ("M", "L", "XL")),
        ("hoodie abu s", [], ("S",), ("M", "L", "XL")),
        ("kemeja batik xl", [], ("XL",), ("M", "L")),
        ("batik s", [], ("S",), ("M", "L")),
        # The batik shirt was meant: the t-shirts in S are no answer to it.
        ("batik shirt s", [], ("S",), ("M", "L")),
        ("kaos merah", [], ("merah",), ("Hitam", "Putih", "Navy")),
        ("red tee L", [], ("red",), ("Hitam", "Putih", "Navy")),
        ("kaos hijau xl", [], ("hijau",), ("Hitam", "Putih", "Navy")),
        ("hoodie hitam", [], ("hitam",), ("Abu",)),
        ("black hoodie M", [], ("black",), ("Abu",)),
        ("tote hitam", [], ("hitam",), ("Krem",)),
        ("ukuran xxxl", [], ("XXXL",), ("S", "M", "L", "XL", "XXL")),
        ("tote bag xl", [], ("XL",), ()),
    ],
)
def test_sizes_and_colours_match_exactly_or_say_what_exists(
    query: str, found: list[str], missing: tuple[str, ...], alternatives: tuple[str, ...]
) -> None:
    result = VARIANTS.find(query, limit=10)
    assert [match.sku for match in result.matches] == found
    assert (result.missing, result.alternatives) == (missing, alternatives)


@pytest.mark.parametrize(
    ("query", "found", "missing", "alternatives"),
    [
        ("hitam", ["KAOS-HTM-L", "KAOS-HTM-XL"], (), ()),  # the black S, M and XXL: not listed
        ("xl", ["KAOS-HTM-XL", "KAOS-PTH-XL"], (), ()),
        ("xxl", [], ("XXL",), ("L", "XL")),  # the black XXL exists, but was not listed
        ("navy", [], ("navy",), ("Hitam", "Putih")),
        ("KAOS-PTH-XL", ["KAOS-PTH-XL"], (), ()),
        ("hoodie", [], (), ()),
    ],
)
def test_a_search_among_some_products_finds_only_those(
    query: str, found: list[str], missing: tuple[str, ...], alternatives: tuple[str, ...]
) -> None:
    shown = ["KAOS-HTM-L", "KAOS-HTM-XL", "KAOS-PTH-XL"]
    result = VARIANTS.find(query, limit=10, among=shown)
    assert [match.sku for match in result.matches] == found
    assert (result.missing, result.alternatives) == (missing, alternatives)


@pytest.mark.parametrize(
    ("query", "others"),
    [
        ("kemeja batik xl", ("BTK-L", "BTK-M")),  # in label order
        ("hoodie abu s", ("HOOD-ABU-L", "HOOD-ABU-M", "HOOD-ABU-XL")),
        ("hoodie hitam", ("HOOD-ABU-L", "HOOD-ABU-M", "HOOD-ABU-XL")),
        ("tote hitam", ("TOTE-KNV",)),
        ("kaos putih xxl", ("KAOS-PTH-L", "KAOS-PTH-M", "KAOS-PTH-S", "KAOS-PTH-XL")),
        ("kaos merah", ()),  # every shirt there is: too many to offer
        ("tote bag xl", ()),  # it comes in no size
    ],
)
def test_a_size_or_colour_there_is_not_offers_the_few_products_there_are(
    query: str, others: tuple[str, ...]
) -> None:
    assert VARIANTS.find(query, limit=10).others == others


def test_an_exact_sku_not_among_those_listed_is_not_found_there() -> None:
    assert VARIANTS.find("KAOS-HTM-XXL", among=["KAOS-HTM-L"]).matches == []
    assert [m.sku for m in VARIANTS.find("KAOS-HTM-XXL").matches] == ["KAOS-HTM-XXL"]


@pytest.mark.parametrize(
    ("query", "found", "missing"),
    [
        ("kaos hitam L sama XL", ["KAOS-HTM-L", "KAOS-HTM-XL"], ()),
        ("kaos putih m atau xxl", ["KAOS-PTH-M"], ()),  # either: the one there is
        ("batik shirt XL or XXL", [], ("XL/XXL",)),
    ],
)
def test_sizes_named_together_ask_for_either(
    query: str, found: list[str], missing: tuple[str, ...]
) -> None:
    result = VARIANTS.find(query, limit=10)
    assert sorted(match.sku for match in result.matches) == found
    assert result.missing == missing


def test_a_size_alone_lists_every_product_in_it() -> None:
    assert {m.sku for m in VARIANTS.find("ada yang xxl?", limit=20).matches} == {
        "KAOS-HTM-XXL",
        "KAOS-NVY-XXL",
    }


@pytest.mark.parametrize(
    ("typed", "colour"),
    [
        ("hitm", "hitam"),
        ("htam", "hitam"),
        ("puith", "putih"),
        ("merha", "merah"),
        ("kunign", "kuning"),
    ],
)
def test_a_colour_typo_is_read_as_the_colour(typed: str, colour: str) -> None:
    assert colour_of(typed) == colour


@pytest.mark.parametrize(
    "word", ["kuningan", "orang", "ready", "lacak", "ongkir", "tunggu", "about", "marah", "write"]
)
def test_a_word_of_its_own_near_a_colour_is_no_colour(word: str) -> None:
    assert colour_of(word) is None


@pytest.mark.parametrize(
    ("query", "product"),
    [
        ("kemeja batik xl", "Kemeja Batik Premium"),  # its own size is no part of its name
        ("kaos hitam xxl", "Kaos Polos Hitam"),
        ("kaos merah", "Kaos Polos"),  # the colour missing is left out too
        ("xxxl", ""),  # products of every name: none is named
    ],
)
def test_a_missing_size_or_colour_names_the_products_asked_about(
    index: ProductIndex, query: str, product: str
) -> None:
    found = index.find(query)
    assert found.missing and found.product == product
