"""Phone numbers: normalise to E.164 (Indonesian forms first) and mask for logs.

Two ways of reading a number, by where it comes from: what staff type or a CSV holds may use
the Indonesian local forms (`normalize_phone`: 08…, 628…, 8…); what a platform reports (a
Telegram contact, a WhatsApp sender) is international, country code first, with or without
its plus (`international_phone`). Read as Indonesian, a Hong Kong number 85251234567 would
become +6285251234567: someone else's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers
from phonenumbers import PhoneMetadata

from models.errors import InvalidPhone

_SEPARATORS = re.compile(r"[\s\-().]")
_DIGITS = re.compile(r"\+?\d+")
# 08…, 8… and +628… (62… and 0062… have become +62… by then), in ASCII digits only: the
# Unicode digits phonenumbers also reads take the general path.
_INDONESIAN = re.compile(r"(?:\+62|0)?(8[0-9]{6,16})")


@dataclass(frozen=True)
class _NumberRule:
    """One of phonenumbers' number descriptions: a national number pattern and its lengths."""

    pattern: re.Pattern[str]
    lengths: frozenset[int]

    @classmethod
    def of(cls, desc: Any) -> _NumberRule:
        """Compile a phonenumbers `PhoneNumberDesc`."""
        return cls(re.compile(desc.national_number_pattern), frozenset(desc.possible_length))

    def matches(self, national: str) -> bool:
        """Check a national number the way phonenumbers does: its length, then its pattern."""
        if self.lengths and len(national) not in self.lengths:
            return False
        return self.pattern.fullmatch(national) is not None


@lru_cache(maxsize=1)
def _indonesian_mobile_rules() -> tuple[_NumberRule, _NumberRule]:
    """Indonesia's rules for any number and for mobile numbers, from phonenumbers' metadata."""
    metadata = PhoneMetadata.metadata_for_region("ID")
    assert metadata is not None  # phonenumbers ships Indonesia's metadata
    return _NumberRule.of(metadata.general_desc), _NumberRule.of(metadata.mobile)


def _digits(raw: str) -> str:
    """Strip separators and read 00… and 62… as international; refuse what has letters."""
    text = _SEPARATORS.sub("", raw.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text or not _DIGITS.fullmatch(text):
        raise InvalidPhone(f"{raw!r} is not a phone number")
    if not text.startswith("+") and text.startswith("62"):
        text = "+" + text  # 628… is the international form written without its plus
    return text


def _indonesian_mobile(text: str) -> str | None:
    """Return the E.164 of an Indonesian mobile number phonenumbers would accept, else None.

    Only numbers phonenumbers itself calls valid mobiles (its own patterns, its own order of
    checks) are answered here; everything else, errors included, is left to phonenumbers.
    """
    match = _INDONESIAN.fullmatch(text)
    if match is None:
        return None
    national = match[1]
    general, mobile = _indonesian_mobile_rules()
    if general.matches(national) and mobile.matches(national):
        return "+62" + national
    return None


def parse_phone(raw: str, region: str = "ID") -> str:
    """Return `raw` in E.164 as phonenumbers alone reads it (what the fast path must equal)."""
    text = _digits(raw)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"{raw!r} is not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"{raw!r} is not a valid phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


@lru_cache(maxsize=65_536)  # imports repeat the same customers' numbers many times
def normalize_phone(raw: str, region: str = "ID") -> str:
    """Return `raw` in E.164 (`+628…`), reading 08…, 628…, 8… and +62 8… as Indonesian."""
    if region == "ID":
        # Most numbers a shop sees are Indonesian mobiles; phonenumbers takes ten times as long.
        fast = _indonesian_mobile(_digits(raw))
        if fast is not None:
            return fast
    return parse_phone(raw, region)


def international_phone(raw: str) -> str:
    """Return `raw` in E.164, reading it as international: country code first, plus or not."""
    text = _SEPARATORS.sub("", raw.strip())
    if text.startswith("00"):
        text = text[2:]
    if not text.startswith("+"):
        text = "+" + text  # Telegram sends contacts' numbers without their plus
    return normalize_phone(text)


# Digits as people write a number in a message: a plus, then digits with spaces, dashes, dots
# or brackets between them.
_WRITTEN = re.compile(r"\+?\d(?:[\s().-]{0,3}\d)+")
_MOST_PARTS = 6  # a number is written in at most this many groups (+62 812 3456 7890: 4)


def phones_in(text: str) -> set[str]:
    """The phone numbers written in `text`, in E.164, read as staff type them (`normalize_phone`).

    A run of digits may hold more than one thing ("INV-1001 0812 3456 7890"): from each of its
    space-separated parts in turn, the longest stretch that is a number is taken, so a number
    beside other digits is found, and no shorter number is read inside one already found.
    """
    found: set[str] = set()
    for match in _WRITTEN.finditer(text):
        parts = match[0].split()
        start = 0
        while start < len(parts):
            for end in range(min(len(parts), start + _MOST_PARTS), start, -1):
                try:
                    found.add(normalize_phone(" ".join(parts[start:end])))
                except InvalidPhone:
                    continue
                start = end
                break
            else:
                start += 1
    return found


def mask_phone(phone: str) -> str:
    """Hide the middle of a phone number so logs never hold a full one.

    The last three digits stay (to tell numbers apart), at least four characters are hidden,
    and at most the first five (`+6281`, country and network) are shown.
    """
    if len(phone) <= 7:
        return "*" * len(phone)
    shown = min(5, len(phone) - 3 - 4)
    return phone[:shown] + "*" * (len(phone) - shown - 3) + phone[-3:]
