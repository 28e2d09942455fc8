"""Orders placed in chat: by staff for a customer, by resellers (dropship), by customers.

They all go through `models.placing.place_orders`, the one way an order is placed (the CSV
import goes there too). This module adds what chat orders need around it: a code when none is
given (`[shop] order_prefix` and a short sequential number), the customer found or made by
phone, and the customer's draft, kept in the database while it is being put together.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, insert_for, utcnow
from models.catalog import Product
from models.change import Actor
from models.errors import DomainError
from models.orders import Order, OrderLine, clean_code
from models.outbox import Alert, ChatOrderAlert, Outgoing, SupportNotice, alert_staff, enqueue
from models.people import Customer, Reseller
from models.placing import CatalogItem, NewOrder, place_orders

NAME_LENGTH = 200


class CodeCounter(Base):
    """The last number given to an order code of one prefix (INV- → INV-1004)."""

    __tablename__ = "code_counters"

    prefix: Mapped[str] = mapped_column(String(32), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class OrderDraft(Base):
    """A customer's order being put together in chat, step by step; one per chat."""

    __tablename__ = "order_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), unique=True)
    step: Mapped[str] = mapped_column(String(16))  # product, qty, name, phone, address, confirm
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    remind_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # half way there
    reminded: Mapped[bool] = mapped_column(default=False)


# ------------------------------------------------------------------------------- codes


async def next_code(session: AsyncSession, prefix: str) -> str:
    """A new order code: the prefix and the next number after the highest one in use."""
    insert = insert_for(session)
    counter = await session.scalar(
        select(CodeCounter.last).where(CodeCounter.prefix == prefix).with_for_update()
    )
    if counter is None:
        start = await _highest_number(session, prefix)
        await session.execute(
            insert(CodeCounter)
            .values(prefix=prefix, last=start)
            .on_conflict_do_nothing(index_elements=["prefix"])
        )
    while True:
        number = await session.scalar(
            update(CodeCounter)
            .where(CodeCounter.prefix == prefix)
            .values(last=CodeCounter.last + 1)
            .returning(CodeCounter.last)
        )
        assert number is not None
        code = f"{prefix}{number}"
        if await session.scalar(select(Order.id).where(Order.code == code)) is None:
            return code  # a code imported meanwhile is passed over


async def _highest_number(session: AsyncSession, prefix: str) -> int:
    """The highest number already used after this prefix (INV-1003 → 1003), or 1000."""
    pattern = re.compile(re.escape(prefix) + r"(\d{1,9})")
    highest = 1000  # a first order is INV-1001: a shop's first code need not look like its first
    codes = await session.scalars(select(Order.code).where(Order.code.startswith(prefix)))
    for code in codes:
        found = pattern.fullmatch(code)
        if found:
            highest = max(highest, int(found[1]))
    return highest


# ------------------------------------------------------------------------------- reading


async def products_by_sku(session: AsyncSession, skus: Sequence[str]) -> dict[str, Product]:
    """The products of these SKUs (clean ones), by SKU; unknown ones left out."""
    clean = sorted({code for code in map(clean_code, skus) if code})
    if not clean:
        return {}
    rows = await session.scalars(select(Product).where(Product.sku.in_(clean)))
    return {product.sku: product for product in rows}


async def lines_of(session: AsyncSession, order_id: int) -> list[tuple[Product, int, Decimal]]:
    """An order's lines: product, quantity, agreed price, as written."""
    rows = await session.execute(
        select(Product, OrderLine.qty, OrderLine.unit_price)
        .join(OrderLine, OrderLine.product_id == Product.id)
        .where(OrderLine.order_id == order_id)
        .order_by(OrderLine.id)
    )
    return [(product, qty, price) for product, qty, price in rows]


async def customer_with_phone(session: AsyncSession, phone: str) -> Customer | None:
    """The customer with this phone (E.164), if there is one."""
    return await session.scalar(select(Customer).where(Customer.phone == phone))


# ------------------------------------------------------------------------------- placing


@dataclass(frozen=True)
class Recipient:
    """Where an order goes: a name, a phone (E.164), an address."""

    name: str
    phone: str
    address: str


async def customer_by_phone(
    session: AsyncSession, phone: str, name: str, language: str | None = None
) -> Customer:
    """The customer with this phone, made if new (their name as given)."""
    customer = await session.scalar(select(Customer).where(Customer.phone == phone))
    if customer is None:
        customer = Customer(phone=phone, name=name[:NAME_LENGTH], language=language)
        session.add(customer)
        await session.flush()
    return customer


async def place_chat_order(
    session: AsyncSession,
    *,
    prefix: str,
    customer: Customer,
    lines: Sequence[tuple[Product, int]],
    recipient: Recipient,
    reseller: Reseller | None = None,
    actor: Actor,
    now: datetime,
    note: str | None = None,
) -> Order:
    """Place an order written in chat, through the one way orders are placed (`note`: what
    the customer asked of the shop besides, kept on the order's first event for staff)."""
    if not lines:
        raise DomainError("an order needs at least one product")
    request = NewOrder(
        await next_code(session, prefix),
        customer.id,
        [(CatalogItem.of(product), qty) for product, qty in lines],
        reseller.id if reseller else None,
        recipient_name=recipient.name[:NAME_LENGTH],
        recipient_phone=recipient.phone,
        address=recipient.address,
        note=note,
    )
    (placed,) = await place_orders(session, [request], now=now, actor=actor)
    order = await session.get(Order, placed.id)
    assert order is not None
    if actor.kind != "staff":  # staff know what they placed; a customer's needs a person
        said: ChatOrderAlert = {
            "alert": "chat_order",
            "code": order.code,
            "who": (reseller.name if reseller else recipient.name)[:64],
            "total": str(order.subtotal),
            "note": note or "",
            "to": (recipient.address or "")[:300],
        }
        await alert_staff(session, [Alert(said, f"chat_order:{order.id}", order.id)], now=now)
    return order


async def last_recipient(session: AsyncSession, customer_id: int) -> Recipient | None:
    """Where the customer's last order with an address went: a draft starts from it."""
    row = (
        await session.execute(
            select(Order.recipient_name, Order.recipient_phone, Order.address)
            .where(Order.customer_id == customer_id, Order.address.is_not(None))
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(1)
        )
    ).first()
    if row is None or not row[2]:
        return None
    return Recipient(row[0] or "", row[1] or "", row[2])


# ------------------------------------------------------------------------------- drafts


async def draft_of(session: AsyncSession, chat_id: int, now: datetime) -> OrderDraft | None:
    """The chat's draft, locked, if it has one that has not expired."""
    draft = await session.scalar(
        select(OrderDraft).where(OrderDraft.chat_id == chat_id).with_for_update()
    )
    if draft is not None and draft.expires_at <= now:
        await session.delete(draft)
        await session.flush()
        return None
    return draft


async def has_draft(session: AsyncSession, chat_id: int, now: datetime) -> bool:
    """Whether the chat is putting an order together (reads only)."""
    expires = await session.scalar(
        select(OrderDraft.expires_at).where(OrderDraft.chat_id == chat_id)
    )
    return expires is not None and expires > now


async def new_draft(
    session: AsyncSession, chat_id: int, kind: str, now: datetime, lifetime: timedelta
) -> OrderDraft:
    """Start the chat's draft afresh (one a chat: an old one is dropped)."""
    old = await session.scalar(select(OrderDraft).where(OrderDraft.chat_id == chat_id))
    if old is not None:
        await session.delete(old)
        await session.flush()
    draft = OrderDraft(
        chat_id=chat_id,
        step="product",
        data={"kind": kind},
        created_at=now,
        updated_at=now,
        expires_at=now + lifetime,
        remind_at=now + lifetime / 2,
    )
    session.add(draft)
    await session.flush()
    return draft


def touch(draft: OrderDraft, now: datetime, lifetime: timedelta) -> None:
    """The customer answered: the draft lives on from now."""
    draft.updated_at = now
    draft.expires_at = now + lifetime
    draft.remind_at = now + lifetime / 2
    draft.reminded = False


@dataclass(frozen=True)
class DraftNews:
    """What the draft job did: chats reminded, drafts dropped."""

    reminded: list[int]
    expired: list[int]


def _own(draft: OrderDraft) -> bool:
    """Whether a customer puts the draft together for themselves (not staff or a reseller)."""
    return bool(draft.data.get("kind", "customer") == "customer")


async def tend_drafts(session: AsyncSession, now: datetime) -> DraftNews:
    """Remind each draft once half way, and drop the ones that ran out (their chats told)."""
    expired = list(
        await session.scalars(
            select(OrderDraft).where(OrderDraft.expires_at <= now).with_for_update()
        )
    )
    due = list(
        await session.scalars(
            select(OrderDraft)
            .where(
                OrderDraft.reminded.is_(False),
                OrderDraft.remind_at <= now,
                OrderDraft.expires_at > now,
            )
            .with_for_update()
        )
    )
    notices = []
    for draft in due:
        draft.reminded = True
        notice: SupportNotice = {
            "notice": "draft_reminder" if _own(draft) else "draft_reminder_for_another",
            "thread": 0,
        }
        key = f"draft:{draft.id}:{draft.updated_at.isoformat()}:remind"
        notices.append(Outgoing.support_notice(draft.chat_id, notice, key=key, due_at=now))
    for draft in expired:
        notice = {
            "notice": "draft_expired" if _own(draft) else "draft_expired_for_another",
            "thread": 0,
        }
        key = f"draft:{draft.id}:expired"
        notices.append(Outgoing.support_notice(draft.chat_id, notice, key=key, due_at=now))
        await session.delete(draft)
    await enqueue(session, notices)
    return DraftNews([d.chat_id for d in due], [d.chat_id for d in expired])
