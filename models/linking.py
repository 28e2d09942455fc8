"""Link codes and linking chats to orders: nobody sees an order that isn't theirs.

A chat sees an order when the order's link code was used there (that order only), or when
the customer's phone number is verified there (every order placed with it: a WhatsApp
sender, a Telegram contact of the sender's own). `/putus` undoes either.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, Literal, NamedTuple, cast
from urllib.parse import quote

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Delete,
    ScalarSelect,
    Select,
    bindparam,
    case,
    delete,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.audience import end_customer_name
from models.base import insert_for, utcnow
from models.catalog import Product
from models.errors import TooManyLinkCodes
from models.flows import FINAL
from models.orders import Order, OrderLine, PhaseEvent, clean_code, other_forms
from models.outbox import LinkNotice, Outgoing, enqueue
from models.people import Chat, ChatLink, Customer, OrderLink, Reseller

LINK_CODE_BYTES = 16  # 128 random bits, 22 URL-safe characters
LINK_CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
# What new_link_code makes: a word no one types in a sentence, so text carrying it is a link.
_NEW_LINK_CODE = re.compile(r"[A-Za-z0-9_-]{22}")


def new_link_code() -> str:
    """Return a fresh unguessable, URL-safe link code (fits Telegram's deep-link payload)."""
    return link_code_from(secrets.token_bytes(LINK_CODE_BYTES))


def link_code_from(raw: bytes) -> str:
    """The link code of these random bytes: URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def is_link_code(text: str) -> bool:
    """Whether `text` has the shape of a link code `new_link_code` makes."""
    return _NEW_LINK_CODE.fullmatch(text) is not None


LINK_CODE_DAYS = 60  # `[privacy] link_code_days`: a finished order's code works this long
# A chat may try this many link codes that open nothing in LINK_WINDOW; then it waits for the
# window to pass. Codes are unguessable anyway: this keeps anyone from trying by the thousand.
LINK_TRIES = 10
LINK_WINDOW = timedelta(minutes=10)
NOTICE_CODES = 5  # order codes named in one "a new chat is linked" notice


async def _link_customer(
    session: AsyncSession, chat: Chat, customer_id: int, now: datetime
) -> bool:
    """Let the chat see every order of the customer; False if it could already."""
    values = {"chat_id": chat.id, "customer_id": customer_id, "via": "phone", "linked_at": now}
    stmt = insert_for(session)(ChatLink).values(values).on_conflict_do_nothing()
    result = await session.execute(stmt.returning(ChatLink.chat_id))
    return result.first() is not None


async def _link_order(session: AsyncSession, chat: Chat, order_id: int, now: datetime) -> bool:
    """Let the chat see one order; False if it could already."""
    values = {"chat_id": chat.id, "order_id": order_id, "linked_at": now}
    stmt = insert_for(session)(OrderLink).values(values).on_conflict_do_nothing()
    result = await session.execute(stmt.returning(OrderLink.chat_id))
    return result.first() is not None


def sees_order(chat_id: Any) -> ColumnElement[bool]:
    """Whether the chat may see `Order` as its customer: every order of a phone number
    verified there, and each order whose link code was used there.

    The one rule of which orders a chat may see; a reseller's chat also sees the orders
    placed through them (`_visible_to`). Written as two IN lists, so both are index lookups.
    """
    by_phone = select(ChatLink.customer_id).where(ChatLink.chat_id == chat_id)
    by_code = select(OrderLink.order_id).where(OrderLink.chat_id == chat_id)
    # A chat id from an enclosing query (a subscription's, say) comes from there.
    return or_(
        Order.customer_id.in_(by_phone.correlate_except(ChatLink)),
        Order.id.in_(by_code.correlate_except(OrderLink)),
    )


def linked_customers(chat_id: Any) -> CompoundSelect[tuple[int]]:
    """The customers whose orders (all, or some) the chat may see."""
    # A chat id from an enclosing query (`Chat.id`) comes from there, however deep this sits.
    return union(
        select(ChatLink.customer_id).where(ChatLink.chat_id == chat_id).correlate_except(ChatLink),
        select(Order.customer_id)
        .join(OrderLink, OrderLink.order_id == Order.id)
        .where(OrderLink.chat_id == chat_id)
        .correlate_except(Order, OrderLink),
    )


def code_expired(order: Order, now: datetime, keep: timedelta) -> bool:
    """Whether an order finished (delivered or cancelled) so long ago its link code is spent."""
    return order.phase in FINAL and order.phase_entered_at < now - keep


async def link_by_code(
    session: AsyncSession,
    chat: Chat,
    link_code: str,
    *,
    now: datetime | None = None,
    keep: timedelta = timedelta(days=LINK_CODE_DAYS),
) -> Order | None:
    """Link the chat to the one order with this link code; None if no such code works.

    A code opens its order only: a forwarded invoice shows one order, never the customer's
    others. The customer's verified chats are told a new chat sees it. A chat that tried too
    many codes that opened nothing gets TooManyLinkCodes, and nothing is looked up.
    """
    now = now or utcnow()
    wait = link_wait(chat, now)
    if wait is not None:
        raise TooManyLinkCodes(wait)
    order = None
    if LINK_CODE_PATTERN.fullmatch(link_code):
        order = await session.scalar(select(Order).where(Order.link_code == link_code))
    if order is None or code_expired(order, now, keep):
        await _count_failure(session, chat, now)
        return None
    seen = await session.scalar(select(Order.id).where(Order.id == order.id, sees_order(chat.id)))
    if seen is None and await _link_order(session, chat, order.id, now):
        await _tell_owners(session, chat, order.customer_id, [order.code], now, via="code")
    return order


def link_wait(chat: Chat, now: datetime) -> timedelta | None:
    """How long the chat must wait before a link code is looked up again; None: no wait."""
    since = chat.link_failures_since
    if chat.link_failures < LINK_TRIES or since is None or since + LINK_WINDOW <= now:
        return None
    return since + LINK_WINDOW - now


async def _count_failure(session: AsyncSession, chat: Chat, now: datetime) -> None:
    """Count a link code that opened nothing: a new window once the last one passed.

    One UPDATE, so attempts that arrive together in several processes are all counted.
    """
    fresh = or_(Chat.link_failures_since.is_(None), Chat.link_failures_since <= now - LINK_WINDOW)
    await session.execute(
        update(Chat)
        .where(Chat.id == chat.id)
        .values(
            link_failures=case((fresh, 1), else_=Chat.link_failures + 1),
            link_failures_since=case((fresh, now), else_=Chat.link_failures_since),
        )
        .execution_options(synchronize_session=False)
    )


async def link_by_phone(
    session: AsyncSession, chat: Chat, phone: str, *, now: datetime | None = None
) -> Customer | None:
    """Link the chat to every order of the customer with this verified E.164 phone, if any."""
    now = now or utcnow()
    customer = await session.scalar(select(Customer).where(Customer.phone == phone))
    if customer is not None and await _link_customer(session, chat, customer.id, now):
        codes = await session.scalars(
            select(Order.code)
            .where(Order.customer_id == customer.id)
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(NOTICE_CODES + 1)
        )
        await _tell_owners(session, chat, customer.id, list(codes), now, via="phone")
    return customer


async def _tell_owners(
    session: AsyncSession,
    chat: Chat,
    customer_id: int,
    codes: list[str],
    now: datetime,
    *,
    via: Literal["code", "phone"],
) -> None:
    """Tell the customer's other verified chats that this chat now sees their orders.

    Only chats where the customer's own number is verified are told: they are surely theirs,
    and there `/putus KODE` can cut the new chat off. A chat that holds an invoice may be
    anyone's.
    """
    if not codes:
        return  # a number with no orders yet: nothing to see
    owners = await session.scalars(
        select(ChatLink.chat_id)
        .where(ChatLink.customer_id == customer_id, ChatLink.chat_id != chat.id)
        .order_by(ChatLink.chat_id)
    )
    notice: LinkNotice = {
        "via": via,
        "channel": chat.channel.value,
        "orders": codes[:NOTICE_CODES],
        "more": max(0, len(codes) - NOTICE_CODES),
    }
    await enqueue(
        session,
        [
            Outgoing.link_notice(
                owner,
                notice,
                key=f"link:{chat.id}:{codes[0]}:{owner}:{now.isoformat()}",
                due_at=now,
            )
            for owner in owners
        ],
    )


class Unlinked(NamedTuple):
    """What `/putus` did: the links this chat gave up, the other chats cut off an order."""

    dropped: int
    others: int = 0
    kept_phone: bool = False  # the chat's own verified number still shows its orders
    order: str = ""  # the order's code, when one was named


async def unlink(
    session: AsyncSession, chat: Chat, code: str | None, *, verified_here: str | None = None
) -> Unlinked | None:
    """Undo links: with a code, this chat's link to that order; else all of this chat's.

    A chat where the order's customer's own number is verified owns the order: there `/putus
    KODE` cuts every other chat off it and gives it a new link code (the forwarded invoice
    stops working). `verified_here` is the number the platform vouches for in this chat (a
    WhatsApp sender's): its link stays, the next message would make it again. None if the
    chat does not see an order of that code.
    """
    if code is None:
        own = select(Customer.id).where(Customer.phone == (verified_here or ""))
        dropped = await _deleted(
            session, delete(OrderLink).where(OrderLink.chat_id == chat.id)
        ) + await _deleted(
            session,
            delete(ChatLink).where(ChatLink.chat_id == chat.id, ChatLink.customer_id.not_in(own)),
        )
        kept = await session.scalar(
            select(ChatLink.chat_id).where(ChatLink.chat_id == chat.id).limit(1)
        )
        return Unlinked(dropped, kept_phone=kept is not None)
    order = await order_visible_to_chat(session, chat, code, as_customer=True)
    if order is None:
        return None
    owner = await session.scalar(
        select(ChatLink.chat_id).where(
            ChatLink.chat_id == chat.id, ChatLink.customer_id == order.customer_id
        )
    )
    if owner is None:
        dropped = await _deleted(
            session,
            delete(OrderLink).where(OrderLink.chat_id == chat.id, OrderLink.order_id == order.id),
        )
        return Unlinked(dropped, order=order.code)
    others = await _deleted(
        session,
        delete(OrderLink).where(OrderLink.order_id == order.id, OrderLink.chat_id != chat.id),
    )
    if others:
        order.link_code = new_link_code()
    return Unlinked(0, others, kept_phone=True, order=order.code)


async def _deleted(session: AsyncSession, statement: Delete) -> int:
    """Run a DELETE; return how many rows it removed."""
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount


def seen_order_ids(chat_id: Any) -> CompoundSelect[tuple[int]]:
    """The ids of the orders `sees_order` lets the chat see, found from the chat's links.

    For a list of a chat's orders: "the newest orders, each kept if the chat may see it" lets
    PostgreSQL walk the whole shop newest first when the chat sees fewer than asked for
    (225 ms at a million orders); found from the links, they are a few index lookups.
    Held equal to `sees_order` by a test.
    """
    theirs = aliased(Order)
    # A chat id from an enclosing query (`Chat.id`) comes from there, however deep this sits.
    by_phone = (
        select(theirs.id)
        .join(ChatLink, ChatLink.customer_id == theirs.customer_id)
        .where(ChatLink.chat_id == chat_id)
        .correlate_except(theirs, ChatLink)
    )
    by_code = (
        select(OrderLink.order_id).where(OrderLink.chat_id == chat_id).correlate_except(OrderLink)
    )
    return union(by_phone, by_code)


@cache
def _chat_orders_query() -> Select[Order]:
    """The query of chat_orders, built once: a customer's /pesanan asks it all day."""
    return (
        select(Order)
        .where(Order.id.in_(seen_order_ids(bindparam("chat_id"))))
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(bindparam("limit"))
    )


async def chat_orders(session: AsyncSession, chat: Chat, limit: int) -> list[Order]:
    """The newest orders this chat may see as their customer."""
    values = {"chat_id": chat.id, "limit": limit}
    return list(await session.scalars(_chat_orders_query(), values))


@dataclass(frozen=True, slots=True)
class Item:
    """One line of an order as a person reads it: what, and how many."""

    sku: str
    name: str
    variant: str
    qty: int
    unit_price: Decimal = Decimal(0)

    @property
    def label(self) -> str:
        """`Kaos Polos Hitam XL ×2`."""
        what = f"{self.name} {self.variant}".strip()
        return what if self.qty == 1 else f"{what} ×{self.qty}"


@cache
def _items_query() -> Select[int, str, str, str, int, Decimal]:
    """The query of items_of, built once: every list of orders asks it."""
    return (
        select(
            OrderLine.order_id,
            Product.sku,
            Product.name,
            Product.variant,
            OrderLine.qty,
            OrderLine.unit_price,
        )
        .join(Product, Product.id == OrderLine.product_id)
        .where(OrderLine.order_id.in_(bindparam("ids", expanding=True)))
        .order_by(OrderLine.order_id, OrderLine.id)
    )


async def items_of(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, list[Item]]:
    """The lines of these orders, by order id, in the order they were written."""
    if not order_ids:
        return {}
    rows = await session.execute(_items_query(), {"ids": sorted(set(order_ids))})
    items: dict[int, list[Item]] = {}
    for order_id, sku, name, variant, qty, price in rows:
        items.setdefault(order_id, []).append(Item(sku, name, variant, qty, price))
    return items


async def linked_customer_ids(session: AsyncSession, chat: Chat) -> list[int]:
    """Return the customers whose every order this chat may see (a verified phone)."""
    rows = await session.scalars(select(ChatLink.customer_id).where(ChatLink.chat_id == chat.id))
    return list(rows)


def _visible_to(chat: Chat, *, as_customer: bool = False) -> ColumnElement[bool]:
    """Orders this chat may see: as their customer, or placed through its reseller."""
    linked = sees_order(chat.id)
    if chat.reseller_id is None or as_customer:
        return linked
    return or_(Order.reseller_id == chat.reseller_id, linked)


async def visible_orders(session: AsyncSession, chat: Chat, limit: int) -> list[Order]:
    """The newest orders this chat may see: as their customer, and a reseller's chat the
    orders placed through its reseller too (`_visible_to`)."""
    if chat.reseller_id is None:
        return await chat_orders(session, chat, limit)
    return list(
        await session.scalars(
            select(Order)
            .where(_visible_to(chat))
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(limit)
        )
    )


async def order_visible_to_chat(
    session: AsyncSession, chat: Chat, code: str, *, as_customer: bool = False
) -> Order | None:
    """Return the order only if this chat is linked to it or is its reseller's chat.

    An order that exists but is not this chat's is indistinguishable from one that does not.
    `as_customer` leaves out what a reseller's chat sees as the reseller.
    """
    clean = clean_code(code)
    if clean is None:
        return None
    for form in (clean, *other_forms(clean)):
        where = _visible_to(chat, as_customer=as_customer)
        order = await session.scalar(select(Order).where(Order.code == form, where))
        if order is not None:
            return order
    return None


@dataclass(frozen=True)
class OrderHistory:
    """An order, its events in order, and the reseller's brand on a dropship order."""

    order: Order
    events: list[PhaseEvent]
    brand: str | None


@cache
def _history_query(seen_by: str) -> Select[Order, PhaseEvent, str]:
    """The query of order_history, built once for each kind of asker (`staff`, `chat`, `reseller`).

    Building a statement costs more than running it on an index: /status asks this all day.
    """
    query = (
        select(Order, PhaseEvent, Reseller.name)
        .outerjoin(PhaseEvent, PhaseEvent.order_id == Order.id)
        .outerjoin(Reseller, Reseller.id == Order.reseller_id)
        .where(Order.code == bindparam("code"))
        .order_by(PhaseEvent.id)
    )
    if seen_by == "staff":
        return query
    linked = sees_order(bindparam("chat_id"))
    if seen_by == "reseller":
        return query.where(or_(Order.reseller_id == bindparam("reseller_id"), linked))
    return query.where(linked)


async def order_history(
    session: AsyncSession, code: str, *, seen_by: Chat | None
) -> OrderHistory | None:
    """The order with its history, in one query; None if `seen_by` may not see it.

    A code typed in another form than stored (`inv1001`) costs a query per form tried.

    `seen_by` None is staff, who see every order. As with order_visible_to_chat, an order
    that is someone else's is indistinguishable from one that does not exist.
    """
    clean = clean_code(code)
    if clean is None:
        return None
    for form in (clean, *other_forms(clean)):
        history = await _history(session, form, seen_by)
        if history is not None:
            return history
    return None


async def _history(session: AsyncSession, code: str, seen_by: Chat | None) -> OrderHistory | None:
    """The history of the order stored under exactly this code, if `seen_by` may see it."""
    values: dict[str, object] = {"code": code}
    if seen_by is None:
        query = _history_query("staff")
    else:
        values["chat_id"] = seen_by.id
        if seen_by.reseller_id is None:
            query = _history_query("chat")
        else:
            query = _history_query("reseller")
            values["reseller_id"] = seen_by.reseller_id
    rows = (await session.execute(query, values)).all()
    if not rows:
        return None
    order, _, brand = rows[0]
    return OrderHistory(order, [event for _, event, _ in rows if event is not None], brand)


async def codes_stored(session: AsyncSession, codes: Sequence[str]) -> list[str]:
    """The stored codes of the orders these codes name, each in any form it may be typed in
    (`inv1001` for `INV-1001`), in the order named; codes of no order are left out."""
    forms = {code: [code, *other_forms(code)] for code in codes}
    every = sorted({form for typed in forms.values() for form in typed})
    stored = set(await session.scalars(select(Order.code).where(Order.code.in_(every))))
    found = (next((f for f in typed if f in stored), None) for typed in forms.values())
    return list(dict.fromkeys(code for code in found if code is not None))


def invoice_links(link_code: str, bot_username: str, whatsapp_number: str) -> dict[str, str | None]:
    """The two links printed on an invoice; None for a channel that is not set up."""
    telegram = f"https://t.me/{bot_username}?start={link_code}" if bot_username else None
    whatsapp = None
    if whatsapp_number:
        text = quote(f"kabar {link_code}", safe="")
        whatsapp = f"https://wa.me/{whatsapp_number.lstrip('+')}?text={text}"
    return {"code": link_code, "telegram": telegram, "whatsapp": whatsapp}


async def brand_of(session: AsyncSession, order: Order) -> str | None:
    """The reseller's name a dropship order's customer knows it by; None for the shop's own."""
    if order.reseller_id is None:
        return None
    return await session.scalar(select(Reseller.name).where(Reseller.id == order.reseller_id))


def known_as(chat_id: Any) -> ScalarSelect[str | None]:
    """The reseller's name a customer's chat knows the shop by; NULL for the shop's own.

    A chat that sees, as their customer, only orders placed through resellers (dropship) knows
    the shop by the newest one's reseller; one order bought from the shop itself, or none
    yet, and it knows the shop's name. A column for the sender's query (models.chats).
    """
    return (
        select(Reseller.name)
        .select_from(Order)
        .outerjoin(Reseller, Reseller.id == Order.reseller_id)
        .where(Order.id.in_(seen_order_ids(chat_id)))
        .order_by(Order.reseller_id.is_not(None), Order.placed_at.desc(), Order.id.desc())
        .limit(1)
        .scalar_subquery()
    )


async def reseller_orders(
    session: AsyncSession, reseller_id: int, limit: int
) -> list[tuple[Order, str]]:
    """The newest orders placed through a reseller, each with its end customer's name."""
    rows = await session.execute(
        select(Order, end_customer_name())
        .join(Customer, Customer.id == Order.customer_id)
        .where(Order.reseller_id == reseller_id)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return [(order, name) for order, name in rows]
