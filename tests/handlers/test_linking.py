"""Linking a chat in the conversation: private chats only, one order per invoice, /putus."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from handlers.types import Incoming, Reply, SharedContact
from models import Chat, ChatLink, Notification, Order, OrderLink
from models.enums import Channel, NotificationKind, Phase
from models.placing import place_order
from models.storage import Database
from tests.support import factories
from tests.support.shop import Shop, attach, open_shop


@pytest.fixture
async def shop(db: Database) -> AsyncIterator[Shop]:
    """The demo shop on SQLite and on PostgreSQL."""
    yield await open_shop(db)


async def in_group(shop: Shop, persona: str, text: str = "", **extra: object) -> list[Reply]:
    """A persona writes in the console group "keluarga"."""
    incoming = Incoming(
        channel=Channel.CONSOLE,
        chat="keluarga",
        sender=persona,
        name=persona.title(),
        text=text,
        group=True,
        **extra,  # type: ignore[arg-type]
    )
    return await shop.conversation.handle(incoming)


async def links_of(shop: Shop, address: str) -> tuple[list[int], list[str]]:
    """The customers and the order codes a chat is linked to."""
    async with shop.db.sessions() as s:
        chat = await s.scalar(select(Chat.id).where(Chat.address == address))
        customers = await s.scalars(select(ChatLink.customer_id).where(ChatLink.chat_id == chat))
        orders = await s.scalars(
            select(Order.code)
            .join(OrderLink, OrderLink.order_id == Order.id)
            .where(OrderLink.chat_id == chat)
            .order_by(Order.code)
        )
        return list(customers), list(orders)


async def link_code(shop: Shop, code: str) -> str:
    async with shop.db.sessions() as s:
        found = await s.scalar(select(Order.link_code).where(Order.code == code))
        assert found is not None
        return found


# ------------------------------------------------------------------ groups


async def test_a_contact_shared_in_a_group_links_nothing_and_says_so(shop: Shop) -> None:
    own = SharedContact("6281234567890", "sari")  # Sari's own number, shared in a group
    [reply] = await in_group(shop, "sari", contact=own)
    assert reply.text == shop.t("id", "link.private_only")
    assert await links_of(shop, "keluarga") == ([], [])
    await shop.say("dewi", "/bayar INV-1001")
    pushed = await shop.deliver()
    assert "keluarga" not in [who for who, _ in pushed]
    assert "sari" in [who for who, _ in pushed]


async def test_a_link_code_in_a_group_links_nothing(shop: Shop) -> None:
    [reply] = await in_group(shop, "tamu", f"/start {shop.links['INV-1001']}")
    assert reply.text == shop.t("id", "group.private_only")
    assert await links_of(shop, "keluarga") == ([], [])


# ------------------------------------------------------------------ numbers from abroad


async def test_a_hong_kong_contact_does_not_open_an_indonesian_customers_orders(
    shop: Shop,
) -> None:
    async with shop.db.transaction() as s:
        budi = await factories.customer(s, "+6285251234567", "Budi")
        kaos = await factories.product(s, "KAOS-HK", stock=3)
        await place_order(s, code="INV-852", customer=budi, lines=[(kaos, 1)])
    # Telegram sends the Hong Kong user's own number without its plus.
    answer = await shop.text("tamu", "", contact=SharedContact("85251234567", "tamu"))
    assert answer == shop.t("id", "contact.not_found")
    assert "INV-852" not in await shop.text("tamu", "/pesanan")
    assert await links_of(shop, "tamu") == ([], [])


# ------------------------------------------------------------------ one invoice, one order


async def test_an_invoice_link_opens_that_order_and_only_its_news(shop: Shop) -> None:
    linked = await shop.text("tamu", f"/start {shop.links['INV-1002']}")
    assert "INV-1002" in linked
    assert "INV-1001" not in await shop.text("tamu", "/pesanan")
    assert await shop.text("tamu", "/status INV-1001") == shop.t(
        "id", "status.not_found", code="INV-1001"
    )
    await shop.deliver()
    await shop.say("dewi", "/bayar INV-1001")
    assert [who for who, _ in await shop.deliver()] == ["sari"]
    await shop.say("dewi", "/bayar INV-1002")
    assert sorted(who for who, _ in await shop.deliver()) == ["sari", "tamu"]


async def test_a_stranger_typing_a_code_is_told_how_to_link_whether_it_exists_or_not(
    shop: Shop,
) -> None:
    hint = shop.t("id", "status.how_to_link")
    real = await shop.text("tamu", "pesanan INV-1001 sudah sampai mana?")
    made_up = await shop.text("tamu", "pesanan INV-1009 sudah sampai mana?")
    assert real == f"{shop.t('id', 'status.not_found', code='INV-1001')}\n{hint}"
    assert made_up == real.replace("INV-1001", "INV-1009")  # nothing tells them apart
    assert "Sari" not in real and "Kaos" not in real


async def test_a_typed_phone_number_opens_nothing_and_says_what_does(shop: Shop) -> None:
    before = await shop.snapshot()
    # Sari's number, typed by a stranger: anyone can type anyone's number.
    said = await shop.text("tamu", "ini no hp saya 0812-3456-7890 kak")
    assert said == shop.t("id", "link.typed_phone_no_button")
    assert "INV-100" not in await shop.text("tamu", "/pesanan")
    [asked] = re.findall(r'"([^"]+)"', said)  # the words it suggests reach a person
    assert (await shop.text("tamu", asked)).startswith(shop.t("id", "support.ack.asked", number=1))
    # On Telegram the number is shared with the button, which it points to.
    stranger = Incoming(Channel.TELEGRAM, "555", "555", "Tamu", text="nomor saya 081234567890")
    [reply] = await shop.conversation.handle(stranger)
    assert reply.text == shop.t("id", "link.typed_phone")
    assert reply.contact_button == shop.t("id", "menu.share_phone")
    assert await shop.snapshot(but_handovers=True) == before


async def test_the_customer_hears_of_a_new_chat_and_cuts_it_off(shop: Shop) -> None:
    old = shop.links["INV-1002"]
    await shop.say("tamu", f"/start {old}")
    [(who, notice)] = await shop.deliver(after=0)
    assert who == "sari"
    assert notice.text == shop.t(
        "id", "link.notice.code", channel="console", orders="INV-1002", code="INV-1002"
    )
    answer = await shop.text("sari", "/putus INV-1002")
    assert answer == shop.t("id", "unlink.others", code="INV-1002", count=1)
    assert "INV-1002" not in await shop.text("tamu", "/pesanan")
    # The forwarded invoice opens nothing any more, for anyone.
    assert await shop.text("tamu", f"/start {old}") == shop.t("id", "start.bad_code")
    assert await link_code(shop, "INV-1002") != old
    assert "INV-1002" in await shop.text("sari", "/pesanan")  # hers by her number


async def test_unlink_one_order_or_all_from_the_chat_itself(shop: Shop) -> None:
    await shop.say("tamu", f"/start {shop.links['INV-1002']}")
    await shop.say("tamu", f"/start {shop.links['INV-1003']}")
    assert await shop.text("tamu", "/putus inv-1002") == shop.t(
        "id", "unlink.done", code="INV-1002"
    )
    assert await links_of(shop, "tamu") == ([], ["INV-1003"])
    assert await shop.text("tamu", "/putus INV-1002") == shop.t(
        "id", "status.not_found", code="INV-1002"
    )
    assert await shop.text("tamu", "/unlink") == shop.t("id", "unlink.all")
    assert await links_of(shop, "tamu") == ([], [])
    assert await shop.text("tamu", "/putus") == shop.t("id", "unlink.none")


async def test_a_finished_orders_code_stops_linking_after_link_code_days(shop: Shop) -> None:
    ended = shop.clock.now - timedelta(days=shop.settings.link_code_days, minutes=1)
    async with shop.db.transaction() as s:
        await s.execute(
            update(Order)
            .where(Order.code == "INV-1002")
            .values(phase=Phase.DELIVERED, phase_entered_at=ended)
        )
    answer = await shop.text("tamu", f"/start {shop.links['INV-1002']}")
    assert answer == shop.t("id", "start.bad_code")
    assert await links_of(shop, "tamu") == ([], [])


async def test_a_chat_linked_to_one_order_speaks_its_customers_language(shop: Shop) -> None:
    await shop.say("tamu", f"/start {shop.links['DS-2001']}")  # Rina ordered in English
    assert await shop.text("tamu", "/pesanan") != shop.t("id", "orders.none")
    assert shop.t("en", "orders.title") in await shop.text("tamu", "/orders")


async def test_a_handover_shows_staff_the_orders_the_chat_sees_only(shop: Shop) -> None:
    await shop.say("tamu", f"/start {shop.links['INV-1002']}")
    await shop.say("tamu", "mau bicara sama admin")
    async with shop.db.sessions() as s:
        forward = await s.scalar(
            select(Notification.payload).where(Notification.kind == NotificationKind.HANDOVER)
        )
    assert forward is not None
    assert [code for code, _, _ in forward["orders"]] == ["INV-1002"]


async def test_a_subscriber_who_sees_no_waiting_order_hears_it_is_back_in_stock(
    shop: Shop,
) -> None:
    # INV-1003 (Sari's) waits for KAOS-PTH-L; the chat that opened INV-1002 does not see it.
    await shop.say("tamu", f"/start {shop.links['INV-1002']}")
    await shop.say("tamu", "/kabari KAOS-PTH-L")
    await shop.deliver()
    await shop.say("dewi", "/stokset KAOS-PTH-L +3")
    told = {who: reply.text for who, reply in await shop.deliver()}
    assert "INV-1003" not in told["tamu"]
    assert "KAOS-PTH-L" in told["tamu"]
    assert "INV-1003" in told["sari"]


# ------------------------------------------------------------------ guessing codes


async def test_ten_wrong_link_codes_make_a_chat_wait_and_nothing_is_looked_up(
    shop: Shop,
) -> None:
    for n in range(10):
        answer = await shop.text("tamu", f"/start WRONG{n:02d}aaaaaaaaaaaaaaa")
        assert answer == shop.t("id", "start.bad_code")
    wait = shop.t("id", "start.wait", minutes=10)
    # Even the right code is not looked up now.
    assert await shop.text("tamu", f"/start {shop.links['INV-1002']}") == wait
    assert await links_of(shop, "tamu") == ([], [])
    shop.clock.advance(9 * 60 + 1)
    assert await shop.text("tamu", "kabar WRONGxxaaaaaaaaaaaaaaa") == shop.t(
        "id", "start.wait", minutes=1
    )
    # Another process, or the same one restarted, counts from the same row.
    again = attach(shop.db, shop.links)
    again.clock.now = shop.clock.now
    assert await again.text("tamu", "/start WRONG99aaaaaaaaaaaaaaa") == shop.t(
        "id", "start.wait", minutes=1
    )
    await shop.say("tamu", "/bahasa en")
    assert await shop.text("tamu", "/start WRONG99aaaaaaaaaaaaaaa") == shop.t(
        "en", "start.wait", minutes=1
    )
    # Other chats are not held back, and the window passes.
    assert "INV-1001" in await shop.text("rina", f"/start {shop.links['INV-1001']}")
    shop.clock.advance(60)
    assert "INV-1002" in await shop.text("tamu", f"/start {shop.links['INV-1002']}")


async def test_failed_codes_count_in_the_database_all_of_them(shop: Shop) -> None:
    for n in range(3):
        await shop.say("tamu", f"/start nope{n}")
    async with shop.db.sessions() as s:
        chat = await s.scalar(select(Chat).where(Chat.address == "tamu"))
        assert chat is not None
        assert (chat.link_failures, chat.link_failures_since) == (3, shop.clock.now)
    shop.clock.advance(10 * 60)  # a new window starts with the next failure
    await shop.say("tamu", "/start nope")
    async with shop.db.sessions() as s:
        chat = await s.scalar(select(Chat).where(Chat.address == "tamu"))
        assert chat is not None
        assert (chat.link_failures, chat.link_failures_since) == (1, shop.clock.now)


async def test_the_customer_hears_when_their_number_links_a_new_chat(shop: Shop) -> None:
    # Sari writes on WhatsApp for the first time: her number links her orders there, and her
    # chat that knew her number first is told.
    incoming = Incoming(
        Channel.WHATSAPP,
        "+6281234567890",
        "+6281234567890",
        "Sari",
        text="halo",
        phone_verified=True,
        message_id="SM0001",
    )
    await shop.conversation.handle(incoming)
    [(who, notice)] = await shop.deliver(after=0)
    assert who == "sari"
    assert notice.text == shop.t(
        "id", "link.notice.phone", channel="WhatsApp", orders="INV-1003, INV-1002, INV-1001"
    )
    await shop.conversation.handle(replace(incoming, message_id="SM0002"))
    assert await shop.deliver(after=0) == []  # linked already: nothing new to tell
