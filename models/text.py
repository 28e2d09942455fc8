"""Text from outside (chats, CSV files): the characters no database or platform takes."""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, and lone UTF-16 surrogates: PostgreSQL refuses NUL,
# no UTF-8 encoder takes a lone surrogate (JSON's "\ud800" gives one), and the rest only hide
# text from the person reading it.
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_UNSAFE = re.compile(f"[{_CONTROLS}\r\ud800-\udfff]")
_STRICT = re.compile(f"[{_CONTROLS}\t\n\r\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def _substitute(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\r":
        return "\n"
    return REPLACEMENT if "\ud800" <= char <= "\udfff" else ""


def clean_text(text: str) -> str:
    """Drop control characters (keep newline and tab), turn lone surrogates into U+FFFD."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_substitute, text.replace("\r\n", "\n"))


def unsafe_character(text: str) -> str | None:
    """Name the first control character or lone surrogate in `text`; None if there is none."""
    found = _STRICT.search(text)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        return "a NUL byte"
    if "\ud800" <= char <= "\udfff":
        return f"a lone surrogate U+{ord(char):04X}"
    return f"the control character U+{ord(char):04X}"
