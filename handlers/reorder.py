"""Ordering again what an order held: "mau RO kak", "order lagi yang sama kayak INV-1001".

The order's products, at today's prices, to its recipient at its address, go into a draft
as an order form would: the customer sees the summary and confirms, changes it, or drops it.
"""

from __future__ import annotations

import re

from handlers.context import Context
from handlers.customer import LIST_LIMIT, STILL_ABOUT, order_told
from handlers.drafts import from_form
from handlers.forms import OrderForm
from handlers.intents import order_codes
from handlers.types import Choice, Reply
from handlers.views import no_orders, order_line
from models.chat_orders import lines_of
from models.linking import items_of, linked_customer_ids, visible_orders
from models.orders import Order

# "order lagi", "pesan ulang", "beli lagi yang sama", "repeat order", "RO", "order it again"
_AGAIN = re.compile(
    r"\b(?<!kirim )(?:(?:order|orderan|pesan|beli)\s+(?:lagi|ulang)|repeat\s+order|re-?order|ro"
    r"|(?:order|buy)\s+(?:it\s+|that\s+|the\s+same\s+)?again)\b",
    re.IGNORECASE,
)
# Said of another day ("nanti saya order lagi ya kak"): a promise, no order to start now.
_LATER = re.compile(r"\b(?:nanti|lain kali|besok|kapan-kapan|next time|later)\b", re.I)
AGAIN_COMMAND = "order lagi"  # what a choice below sends, with the order's code


def asks_to_order_again(text: str) -> bool:
    """Whether a message asks to order again what was ordered before."""
    return _AGAIN.search(text) is not None and _LATER.search(text) is None


def will_order_again(text: str) -> bool:
    """Whether a message promises to order again another day ("nanti order lagi ya kak")."""
    return _AGAIN.search(text) is not None and _LATER.search(text) is not None


async def order_again(ctx: Context, text: str) -> Reply | list[Reply]:
    """Start a draft with the products of the order meant: the one named, else the chat's
    only one, else the one just talked about; with several, the customer picks."""
    mine = await visible_orders(ctx.session, ctx.chat, LIST_LIMIT)
    if not mine:
        return no_orders(ctx)
    named = {code.casefold() for code in order_codes(text)}
    picked = [order for order in mine if order.code.casefold() in named] if named else mine
    if named and not picked:
        code = next(iter(order_codes(text)))
        return ctx.reply("status.not_found", code=code[:64])
    if len(picked) > 1 and (told := await order_told(ctx, picked, STILL_ABOUT)):
        picked = [told]
    if len(picked) > 1:
        items = await items_of(ctx.session, [order.id for order in picked])
        choices = tuple(
            Choice(
                order_line(ctx, order, items=items.get(order.id)), f"{AGAIN_COMMAND} {order.code}"
            )
            for order in picked[:5]
        )
        return Reply(ctx.t("reorder.which"), choices=choices)
    return await _as_a_form(ctx, picked[0])


async def _as_a_form(ctx: Context, order: Order) -> Reply | list[Reply]:
    """The order written as a form: its products and how many, and, for its own customer's
    chat, who gets it and where. A chat that opened the order with its invoice's code sees
    that order, never its recipient's address (as `/status` shows it none)."""
    lines = await lines_of(ctx.session, order.id)
    items = ", ".join(f"{product.sku} {qty}" for product, qty, _ in lines)
    if order.customer_id not in await linked_customer_ids(ctx.session, ctx.chat):
        return await from_form(ctx, OrderForm(items=items))
    form = OrderForm(
        name=order.recipient_name or "",
        phone=order.recipient_phone or "",
        address=order.address or "",
        items=items,
    )
    return await from_form(ctx, form)
