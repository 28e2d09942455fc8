"""Words: per-language message catalogs (a seller may override any message), money and dates."""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date, get_day_names, get_month_names
from babel.numbers import format_currency

from models.enums import Language

LOCALES = {Language.ID: "id_ID", Language.EN: "en_US"}
# Messages kabar no longer says: a seller's override of one is skipped, not refused, so an
# upgrade never stops a shop over words it wrote for an old version.
RETIRED = frozenset({"neworder.bad_line"})


class MessagesError(Exception):
    """A message catalog or override file that cannot be used, in one line."""


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Messages:
    """Every text kabar says, per language; rendered with named `{placeholders}`."""

    def __init__(self, catalogs: Mapping[Language, Mapping[str, str]]) -> None:
        self._catalogs = {lang: dict(texts) for lang, texts in catalogs.items()}

    @classmethod
    def load(cls, override: Path | None = None) -> Messages:
        """Read the built-in catalogs, then a seller's override file (TOML, `[id]`/`[en]`)."""
        catalogs: dict[Language, dict[str, str]] = {}
        for lang in Language:
            text = (
                resources.files("handlers.locales")
                .joinpath(f"{lang.value}.toml")
                .read_text(encoding="utf-8")
            )
            catalogs[lang] = _flatten(tomllib.loads(text))
        messages = cls(catalogs)
        if override is not None:
            messages.apply_override(override)
        return messages

    def apply_override(self, path: Path) -> None:
        """Replace messages with a seller's wording; unknown keys or placeholders are refused."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise MessagesError(f"{path}: cannot read ({exc.strerror})") from exc
        except tomllib.TOMLDecodeError as exc:
            raise MessagesError(f"{path}: invalid TOML: {exc}") from exc
        for lang_name, section in data.items():
            try:
                lang = Language(lang_name)
            except ValueError:
                raise MessagesError(f"{path}: [{lang_name}]: expected [id] or [en]") from None
            if not isinstance(section, dict):
                raise MessagesError(f"{path}: [{lang_name}]: expected a table of messages")
            for key, text in _flatten(section).items():
                if key in RETIRED:
                    continue
                base = self._catalogs[lang].get(key)
                if base is None:
                    raise MessagesError(f"{path}: {lang_name}.{key}: no such message")
                unknown = _fields(text) - _fields(base)
                if unknown:
                    raise MessagesError(
                        f"{path}: {lang_name}.{key}: unknown placeholder {{{sorted(unknown)[0]}}}"
                        f" (allowed: {', '.join(sorted(_fields(base))) or 'none'})"
                    )
                self._catalogs[lang][key] = text

    def keys(self, lang: Language) -> set[str]:
        """Every message key of one language."""
        return set(self._catalogs[lang])

    def template(self, lang: Language, key: str) -> str:
        """One message as written, placeholders and all (falling back to Indonesian)."""
        return self._catalogs[lang].get(key) or self._catalogs[Language.ID][key]

    def text(self, lang: Language, key: str, **values: object) -> str:
        """Render one message in a language."""
        return self.template(lang, key).format(**values)


def _flatten(data: Mapping[str, object], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        elif isinstance(value, str):
            out[name] = value
        else:
            raise MessagesError(f"{name}: expected text in quotes")
    return out


@lru_cache(maxsize=4096)
def money(amount: Decimal, currency: str, lang: Language) -> str:
    """Format money the local way: `Rp350.000` in Indonesian.

    Kept for the amounts met most (prices repeat): Babel takes longer to apply its pattern
    than the rest of a stock answer.
    """
    whole = amount == amount.to_integral_value()
    return str(
        format_currency(
            amount,
            currency,
            locale=LOCALES[lang],
            format="¤#,##0" if whole else None,
            currency_digits=not whole,
        )
    )


WHEN_SHORT = "EEE d MMM HH:mm"
WHEN_LONG = "EEEE, d MMMM y HH:mm"


def when(moment: datetime, tz: ZoneInfo, lang: Language, *, long: bool = False) -> str:
    """Format a moment in the shop's time zone: `Sen 2 Mar 09:00` (or a long form).

    The same text as Babel's `format_datetime` with WHEN_SHORT or WHEN_LONG (a property test
    holds them equal), from Babel's own names: a timeline shows half a dozen moments and
    Babel takes longer to apply a pattern than the rest of the answer.
    """
    local = moment.astimezone(tz)
    days, months = _names(lang, "wide" if long else "abbreviated")
    weekday, month = days[local.weekday()], months[local.month]
    if long:
        return f"{weekday}, {local.day} {month} {local.year} {local.hour:02}:{local.minute:02}"
    return f"{weekday} {local.day} {month} {local.hour:02}:{local.minute:02}"


@cache
def _names(
    lang: Language, width: Literal["abbreviated", "wide"]
) -> tuple[dict[int, str], dict[int, str]]:
    """A language's day names (Monday = 0) and month names (January = 1), in this width."""
    return (
        dict(get_day_names(width, locale=lang.value)),
        dict(get_month_names(width, locale=lang.value)),
    )


def day(moment: datetime, tz: ZoneInfo, lang: Language) -> str:
    """Format the day of a moment in the shop's time zone: `Senin, 2 Maret 2026`."""
    return _day(moment.astimezone(tz).date(), lang)


@cache
def _day(which: date, lang: Language) -> str:
    # Every push of a made-to-order order names a day; few distinct days are ever named.
    return str(format_date(which, "EEEE, d MMMM y", locale=lang.value))
