"""Customer (and reseller) questions: my orders, one order's status, stock, back-in-stock."""

from __future__ import annotations

from sqlalchemy import select

from handlers.common import customer_names, menu, share_button
from handlers.context import Context
from handlers.types import Choice, Reply, Role
from handlers.views import brand_for, order_line, order_status, stock_line
from models.catalog import Product, StockSubscription
from models.enums import Fulfillment
from models.flows import FINAL
from models.linking import OrderHistory, chat_orders, order_history
from models.orders import Order, clean_code
from models.search import search_products

LIST_LIMIT = 10


async def _my_orders(ctx: Context) -> list[Order]:
    return await chat_orders(ctx.session, ctx.chat, LIST_LIMIT)


async def orders(ctx: Context, args: str) -> Reply:
    """List the orders linked to this chat, newest first, each with its phase."""
    mine = await _my_orders(ctx)
    if not mine:
        return Reply(
            ctx.t("orders.none"),
            choices=menu(ctx),
            contact_button=share_button(ctx) if ctx.role is Role.UNKNOWN else "",
        )
    lines = [ctx.t("orders.title")] + [order_line(ctx, o) for o in mine]
    choices = tuple(Choice(o.code, f"/status {o.code}") for o in mine[:5])
    return Reply("\n".join(lines), choices=choices)


async def status(ctx: Context, args: str) -> Reply:
    """Show one order's status; without a code, this chat's open order (or a list to pick)."""
    code = args.strip().split()[0] if args.strip() else ""
    if code:
        seen_by = None if ctx.role is Role.STAFF else ctx.chat  # staff see every order
        history = await order_history(ctx.session, code, seen_by=seen_by)
        if history is None:
            # The same words whether the order does not exist or is someone else's.
            return ctx.reply("status.not_found", code=code[:64])
        return _status_reply(ctx, history)
    mine = [o for o in await _my_orders(ctx) if o.phase not in FINAL] or await _my_orders(ctx)
    if len(mine) == 1:
        return await status_of(ctx, mine[0])
    if not mine:
        return Reply(
            ctx.t("orders.none"),
            choices=menu(ctx),
            contact_button=share_button(ctx) if ctx.role is Role.UNKNOWN else "",
        )
    return Reply(
        ctx.t("status.pick"), choices=tuple(Choice(o.code, f"/status {o.code}") for o in mine[:5])
    )


async def status_of(ctx: Context, order: Order) -> Reply:
    """The status reply for an order this person may see."""
    history = await order_history(ctx.session, order.code, seen_by=None)
    assert history is not None
    return _status_reply(ctx, history)


def _status_reply(ctx: Context, history: OrderHistory) -> Reply:
    brand = brand_for(ctx, history.order, history.brand)
    return Reply(order_status(ctx, history.order, history.events, brand))


async def stock(ctx: Context, args: str) -> Reply:
    """Answer a stock question: one product in words, or a short list to choose from."""
    query = args.strip()
    if not query:
        return ctx.reply("stock.ask")
    found = await search_products(ctx.session, query, limit=5, cache=ctx.catalog)
    if not found:
        return ctx.reply("stock.none", query=query[:100])
    if len(found) == 1:
        return Reply(stock_line(ctx, found[0]))
    lines = [ctx.t("stock.several")] + [stock_line(ctx, p) for p in found]
    return Reply("\n".join(lines), choices=tuple(Choice(p.label, f"/stok {p.sku}") for p in found))


async def notify(ctx: Context, args: str) -> Reply:
    """Subscribe this chat to a back-in-stock message for a product."""
    sku = clean_code(args.strip().split()[0]) if args.strip() else None
    if sku is None:
        return ctx.reply("notify.ask")
    product = await ctx.session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        return ctx.reply("stock.none", query=args.strip()[:100])
    if product.fulfillment is Fulfillment.MADE_TO_ORDER or product.available > 0:
        return Reply(stock_line(ctx, product))
    sub = await ctx.session.scalar(
        select(StockSubscription).where(
            StockSubscription.chat_id == ctx.chat.id, StockSubscription.product_id == product.id
        )
    )
    if sub is None:
        ctx.session.add(StockSubscription(chat_id=ctx.chat.id, product_id=product.id))
    else:
        sub.notified_at = None  # told before: tell again next time
    return ctx.reply("notify.done", product=product.label)


async def reseller_orders(ctx: Context, args: str) -> Reply:
    """List the dropship orders placed through this reseller, newest first."""
    assert ctx.reseller is not None
    rows = list(
        await ctx.session.scalars(
            select(Order)
            .where(Order.reseller_id == ctx.reseller.id)
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(LIST_LIMIT)
        )
    )
    if not rows:
        return ctx.reply("myorders.none")
    names = await customer_names(ctx, sorted({o.customer_id for o in rows}))
    lines = [ctx.t("myorders.title", brand=ctx.reseller.name)]
    lines += [order_line(ctx, o, names.get(o.customer_id)) for o in rows]
    return Reply(
        "\n".join(lines), choices=tuple(Choice(o.code, f"/status {o.code}") for o in rows[:5])
    )
