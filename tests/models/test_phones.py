"""Phone numbers: every Indonesian way of writing one gives the same E.164; logs never hold one."""

from __future__ import annotations

from collections.abc import Callable

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from models.errors import InvalidPhone
from models.phones import (
    international_phone,
    mask_phone,
    normalize_phone,
    parse_phone,
    phones_in,
)

SARI = "+6281234567890"


@pytest.mark.parametrize(
    "raw",
    [
        "081234567890",
        "0812-3456-7890",
        "0812 3456 7890",
        "6281234567890",
        "+6281234567890",
        "+62 812 3456 7890",
        "+62-812-3456-7890",
        "(0812) 3456 7890",
        "81234567890",
        "0062 812 3456 7890",
        "62 812.3456.7890",
        "  0812 3456 7890\n",
    ],
)
def test_indonesian_forms_of_one_mobile_number_all_give_the_same_e164(raw: str) -> None:
    assert normalize_phone(raw) == SARI


def test_jakarta_landline_keeps_its_area_code() -> None:
    assert normalize_phone("021 5551234") == "+62215551234"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+60 12-345 6789", "+60123456789"),  # Malaysia
        ("+65 8123 4567", "+6581234567"),  # Singapore
        ("0060 12 345 6789", "+60123456789"),  # 00 is the international prefix too
    ],
)
def test_foreign_number_written_with_its_country_code_stays_foreign(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "abc",
        "12",
        "0812",
        "+62 0",
        "08123456789012345678",
        "+1 555",
        "0812-34x6-7890",
        "62",
        "+",
        "++6281234567890",
    ],
)
def test_what_cannot_be_a_phone_number_is_refused(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(raw)


@pytest.mark.parametrize(
    "raw",
    [
        SARI,
        "+62215551234",
        "+60123456789",
        "+682 21234",  # Cook Islands: five-digit numbers
        "+683 4002",  # Niue: four-digit numbers, the shortest E.164 there is
    ],
)
def test_masked_phone_hides_the_number_but_keeps_its_last_three_digits(raw: str) -> None:
    phone = normalize_phone(raw)
    masked = mask_phone(phone)
    assert phone not in masked
    assert masked.endswith(phone[-3:])
    assert "*" in masked
    assert len(masked) == len(phone)


@given(digits=st.text(alphabet="0123456789", min_size=7, max_size=15))
def test_no_masked_phone_holds_the_whole_number(digits: str) -> None:
    phone = "+" + digits
    masked = mask_phone(phone)
    assert phone not in masked
    assert digits not in masked
    assert masked.endswith(phone[-3:])


def test_masked_phone_has_a_stable_shape() -> None:
    assert mask_phone(SARI) == "+6281******890"


@pytest.mark.parametrize("short", ["", "1", "+62812"])
def test_masking_a_short_string_hides_all_of_it(short: str) -> None:
    assert mask_phone(short) == "*" * len(short)


def _normalized(raw: str) -> str | None:
    try:
        return normalize_phone(raw)
    except InvalidPhone:
        return None


@given(rest=st.text(alphabet="0123456789", min_size=8, max_size=10))
def test_local_international_and_plus_forms_always_agree(rest: str) -> None:
    national = "8" + rest
    local = _normalized("0" + national)
    bare = _normalized("62" + national)
    plus = _normalized("+62 " + national)
    assert local == bare == plus
    if local is not None:
        assert local == "+62" + national


def _outcome(normalise: Callable[[str], str], raw: str) -> str:
    """The E.164 a normaliser gives, or the message it refuses `raw` with."""
    try:
        return normalise(raw)
    except InvalidPhone as exc:
        return f"refused: {exc}"


def _uncached(raw: str) -> str:
    """Normalise without the cache, so every call takes the path under test."""
    return normalize_phone.__wrapped__(raw)


_PREFIXES = ["", "0", "62", "+62", "0062", "+62 ", "(0", "+620", "620", "00", "+", "08", "0 8"]
_SPACED = st.lists(
    st.tuples(
        st.sampled_from(["", "", "", " ", "-", ".", "(", ")"]), st.sampled_from("0123456789")
    ),
    min_size=0,
    max_size=16,
).map(lambda parts: "".join(sep + digit for sep, digit in parts))


@settings(max_examples=1_000)
@given(prefix=st.sampled_from(_PREFIXES), rest=_SPACED)
def test_fast_path_gives_what_phonenumbers_gives_for_written_forms(prefix: str, rest: str) -> None:
    raw = prefix + rest
    assert _outcome(_uncached, raw) == _outcome(parse_phone, raw)


_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.slow
@settings(max_examples=1_000)
@given(
    national=st.from_regex(r"8[0-9]{5,14}", fullmatch=True),
    prefix=st.sampled_from(_PREFIXES),
    foreign_from=st.integers(min_value=0, max_value=20),
)
def test_fast_path_gives_what_phonenumbers_gives_for_mobile_shaped_numbers(
    national: str, prefix: str, foreign_from: int
) -> None:
    # phonenumbers reads other scripts' digits too; from `foreign_from` on, use Arabic-Indic ones.
    national = national[:foreign_from] + national[foreign_from:].translate(_ARABIC_INDIC)
    raw = prefix + national
    assert _outcome(_uncached, raw) == _outcome(parse_phone, raw)


@given(raw=st.text(alphabet="0123456789+-() .x٠٢٨", max_size=20))
def test_fast_path_gives_what_phonenumbers_gives_for_any_text(raw: str) -> None:
    assert _outcome(_uncached, raw) == _outcome(parse_phone, raw)


@pytest.mark.parametrize(
    "raw", ["081234567890", "0812-3456-7890", "6281234567890", "+62 812 3456 7890", "81234567890"]
)
def test_indonesian_mobile_forms_are_read_without_phonenumbers_parser(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object) -> None:
        raise AssertionError("the fast path should have answered")

    monkeypatch.setattr(phonenumbers, "parse", refuse)
    assert _uncached(raw) == SARI


def test_numbers_the_fast_path_leaves_still_reach_phonenumbers() -> None:
    assert _uncached("021 5551234") == "+62215551234"  # landline
    assert _uncached("+60 12-345 6789") == "+60123456789"  # Malaysia
    # Other scripts' digits, which phonenumbers reads as well.
    assert _uncached("٠٨١٢٣٤٥٦٧٨٩٠") == SARI
    assert _uncached("0812٣٤٥٦٧٨٩٠") == SARI


# ------------------------------------------------------------------ numbers platforms report


def test_a_hong_kong_number_without_its_plus_stays_in_hong_kong() -> None:
    # Telegram sends a shared contact's number without "+"; read as Indonesian it was
    # +6285251234567, an Indonesian customer's number.
    assert international_phone("85251234567") == "+85251234567"
    assert normalize_phone("85251234567") == "+6285251234567"  # staff typing 8… mean Indonesia


@pytest.mark.parametrize(
    "raw", ["6281234567890", "+6281234567890", "+62 812-3456-7890", "006281234567890"]
)
def test_an_indonesian_number_reported_with_its_country_code_is_read_as_before(raw: str) -> None:
    assert international_phone(raw) == SARI


@pytest.mark.parametrize(
    "raw", ["081234567890", "0812 3456 7890", "", "+", "abc", "++6281234567890"]
)
def test_a_reported_number_in_a_local_form_or_no_number_is_refused(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        international_phone(raw)


@st.composite
def _valid_numbers(draw: st.DrawFn) -> phonenumbers.PhoneNumber:
    """A valid number of any region phonenumbers knows: an example with its tail redrawn."""
    region = draw(st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)))
    kind = draw(
        st.sampled_from(
            [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]
        )
    )
    example = phonenumbers.example_number_for_type(region, kind)
    assume(example is not None)
    assert example is not None
    national = str(example.national_number)
    keep = draw(st.integers(min_value=max(1, len(national) - 4), max_value=len(national)))
    tail = draw(
        st.text(alphabet="0123456789", min_size=len(national) - keep, max_size=len(national) - keep)
    )
    number = phonenumbers.PhoneNumber(
        country_code=example.country_code, national_number=int(national[:keep] + tail)
    )
    assume(phonenumbers.is_valid_number(number))
    return number


@settings(max_examples=500)
@given(number=_valid_numbers())
def test_every_countrys_number_without_its_plus_reads_as_itself(
    number: phonenumbers.PhoneNumber,
) -> None:
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    assert international_phone(e164.removeprefix("+")) == e164
    assert international_phone(e164) == e164


@given(digits=st.text(alphabet="0123456789", min_size=1, max_size=17))
def test_a_reported_number_is_indonesian_only_when_it_says_62(digits: str) -> None:
    try:
        read = international_phone(digits)
    except InvalidPhone:
        return
    assert read.startswith("+62") == digits.removeprefix("00").startswith("62")


@pytest.mark.parametrize(
    "text",
    [
        "/pesananbaru Sari; 0812-3456-7890; KAOS-HTM-L 1; Jl. Melati 5",
        "tolong kirim ke +62 812 3456 7890 ya",
        "INV-1001 0812 3456 7890",  # beside other digits
        "hp: (0812) 3456.7890!",
        "nomor 6281234567890, atas nama Sari",
    ],
)
def test_a_number_written_in_a_message_is_found_in_any_form(text: str) -> None:
    assert phones_in(text) == {SARI}


def test_every_number_in_a_message_is_found_and_no_shorter_one_inside_it() -> None:
    assert phones_in("0812 3456 7890 atau 0813 2345 6789") == {SARI, "+6281323456789"}
    assert phones_in("0812 3456 7890 0813 2345 6789") == {SARI, "+6281323456789"}
    # A foreign number's tail is never read as an Indonesian one of its own.
    assert phones_in("+852 5123 4567") == {"+85251234567"}


@pytest.mark.parametrize(
    "text", ["Rp85.000 x 2", "INV-1001, INV-1002", "qty 2 3 4", "1234567", "", "0" * 400]
)
def test_digits_that_are_no_phone_number_find_none(text: str) -> None:
    assert phones_in(text) == set()


@given(rest=st.text(alphabet="0123456789", min_size=8, max_size=10), sep=st.sampled_from(" -."))
def test_any_number_normalize_phone_reads_is_found_in_a_sentence(rest: str, sep: str) -> None:
    number = _normalized("08" + rest)
    assume(number is not None)
    written = "08" + rest[:2] + sep + rest[2:6] + sep + rest[6:]
    assert number in phones_in(f"kirim ke {written}, terima kasih")
