"""Production stages: reading a seller's stage list and estimating when an order is ready."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.errors import InvalidStageSpec
from models.stages import (
    Stage,
    estimate_ready_at,
    format_stages,
    parse_stages,
    stages_from_json,
    stages_to_json,
)

KAOS = "potong:1d;jahit:2d;sablon:1d;qc:4h"
KAOS_PLAN = (
    Stage("potong", 24 * 60),
    Stage("jahit", 2 * 24 * 60),
    Stage("sablon", 24 * 60),
    Stage("qc", 4 * 60),
)
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def test_shirt_stages_are_read_in_order_with_their_minutes() -> None:
    assert parse_stages(KAOS) == KAOS_PLAN


def test_stage_names_are_lowercased() -> None:
    assert parse_stages("Potong:1d;JAHIT:2d") == (Stage("potong", 1440), Stage("jahit", 2880))


@pytest.mark.parametrize(
    ("spec", "minutes"),
    [
        ("qc:45m", 45),
        ("qc:4h", 240),
        ("qc:1d", 1440),
        ("qc:1.5h", 90),
        ("qc:0.5d", 720),
        ("qc:2.25h", 135),
        ("qc:4H", 240),
        ("qc:1D", 1440),
    ],
)
def test_durations_in_minutes_hours_days_and_decimals(spec: str, minutes: int) -> None:
    assert parse_stages(spec) == (Stage("qc", minutes),)


def test_spaces_around_names_durations_and_separators_are_tolerated() -> None:
    assert parse_stages("  potong : 1d ;  jahit:2 d;sablon :1d ; qc: 4h  ") == KAOS_PLAN


def test_empty_parts_are_skipped() -> None:
    assert parse_stages("a:1d;;b:2h") == (Stage("a", 1440), Stage("b", 120))
    assert parse_stages("a:1d;b:2h;") == (Stage("a", 1440), Stage("b", 120))
    assert parse_stages("") == ()
    assert parse_stages(" ; ; ") == ()


@pytest.mark.parametrize(
    "spec",
    [
        "jahit",
        "jahit:",
        ":2d",
        "jahit:2",
        "jahit:2w",
        "jahit:d",
        "jahit:-1d",
        "jahit:0d",
        "jahit:0m",
        "jahit:0.0h",
        "jahit 2d",
        "jahit kaos:2d",
        "potong:1d;jahit",
        "jahit:2d;jahit:1d",
        "jahit:2d;JAHIT:1d",
        "potong:1d;jahit:2d;potong:4h",
    ],
)
def test_unreadable_stage_lists_are_refused(spec: str) -> None:
    with pytest.raises(InvalidStageSpec):
        parse_stages(spec)


@pytest.mark.parametrize(
    ("spec", "written"),
    [
        (KAOS, KAOS),
        ("Potong : 1.5h; qc:45m", "potong:90m;qc:45m"),
        ("a:1.5d", "a:36h"),
        ("a:60m;b:1440m", "a:1h;b:1d"),
    ],
)
def test_format_writes_the_shortest_whole_unit(spec: str, written: str) -> None:
    assert format_stages(parse_stages(spec)) == written


_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-0123456789", min_size=1, max_size=12)
_plans = st.lists(
    st.tuples(_names, st.integers(min_value=1, max_value=60 * 24 * 90)),
    max_size=8,
    unique_by=lambda t: t[0],
).map(lambda pairs: tuple(Stage(n, m) for n, m in pairs))


@given(plan=_plans)
def test_format_then_parse_gives_the_same_stages(plan: tuple[Stage, ...]) -> None:
    assert parse_stages(format_stages(plan)) == plan
    assert stages_from_json(stages_to_json(plan)) == plan


def test_before_production_the_whole_plan_starts_now() -> None:
    ready = estimate_ready_at(KAOS_PLAN, stage_index=None, stage_started_at=None, now=NOW)
    assert ready == NOW + timedelta(days=4, hours=4)


def test_an_empty_plan_is_ready_now() -> None:
    assert estimate_ready_at((), stage_index=None, stage_started_at=None, now=NOW) == NOW


def test_in_a_stage_the_estimate_is_its_expected_end_plus_the_stages_after_it() -> None:
    # Jahit (2d) started 12 hours ago; sablon (1d) and qc (4h) follow.
    started = NOW - timedelta(hours=12)
    ready = estimate_ready_at(KAOS_PLAN, stage_index=1, stage_started_at=started, now=NOW)
    assert ready == started + timedelta(days=2) + timedelta(days=1, hours=4)
    assert ready == NOW + timedelta(days=2, hours=16)


def test_the_first_stage_just_started_gives_the_same_estimate_as_before_production() -> None:
    before = estimate_ready_at(KAOS_PLAN, stage_index=None, stage_started_at=None, now=NOW)
    first = estimate_ready_at(KAOS_PLAN, stage_index=0, stage_started_at=NOW, now=NOW)
    assert first == before


def test_in_the_last_stage_only_its_remaining_time_is_left() -> None:
    started = NOW - timedelta(hours=1)
    ready = estimate_ready_at(KAOS_PLAN, stage_index=3, stage_started_at=started, now=NOW)
    assert ready == NOW + timedelta(hours=3)


def test_an_overdue_stage_pushes_the_estimate_to_now_plus_the_rest() -> None:
    # Jahit should have taken 2 days but started 3 days ago: it may end any moment,
    # so the order is ready no sooner than now + sablon + qc.
    started = NOW - timedelta(days=3)
    ready = estimate_ready_at(KAOS_PLAN, stage_index=1, stage_started_at=started, now=NOW)
    assert ready == NOW + timedelta(days=1, hours=4)
    later = NOW + timedelta(hours=5)
    pushed = estimate_ready_at(KAOS_PLAN, stage_index=1, stage_started_at=started, now=later)
    assert pushed == later + timedelta(days=1, hours=4)


def test_the_estimate_never_lies_in_the_past() -> None:
    started = NOW - timedelta(days=30)
    ready = estimate_ready_at(KAOS_PLAN, stage_index=3, stage_started_at=started, now=NOW)
    assert ready == NOW
