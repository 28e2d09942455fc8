"""Customer (and reseller) questions: my orders, one order's status, stock, back-in-stock."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta

from handlers.context import Context
from handlers.intents import Hint, Intent, IntentKind, asks_of_all_their_orders, says_thanks
from handlers.types import Choice, Reply, Role
from handlers.views import (
    no_orders,
    order_choices,
    order_line,
    share_button,
    status_reply,
    stock_line,
)
from models import inventory, linking
from models.catalog import Product
from models.chat_orders import products_by_sku
from models.enums import Fulfillment, PaymentState, Phase
from models.flows import FINAL
from models.inventory import subscribe
from models.linking import Item, items_of, order_history, visible_orders
from models.messages import last_order_told
from models.orders import Order, clean_code
from models.search import ProductIndex, StockFound, find_products
from models.tracking import customer_says_arrived, track_of

LIST_LIMIT = 10
# How long an order the chat was last told about stays the one a question without a code
# means: "kok belum sampai?" the morning after the shipping news still asks after that parcel.
STILL_ABOUT = timedelta(hours=24)


async def orders(ctx: Context, args: str) -> Reply:
    """List the orders linked to this chat, newest first, each with its items and phase."""
    mine = await visible_orders(ctx.session, ctx.chat, LIST_LIMIT)
    if not mine:
        return no_orders(ctx)
    items = await items_of(ctx.session, [o.id for o in mine])
    lines = [ctx.t("orders.title")] + [order_line(ctx, o, items=items.get(o.id)) for o in mine]
    return Reply("\n".join(lines), choices=order_choices(ctx, mine))


async def status(ctx: Context, args: str) -> Reply:
    """Show one order's status; without a code, this chat's open order (or a list to pick)."""
    code = args.strip().split()[0] if args.strip() else ""
    if not code:
        return await asked_about(ctx, Intent(IntentKind.ORDER_STATUS))
    return await _status_of(ctx, code)


async def track(ctx: Context, args: str) -> Reply:
    """Show an order with the courier's latest checkpoints: `/lacak [KODE]`."""
    code = args.strip().split()[0] if args.strip() else None
    if code is None and ctx.role is Role.STAFF:
        return ctx.reply("track.usage")
    asks = Intent(IntentKind.ORDER_STATUS, code, hints=frozenset({Hint.TRACKING}))
    return await asked_about(ctx, asks)


async def asked_about(ctx: Context, intent: Intent) -> Reply:
    """Answer an order question: the order it names, or the one it points to.

    "resi nya mana" points to the order with a tracking number, "batiknya udah jadi?" to the
    one with batik in it, a production question to the one in production. When the
    question leaves several, the choice shows what is in each and where it stands.
    """
    if Hint.ARRIVED in intent.hints and ctx.role is not Role.STAFF:
        return await _arrived(ctx, intent)
    if intent.order_code:
        return await _status_of(ctx, intent.order_code, intent)
    if ctx.role is Role.STAFF:
        return ctx.reply("status.staff_usage")  # staff see every order: which one?
    mine = await visible_orders(ctx.session, ctx.chat, LIST_LIMIT)
    if not mine:
        return no_orders(ctx)
    numbers = {int(w) for w in intent.words if w.isdigit() and len(w) <= 12}
    numbered = [o for o in mine if _code_number(o.code) in numbers]
    if len(numbered) == 1:  # "pesanan 1001 gimana?": of this chat's own, the one it names
        return await _status_of(ctx, numbered[0].code, intent)
    pool = [o for o in mine if o.phase not in FINAL] or mine
    if len(pool) == 1:
        return await _status_of(ctx, pool[0].code, intent)
    items = await items_of(ctx.session, [o.id for o in pool])
    picked = _pointed_to(pool, items, intent)
    if len(picked) > 1 and not asks_of_all_their_orders(intent.words):
        # "kok lama ya" right after an order's status, or its news: that order
        picked = [told] if (told := await order_told(ctx, picked, STILL_ABOUT)) else picked
    if len(picked) == 1:
        return await _status_of(ctx, picked[0].code, intent)
    said = ctx.t("status.pick")
    if Hint.TRACKING in intent.hints and not any(o.tracking_number for o in picked):
        said = ctx.t("track.none_shipped") + "\n" + said  # no resi to give: say so first
    return Reply(said, choices=order_choices(ctx, picked, items))


async def order_told(ctx: Context, orders: Sequence[Order], within: timedelta) -> Order | None:
    """Of `orders`, the one the last message to this chat was about (its status, its bill,
    news of it), sent in the last `within`: the order "it" means now."""
    told = await last_order_told(ctx.session, ctx.chat.id, ctx.now - within)
    return next((order for order in orders if order.id == told), None)


async def the_order_just_told(ctx: Context) -> Reply | None:
    """The status of the order the chat was just told about, for a question that names no
    product and no order ("kapan ready?" under an order waiting for stock); None when the
    chat was told of none (or is staff's, who see every order)."""
    if ctx.role is Role.STAFF:
        return None
    mine = await visible_orders(ctx.session, ctx.chat, LIST_LIMIT)
    told = await order_told(ctx, mine, STILL_ABOUT) if mine else None
    return await _status_of(ctx, told.code) if told is not None else None


def types_a_phone(text: str) -> bool:
    """Whether a message gives a phone number ("no hp saya 0813-9999-0000")."""
    return any(sum(c.isdigit() for c in m) >= 9 for m in _PHONE_TYPED.findall(text))


_PHONE_TYPED = re.compile(r"(?<![\w+])\+?[0-9][0-9 .()-]{7,}[0-9](?!\w)")


def typed_phone(ctx: Context) -> Reply:
    """A chat with no orders typed a phone number: a typed number opens nothing (anyone can
    type anyone's), so say what does: the number shared with the button, or the invoice."""
    button = share_button(ctx)
    key = "link.typed_phone" if button else "link.typed_phone_no_button"
    return Reply(ctx.t(key), contact_button=button)


async def _arrived(ctx: Context, intent: Intent) -> Reply:
    """The customer says the parcel came: thanked, and when it is plainly one order on its
    way (the one named, or the chat's only shipped one), staff are told, once, with the tap
    that marks it delivered. Nothing moves on the customer's word alone."""
    mine = await visible_orders(ctx.session, ctx.chat, LIST_LIMIT)
    if intent.order_code:
        mine = [o for o in mine if o.code.casefold() == intent.order_code.casefold()]
    on_its_way = [o for o in mine if o.phase is Phase.SHIPPED]
    if len(on_its_way) != 1:  # nothing to tell staff: only thanks, or thanks for telling
        return ctx.reply("greeting.thanks" if says_thanks(intent.words) else "arrived.noted")
    order = on_its_way[0]
    await customer_says_arrived(ctx.session, order, ctx.incoming.name, ctx.now)
    return ctx.reply("arrived.thanks", code=order.code)


def _pointed_to(pool: list[Order], items: dict[int, list[Item]], intent: Intent) -> list[Order]:
    """The orders of the pool a question points to; each clue is kept only if it leaves some."""
    picked = pool
    if intent.about:
        named = _with_products(picked, items, intent.about)
        picked = named or picked
    if Hint.TRACKING in intent.hints:
        picked = [o for o in picked if o.tracking_number] or picked
    if Hint.PAYMENT in intent.hints:  # the one whose transfer is being checked
        picked = [o for o in picked if o.payment_state is PaymentState.PROOF_SENT] or picked
    if Hint.PRODUCTION in intent.hints:
        making = [o for o in picked if o.phase is Phase.IN_PRODUCTION]
        made_to_order = [
            o
            for o in picked
            if o.fulfillment is Fulfillment.MADE_TO_ORDER and o.phase is not Phase.SHIPPED
        ]
        picked = making or made_to_order or picked
    return picked


def _code_number(code: str) -> int | None:
    """The number an order code ends in: INV-1001 -> 1001."""
    found = _TRAILING_NUMBER.search(code)
    return int(found[1]) if found else None


_TRAILING_NUMBER = re.compile(r"(\d{1,12})\D*$")


def _with_products(
    orders: Sequence[Order], items: dict[int, list[Item]], words: str
) -> list[Order]:
    """The orders holding a product these words name (sizes and colours exactly)."""
    lines = [
        (number, item.sku, item.name, item.variant)
        for number, order in enumerate(orders)
        for item in items.get(order.id, [])
    ]
    found = ProductIndex.build(lines).search(words, limit=len(lines))
    hit = {match.product_id for match in found}
    return [order for number, order in enumerate(orders) if number in hit]


async def _status_of(ctx: Context, code: str, intent: Intent | None = None) -> Reply:
    """The status of the order with this code, if the asker may see it; a question about
    the parcel (`Hint.TRACKING`) gets the courier's checkpoints too."""
    seen_by = None if ctx.role is Role.STAFF else ctx.chat  # staff see every order
    history = await order_history(ctx.session, code, seen_by=seen_by)
    if history is None:
        # The same words whether the order does not exist or is someone else's.
        if ctx.role is Role.UNKNOWN:  # a code typed opens nothing; the invoice's link does
            said = [ctx.t("status.not_found", code=code[:64]), ctx.t("status.how_to_link")]
            return Reply("\n".join(said), contact_button=share_button(ctx))
        return ctx.reply("status.not_found", code=code[:64])
    order = history.order
    track = await track_of(ctx.session, order.id) if order.tracking_number else None
    tracking = intent is not None and Hint.TRACKING in intent.hints
    packs = ctx.role is Role.STAFF or (
        ctx.reseller is not None and order.reseller_id == ctx.reseller.id
    )  # staff pack it; a reseller wrote where their buyer's parcel goes
    packing = (await items_of(ctx.session, [order.id])).get(order.id, []) if packs else None
    return status_reply(ctx, history, track, tracking=tracking, packing=packing)


async def stock(ctx: Context, args: str) -> Reply:
    """Answer a stock question: one product in words, or a short list to choose from."""
    query = args.strip().rstrip("?!.")  # "stok sepatu?" asks of "sepatu"
    if not query:
        return await catalogue(ctx)  # "Cek stok" tapped: what is there to check
    return await stock_answer(ctx, query) or none_found(ctx, query)


def none_found(ctx: Context, query: str) -> Reply:
    """No product fits the words: say so, with what the shop does sell one tap away."""
    see_all = Choice(ctx.t("stock.see_all"), "/stok")  # /stok alone lists the catalogue
    return ctx.reply("stock.none", query=query[:100], choices=(see_all,))


async def catalogue(ctx: Context) -> Reply:
    """What the shop sells, a line a product name (its lowest price, how many variants,
    whether it can be had), each a tap away from its variants' stock."""
    kinds, total = await inventory.catalogue(ctx.session, LIST_LIMIT)
    if not kinds:
        return ctx.reply("stock.ask")
    lines = [ctx.t("catalogue.title")] + ["• " + _kind_line(ctx, kind) for kind in kinds]
    if total > len(kinds):
        lines.append(ctx.t("catalogue.more", count=total - len(kinds)))
    lines.append(ctx.t("catalogue.hint"))
    choices = tuple(Choice(kind.name, f"/stok {kind.name}") for kind in kinds)
    return Reply("\n".join(lines), choices=choices)


def _kind_line(ctx: Context, kind: inventory.Kind) -> str:
    """`Kaos Polos — mulai Rp85.000 · 3 varian`, priced for the asker as stock_line prices."""
    parts = [kind.name]
    if not ctx.reseller_brand:  # a reseller's customer hears the reseller's prices, not ours
        lowest = kind.lowest_for_resellers if ctx.role is Role.RESELLER else kind.lowest
        # A reseller's prices are known by their lowest only: several variants are "from".
        same = kind.variants == 1 or (kind.lowest == kind.highest and ctx.role is not Role.RESELLER)
        price = ctx.money(lowest)
        parts[0] += " — " + (price if same else ctx.t("catalogue.from", price=price))
    if kind.variants > 1:
        parts.append(ctx.t("catalogue.variants", count=kind.variants))
    if kind.made_to_order:
        parts.append(ctx.t("catalogue.made_to_order"))
    elif not kind.orderable:
        parts.append(ctx.t("catalogue.sold_out"))
    return " · ".join(parts)


async def stock_answer(
    ctx: Context, query: str, *, tell_when_back: bool = False, among: Sequence[str] | None = None
) -> Reply | None:
    """Say how available the products a question names are (`among` the products of these
    SKUs alone, when given); None when it names none.

    A size or colour that no such product comes in is said plainly, with the ones there are:
    never a yes for another variant. Asked to `tell_when_back` of the one product it names,
    out of stock, the chat is told when it is back (as /kabari).
    """
    found = await find_products(ctx.session, query, limit=5, cache=ctx.catalog, among=among)
    return await _found(ctx, found, tell_when_back=tell_when_back)


async def _found(ctx: Context, found: StockFound, *, tell_when_back: bool = False) -> Reply | None:
    """What a search found, in words (see stock_answer); None when it found nothing."""
    if found.missing:
        wanted = " ".join((found.product, *found.missing)).strip()  # "Kaos Polos Hitam XXL"
        if found.alternatives:
            said = ctx.t(
                "stock.no_variant", wanted=wanted, alternatives=", ".join(found.alternatives)
            )
            # The ones there are, to order or ask about: "mau 1" then means the one shown.
            return await _instead(ctx, said, found.others)
        if found.product:  # "Tote Bag Kanvas does not come in black", not "that product …"
            missing = " ".join(found.missing)
            return ctx.reply("stock.not_made_in", product=found.product, missing=missing)
        return ctx.reply("stock.no_variant_at_all", wanted=wanted)
    products = found.products
    if not products:
        return None
    if len(products) == 1:
        if tell_when_back and not products[0].orderable_now:
            return await notify(ctx, products[0].sku)
        return _one(ctx, products[0])
    return _several(ctx, products)


async def _instead(ctx: Context, said: str, skus: Sequence[str]) -> Reply:
    """A size or colour there is not, with the products there are in the others to choose."""
    found = await products_by_sku(ctx.session, skus)
    products = [found[sku] for sku in skus if sku in found]
    if len(products) == 1:
        return Reply(said, choices=_one(ctx, products[0]).choices)
    return Reply(said, choices=_several(ctx, products).choices if products else ())


def _one(ctx: Context, product: Product) -> Reply:
    """One product: its price and how available it is, with what may be done about it."""
    if product.orderable_now and (ctx.orders_here or ctx.role is Role.RESELLER):
        # "ada?", then "mau 2": one tap (a reseller is shown the dropship command)
        order_it = Choice(ctx.t("push.order_now"), f"/pesan {product.sku}")
        return Reply(stock_line(ctx, product), choices=(order_it,))
    if not product.orderable_now and ctx.role in (Role.CUSTOMER, Role.UNKNOWN):
        tell_me = Choice(ctx.t("stock.tell_me"), f"/kabari {product.sku}")  # /kabari, a tap
        return Reply(stock_line(ctx, product), choices=(tell_me,))
    if product.orderable_now and (brand := ctx.reseller_brand):  # ordered where they bought
        return Reply(stock_line(ctx, product) + "\n" + ctx.t("draft.via_seller", seller=brand))
    return Reply(stock_line(ctx, product))


def _several(ctx: Context, products: Sequence[Product]) -> Reply:
    """A few products, each in a line with its price and how available it is, to pick from."""
    lines = [ctx.t("stock.several")] + [stock_line(ctx, p) for p in products]
    return Reply(
        "\n".join(lines), choices=tuple(Choice(p.label, f"/stok {p.sku}") for p in products)
    )


async def shown_again(ctx: Context, skus: Sequence[str]) -> Reply | None:
    """The products a stock answer just showed, again ("harganya berapa?"); None if gone."""
    found = await products_by_sku(ctx.session, skus)
    products = [found[sku] for sku in skus if sku in found]
    if len(products) == 1:
        return _one(ctx, products[0])
    return _several(ctx, products) if products else None


def shown(ctx: Context) -> tuple[str, ...]:
    """The SKUs of the products the chat's last stock answer showed: the several it listed,
    or the one it offered to order or to tell of; () after any other answer."""
    listed = _skus_after(ctx.last_menu, "/stok ")
    if len(listed) > 1:
        return listed
    # A draft's own buttons (`/pesan ok`, `/pesan batal`) come in twos, never alone.
    offered = _skus_after(ctx.last_menu, "/pesan ", "/kabari ")
    return offered if len(ctx.last_menu) == 1 == len(offered) else ()


def _skus_after(commands: Sequence[str], *prefixes: str) -> tuple[str, ...]:
    """The argument of each command that is one of these words and one argument."""
    return tuple(
        command.split()[1]
        for command in commands
        if command.startswith(prefixes) and len(command.split()) == 2
    )


async def follow_up(ctx: Context, query: str, skus: Sequence[str]) -> Reply | None:
    """Answer a follow-up to a stock answer that showed these products: among the several
    listed ("yang hitam?"); else, when they are one product's variants, its other sizes and
    colours ("ada XL?", "do you have it in white?", "ukuran apa aja?"). None when none fits
    (the message is then read as it stands)."""
    among = None
    if len(skus) > 1 and query:
        among = await find_products(ctx.session, query, cache=ctx.catalog, among=skus)
        if among.products:
            return await _found(ctx, among)
    names = {product.name for product in (await products_by_sku(ctx.session, skus)).values()}
    if len(names) == 1:
        return await stock_answer(ctx, f"{names.pop()} {query}")
    return await _found(ctx, among) if among is not None else None


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
    items = await items_of(ctx.session, [order.id for order, _ in rows])
    lines = [ctx.t("myorders.title", brand=ctx.reseller.name)]
    lines += [order_line(ctx, order, name, items=items.get(order.id)) for order, name in rows]
    return Reply("\n".join(lines), choices=order_choices(ctx, [order for order, _ in rows]))
