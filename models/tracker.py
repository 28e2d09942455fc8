"""The courier tracker as the domain sees it: ask about a resi, hear back a Shipment.

The tracker itself (an aggregator's HTTP API, the demo's replay) lives in bot/; here is the
small interface it meets and what it answers, with no SDK in sight.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol


class Checkpoint(NamedTuple):
    """One scan of the parcel as the courier reports it: when, where, in the courier's words."""

    at: datetime  # aware
    place: str
    text: str

    def to_json(self) -> list[str]:
        """The checkpoint as stored: [ISO time, place, text]."""
        return [self.at.isoformat(), self.place, self.text]

    @classmethod
    def from_json(cls, stored: list[str]) -> Checkpoint:
        """A checkpoint as `to_json` stored it."""
        return cls(datetime.fromisoformat(stored[0]), stored[1], stored[2])


@dataclass(frozen=True)
class Shipment:
    """What a tracker says of one resi: the provider's status, the checkpoints, the receiver.

    A resi the courier does not know (yet: a fresh one often takes hours) is `found=False`,
    an answer like any other, never an error.
    """

    status: str  # the provider's own word for the whole shipment ("DELIVERED", "ON PROCESS")
    checkpoints: tuple[Checkpoint, ...] = ()  # in any order
    receiver: str | None = None  # who the provider says received it (or it is addressed to)
    destination: str = ""  # the destination city, as the provider writes it
    found: bool = True

    @classmethod
    def not_found(cls) -> Shipment:
        """The courier knows nothing of the resi (yet)."""
        return cls("", found=False)


class TrackerError(Exception):
    """The tracker could not answer now; nothing is known of the shipment from this call."""

    def __init__(self, message: str, *, retry_after: timedelta | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # the provider said when to come back


class TrackerUnavailable(TrackerError):
    """The provider is down, slow or busy (5xx, timeouts, 429): try again later."""


class TrackerRefused(TrackerError):
    """The provider refused the credentials (401, 403): a person must fix the configuration."""


class Tracker(Protocol):
    """A courier tracking provider."""

    @property
    def name(self) -> str:
        """The provider's name: its calls are counted against its own daily quota."""
        ...

    @property
    def couriers(self) -> Collection[str]:
        """The couriers it tracks, by the names kabar gives them (`JNE`, `J&T`)."""
        ...

    async def track(self, courier: str, resi: str) -> Shipment:
        """Ask where the parcel with this resi is; raise TrackerError if it cannot say now."""
        ...

    async def aclose(self) -> None:
        """Release what the tracker holds (connections)."""
        ...
