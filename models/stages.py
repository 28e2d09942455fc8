"""Production stages: parsing `potong:1d;jahit:2d;qc:4h` and estimating the ready time."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from models.errors import InvalidStageSpec

_UNITS = {"m": 1, "h": 60, "d": 24 * 60}
MAX_STAGE_MINUTES = 365 * 24 * 60
MAX_STAGES = 50
_STAGE = re.compile(r"^(?P<name>[^\s:;]+)\s*:\s*(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>[mhd])$", re.I)


@dataclass(frozen=True)
class Stage:
    """One production stage and how long it is expected to take."""

    name: str
    minutes: int

    @property
    def duration(self) -> timedelta:
        """The expected duration."""
        return timedelta(minutes=self.minutes)


def parse_stages(spec: str) -> tuple[Stage, ...]:
    """Parse a stage list like `potong:1d; jahit:2d; qc:4h` (units m, h, d)."""
    stages: list[Stage] = []
    for part in spec.split(";"):
        part = part.strip()
        if not part:
            continue
        match = _STAGE.match(part)
        if match is None:
            raise InvalidStageSpec(
                f"stage {part!r} is not NAME:DURATION (like jahit:2d, qc:4h, m/h/d)"
            )
        minutes = math.ceil(float(match["amount"]) * _UNITS[match["unit"].lower()])
        if minutes <= 0:
            raise InvalidStageSpec(f"stage {part!r} must last longer than zero")
        if minutes > MAX_STAGE_MINUTES:  # estimates add them to dates: keep them on the calendar
            raise InvalidStageSpec(f"stage {part!r} may last at most 365d")
        name = match["name"].lower()
        if any(s.name == name for s in stages):
            raise InvalidStageSpec(f"stage {name!r} appears twice")
        stages.append(Stage(name, minutes))
        if len(stages) > MAX_STAGES:
            raise InvalidStageSpec(f"at most {MAX_STAGES} stages")
    return tuple(stages)


def format_stages(stages: Sequence[Stage]) -> str:
    """Write stages back in the `name:duration` form."""

    def amount(minutes: int) -> str:
        for unit, size in (("d", 24 * 60), ("h", 60)):
            if minutes % size == 0:
                return f"{minutes // size}{unit}"
        return f"{minutes}m"

    return ";".join(f"{s.name}:{amount(s.minutes)}" for s in stages)


def stages_to_json(stages: Sequence[Stage]) -> list[dict[str, Any]]:
    """Turn stages into the JSON stored on products and orders."""
    return [{"name": s.name, "minutes": s.minutes} for s in stages]


def stages_from_json(data: Sequence[dict[str, Any]] | None) -> tuple[Stage, ...]:
    """Read stages back from their stored JSON."""
    return tuple(Stage(str(d["name"]), int(d["minutes"])) for d in data or ())


def estimate_ready_at(
    plan: Sequence[Stage],
    *,
    stage_index: int | None,
    stage_started_at: datetime | None,
    now: datetime,
) -> datetime:
    """Estimate when production ends, from the stages still to do.

    Before production (`stage_index` None) the whole plan starts now. In stage k the current
    stage ends at its expected end, or now if it is already overdue, and the rest follow it.
    """
    if stage_index is None:
        return now + sum((s.duration for s in plan), timedelta())
    if stage_started_at is None:
        raise ValueError("a stage in progress needs the time it started")
    current_end = max(stage_started_at + plan[stage_index].duration, now)
    rest = sum((s.duration for s in plan[stage_index + 1 :]), timedelta())
    return current_end + rest
