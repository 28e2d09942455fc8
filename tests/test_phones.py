"""Phone numbers: every Indonesian way of writing one gives the same E.164; logs never hold one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.errors import InvalidPhone
from models.phones import mask_phone, normalize_phone

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
