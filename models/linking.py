"""Link codes and linking chats to customers: nobody sees an order that isn't theirs."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.enums import Channel, Language
from models.orders import Order, clean_code
from models.people import Chat, ChatLink, Customer, InboundMessage

LINK_CODE_BYTES = 16  # 128 random bits, 22 URL-safe characters
LINK_CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def new_link_code() -> str:
    """Return a fresh unguessable, URL-safe link code (fits Telegram's deep-link payload)."""
    return secrets.token_urlsafe(LINK_CODE_BYTES)


async def get_or_create_chat(session: AsyncSession, channel: Channel, address: str) -> Chat:
    """Return the chat for a channel address, creating it on first contact."""
    chat = await session.scalar(
        select(Chat).where(Chat.channel == channel, Chat.address == address)
    )
    if chat is None:
        chat = Chat(channel=channel, address=address)
        session.add(chat)
        await session.flush()
    return chat


async def _link(session: AsyncSession, chat: Chat, customer_id: int, via: str) -> None:
    values = {"chat_id": chat.id, "customer_id": customer_id, "via": via, "linked_at": utcnow()}
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(postgresql.insert(ChatLink).values(values).on_conflict_do_nothing())
    else:
        await session.execute(sqlite.insert(ChatLink).values(values).on_conflict_do_nothing())


async def link_by_code(session: AsyncSession, chat: Chat, link_code: str) -> Order | None:
    """Link the chat to the customer of the order with this link code; None if no such code."""
    if not LINK_CODE_PATTERN.fullmatch(link_code):
        return None
    order = await session.scalar(select(Order).where(Order.link_code == link_code))
    if order is None:
        return None
    await _link(session, chat, order.customer_id, "code")
    return order


async def link_by_phone(session: AsyncSession, chat: Chat, phone: str) -> Customer | None:
    """Link the chat to the customer with this verified E.164 phone, if there is one."""
    customer = await session.scalar(select(Customer).where(Customer.phone == phone))
    if customer is not None:
        await _link(session, chat, customer.id, "phone")
    return customer


async def linked_customer_ids(session: AsyncSession, chat: Chat) -> list[int]:
    """Return the customers whose orders this chat may see."""
    rows = await session.scalars(select(ChatLink.customer_id).where(ChatLink.chat_id == chat.id))
    return list(rows)


async def order_visible_to_chat(session: AsyncSession, chat: Chat, code: str) -> Order | None:
    """Return the order only if this chat is linked to its customer or is its reseller's chat.

    An order that exists but is not this chat's is indistinguishable from one that does not.
    """
    clean = clean_code(code)
    order = await session.scalar(select(Order).where(Order.code == clean)) if clean else None
    if order is None:
        return None
    if chat.reseller_id is not None and order.reseller_id == chat.reseller_id:
        return order
    linked = await session.scalar(
        select(ChatLink.chat_id).where(
            ChatLink.chat_id == chat.id, ChatLink.customer_id == order.customer_id
        )
    )
    return order if linked is not None else None


def touch_inbound(chat: Chat, now: datetime | None = None) -> None:
    """Record that the person wrote: reopens an inactive or opted-out chat."""
    chat.last_inbound_at = now or utcnow()
    chat.active = True
    chat.opted_out = False
    chat.inactive_reason = None


def invoice_links(link_code: str, bot_username: str, whatsapp_number: str) -> dict[str, str | None]:
    """The two links printed on an invoice; None for a channel that is not set up."""
    telegram = f"https://t.me/{bot_username}?start={link_code}" if bot_username else None
    whatsapp = None
    if whatsapp_number:
        text = quote(f"kabar {link_code}", safe="")
        whatsapp = f"https://wa.me/{whatsapp_number.lstrip('+')}?text={text}"
    return {"code": link_code, "telegram": telegram, "whatsapp": whatsapp}


async def preferred_language(session: AsyncSession, chat: Chat) -> Language | None:
    """The chat's own language, else the one a linked customer chose when ordering."""
    if chat.language is not None:
        return chat.language
    customers = await linked_customer_ids(session, chat)
    if not customers:
        return None
    return await session.scalar(
        select(Customer.language)
        .where(Customer.id.in_(customers), Customer.language.is_not(None))
        .order_by(Customer.id)
        .limit(1)
    )


async def first_delivery(
    session: AsyncSession, channel: Channel, message_id: str, now: datetime | None = None
) -> bool:
    """Record a platform message id; False if it was handled before (a redelivered webhook)."""
    values = {"channel": channel, "message_id": message_id[:64], "received_at": now or utcnow()}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    result = await session.execute(
        insert(InboundMessage).values(values).on_conflict_do_nothing().returning(InboundMessage.id)
    )
    return result.first() is not None


async def languages_of(session: AsyncSession, chats: Sequence[Chat]) -> dict[int, Language | None]:
    """preferred_language for many chats at once."""
    found: dict[int, Language | None] = {chat.id: chat.language for chat in chats}
    unset = [chat_id for chat_id, lang in found.items() if lang is None]
    if unset:
        rows = await session.execute(
            select(ChatLink.chat_id, Customer.language)
            .join(Customer, Customer.id == ChatLink.customer_id)
            .where(ChatLink.chat_id.in_(unset), Customer.language.is_not(None))
            .order_by(ChatLink.chat_id, Customer.id)
        )
        for chat_id, lang in rows:
            if found.get(chat_id) is None:
                found[chat_id] = lang
    return found
