"""Linking chats to orders: a chat sees the orders linked to it, its reseller's, nothing else."""

from __future__ import annotations

import asyncio
import itertools
import math
import re
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.audience import audiences_of
from models.base import utcnow
from models.chats import get_or_create_chat, touch_inbound
from models.enums import Channel, NotificationKind, Phase
from models.linking import (
    LINK_CODE_BYTES,
    Unlinked,
    chat_orders,
    is_link_code,
    known_as,
    link_by_code,
    link_by_phone,
    linked_customer_ids,
    new_link_code,
    order_visible_to_chat,
    seen_order_ids,
    sees_order,
    unlink,
)
from models.orders import Order
from models.outbox import Notification
from models.people import Chat, ChatLink, Customer, OrderLink, Reseller
from models.placing import place_order
from models.storage import Database
from tests.support import factories
from tests.support.database import sqlite_file

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
URL_SAFE = set(string.ascii_letters + string.digits + "-_")


async def order_for(
    s: AsyncSession, code: str, person: Customer, *, reseller: Reseller | None = None
) -> Order:
    """Place a one-line ready-stock order."""
    kaos = await factories.product(s, f"KAOS-{code}", stock=5)
    return await place_order(s, code=code, customer=person, lines=[(kaos, 1)], reseller=reseller)


async def links(db: Database) -> list[tuple[int, int, str]]:
    async with db.sessions() as s:
        rows = await s.execute(
            select(ChatLink.chat_id, ChatLink.customer_id, ChatLink.via).order_by(
                ChatLink.chat_id, ChatLink.customer_id
            )
        )
        return [(r.chat_id, r.customer_id, r.via) for r in rows]


async def order_links(db: Database) -> list[tuple[int, str]]:
    """Each (chat, order code) a link code opened."""
    async with db.sessions() as s:
        rows = await s.execute(
            select(OrderLink.chat_id, Order.code)
            .join(Order, Order.id == OrderLink.order_id)
            .order_by(OrderLink.chat_id, Order.code)
        )
        return [(chat_id, code) for chat_id, code in rows]


async def visible(db: Database, chat_id: int, code: str) -> str | None:
    """The code of the order the chat is shown when it asks for `code`, or None."""
    async with db.sessions() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        order = await order_visible_to_chat(s, chat, code)
        return None if order is None else order.code


@pytest.fixture
async def shop(db: Database) -> Database:
    """Sari with INV-1 and INV-2, Budi with INV-3."""
    async with db.transaction() as s:
        sari = await factories.customer(s, "0812-3456-7890", "Sari")
        budi = await factories.customer(s, "0813-1111-2222", "Budi")
        await order_for(s, "INV-1", sari)
        await order_for(s, "INV-2", sari)
        await order_for(s, "INV-3", budi)
    return db


async def link_code_of(db: Database, code: str) -> str:
    async with db.sessions() as s:
        link_code = await s.scalar(select(Order.link_code).where(Order.code == code))
        assert link_code is not None
        return link_code


async def customer_id(db: Database, phone: str) -> int:
    async with db.sessions() as s:
        found = await s.scalar(select(Customer.id).where(Customer.phone == phone))
        assert found is not None
        return found


async def new_chat(db: Database, channel: Channel, address: str) -> int:
    async with db.transaction() as s:
        return (await get_or_create_chat(s, channel, address)).id


def test_link_codes_are_url_safe_short_unguessable_and_distinct() -> None:
    codes = [new_link_code() for _ in range(10_000)]
    assert len(set(codes)) == len(codes)
    assert LINK_CODE_BYTES * 8 >= 96
    for code in codes:
        assert set(code) <= URL_SAFE, code
        assert len(code) <= 64  # Telegram's /start payload limit
        # 16 random bytes in base64 without padding: 22 characters, 128 bits.
        assert len(code) == math.ceil(LINK_CODE_BYTES * 4 / 3) == 22
    # Every URL-safe character turns up: the codes are not drawn from a narrow alphabet.
    assert set("".join(codes)) == URL_SAFE


async def test_every_placed_order_gets_its_own_link_code(shop: Database) -> None:
    codes = [await link_code_of(shop, c) for c in ("INV-1", "INV-2", "INV-3")]
    assert len(set(codes)) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", c) for c in codes)


async def test_first_contact_creates_a_chat_and_later_contacts_find_it(db: Database) -> None:
    async with db.transaction() as s:
        first = await get_or_create_chat(s, Channel.TELEGRAM, "5001")
        again = await get_or_create_chat(s, Channel.TELEGRAM, "5001")
        other_channel = await get_or_create_chat(s, Channel.WHATSAPP, "5001")
        assert again.id == first.id
        assert other_channel.id != first.id
        assert first.active and not first.opted_out and first.reachable
    async with db.transaction() as s:
        assert (await get_or_create_chat(s, Channel.TELEGRAM, "5001")).id == first.id
        assert await s.scalar(select(func.count()).select_from(Chat)) == 2


async def test_a_link_code_opens_its_order_and_none_of_the_customers_others(
    shop: Database,
) -> None:
    chat_id = await new_chat(shop, Channel.TELEGRAM, "5001")
    code = await link_code_of(shop, "INV-1")
    async with shop.transaction() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        order = await link_by_code(s, chat, code, now=T0)
        assert order is not None and order.code == "INV-1"
    assert await links(shop) == []  # no customer-wide link
    assert await order_links(shop) == [(chat_id, "INV-1")]
    assert await visible(shop, chat_id, "INV-1") == "INV-1"
    assert await visible(shop, chat_id, " inv-1 ") == "INV-1"  # typed loosely
    assert await visible(shop, chat_id, "INV-2") is None  # Sari's, but another invoice
    assert await visible(shop, chat_id, "INV-3") is None  # Budi's
    async with shop.sessions() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        assert [o.code for o in await chat_orders(s, chat, 10)] == ["INV-1"]


async def test_a_strangers_chat_cannot_tell_an_existing_order_from_a_missing_one(
    shop: Database,
) -> None:
    stranger = await new_chat(shop, Channel.WHATSAPP, "+6285700000000")
    budi_chat = await new_chat(shop, Channel.TELEGRAM, "6001")
    budi_code = await link_code_of(shop, "INV-3")
    async with shop.transaction() as s:
        chat = await s.get(Chat, budi_chat)
        assert chat is not None
        assert await link_by_code(s, chat, budi_code) is not None
    for chat_id in (stranger, budi_chat):
        existing = await visible(shop, chat_id, "INV-1")
        missing = await visible(shop, chat_id, "INV-999")
        assert existing is None
        assert existing == missing
    assert await visible(shop, budi_chat, "INV-3") == "INV-3"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "not-a-real-link-code-xxxx",
        "INV-1",  # the order's code is not its link code
        "x" * 65,
        "x" * 10_000,
    ],
)
async def test_unknown_or_over_long_link_code_links_nothing(shop: Database, bad: str) -> None:
    chat_id = await new_chat(shop, Channel.TELEGRAM, "5001")
    async with shop.transaction() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        assert await link_by_code(s, chat, bad) is None
        assert await linked_customer_ids(s, chat) == []
    assert await links(shop) == []
    assert await visible(shop, chat_id, "INV-1") is None


async def test_a_near_miss_of_a_real_link_code_links_nothing(shop: Database) -> None:
    real = await link_code_of(shop, "INV-1")
    chat_id = await new_chat(shop, Channel.TELEGRAM, "5001")
    near_misses = [
        real.swapcase(),  # codes are case-sensitive: base64 uses both cases
        real[:-1],
        real + "A",
        real + " ",
        " " + real,
        real + "x" * (65 - len(real)),  # the real code padded past the limit
    ]
    async with shop.transaction() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        for code in near_misses:
            assert await link_by_code(s, chat, code) is None, code
    assert await links(shop) == []


@pytest.mark.parametrize(
    "odd", ["é" * 64, "😀" * 64, "'; DROP TABLE orders; --", "INV-%", "INV-_", "%", "*"]
)
async def test_odd_text_as_a_link_code_or_order_code_is_just_not_found(
    shop: Database, odd: str
) -> None:
    # Whatever a person types after "kabar" or /start reaches these lookups; Sari's own
    # chat asks, so only an exact code could show her anything.
    chat_id = await new_chat(shop, Channel.WHATSAPP, "+6281234567890")
    sari = await customer_id(shop, "+6281234567890")
    async with shop.transaction() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        assert await link_by_phone(s, chat, "+6281234567890") is not None
        assert await link_by_code(s, chat, odd) is None
        assert await order_visible_to_chat(s, chat, odd) is None
    assert await links(shop) == [(chat_id, sari, "phone")]


async def test_a_nul_character_in_a_link_code_is_just_an_unknown_code(shop: Database) -> None:
    # PostgreSQL refuses NUL in text outright; the lookup must not turn that into an error.
    chat_id = await new_chat(shop, Channel.WHATSAPP, "+6285700000000")
    real = await link_code_of(shop, "INV-1")
    async with shop.transaction() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        assert await link_by_code(s, chat, real + "\x00") is None
    assert await links(shop) == []


async def test_a_nul_character_in_an_order_code_is_just_not_found(shop: Database) -> None:
    chat_id = await new_chat(shop, Channel.WHATSAPP, "+6281234567890")
    async with shop.transaction() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        assert await link_by_phone(s, chat, "+6281234567890") is not None
    async with shop.sessions() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        assert await order_visible_to_chat(s, chat, "INV-1\x00") is None


async def test_verified_phone_links_every_order_of_that_customer(shop: Database) -> None:
    chat_id = await new_chat(shop, Channel.WHATSAPP, "+6281234567890")
    async with shop.transaction() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        person = await link_by_phone(s, chat, "+6281234567890")
        assert person is not None and person.name == "Sari"
    sari = await customer_id(shop, "+6281234567890")
    assert await links(shop) == [(chat_id, sari, "phone")]
    assert await visible(shop, chat_id, "INV-1") == "INV-1"
    assert await visible(shop, chat_id, "INV-2") == "INV-2"
    assert await visible(shop, chat_id, "INV-3") is None


async def test_a_phone_with_no_customer_links_nothing(shop: Database) -> None:
    chat_id = await new_chat(shop, Channel.WHATSAPP, "+6285700000000")
    async with shop.transaction() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        assert await link_by_phone(s, chat, "+6285700000000") is None
        assert await link_by_phone(s, chat, "") is None
    assert await links(shop) == []
    for code in ("INV-1", "INV-2", "INV-3"):
        assert await visible(shop, chat_id, code) is None


async def test_linking_again_by_code_or_phone_is_harmless(shop: Database) -> None:
    chat_id = await new_chat(shop, Channel.TELEGRAM, "5001")
    code_1 = await link_code_of(shop, "INV-1")
    code_2 = await link_code_of(shop, "INV-2")
    sari = await customer_id(shop, "+6281234567890")
    async with shop.transaction() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        assert await link_by_code(s, chat, code_1) is not None
        assert await link_by_code(s, chat, code_1) is not None
        assert await link_by_code(s, chat, code_2) is not None
    assert await order_links(shop) == [(chat_id, "INV-1"), (chat_id, "INV-2")]
    async with shop.transaction() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        assert await link_by_code(s, chat, code_1) is not None
        assert await link_by_phone(s, chat, "+6281234567890") is not None
        assert await link_by_phone(s, chat, "+6281234567890") is not None
        assert await linked_customer_ids(s, chat) == [sari]
    assert await links(shop) == [(chat_id, sari, "phone")]
    assert await visible(shop, chat_id, "INV-1") == "INV-1"


async def test_one_chat_may_be_linked_to_orders_of_several_customers(shop: Database) -> None:
    # A family phone: the same Telegram chat opens Sari's and Budi's invoices.
    chat_id = await new_chat(shop, Channel.TELEGRAM, "5001")
    codes = [await link_code_of(shop, "INV-1"), await link_code_of(shop, "INV-3")]
    async with shop.transaction() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        for code in codes:
            assert await link_by_code(s, chat, code) is not None
    assert await order_links(shop) == [(chat_id, "INV-1"), (chat_id, "INV-3")]
    assert await visible(shop, chat_id, "INV-1") == "INV-1"
    assert await visible(shop, chat_id, "INV-2") is None
    assert await visible(shop, chat_id, "INV-3") == "INV-3"


async def test_a_resellers_chat_sees_the_orders_placed_through_them_only(db: Database) -> None:
    async with db.transaction() as s:
        toko = await factories.reseller(s, "TOKO-A", "Toko Ayu", telegram_id=8001)
        other = await factories.reseller(s, "TOKO-B", "Butik Bunga", telegram_id=8002)
        end_customer = await factories.customer(s, "0812-3456-7890", "Sari")
        await order_for(s, "INV-10", end_customer, reseller=toko)
        await order_for(s, "INV-11", end_customer, reseller=other)
        await order_for(s, "INV-12", end_customer)  # bought from the shop directly
        await order_for(s, "INV-13", await factories.customer(s, "0813-1111-2222"), reseller=toko)
    async with db.sessions() as s:
        toko_chat = await s.scalar(select(Chat.id).where(Chat.address == "8001"))
        other_chat = await s.scalar(select(Chat.id).where(Chat.address == "8002"))
    assert toko_chat is not None and other_chat is not None
    assert await visible(db, toko_chat, "INV-10") == "INV-10"
    assert await visible(db, toko_chat, "INV-13") == "INV-13"
    assert await visible(db, toko_chat, "INV-11") is None
    assert await visible(db, toko_chat, "INV-12") is None
    assert await visible(db, other_chat, "INV-11") == "INV-11"
    assert await visible(db, other_chat, "INV-10") is None
    # Seeing dropship orders does not make the reseller's chat the customer's.
    assert await links(db) == []


async def test_writing_in_reopens_a_blocked_or_opted_out_chat(db: Database) -> None:
    async with db.transaction() as s:
        blocked = await get_or_create_chat(s, Channel.TELEGRAM, "5001")
        blocked.active = False
        blocked.inactive_reason = "Forbidden: bot was blocked by the user"
        stopped = await get_or_create_chat(s, Channel.WHATSAPP, "+6281234567890")
        stopped.opted_out = True
    async with db.sessions() as s:
        chats = list(await s.scalars(select(Chat).order_by(Chat.id)))
        assert [c.reachable for c in chats] == [False, False]
    at = T0 + timedelta(minutes=7)
    async with db.transaction() as s:
        for chat in await s.scalars(select(Chat)):
            touch_inbound(chat, now=at)
    async with db.sessions() as s:
        chats = list(await s.scalars(select(Chat).order_by(Chat.id)))
    assert [(c.active, c.opted_out, c.inactive_reason, c.last_inbound_at) for c in chats] == [
        (True, False, None, at),
        (True, False, None, at),
    ]
    assert all(c.reachable for c in chats)


async def test_writing_in_without_a_time_records_now(db: Database) -> None:
    before = utcnow()
    async with db.transaction() as s:
        chat = await get_or_create_chat(s, Channel.TELEGRAM, "5001")
        assert chat.last_inbound_at is None
        touch_inbound(chat)
    after = utcnow()
    async with db.sessions() as s:
        stored = await s.scalar(select(Chat.last_inbound_at))
    assert stored is not None
    # Stored naive-UTC at microsecond precision, handed back aware.
    assert stored.tzinfo is not None
    assert before <= stored <= after


# ------------------------------------------------------------------ codes that stop working


async def _finish(db: Database, code: str, phase: Phase, at: datetime) -> None:
    async with db.transaction() as s:
        await s.execute(
            update(Order).where(Order.code == code).values(phase=phase, phase_entered_at=at)
        )


@pytest.mark.parametrize("phase", [Phase.DELIVERED, Phase.CANCELLED])
async def test_a_link_code_stops_working_link_code_days_after_its_order_ended(
    shop: Database, phase: Phase
) -> None:
    chat_id = await new_chat(shop, Channel.TELEGRAM, "5001")
    code = await link_code_of(shop, "INV-1")
    now = T0 + timedelta(days=200)
    keep = timedelta(days=60)
    await _finish(shop, "INV-1", phase, now - timedelta(days=61))
    async with shop.transaction() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        assert await link_by_code(s, chat, code, now=now, keep=keep) is None
    await _finish(shop, "INV-1", phase, now - timedelta(days=59))
    async with shop.transaction() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        assert await link_by_code(s, chat, code, now=now, keep=keep) is not None
    # An order still on its way never runs out, however old.
    old_open = await link_code_of(shop, "INV-2")
    async with shop.transaction() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        assert await link_by_code(s, chat, old_open, now=now, keep=keep) is not None


# ------------------------------------------------------------------ the customer is told


async def _notices(db: Database) -> list[tuple[int, dict[str, object]]]:
    async with db.sessions() as s:
        rows = await s.execute(
            select(Notification.chat_id, Notification.payload)
            .where(Notification.kind == NotificationKind.LINK_NOTICE)
            .order_by(Notification.id)
        )
        return [(chat_id, payload) for chat_id, payload in rows]


async def test_the_customers_verified_chats_are_told_when_a_new_chat_links(
    shop: Database,
) -> None:
    whatsapp = await new_chat(shop, Channel.WHATSAPP, "+6281234567890")
    telegram = await new_chat(shop, Channel.TELEGRAM, "5001")
    stranger = await new_chat(shop, Channel.TELEGRAM, "6666")
    helper = await new_chat(shop, Channel.TELEGRAM, "7777")
    async with shop.transaction() as s:
        for chat_id in (whatsapp, telegram):
            chat = await s.get(Chat, chat_id)
            assert chat is not None
            await link_by_phone(s, chat, "+6281234567890", now=T0)
    # The Telegram contact share is told to the WhatsApp chat, which came first.
    assert await _notices(shop) == [
        (whatsapp, {"via": "phone", "channel": "telegram", "orders": ["INV-2", "INV-1"], "more": 0})
    ]
    async with shop.transaction() as s:
        chat = await s.get(Chat, helper)
        assert chat is not None
        assert await link_by_code(s, chat, await link_code_of(shop, "INV-1"), now=T0)
    async with shop.transaction() as s:
        chat = await s.get(Chat, stranger)
        assert chat is not None
        code = await link_code_of(shop, "INV-1")
        assert await link_by_code(s, chat, code, now=T0)
        assert await link_by_code(s, chat, code, now=T0)  # again: nothing new to tell
    told = await _notices(shop)
    new = {"via": "code", "channel": "telegram", "orders": ["INV-1"], "more": 0}
    # Each code link is told to both verified chats, never to the other invoice holder.
    assert told[1:] == [(whatsapp, new), (telegram, new), (whatsapp, new), (telegram, new)]


async def test_a_chat_already_seeing_an_order_linking_it_again_tells_nobody(
    shop: Database,
) -> None:
    whatsapp = await new_chat(shop, Channel.WHATSAPP, "+6281234567890")
    telegram = await new_chat(shop, Channel.TELEGRAM, "5001")
    async with shop.transaction() as s:
        for chat_id in (whatsapp, telegram):
            chat = await s.get(Chat, chat_id)
            assert chat is not None
            await link_by_phone(s, chat, "+6281234567890", now=T0)
    before = await _notices(shop)
    async with shop.transaction() as s:
        chat = await s.get(Chat, telegram)
        assert chat is not None
        assert await link_by_code(s, chat, await link_code_of(shop, "INV-1"), now=T0)
    assert await _notices(shop) == before
    assert await order_links(shop) == []  # its phone link shows it already


# ------------------------------------------------------------------ /putus


async def _unlink(db: Database, chat_id: int, code: str | None, **extra: str) -> Unlinked | None:
    async with db.transaction() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        return await unlink(s, chat, code, **extra)


async def test_unlinking_an_order_cuts_this_chat_off_it_only(shop: Database) -> None:
    chat_id = await new_chat(shop, Channel.TELEGRAM, "5001")
    async with shop.transaction() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        for code in ("INV-1", "INV-2"):
            assert await link_by_code(s, chat, await link_code_of(shop, code), now=T0)
    assert await _unlink(shop, chat_id, "inv-1") == Unlinked(1, order="INV-1")
    assert await visible(shop, chat_id, "INV-1") is None
    assert await visible(shop, chat_id, "INV-2") == "INV-2"
    # An order this chat does not see is not found, whether it exists or not.
    assert await _unlink(shop, chat_id, "INV-1") is None
    assert await _unlink(shop, chat_id, "INV-3") is None
    assert await _unlink(shop, chat_id, "INV-999") is None
    assert await _unlink(shop, chat_id, None) == Unlinked(1)
    assert await order_links(shop) == []
    assert await _unlink(shop, chat_id, None) == Unlinked(0)


async def test_the_customers_own_chat_cuts_every_other_chat_off_an_order(
    shop: Database,
) -> None:
    whatsapp = await new_chat(shop, Channel.WHATSAPP, "+6281234567890")
    stranger = await new_chat(shop, Channel.TELEGRAM, "6666")
    old_code = await link_code_of(shop, "INV-1")
    async with shop.transaction() as s:
        chat = await s.get(Chat, whatsapp)
        assert chat is not None
        await link_by_phone(s, chat, "+6281234567890", now=T0)
        chat = await s.get(Chat, stranger)
        assert chat is not None
        assert await link_by_code(s, chat, old_code, now=T0)
        assert await link_by_code(s, chat, await link_code_of(shop, "INV-2"), now=T0)
    assert await _unlink(shop, whatsapp, "INV-1") == Unlinked(0, 1, True, "INV-1")
    assert await visible(shop, stranger, "INV-1") is None
    assert await visible(shop, stranger, "INV-2") == "INV-2"  # not asked about
    assert await visible(shop, whatsapp, "INV-1") == "INV-1"
    # The forwarded invoice opens nothing any more; the order has a new code.
    new_code = await link_code_of(shop, "INV-1")
    assert new_code != old_code and is_link_code(new_code)
    async with shop.transaction() as s:
        chat = await s.get(Chat, stranger)
        assert chat is not None
        assert await link_by_code(s, chat, old_code, now=T0) is None
    # Nobody else to cut off: nothing changes.
    assert await _unlink(shop, whatsapp, "INV-1") == Unlinked(0, 0, True, "INV-1")
    assert await link_code_of(shop, "INV-1") == new_code


async def test_unlinking_everything_keeps_a_whatsapp_numbers_own_link(shop: Database) -> None:
    whatsapp = await new_chat(shop, Channel.WHATSAPP, "+6281234567890")
    telegram = await new_chat(shop, Channel.TELEGRAM, "5001")
    async with shop.transaction() as s:
        for chat_id in (whatsapp, telegram):
            chat = await s.get(Chat, chat_id)
            assert chat is not None
            await link_by_phone(s, chat, "+6281234567890", now=T0)
            assert await link_by_code(s, chat, await link_code_of(shop, "INV-3"), now=T0)
    # WhatsApp vouches for the number at every message: that link would come straight back.
    verified = "+6281234567890"
    assert await _unlink(shop, whatsapp, None, verified_here=verified) == Unlinked(
        1, kept_phone=True
    )
    assert await visible(shop, whatsapp, "INV-1") == "INV-1"
    assert await visible(shop, whatsapp, "INV-3") is None
    # A shared Telegram contact is undone with the rest.
    assert await _unlink(shop, telegram, None) == Unlinked(2)
    for code in ("INV-1", "INV-3"):
        assert await visible(shop, telegram, code) is None


# ------------------------------------------------------------------ who hears = who sees


@dataclass(frozen=True)
class Links:
    """Orders of three customers (some sold by the reseller), and which chat sees what."""

    orders: list[tuple[int, bool]]  # (customer, through the reseller)
    by_phone: set[tuple[int, int]]  # (chat, customer)
    by_code: set[tuple[int, int]]  # (chat, order)
    reseller_chat: int | None  # the chat that is the reseller's own


@st.composite
def link_sets(draw: st.DrawFn) -> Links:
    orders = draw(st.lists(st.tuples(st.integers(0, 2), st.booleans()), min_size=1, max_size=4))
    pairs = st.tuples(st.integers(0, 3), st.integers(0, 2))
    by_phone = draw(st.sets(pairs, max_size=4))
    by_code = draw(st.sets(st.tuples(st.integers(0, 3), st.integers(0, len(orders) - 1))))
    return Links(orders, by_phone, by_code, draw(st.none() | st.integers(0, 3)))


_runs = itertools.count()


async def _shop_of(s: AsyncSession, given: Links) -> tuple[list[Chat], list[Order]]:
    """Write the orders, chats and links `given` holds; return the chats and the orders."""
    run = f"L{next(_runs)}"
    seller = await factories.reseller(s, f"{run}-R", "Toko Ayu")
    people = [await factories.customer(s, f"0812{run[1:]:0>4}{n:04d}", f"P{n}") for n in range(3)]
    chats = [await get_or_create_chat(s, Channel.TELEGRAM, f"{run}-{n}") for n in range(4)]
    if given.reseller_chat is not None:
        chats[given.reseller_chat].reseller_id = seller.id
    kaos = await factories.product(s, f"{run}-KAOS", stock=10)
    orders = [
        await place_order(
            s,
            code=f"{run}-O{n}",
            customer=people[who],
            lines=[(kaos, 1)],
            reseller=seller if sold else None,
        )
        for n, (who, sold) in enumerate(given.orders)
    ]
    for c, who in given.by_phone:
        s.add(ChatLink(chat_id=chats[c].id, customer_id=people[who].id, via="phone"))
    for c, o in given.by_code:
        s.add(OrderLink(chat_id=chats[c].id, order_id=orders[o].id))
    await s.flush()
    return chats, orders


async def _heard_and_seen(db: Database, given: Links) -> tuple[object, object]:
    async with db.transaction() as s:
        chats, orders = await _shop_of(s, given)
        heard = await audiences_of(s, orders)
        seen: dict[int, list[int]] = {}
        for order in orders:
            for chat in chats:
                if await order_visible_to_chat(s, chat, order.code) is not None:
                    seen.setdefault(order.id, []).append(chat.id)
    return (
        {order: sorted(r.chat_id for r in recipients) for order, recipients in heard.items()},
        seen,
    )


async def _seen_both_ways(db: Database, given: Links) -> tuple[object, object]:
    """Per chat, the orders `sees_order` lets it see, and the ids `seen_order_ids` finds."""
    async with db.transaction() as s:
        chats, _ = await _shop_of(s, given)
        plain, found = {}, {}
        for chat in chats:
            plain[chat.id] = set(await s.scalars(select(Order.id).where(sees_order(chat.id))))
            found[chat.id] = set(await s.scalars(seen_order_ids(chat.id)))
    return plain, found


@pytest.fixture
def links_file(tmp_path: Path) -> Path:
    return sqlite_file(tmp_path / "links.db")


def _on_file(
    links_file: Path,
    given: Links,
    compare: Callable[[Database, Links], Awaitable[tuple[object, object]]],
) -> tuple[object, object]:
    """Run `compare` on the property tests' database, in an event loop of its own."""

    async def run() -> tuple[object, object]:
        db = Database(f"sqlite+aiosqlite:///{links_file}")
        try:
            return await compare(db, given)
        finally:
            await db.dispose()

    return asyncio.run(run())


_EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.slow
@_EXAMPLES
@given(given=link_sets())
def test_who_hears_of_an_order_is_exactly_who_may_see_it(links_file: Path, given: Links) -> None:
    heard, seen = _on_file(links_file, given, _heard_and_seen)
    assert heard == seen


@pytest.mark.slow
@_EXAMPLES
@given(given=link_sets())
def test_the_ids_a_list_of_orders_starts_from_are_exactly_the_orders_seen(
    links_file: Path, given: Links
) -> None:
    plain, found = _on_file(links_file, given, _seen_both_ways)
    assert plain == found


async def test_who_hears_of_many_orders_takes_two_queries(db: Database) -> None:
    async with db.transaction() as s:
        seller = await factories.reseller(s, "R", "Toko Ayu", telegram_id=8001)
        sari = await factories.customer(s, "0812-3456-7890", "Sari")
        budi = await factories.customer(s, "0813-1111-2222", "Budi")
        await factories.customer_chat(s, sari, Channel.WHATSAPP, "+6281234567890")
        orders = [
            await order_for(s, f"INV-{n}", (sari, budi)[n % 2], reseller=seller if n % 3 else None)
            for n in range(30)
        ]
        budi_chat = await get_or_create_chat(s, Channel.TELEGRAM, "6001")
        assert await link_by_code(s, budi_chat, orders[1].link_code)
    statements: list[str] = []

    def count(*args: Any) -> None:
        if args[2].startswith("SELECT"):
            statements.append(args[2])

    async with db.sessions() as s:
        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        try:
            heard = await audiences_of(s, orders)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert len(statements) == 2, statements
    assert budi_chat.id in [r.chat_id for r in heard[orders[1].id]]
    assert orders[3].id not in heard  # Budi's other order: his chat opened INV-1 only


async def test_a_chat_knows_the_shop_by_its_resellers_brand_only_without_a_direct_order(
    db: Database,
) -> None:
    async with db.transaction() as s:
        ayu = await factories.reseller(s, "R1", "Toko Ayu")
        mega = await factories.reseller(s, "R2", "Mega Shop")
        budi = await factories.customer(s, "0813-1111-2222", "Budi")
        chat = await get_or_create_chat(s, Channel.TELEGRAM, "6001")
        assert (
            await s.scalar(select(known_as(chat.id))) is None
        )  # nothing bought yet: the shop's own number
        older = await order_for(s, "DS-1", budi, reseller=ayu)
        assert await link_by_code(s, chat, older.link_code)
        assert await s.scalar(select(known_as(chat.id))) == "Toko Ayu"
        newer = await order_for(s, "DS-2", budi, reseller=mega)
        newer.placed_at = older.placed_at + timedelta(days=1)
        assert await link_by_code(s, chat, newer.link_code)
        assert (
            await s.scalar(select(known_as(chat.id))) == "Mega Shop"
        )  # the newest dropship order's
        other = await get_or_create_chat(s, Channel.TELEGRAM, "6002")
        assert await link_by_code(s, other, older.link_code)
        assert (
            await s.scalar(select(known_as(other.id))) == "Toko Ayu"
        )  # only what this chat sees counts
        direct = await order_for(s, "INV-1", budi)
        assert await link_by_code(s, chat, direct.link_code)
        assert (
            await s.scalar(select(known_as(chat.id))) is None
        )  # bought from the shop itself: it knows it
