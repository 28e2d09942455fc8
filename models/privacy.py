"""Forgetting a customer: their name, number, chats and messages go; their orders stay.

The shop's books need the orders (what was sold, when, for how much), not who bought them:
the customer row stays, anonymised, so every order keeps its customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Delete, and_, delete, func, or_, select, tuple_, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from models.enums import Channel, NotificationKind
from models.messages import ChatMessage
from models.orders import Order
from models.outbox import Notification
from models.payments import PaymentEvent
from models.people import Chat, ChatLink, Customer, OrderLink
from models.phones import phones_in
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
    messages: int  # deleted: those chats', and what other chats held of them
    orders: int  # kept, without a name or number


async def forget_customer(session: AsyncSession, phone: str) -> Forgotten | None:
    """Erase the customer with this E.164 number; None if there is none.

    Their chats (linked to them or to their orders, and the WhatsApp chat of their number)
    lose those links; a chat left seeing nothing else, and no staff's or reseller's, is
    deleted with its messages, pushes, subscriptions and handover threads. Chats that stay
    (staff's, a reseller's) lose what they hold of them: the forwards of those threads and
    staff's answers to them, the transfer proofs they sent, and the messages that wrote their
    number. Pushes about their orders elsewhere (a reseller's) lose the name; their orders
    lose the recipient and address they were sent to, and their payments the proofs.
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
    threads = await _threads_of(session, gone)
    messages = await _forget_forwards(session, threads)
    messages += await _forget_what_others_hold(session, customer.id, phone, gone, threads)
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


async def _threads_of(session: AsyncSession, chat_ids: list[int]) -> set[int]:
    """The handover threads these chats opened."""
    if not chat_ids:
        return set()
    return set(
        await session.scalars(select(SupportThread.id).where(SupportThread.chat_id.in_(chat_ids)))
    )


async def _forget_forwards(session: AsyncSession, threads: set[int]) -> int:
    """Delete what staff chats were sent of these handover threads; return messages."""
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
    return await _delete_sent(
        session,
        [(i, chat, sent) for i, chat, sent, payload in rows if payload.get("thread") in threads],
    )


async def _delete_sent(session: AsyncSession, sent: list[tuple[int, int, str | None]]) -> int:
    """Delete notifications (id, chat, platform's message id) and their copies in the chat
    log; return the messages deleted."""
    if not sent:
        return 0
    logged = [(chat, message) for _, chat, message in sent if message]
    removed = 0
    if logged:
        removed = await _delete(
            session,
            delete(ChatMessage).where(
                tuple_(ChatMessage.chat_id, ChatMessage.provider_message_id).in_(logged)
            ),
        )
    await _delete(session, delete(Notification).where(Notification.id.in_([i for i, _, _ in sent])))
    return removed


async def _forget_what_others_hold(
    session: AsyncSession, customer_id: int, phone: str, gone: list[int], threads: set[int]
) -> int:
    """Delete what chats that stay (staff's, a reseller's) hold of the customer; return the
    messages deleted.

    That is: staff's alerts of the transfer proofs they sent (the file with them), the staff
    messages that answered their handover threads, and every message that wrote their number
    (a staff member's `/pesananbaru`), each with kabar's answers to it. What staff wrote of
    them in other words stays.
    """
    orders = select(Order.id).where(Order.customer_id == customer_id)
    alerts = await session.execute(
        select(
            Notification.id,
            Notification.chat_id,
            Notification.provider_message_id,
            Notification.payload,
        ).where(
            Notification.kind == NotificationKind.STAFF_ALERT, Notification.order_id.in_(orders)
        )
    )
    removed = await _delete_sent(
        session,
        [(i, chat, sent) for i, chat, sent, payload in alerts if payload.get("alert") == "proof"],
    )
    # The ledger keeps that a proof came and when; the file (their bank's receipt) and what
    # they wrote with it go.
    await session.execute(
        update(PaymentEvent)
        .where(PaymentEvent.order_id.in_(orders), PaymentEvent.kind == "proof")
        .values(proof=None, note=None)
        .execution_options(synchronize_session=False)
    )
    said = await _their_messages_elsewhere(session, phone, gone, threads)
    if said:
        removed += await _delete(session, delete(ChatMessage).where(ChatMessage.id.in_(said)))
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


async def _their_messages_elsewhere(
    session: AsyncSession, phone: str, gone: list[int], threads: set[int]
) -> list[int]:
    """The messages, in chats that stay, that answered the customer's threads or wrote their
    number, each with kabar's answers to it (its messages right after, at the same moment)."""
    stays = ChatMessage.chat_id.not_in(gone)
    about: dict[int, tuple[int, datetime]] = {}  # message id → (chat, moment)
    if threads:
        opened = {
            thread: at
            for thread, at in await session.execute(
                select(SupportThread.id, SupportThread.opened_at).where(
                    SupportThread.id.in_(threads)
                )
            )
        }
        answers = await session.execute(
            select(Notification.payload, Notification.due_at).where(
                Notification.kind == NotificationKind.STAFF_REPLY, Notification.chat_id.in_(gone)
            )
        )
        for payload, due in answers:
            words = payload.get("text") or ""
            media = payload.get("photo") or payload.get("file")
            since = opened.get(payload.get("thread"))
            if since is None or not (words or media):
                continue
            # Staff wrote it (`/balas N words`, or the words quoting a forward) while the
            # thread was open, before the answer was first due.
            said = ChatMessage.text.contains(words, autoescape=True) if words else None
            rows = await session.execute(
                select(ChatMessage.id, ChatMessage.chat_id, ChatMessage.at, ChatMessage.text).where(
                    stays,
                    ChatMessage.direction == "in",
                    ChatMessage.at.between(since, due),
                    said if said is not None else ChatMessage.media == media,
                )
            )
            about |= {i: (chat, at) for i, chat, at, text in rows if text.rstrip().endswith(words)}
    # A number is written in many ways (0812-…, +62 812 …); its last four digits are rarely
    # split, so they find the messages worth reading.
    written = await session.execute(
        select(ChatMessage.id, ChatMessage.chat_id, ChatMessage.at, ChatMessage.text).where(
            stays, ChatMessage.text.contains(phone[-4:])
        )
    )
    about |= {i: (chat, at) for i, chat, at, text in written if phone in phones_in(text)}
    found = set(about)
    for chat, at in set(about.values()):
        turn = await session.execute(
            select(ChatMessage.id, ChatMessage.direction, ChatMessage.author)
            .where(ChatMessage.chat_id == chat, ChatMessage.at == at)
            .order_by(ChatMessage.id)
        )
        answering = False
        for i, direction, author in turn:
            if i in about:
                answering = True
            elif direction == "in":
                answering = False
            elif answering and author == "kabar":
                found.add(i)
    return sorted(found)
