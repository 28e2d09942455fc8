"""BinderByte, the first courier tracking provider: `GET /v1/track?api_key&courier&awb`.

One call, one resi. Its answer is `{status, message, data: {summary{awb, courier, service,
status, date, …}, detail{origin, destination, shipper, receiver}, history[{date, desc,
location}]}}` with the history newest first; a resi it does not know (often, for a fresh one)
is a 400 with a message, which is "not yet", not an error. The API key travels in the query
string, so no URL of a request is ever logged or kept in an error.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from models.tracker import Checkpoint, Shipment, TrackerRefused, TrackerUnavailable

log = logging.getLogger(__name__)

TRACK_PATH = "/v1/track"
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M")
CONNECT_RETRIES = 2  # a connection that never opened cost no call: try it again at once


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _moment(raw: str, tz: ZoneInfo) -> datetime | None:
    """A provider's local date and time ("2026-03-02 14:02:00"), as an aware moment."""
    for pattern in DATE_FORMATS:
        try:
            moment = datetime.strptime(raw, pattern)
        except ValueError:
            continue
        return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def _retry_after(response: httpx.Response) -> timedelta | None:
    raw = response.headers.get("Retry-After", "")
    return timedelta(seconds=int(raw)) if raw.isdigit() else None


class BinderByte:
    """The BinderByte tracking API over HTTP (httpx), behind the domain's Tracker interface."""

    name = "binderbyte"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str,
        couriers: Mapping[str, str],
        timezone: ZoneInfo,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._key = api_key
        self._codes = {name.casefold(): code for name, code in couriers.items() if code}
        self._names = tuple(name for name, code in couriers.items() if code)
        self._tz = timezone
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport or httpx.AsyncHTTPTransport(retries=CONNECT_RETRIES),
            headers={"Accept": "application/json", "User-Agent": "kabar"},
        )

    @property
    def couriers(self) -> tuple[str, ...]:
        """The couriers with a BinderByte code, by kabar's names."""
        return self._names

    def code_for(self, courier: str) -> str | None:
        """BinderByte's code for one of kabar's couriers (`J&T` → `jnt`), if it tracks it."""
        return self._codes.get(courier.strip().casefold())

    async def track(self, courier: str, resi: str) -> Shipment:
        """Ask BinderByte where the parcel with this resi is."""
        code = self.code_for(courier)
        if code is None:
            return Shipment.not_found()
        params = {"api_key": self._key, "courier": code, "awb": resi}
        try:
            response = await self._client.get(TRACK_PATH, params=params)
        except httpx.TimeoutException as exc:
            raise TrackerUnavailable(f"timed out ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise TrackerUnavailable(f"unreachable ({type(exc).__name__})") from None
        return self._read(response)

    def _read(self, response: httpx.Response) -> Shipment:
        """An answer of /v1/track as a Shipment, or the error it is."""
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        message = _text(body.get("message")) if isinstance(body, dict) else ""
        said = f"HTTP {status}" + (f": {message[:120]}" if message else "")
        if status in (401, 403):
            raise TrackerRefused(said)
        if status == 429:
            raise TrackerUnavailable(said, retry_after=_retry_after(response))
        if status >= 500:
            raise TrackerUnavailable(said)
        if not isinstance(body, dict):
            raise TrackerUnavailable(f"HTTP {status}: not JSON")
        inner = body.get("status")
        if status in (400, 404) or inner in (400, 404, "400", "404"):
            return Shipment.not_found()  # the courier does not know it (yet)
        if inner in (401, 403, "401", "403"):
            raise TrackerRefused(said)
        data = body.get("data")
        if status != 200 or not isinstance(data, dict):
            raise TrackerUnavailable(said)
        return self._shipment(data)

    def _shipment(self, data: dict[str, Any]) -> Shipment:
        """The data of a tracked resi as a Shipment."""
        summary = data.get("summary") if isinstance(data.get("summary"), dict) else {}
        detail = data.get("detail") if isinstance(data.get("detail"), dict) else {}
        history = data.get("history") if isinstance(data.get("history"), list) else []
        assert isinstance(summary, dict) and isinstance(detail, dict) and isinstance(history, list)
        fallback = _moment(_text(summary.get("date")), self._tz)
        checkpoints = []
        for entry in history:
            if not isinstance(entry, dict) or not _text(entry.get("desc")):
                continue
            at = _moment(_text(entry.get("date")), self._tz) or fallback
            if at is None:
                log.warning("tracking: a checkpoint without a readable date left out")
                continue
            checkpoints.append(Checkpoint(at, _text(entry.get("location")), _text(entry["desc"])))
        return Shipment(
            status=_text(summary.get("status")),
            checkpoints=tuple(checkpoints),
            receiver=_text(detail.get("receiver")) or None,
            destination=_text(detail.get("destination")),
        )

    async def aclose(self) -> None:
        """Close the connections."""
        await self._client.aclose()
