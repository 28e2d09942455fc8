"""A fake BinderByte tracking API over real HTTP, answering in the shapes BinderByte answers.

`GET /v1/track?api_key&courier&awb` serves a journey added with `add`: the scans whose time
has come by the fake's clock, newest first, under BinderByte's `{status, message, data:
{summary, detail, history}}`. A resi it does not know, or one with no scan yet (a fresh
one), is BinderByte's 400 "Data not found"; a wrong key is a 401. `fail_next`, `down` and
`stall` make it fail as a real provider does: 429 with Retry-After, 5xx, no answer at all.

The journeys below are written as JNE, J&T and SiCepat write their checkpoints.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self
from zoneinfo import ZoneInfo

from aiohttp import web

WIB = ZoneInfo("Asia/Jakarta")  # couriers write local time, without a zone
KEY = "test-binderbyte-key-9f3a"
NAMES = {"jne": "JNE Express", "jnt": "J&T Express", "sicepat": "SiCepat Express"}


@dataclass(frozen=True)
class Scan:
    """One checkpoint of a journey, so long after the parcel left."""

    after: timedelta
    desc: str
    location: str = ""


@dataclass
class Journey:
    """A parcel's way as the courier reports it, scan by scan."""

    courier: str  # BinderByte's code
    awb: str
    start: datetime
    scans: list[Scan]
    final_status: str = "DELIVERED"  # the summary's status once the last scan is shown
    origin: str = "JAKARTA"
    destination: str = "BANDUNG"
    receiver: str = "SARI"  # the addressee, as the waybill has it
    shipper: str = "TOKO BATIK KABAR"

    def at(self, scan: Scan) -> datetime:
        """When a scan happened."""
        return self.start + scan.after


def _h(hours: float) -> timedelta:
    return timedelta(hours=hours)


def jne(awb: str, start: datetime, receiver: str = "BUDI") -> Journey:
    """A JNE REG parcel Jakarta → Bandung, delivered after a day."""
    return Journey(
        "jne",
        awb,
        start,
        [
            Scan(_h(1), "SHIPMENT RECEIVED BY JNE COUNTER OFFICE AT [JAKARTA]", "JAKARTA"),
            Scan(_h(4), "PROCESSED AT SORTING CENTER [JAKARTA]", "JAKARTA"),
            Scan(_h(6), "DEPARTED FROM TRANSIT [GATEWAY , JAKARTA]", "JAKARTA"),
            Scan(_h(20), "RECEIVED AT INBOUND STATION [BANDUNG , HUB CIBIRU]", "BANDUNG"),
            Scan(_h(23), "WITH DELIVERY COURIER [BANDUNG]", "BANDUNG"),
            Scan(_h(26), f"DELIVERED TO [{receiver} | 03-03-2026 11:02 | BANDUNG]", "BANDUNG"),
        ],
    )


def jnt(awb: str, start: datetime, receiver: str = "RINA") -> Journey:
    """A J&T EZ parcel Jakarta → Bandung, in J&T's Indonesian words (location left empty)."""
    return Journey(
        "jnt",
        awb,
        start,
        [
            Scan(_h(1), "Paket telah di pick up oleh [SPRINTER PICKUP - ANDI]"),
            Scan(_h(3), "Paket akan dikirimkan ke [JKT_GATEWAY]"),
            Scan(_h(9), "Paket telah sampai di [BDG_GATEWAY]"),
            Scan(_h(20), "Paket telah sampai di kota tujuan [BANDUNG]"),
            Scan(_h(23), "Paket akan dikirimkan ke alamat penerima"),
            Scan(_h(25), f"Paket telah diterima oleh [{receiver}], Hubungan: [Ybs]"),
        ],
        receiver="RINA",
    )


def sicepat(awb: str, start: datetime, receiver: str = "BUDI") -> Journey:
    """A SiCepat REG parcel that fails a first delivery and makes it the next day."""
    return Journey(
        "sicepat",
        awb,
        start,
        [
            Scan(_h(0.5), "Terima permintaan pick up dari [Toko Batik Kabar]"),
            Scan(_h(2), "Paket telah di pick up oleh [SIGESIT - ANDI]"),
            Scan(_h(5), "Paket keluar dari [SiCepat Jakarta Pusat]"),
            Scan(_h(19), "Paket telah diterima di [SiCepat Bandung Cibiru]"),
            Scan(_h(22), "Paket dibawa [SIGESIT - ASEP]"),
            Scan(_h(25), "ANTAR ULANG: PENERIMA TIDAK DI TEMPAT"),
            Scan(_h(46), "Paket dibawa [SIGESIT - ASEP]"),
            Scan(_h(48), f"PAKET DITERIMA OLEH [{receiver} - (YBS) YANG BERSANGKUTAN]"),
        ],
    )


def jne_returned(awb: str, start: datetime) -> Journey:
    """A JNE parcel nobody takes: a failed attempt, then back to the shipper."""
    return Journey(
        "jne",
        awb,
        start,
        [
            Scan(_h(1), "SHIPMENT RECEIVED BY JNE COUNTER OFFICE AT [JAKARTA]", "JAKARTA"),
            Scan(_h(20), "RECEIVED AT INBOUND STATION [BANDUNG , HUB CIBIRU]", "BANDUNG"),
            Scan(_h(23), "WITH DELIVERY COURIER [BANDUNG]", "BANDUNG"),
            Scan(_h(25), "CONSIGNEE NOT AT HOME [BANDUNG]", "BANDUNG"),
            Scan(_h(50), "RETURN TO SHIPPER [BANDUNG]", "BANDUNG"),
            Scan(_h(80), "RETURNED TO SHIPPER [JAKARTA]", "JAKARTA"),
        ],
        final_status="RETURNED",
    )


def _local(moment: datetime) -> str:
    return moment.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class FakeBinderByte:
    """A local BinderByte: serves journeys by its clock, counts calls, fails on cue."""

    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    key: str = KEY
    journeys: dict[str, Journey] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (courier, awb) answered
    requests: int = 0
    down: int | None = None  # answer every request with this HTTP status while set
    _failures: deque[int | str] = field(default_factory=deque)
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    _port: int | None = None

    async def start(self) -> None:
        """Serve the API on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_get("/v1/track", self._track)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving; requests left hanging by `stall` end."""
        self._release.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """The `[tracking] api_base_url` that reaches this fake."""
        if self._port is None:
            raise RuntimeError("start() the FakeBinderByte first")
        return f"http://127.0.0.1:{self._port}"

    # -- test controls --------------------------------------------------------------------------

    def add(self, journey: Journey) -> Journey:
        """Serve this journey under its resi."""
        self.journeys[journey.awb] = journey
        return journey

    def fail_next(self, status: int, times: int = 1) -> None:
        """Answer the next requests with this HTTP status (429 says Retry-After: 120)."""
        self._failures.extend([status] * times)

    def stall(self, times: int = 1) -> None:
        """Leave the next requests unanswered until the fake stops (the client times out)."""
        self._failures.extend(["stall"] * times)

    def calls_for(self, awb: str) -> int:
        """How many answered requests asked about this resi."""
        return sum(1 for _, asked in self.calls if asked == awb)

    # -- HTTP -----------------------------------------------------------------------------------

    async def _track(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        query = request.query
        failure = self._failures.popleft() if self._failures else self.down
        if failure == "stall":
            await self._release.wait()
            return web.Response(status=504)
        if isinstance(failure, int):
            return self._error(failure)
        if query.get("api_key") != self.key:
            return web.json_response({"status": 401, "message": "Invalid API key"}, status=401)
        courier, awb = query.get("courier", ""), query.get("awb", "")
        if not courier or not awb:
            return web.json_response(
                {"status": 400, "message": "Parameter courier dan awb harus diisi"}, status=400
            )
        self.calls.append((courier, awb))
        journey = self.journeys.get(awb)
        now = self.clock()
        shown = [scan for scan in journey.scans if journey.at(scan) <= now] if journey else []
        if journey is None or journey.courier != courier or not shown:
            return web.json_response({"status": 400, "message": "Data not found"}, status=400)
        return web.json_response(
            {
                "status": 200,
                "message": "Successfully tracked package",
                "data": self._data(journey, shown),
            }
        )

    def _data(self, journey: Journey, shown: list[Scan]) -> dict[str, Any]:
        done = len(shown) == len(journey.scans)
        return {
            "summary": {
                "awb": journey.awb,
                "courier": NAMES.get(journey.courier, journey.courier.upper()),
                "service": "REG",
                "status": journey.final_status if done else "ON PROCESS",
                "date": _local(journey.at(shown[0])),
                "desc": "",
                "amount": "18000",
                "weight": "1",
            },
            "detail": {
                "origin": journey.origin,
                "destination": journey.destination,
                "shipper": journey.shipper,
                "receiver": journey.receiver,
            },
            "history": [
                {"date": _local(journey.at(scan)), "desc": scan.desc, "location": scan.location}
                for scan in reversed(shown)  # newest first, as BinderByte lists them
            ],
        }

    def _error(self, status: int) -> web.Response:
        if status == 429:
            return web.json_response(
                {"status": 429, "message": "Too many requests"},
                status=429,
                headers={"Retry-After": "120"},
            )
        if status == 502:  # a proxy in front answers in HTML
            return web.Response(status=502, text="<html><body>Bad Gateway</body></html>")
        return web.json_response({"status": status, "message": "Server error"}, status=status)
