"""Link codes and linking chats to customers: nobody sees an order that isn't theirs."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from urllib.parse import quote

from sqlalchemy import ColumnElement, Select, bindparam, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from models.base import utcnow
from models.catalog import Product
from models.orders import Order, OrderLine, PhaseEvent, clean_code, other_forms
from models.people import Chat, ChatLink, Customer, Reseller

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


@cache
def _chat_orders_query() -> Select[Order]:
    """The query of chat_orders, built once: a customer's /pesanan asks it all day."""
    linked = select(ChatLink.customer_id).where(ChatLink.chat_id == bindparam("chat_id"))
    return (
        select(Order)
        .where(Order.customer_id.in_(linked))
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(bindparam("limit"))
    )


async def chat_orders(session: AsyncSession, chat: Chat, limit: int) -> list[Order]:
    """The newest orders of the customers linked to this chat."""
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


async def items_of(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, list[Item]]:
    """The lines of these orders, by order id, in the order they were written."""
    if not order_ids:
        return {}
    rows = await session.execute(
        select(
            OrderLine.order_id,
            Product.sku,
            Product.name,
            Product.variant,
            OrderLine.qty,
            OrderLine.unit_price,
        )
        .join(Product, Product.id == OrderLine.product_id)
        .where(OrderLine.order_id.in_(sorted(set(order_ids))))
        .order_by(OrderLine.order_id, OrderLine.id)
    )
    items: dict[int, list[Item]] = {}
    for order_id, sku, name, variant, qty, price in rows:
        items.setdefault(order_id, []).append(Item(sku, name, variant, qty, price))
    return items


async def linked_customer_ids(session: AsyncSession, chat: Chat) -> list[int]:
    """Return the customers whose orders this chat may see."""
    rows = await session.scalars(select(ChatLink.customer_id).where(ChatLink.chat_id == chat.id))
    return list(rows)


def _visible_to(chat: Chat) -> ColumnElement[bool]:
    """Orders this chat may see: its linked customers', or those placed by its reseller."""
    linked = (
        select(ChatLink.chat_id)
        .where(ChatLink.chat_id == chat.id, ChatLink.customer_id == Order.customer_id)
        .exists()
    )
    if chat.reseller_id is None:
        return linked
    return or_(Order.reseller_id == chat.reseller_id, linked)


async def order_visible_to_chat(session: AsyncSession, chat: Chat, code: str) -> Order | None:
    """Return the order only if this chat is linked to its customer or is its reseller's chat.

    An order that exists but is not this chat's is indistinguishable from one that does not.
    """
    clean = clean_code(code)
    if clean is None:
        return None
    for form in (clean, *other_forms(clean)):
        order = await session.scalar(select(Order).where(Order.code == form, _visible_to(chat)))
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
        .options(defer(PhaseEvent.before))  # undo's snapshot is never shown
    )
    if seen_by == "staff":
        return query
    linked = (
        select(ChatLink.chat_id)
        .where(ChatLink.chat_id == bindparam("chat_id"), ChatLink.customer_id == Order.customer_id)
        .exists()
    )
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


def invoice_links(link_code: str, bot_username: str, whatsapp_number: str) -> dict[str, str | None]:
    """The two links printed on an invoice; None for a channel that is not set up."""
    telegram = f"https://t.me/{bot_username}?start={link_code}" if bot_username else None
    whatsapp = None
    if whatsapp_number:
        text = quote(f"kabar {link_code}", safe="")
        whatsapp = f"https://wa.me/{whatsapp_number.lstrip('+')}?text={text}"
    return {"code": link_code, "telegram": telegram, "whatsapp": whatsapp}


async def reseller_orders(
    session: AsyncSession, reseller_id: int, limit: int
) -> list[tuple[Order, str]]:
    """The newest orders placed through a reseller, each with its end customer's name."""
    rows = await session.execute(
        select(Order, Customer.name)
        .join(Customer, Customer.id == Order.customer_id)
        .where(Order.reseller_id == reseller_id)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return [(order, name) for order, name in rows]
