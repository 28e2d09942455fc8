"""Small builders for test data, going through the domain where it has a say."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from models.catalog import Product
from models.chats import get_or_create_chat
from models.enums import Channel, Fulfillment, Language
from models.linking import link_by_phone
from models.people import Chat, Customer, Reseller, Staff
from models.phones import normalize_phone
from models.stages import parse_stages, stages_to_json


async def product(
    session: AsyncSession,
    sku: str,
    *,
    stock: int = 0,
    stages: str = "",
    price: str = "100000",
    reseller_price: str | None = None,
    name: str = "Kaos",
    variant: str = "",
) -> Product:
    """Add a product: made to order when it has stages, ready stock otherwise."""
    item = Product(
        sku=sku,
        name=name,
        variant=variant,
        price=Decimal(price),
        reseller_price=Decimal(reseller_price) if reseller_price else None,
        on_hand=stock,
        reserved=0,
        fulfillment=Fulfillment.MADE_TO_ORDER if stages else Fulfillment.READY_STOCK,
        stages_json=stages_to_json(parse_stages(stages)),
    )
    session.add(item)
    await session.flush()
    return item


async def customer(session: AsyncSession, phone: str, name: str = "Sari") -> Customer:
    """Add a customer with a normalised phone."""
    person = Customer(phone=normalize_phone(phone), name=name, language=Language.ID)
    session.add(person)
    await session.flush()
    return person


async def customer_chat(
    session: AsyncSession, person: Customer, channel: Channel, address: str
) -> Chat:
    """Open a chat and link it to the customer by their (verified) phone."""
    chat = await get_or_create_chat(session, channel, address)
    await link_by_phone(session, chat, person.phone)
    return chat


async def reseller(
    session: AsyncSession, code: str, brand: str, *, telegram_id: int | None = None
) -> Reseller:
    """Add a reseller, with a Telegram chat when given an id."""
    seller = Reseller(code=code, name=brand, telegram_id=telegram_id)
    session.add(seller)
    await session.flush()
    if telegram_id is not None:
        chat = await get_or_create_chat(session, Channel.TELEGRAM, str(telegram_id))
        chat.reseller_id = seller.id
        await session.flush()
    return seller


async def staff(session: AsyncSession, name: str = "Dewi", telegram_id: int = 900) -> Staff:
    """Add a staff member."""
    member = Staff(name=name, telegram_id=telegram_id)
    session.add(member)
    await session.flush()
    return member
