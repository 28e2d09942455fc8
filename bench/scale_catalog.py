"""A made-up but realistic catalogue for the scale benchmark: apparel and bags, sizes, colours."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from models.enums import Fulfillment
from models.stages import parse_stages, stages_to_json

APPAREL = ("S", "M", "L", "XL", "XXL")
ONE_SIZE = ("",)

# (name, SKU prefix, sizes, price range in thousands, production stages; none = ready stock)
KINDS = (
    ("Kaos Polos", "KAOS", APPAREL, (65, 120), ""),
    ("Kaos Oversize", "KOVS", APPAREL, (85, 150), ""),
    ("Kaos Raglan", "KRGL", APPAREL, (80, 140), ""),
    ("Kaos Anak", "KANK", ("S", "M", "L"), (45, 90), ""),
    ("Kemeja Flanel", "FLNL", APPAREL, (150, 260), ""),
    ("Kemeja Linen", "LINN", APPAREL, (180, 300), ""),
    ("Hoodie Polos", "HODI", APPAREL, (170, 280), ""),
    ("Sweater Rajut", "SWTR", APPAREL, (160, 260), ""),
    ("Jaket Denim", "JDNM", APPAREL, (250, 420), ""),
    ("Jaket Bomber", "JBMB", APPAREL, (230, 380), ""),
    ("Celana Chino", "CHNO", APPAREL, (180, 290), ""),
    ("Celana Jogger", "JOGR", APPAREL, (120, 210), ""),
    ("Tote Bag", "TOTE", ONE_SIZE, (45, 95), ""),
    ("Tas Selempang", "SLMP", ONE_SIZE, (120, 250), ""),
    ("Tas Ransel", "RNSL", ONE_SIZE, (180, 350), ""),
    ("Dompet Kulit", "DMPT", ONE_SIZE, (90, 220), ""),
    ("Topi Baseball", "TOPI", ONE_SIZE, (50, 110), ""),
    ("Hijab Segi Empat", "HJAB", ONE_SIZE, (35, 90), ""),
    ("Kemeja Batik", "BTIK", APPAREL, (250, 450), "potong:1d;jahit:2d;sablon:1d;qc:4h"),
    ("Gamis Syari", "GMIS", APPAREL, (220, 400), "potong:1d;jahit:3d;qc:4h"),
    ("Seragam Kantor", "SRGM", APPAREL, (180, 320), "potong:1d;jahit:2d;bordir:1d;qc:4h"),
    ("Jaket Custom", "JCST", APPAREL, (280, 480), "potong:1d;jahit:2d;sablon:1d;qc:4h"),
)
LINES = (
    ("Basic", "BSC"),
    ("Premium", "PRM"),
    ("Classic", "CLS"),
    ("Signature", "SGN"),
    ("Daily", "DLY"),
    ("Urban", "URB"),
    ("Vintage", "VTG"),
    ("Essential", "ESS"),
    ("Parang", "PRG"),
    ("Kawung", "KWG"),
)
COLOURS = (
    ("Hitam", "HTM"),
    ("Putih", "PTH"),
    ("Merah", "MRH"),
    ("Biru Dongker", "BDK"),
    ("Biru Muda", "BMD"),
    ("Hijau Army", "HJA"),
    ("Abu-abu", "ABU"),
    ("Kuning Mustard", "KNG"),
    ("Coklat", "CKL"),
    ("Krem", "KRM"),
    ("Maroon", "MRN"),
    ("Ungu", "UNG"),
    ("Oranye", "ORY"),
    ("Navy", "NVY"),
    ("Olive", "OLV"),
    ("Pink", "PNK"),
)


@dataclass(frozen=True, slots=True)
class Item:
    """One product of the made-up catalogue."""

    sku: str
    name: str
    variant: str
    price: Decimal
    made_to_order: bool
    stages: str


def items(count: int, rng: random.Random) -> list[Item]:
    """Return `count` distinct products, kinds mixed, in a seeded random order."""
    every = [
        (kind, line, colour, size)
        for kind in KINDS
        for line in LINES
        for colour in COLOURS
        for size in kind[2]
    ]
    if count > len(every):
        raise ValueError(f"the made-up catalogue has {len(every)} products, not {count}")
    rng.shuffle(every)
    out = []
    for (name, prefix, _, (low, high), stages), (line, line_code), (colour, code), size in every[
        :count
    ]:
        sku = "-".join(part for part in (prefix, line_code, code, size) if part)
        out.append(
            Item(
                sku=sku,
                name=f"{name} {line}",
                variant=f"{colour} {size}".strip(),
                price=Decimal(rng.randrange(low, high + 1, 5) * 1000),
                made_to_order=bool(stages),
                stages=stages,
            )
        )
    return out


def product_row(product_id: int, item: Item, on_hand: int, now: object) -> dict[str, object]:
    """The products-table row of an item."""
    plan = stages_to_json(parse_stages(item.stages))
    return {
        "id": product_id,
        "sku": item.sku,
        "name": item.name,
        "variant": item.variant,
        "price": item.price,
        "reseller_price": Decimal(int(item.price) * 85 // 100 // 1000 * 1000),
        "on_hand": 0 if item.made_to_order else on_hand,
        "reserved": 0,
        "fulfillment": Fulfillment.MADE_TO_ORDER if item.made_to_order else Fulfillment.READY_STOCK,
        "stages": plan,
        "created_at": now,
        "updated_at": now,
    }
