"""Tracking in chat: /lacak, parcel questions and /status show what the courier said, to whom
may see it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import pytest

from handlers.context import Settings
from handlers.i18n import Messages
from handlers.notifications import render_notification
from models.enums import Fulfillment, Language, NotificationKind, Phase
from models.outbox import OrderUpdate, TrackingNews
from models.storage import Database
from models.tracker import Checkpoint, Shipment
from models.tracking import TrackingPolicy, open_tracks, record_check, take_due
from models.updates import order_update
from tests.support.shop import Shop, open_shop

POLICY = TrackingPolicy(timezone=ZoneInfo("Asia/Jakarta"))
SCANS = [
    "SHIPMENT RECEIVED BY JNE COUNTER OFFICE AT [JAKARTA]",
    "PROCESSED AT SORTING CENTER [JAKARTA]",
    "DEPARTED FROM TRANSIT [GATEWAY , JAKARTA]",
    "ARRIVED AT TRANSIT [GATEWAY , CIKAMPEK]",
    "DEPARTED FROM TRANSIT [GATEWAY , CIKAMPEK]",
    "RECEIVED AT SORTING CENTER [BANDUNG]",
    "SHIPMENT FORWARDED TO DESTINATION [BANDUNG , HUB CIBIRU]",
    "RECEIVED AT INBOUND STATION [BANDUNG , HUB CIBIRU]",
]


async def courier_said(shop: Shop, scans: list[str], courier: str = "JNE") -> None:
    """The tracker asks about every shipped order and hears these scans, an hour apart."""
    shop.clock.advance(len(scans) * 3600)
    now = shop.clock()
    async with shop.db.transaction() as s:
        await open_tracks(s, [courier], now)
        claimed = await take_due(s, "test", POLICY, now)
    assert claimed
    checkpoints = tuple(
        Checkpoint(now - timedelta(hours=len(scans) - n), "", text) for n, text in enumerate(scans)
    )
    for due in claimed:
        async with shop.db.transaction() as s:
            shipment = Shipment("ON PROCESS", checkpoints, destination="BANDUNG")
            await record_check(s, due, shipment, POLICY, now)
    await shop.deliver(after=0)


@pytest.fixture
async def shop(db: Database) -> AsyncIterator[Shop]:
    shop = await open_shop(db)
    await shop.say("dewi", "/bayar INV-1001,DS-2001")
    await shop.deliver()
    await shop.say("dewi", "/kirim INV-1001 jne JN0012345678")
    await shop.say("dewi", "/kirim DS-2001 jne JN0099887766")
    await shop.deliver()
    yield shop


def checkpoint_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("• ") and " — " in line]


async def test_a_customer_tracks_an_order_and_sees_the_last_five_checkpoints(shop: Shop) -> None:
    await courier_said(shop, SCANS)
    answer = await shop.text("sari", "/lacak INV-1001")
    assert answer.splitlines()[0] == "Toko Batik Kabar · Pesanan INV-1001"
    assert "📍 Lacak JNE JN0012345678: di kota tujuan" in answer.splitlines()
    assert [line.split(" — ")[1] for line in checkpoint_lines(answer)] == SCANS[::-1][:5]
    assert answer.splitlines()[-1] == "… dan 3 kabar sebelumnya"
    assert "Dicek" not in answer  # the tracker's schedule is the shop's business
    english = await shop.text("rina", "/track DS-2001")
    assert english.splitlines()[0] == "Mawar Batik Store · Order DS-2001"
    assert "📍 Tracking JNE JN0099887766: in your city" in english.splitlines()
    assert english.splitlines()[-1] == "… and 3 earlier"


async def test_staff_see_every_checkpoint_and_the_next_check(shop: Shop) -> None:
    await courier_said(shop, SCANS)
    answer = await shop.text("dewi", "/lacak INV-1001")
    assert len(checkpoint_lines(answer)) == len(SCANS)
    assert answer.splitlines()[-1] == "Dicek Sen 2 Mar 17:01 · berikutnya Sen 2 Mar 19:01"
    assert await shop.text("dewi", "/lacak") == shop.t("id", "track.usage")


@pytest.mark.parametrize(
    "question", ["cek resi", "paket saya sampai mana", "udah sampai mana paketnya"]
)
async def test_a_question_about_the_parcel_answers_with_the_checkpoints(
    shop: Shop, question: str
) -> None:
    await courier_said(shop, SCANS)
    answer = await shop.text("sari", question)
    assert answer.splitlines()[0] == "Toko Batik Kabar · Pesanan INV-1001"
    assert "📍 Lacak JNE JN0012345678: di kota tujuan" in answer.splitlines()
    assert len(checkpoint_lines(answer)) == 5


async def test_status_shows_the_latest_checkpoint_under_the_resi(shop: Shop) -> None:
    await courier_said(shop, SCANS)
    lines = (await shop.text("sari", "/status INV-1001")).splitlines()
    resi = lines.index("Kurir: JNE · Resi: JN0012345678")
    assert (
        lines[resi + 1] == "📍 Sen 2 Mar 16:01 · RECEIVED AT INBOUND STATION [BANDUNG , HUB CIBIRU]"
    )
    assert not any(line.startswith("📍 Lacak") for line in lines)
    assert lines[-1].endswith("dikirim · di kota tujuan")  # the milestone in the timeline


async def test_only_those_who_may_see_an_order_see_its_parcel(shop: Shop) -> None:
    await courier_said(shop, SCANS)
    not_found = shop.t("id", "status.not_found", code="INV-1001")
    stranger = await shop.text("tamu", "/lacak INV-1001")
    assert stranger == f"{not_found}\n{shop.t('id', 'status.how_to_link')}"
    assert await shop.text("rina", "/track INV-1001") == shop.t(
        "en", "status.not_found", code="INV-1001"
    )
    assert await shop.text("mawar", "/lacak INV-1001") == not_found
    reseller = await shop.text("mawar", "/lacak DS-2001")
    assert "📍 Lacak JNE JN0099887766: di kota tujuan" in reseller.splitlines()


async def test_a_resi_the_courier_does_not_know_yet_says_so(shop: Shop) -> None:
    shop.clock.advance(3600)
    async with shop.db.transaction() as s:
        await open_tracks(s, ["JNE"], shop.clock())
        for due in await take_due(s, "test", POLICY, shop.clock()):
            await record_check(s, due, Shipment.not_found(), POLICY, shop.clock())
    answer = await shop.text("sari", "/lacak INV-1001")
    assert "📍 Lacak JNE JN0012345678: belum dikenal kurir" in answer.splitlines()
    assert shop.t("id", "track.none_yet") in answer.splitlines()


async def test_without_tracking_the_answers_are_as_before(shop: Shop) -> None:
    status = await shop.text("sari", "/status INV-1001")
    assert await shop.text("sari", "/lacak INV-1001") == status
    assert await shop.text("sari", "cek resi") == status
    assert "📍" not in status


def test_a_parcel_found_delivered_days_later_says_the_day_not_only_the_hour() -> None:
    messages, settings = Messages.load(), Settings()
    at = datetime(2026, 3, 2, 7, 2, tzinfo=UTC)  # Monday 14:02 in Jakarta
    update = order_update(
        code="INV-1001",
        fulfillment=Fulfillment.READY_STOCK,
        plan=(),
        from_phase=Phase.SHIPPED,
        phase=Phase.DELIVERED,
        stage=None,
        eta=None,
        at=at + timedelta(hours=1),
        courier="JNE",
        tracking_number="JN0012345678",
    )
    news: TrackingNews = {
        "milestone": "delivered",
        "place": None,
        "receiver": "BUDI",
        "at": at.isoformat(),
    }
    update["tracking"] = news

    def said(lang: Language, told_at: datetime) -> str:
        payload = {**update, "at": told_at.isoformat()}
        kind = NotificationKind.ORDER_UPDATE
        reply = render_notification(messages, settings, lang, kind, cast(OrderUpdate, payload))
        return reply.text.splitlines()[1]

    assert said(Language.ID, at + timedelta(hours=1)) == "✅ Diterima oleh BUDI, 14:02"
    assert said(Language.EN, at + timedelta(hours=1)) == "✅ Received by BUDI, 14:02"
    assert said(Language.ID, at + timedelta(days=3)) == "✅ Diterima oleh BUDI, Sen 2 Mar 14:02"


async def test_tracking_an_order_not_shipped_yet_says_the_resi_comes_later(shop: Shop) -> None:
    status = await shop.text("sari", "/status INV-1002")
    assert shop.t("id", "track.not_shipped") not in status
    for asked in ("/lacak INV-1002", "resi INV-1002 mana kak?"):
        assert await shop.text("sari", asked) == status + "\n" + shop.t("id", "track.not_shipped")
    # Shipped: the resi is the answer, and nothing says it is not.
    assert shop.t("id", "track.not_shipped") not in await shop.text("sari", "/lacak INV-1001")


async def test_tracking_with_several_orders_none_shipped_says_so_before_asking_which(
    db: Database,
) -> None:
    shop = await open_shop(db)  # Sari's three orders: none shipped
    [asked] = await shop.say("sari", "/lacak")
    assert asked.text.splitlines() == [
        shop.t("id", "track.none_shipped"),
        shop.t("id", "status.pick"),
    ]
    assert len(asked.choices) == 3
    # A plain "where is my order?" asks which without it.
    [which] = await shop.say("sari", "pesanan saya sudah sampai mana?")
    assert which.text == shop.t("id", "status.pick")


async def test_a_customer_saying_it_came_lets_staff_mark_it_delivered_in_one_tap(
    shop: Shop,
) -> None:
    await shop.say("sari", f"/start {shop.links['INV-1001']}")  # shipped (the fixture)
    await shop.deliver()
    assert await shop.text("sari", "paketnya udah sampai kak") == shop.t(
        "id", "arrived.thanks", code="INV-1001"
    )
    [(who, alert)] = await shop.deliver(after=0)
    assert who == "dewi" and "INV-1001" in alert.text
    assert [c.command for c in alert.choices] == ["/terima INV-1001"]
    # Said again, with thanks: thanked again; staff heard it once.
    assert "INV-1001" in await shop.text("sari", "paketnya sudah sampai kak, makasih ya")
    assert await shop.deliver(after=0) == []
    await shop.say("dewi", alert.choices[0].command)
    pushed = await shop.deliver()
    assert [who for who, _ in pushed] == ["sari"]
    assert shop.t("id", "phase.delivered") in await shop.text("dewi", "/status INV-1001")


@pytest.mark.parametrize(
    "said", ["already received, thank you!", "arrived safely, thanks", "received, thanks kak"]
)
async def test_saying_it_came_in_english_tells_staff_too(shop: Shop, said: str) -> None:
    await shop.say("sari", f"/start {shop.links['INV-1001']}")  # shipped (the fixture)
    await shop.deliver()
    assert await shop.text("sari", said) == shop.t("id", "arrived.thanks", code="INV-1001")
    [(who, alert)] = await shop.deliver(after=0)
    assert who == "dewi" and [c.command for c in alert.choices] == ["/terima INV-1001"]


@pytest.mark.parametrize(
    "asked",
    [
        "paket saya sudah sampai?",
        "paketnya belum sampai kak",
        "sudah sampai belum ya",
        "has my order been received?",
        "order received?",
    ],
)
async def test_asking_whether_it_came_tells_staff_nothing(shop: Shop, asked: str) -> None:
    await shop.say("sari", f"/start {shop.links['INV-1001']}")  # shipped (the fixture)
    await shop.deliver()
    answer = await shop.text("sari", asked)
    assert answer != shop.t("id", "arrived.thanks", code="INV-1001")
    assert await shop.deliver(after=0) == []


async def test_saying_it_came_with_nothing_on_its_way_is_only_thanked(shop: Shop) -> None:
    await shop.say("sari", f"/start {shop.links['INV-1001']}")
    await shop.say("dewi", "/terima INV-1001")  # the courier's word came first
    await shop.deliver()
    assert await shop.text("sari", "paketnya udah sampai kak") == shop.t("id", "arrived.noted")
    assert await shop.deliver(after=0) == []
