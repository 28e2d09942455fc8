"""Chats and who writes in them: opening a chat, recognising the sender, where pushes go."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    delete,
    exists,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import insert_for, utcnow
from models.chat_orders import OrderDraft
from models.enums import Channel, Language
from models.linking import known_as, linked_customers
from models.people import Chat, ChatLink, Customer, InboundMessage, OrderLink, Reseller, Staff
from models.support import SupportThread, is_open


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


def _customer_language(chat_id: Any) -> ColumnElement[Language | None]:
    """The language a customer whose orders the chat sees chose when ordering (the first)."""
    return (
        select(Customer.language)
        .where(Customer.id.in_(linked_customers(chat_id)), Customer.language.is_not(None))
        .order_by(Customer.id)
        .limit(1)
        .scalar_subquery()
    )


def _language(chat: type[Chat] = Chat) -> ColumnElement[Language | None]:
    """A chat's language: its own choice, else its linked customer's."""
    return func.coalesce(chat.language, _customer_language(chat.id))


# ------------------------------------------------------------------------------ the sender


@dataclass(frozen=True)
class Sender:
    """A chat and who writes in it, as far as their powers and their words go."""

    chat: Chat
    staff: Staff | None  # an active staff member
    reseller: Reseller | None
    linked: bool  # the chat may see some order as its customer
    language: Language | None  # the chat's own, else the one a linked customer chose
    thread: int | None = None  # the chat's open handover thread: a person answers it
    drafting: bool = False  # the chat is putting an order together (models.chat_orders)
    answered: bool = False  # the message asked about (`identify`'s message_id) was answered
    brand: str | None = None  # the reseller a dropship customer knows the shop by (known_as)


def _sender_key(
    channel: Channel, sender: str, *, phone_verified: bool, group: bool
) -> tuple[str, dict[str, object]]:
    """How the person writing is recognised: never by which chat they write in.

    Telegram vouches for the user id, WhatsApp for the sender's number; the console has no
    identity of its own, so its (private) chats carry their persona.
    """
    if channel is Channel.TELEGRAM and sender.isdigit():
        return "telegram", {"user_id": int(sender)}
    if channel is Channel.WHATSAPP and phone_verified:
        return "phone", {"phone": sender}
    if channel is Channel.CONSOLE and not group:
        return "persona", {}
    return "nobody", {}


@cache
def _sender_query(
    by: str, delivered: bool
) -> Select[Chat, Staff, Reseller, bool, Language | None, int | None, bool, bool, str | None]:
    """The chat with its staff member, reseller, link, language and the brand it knows the
    shop by, in one statement; with `delivered`, whether a platform message id is recorded too.

    Built once per way of recognising: building it costs as much as running it.
    """
    if by == "telegram":
        user_id = bindparam("user_id", type_=BigInteger)
        is_staff, is_reseller = Staff.telegram_id == user_id, Reseller.telegram_id == user_id
    elif by == "phone":
        phone = bindparam("phone", type_=String)
        is_staff, is_reseller = Staff.phone == phone, Reseller.phone == phone
    elif by == "persona":
        is_staff, is_reseller = Staff.id == Chat.staff_id, Reseller.id == Chat.reseller_id
    else:
        is_staff, is_reseller = false(), false()
    linked = or_(
        exists().where(ChatLink.chat_id == Chat.id), exists().where(OrderLink.chat_id == Chat.id)
    )
    thread = (
        select(SupportThread.id)
        .where(SupportThread.chat_id == Chat.id, is_open())
        .scalar_subquery()
    )
    drafting = exists().where(OrderDraft.chat_id == Chat.id)
    answered = (
        exists().where(
            InboundMessage.channel == bindparam("channel"),
            InboundMessage.message_id == bindparam("message_id"),
        )
        if delivered
        else false()
    )
    return (
        select(
            Chat,
            Staff,
            Reseller,
            linked,
            _language(),
            thread,
            drafting,
            answered,
            known_as(Chat.id),
        )
        .select_from(Chat)
        .outerjoin(Staff, and_(is_staff, Staff.active.is_(True)))
        .outerjoin(Reseller, is_reseller)
        .where(Chat.channel == bindparam("channel"), Chat.address == bindparam("address"))
    )


async def identify(
    session: AsyncSession,
    channel: Channel,
    address: str,
    sender: str,
    *,
    phone_verified: bool = False,
    group: bool = False,
    message_id: str | None = None,
) -> Sender | None:
    """Find the chat and recognise who writes in it, in one round trip; None for a new chat.

    With a platform `message_id`, `Sender.answered` says whether it was answered already.
    """
    by, params = _sender_key(channel, sender, phone_verified=phone_verified, group=group)
    params |= {"channel": channel, "address": address}
    if message_id is not None:
        params["message_id"] = message_id[:64]
    row = (await session.execute(_sender_query(by, message_id is not None), params)).first()
    if row is None:
        return None
    chat, staff, reseller, linked, language, thread, drafting, answered, brand = row
    return Sender(
        chat, staff, reseller, bool(linked), language, thread, bool(drafting), bool(answered), brand
    )


# ------------------------------------------------------------------------------ inbound


def remember_chat_of(sender: Sender, *, group: bool) -> None:
    """A staff member's or reseller's private chat is where they hear kabar's news.

    A group becomes a staff chat only when a staff member works in it (see the router): a
    reseller's group never hears of their orders.
    """
    chat = sender.chat
    if group:
        return
    if sender.staff is not None and chat.staff_id != sender.staff.id:
        chat.staff_id = sender.staff.id
    if sender.reseller is not None and chat.reseller_id != sender.reseller.id:
        chat.reseller_id = sender.reseller.id


def touch_inbound(chat: Chat, now: datetime | None = None) -> None:
    """Record that the person wrote: reopens an inactive or opted-out chat."""
    chat.last_inbound_at = now or utcnow()
    chat.active = True
    chat.opted_out = False
    chat.inactive_reason = None


async def first_delivery(
    session: AsyncSession, channel: Channel, message_id: str, now: datetime | None = None
) -> bool:
    """Record a platform message id; False if it was handled before (a redelivered webhook)."""
    values = {"channel": channel, "message_id": message_id[:64], "received_at": now or utcnow()}
    result = await session.execute(
        insert_for(session)(InboundMessage)
        .values(values)
        .on_conflict_do_nothing()
        .returning(InboundMessage.id)
    )
    return result.first() is not None


async def forget_delivery_ids(session: AsyncSession, before: datetime) -> None:
    """Forget the platform ids of messages handled before `before` (long past redelivery)."""
    await session.execute(
        delete(InboundMessage)
        .where(InboundMessage.received_at < before)
        .execution_options(synchronize_session=False)
    )


async def move_chat(session: AsyncSession, channel: Channel, old: str, new: str) -> None:
    """Follow a chat to its new address (a Telegram group that became a supergroup)."""
    await session.execute(
        update(Chat)
        .where(Chat.channel == channel, Chat.address == old)
        .values(address=new)
        .execution_options(synchronize_session=False)
    )


# ------------------------------------------------------------------------------ outbound


@dataclass(slots=True)
class Destination:
    """Where a push goes: a chat's address, whether it takes pushes now, and its language."""

    id: int
    channel: Channel
    address: str
    active: bool
    opted_out: bool
    last_inbound_at: datetime | None
    language: Language | None

    @property
    def reachable(self) -> bool:
        """Whether pushes may go to this chat now."""
        return self.active and not self.opted_out


async def destinations(session: AsyncSession, chat_ids: Sequence[int]) -> dict[int, Destination]:
    """The chats of these ids, as the dispatcher sends to them; unknown ids are left out."""
    rows = await session.execute(
        select(
            Chat.id,
            Chat.channel,
            Chat.address,
            Chat.active,
            Chat.opted_out,
            Chat.last_inbound_at,
            _language(),
        ).where(Chat.id.in_(sorted(chat_ids)))
    )
    return {row[0]: Destination(*row) for row in rows}


async def telegram_ids(session: AsyncSession) -> tuple[list[int], list[int]]:
    """The Telegram user ids of staff and of resellers (their command menus differ)."""
    staff = await session.scalars(select(Staff.telegram_id).where(Staff.telegram_id.is_not(None)))
    resellers = await session.scalars(
        select(Reseller.telegram_id).where(Reseller.telegram_id.is_not(None))
    )
    return [i for i in staff if i is not None], [i for i in resellers if i is not None]
