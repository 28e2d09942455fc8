"""Who hears of what: an order's customer and reseller chats, and the staff's chats.

Every message kabar pushes goes to chats found here, so a new kind of message (a payment, a
handover, a courier checkpoint) reaches exactly the people an order update reaches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, NamedTuple, Protocol, cast

from sqlalchemy import ColumnElement, Integer, func, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from models.bulk import among
from models.orders import Order
from models.people import Chat, ChatLink, Customer, OrderLink

Audience = Literal["customer", "reseller"]


class Owned(Protocol):
    """An order as far as its audience goes (an Order, or one being placed)."""

    @property
    def id(self) -> int: ...
    @property
    def customer_id(self) -> int: ...
    @property
    def reseller_id(self) -> int | None: ...


class Parties(NamedTuple):
    """The people an order belongs to: its customer and, for dropship, its reseller."""

    id: int  # the order's
    customer_id: int
    reseller_id: int | None


class Recipient(NamedTuple):
    """One chat to tell, and as whom it hears: the customer, or the reseller who sold."""

    chat_id: int
    audience: Audience


def end_customer_name() -> ColumnElement[str]:
    """The name an order goes by to those who hear of it (its customer joined): the recipient
    it was placed for, else its customer's. A reseller who types a phone the shop already
    knows hears back the name they gave, never the one the shop keeps for that phone."""
    return func.coalesce(Order.recipient_name, Customer.name)


async def audiences_of(
    session: AsyncSession, orders: Iterable[Owned]
) -> dict[int, list[Recipient]]:
    """Every chat that must hear of each order, once each, in chat order, by order id.

    The chats that see an order as its customer hear as `customer` (every order of a phone
    number verified there, and each order whose link code was used there: the rule of
    `models.linking.sees_order`); on a dropship order the reseller's own chats hear as
    `reseller`, which wins when a chat is both. An order nobody hears of is left out. Two
    queries for any number of orders.
    """
    orders = list(orders)
    if not orders:
        return {}
    dialect = session.get_bind().dialect
    customer_ids = sorted({o.customer_id for o in orders})
    order_ids = sorted({o.id for o in orders})
    reseller_ids = sorted({o.reseller_id for o in orders if o.reseller_id is not None})
    no_id = null().cast(Integer)
    links = union_all(
        select(ChatLink.chat_id, ChatLink.customer_id, no_id).where(
            among(ChatLink.customer_id, customer_ids, dialect)
        ),
        select(OrderLink.chat_id, no_id, OrderLink.order_id).where(
            among(OrderLink.order_id, order_ids, dialect)
        ),
    )
    by_customer: dict[int, list[int]] = {}
    by_order: dict[int, list[int]] = {}
    rows = cast(Iterable[tuple[int, int | None, int | None]], await session.execute(links))
    for chat_id, customer_id, order_id in rows:  # each row has one of the two ids
        if customer_id is not None:
            by_customer.setdefault(customer_id, []).append(chat_id)
        elif order_id is not None:
            by_order.setdefault(order_id, []).append(chat_id)
    by_reseller: dict[int, list[int]] = {}
    if reseller_ids:
        for reseller_id, chat_id in await session.execute(
            select(Chat.reseller_id, Chat.id).where(among(Chat.reseller_id, reseller_ids, dialect))
        ):
            if reseller_id is not None:
                by_reseller.setdefault(reseller_id, []).append(chat_id)
    out: dict[int, list[Recipient]] = {}
    if not by_customer and not by_order and not by_reseller:
        return out  # an import of new customers: nobody chats yet
    for order in orders:
        customer_chats = [*by_customer.get(order.customer_id, ()), *by_order.get(order.id, ())]
        reseller_chats = by_reseller.get(order.reseller_id, ()) if order.reseller_id else ()
        if not customer_chats and not reseller_chats:
            continue
        found: dict[int, Audience] = dict.fromkeys(customer_chats, "customer")
        found.update(dict.fromkeys(reseller_chats, "reseller"))
        out[order.id] = [Recipient(c, a) for c, a in sorted(found.items())]
    return out


async def staff_chat_ids(session: AsyncSession) -> list[int]:
    """The chats staff work from, in id order: every staff alert goes to each of them."""
    return list(
        await session.scalars(select(Chat.id).where(Chat.staff_id.is_not(None)).order_by(Chat.id))
    )
