"""A customer's order in chat: a short draft kept in the database.

"mau order kaos hitam XL 2" or `/pesan` starts it: product and exact variant, quantity, name
and address, a summary to confirm. A question in between is answered and the draft waits; a
change of mind ("4 aja", "ganti XL deh") is taken and its question asked again. More products
join it ("tambah tote 1", the summary's ➕): the draft keeps the ones chosen in `lines`, and the
one being chosen in `sku` and `qty`. The order is placed through the one call every order goes
through.
"""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import replace

from handlers import draft_lines
from handlers.context import Context
from handlers.customer import follow_up, stock_answer
from handlers.draft_reading import (
    ADDRESS_WORDS,
    CHANGE_WORDS,
    ENOUGH,
    MORE,
    NAME_WORDS,
    OWN_WORDS,
    SAYS_CHANGE,
    adds,
    an_address,
    asks_instead_of_a_name,
    asks_instead_of_a_product,
    in_between,
    plainly_an_address,
    removes,
    says_no_product,
)
from handlers.forms import CHANGE, DROP, YES, OrderForm, answer_to, names_a_product, pieces
from handlers.intents import (
    IntentKind,
    classify,
    narrowing,
    product_words,
)
from handlers.ordering import (
    NOTE_LENGTH,
    ORDERS_FOR_OTHERS,
    Problems,
    draft_lifetime,
    parse_lines,
    qty_in,
    shown_product,
    staff_step,
    typed_qty,
)
from handlers.payment import account_lines
from handlers.support import hand_over
from handlers.types import Choice, Reply
from handlers.views import share_button, stock_line
from models.change import CUSTOMER
from models.chat_orders import (
    OrderDraft,
    Recipient,
    customer_by_phone,
    customer_with_phone,
    draft_of,
    last_recipient,
    new_draft,
    place_chat_order,
    products_by_sku,
    touch,
)
from models.enums import Channel, Phase
from models.errors import InvalidPhone
from models.linking import link_by_phone, linked_customer_ids
from models.messages import last_said
from models.payments import bill_of
from models.people import Customer
from models.phones import normalize_phone
from models.placing import would_wait
from models.search import colour_of, find_products, size_of
from models.support import Reason, answered_since


async def start(
    ctx: Context, args: str, given: dict[str, object] | None = None
) -> Reply | list[Reply]:
    """`/pesan [produk]`, "mau order kaos hitam XL 2": start (or go on with) a draft order;
    `given`: the name, address or phone an order form already said."""
    if brand := ctx.reseller_brand:  # a reseller's customer orders from the reseller
        return ctx.reply("draft.via_seller", seller=brand)
    if not ctx.settings.orders.customers_can_order:
        return await hand_over(ctx, Reason.ASKED)  # the shop takes orders itself
    words = args.strip()
    draft = await draft_of(ctx.session, ctx.chat.id, ctx.now)
    going_on = words.lower() in _BUTTONS
    if draft is not None and (going_on or (words and draft.step == "product")):
        return await answer(ctx, words) or ctx.reply("draft.ask_product")  # a button pressed
    if draft is not None and draft.step in LATER_STEPS and names_a_product(words):
        # "mau order tote 1" once a product is chosen: another one, or the same said again
        again = await _said_again(ctx, draft, words) if len(pieces(words)) == 1 else None
        return again or await _add_product(ctx, draft, words)
    phone = await _phone_of(ctx)
    if phone is None and ctx.incoming.phone_verified:
        return await hand_over(ctx, Reason.ASKED)  # a number kabar cannot read: a person takes it
    draft = await new_draft(ctx.session, ctx.chat.id, "customer", ctx.now, draft_lifetime(ctx))
    draft.data = {**draft.data, **(given or {})}
    if ctx.incoming.channel is Channel.TELEGRAM and phone is None:
        # A chat that is not linked has no number yet; a typed one is not proof it is theirs.
        # The draft keeps what was asked for until the number comes (after_contact).
        draft.data = {**draft.data, "asked": words}
        draft.step = "phone"
        return Reply(ctx.t("draft.share_phone"), contact_button=share_button(ctx))
    # "kaos hitam L 2 sama tote 1": one by one, the others waiting their turn
    words = await draft_lines.take_first(ctx, draft, words)
    qty = qty_in(words)
    if qty:
        draft.data = {**draft.data, "qty": qty}
    named = classify(words).query or product_words(words) or ""
    if not any(ch.isalpha() for ch in named):  # no product in the words: "mau beli 2"
        # "I want to buy 2" right after "ada kaos hitam L?": the product just shown
        if shown := shown_product(ctx):
            return await _choose_product(ctx, draft, shown)
        return _ask_product(ctx, words)
    return await _choose_product(ctx, draft, words)


_BUTTONS = ("batal", "cancel", "ok", "ya", "ubah", "tambah", "cukup")  # the draft's own choices


async def from_form(ctx: Context, form: OrderForm) -> Reply | list[Reply]:
    """An order form a customer filled in: the draft takes its products, name, address and
    number, and asks only what it leaves out. Several products join the draft, one asked
    about in turn where it names several; a product the shop does not sell, or an order
    already placed, is for a person to read."""
    products = [piece.strip() for piece in form.items.split(",") if piece.strip()]
    if classify(form.items).order_code is not None:
        # An order placed ("Pesanan: INV-1001, Alamat: tolong ganti ke …"): a person reads it.
        return await hand_over(ctx, Reason.NO_ANSWER)
    given: dict[str, object] = {"form": True}
    if len(products) > 1:
        problems = Problems([])
        chosen = await parse_lines(ctx, form.items, problems)
        if not problems and len(chosen) <= draft_lines.MAX_LINES:
            given["lines"] = [[product.sku, qty] for product, qty in chosen[:-1]]
            last, qty = chosen[-1]
            products = [f"{last.sku} {qty}"]
        elif all([await draft_lines.sold(ctx, piece) for piece in products]):
            products = [", ".join(products)]  # "kaos hitam 2": which one, asked in turn
        else:
            return await hand_over(ctx, Reason.NO_ANSWER)  # one the shop does not sell
    if any(ch.isalpha() for ch in form.name):
        given["name"] = form.name[:200]
    if len(form.address) >= 10:
        given["address"] = form.address[:500]
    with suppress(InvalidPhone):
        given["phone"] = normalize_phone(form.phone)  # whom the courier calls
    if form.note:
        given["note"] = form.note[:NOTE_LENGTH]  # "Catatan: bungkus kado": for the shop
    draft = await draft_of(ctx.session, ctx.chat.id, ctx.now)
    if draft is not None and not products and draft.data.get("qty"):
        draft.data = {**draft.data, **given}  # to whom and where, for the product chosen
        return await _ask_recipient(ctx, draft)
    if draft is not None:
        await ctx.session.delete(draft)  # the form is the order now
        await ctx.session.flush()
    return await start(ctx, products[0] if products else "", given)


_HOW = frozenset({"cara", "how", "format", "bagaimana"})  # asking how to order


def _ask_product(ctx: Context, said: str) -> Reply:
    """Which product: "cara ordernya gimana?" and "format order dong" hear of the form too."""
    return ctx.reply(
        "draft.how" if _HOW.intersection(classify(said).words) else "draft.ask_product"
    )


async def after_contact(ctx: Context) -> Reply | list[Reply] | None:
    """The order a Telegram chat was asked to share its number for, once it did: started
    again from what was asked; None when there is none, or the number was not taken."""
    draft = await draft_of(ctx.session, ctx.chat.id, ctx.now)
    if draft is None or draft.step != "phone" or await _phone_of(ctx) is None:
        return None
    kept = {key: value for key, value in draft.data.items() if key in _GIVEN}
    await ctx.session.delete(draft)
    await ctx.session.flush()
    return await start(ctx, str(draft.data.get("asked", "")), kept)


_GIVEN = ("form", "name", "address", "phone", "lines", "note")  # what an order form gave


# "mau 2 ya kak", "ambil 3", "I'll take 2" right after one product was shown with its button.


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
        there = await products_by_sku(ctx.session, found.others)  # another size or colour
        return Reply(
            told + "\n" + ctx.t("draft.ask_product"),
            choices=tuple(
                Choice(there[sku].label, f"/pesan {sku}") for sku in found.others if sku in there
            ),
        )
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
    """Where it goes: what an order form said, the address of the last order to confirm, or
    a name and address."""
    if (named := draft_lines.next_named(draft)) is not None:  # more named at once: the next
        chosen = await _add_product(ctx, draft, named)
        return replace(chosen, text=f"{said}\n{chosen.text}") if said else chosen
    if resume := draft.data.get("resume"):  # a product added: back to where the draft was
        draft.data = {key: value for key, value in draft.data.items() if key != "resume"}
        draft.step = resume
        return await _ask_again(ctx, draft, said, news="draft.added")
    prefix = said + "\n" if said else ""
    if draft.data.get("form"):  # an order form said to whom or where: the rest is asked
        if draft.data.get("name") and draft.data.get("address"):
            return await _confirm(ctx, draft)  # its lines name every product, the last too
        if draft.data.get("name"):
            draft.step = "address"
            return _ask(prefix + ctx.t("draft.ask_address"))
        draft.step = "name"
        return _ask_name(ctx, prefix)
    phone = await _phone_of(ctx)
    customer = await customer_with_phone(ctx.session, phone) if phone else None
    before = await last_recipient(ctx.session, customer.id) if customer else None
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
    touch(draft, ctx.now, draft_lifetime(ctx))
    if draft.data.get("kind") in ORDERS_FOR_OTHERS:
        return await staff_step(ctx, draft, text)
    step = draft.step
    if step in LATER_STEPS and (changed := await _changed(ctx, draft, said)) is not None:
        return changed  # "4 aja", "eh ganti XL deh": the order changed, its question stands
    if step in LATER_STEPS and (more := adds(said)) is not None:
        return await _add_product(ctx, draft, more)  # "tambah tote 1", the summary's ➕
    if (
        step in LATER_STEPS
        and (gone := removes(said))
        and (less := await _remove(ctx, draft, gone))
    ):
        return less  # "hapus tote", "totenya gak jadi"
    recount = step == "confirm" or (
        step in LATER_STEPS and classify(said).kind is not IntentKind.BUY  # a wish again: below
    )
    if recount and (recounted := await _recounted(ctx, draft, said)) is not None:
        return recounted  # "kaosnya jadi 3": one product counted again
    if step in ("product", "qty") and draft.data.get("resume") and lowered in ENOUGH:
        return await _enough(ctx, draft)  # no other product after all: back to where it was
    if step == "product":
        if classify(said).kind is IntentKind.BUY and not product_words(said):
            return _ask_product(ctx, said)  # asked again how, or said again they want to
        if asks_instead_of_a_product(ctx, said):
            return None  # "ongkirnya berapa?": answered as usual, the draft waits
        if says_no_product(said):
            return ctx.reply("draft.ask_product")  # "ya", "halo": no product called so
        said = await draft_lines.take_first(ctx, draft, said)
        if not draft.data.get("qty") and (qty := qty_in(said)):
            draft.data = {**draft.data, "qty": qty}  # "tote 1": how many came with it
        return await _choose_product(ctx, draft, said)
    if step == "qty":
        qty = typed_qty(lowered)
        if qty is None:
            if in_between(ctx, said):
                return None  # a question in between: answered as usual, the draft waits
            return _ask(ctx.t("draft.ask_qty"))
        draft.data = {**draft.data, "qty": qty}
        return await _ask_recipient(ctx, draft)
    if step in ("recipient", "confirm"):  # the address of the last order, or the summary
        if lowered in YES:
            return await (_confirm if step == "recipient" else _place_draft)(ctx, draft)
        if lowered in CHANGE:
            return _change_recipient(ctx, draft)
        return None
    if step in ("name", "address"):
        said = answer_to(text, step) or said  # "Nama: Budi", "Alamat: … / Kota: …"
        lowered = said.lower()
    if step == "name":
        if asks_instead_of_a_name(ctx, said):
            return None
        if not any(ch.isalpha() for ch in said):
            return _ask_name(ctx)  # "-" or "?" is nobody's name
        if plainly_an_address(said) and len(said) >= 10:  # the address first: kept, name asked
            draft.data = {**draft.data, "address": said[:500], "form": True}
            return _ask_name(ctx, ctx.t("draft.address_first") + "\n")
        draft.data = {**draft.data, "name": said}
        if draft.data.get("form") and draft.data.get("address"):  # a form said where
            return await _confirm(ctx, draft)
        draft.step = "address"
        return _ask(ctx.t("draft.ask_address"))
    if step == "address":
        if len(said) < 10 or not an_address(ctx, said):
            return _ask(ctx.t("draft.ask_address")) if len(said) < 10 else None
        draft.data = {**draft.data, "address": said[:500]}
        return await _confirm(ctx, draft)
    if step == "phone":
        if in_between(ctx, said):
            return None  # a question in between: answered as usual, the draft waits
        # A typed number is no proof it is theirs: the button shares the chat's own.
        return Reply(ctx.t("draft.share_phone"), contact_button=share_button(ctx))
    return None


def _change_recipient(ctx: Context, draft: OrderDraft) -> Reply:
    """ "ubah" to where it goes: the name asked, then the address, whatever a form said."""
    draft.data = {key: value for key, value in draft.data.items() if key != "form"}
    draft.step = "name"
    return _ask_name(ctx)


LATER_STEPS = ("recipient", "name", "address", "confirm")  # the product and quantity chosen


async def _changed(ctx: Context, draft: OrderDraft, said: str) -> Reply | None:
    """A change of mind once the product and quantity were chosen: "4 aja", "eh ganti XL
    deh", "ganti alamat". The draft takes it and asks its question again; None when the
    message changes nothing of it."""
    words = re.findall(r"\w+", said.lower())
    kept = [w for w in words if w not in CHANGE_WORDS]
    # A bare "123" at "whose name?" is asked again: only words around it say it is a change.
    qty = typed_qty(" ".join(kept)) if 0 < len(kept) <= 2 and len(kept) < len(words) else None
    if qty is not None:
        if draft.data.get("lines"):  # "jadi 3" of several products: of which?
            rows = await draft_lines.chosen(ctx, draft)
            choices = tuple(Choice(f"{p.label} ×{qty}", f"{p.sku} jadi {qty}") for p, _ in rows)
            return Reply(ctx.t("draft.which_count", qty=qty), choices=choices)
        draft.data = {**draft.data, "qty": qty}
        return await _ask_again(ctx, draft)
    if not SAYS_CHANGE.intersection(words) or not kept:
        return None
    named = set(kept) - OWN_WORDS
    if named and named <= NAME_WORDS:  # "ganti nama": the name is asked again
        draft.step = "name"
        return _ask_name(ctx)
    if named and named <= ADDRESS_WORDS:  # "alamat pengiriman saya mau ganti"
        draft.step = "address"
        return _ask(ctx.t("draft.ask_address"))
    return await _variant_changed(ctx, draft, said)


async def _variant_changed(ctx: Context, draft: OrderDraft, said: str) -> Reply | None:
    """Another size or colour of the product chosen ("ganti XL deh", "the white one
    instead"), the rest of it kept: a white shirt in XL stays XL. None when the message names
    no size or colour alone ("ganti jadi Budi")."""
    wanted = [w for w in (narrowing(classify(said)) or "").split() if w not in CHANGE_WORDS]
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


async def _ask_again(
    ctx: Context, draft: OrderDraft, said: str = "", news: str | None = "draft.changed"
) -> Reply:
    """The draft's question once more after a change, what it is now first (`said`: the new
    variant's stock; `news`: how the product being chosen is told, if it is)."""
    prefix = said + "\n" if said else ""
    if news is not None:
        product = (await products_by_sku(ctx.session, [draft.data["sku"]]))[draft.data["sku"]]
        item = f"{product.label} ({product.sku})"
        prefix += ctx.t(news, item=item, qty=draft.data["qty"]) + "\n"
    if draft.step == "name":
        return _ask_name(ctx, prefix)
    if draft.step == "address":
        return _ask(prefix + ctx.t("draft.ask_address"))
    if draft.step == "confirm":  # the summary shows the change; only what was said first
        return await _confirm(ctx, draft, said + "\n" if said else "")
    return await _ask_recipient(ctx, draft, prefix.rstrip("\n"))


# ------------------------------------------------------------------------------- more products


async def _add_product(ctx: Context, draft: OrderDraft, words: str) -> Reply:
    """Another product into the draft: the one chosen so far is kept among its lines, the new
    one is chosen as the first was, and the draft goes back to where it was."""
    if not draft_lines.set_aside(draft):  # no room for one more, nor for any named with it
        too_many = ctx.t("draft.too_many", most=draft_lines.MAX_LINES)
        return await _ask_again(ctx, draft, too_many, news=None)
    if "resume" not in draft.data and draft.step in LATER_STEPS:
        draft.data = {**draft.data, "resume": draft.step}
    draft.step = "product"
    words = await draft_lines.take_first(ctx, draft, words)
    if wanted := qty_in(words):  # "tambah tote 2", "tambah 2": how many came with it
        draft.data = {**draft.data, "qty": wanted}
    if not names_a_product(words):  # the ➕, or "tambah 1": which product
        return Reply(
            ctx.t("draft.ask_more"),
            choices=(Choice(ctx.t("draft.enough"), "/pesan cukup"),),
            clears_menu=True,
        )
    return await _choose_product(ctx, draft, words)


async def _said_again(ctx: Context, draft: OrderDraft, words: str) -> Reply | None:
    """The product being chosen, asked for again ("mau order kaos hitam L 2" sent twice): its
    quantity is the one said now, and the draft's question stands. None for another product."""
    product = await draft_lines.the_one_chosen(ctx, draft, words)
    if product is None:
        return None
    if qty := qty_in(words):
        draft.data = {**draft.data, "qty": qty}
    return await _ask_again(ctx, draft, stock_line(ctx, product))


async def _enough(ctx: Context, draft: OrderDraft) -> Reply:
    """No other product after all: the last one chosen is the one being chosen again, and the
    draft's question is asked once more."""
    draft.step = str(draft.data["resume"])
    # none of those named with it either
    draft.data = {key: value for key, value in draft.data.items() if key not in ("resume", "then")}
    draft_lines.take_back(draft)
    return await _ask_again(ctx, draft, news=None)


async def _remove(ctx: Context, draft: OrderDraft, named: str) -> Reply | None:
    """One of the draft's products taken out ("hapus tote"), and the draft's question asked
    again; None when the words name none of them, or several."""
    found = await draft_lines.one_of(ctx, draft, named)
    if found is None:
        return None
    gone, rows = found
    if len(rows) == 1:  # the whole order: that is "batal"
        return Reply(ctx.t("draft.only_product"))
    draft_lines.keep(draft, [(product, count) for product, count in rows if product != gone])
    removed = ctx.t("draft.removed", item=f"{gone.label} ({gone.sku})")
    return await _ask_again(ctx, draft, removed, news=None)


async def _recounted(ctx: Context, draft: OrderDraft, said: str) -> Reply | None:
    """A new count for one of the draft's products, named ("kaosnya jadi 3", "tote 2 aja"),
    and the draft's question asked again; None when the message names no count, or not
    exactly one of them."""
    counted = draft_lines.count_named(said)
    found = await draft_lines.one_of(ctx, draft, counted[1]) if counted else None
    if counted is None or found is None:
        return None
    (qty, _), (which, rows) = counted, found
    draft_lines.keep(draft, [(p, qty if p == which else count) for p, count in rows])
    told = ctx.t("draft.changed", item=f"{which.label} ({which.sku})", qty=qty)
    return await _ask_again(ctx, draft, told, news=None)


async def meanwhile(ctx: Context) -> Reply | None:
    """The draft's question again, once a question asked in the middle of it went to a
    person: the order goes on while they wait. None when the draft's buttons ask it."""
    draft = await draft_of(ctx.session, ctx.chat.id, ctx.now)
    if draft is None or draft.data.get("kind") in ORDERS_FOR_OTHERS:
        return None
    meanwhile = ctx.t("draft.meanwhile") + "\n"
    if draft.step == "product" and not draft.data.get("query"):  # no buttons to choose with
        return Reply(meanwhile + ctx.t("draft.ask_product"))
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
        plain = typed_qty(lowered) is not None
    elif draft.step in ("recipient", "confirm"):
        plain = lowered in YES or lowered in CHANGE or lowered in MORE
    elif draft.step == "name":
        plain = not asks_instead_of_a_name(ctx, said) and any(ch.isalpha() for ch in said)
    elif draft.step == "address":
        plain = len(said) >= 10 and an_address(ctx, said)
    else:  # which product: a stock question names it (the draft's buttons are commands)
        plain = classify(said).kind in (IntentKind.STOCK, IntentKind.BUY) and names_a_product(said)
    if not (plain or lowered in DROP):
        return False
    last = await last_said(ctx.session, ctx.chat.id)
    if last is None or last[0] != "kabar":
        return False
    return not await answered_since(ctx.session, ctx.chat.id, last[1])  # nor on its way


def _ask_name(ctx: Context, prefix: str = "") -> Reply:
    """Ask whose name the order goes under, offering the name the chat's platform shows."""
    shown = " ".join((ctx.incoming.name or "").split())
    if not any(ch.isalpha() for ch in shown) or len(shown.encode()) > 64:
        return _ask(prefix + ctx.t("draft.ask_name"))
    return Reply(prefix + ctx.t("draft.ask_name_or", name=shown), choices=(Choice(shown, shown),))


def _ask(question: str) -> Reply:
    """A question of the draft the customer answers by typing (how many, a name, where to)."""
    return Reply(question, clears_menu=True)


async def _confirm(ctx: Context, draft: OrderDraft, prefix: str = "") -> Reply:
    """The summary with the total, to confirm, add to or cancel (`prefix`: what is said
    first)."""
    chosen = await draft_lines.chosen(ctx, draft)
    draft.step = "confirm"
    lines = [prefix + ctx.t("draft.summary")]
    lines += [
        f"• {product.label} ({product.sku}) ×{qty} — {ctx.money(product.price * qty)}"
        for product, qty in chosen
    ]
    total = sum(product.price * qty for product, qty in chosen)
    lines += [
        ctx.t("invoice.total", amount=ctx.money(total)),
        ctx.t("draft.to", name=draft.data["name"], address=draft.data["address"]),
    ]
    if note := draft.data.get("note"):
        lines.append(ctx.t("draft.note", note=note))  # seen kept, before it is placed
    for product, qty in chosen:
        if await would_wait(ctx.session, product, qty):  # told before, not after, confirming
            lines.append(ctx.t("draft.waits"))
            break
    return Reply(
        "\n".join(lines),
        choices=(
            Choice(ctx.t("draft.place"), "/pesan ok"),
            Choice(ctx.t("draft.add"), "/pesan tambah"),
            Choice(ctx.t("draft.cancel"), "/pesan batal"),
        ),
    )


async def _place_draft(ctx: Context, draft: OrderDraft) -> Reply:
    """Place the confirmed draft, through the one way orders are placed."""
    phone = await _phone_of(ctx)
    if phone is None:
        return Reply(ctx.t("draft.share_phone"), contact_button=share_button(ctx))
    chosen = await draft_lines.chosen(ctx, draft)
    customer = await customer_by_phone(ctx.session, phone, draft.data["name"], ctx.lang.value)
    if ctx.incoming.phone_verified:
        await link_by_phone(ctx.session, ctx.chat, phone)
    # An order form may name someone else's number to deliver to; the order is still theirs.
    recipient = Recipient(
        draft.data["name"], draft.data.get("phone") or phone, draft.data["address"]
    )
    await ctx.session.delete(draft)
    order = await place_chat_order(
        ctx.session,
        prefix=ctx.settings.orders.prefix,
        customer=customer,
        lines=chosen,
        recipient=recipient,
        actor=CUSTOMER,
        now=ctx.now,
        note=draft.data.get("note"),
    )
    lines = [ctx.t("draft.placed", code=order.code, due=ctx.money(bill_of(order).due))]
    if order.phase is Phase.AWAITING_STOCK:
        lines.append(ctx.t("neworder.awaiting"))
    lines += account_lines(ctx)
    return Reply("\n".join(lines))
