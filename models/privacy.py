"""Forgetting a customer: their name, number, chats and messages go; their orders stay.

The shop's books need the orders (what was sold, when, for how much), not who bought them:
the customer row stays, anonymised, so every order keeps its customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Delete, and_, delete, func, or_, select, tuple_, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from models.enums import Channel, NotificationKind
from models.messages import ChatMessage
from models.orders import Order
from models.outbox import Notification
from models.people import Chat, ChatLink, Customer, OrderLink
from models.support import SupportThread

FORGOTTEN_NAME = "—"


def forgotten_phone(customer_id: int) -> str:
    """The number a forgotten customer keeps: unique, and never a number (no E.164 has a colon)."""
    return f"forgotten:{customer_id}"


@dataclass(frozen=True)
class Forgotten:
    """What forgetting a customer did."""

    customer_id: int
    chats: int  # deleted: only this customer's orders were seen there
    messages: int  # deleted with those chats, and forwards of their chats to staff
    orders: int  # kept, without a name or number


async def forget_customer(session: AsyncSession, phone: str) -> Forgotten | None:
    """Erase the customer with this E.164 number; None if there is none.

    Their chats (linked to them or to their orders, and the WhatsApp chat of their number)
    lose those links; a chat left seeing nothing else, and no staff's or reseller's, is
    deleted with its messages, pushes, subscriptions and handover threads, and staff's copies
    of those threads go too. Pushes about their orders elsewhere (a reseller's) lose the name;
    their orders lose the recipient and address they were sent to.
    """
    customer = await session.scalar(select(Customer).where(Customer.phone == phone))
    if customer is None:
        return None
    orders = select(Order.id).where(Order.customer_id == customer.id)
    theirs = set(
        await session.scalars(
            select(ChatLink.chat_id)
            .where(ChatLink.customer_id == customer.id)
            .union(
                select(OrderLink.chat_id).where(OrderLink.order_id.in_(orders)),
                select(Chat.id).where(Chat.channel == Channel.WHATSAPP, Chat.address == phone),
            )
        )
    )
    await _delete(session, delete(ChatLink).where(ChatLink.customer_id == customer.id))
    await _delete(session, delete(OrderLink).where(OrderLink.order_id.in_(orders)))
    sees_others = or_(
        select(ChatLink.chat_id).where(ChatLink.chat_id == Chat.id).exists(),
        select(OrderLink.chat_id).where(OrderLink.chat_id == Chat.id).exists(),
    )
    own_number = and_(Chat.channel == Channel.WHATSAPP, Chat.address == phone)
    gone = list(
        await session.scalars(
            select(Chat.id).where(
                Chat.id.in_(sorted(theirs)),
                Chat.staff_id.is_(None),
                Chat.reseller_id.is_(None),
                or_(own_number, ~sees_others),
            )
        )
    )
    messages = await _forget_forwards(session, gone)
    if gone:
        messages += (
            await session.scalar(
                select(func.count()).select_from(ChatMessage).where(ChatMessage.chat_id.in_(gone))
            )
            or 0
        )
        await _delete(session, delete(Chat).where(Chat.id.in_(gone)))
    await _unname_pushes(session, customer.id)
    await session.execute(  # where their orders went: a name, a number, a house
        update(Order)
        .where(Order.customer_id == customer.id)
        .values(recipient_name=None, recipient_phone=None, address=None)
        .execution_options(synchronize_session=False)
    )
    customer.name = FORGOTTEN_NAME
    customer.phone = forgotten_phone(customer.id)
    customer.language = None
    kept = await session.scalar(
        select(func.count()).select_from(Order).where(Order.customer_id == customer.id)
    )
    return Forgotten(customer.id, len(gone), messages, kept or 0)


async def _forget_forwards(session: AsyncSession, chat_ids: list[int]) -> int:
    """Delete what staff chats were sent of these chats' handover threads; return messages."""
    if not chat_ids:
        return 0
    threads = set(
        await session.scalars(select(SupportThread.id).where(SupportThread.chat_id.in_(chat_ids)))
    )
    if not threads:
        return 0
    rows = await session.execute(
        select(
            Notification.id,
            Notification.chat_id,
            Notification.provider_message_id,
            Notification.payload,
        ).where(Notification.kind == NotificationKind.HANDOVER)
    )
    forwards = [
        (i, chat, sent) for i, chat, sent, payload in rows if payload.get("thread") in threads
    ]
    if not forwards:
        return 0
    logged = [(chat, sent) for _, chat, sent in forwards if sent]
    removed = 0
    if logged:
        removed = await _delete(
            session,
            delete(ChatMessage).where(
                tuple_(ChatMessage.chat_id, ChatMessage.provider_message_id).in_(logged)
            ),
        )
    await _delete(
        session, delete(Notification).where(Notification.id.in_([i for i, _, _ in forwards]))
    )
    return removed


async def _unname_pushes(session: AsyncSession, customer_id: int) -> None:
    """Take the customer's name out of the pushes about their orders that stay."""
    rows = await session.execute(
        select(Notification.id, Notification.payload).where(
            Notification.order_id.in_(select(Order.id).where(Order.customer_id == customer_id)),
            Notification.kind == NotificationKind.ORDER_UPDATE,
        )
    )
    for row_id, payload in rows.all():
        if payload.get("customer_name") not in (None, FORGOTTEN_NAME):
            await session.execute(
                update(Notification)
                .where(Notification.id == row_id)
                .values(payload={**payload, "customer_name": FORGOTTEN_NAME})
                .execution_options(synchronize_session=False)
            )


async def _delete(session: AsyncSession, statement: Delete) -> int:
    """Run a DELETE; return how many rows it removed."""
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount
