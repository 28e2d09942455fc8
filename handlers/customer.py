"""Customer (and reseller) questions: my orders, one order's status, stock, back-in-stock."""

from __future__ import annotations

from handlers.context import Context
from handlers.types import Choice, Reply, Role
from handlers.views import no_orders, order_choices, order_line, status_reply, stock_line
from models import linking
from models.flows import FINAL
from models.inventory import subscribe
from models.linking import chat_orders, order_history
from models.orders import clean_code
from models.search import search_products

LIST_LIMIT = 10


async def orders(ctx: Context, args: str) -> Reply:
    """List the orders linked to this chat, newest first, each with its phase."""
    mine = await chat_orders(ctx.session, ctx.chat, LIST_LIMIT)
    if not mine:
        return no_orders(ctx)
    lines = [ctx.t("orders.title")] + [order_line(ctx, o) for o in mine]
    return Reply("\n".join(lines), choices=order_choices(mine))


async def status(ctx: Context, args: str) -> Reply:
    """Show one order's status; without a code, this chat's open order (or a list to pick)."""
    code = args.strip().split()[0] if args.strip() else ""
    if not code:
        mine = await chat_orders(ctx.session, ctx.chat, LIST_LIMIT)
        mine = [o for o in mine if o.phase not in FINAL] or mine
        if not mine:
            return no_orders(ctx)
        if len(mine) > 1:
            return Reply(ctx.t("status.pick"), choices=order_choices(mine))
        code = mine[0].code
    seen_by = None if ctx.role is Role.STAFF else ctx.chat  # staff see every order
    history = await order_history(ctx.session, code, seen_by=seen_by)
    if history is None:
        # The same words whether the order does not exist or is someone else's.
        return ctx.reply("status.not_found", code=code[:64])
    return status_reply(ctx, history)


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
    product = await subscribe(ctx.session, ctx.chat.id, sku)
    if product is None:
        return ctx.reply("stock.none", query=args.strip()[:100])
    if product.orderable_now:
        return Reply(stock_line(ctx, product))
    return ctx.reply("notify.done", product=product.label)


async def reseller_orders(ctx: Context, args: str) -> Reply:
    """List the dropship orders placed through this reseller, newest first."""
    assert ctx.reseller is not None
    rows = await linking.reseller_orders(ctx.session, ctx.reseller.id, LIST_LIMIT)
    if not rows:
        return ctx.reply("myorders.none")
    lines = [ctx.t("myorders.title", brand=ctx.reseller.name)]
    lines += [order_line(ctx, order, name) for order, name in rows]
    return Reply("\n".join(lines), choices=order_choices([order for order, _ in rows]))
