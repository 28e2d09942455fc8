"""Money as people type it in chat: 150000, 150.000, Rp150.000, 150rb, 150k, 1,5jt."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_AMOUNT = re.compile(
    r"^(?:rp\.?\s*)?(?P<number>\d{1,3}(?:[.,]\d{3})+|\d+(?:[.,]\d{1,2})?)\s*"
    r"(?P<unit>rb|ribu|k|jt|juta)?$",
    re.I,
)
_UNITS = {"rb": 1000, "ribu": 1000, "k": 1000, "jt": 1_000_000, "juta": 1_000_000}


def parse_amount(text: str) -> Decimal | None:
    """Money as people type it: 150000, 150.000, Rp150.000, 150rb, 150k, 1,5jt; None if not."""
    found = _AMOUNT.match(text.strip())
    if found is None:
        return None
    number, unit = found["number"], (found["unit"] or "").lower()
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", number) and not unit:
        number = re.sub(r"[.,]", "", number)  # thousands separators
    else:
        number = number.replace(",", ".")
    try:
        amount = Decimal(number) * _UNITS.get(unit, 1)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount < Decimal(10) ** 12 else None


def typed_sum(text: str) -> int | None:
    """A sum of rupiah a message names alone or in a few words ("100rb", "Rp150.000"); None
    for anything else, and for a number under a thousand (a menu pick, a count: no sum)."""
    amount = parse_amount(text)
    if amount is None or amount < 1000 or amount != amount.to_integral_value():
        return None
    return int(amount)
