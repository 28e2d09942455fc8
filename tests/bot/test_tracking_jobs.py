"""The tracking round: a shipped order followed at a fake BinderByte until the customer's door.

The demo shop's orders ship through the real conversation; `Jobs.track_shipments` asks the
fake over HTTP as the clock moves, and the dispatcher delivers what it tells.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select

from bot.config import DEFAULT_COURIERS
from bot.jobs import Jobs
from bot.tracking import BinderByte
from handlers.context import Settings
from handlers.types import Reply
from models import Order, PhaseEvent
from models.enums import Fulfillment, Phase
from models.linking import new_link_code
from models.storage import Database
from models.tracker import Checkpoint, Shipment
from models.tracking import LEASE, ShipmentTrack, TrackingPolicy, open_tracks, take_due
from tests.fakes.binderbyte import KEY, FakeBinderByte, Journey, Scan, jne, jne_returned, jnt
from tests.fakes.binderbyte import sicepat as sicepat_journey
from tests.support import factories
from tests.support.shop import Clock, Shop, attach, open_shop

WIB = ZoneInfo("Asia/Jakarta")
POLICY = TrackingPolicy(
    poll=timedelta(minutes=120), daily_quota=500, stuck=timedelta(days=4), timezone=WIB
)


@dataclass
class Courier:
    """The demo shop, a fake BinderByte on the shop's clock, and the jobs that ask it."""

    shop: Shop
    fake: FakeBinderByte
    jobs: Jobs
    key: str = KEY

    async def restart(self) -> None:
        """Start kabar afresh on the same database: a new dispatcher, client and jobs."""
        if self.jobs.tracker is not None:
            await self.jobs.tracker.aclose()
        clock = self.shop.clock
        self.shop = attach(self.shop.db, self.shop.links)
        self.shop.clock.now = clock.now
        self.fake.clock = self.shop.clock
        self.jobs = jobs_for(self.shop, self.fake, self.key)

    async def follow(self, hours: float, every: float = 0.5) -> list[tuple[str, Reply]]:
        """Let `hours` pass, a tracking round and a dispatcher tick every `every` hours."""
        pushed: list[tuple[str, Reply]] = []
        for _ in range(round(hours / every)):
            self.shop.clock.advance(every * 3600)
            await self.jobs.track_shipments()
            pushed += await self.shop.deliver(after=0)
        return pushed

    async def ship(self, code: str, courier: str, journey: Journey) -> None:
        """Pay and ship an order as staff do; the parcel's journey starts now."""
        await self.shop.say("dewi", f"/bayar {code}")
        await self.shop.deliver()
        self.fake.add(journey)
        journey.start = self.shop.clock()
        await self.shop.say("dewi", f"/kirim {code} {courier} {journey.awb}")


def jobs_for(shop: Shop, fake: FakeBinderByte, key: str = KEY) -> Jobs:
    tracker = BinderByte(
        key, base_url=fake.base_url, couriers=DEFAULT_COURIERS, timezone=WIB, timeout=2.0
    )
    return Jobs(shop.db, shop.settings, shop.clock, tracker=tracker, tracking=POLICY)


@pytest.fixture
async def courier(db: Database) -> AsyncIterator[Courier]:
    shop = await open_shop(db)
    async with FakeBinderByte(clock=shop.clock) as fake:
        line = Courier(shop, fake, jobs_for(shop, fake))
        try:
            yield line
        finally:
            if line.jobs.tracker is not None:
                await line.jobs.tracker.aclose()


def news(pushed: list[tuple[str, Reply]], who: str, code: str) -> list[str]:
    """What `who` was told about an order, each push without its header line."""
    return [
        " / ".join(reply.text.splitlines()[1:])
        for person, reply in pushed
        if person == who and code in reply.text.splitlines()[0]
    ]


def alerts(pushed: list[tuple[str, Reply]]) -> list[str]:
    return [reply.text for who, reply in pushed if who == "dewi"]


async def phase_of(db: Database, code: str) -> Phase:
    async with db.sessions() as s:
        phase = await s.scalar(select(Order.phase).where(Order.code == code))
    assert phase is not None
    return phase


async def test_a_journey_pushes_each_milestone_once_in_order_and_delivers_the_order(
    courier: Courier,
) -> None:
    await courier.ship("INV-1001", "jne", jne("JN0012345678", courier.shop.clock()))
    pushed = await courier.follow(hours=30)
    assert news(pushed, "sari", "INV-1001") == [
        "Pesanan sudah dikirim! 🚚 / Kurir: JNE · Resi: JN0012345678",
        "📦 Paketmu sudah diambil kurir JNE.",
        "🚚 Paketmu sedang dalam perjalanan ke kota tujuan.",
        "📦 Paketmu sudah di kota tujuan (Bandung)",
        "🛵 Sedang diantar kurir hari ini",
        "✅ Diterima oleh BUDI, 11:00",
    ]
    assert alerts(pushed) == []
    assert await phase_of(courier.shop.db, "INV-1001") is Phase.DELIVERED
    async with courier.shop.db.sessions() as s:
        last = await s.scalar(select(PhaseEvent).order_by(PhaseEvent.id.desc()).limit(1))
    assert last is not None and last.actor == "tracker" and last.to_phase is Phase.DELIVERED
    asked = courier.fake.calls_for("JN0012345678")
    assert await courier.follow(hours=24, every=2) == []  # delivered: never asked again
    assert courier.fake.calls_for("JN0012345678") == asked


async def test_a_dropship_journey_tells_the_reseller_and_the_branded_end_customer(
    courier: Courier,
) -> None:
    await courier.ship("DS-2001", "jnt", jnt("JT9876543210", courier.shop.clock()))
    pushed = await courier.follow(hours=30)
    assert news(pushed, "rina", "Mawar Batik Store · Order DS-2001") == [
        "Your order is on its way! 🚚 / Courier: J&T · Tracking: JT9876543210",
        "📦 J&T has picked up your parcel.",
        "🚚 Your parcel is on its way to your city.",
        "📦 Your parcel has reached your city (Bandung)",
        "🛵 Out for delivery with the courier today",
        "✅ Received by RINA, 10:00",
    ]
    assert not any("Toko Batik Kabar" in reply.text for who, reply in pushed if who == "rina")
    assert news(pushed, "mawar", "Pesanan dropship DS-2001 untuk Rina") == [
        "Pesanan sudah dikirim! 🚚 / Kurir: J&T · Resi: JT9876543210",
        "📦 Paketmu sudah diambil kurir J&T.",
        "🚚 Paketmu sedang dalam perjalanan ke kota tujuan.",
        "📦 Paketmu sudah di kota tujuan (Bandung)",
        "🛵 Sedang diantar kurir hari ini",
        "✅ Diterima oleh RINA, 10:00",
    ]
    assert await phase_of(courier.shop.db, "DS-2001") is Phase.DELIVERED


async def test_a_failed_attempt_is_told_to_staff_once_and_the_parcel_still_arrives(
    courier: Courier,
) -> None:
    await courier.ship("INV-1001", "sicepat", sicepat_journey("SC00998877", courier.shop.clock()))
    pushed = await courier.follow(hours=50)
    told = news(pushed, "sari", "INV-1001")
    assert told[1:] == [
        "📦 Paketmu sudah diambil kurir SiCepat.",
        "🚚 Paketmu sedang dalam perjalanan ke kota tujuan.",
        "📦 Paketmu sudah di kota tujuan (Bandung)",
        "🛵 Sedang diantar kurir hari ini",
        "⚠️ Kurir belum berhasil mengantar paketmu. Pastikan ada yang bisa menerima di alamat"
        " ya; kurir akan mencoba lagi.",
        "✅ Diterima oleh BUDI, 09:00",
    ]
    assert alerts(pushed) == [
        "⚠️ 🚚 INV-1001: kurir gagal mengantar (SiCepat SC00998877):"
        " ANTAR ULANG: PENERIMA TIDAK DI TEMPAT"
    ]
    assert await phase_of(courier.shop.db, "INV-1001") is Phase.DELIVERED


async def test_each_failed_attempt_reaches_staff_and_the_customer_hears_of_the_first(
    courier: Courier,
) -> None:
    def scan(hours: float, text: str) -> Scan:
        return Scan(timedelta(hours=hours), text, "BANDUNG")

    twice = Journey(
        "jne",
        "JN0000000505",
        courier.shop.clock(),
        [
            scan(1, "SHIPMENT RECEIVED BY JNE COUNTER OFFICE AT [JAKARTA]"),
            scan(20, "RECEIVED AT INBOUND STATION [BANDUNG , HUB CIBIRU]"),
            scan(23, "WITH DELIVERY COURIER [BANDUNG]"),
            scan(25, "CONSIGNEE NOT AT HOME [BANDUNG]"),
            scan(46, "WITH DELIVERY COURIER [BANDUNG]"),
            scan(48, "BAD ADDRESS / INCOMPLETE ADDRESS [BANDUNG]"),
        ],
        final_status="ON PROCESS",
    )
    await courier.ship("INV-1001", "jne", twice)
    pushed = await courier.follow(hours=52, every=1)
    assert [text.split(" (JNE")[0] for text in alerts(pushed)] == [
        "⚠️ 🚚 INV-1001: kurir gagal mengantar",
        "⚠️ 🚚 INV-1001: kurir gagal mengantar",
    ]
    failed = [text for text in news(pushed, "sari", "INV-1001") if text.startswith("⚠️")]
    assert len(failed) == 1


async def test_a_returned_parcel_is_told_to_staff_and_tracking_stops(courier: Courier) -> None:
    await courier.ship("INV-1001", "jne", jne_returned("JN0000000042", courier.shop.clock()))
    pushed = await courier.follow(hours=84)
    assert news(pushed, "sari", "INV-1001")[-3:] == [
        "⚠️ Kurir belum berhasil mengantar paketmu. Pastikan ada yang bisa menerima di alamat"
        " ya; kurir akan mencoba lagi.",
        "↩️ Paketmu sedang dikembalikan kurir ke pengirim. Kami akan menghubungi Anda.",
        "↩️ Paketmu sudah kembali ke pengirim. Kami akan menghubungi Anda.",
    ]
    told = alerts(pushed)
    assert [line.split(":")[0] for line in told] == [
        "⚠️ 🚚 INV-1001",
        "⚠️ ↩️ INV-1001",
        "⚠️ ↩️ INV-1001",
    ]
    assert "sudah kembali ke pengirim (JNE JN0000000042); pelacakan berhenti." in told[-1]
    asked = courier.fake.calls_for("JN0000000042")
    assert await courier.follow(hours=24, every=2) == []
    assert courier.fake.calls_for("JN0000000042") == asked
    assert await phase_of(courier.shop.db, "INV-1001") is Phase.SHIPPED  # staff decide


async def test_a_resi_still_unknown_a_day_later_is_told_once_and_asked_less_often(
    courier: Courier,
) -> None:
    await courier.shop.say("dewi", "/kirim INV-1001 jne JN0000000404")  # a resi with a typo
    pushed = await courier.follow(hours=32)
    assert alerts(pushed) == [
        "⚠️ ❓ INV-1001: resi JN0000000404 belum dikenal JNE setelah 1 hari."
        " Cek nama kurir dan nomor resinya; betulkan dengan /kirim INV-1001 KURIR RESI."
    ]
    # Asked at 0.5, 2.5, 6.5, 14.5 and 30.5 hours: each miss doubles the wait.
    assert courier.fake.calls_for("JN0000000404") == 5
    assert alerts(await courier.follow(hours=48, every=2)) == []
    assert await phase_of(courier.shop.db, "INV-1001") is Phase.SHIPPED


async def test_a_corrected_resi_is_followed_to_the_door_and_the_wrong_one_dropped(
    courier: Courier,
) -> None:
    await courier.shop.say("dewi", "/kirim INV-1001 jne JN0000000404")  # a resi with a typo
    await courier.follow(hours=26)
    asked = courier.fake.calls_for("JN0000000404")
    courier.fake.add(jne("JN0012345678", courier.shop.clock()))
    await courier.shop.say("dewi", "/kirim INV-1001 jne JN0012345678")
    pushed = await courier.follow(hours=30)
    told = news(pushed, "sari", "INV-1001")
    assert told[0] == "Nomor resi pesanan Anda diperbaiki: / Kurir: JNE · Resi: JN0012345678"
    assert told[-1].startswith("✅ Diterima oleh")
    assert await phase_of(courier.shop.db, "INV-1001") is Phase.DELIVERED
    assert courier.fake.calls_for("JN0000000404") == asked


async def test_a_corrected_resi_the_courier_does_not_know_yet_is_given_a_day_too(
    courier: Courier,
) -> None:
    await courier.shop.say("dewi", "/kirim INV-1001 jne JN0000000404")
    assert len(alerts(await courier.follow(hours=32))) == 1  # the typo, a day on
    await courier.shop.say("dewi", "/kirim INV-1001 jne JN0000000405")  # unknown for now too
    assert alerts(await courier.follow(hours=20)) == []  # not "unknown for a day" at once
    later = alerts(await courier.follow(hours=14))
    assert len(later) == 1 and "JN0000000405" in later[0] and "1 hari" in later[0]


async def test_a_stuck_shipment_is_told_to_staff_once(courier: Courier) -> None:
    silent = Journey(
        "jne",
        "JN0000000777",
        courier.shop.clock(),
        [
            Scan(timedelta(hours=1), "SHIPMENT RECEIVED BY JNE COUNTER OFFICE AT [JAKARTA]"),
            Scan(timedelta(hours=6), "DEPARTED FROM TRANSIT [GATEWAY , JAKARTA]"),
        ],
        final_status="ON PROCESS",
    )
    await courier.ship("INV-1001", "jne", silent)
    pushed = await courier.follow(hours=6 * 24, every=2)
    assert alerts(pushed) == [
        "⚠️ ⏸️ INV-1001: tidak ada kabar baru dari JNE selama 4 hari (resi JN0000000777)."
        " Terakhir: DEPARTED FROM TRANSIT [GATEWAY , JAKARTA]"
    ]


async def test_a_refused_key_is_told_to_staff_once_a_day_and_nothing_is_hammered(
    courier: Courier,
) -> None:
    courier.key = "a-key-that-expired"
    await courier.restart()
    await courier.ship("INV-1001", "jne", jne("JN0012345678", courier.shop.clock()))
    pushed = await courier.follow(hours=12)
    refused = [text for text in alerts(pushed) if "🔑" in text]
    assert refused == [
        "⚠️ 🔑 Pelacakan kurir (binderbyte) menolak api_key: HTTP 401: Invalid API key."
        " Periksa [tracking] api_key; pelacakan dijeda dan dicoba lagi tiap jam."
    ]
    assert "a-key-that-expired" not in refused[0]
    assert courier.fake.requests <= 12  # an hour's rest after each refusal
    next_day = await courier.follow(hours=24, every=1)
    assert len([text for text in alerts(next_day) if "🔑" in text]) == 1


async def test_a_provider_down_for_a_day_loses_nothing_and_a_restart_tells_nothing_twice(
    courier: Courier,
) -> None:
    courier.fake.down = 503
    await courier.ship("INV-1001", "jne", jne("JN0012345678", courier.shop.clock()))
    during = await courier.follow(hours=24, every=0.25)
    assert [reply.text for who, reply in during if who == "sari"][1:] == []  # only "shipped"
    # Resting 5, 10, 20, 40 minutes, then an hour between tries: a handful, not hundreds.
    assert 3 <= courier.fake.requests <= 30
    courier.fake.down = None
    after = await courier.follow(hours=1, every=0.25)
    # A day's checkpoints at once: the newest news is told, not four stale ones.
    assert news(after, "sari", "INV-1001") == ["🛵 Sedang diantar kurir hari ini"]
    await courier.restart()
    rest = await courier.follow(hours=6, every=0.25)
    assert news(rest, "sari", "INV-1001") == ["✅ Diterima oleh BUDI, 11:00"]
    assert await phase_of(courier.shop.db, "INV-1001") is Phase.DELIVERED
    async with courier.shop.db.sessions() as s:
        track = await s.scalar(select(ShipmentTrack))
    assert track is not None and len(track.checkpoints) == 6  # every checkpoint kept
    assert track.reached == [
        "picked_up",
        "in_transit",
        "at_destination",
        "out_for_delivery",
        "delivered",
    ]
    await courier.restart()
    assert await courier.follow(hours=6, every=1) == []


async def test_a_round_that_died_mid_way_is_taken_up_when_its_lease_ends(
    courier: Courier,
) -> None:
    await courier.ship("INV-1001", "jne", jne("JN0012345678", courier.shop.clock()))
    await courier.shop.deliver()  # "shipped" is told
    courier.shop.clock.advance(3 * 3600)
    async with courier.shop.db.transaction() as s:
        await open_tracks(s, ["JNE"], courier.shop.clock())
        claimed = await take_due(s, "binderbyte", POLICY, courier.shop.clock())
    assert len(claimed) == 1  # … and the process died before asking
    await courier.restart()
    assert await courier.jobs.track_shipments() == 0  # still leased
    courier.shop.clock.advance(LEASE.total_seconds() + 1)
    assert await courier.jobs.track_shipments() == 1
    pushed = await courier.shop.deliver(after=0)
    assert news(pushed, "sari", "INV-1001")[-1] == "📦 Paketmu sudah diambil kurir JNE."


async def test_two_rounds_at_once_ask_about_each_shipment_once(courier: Courier) -> None:
    clock = courier.shop.clock
    await courier.ship("INV-1001", "jne", jne("JN0012345678", clock()))
    await courier.ship("INV-1002", "sicepat", sicepat_journey("SC00998877", clock()))
    await courier.ship("DS-2001", "jnt", jnt("JT9876543210", clock()))
    clock.advance(3 * 3600)
    other = jobs_for(courier.shop, courier.fake)
    try:
        made = await asyncio.gather(courier.jobs.track_shipments(), other.track_shipments())
    finally:
        assert other.tracker is not None
        await other.tracker.aclose()
    assert sum(made) == 3
    assert sorted(awb for _, awb in courier.fake.calls) == [
        "JN0012345678",
        "JT9876543210",
        "SC00998877",
    ]
    pushed = await courier.shop.deliver(after=0)
    assert len(news(pushed, "sari", "INV-1001")) == 1


async def test_an_order_delivered_by_hand_is_asked_about_no_more(courier: Courier) -> None:
    await courier.ship("INV-1001", "jne", jne("JN0012345678", courier.shop.clock()))
    await courier.follow(hours=3)
    await courier.shop.say("dewi", "/terima INV-1001")
    asked = courier.fake.calls_for("JN0012345678")
    pushed = await courier.follow(hours=30, every=1)
    assert courier.fake.calls_for("JN0012345678") == asked
    assert news(pushed, "sari", "INV-1001") == ["Pesanan sudah diterima. Semoga suka! 💛"]
    async with courier.shop.db.sessions() as s:
        events = await s.scalar(select(func.count()).select_from(PhaseEvent))
    assert events is not None


@dataclass
class Counting:
    """A tracker in-process that counts the calls it gets: every parcel is on its way."""

    clock: Clock
    calls: list[tuple[datetime, str]]
    name: str = "counting"
    couriers: tuple[str, ...] = ("JNE",)

    async def track(self, courier: str, resi: str) -> Shipment:
        self.calls.append((self.clock(), resi))
        departed = Checkpoint(self.clock() - timedelta(hours=1), "JAKARTA", "DEPARTED FROM TRANSIT")
        return Shipment("ON PROCESS", (departed,))

    async def aclose(self) -> None:
        return None


async def shipped_orders(db: Database, count: int, shipped: datetime) -> list[str]:
    """Add `count` shipped JNE orders, the first shipped longest ago; return their resis."""
    resis = [f"JN{n:010d}" for n in range(count)]
    async with db.transaction() as s:
        person = await factories.customer(s, "0812-9999-0000", "Tono")
        await s.execute(
            insert(Order),
            [
                {
                    "code": f"BULK-{n}",
                    "customer_id": person.id,
                    "fulfillment": Fulfillment.READY_STOCK,
                    "phase": Phase.SHIPPED,
                    "courier": "JNE",
                    "tracking_number": resi,
                    "link_code": new_link_code(),
                    "phase_entered_at": shipped + timedelta(seconds=n),
                }
                for n, resi in enumerate(resis)
            ],
        )
    return resis


@pytest.mark.slow
async def test_the_daily_quota_is_never_exceeded_and_the_stalest_are_asked_first(
    db: Database,
) -> None:
    midnight = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)  # Monday 00:00 in Jakarta
    clock = Clock(midnight)
    resis = await shipped_orders(db, 2000, shipped=midnight - timedelta(days=3))
    tracker = Counting(clock, [])
    jobs = Jobs(db, Settings(), clock, tracker=tracker, tracking=POLICY)
    for _ in range(2 * 24 * 2):  # two days, a round every half hour
        await jobs.track_shipments()
        clock.advance(1800)
    per_day: dict[str, int] = {}
    for at, _ in tracker.calls:
        day = POLICY.day_of(at)
        per_day[day] = per_day.get(day, 0) + 1
    assert list(per_day) == ["2026-03-02", "2026-03-03"]
    assert all(490 <= calls <= 500 for calls in per_day.values()), per_day
    # Spread over the day: by noon, about half the day's quota.
    by_noon = [at for at, _ in tracker.calls if at < midnight + timedelta(hours=12)]
    assert 240 <= len(by_noon) <= 251
    # Never checked before goes first, those shipped longest ago first of all.
    asked = [resi for _, resi in tracker.calls]
    assert asked == resis[: len(asked)]
