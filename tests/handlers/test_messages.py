"""Message catalogs: complete in both languages, and a seller's overrides checked at startup."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from hypothesis import given
from hypothesis import strategies as st

from bot.app import load_messages
from bot.config import ConfigError, config_from_mapping
from handlers.i18n import WHEN_LONG, WHEN_SHORT, Messages, MessagesError, money, when
from models.enums import Language


def test_both_languages_have_the_same_messages_and_placeholders() -> None:
    messages = Messages.load()
    assert messages.keys(Language.ID) == messages.keys(Language.EN)
    for key in messages.keys(Language.ID):
        id_fields = set(_fields(messages.template(Language.ID, key)))
        en_fields = set(_fields(messages.template(Language.EN, key)))
        assert id_fields == en_fields, key


def _fields(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def test_a_seller_rewords_a_message(tmp_path: Path) -> None:
    override = tmp_path / "words.toml"
    override.write_text('[id]\ngreeting.thanks = "Sama-sama, Kak! 🌸"\n', encoding="utf-8")
    config = config_from_mapping({"shop": {"messages_file": str(override)}})
    messages = load_messages(config)
    assert messages.text(Language.ID, "greeting.thanks") == "Sama-sama, Kak! 🌸"
    assert messages.text(Language.EN, "greeting.thanks").startswith("You're welcome")


def test_an_override_of_a_message_no_longer_said_is_skipped(tmp_path: Path) -> None:
    override = tmp_path / "words.toml"
    override.write_text(
        '[id]\nneworder.bad_line = "x {line}"\ngreeting.thanks = "Sama-sama!"\n', encoding="utf-8"
    )
    messages = load_messages(config_from_mapping({"shop": {"messages_file": str(override)}}))
    assert messages.text(Language.ID, "greeting.thanks") == "Sama-sama!"


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ('[id]\ngreeting.thank = "x"\n', "id.greeting.thank: no such message"),
        ('[id]\nstatus.header = "{brand} {secret}"\n', "unknown placeholder {secret}"),
        ('[fr]\ngreeting.thanks = "merci"\n', "[fr]: expected [id] or [en]"),
        ("[id\n", "invalid TOML"),
        ("[id]\ngreeting.thanks = 3\n", "expected text"),
    ],
)
def test_a_bad_override_fails_at_startup_in_one_line(
    tmp_path: Path, content: str, complaint: str
) -> None:
    override = tmp_path / "words.toml"
    override.write_text(content, encoding="utf-8")
    config = config_from_mapping({"shop": {"messages_file": str(override)}})
    with pytest.raises(ConfigError) as caught:
        load_messages(config)
    assert complaint in str(caught.value)
    assert str(caught.value).startswith("shop.messages_file:")
    assert "\n" not in str(caught.value)


def test_a_missing_override_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(MessagesError, match=r"nope\.toml: cannot read"):
        Messages.load(tmp_path / "nope.toml")


def test_money_reads_the_local_way() -> None:
    assert money(Decimal("350000"), "IDR", Language.ID) == "Rp350.000"
    assert money(Decimal("350000.00"), "IDR", Language.ID) == "Rp350.000"
    assert money(Decimal("12.5"), "USD", Language.EN) == "$12.50"


@given(
    moment=st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "UTC"]),
    lang=st.sampled_from(list(Language)),
    long=st.booleans(),
)
def test_a_moment_reads_as_babel_writes_it(
    moment: datetime, zone: str, lang: Language, long: bool
) -> None:
    tz = ZoneInfo(zone)
    pattern = WHEN_LONG if long else WHEN_SHORT
    expected = format_datetime(moment, pattern, tzinfo=tz, locale=lang.value)
    assert when(moment, tz, lang, long=long) == expected
