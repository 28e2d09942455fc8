"""Phone numbers: normalise to E.164 (Indonesian forms first) and mask for logs."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from models.errors import InvalidPhone

_SEPARATORS = re.compile(r"[\s\-().]")


@lru_cache(maxsize=65_536)  # imports repeat the same customers' numbers many times
def normalize_phone(raw: str, region: str = "ID") -> str:
    """Return `raw` in E.164 (`+628…`), reading 08…, 628…, 8… and +62 8… as Indonesian."""
    text = _SEPARATORS.sub("", raw.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text or not re.fullmatch(r"\+?\d+", text):
        raise InvalidPhone(f"{raw!r} is not a phone number")
    if not text.startswith("+") and text.startswith("62"):
        text = "+" + text  # 628… is the international form written without its plus
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"{raw!r} is not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"{raw!r} is not a valid phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def mask_phone(phone: str) -> str:
    """Hide the middle of a phone number so logs never hold a full one.

    The last three digits stay (to tell numbers apart), at least four characters are hidden,
    and at most the first five (`+6281`, country and network) are shown.
    """
    if len(phone) <= 7:
        return "*" * len(phone)
    shown = min(5, len(phone) - 3 - 4)
    return phone[:shown] + "*" * (len(phone) - shown - 3) + phone[-3:]
