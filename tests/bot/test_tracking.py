"""The BinderByte adapter against a fake BinderByte over real HTTP: journeys, not-found, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import DEFAULT_COURIERS
from bot.tracking import BinderByte
from models.milestones import Milestone, milestone_of
from models.tracker import Shipment, TrackerError, TrackerRefused, TrackerUnavailable
from tests.fakes.binderbyte import KEY, FakeBinderByte, Journey, jne, jnt, sicepat
from tests.support.shop import Clock

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 09:00 in Jakarta
WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinderByte]:
    async with FakeBinderByte(clock=Clock(START + timedelta(days=3))) as server:
        yield server


def client(fake: FakeBinderByte, key: str = KEY, timeout: float = 5.0) -> BinderByte:
    return BinderByte(
        key, base_url=fake.base_url, couriers=DEFAULT_COURIERS, timezone=WIB, timeout=timeout
    )


async def track(
    fake: FakeBinderByte, courier: str, resi: str, key: str = KEY, wait: float = 5.0
) -> Shipment:
    tracker = client(fake, key, wait)
    try:
        return await tracker.track(courier, resi)
    finally:
        await tracker.aclose()


async def failure(fake: FakeBinderByte, key: str = KEY, wait: float = 5.0) -> TrackerError:
    with pytest.raises(TrackerError) as caught:
        await track(fake, "JNE", "JN0012345678", key, wait)
    return caught.value


@pytest.mark.parametrize(
    ("courier", "journey", "receiver", "last"),
    [
        ("JNE", jne("JN0012345678", START), "SARI", Milestone.DELIVERED),
        ("J&T", jnt("JT9876543210", START), "RINA", Milestone.DELIVERED),
        ("SiCepat", sicepat("SC00998877", START), "SARI", Milestone.DELIVERED),
    ],
    ids=["jne", "jnt", "sicepat"],
)
async def test_a_journey_reads_as_its_checkpoints_in_local_time(
    fake: FakeBinderByte, courier: str, journey: Journey, receiver: str, last: Milestone
) -> None:
    fake.add(journey)
    shipment = await track(fake, courier, journey.awb)
    assert shipment.found and shipment.status == "DELIVERED"
    assert shipment.receiver == receiver and shipment.destination == "BANDUNG"
    oldest_first = sorted(shipment.checkpoints, key=lambda c: c.at)
    assert [c.text for c in oldest_first] == [scan.desc for scan in journey.scans]
    assert [c.at for c in oldest_first] == [journey.at(scan) for scan in journey.scans]
    assert all(c.at.tzinfo is not None for c in shipment.checkpoints)
    assert milestone_of(oldest_first[-1].text) is last
    assert fake.calls == [(journey.courier, journey.awb)]  # kabar's name → BinderByte's code


async def test_a_resi_the_courier_does_not_know_yet_is_not_found_not_an_error(
    fake: FakeBinderByte,
) -> None:
    fake.add(jne("JN0012345678", fake.clock()))  # shipped just now: no scan yet
    assert await track(fake, "JNE", "JN0012345678") == Shipment.not_found()
    assert await track(fake, "JNE", "JN0000000000") == Shipment.not_found()


async def test_a_courier_without_a_code_is_never_asked(fake: FakeBinderByte) -> None:
    assert await track(fake, "GoSend", "GS123456") == Shipment.not_found()
    assert fake.requests == 0
    assert "GoSend" not in client(fake).couriers and "J&T" in client(fake).couriers


async def test_a_refused_key_is_its_own_error_and_never_shows_the_key(
    fake: FakeBinderByte,
) -> None:
    error = await failure(fake, key="wrong-key-4411")
    assert isinstance(error, TrackerRefused)
    assert str(error) == "HTTP 401: Invalid API key"
    assert "wrong-key-4411" not in repr(error)


async def test_a_busy_provider_says_when_to_come_back(fake: FakeBinderByte) -> None:
    fake.fail_next(429)
    error = await failure(fake)
    assert isinstance(error, TrackerUnavailable)
    assert error.retry_after == timedelta(seconds=120)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_failing_provider_is_unavailable(fake: FakeBinderByte, status: int) -> None:
    fake.fail_next(status)
    error = await failure(fake)
    assert isinstance(error, TrackerUnavailable) and error.retry_after is None
    assert str(error).startswith(f"HTTP {status}")


async def test_a_provider_that_never_answers_times_out(fake: FakeBinderByte) -> None:
    fake.stall()
    error = await failure(fake, wait=0.3)
    assert isinstance(error, TrackerUnavailable)
    assert str(error).startswith("timed out")


async def test_an_unreachable_provider_is_unavailable(fake: FakeBinderByte) -> None:
    tracker = client(fake)
    await fake.stop()
    try:
        with pytest.raises(TrackerUnavailable, match="unreachable"):
            await tracker.track("JNE", "JN0012345678")
    finally:
        await tracker.aclose()
