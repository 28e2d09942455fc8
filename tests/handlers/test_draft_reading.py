"""Reading a customer's message while their draft order waits for an answer."""

from __future__ import annotations

import pytest

from handlers.draft_reading import adds, removes
from handlers.forms import pieces


@pytest.mark.parametrize(
    ("said", "wanted"),
    [
        ("tambah tote 1", "tote 1"),
        ("tambah", ""),  # the summary's ➕: which product is asked
        ("sama tote 1 ya", "tote 1"),
        ("tote 1 juga ya kak", "tote 1"),
        ("add a tote too", "a tote"),
        ("tambah SARUNG-GX 1", "sarung-gx 1"),  # a SKU is one word
    ],
)
def test_another_product_is_read_with_what_it_names(said: str, wanted: str) -> None:
    assert adds(said) == wanted


@pytest.mark.parametrize(
    "said",
    [
        "sama aja",
        "sama-sama kak",
        "Budi juga",
        "terima kasih juga",
        "Jl. Tambah Raya 5, Bekasi",  # an address, at "where to?"
        "rumah saya juga toko, Jl. Melati 5",
        "tambah ke pesanan INV-1001",  # an order placed: a person adds to it
    ],
)
def test_what_adds_no_product_to_the_draft_is_not_read_as_one(said: str) -> None:
    assert adds(said) is None


@pytest.mark.parametrize(
    ("said", "named"),
    [
        ("hapus tote", "tote"),
        ("totenya gak jadi kak", "totenya"),
        ("ga usah kaos hitam", "kaos hitam"),
        ("remove the tote", "the tote"),
        ("batal TOTE-KNV", "tote-knv"),
    ],
)
def test_a_product_taken_out_is_read_with_what_it_names(said: str, named: str) -> None:
    assert removes(said) == named


@pytest.mark.parametrize(
    "said", ["batal", "cancel my order", "gak jadi deh", "batal INV-1001", "hapus", "tote 1"]
)
def test_what_takes_out_no_product_is_not_read_as_one(said: str) -> None:
    assert removes(said) is None


@pytest.mark.parametrize(
    ("said", "products"),
    [
        ("mau order kaos hitam L 2 sama tote 1", ["mau order kaos hitam L 2", "tote 1"]),
        ("kaos hitam L 2, tote 1, batik M 1", ["kaos hitam L 2", "tote 1", "batik M 1"]),
        ("I want a black tee XL and a tote", ["I want a black tee XL", "a tote"]),
        ("mau kaos hitam dan ukuran L", ["mau kaos hitam dan ukuran L"]),  # one: its size
        ("kaos hitam yang L dan XL", ["kaos hitam yang L", "kaos hitam xl"]),  # both sizes
        ("kaos hitam L 2 dan XL 1", ["kaos hitam L 2", "kaos hitam xl 1"]),
        ("kaos hitam dan putih", ["kaos hitam", "kaos putih"]),
        ("kaos hitam L dan XL masing-masing 2", ["kaos hitam L 2", "kaos hitam xl 2"]),
        ("tote 1", ["tote 1"]),
    ],
)
def test_products_named_one_after_another_are_read_one_by_one(
    said: str, products: list[str]
) -> None:
    assert pieces(said) == products
