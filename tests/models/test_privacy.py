"""Forgetting a customer: name, number, chats and messages go; the orders stay, anonymised."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import ColumnElement, func, select

from handlers.types import Attachment
from models import Base, Chat, ChatLink, ChatMessage, Customer, Notification, Order, OrderLink
from models.chats import get_or_create_chat
from models.enums import Channel, NotificationKind
from models.linking import link_by_code, link_by_phone
from models.privacy import FORGOTTEN_NAME, forget_customer, forgotten_phone
from models.storage import Database
from models.support import SupportThread
from tests.support.shop import Shop, open_shop

SARI = "+6281234567890"


@pytest.fixture
async def shop(db: Database) -> AsyncIterator[Shop]:
    """The demo shop, Sari also on WhatsApp, on Telegram by an invoice, in a family chat."""
    shop = await open_shop(db)
    async with db.transaction() as s:
        whatsapp = await get_or_create_chat(s, Channel.WHATSAPP, SARI)
        await link_by_phone(s, whatsapp, SARI)
        telegram = await get_or_create_chat(s, Channel.TELEGRAM, "5001")
        assert await link_by_code(s, telegram, shop.links["INV-1001"])
        family = await get_or_create_chat(s, Channel.TELEGRAM, "5099")
        assert await link_by_code(s, family, shop.links["INV-1002"])
        assert await link_by_code(s, family, shop.links["DS-2001"])  # Rina's
    await shop.say("sari", "pesanan saya sudah sampai mana?")
    await shop.say("sari", "mau bicara sama admin")  # a thread: staff get her messages
    await shop.say("dewi", "/bayar DS-2001")
    await shop.deliver()
    yield shop


async def count(db: Database, model: type[Base], *where: ColumnElement[bool]) -> int:
    async with db.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def chat_id(db: Database, channel: Channel, address: str) -> int | None:
    async with db.sessions() as s:
        return await s.scalar(
            select(Chat.id).where(Chat.channel == channel, Chat.address == address)
        )


async def test_forgetting_a_customer_erases_them_and_keeps_their_orders(shop: Shop) -> None:
    db = shop.db
    sari_chat = await chat_id(db, Channel.CONSOLE, "sari")
    dewi_chat = await chat_id(db, Channel.CONSOLE, "dewi")
    family = await chat_id(db, Channel.TELEGRAM, "5099")
    assert await count(db, ChatMessage, ChatMessage.chat_id == sari_chat) >= 4
    forwards = await count(db, Notification, Notification.kind == NotificationKind.HANDOVER)
    assert forwards >= 1
    staff_log = await count(db, ChatMessage, ChatMessage.chat_id == dewi_chat)

    async with db.transaction() as s:
        forgotten = await forget_customer(s, SARI)
    assert forgotten is not None
    # Her console chat, her WhatsApp and the Telegram chat of her invoice are gone; the
    # family chat also sees Rina's order: it stays, without Sari's.
    assert forgotten.chats == 3 and forgotten.orders == 3
    for channel, address in ((Channel.CONSOLE, "sari"), (Channel.WHATSAPP, SARI),
                             (Channel.TELEGRAM, "5001")):  # fmt: skip
        assert await chat_id(db, channel, address) is None
    assert await count(db, ChatMessage, ChatMessage.chat_id == sari_chat) == 0
    async with db.sessions() as s:
        person = await s.scalar(select(Customer).where(Customer.id == forgotten.customer_id))
        assert person is not None
        assert (person.name, person.phone, person.language) == (
            FORGOTTEN_NAME,
            forgotten_phone(person.id),
            None,
        )
        assert not await s.scalar(
            select(func.count()).select_from(Customer).where(Customer.phone == SARI)
        )
        codes = await s.scalars(
            select(Order.code).where(Order.customer_id == person.id).order_by(Order.code)
        )
        assert list(codes) == ["INV-1001", "INV-1002", "INV-1003"]
        assert person.id not in list(await s.scalars(select(ChatLink.customer_id)))
        family_sees = await s.scalars(
            select(Order.code)
            .join(OrderLink, OrderLink.order_id == Order.id)
            .where(OrderLink.chat_id == family)
        )
        assert list(family_sees) == ["DS-2001"]
    # What staff were forwarded of her thread is gone from their chat too.
    assert await count(db, Notification, Notification.kind == NotificationKind.HANDOVER) == 0
    assert await count(db, ChatMessage, ChatMessage.chat_id == dewi_chat) == staff_log - forwards
    assert forgotten.messages > forwards
    # She is nobody now: her number, written again, finds no one and opens nothing.
    async with db.transaction() as s:
        again = await get_or_create_chat(s, Channel.WHATSAPP, SARI)
        assert await link_by_phone(s, again, SARI) is None
        assert await forget_customer(s, SARI) is None


async def test_pushes_that_stay_lose_the_customers_name(shop: Shop) -> None:
    async with shop.db.transaction() as s:
        forgotten = await forget_customer(s, "+6281399990000")  # Rina: Mawar's dropship customer
    assert forgotten is not None
    async with shop.db.sessions() as s:
        names = {
            payload["customer_name"]
            for payload in await s.scalars(
                select(Notification.payload).where(
                    Notification.kind == NotificationKind.ORDER_UPDATE
                )
            )
        }
    assert "Rina" not in names
    assert FORGOTTEN_NAME in names  # the reseller's pushes about DS-2001 stay
    assert await chat_id(shop.db, Channel.TELEGRAM, "5099") is not None  # Sari's order still


async def test_forgotten_orders_keep_no_recipient_or_address(shop: Shop) -> None:
    await shop.say("dewi", f"/pesananbaru Sari; {SARI}; KAOS-HTM-L 1; Jl. Melati 5 Bandung")
    async with shop.db.transaction() as s:
        forgotten = await forget_customer(s, SARI)
    assert forgotten is not None and forgotten.orders == 4
    async with shop.db.sessions() as s:
        where = (
            await s.execute(
                select(Order.recipient_name, Order.recipient_phone, Order.address).where(
                    Order.customer_id == forgotten.customer_id
                )
            )
        ).all()
    assert len(where) == 4 and set(where) == {(None, None, None)}


async def test_staff_chats_keep_nothing_of_a_forgotten_customer(shop: Shop) -> None:
    db = shop.db
    dewi = await chat_id(db, Channel.CONSOLE, "dewi")
    async with db.sessions() as s:
        thread = await s.scalar(select(SupportThread.id))
        forward = await s.scalar(
            select(Notification.provider_message_id).where(
                Notification.kind == NotificationKind.HANDOVER, Notification.chat_id == dewi
            )
        )
    assert thread is not None and forward is not None
    await shop.say("dewi", f"/balas {thread} Halo kak Sari, sudah kami cek")
    await shop.say("dewi", "Besok dikirim ya kak", reply_to=forward)  # quoting her message
    await shop.say("dewi", f"/balas {thread}", attachment=Attachment("document", "surat-sari.pdf"))
    await shop.say("dewi", f"/selesai {thread}")
    await shop.deliver()
    await shop.say("sari", "INV-1003 ya kak, atas nama Sari Lestari", photo="tf-sari-1003")
    await shop.say("dewi", "/pesananbaru Sari Lestari; 0812-3456-7890; KAOS-HTM-L 1; Jl. Melati 5")
    await shop.say("dewi", "/antrian")  # about no one: it stays
    pushed = await shop.deliver()
    assert any(reply.photo == "tf-sari-1003" for who, reply in pushed if who == "dewi")

    async with db.transaction() as s:
        assert await forget_customer(s, SARI) is not None

    left: list[str] = []
    async with db.sessions() as s:
        for table in Base.metadata.sorted_tables:
            for row in await s.execute(select(table)):
                left += [f"{table.name}: {value}" for value in row if value is not None]
    traces = ("Sari", "1234567890", "3456-7890", "Melati", "tf-sari", "kami cek", "Besok", "surat")
    for trace in traces:
        assert not [where for where in left if trace in where], trace
    async with db.sessions() as s:
        kept = [
            (direction, text)
            for direction, text in await s.execute(
                select(ChatMessage.direction, ChatMessage.text)
                .where(ChatMessage.chat_id == dewi)
                .order_by(ChatMessage.id)
            )
        ]
    asked = kept.index(("in", "/antrian"))
    assert kept[asked + 1][0] == "out"  # kabar's answer to it stays too
    assert ("in", f"/selesai {thread}") in kept
