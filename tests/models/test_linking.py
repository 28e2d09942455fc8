"""Linking chats to customers: a chat sees its own orders, its reseller's, and nothing else."""

from __future__ import annotations

import math
import re
import string
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.chats import get_or_create_chat, touch_inbound
from models.enums import Channel
from models.linking import (
    LINK_CODE_BYTES,
    link_by_code,
    link_by_phone,
    linked_customer_ids,
    new_link_code,
    order_visible_to_chat,
)
from models.orders import Order
from models.people import Chat, ChatLink, Customer, Reseller
from models.placing import place_order
from models.storage import Database
from tests.support import factories

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


async def test_chat_linked_by_link_code_sees_that_order_and_the_customers_others(
    shop: Database,
) -> None:
    chat_id = await new_chat(shop, Channel.TELEGRAM, "5001")
    code = await link_code_of(shop, "INV-1")
    async with shop.transaction() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        order = await link_by_code(s, chat, code)
        assert order is not None and order.code == "INV-1"
    sari = await customer_id(shop, "+6281234567890")
    assert await links(shop) == [(chat_id, sari, "code")]
    assert await visible(shop, chat_id, "INV-1") == "INV-1"
    assert await visible(shop, chat_id, "INV-2") == "INV-2"
    assert await visible(shop, chat_id, " inv-2 ") == "INV-2"  # typed loosely
    assert await visible(shop, chat_id, "INV-3") is None  # Budi's


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
    async with shop.transaction() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        assert await link_by_code(s, chat, code_1) is not None
        assert await link_by_phone(s, chat, "+6281234567890") is not None
        assert await linked_customer_ids(s, chat) == [sari]
    # The first link stays as it was made.
    assert await links(shop) == [(chat_id, sari, "code")]
    assert await visible(shop, chat_id, "INV-1") == "INV-1"


async def test_one_chat_may_be_linked_to_several_customers(shop: Database) -> None:
    # A family phone: the same Telegram chat opens Sari's and Budi's invoices.
    chat_id = await new_chat(shop, Channel.TELEGRAM, "5001")
    codes = [await link_code_of(shop, "INV-1"), await link_code_of(shop, "INV-3")]
    async with shop.transaction() as s:
        chat = await s.get(Chat, chat_id)
        assert chat is not None
        for code in codes:
            assert await link_by_code(s, chat, code) is not None
    sari = await customer_id(shop, "+6281234567890")
    budi = await customer_id(shop, "+6281311112222")
    assert await links(shop) == sorted([(chat_id, sari, "code"), (chat_id, budi, "code")])
    for code in ("INV-1", "INV-2", "INV-3"):
        assert await visible(shop, chat_id, code) == code


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
