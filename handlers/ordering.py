"""Orders placed in one message: staff for a customer, resellers for theirs (dropship).

Staff: `/pesananbaru nama; hp; SKU qty, …; alamat` in one message, the way shops type it, or
bare, asked part by part. Resellers: `/pesan SKU qty, …; penerima; hp; alamat`, at their
prices, under their brand. Both place the order through the one call every order goes
through; a customer's guided draft (handlers/drafts.py) does too, and reads quantities and
"the one just shown" with the helpers here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from handlers.context import Context
from handlers.customer import shown, stock_answer
from handlers.draft_reading import an_address, asks_instead_of_a_name
from handlers.forms import BETWEEN_PRODUCTS, YES, OrderForm, answer_to, pieces
from handlers.i18n import day
from handlers.intents import classify, product_words
from handlers.payment import account_lines
from handlers.types import Choice, Reply, Role
from handlers.views import stock_line
from models.audience import audiences_of
from models.catalog import Product, line_price
from models.change import Actor
from models.chat_orders import (
    OrderDraft,
    Recipient,
    customer_by_phone,
    draft_of,
    lines_of,
    new_draft,
    place_chat_order,
    products_by_sku,
)
from models.enums import Phase
from models.errors import InvalidPhone
from models.linking import invoice_links
from models.orders import Order, clean_code
from models.payments import bill_of
from models.people import Customer, Reseller
from models.phones import normalize_phone
from models.placing import would_wait
from models.search import find_products

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
    for piece in (p.strip() for p in BETWEEN_PRODUCTS.split(text)):  # ",", "dan", "sama", "&"
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
        if product is not None and len(words) >= 2:
            # "KAOS-HTM-L dua", "KAOS-HTM-L 2 3": a SKU with what is no quantity
            problems.found.append(
                ctx.t("neworder.bad_qty", sku=product.sku, qty=" ".join(words[1:])[:20])
            )
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


async def new_order(ctx: Context, args: str, *, note: str | None = None) -> Reply | list[Reply]:
    """`/pesananbaru nama; hp; SKU qty, …; alamat`: an order for a customer, placed now.

    Sent bare, it asks for each part in turn (the same parts, one message each). A pasted
    form's `note` ("Catatan: …") is kept with the order.
    """
    if not args.strip():
        draft = await new_draft(ctx.session, ctx.chat.id, "staff", ctx.now, draft_lifetime(ctx))
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
    order = await _place(ctx, customer.id, lines, Recipient(name, phone, address), None, note)
    return await _placed_for_customer(ctx, order, name)


async def _place(
    ctx: Context,
    customer_id: int,
    lines: list[tuple[Product, int]],
    recipient: Recipient,
    reseller_id: int | None,
    note: str | None = None,
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
        note=note,
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


async def _placed_for_customer(
    ctx: Context, order: Order, name: str, *, brand: str = "", after: Sequence[str] = ()
) -> list[Reply]:
    """Tell staff or a reseller what was placed (then the lines `after`), and what to forward
    to a customer who is not in chat yet, in the name they buy under (`brand`)."""
    summary = [*await _summary(ctx, order), *after]
    heard = await audiences_of(ctx.session, [order])
    if any(audience == "customer" for _, audience in heard.get(order.id, [])):
        summary.append(ctx.t("neworder.customer_told"))
        return [Reply("\n".join(summary))]
    links = invoice_links(order.link_code, ctx.settings.bot_username, ctx.settings.whatsapp_number)
    shop = brand or ctx.settings.shop_name
    forward = [ctx.t("neworder.forward", name=name, code=order.code, shop=shop)]
    forward += [link for link in (links["telegram"], links["whatsapp"]) if link] or [
        ctx.t("neworder.forward_code", code=links["code"])  # no links set up: type it
    ]
    summary.append(ctx.t("neworder.forward_hint"))
    return [Reply("\n".join(summary)), Reply("\n".join(forward))]


# ------------------------------------------------------------------------------- resellers


async def reseller_order(
    ctx: Context, args: str, *, note: str | None = None
) -> Reply | list[Reply]:
    """`/pesan SKU qty, …; penerima; hp; alamat`: a dropship order at the reseller's prices
    (`note`: a pasted form's, kept with the order)."""
    assert ctx.reseller is not None
    if not args.strip():  # sent bare, as staff's /pesananbaru: each part asked in turn
        draft = await new_draft(ctx.session, ctx.chat.id, "reseller", ctx.now, draft_lifetime(ctx))
        draft.step = "name"
        return ctx.reply("neworder.ask_name")
    parts = [p.strip() for p in args.split(";")]
    if len(parts) == 1 and parts[0]:
        # "/pesan TOTE-KNV 2" (their stock answer's 🛒 button, or typed): the rest to write
        problems = Problems([])
        lines = await parse_lines(ctx, parts[0], problems)
        if lines and not problems:
            return Reply(await _fill_or_ask(ctx, lines))
    if len(parts) < 4 or not parts[0]:
        return ctx.reply("resellerorder.usage")
    offered = await draft_of(ctx.session, ctx.chat.id, ctx.now) if ctx.drafting else None
    if offered is not None and offered.data.get("offered"):  # written in one message after all
        await ctx.session.delete(offered)
    problems = Problems([])
    lines = await parse_lines(ctx, parts[0], problems)
    name = _text(parts[1], "name", ctx, problems, longest=200)
    phone = parse_phone(ctx, parts[2], problems)
    address = _text("; ".join(parts[3:]), "address", ctx, problems, longest=500)
    if problems:
        return Reply("\n".join([ctx.t("neworder.problems"), *problems.found]))
    customer = await customer_by_phone(ctx.session, phone, name)
    recipient = Recipient(name, phone, address)
    order = await _place(ctx, customer.id, lines, recipient, ctx.reseller.id, note)
    # Their buyer hears of it under the reseller's name, once their chat is linked.
    return await _placed_for_customer(
        ctx, order, name, brand=ctx.reseller.name, after=account_lines(ctx)
    )


async def reseller_asks_to_order(ctx: Context, text: str) -> Reply:
    """A reseller's "mau order tote 2" in words: the dropship command, filled in as far as
    the words go (a dropship order needs the recipient's phone, which a draft never asks)."""
    usage = ctx.t("resellerorder.usage")
    lines: dict[Product, int] = {}
    for piece in pieces(text):  # "kaos hitam L 2 sama tote 1": each product with its count
        query = classify(piece).query or product_words(piece) or ""
        if not any(ch.isalpha() for ch in query) and (sku := shown_product(ctx)):
            query = sku  # "mau order 2 kirim ke pembeli saya" right after one product shown
        if not query:
            return Reply(usage)
        found = await find_products(ctx.session, query, limit=5, cache=ctx.catalog)
        if found.missing or len(found.products) != 1:
            listed = await stock_answer(ctx, query)  # the SKUs to write, or that there is none
            said = listed.text if listed is not None else ctx.t("stock.none", query=query[:100])
            return Reply(said + "\n" + usage)
        product = found.products[0]
        lines[product] = min(lines.get(product, 0) + (qty_in(piece) or 1), MAX_QTY)
    shown = [stock_line(ctx, product) for product in lines]
    return Reply("\n".join([*shown, await _fill_or_ask(ctx, list(lines.items()))]))


async def _fill_or_ask(ctx: Context, lines: list[tuple[Product, int]]) -> str:
    """The dropship command with these lines written in, for the reseller to finish in one
    message, or part by part: the recipient's name is asked now (a question instead is
    answered as usual, `staff_step`), and the order shown to confirm before it is placed."""
    written = ", ".join(f"{product.sku} {qty}" for product, qty in lines)
    draft = await new_draft(ctx.session, ctx.chat.id, "reseller", ctx.now, draft_lifetime(ctx))
    draft.data = {**draft.data, "lines": written, "form": True, "offered": True}
    draft.step = "name"
    return "\n".join([ctx.t("resellerorder.fill", lines=written), ctx.t("resellerorder.or_steps")])


STAFF_STEPS = ("name", "phone", "lines", "address")
ORDERS_FOR_OTHERS = ("staff", "reseller")  # drafts asked part by part (STAFF_STEPS)
NOTE_LENGTH = 500  # of what a form asks of the shop besides ("Catatan: bungkus kado")


async def staff_step(ctx: Context, draft: OrderDraft, text: str) -> Reply | list[Reply] | None:
    """The next answer of an order staff (/pesananbaru, bare) or a reseller (an order form)
    are putting together: each part checked as it comes, then the order placed."""
    said = " ".join(text.split())
    if said.startswith("/"):
        return await _ask_next(ctx, draft)  # a command: the step is asked again
    if draft.step == "confirm":
        if said.lower() in YES:
            return await _place_drafted(ctx, draft)
        return await _ask_next(ctx, draft)
    if draft.step in ("name", "phone", "address"):
        said = answer_to(text, draft.step) or said  # "No HP: 0812…", "Alamat: … / Kota: …"
    if draft.data.get("offered") and not _answers(ctx, draft.step, said):
        return None  # a question after the order was offered, not asked for: answered as usual
    if draft.step == "lines":
        said = ", ".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
    elif draft.step == "address" and (added := await _more_lines(ctx, draft, text)):
        return added  # another product, sent when the address was asked
    problems = Problems([])
    if draft.step == "address" and said.lower() in YES:
        return await _ask_next(ctx, draft)  # "ok" is nobody's address
    await _check(ctx, draft.step, said, problems)
    if problems:
        return Reply("\n".join([*problems.found, ctx.t(f"neworder.ask_{draft.step}")]))
    draft.data = {**draft.data, draft.step: said}
    return await _ask_next(ctx, draft)


def _answers(ctx: Context, step: str, said: str) -> bool:
    """Whether a message can be the part of an order a step asks for, not a question."""
    if step == "name":  # "mau 2" again is no one's name
        return not asks_instead_of_a_name(ctx, said) and not any(c.isdigit() for c in said)
    if step == "address":
        return an_address(ctx, said)
    return True


async def from_form(ctx: Context, form: OrderForm) -> Reply | list[Reply]:
    """An order form staff (for a customer) or a reseller (for their buyer) pasted: what it
    says is checked, what it lacks asked, and the order shown to place with one tap."""
    kind = "staff" if ctx.role is Role.STAFF else "reseller"
    draft = await new_draft(ctx.session, ctx.chat.id, kind, ctx.now, draft_lifetime(ctx))
    given = {"name": form.name, "phone": form.phone, "lines": form.items, "address": form.address}
    problems = Problems([])
    for step, value in given.items():
        before = len(problems.found)
        if value:
            await _check(ctx, step, value, problems)
        if value and len(problems.found) == before:
            draft.data = {**draft.data, step: value}
    draft.data = {**draft.data, "form": True}  # read from a paste: shown before it is placed
    if form.note:
        draft.data = {**draft.data, "note": form.note[:NOTE_LENGTH]}  # "Catatan: …", kept
    asked = _ask_missing(ctx, draft) or await _to_confirm(ctx, draft)
    if not problems:
        return asked
    return Reply("\n".join([*problems.found, asked.text]), choices=asked.choices)


async def _check(ctx: Context, step: str, said: str, problems: Problems) -> None:
    """Note what is wrong with one part of an order in the making."""
    if step == "phone":
        parse_phone(ctx, said, problems)
    elif step == "lines":
        await parse_lines(ctx, said, problems)
    elif step == "name":
        _text(said, "name", ctx, problems, longest=200)
    elif step == "address":
        _text(said, "address", ctx, problems, longest=500)


async def _more_lines(ctx: Context, draft: OrderDraft, text: str) -> Reply | None:
    """Products sent when the address was asked ("KAOS-HTM-XL 1", a second list): added to
    the order, and the address asked again; None when the message names no product."""
    said = ", ".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
    problems = Problems([])
    added = await parse_lines(ctx, said, problems)
    if problems or not added:
        return None
    written = f"{draft.data['lines']}, {said}"
    await parse_lines(ctx, written, problems)  # a product written twice
    if problems:
        return Reply("\n".join([*problems.found, ctx.t("neworder.ask_address")]))
    draft.data = {**draft.data, "lines": written}
    items = ", ".join(f"{product.label} ×{qty}" for product, qty in added)
    return Reply(ctx.t("neworder.added", items=items) + "\n" + ctx.t("neworder.ask_address"))


async def _ask_next(ctx: Context, draft: OrderDraft) -> Reply | list[Reply]:
    """The first part still missing; when none is, the order: placed at once when staff
    typed each part, shown to confirm when it came from a pasted form."""
    if asked := _ask_missing(ctx, draft):
        return asked
    if not draft.data.get("form"):
        return await _place_drafted(ctx, draft)
    return await _to_confirm(ctx, draft)


def _ask_missing(ctx: Context, draft: OrderDraft) -> Reply | None:
    """The question for the first part still missing; None when none is."""
    missing = [step for step in STAFF_STEPS if not draft.data.get(step)]
    if not missing:
        return None
    draft.step = missing[0]
    return ctx.reply(f"neworder.ask_{draft.step}")


async def _to_confirm(ctx: Context, draft: OrderDraft) -> Reply:
    """The order a form gave, to place with one tap or drop."""
    draft.step = "confirm"
    problems = Problems([])
    lines = await parse_lines(ctx, draft.data["lines"], problems)
    dropship = draft.data["kind"] == "reseller"
    out = [ctx.t("neworder.form_check")]
    total = Decimal(0)
    for product, qty in lines:
        price = line_price(product.price, product.reseller_price, dropship=dropship) * qty
        total += price
        out.append(f"• {product.label} ({product.sku}) ×{qty} — {ctx.money(price)}")
    out.append(ctx.t("invoice.total", amount=ctx.money(total)))
    data = draft.data
    out.append(ctx.t("neworder.form_to", name=data["name"], phone=data["phone"]))
    out.append(ctx.t("neworder.form_address", address=data["address"]))
    if data.get("note"):
        out.append(ctx.t("draft.note", note=data["note"]))
    if any([await would_wait(ctx.session, product, qty) for product, qty in lines]):
        out.append(ctx.t("draft.waits"))  # told before, not after, placing it
    return Reply(
        "\n".join(out),
        choices=(
            Choice(ctx.t("neworder.form_place"), "ya"),
            Choice(ctx.t("draft.cancel"), "batal"),
        ),
    )


async def _place_drafted(ctx: Context, draft: OrderDraft) -> Reply | list[Reply]:
    """Place what staff or a reseller put together, as their one-message command would."""
    await ctx.session.delete(draft)
    name, phone, lines, address = (
        draft.data[step].replace(";", ",") for step in ("name", "phone", "lines", "address")
    )
    note = draft.data.get("note")
    if draft.data["kind"] == "reseller":
        return await reseller_order(ctx, "; ".join((lines, name, phone, address)), note=note)
    return await new_order(ctx, "; ".join((name, phone, lines, address)), note=note)


# ------------------------------------------------------------------------------- what was shown


_TAKES_SHOWN = re.compile(
    r"(?:(?:ok|oke|okay|okey|baik|sip|yes|ya)[,.!]?\s+)?"
    # "mau beli", "want to buy", "i'd like to buy": the verbs may come in a row
    r"(?:(?:saya|aku|sy|i)\s+)?"
    r"(?:(?:mau|ingin|pengen|ambil|order|pesan|beli|take|want|need|buy|get|like|to|i['’]?ll|i['’]?d)\s+)+"
    r"(\d{1,3}|satu|dua|tiga|empat|lima|one|two|three|four|five)(?:\s*(?:pcs?|biji|buah|x))?(?:\s+(?:ya|aja|deh|dong|kak|kakak|min|please|pls))*"
    r"\s*[.!]*",
    re.I,
)


def the_shown_taken(ctx: Context, text: str) -> str | None:
    """The product the chat was just shown, with how many, when a message takes it by number
    alone ("mau 2 ya kak"); None otherwise. Only a chat that may order is shown one (a
    customer its draft, a reseller the dropship command)."""
    shown = shown_product(ctx)
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


def shown_product(ctx: Context) -> str | None:
    """The SKU of the one product the chat was just offered to order (a stock answer's 🛒
    button), or None."""
    skus = shown(ctx)
    return skus[0] if len(skus) == 1 and f"/pesan {skus[0]}" in ctx.last_menu else None


def draft_lifetime(ctx: Context) -> timedelta:
    return ctx.settings.orders.draft_lifetime


def qty_in(text: str) -> int | None:
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


def typed_qty(said: str) -> int | None:
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
