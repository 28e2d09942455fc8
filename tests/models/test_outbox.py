"""The outbox row's life, state by state, and who hears of what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from models import Chat, Notification
from models.audience import Parties, Recipient, audiences_of
from models.enums import Channel, NotificationKind, NotificationStatus
from models.outbox import (
    Alert,
    BackInStock,
    Claimed,
    DeliveryReport,
    LateAlert,
    Outcomes,
    Outgoing,
    Verdict,
    alert_staff,
    apply_delivery_report,
    claim,
    enqueue,
    withdraw,
)
from models.placing import place_order
from models.storage import Database
from tests.support import factories

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
NEWS: BackInStock = {"sku": "KAOS-1", "name": "Kaos", "variant": "Hitam", "available": 3}


async def _chats(db: Database, *, staff: int = 0, customers: int = 1) -> tuple[list[int], int]:
    """Open customer chats and staff chats; return (customer chat ids, first staff chat id)."""
    async with db.transaction() as s:
        found = []
        for n in range(customers):
            chat = Chat(channel=Channel.TELEGRAM, address=str(5000 + n))
            s.add(chat)
            await s.flush()
            found.append(chat.id)
        first_staff = 0
        for n in range(staff):
            member = await factories.staff(s, f"Staf {n}", telegram_id=900 + n)
            chat = Chat(channel=Channel.TELEGRAM, address=str(900 + n), staff_id=member.id)
            s.add(chat)
            await s.flush()
            first_staff = first_staff or chat.id
    return found, first_staff


async def _queue(db: Database, chat_id: int, key: str = "news", due: datetime = T0) -> None:
    async with db.transaction() as s:
        await enqueue(s, [Outgoing.back_in_stock(chat_id, NEWS, key=key, due_at=due)])


async def _claim(db: Database, now: datetime = T0) -> list[Claimed]:
    async with db.transaction() as s:
        return await claim(s, now=now, limit=10, lease=LEASE)


async def _write(db: Database, outcomes: Outcomes, now: datetime = T0) -> None:
    async with db.transaction() as s:
        await outcomes.write(s, now)


async def _rows(db: Database) -> list[Notification]:
    async with db.sessions() as s:
        return list(await s.scalars(select(Notification).order_by(Notification.id)))


async def test_enqueue_twice_with_one_key_writes_one_row(db: Database) -> None:
    (chat,), _ = await _chats(db)
    await _queue(db, chat)
    await _queue(db, chat)
    (row,) = await _rows(db)
    assert (row.kind, row.payload, row.status) == (
        NotificationKind.BACK_IN_STOCK,
        dict(NEWS),
        NotificationStatus.PENDING,
    )


async def test_claim_takes_due_rows_under_a_lease_and_a_lapsed_lease_frees_them(
    db: Database,
) -> None:
    (chat,), _ = await _chats(db)
    await _queue(db, chat, "now")
    await _queue(db, chat, "later", due=T0 + timedelta(hours=1))
    (claimed,) = await _claim(db)
    assert (claimed.kind, claimed.payload, claimed.attempts) == (
        NotificationKind.BACK_IN_STOCK,
        NEWS,
        1,
    )
    assert await _claim(db) == []  # held under its lease, the other not due
    # The dispatcher died: after the lease, the row is claimable again (at least once).
    (again,) = await _claim(db, T0 + LEASE + timedelta(seconds=1))
    assert (again.id, again.attempts) == (claimed.id, 2)


async def test_a_claim_takes_the_oldest_due_rows_whether_pending_or_lapsed(db: Database) -> None:
    (chat,), _ = await _chats(db)
    minute = timedelta(minutes=1)
    # Claimed first, by a dispatcher that died: its lease lapsed at T0 - 4 min.
    for n in range(3):
        await _queue(db, chat, f"lapsed-{n}", due=T0 - (10 - 2 * n) * minute)
    assert len(await _claim(db, T0 - 5 * minute)) == 3
    for n in range(4):  # pending, due between the lapsed ones; and one not yet due
        await _queue(db, chat, f"pending-{n}", due=T0 - (9 - 2 * n) * minute)
    await _queue(db, chat, "future", due=T0 + 9 * minute)
    later = T0 + 2 * minute  # the lease ran out; the future row still waits
    async with db.transaction() as s:
        first = await claim(s, now=later, limit=4, lease=LEASE)
        second = await claim(s, now=later, limit=4, lease=LEASE)
    rows = {row.id: row for row in await _rows(db)}
    taken = [rows[row.id].idempotency_key for row in first + second]
    # Oldest first across both kinds, each taken once, the limit kept on both claims.
    assert taken == [
        "lapsed-0", "pending-0", "lapsed-1", "pending-1", "lapsed-2", "pending-2", "pending-3"
    ]  # fmt: skip
    assert [row.attempts for row in first] == [2, 1, 2, 1]


async def test_each_outcome_leaves_the_row_in_its_state(db: Database) -> None:
    chats, _ = await _chats(db, customers=5)
    for n, chat in enumerate(chats):
        await _queue(db, chat, f"k{n}")
    sent, later, retried, skipped, held = await _claim(db)
    outcomes = Outcomes()
    outcomes.sent(sent, T0, "m-1")
    outcomes.later(later, T0 + timedelta(hours=8))  # quiet hours: no attempt used
    outcomes.retry(retried, T0 + timedelta(seconds=4), "telegram: Timed out")
    outcomes.skipped(skipped, "chat opted out")
    outcomes.held(held, "whatsapp is not running")
    await _write(db, outcomes)
    rows = {row.id: row for row in await _rows(db)}
    states = [
        (rows[r.id].status, rows[r.id].attempts, rows[r.id].due_at, rows[r.id].last_error)
        for r in (sent, later, retried, skipped, held)
    ]
    assert states == [
        (NotificationStatus.SENT, 1, T0, None),
        (NotificationStatus.PENDING, 0, T0 + timedelta(hours=8), None),
        (NotificationStatus.PENDING, 1, T0 + timedelta(seconds=4), "telegram: Timed out"),
        (NotificationStatus.SKIPPED, 1, T0, "chat opted out"),
        (NotificationStatus.HELD, 1, T0, "whatsapp is not running"),
    ]
    assert (rows[sent.id].provider_message_id, rows[sent.id].sent_at) == ("m-1", T0)
    assert all(row.lease_until is None for row in rows.values())


async def test_a_dead_letter_tells_every_staff_chat_once(db: Database) -> None:
    (chat,), staff_chat = await _chats(db, staff=2)
    await _queue(db, chat)
    (row,) = await _claim(db)
    for _ in range(2):  # noted twice (a retried write): still one alert per staff chat
        outcomes = Outcomes()
        outcomes.dead(row, "telegram: Chat not found", "50**")
        await _write(db, outcomes)
    rows = await _rows(db)
    assert rows[0].status is NotificationStatus.DEAD
    alerts = [r for r in rows if r.kind is NotificationKind.STAFF_ALERT]
    assert sorted(r.chat_id for r in alerts) == [staff_chat, staff_chat + 1]
    assert alerts[0].payload == {
        "alert": "dead_letter",
        "code": "-",
        "chat": "50**",
        "error": "telegram: Chat not found",
    }


async def test_a_dead_staff_alert_raises_no_alert_about_itself(db: Database) -> None:
    await _chats(db, staff=1, customers=0)
    late: LateAlert = {"alert": "late", "code": "INV-1", "phase": "paid", "stage": ""}
    async with db.transaction() as s:
        await alert_staff(s, [Alert(late, "late:1")], now=T0)
    (row,) = await _claim(db)
    outcomes = Outcomes()
    outcomes.dead(row, "telegram: Forbidden", "9**")
    await _write(db, outcomes)
    assert len(await _rows(db)) == 1


async def test_a_blocked_chat_is_closed_and_staff_are_not_alerted(db: Database) -> None:
    (chat,), _ = await _chats(db, staff=1)
    await _queue(db, chat)
    (row,) = await _claim(db)
    outcomes = Outcomes()
    outcomes.blocked(row, "telegram: Forbidden: bot was blocked by the user")
    await _write(db, outcomes)
    (dead,) = await _rows(db)
    assert dead.status is NotificationStatus.DEAD
    async with db.sessions() as s:
        closed = await s.get(Chat, chat)
    assert closed is not None and not closed.active and not closed.reachable
    assert closed.inactive_reason == "telegram: Forbidden: bot was blocked by the user"


async def test_a_push_needing_a_template_is_held_and_other_staff_told_once_per_kind(
    db: Database,
) -> None:
    (chat,), staff_chat = await _chats(db, staff=2)
    await _queue(db, chat, "a")
    await _queue(db, staff_chat, "b")  # a staff chat itself outside the window
    first, second = await _claim(db)
    outcomes = Outcomes()
    outcomes.needs_template(first, chat, "+62***")
    outcomes.needs_template(second, staff_chat, "+62***")
    await _write(db, outcomes)
    rows = await _rows(db)
    assert [r.status for r in rows[:2]] == [NotificationStatus.HELD] * 2
    alerts = [r for r in rows if r.kind is NotificationKind.STAFF_ALERT]
    # One alert per kind and chat; never to the chat that cannot be reached.
    assert [r.chat_id for r in alerts] == [staff_chat, staff_chat + 1]


async def test_outcomes_whose_write_failed_are_written_with_the_next(db: Database) -> None:
    chats, _ = await _chats(db, customers=2)
    for n, chat in enumerate(chats):
        await _queue(db, chat, f"k{n}")
    first, second = await _claim(db)
    outcomes = Outcomes()
    outcomes.sent(first, T0, "m-1")
    taken = outcomes.take()
    assert len(outcomes) == 0
    outcomes.sent(second, T0, "m-2")  # noted while the failed write was under way
    outcomes.put_back(taken)
    assert len(outcomes) == 2
    await _write(db, outcomes)
    assert [r.provider_message_id for r in await _rows(db)] == ["m-1", "m-2"]


@pytest.mark.parametrize(
    ("verdict", "status", "via_template", "due", "chat_active"),
    [
        (Verdict.NOTED, NotificationStatus.SENT, False, T0, True),
        (Verdict.RESEND_AS_TEMPLATE, NotificationStatus.PENDING, True, T0 + LEASE, True),
        (Verdict.RETRY, NotificationStatus.PENDING, False, T0 + 2 * LEASE, True),
        (Verdict.UNREACHABLE, NotificationStatus.SENT, False, T0, False),
    ],
)
async def test_a_delivery_report_moves_its_row_as_its_verdict_says(
    db: Database,
    verdict: Verdict,
    status: NotificationStatus,
    via_template: bool,
    due: datetime,
    chat_active: bool,
) -> None:
    (chat,), _ = await _chats(db)
    await _queue(db, chat)
    (row,) = await _claim(db)
    outcomes = Outcomes()
    outcomes.sent(row, T0, "SM1")
    await _write(db, outcomes)
    report = DeliveryReport("SM1", "failed", "63016", verdict)
    async with db.transaction() as s:
        assert await apply_delivery_report(s, report, T0 + LEASE)
        assert not await apply_delivery_report(s, DeliveryReport("SM-reply", "read", None), T0)
    (stored,) = await _rows(db)
    assert (stored.status, stored.via_template, stored.due_at) == (status, via_template, due)
    assert (stored.delivery_status, stored.delivery_error_code) == ("failed", "63016")
    async with db.sessions() as s:
        found = await s.get(Chat, chat)
    assert found is not None and found.active is chat_active


async def _sent_as(db: Database, message_id: str) -> int:
    """One push, sent, the platform calling it `message_id`; return its chat."""
    (chat,), _ = await _chats(db)
    await _queue(db, chat)
    (row,) = await _claim(db)
    outcomes = Outcomes()
    outcomes.sent(row, T0, message_id)
    await _write(db, outcomes)
    return chat


async def _report(db: Database, message_id: str, status: str, code: str | None = None) -> bool:
    verdict = Verdict.RESEND_AS_TEMPLATE if code == "63016" else Verdict.NOTED
    if code == "63024":
        verdict = Verdict.UNREACHABLE
    async with db.transaction() as s:
        return await apply_delivery_report(s, DeliveryReport(message_id, status, code, verdict), T0)


@pytest.mark.parametrize(
    ("reports", "stored"),
    [
        (["delivered", "sent"], "delivered"),
        (["read", "delivered", "sent", "queued"], "read"),
        (["sent", "queued", "sending"], "sent"),
        (["queued", "sent", "delivered", "read"], "read"),
        (["failed", "delivered", "read"], "failed"),
        (["undelivered", "sent"], "undelivered"),
        (["delivered", "failed"], "delivered"),
        (["read", "undelivered"], "read"),
    ],
)
async def test_delivery_status_only_moves_forward_whatever_order_reports_come_in(
    db: Database, reports: list[str], stored: str
) -> None:
    await _sent_as(db, "SM1")
    for status in reports:
        assert await _report(db, "SM1", status)
    (row,) = await _rows(db)
    assert row.delivery_status == stored


@pytest.mark.parametrize("code", ["63016", "63024"])
async def test_a_failure_reported_after_delivery_changes_nothing(db: Database, code: str) -> None:
    chat = await _sent_as(db, "SM1")
    await _report(db, "SM1", "delivered")
    await _report(db, "SM1", "failed", code)
    (row,) = await _rows(db)
    assert (row.status, row.via_template, row.due_at) == (NotificationStatus.SENT, False, T0)
    assert (row.delivery_status, row.delivery_error_code) == ("delivered", None)
    async with db.sessions() as s:
        found = await s.get(Chat, chat)
    assert found is not None and found.active


async def test_a_push_sent_again_hears_the_reports_of_its_new_message(db: Database) -> None:
    await _sent_as(db, "SM1")
    await _report(db, "SM1", "sent")
    await _report(db, "SM1", "failed", "63016")  # outside the window: again, as a template
    (again,) = await _claim(db, T0 + LEASE)
    assert again.via_template
    outcomes = Outcomes()
    outcomes.sent(again, T0 + LEASE, "SM2")
    await _write(db, outcomes)
    (row,) = await _rows(db)
    assert (row.delivery_status, row.delivery_error_code) == (None, None)
    assert await _report(db, "SM2", "delivered")
    assert not await _report(db, "SM1", "read")  # about the old message: no row has it now
    (row,) = await _rows(db)
    assert (row.status, row.delivery_status) == (NotificationStatus.SENT, "delivered")


async def test_withdraw_takes_back_only_what_is_still_pending(db: Database) -> None:
    async with db.transaction() as s:
        kaos = await factories.product(s, "KAOS", stock=2)
        sari = await factories.customer(s, "081234567890")
        await factories.customer_chat(s, sari, Channel.TELEGRAM, "5001")
        await factories.customer_chat(s, sari, Channel.WHATSAPP, "+6281234567890")
        await place_order(s, code="INV-1", customer=sari, lines=[(kaos, 1)], now=T0)
    first, second = await _rows(db)
    async with db.transaction() as s:
        (claimed,) = await claim(s, now=T0, limit=1, lease=LEASE)
        assert first.event_id is not None
        await withdraw(s, first.event_id, "undone by staff")
    rows = await _rows(db)
    assert rows[0].status is NotificationStatus.SENDING  # already on its way
    assert (rows[1].status, rows[1].last_error) == (NotificationStatus.WITHDRAWN, "undone by staff")
    assert claimed.id == first.id and second.id == rows[1].id


async def test_audiences_customer_chats_and_reseller_chats_the_reseller_winning(
    db: Database,
) -> None:
    async with db.transaction() as s:
        rina = await factories.customer(s, "081299990000", "Rina")
        rina_chat = await factories.customer_chat(s, rina, Channel.WHATSAPP, "+6281299990000")
        mawar = await factories.reseller(s, "MAWAR", "Mawar", telegram_id=7007)
        # Mawar's own Telegram chat is linked to Rina's orders too (she ordered for herself).
        mawar_chat = await factories.customer_chat(s, rina, Channel.TELEGRAM, "7007")
        nobody = await factories.customer(s, "081200001111", "Budi")
        heard = await audiences_of(
            s,
            [
                Parties(1, rina.id, None),
                Parties(2, rina.id, mawar.id),
                Parties(3, nobody.id, None),
            ],
        )
    assert heard == {
        1: [Recipient(rina_chat.id, "customer"), Recipient(mawar_chat.id, "customer")],
        2: [Recipient(rina_chat.id, "customer"), Recipient(mawar_chat.id, "reseller")],
    }  # order 3: nobody to tell
