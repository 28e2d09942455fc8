"""Orders placed in chat: staff for a customer, resellers for theirs (dropship), customers.

Staff: `/pesananbaru nama; hp; SKU qty, …; alamat` in one message, the way shops type it.
Resellers: `/pesan SKU qty, …; penerima; hp; alamat`, at their prices, under their brand.
Customers: "mau order kaos hitam XL 2" or `/pesan` start a short draft (product and exact
variant, quantity, name and address, a summary to confirm), kept in the database.
All of them place the order through the one call every order goes through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta

from handlers import faq
from handlers.context import Context
from handlers.customer import follow_up, shown, stock_answer
from handlers.i18n import day
from handlers.intents import IntentKind, classify, narrowing, normalise, product_words
from handlers.payment import account_lines
from handlers.support import hand_over
from handlers.types import Choice, Reply, Role
from handlers.views import share_button, stock_line
from models.audience import audiences_of
from models.catalog import Product
from models.change import CUSTOMER, Actor
from models.chat_orders import (
    OrderDraft,
    Recipient,
    customer_by_phone,
    customer_with_phone,
    draft_of,
    last_recipient,
    lines_of,
    new_draft,
    place_chat_order,
    products_by_sku,
    touch,
)
from models.enums import Channel, Phase
from models.errors import InvalidPhone
from models.linking import invoice_links, link_by_phone, linked_customer_ids
from models.messages import last_said
from models.orders import Order, clean_code
from models.payments import bill_of
from models.people import Customer, Reseller
from models.phones import normalize_phone
from models.placing import would_wait
from models.search import colour_of, find_products, size_of
from models.support import Reason, answered_since

MAX_QTY = 999
_QTY = re.compile(r"^(?:x\s*)?(\d{1,4})(?:\s*(?:x|pcs?|biji|buah|lembar))?$", re.I)
_QTY_IN_TEXT = re.compile(r"\b(\d{1,3})\s*(?:x|pcs?|biji|buah|lembar)\b|\bx\s*(\d{1,3})\b", re.I)
# A number right after the wish to buy: "I'd like to order 2 black tees", "mau beli 3 kaos",
# "can I get 2 tote bags", "mau 2 kaos".
_QTY_AFTER_VERB = re.compile(
    r"\b(?:order|pesan|beli|buy|get|take|ambil|mau|want|like|need|butuh)\s+(\d{1,3})\b", re.I
)
# A number at the end, before the politeness that may close a message: "hitam L 1 ya kak".
_QTY_AT_END = re.compile(
    r"\s(\d{1,3})(?:\s+(?:ya|aja|saja|deh|dong|kak|kakak|min|gan|sis|please|pls))*[\s.!]*$", re.I
)
# A number before whom it is for: "tote 2 buat customer saya", "kemeja 1 untuk kado".
_QTY_BEFORE_FOR = re.compile(r"\s(\d{1,3})\s+(?:buat|untuk|utk|for)\b", re.I)
# How many, in words: "dua", "two", "dua pcs".
_NUMBER_WORDS = {
    word: number
    for number, words in enumerate(
        (
            ("satu", "one"),
            ("dua", "two"),
            ("tiga", "three"),
            ("empat", "four"),
            ("lima", "five"),
            ("enam", "six"),
            ("tujuh", "seven"),
            ("delapan", "eight"),
            ("sembilan", "nine"),
            ("sepuluh", "ten"),
        ),
        start=1,
    )
    for word in words
}
DROP = {"batal", "cancel", "batalkan", "gak jadi", "tidak jadi", "ga jadi"}  # no order after all
YES = {"ya", "iya", "y", "ok", "oke", "yes", "betul", "benar", "sip", "lanjut", "kirim"}
CHANGE = {"ubah", "ganti", "change", "tidak", "no", "bukan"}


@dataclass
class Problems:
    """What is wrong with an order written in one message, line by line."""

    found: list[str]

    def __bool__(self) -> bool:
        return bool(self.found)


# ------------------------------------------------------------------------------- parsing


async def parse_lines(ctx: Context, text: str, problems: Problems) -> list[tuple[Product, int]]:
    """`KAOS-HTM-L 2, TOTE-CANVAS 1` (or `2 KAOS-HTM-L`, `KAOS-HTM-L x2`) into products; a
    product's name that names one product does as well as its SKU (`kaos hitam xl 2`)."""
    wanted: list[tuple[list[str], int]] = []  # the words naming a product, how many
    for piece in (p.strip() for p in text.split(",")):
        words = piece.split()
        if not words:
            continue
        qty = 1
        for size in (2, 1):  # "2 pcs" or "2" at the end, else at the start
            if len(words) > size and (typed := _QTY.fullmatch(" ".join(words[-size:]))):
                words, qty = words[:-size], int(typed[1])
                break
        else:
            for size in (2, 1):
                if len(words) > size and (typed := _QTY.fullmatch(" ".join(words[:size]))):
                    words, qty = words[size:], int(typed[1])
                    break
        wanted.append((words, qty))
    skus = await products_by_sku(ctx.session, [words[0] for words, _ in wanted])
    lines: list[tuple[Product, int]] = []
    for words, qty in wanted:
        named = " ".join(words)
        product = skus.get(clean_code(words[0]) or "")
        if product is not None and len(words) == 2:
            # "KAOS-HTM-L dua": a SKU with what is no quantity
            problems.found.append(ctx.t("neworder.bad_qty", sku=product.sku, qty=words[1][:20]))
            continue
        if product is None:
            found = await find_products(ctx.session, named, limit=5, cache=ctx.catalog)
            if len(found.products) == 1 and not found.missing:
                product = found.products[0]
            elif found.products and not found.missing:
                listed = ", ".join(p.sku for p in found.products)
                problems.found.append(ctx.t("neworder.which", name=named[:60], skus=listed))
                continue
            else:
                problems.found.append(ctx.t("neworder.unknown_sku", sku=named[:40]))
                continue
        if not 1 <= qty <= MAX_QTY:
            problems.found.append(ctx.t("neworder.bad_qty", sku=product.sku, qty=str(qty)))
        elif any(p.id == product.id for p, _ in lines):
            problems.found.append(ctx.t("neworder.twice", sku=product.sku))
        else:
            lines.append((product, qty))
    if not wanted and not problems:
        problems.found.append(ctx.t("neworder.no_lines"))
    return lines


def parse_phone(ctx: Context, typed: str, problems: Problems) -> str:
    """A phone staff or a reseller typed: the Indonesian local forms are fine (0812…)."""
    try:
        return normalize_phone(typed.strip())
    except InvalidPhone:
        problems.found.append(ctx.t("neworder.bad_phone", phone=typed.strip()[:30]))
        return ""


def _text(value: str, what: str, ctx: Context, problems: Problems, *, longest: int) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        problems.found.append(ctx.t(f"neworder.no_{what}"))
    elif len(cleaned) > longest:
        problems.found.append(ctx.t(f"neworder.long_{what}", longest=longest))
    return cleaned


# ------------------------------------------------------------------------------- staff


async def new_order(ctx: Context, args: str) -> Reply | list[Reply]:
    """`/pesananbaru nama; hp; SKU qty, …; alamat`: an order for a customer, placed now.

    Sent bare, it asks for each part in turn (the same parts, one message each).
    """
    if not args.strip():
        draft = await new_draft(ctx.session, ctx.chat.id, "staff", ctx.now, _lifetime(ctx))
        draft.step = "name"
        return ctx.reply("neworder.ask_name")
    parts = [p.strip() for p in args.split(";")]
    if len(parts) < 4:
        return ctx.reply("neworder.usage")
    problems = Problems([])
    name = _text(parts[0], "name", ctx, problems, longest=200)
    phone = parse_phone(ctx, parts[1], problems)
    lines = await parse_lines(ctx, parts[2], problems)
    address = _text("; ".join(parts[3:]), "address", ctx, problems, longest=500)
    if problems:
        return Reply("\n".join([ctx.t("neworder.problems"), *problems.found]))
    customer = await customer_by_phone(ctx.session, phone, name)
    order = await _place(ctx, customer.id, lines, Recipient(name, phone, address), None)
    return await _placed_for_customer(ctx, order, phone, name)


async def _place(
    ctx: Context,
    customer_id: int,
    lines: list[tuple[Product, int]],
    recipient: Recipient,
    reseller_id: int | None,
) -> Order:
    customer = await ctx.session.get(Customer, customer_id)
    reseller = await ctx.session.get(Reseller, reseller_id) if reseller_id else None
    assert customer is not None
    actor = Actor.staff(ctx.staff.id) if ctx.staff is not None else Actor(ctx.role.value)
    return await place_chat_order(
        ctx.session,
        prefix=ctx.settings.orders.prefix,
        customer=customer,
        lines=lines,
        recipient=recipient,
        reseller=reseller,
        actor=actor,
        now=ctx.now,
    )


def _outcome(ctx: Context, order: Order) -> str:
    """What became of the order's stock: reserved, waiting, or when it will be made."""
    if order.phase is Phase.AWAITING_STOCK:
        return ctx.t("neworder.awaiting")
    if order.estimated_ready_at is not None:
        when = day(order.estimated_ready_at, ctx.settings.timezone, ctx.lang)
        return ctx.t("neworder.made_to_order", date=when)
    return ctx.t("neworder.reserved")


async def _summary(ctx: Context, order: Order) -> list[str]:
    """The placed order for the one who placed it: lines at their prices, total, stock."""
    out = [ctx.t("neworder.placed", code=order.code, name=order.recipient_name or "")]
    out += [
        f"• {product.label} ×{qty} — {ctx.money(price * qty)}"
        for product, qty, price in await lines_of(ctx.session, order.id)
    ]
    out.append(ctx.t("invoice.total", amount=ctx.money(bill_of(order).total)))
    out.append(_outcome(ctx, order))
    return out


async def _placed_for_customer(ctx: Context, order: Order, phone: str, name: str) -> list[Reply]:
    """Tell staff what was placed, and what to forward to a customer who is not in chat yet."""
    summary = await _summary(ctx, order)
    heard = await audiences_of(ctx.session, [order])
    if any(audience == "customer" for _, audience in heard.get(order.id, [])):
        summary.append(ctx.t("neworder.customer_told"))
        return [Reply("\n".join(summary))]
    links = invoice_links(order.link_code, ctx.settings.bot_username, ctx.settings.whatsapp_number)
    forward = [ctx.t("neworder.forward", name=name, code=order.code, shop=ctx.settings.shop_name)]
    forward += [link for link in (links["telegram"], links["whatsapp"]) if link] or [
        ctx.t("neworder.forward_code", code=links["code"])  # no links set up: type it
    ]
    summary.append(ctx.t("neworder.forward_hint"))
    return [Reply("\n".join(summary)), Reply("\n".join(forward))]


# ------------------------------------------------------------------------------- resellers


async def reseller_order(ctx: Context, args: str) -> Reply | list[Reply]:
    """`/pesan SKU qty, …; penerima; hp; alamat`: a dropship order at the reseller's prices."""
    assert ctx.reseller is not None
    parts = [p.strip() for p in args.split(";")]
    if len(parts) == 1 and parts[0]:
        # "/pesan TOTE-KNV 2" (their stock answer's 🛒 button, or typed): the rest to write
        problems = Problems([])
        lines = await parse_lines(ctx, parts[0], problems)
        if lines and not problems:
            return Reply(_fill(ctx, lines))
    if len(parts) < 4 or not parts[0]:
        return ctx.reply("resellerorder.usage")
    problems = Problems([])
    lines = await parse_lines(ctx, parts[0], problems)
    name = _text(parts[1], "name", ctx, problems, longest=200)
    phone = parse_phone(ctx, parts[2], problems)
    address = _text("; ".join(parts[3:]), "address", ctx, problems, longest=500)
    if problems:
        return Reply("\n".join([ctx.t("neworder.problems"), *problems.found]))
    customer = await customer_by_phone(ctx.session, phone, name)
    order = await _place(ctx, customer.id, lines, Recipient(name, phone, address), ctx.reseller.id)
    summary = await _summary(ctx, order)
    summary += account_lines(ctx)
    return Reply("\n".join(summary))


async def reseller_asks_to_order(ctx: Context, text: str) -> Reply:
    """A reseller's "mau order tote 2" in words: the dropship command, filled in as far as
    the words go (a dropship order needs the recipient's phone, which a draft never asks)."""
    query = classify(text).query
    usage = ctx.t("resellerorder.usage")
    if not query:
        return Reply(usage)
    found = await find_products(ctx.session, query, limit=5, cache=ctx.catalog)
    if not found.missing and len(found.products) == 1:
        product = found.products[0]
        said = _fill(ctx, [(product, _qty_in(text) or 1)])
        return Reply(stock_line(ctx, product) + "\n" + said)
    listed = await stock_answer(ctx, query)  # the SKUs to write, or that there is none
    said = listed.text if listed is not None else ctx.t("stock.none", query=query[:100])
    return Reply(said + "\n" + usage)


def _fill(ctx: Context, lines: list[tuple[Product, int]]) -> str:
    """The dropship command with these lines written in, for the reseller to finish."""
    written = ", ".join(f"{product.sku} {qty}" for product, qty in lines)
    return ctx.t("resellerorder.fill", lines=written)


# ------------------------------------------------------------------------------- customers


async def start(ctx: Context, args: str) -> Reply | list[Reply]:
    """`/pesan [produk]`, "mau order kaos hitam XL 2": start (or go on with) a draft order."""
    if brand := ctx.reseller_brand:  # a reseller's customer orders from the reseller
        return ctx.reply("draft.via_seller", seller=brand)
    if not ctx.settings.orders.customers_can_order:
        return await hand_over(ctx, Reason.ASKED)  # the shop takes orders itself
    words = args.strip()
    draft = await draft_of(ctx.session, ctx.chat.id, ctx.now)
    going_on = words.lower() in ("batal", "cancel", "ok", "ya", "ubah")
    if draft is not None and (going_on or (words and draft.step == "product")):
        return await answer(ctx, words) or ctx.reply("draft.ask_product")  # a button pressed
    phone = await _phone_of(ctx)
    if phone is None and ctx.incoming.phone_verified:
        return await hand_over(ctx, Reason.ASKED)  # a number kabar cannot read: a person takes it
    if ctx.incoming.channel is Channel.TELEGRAM and phone is None:
        # A chat that is not linked has no number yet; a typed one is not proof it is theirs.
        return Reply(ctx.t("draft.share_phone"), contact_button=share_button(ctx))
    draft = await new_draft(ctx.session, ctx.chat.id, "customer", ctx.now, _lifetime(ctx))
    qty = _qty_in(words)
    if qty:
        draft.data = {**draft.data, "qty": qty}
    named = classify(words).query or product_words(words) or ""
    if not any(ch.isalpha() for ch in named):  # no product in the words: "mau beli 2"
        # "I want to buy 2" right after "ada kaos hitam L?": the product just shown
        if shown := _shown_product(ctx):
            return await _choose_product(ctx, draft, shown)
        return ctx.reply("draft.ask_product")
    return await _choose_product(ctx, draft, words)


# "mau 2 ya kak", "ambil 3", "I'll take 2" right after one product was shown with its button.
_TAKES_SHOWN = re.compile(
    r"(?:(?:ok|oke|okay|okey|baik|sip|yes|ya)[,.!]?\s+)?"
    r"(?:(?:saya|aku|sy|i)\s+)?(?:mau|ambil|order|pesan|beli|take|want|need|i'?ll\s+take)\s+"
    r"(\d{1,3}|satu|dua|tiga|empat|lima|one|two|three|four|five)(?:\s*(?:pcs?|biji|buah|x))?(?:\s+(?:ya|aja|deh|dong|kak|kakak|min|please|pls))*"
    r"\s*[.!]*",
    re.I,
)


def the_shown_taken(ctx: Context, text: str) -> str | None:
    """The product the chat was just shown, with how many, when a message takes it by number
    alone ("mau 2 ya kak"); None otherwise. Only a chat that may order is shown one (a
    customer its draft, a reseller the dropship command)."""
    shown = _shown_product(ctx)
    found = _TAKES_SHOWN.fullmatch(" ".join(text.split()))
    if shown is None or found is None:
        return None
    return f"{shown} {_count(found[1])}"


async def which_of_the_shown(ctx: Context, text: str) -> Reply | None:
    """Which of the products a stock answer just listed, when a message takes one by number
    alone ("ok saya ambil 1" after two shirts): each with that many, one tap; None otherwise."""
    listed = shown(ctx)
    found = _TAKES_SHOWN.fullmatch(" ".join(text.split()))
    may_order = ctx.orders_here or ctx.role is Role.RESELLER
    if len(listed) < 2 or found is None or not may_order:
        return None
    products = await products_by_sku(ctx.session, listed)
    choices = tuple(
        Choice(products[sku].label, f"/pesan {sku} {_count(found[1])}")
        for sku in listed
        if sku in products
    )
    return Reply(ctx.t("draft.which_product"), choices=choices) if choices else None


def _count(said: str) -> int:
    """A count as typed: digits, or a number word ("dua", "one")."""
    return int(said) if said.isdigit() else _NUMBER_WORDS[said.lower()]


def _shown_product(ctx: Context) -> str | None:
    """The SKU of the one product the chat was just offered to order (a stock answer's 🛒
    button), or None."""
    skus = shown(ctx)
    return skus[0] if len(skus) == 1 and f"/pesan {skus[0]}" in ctx.last_menu else None


def _lifetime(ctx: Context) -> timedelta:
    return ctx.settings.orders.draft_lifetime


def _qty_in(text: str) -> int | None:
    """How many a request names: "2 pcs", "x2", "order 2 …", "tote 2 buat …", or a number at
    the end ("kaos hitam XL 2")."""
    found = _QTY_IN_TEXT.search(text)
    if found is not None:
        qty = int(found[1] or found[2])
    elif after := _QTY_AFTER_VERB.search(text):
        qty = int(after[1])
    elif before_whom := _QTY_BEFORE_FOR.search(text):
        qty = int(before_whom[1])
    elif trailing := _QTY_AT_END.search(text.strip()):
        qty = int(trailing[1])
    else:
        return None
    return qty if 1 <= qty <= MAX_QTY else None


async def _phone_of(ctx: Context) -> str | None:
    """The customer's verified number: WhatsApp's sender, or a linked customer's; None when
    there is none, or the platform vouched for a number phonenumbers does not know."""
    if ctx.incoming.phone_verified:
        try:
            return normalize_phone(ctx.incoming.sender)
        except InvalidPhone:
            return None
    ids = await linked_customer_ids(ctx.session, ctx.chat)
    if not ids:
        return None
    customer = await ctx.session.get(Customer, ids[0])
    return customer.phone if customer else None


async def _choose_product(ctx: Context, draft: OrderDraft, words: str) -> Reply:
    query = classify(words).query or product_words(words) or words
    found = await find_products(ctx.session, query, limit=5, cache=ctx.catalog)
    if (earlier := draft.data.get("query")) and (found.missing or len(found.products) != 1):
        # "yang XL aja" after "which kaos hitam?": the choice narrowed, not a new search.
        narrowed = await find_products(
            ctx.session, f"{earlier} {query}", limit=5, cache=ctx.catalog
        )
        if narrowed.products and not narrowed.missing:
            query, found = f"{earlier} {query}", narrowed
    if found.missing or not found.products:
        said = await stock_answer(ctx, query)
        draft.step = "product"
        told = said.text if said else ctx.t("stock.none", query=query[:100])
        return Reply(told + "\n" + ctx.t("draft.ask_product"))
    if len(found.products) > 1:
        draft.step = "product"
        draft.data = {**draft.data, "query": query}
        return Reply(
            ctx.t("draft.which_product"),
            choices=tuple(Choice(p.label, f"/pesan {p.sku}") for p in found.products),
        )
    product = found.products[0]
    draft.data = {**draft.data, "sku": product.sku}
    if draft.data.get("qty"):
        return await _ask_recipient(ctx, draft, stock_line(ctx, product))
    draft.step = "qty"
    return _ask(stock_line(ctx, product) + "\n" + ctx.t("draft.ask_qty"))


async def _ask_recipient(ctx: Context, draft: OrderDraft, said: str = "") -> Reply:
    """Where it goes: the address of the last order, to confirm, or a name and address."""
    phone = await _phone_of(ctx)
    customer = await customer_with_phone(ctx.session, phone) if phone else None
    before = await last_recipient(ctx.session, customer.id) if customer else None
    prefix = said + "\n" if said else ""
    if before is not None:
        draft.data = {**draft.data, "name": before.name, "address": before.address}
        draft.step = "recipient"
        return Reply(
            prefix + ctx.t("draft.same_address", name=before.name, address=before.address),
            choices=(
                Choice(ctx.t("draft.yes"), "/pesan ya"),
                Choice(ctx.t("draft.change"), "/pesan ubah"),
            ),
        )
    draft.step = "name"
    return _ask_name(ctx, prefix)


async def answer(ctx: Context, text: str, *, held: bool = False) -> Reply | list[Reply] | None:
    """The customer's next message while a draft is open; None when it is about something else.

    While a person answers the chat (`held`), the draft takes only what plainly answers its
    question: anything else, even a word it would ask again about, is for the person.
    """
    draft = await draft_of(ctx.session, ctx.chat.id, ctx.now)
    if draft is None:
        return None
    if held and not await _plainly_answers(ctx, draft, text):
        return None
    said = " ".join(text.split())
    lowered = said.lower()
    if lowered in DROP:
        await ctx.session.delete(draft)
        return ctx.reply("draft.dropped")
    touch(draft, ctx.now, _lifetime(ctx))
    if draft.data.get("kind") == "staff":
        return await _staff_step(ctx, draft, said)
    step = draft.step
    if step in LATER_STEPS and (changed := await _changed(ctx, draft, said)) is not None:
        return changed  # "4 aja", "eh ganti XL deh": the order changed, its question stands
    if step == "product":
        return await _choose_product(ctx, draft, said)
    if step == "qty":
        qty = _typed_qty(lowered)
        if qty is None:
            if classify(said).kind is not IntentKind.UNKNOWN or _asks_the_shop(ctx, said):
                return None  # a question in between: answered as usual, the draft waits
            return _ask(ctx.t("draft.ask_qty"))
        draft.data = {**draft.data, "qty": qty}
        return await _ask_recipient(ctx, draft)
    if step == "recipient":
        if lowered in YES:
            return await _confirm(ctx, draft)
        if lowered in CHANGE:
            draft.step = "name"
            return _ask_name(ctx)
        return None
    if step == "name":
        if _asks_instead_of_a_name(ctx, said):
            return None
        if not any(ch.isalpha() for ch in said):
            return _ask_name(ctx)  # "-" or "?" is nobody's name
        draft.data = {**draft.data, "name": said}
        draft.step = "address"
        return _ask(ctx.t("draft.ask_address"))
    if step == "address":
        if len(said) < 10 or not _an_address(ctx, said):
            return _ask(ctx.t("draft.ask_address")) if len(said) < 10 else None
        draft.data = {**draft.data, "address": said[:500]}
        return await _confirm(ctx, draft)
    if step == "confirm":
        if lowered in YES:
            return await _place_draft(ctx, draft)
        if lowered in CHANGE:
            draft.step = "name"
            return _ask_name(ctx)
        return None
    return None


LATER_STEPS = ("recipient", "name", "address", "confirm")  # the product and quantity chosen
# Words around a change of mind: "yaudah 4 aja", "eh ganti XL deh", "make it 3 please".
_CHANGE_WORDS = frozenset(
    {
        "yaudah", "ya", "udah", "sudah", "ok", "oke", "okay", "eh", "deh", "aja", "saja", "dong",
        "kak", "kakak", "min", "gan", "sis", "jadi", "ganti", "diganti", "ubah", "diubah",
        "kalau", "kalo", "gitu", "begitu", "just", "only", "make", "it", "then", "instead",
        "please", "pls", "sih", "mau", "yang", "yg", "change", "actually", "sorry", "maaf",
    }
)  # fmt: skip
_SAYS_CHANGE = frozenset({"ganti", "diganti", "ubah", "diubah", "aja", "saja", "instead", "change"})


async def _changed(ctx: Context, draft: OrderDraft, said: str) -> Reply | None:
    """A change of mind once the product and quantity were chosen: "4 aja", "eh ganti XL
    deh", "ganti alamat". The draft takes it and asks its question again; None when the
    message changes nothing of it."""
    words = re.findall(r"\w+", said.lower())
    kept = [w for w in words if w not in _CHANGE_WORDS]
    # A bare "123" at "whose name?" is asked again: only words around it say it is a change.
    qty = _typed_qty(" ".join(kept)) if 0 < len(kept) <= 2 and len(kept) < len(words) else None
    if qty is not None:
        draft.data = {**draft.data, "qty": qty}
        return await _ask_again(ctx, draft)
    if not _SAYS_CHANGE.intersection(words) or not kept:
        return None
    if set(kept) <= _NAME_WORDS:  # "ganti nama": the name is asked again
        draft.step = "name"
        return _ask_name(ctx)
    if set(kept) <= _ADDRESS_WORDS:
        draft.step = "address"
        return _ask(ctx.t("draft.ask_address"))
    return await _variant_changed(ctx, draft, said)


_NAME_WORDS = frozenset({"nama", "namanya", "name", "penerima", "penerimanya", "recipient"})
_ADDRESS_WORDS = frozenset({"alamat", "alamatnya", "address", "kirim", "pengiriman"})


async def _variant_changed(ctx: Context, draft: OrderDraft, said: str) -> Reply | None:
    """Another size or colour of the product chosen ("ganti XL deh", "the white one
    instead"), the rest of it kept: a white shirt in XL stays XL. None when the message names
    no size or colour alone ("ganti jadi Budi")."""
    wanted = [w for w in (narrowing(classify(said)) or "").split() if w not in _CHANGE_WORDS]
    if not wanted or not all(size_of(w) or colour_of(w) for w in wanted):
        return None
    current = (await products_by_sku(ctx.session, [draft.data["sku"]]))[draft.data["sku"]]
    sized, coloured = any(size_of(w) for w in wanted), any(colour_of(w) for w in wanted)
    unchanged = [
        w
        for w in current.label.lower().split()
        if (size_of(w) and not sized) or (colour_of(w) == w and not coloured)
    ]
    query = " ".join([*unchanged, *wanted])
    found = await find_products(ctx.session, f"{current.name} {query}", limit=5, cache=ctx.catalog)
    others = [p for p in found.products if p.sku != current.sku] if not found.missing else []
    if len(others) != 1:  # none, or several: say what there is, and ask again
        told = await follow_up(ctx, query, [current.sku])
        again = await _ask_again(ctx, draft)
        return replace(again, text=told.text + "\n" + again.text) if told else again
    draft.data = {**draft.data, "sku": others[0].sku}
    return await _ask_again(ctx, draft, stock_line(ctx, others[0]))


async def _ask_again(ctx: Context, draft: OrderDraft, said: str = "") -> Reply:
    """The draft's question once more after a change, what it is now first (`said`: the new
    variant's stock)."""
    product = (await products_by_sku(ctx.session, [draft.data["sku"]]))[draft.data["sku"]]
    item = f"{product.label} ({product.sku})"
    prefix = (said + "\n" if said else "") + ctx.t(
        "draft.changed", item=item, qty=draft.data["qty"]
    )
    prefix += "\n"
    if draft.step == "name":
        return _ask_name(ctx, prefix)
    if draft.step == "address":
        return _ask(prefix + ctx.t("draft.ask_address"))
    return (
        await _confirm(ctx, draft)
        if draft.step == "confirm"
        else await _ask_recipient(ctx, draft, prefix.rstrip("\n"))
    )


async def meanwhile(ctx: Context) -> Reply | None:
    """The draft's question again, once a question asked in the middle of it went to a
    person: the order goes on while they wait. None when the draft's buttons ask it."""
    draft = await draft_of(ctx.session, ctx.chat.id, ctx.now)
    if draft is None or draft.data.get("kind") == "staff":
        return None
    meanwhile = ctx.t("draft.meanwhile") + "\n"
    if draft.step == "qty":
        return _ask(meanwhile + ctx.t("draft.ask_qty"))
    if draft.step == "name":
        return _ask_name(ctx, meanwhile)
    if draft.step == "address":
        return _ask(meanwhile + ctx.t("draft.ask_address"))
    return None


async def _plainly_answers(ctx: Context, draft: OrderDraft, text: str) -> bool:
    """Whether a message in a chat a person answers is the answer to the draft's question:
    the question was the last thing said to the chat (a reply to the person may be anything,
    "ok" too), and the message plainly answers it (a number to "how many?", a yes or a
    change to the summary, a name, an address)."""
    said = " ".join(text.split())
    lowered = said.lower()
    if draft.step == "qty":
        plain = _typed_qty(lowered) is not None
    elif draft.step in ("recipient", "confirm"):
        plain = lowered in YES or lowered in CHANGE
    elif draft.step == "name":
        plain = not _asks_instead_of_a_name(ctx, said) and any(ch.isalpha() for ch in said)
    elif draft.step == "address":
        plain = len(said) >= 10 and _an_address(ctx, said)
    else:
        plain = False  # which product: the draft's buttons choose it, and they are commands
    if not (plain or lowered in DROP):
        return False
    last = await last_said(ctx.session, ctx.chat.id)
    if last is None or last[0] != "kabar":
        return False
    return not await answered_since(ctx.session, ctx.chat.id, last[1])  # nor on its way


def _asks_instead_of_a_name(ctx: Context, said: str) -> bool:
    """Whether a message sent when a name is wanted says something else: a question, a shop
    question, a paste too long to be anyone's name."""
    asks = classify(said).kind not in (IntentKind.UNKNOWN, IntentKind.GREETING)
    return asks or _asks_the_shop(ctx, said) or len(said) > 200


def _an_address(ctx: Context, said: str) -> bool:
    """Whether a message may be an address: no question to the shop ("ongkir ke bandung
    berapa?") or of any other kind (a street may well sound like a product, and a postcode
    like an order code)."""
    intent = classify(said)
    if _asks_the_shop(ctx, said):
        return False
    if intent.kind in (IntentKind.UNKNOWN, IntentKind.STOCK):
        return True
    # A postcode reads as an order code ("12 Baker Street, London NW1 6XE"); an order
    # question is short and has no commas.
    written_out = "," in said and len(said.split()) >= 4 and "?" not in said
    return intent.kind is IntentKind.ORDER_STATUS and intent.order_code is not None and written_out


def _asks_the_shop(ctx: Context, said: str) -> bool:
    """Whether a message in the middle of a draft is a shop question ("ongkirnya berapa?"):
    it is answered as usual, or handed to a person, and the draft waits."""
    words = normalise(said)
    return faq.match(ctx.settings.faq, words) is not None or bool(
        faq.unanswered(ctx.settings.faq, words)
    )


def _typed_qty(said: str) -> int | None:
    """How many a customer typed in answer to "how many?": "2", "2 pcs", "x2", "dua", "two"."""
    found = _QTY.fullmatch(said)
    if found is not None:
        qty = int(found[1])
    else:
        words = said.split()
        if not words or words[0] not in _NUMBER_WORDS or len(words) > 2:
            return None
        if len(words) == 2 and not _QTY.fullmatch("1 " + words[1]):
            return None  # "dua pcs" is two; "dua hitam" is no answer
        qty = _NUMBER_WORDS[words[0]]
    return qty if 1 <= qty <= MAX_QTY else None


def _ask_name(ctx: Context, prefix: str = "") -> Reply:
    """Ask whose name the order goes under, offering the name the chat's platform shows."""
    shown = " ".join((ctx.incoming.name or "").split())
    if not any(ch.isalpha() for ch in shown) or len(shown.encode()) > 64:
        return _ask(prefix + ctx.t("draft.ask_name"))
    return Reply(prefix + ctx.t("draft.ask_name_or", name=shown), choices=(Choice(shown, shown),))


def _ask(question: str) -> Reply:
    """A question of the draft the customer answers by typing (how many, a name, where to)."""
    return Reply(question, clears_menu=True)


STAFF_STEPS = ("name", "phone", "lines", "address")


async def _staff_step(ctx: Context, draft: OrderDraft, said: str) -> Reply | list[Reply]:
    """The guided /pesananbaru: name, phone, products, address, each checked as it comes."""
    if said.startswith("/"):
        return ctx.reply(f"neworder.ask_{draft.step}")  # a command: the step is asked again
    problems = Problems([])
    if draft.step == "phone":
        parse_phone(ctx, said, problems)
    elif draft.step == "lines":
        await parse_lines(ctx, said, problems)
    if problems:
        return Reply("\n".join([*problems.found, ctx.t(f"neworder.ask_{draft.step}")]))
    draft.data = {**draft.data, draft.step: said}
    following = STAFF_STEPS.index(draft.step) + 1
    if following < len(STAFF_STEPS):
        draft.step = STAFF_STEPS[following]
        return ctx.reply(f"neworder.ask_{draft.step}")
    await ctx.session.delete(draft)
    parts = [draft.data[step] for step in ("name", "phone", "lines", "address")]
    return await new_order(ctx, "; ".join(parts))


async def _confirm(ctx: Context, draft: OrderDraft) -> Reply:
    """The summary with the total, to confirm or cancel."""
    products = await products_by_sku(ctx.session, [draft.data["sku"]])
    product = products[draft.data["sku"]]
    qty = int(draft.data["qty"])
    price = product.price
    draft.step = "confirm"
    lines = [
        ctx.t("draft.summary"),
        f"• {product.label} ({product.sku}) ×{qty} — {ctx.money(price * qty)}",
        ctx.t("invoice.total", amount=ctx.money(price * qty)),
        ctx.t("draft.to", name=draft.data["name"], address=draft.data["address"]),
    ]
    if await would_wait(ctx.session, product, qty):  # told before, not after, confirming
        lines.append(ctx.t("draft.waits"))
    return Reply(
        "\n".join(lines),
        choices=(
            Choice(ctx.t("draft.place"), "/pesan ok"),
            Choice(ctx.t("draft.cancel"), "/pesan batal"),
        ),
    )


async def _place_draft(ctx: Context, draft: OrderDraft) -> Reply:
    """Place the confirmed draft, through the one way orders are placed."""
    phone = await _phone_of(ctx)
    if phone is None:
        return Reply(ctx.t("draft.share_phone"), contact_button=share_button(ctx))
    products = await products_by_sku(ctx.session, [draft.data["sku"]])
    product = products[draft.data["sku"]]
    customer = await customer_by_phone(ctx.session, phone, draft.data["name"], ctx.lang.value)
    if ctx.incoming.phone_verified:
        await link_by_phone(ctx.session, ctx.chat, phone)
    recipient = Recipient(draft.data["name"], phone, draft.data["address"])
    await ctx.session.delete(draft)
    order = await place_chat_order(
        ctx.session,
        prefix=ctx.settings.orders.prefix,
        customer=customer,
        lines=[(product, int(draft.data["qty"]))],
        recipient=recipient,
        actor=CUSTOMER,
        now=ctx.now,
    )
    lines = [ctx.t("draft.placed", code=order.code, due=ctx.money(bill_of(order).due))]
    if order.phase is Phase.AWAITING_STOCK:
        lines.append(ctx.t("neworder.awaiting"))
    lines += account_lines(ctx)
    return Reply("\n".join(lines))
