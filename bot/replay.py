"""The demo's courier: one JNE journey replayed in-process by the demo's clock, no network.

The courier first hears of a resi when it is first asked about it (a fresh resi is unknown,
as real ones are for a while); from then on the journey's checkpoints appear as their time
comes, in the words JNE writes them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from models.tracker import Checkpoint, Shipment

JOURNEY = (
    (timedelta(hours=1), "JAKARTA", "SHIPMENT RECEIVED BY JNE COUNTER OFFICE AT [JAKARTA]"),
    (timedelta(hours=5), "JAKARTA", "DEPARTED FROM TRANSIT [GATEWAY , JAKARTA]"),
    (timedelta(hours=20), "BANDUNG", "RECEIVED AT INBOUND STATION [BANDUNG , HUB CIBIRU]"),
    (timedelta(hours=24), "BANDUNG", "WITH DELIVERY COURIER [BANDUNG]"),
    (timedelta(hours=27), "BANDUNG", "DELIVERED TO [{receiver} | BANDUNG]"),
)


class Replay:
    """A tracker that replays JOURNEY for every JNE resi it is asked about."""

    name = "replay"
    couriers = ("JNE",)

    def __init__(self, clock: Callable[[], datetime], receiver: str = "BUDI") -> None:
        self._clock = clock
        self._receiver = receiver
        self._first: dict[str, datetime] = {}  # resi -> when the courier first heard of it

    async def track(self, courier: str, resi: str) -> Shipment:
        """The checkpoints of the journey whose time has come."""
        now = self._clock()
        start = self._first.setdefault(resi, now)
        shown = [
            Checkpoint(start + after, place, text.format(receiver=self._receiver))
            for after, place, text in JOURNEY
            if start + after <= now
        ]
        if not shown:
            return Shipment.not_found()
        status = "DELIVERED" if len(shown) == len(JOURNEY) else "ON PROCESS"
        return Shipment(status, tuple(reversed(shown)), destination="BANDUNG")

    async def aclose(self) -> None:
        """Nothing to release."""
