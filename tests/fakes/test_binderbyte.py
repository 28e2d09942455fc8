"""The fake BinderByte answers as BinderByte does: its shapes, its not-found, its errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.fakes.binderbyte import KEY, FakeBinderByte, jne
from tests.support.shop import Clock

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinderByte]:
    async with FakeBinderByte(clock=Clock(START)) as server:
        yield server


async def get(fake: FakeBinderByte, **params: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=fake.base_url) as client:
        return await client.get("/v1/track", params={"api_key": KEY, **params})


async def test_a_journey_shows_the_scans_whose_time_has_come_newest_first(
    fake: FakeBinderByte,
) -> None:
    fake.add(jne("JN0012345678", START))
    clock = fake.clock
    assert isinstance(clock, Clock)
    clock.advance(5 * 3600)
    response = await get(fake, courier="jne", awb="JN0012345678")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["message"]) == (200, "Successfully tracked package")
    assert set(body["data"]) == {"summary", "detail", "history"}
    assert body["data"]["summary"]["status"] == "ON PROCESS"
    assert set(body["data"]["detail"]) == {"origin", "destination", "shipper", "receiver"}
    history = body["data"]["history"]
    assert [entry["desc"] for entry in history] == [
        "PROCESSED AT SORTING CENTER [JAKARTA]",
        "SHIPMENT RECEIVED BY JNE COUNTER OFFICE AT [JAKARTA]",
    ]
    assert history[0]["date"] == "2026-03-02 13:00:00"  # Jakarta time, no zone
    clock.advance(timedelta(days=2).total_seconds())
    final = (await get(fake, courier="jne", awb="JN0012345678")).json()
    assert final["data"]["summary"]["status"] == "DELIVERED"
    assert final["data"]["history"][0]["desc"].startswith("DELIVERED TO [BUDI")


async def test_an_unknown_or_fresh_resi_is_not_found(fake: FakeBinderByte) -> None:
    fake.add(jne("JN0012345678", START))  # its first scan comes an hour after shipping
    for awb in ("JN0012345678", "JN9999999999"):
        response = await get(fake, courier="jne", awb=awb)
        assert response.status_code == 400
        assert response.json() == {"status": 400, "message": "Data not found"}


async def test_a_wrong_key_is_401_and_failures_come_on_cue(fake: FakeBinderByte) -> None:
    async with httpx.AsyncClient(base_url=fake.base_url) as client:
        wrong = await client.get("/v1/track", params={"api_key": "nope", "courier": "jne"})
    assert wrong.status_code == 401
    fake.fail_next(429)
    fake.fail_next(502)
    busy = await get(fake, courier="jne", awb="X")
    assert (busy.status_code, busy.headers["Retry-After"]) == (429, "120")
    bad_gateway = await get(fake, courier="jne", awb="X")
    assert bad_gateway.status_code == 502 and "Bad Gateway" in bad_gateway.text
    fake.down = 503
    assert (await get(fake, courier="jne", awb="X")).status_code == 503
    assert fake.calls == []  # failures never reach a journey
