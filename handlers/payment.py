"""Payment in chat: how to pay, the invoice, transfer proofs, and staff's one-tap confirmation.

Customers ask how to pay ("bayar kemana", `/bayar`), get the amount due for the order in
question with the shop's accounts, and send a proof (a photo, or "sudah transfer"). Staff get
the proof with the order and three choices: ✅ paid in full (`/bayar KODE`), ✏️ another amount,
❌ refuse (`/tolak KODE alasan`, the reason goes to the customer).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from handlers.context import Context
from handlers.customer import order_told
from handlers.intents import classify, says_all
from handlers.money import parse_amount, typed_sum
from handlers.staff import each_order, split_codes
from handlers.types import Choice, Reply, Role
from handlers.views import payment_line, payment_state, sees_the_bill
from models.change import CUSTOMER, Change
from models.enums import PaymentState
from models.errors import DomainError, InvalidTransition
from models.lifecycle import (
    charge,
    claim_payment,
    load_for_change,
    pay,
    refund,
    refuse_payment,
)
from models.linking import (
    brand_of,
    invoice_links,
    items_of,
    order_visible_to_chat,
    visible_orders,
)
from models.messages import PROOF_KINDS, last_media
from models.orders import Order
from models.outbox import Alert, ProofAlert, alert_staff, revise_alert
from models.payments import (
    assign_unique_code,
    bill_of,
    claim_waits,
    unpaid_orders,
    waiting_claim,
)

# ------------------------------------------------------------------------------- customers

# How long the bill or status a chat was last shown stays the order a payment without a code
# is for: "sudah transfer" minutes after the invoice pays that invoice.
JUST_SHOWN = timedelta(hours=1)


async def down_payment_known(ctx: Context) -> bool:
    """Whether every bill this chat still pays has its down payment recorded: "dp sudah
    masuk ya kak" then reads back what the shop told, and claims no new payment."""
    waiting = await _customer_orders(ctx)
    return bool(waiting) and all(o.payment_state is PaymentState.PARTLY_PAID for o in waiting)


async def anything_to_pay(ctx: Context) -> bool:
    """Whether this chat still owes money for an order of its own."""
    return bool(await _customer_orders(ctx))


async def _customer_orders(ctx: Context, *, theirs: bool = True) -> list[Order]:
    """The orders this chat pays for that still wait for money, newest first: a customer's
    own, a reseller's dropship orders (not `theirs`: those a customer pays their reseller for).
    """
    mine = await visible_orders(ctx.session, ctx.chat, 20)
    ids = [o.id for o in mine if sees_the_bill(ctx, o) is theirs]
    return await unpaid_orders(ctx.session, ids)


async def _nothing_of_theirs(ctx: Context) -> Reply | None:
    """With nothing of their own to pay: that their seller takes care of the rest, if so."""
    elsewhere = await _customer_orders(ctx, theirs=False)
    return await _paid_elsewhere(ctx, elsewhere[0]) if elsewhere else None


async def _paid_elsewhere(ctx: Context, order: Order) -> Reply | None:
    """What a dropship order's customer hears of its money: their seller takes care of it."""
    if sees_the_bill(ctx, order):
        return None
    seller = await brand_of(ctx.session, order) or ctx.settings.shop_name
    return ctx.reply("pay.via_seller", code=order.code, seller=seller)


async def how_to_pay(ctx: Context, args: str) -> Reply | list[Reply]:
    """The amount due for the order in question, the shop's accounts, and how to send proof."""
    code = args.strip().split()[0] if args.strip() else ""
    if code:
        order = await order_visible_to_chat(ctx.session, ctx.chat, code)
        if order is None:
            return ctx.reply("status.not_found", code=code[:64])
        if elsewhere := await _paid_elsewhere(ctx, order):
            return elsewhere
        waiting = await unpaid_orders(ctx.session, [order.id])
        if not waiting:
            return ctx.reply("pay.nothing_due", code=order.code)
        return await _instructions(ctx, order)
    waiting = await _customer_orders(ctx)
    if len(waiting) > 1 and (told := await order_told(ctx, waiting, JUST_SHOWN)):
        waiting = [told]  # "transfer kemana?" under an order's bill: that bill
    if len(waiting) == 1:
        return await _instructions(ctx, waiting[0])
    if waiting:
        # "transfer kemana?" is answered at once; which order's amount, a tap away
        where = account_lines(ctx) if ctx.settings.payment.accounts else []
        owed = ctx.money(_owed(waiting))  # "berapa total tagihan saya?"
        total = ctx.t("pay.total_due", count=len(waiting), total=owed)
        asked = "\n".join([total, *where, ctx.t("pay.which")])
        return Reply(asked, choices=_bills(ctx, waiting, "/bayar"))
    return await _nothing_of_theirs(ctx) or _accounts_only(ctx)


async def what_is_left(ctx: Context) -> Reply | list[Reply]:
    """What is still due, asked with no order named ("pelunasannya berapa?", "sisa berapa
    kak?"): of the one order paid in part, else as how_to_pay answers."""
    waiting = await _customer_orders(ctx)
    partly = [o for o in waiting if o.payment_state is PaymentState.PARTLY_PAID]
    if len(partly) == 1:
        return await _instructions(ctx, partly[0])
    return await how_to_pay(ctx, "")


# What `/bukti` takes for "every bill": the word on its button, and the English one.
ALL_BILLS = ("semua", "all")


def _all_of(ctx: Context, orders: list[Order]) -> str:
    """The label of the choice that pays every bill at once, with their sum."""
    return ctx.t("pay.proof_all", total=ctx.money(_owed(orders)))


def _owed(orders: list[Order]) -> Decimal:
    """What is still due on these orders together."""
    return sum((bill_of(order).due for order in orders), Decimal(0))


def _bills(ctx: Context, orders: list[Order], command: str) -> tuple[Choice, ...]:
    return tuple(
        Choice(f"{o.code} · {ctx.money(bill_of(o).due)}", f"{command} {o.code}") for o in orders[:5]
    )


async def _instructions(ctx: Context, order: Order) -> list[Reply]:
    """How to pay one order: what is due, where to send it, how to prove it."""
    if ctx.settings.payment.unique_code:
        await assign_unique_code(ctx.session, order)
    bill = bill_of(order)
    lines = [ctx.t("pay.due", code=order.code, due=ctx.money(bill.due))]
    if bill.unique_code:
        lines.append(ctx.t("pay.unique_code", unique=bill.unique_code))
    lines += account_lines(ctx)
    if ctx.settings.payment.note:
        lines.append(ctx.settings.payment.note)
    lines.append(ctx.t("pay.send_proof"))
    _photo_pays(ctx, order)  # a photo that follows is this order's proof
    replies = [Reply("\n".join(lines), order_id=order.id)]
    if ctx.settings.payment.qris_image:
        qris = f"file:{ctx.settings.payment.qris_image}"
        replies.append(Reply(ctx.t("pay.qris"), photo=qris, order_id=order.id))
    return replies


def account_lines(ctx: Context) -> list[str]:
    """Where to transfer to, a line per account (or that staff will say)."""
    accounts = ctx.settings.payment.accounts
    if not accounts:
        return [ctx.t("pay.no_accounts")]
    lines = [ctx.t("pay.accounts")]
    lines += [f"• {bank} {number} a.n. {holder}" for bank, number, holder in accounts]
    return lines


def _accounts_only(ctx: Context) -> Reply:
    lines = [ctx.t("pay.none_due"), *account_lines(ctx)]
    if ctx.settings.payment.note:
        lines.append(ctx.settings.payment.note)
    return Reply("\n".join(lines))


async def invoice(ctx: Context, args: str) -> Reply:
    """The invoice: lines, shipping, discount, total, paid, due, how to pay, the links."""
    code = args.strip().split()[0] if args.strip() else ""
    if not code:
        mine = await visible_orders(ctx.session, ctx.chat, 5)
        if not mine:
            return (
                ctx.reply("orders.none")
                if ctx.role is not Role.STAFF
                else ctx.reply("staff.need_code")
            )
        told = await order_told(ctx, mine, JUST_SHOWN) if len(mine) > 1 else None
        if told is not None:
            mine = [told]  # "tagihannya mana?" after an order's status: that order's
        if len(mine) > 1:
            return Reply(
                ctx.t("status.pick"),
                choices=tuple(Choice(o.code, f"/tagihan {o.code}") for o in mine),
            )
        code = mine[0].code
    if ctx.role is Role.STAFF:
        try:
            order: Order | None = await load_for_change(ctx.session, code)
        except DomainError:
            order = None
    else:
        order = await order_visible_to_chat(ctx.session, ctx.chat, code)
    if order is None:
        return ctx.reply("status.not_found", code=code[:64])
    if elsewhere := await _paid_elsewhere(ctx, order):
        return elsewhere
    if ctx.settings.payment.unique_code:
        await assign_unique_code(ctx.session, order)
    bill = bill_of(order)
    items = (await items_of(ctx.session, [order.id])).get(order.id, [])
    lines = [ctx.t("invoice.header", code=order.code)]
    lines += [f"• {i.label} — {ctx.money(i.unit_price * i.qty)}" for i in items]
    lines.append(ctx.t("invoice.subtotal", amount=ctx.money(bill.subtotal)))
    if bill.shipping:
        lines.append(ctx.t("invoice.shipping", amount=ctx.money(bill.shipping)))
    if bill.discount:
        lines.append(ctx.t("invoice.discount", amount=ctx.money(bill.discount)))
    if bill.unique_code:
        lines.append(ctx.t("invoice.unique_code", amount=ctx.money(bill.unique_code)))
    lines.append(ctx.t("invoice.total", amount=ctx.money(bill.total)))
    if bill.paid:
        lines.append(ctx.t("invoice.paid", amount=ctx.money(bill.paid)))
    lines.append(payment_line(ctx, order))
    if bill.due:
        lines += account_lines(ctx)
    links = invoice_links(order.link_code, ctx.settings.bot_username, ctx.settings.whatsapp_number)
    if ctx.role is Role.STAFF:  # the links a seller puts on the invoice they send
        lines += [f"{name}: {link}" for name in ("telegram", "whatsapp") if (link := links[name])]
    return Reply("\n".join(lines), order_id=order.id)


async def proof(ctx: Context, args: str) -> Reply:
    """`/bukti KODE`: the photo or PDF just sent is the transfer proof of that order
    (`/bukti semua`: of every bill this chat still pays, one transfer for all)."""
    code = args.strip().split()[0] if args.strip() else ""
    if code.casefold() in ALL_BILLS:
        waiting = await _customer_orders(ctx)
        if not waiting:
            return ctx.reply("pay.nothing_waits")
        sent = _proof_in(ctx) or await last_media(ctx.session, ctx.chat.id)
        return await _received_for_all(ctx, waiting, sent)
    order = await order_visible_to_chat(ctx.session, ctx.chat, code) if code else None
    if order is not None and (elsewhere := await _paid_elsewhere(ctx, order)):
        return elsewhere
    if order is None or not await unpaid_orders(ctx.session, [order.id]):
        return ctx.reply("status.not_found", code=code[:64])
    return await _received(ctx, order, _proof_in(ctx) or await last_media(ctx.session, ctx.chat.id))


def _proof_in(ctx: Context) -> tuple[str, str] | None:
    """The photo or document that came with this message: what a transfer proof can be."""
    media = ctx.incoming.media
    return media if media is not None and media[0] in PROOF_KINDS else None


async def payment_proof(ctx: Context, *, claim: bool, ask_which: bool = True) -> Reply | None:
    """A photo (or "sudah transfer") from a customer: the proof of the order it belongs to.

    The order named in the caption, else the one whose instructions were just shown, else the
    only unpaid one; with several, the customer picks (without `ask_which`: None, and a person
    looks). None when it is no payment at all (nothing unpaid here): then it is for a person
    to look at.
    """
    waiting = await _customer_orders(ctx)
    code = ctx.incoming.text.strip()
    named = _code_in(code)
    if named:
        order = await order_visible_to_chat(ctx.session, ctx.chat, named)
        if order is not None and (elsewhere := await _paid_elsewhere(ctx, order)):
            return elsewhere
        if order is None or order.id not in {o.id for o in waiting}:
            return ctx.reply("status.not_found", code=named[:64])  # attaches to nothing
        return await _received(ctx, order, _proof_in(ctx))
    if not waiting:
        if not claim:
            return None  # a photo, and nothing of theirs to pay: a person looks at it
        return await _nothing_of_theirs(ctx) or ctx.reply("pay.nothing_waits")
    if len(waiting) > 1 and says_all(ctx.incoming.text, surely=True):  # "paid for both"
        return await _received_for_all(ctx, waiting, _proof_in(ctx))
    pointed = [o for o in waiting if o.id == ctx.chat.proof_for_order_id]
    if not pointed and len(waiting) > 1 and (told := await order_told(ctx, waiting, JUST_SHOWN)):
        pointed = [told]  # the proof comes right after that order's bill or status
    # "Sudah transfer" again after a claim may be of another order: then ask which.
    again = pointed and len(waiting) > 1 and _proof_in(ctx) is None
    if again and await claim_waits(ctx.session, pointed[0].id):
        pointed = []
    if pointed or len(waiting) == 1:
        return await _received(ctx, (pointed or waiting)[0], _proof_in(ctx))
    if not ask_which:
        return None
    if says_all(ctx.incoming.text):  # "sudah transfer semua ya kak"
        return await _received_for_all(ctx, waiting, _proof_in(ctx))
    every = Choice(_all_of(ctx, waiting), "/bukti semua")  # one transfer for them all
    return Reply(ctx.t("pay.proof_which"), choices=(*_bills(ctx, waiting, "/bukti"), every))


def _code_in(text: str) -> str | None:
    return classify(text).order_code if text else None


async def _received(ctx: Context, order: Order, proof: tuple[str, str] | None) -> Reply:
    """Note the proof (kind, reference) on the order, tell staff with one-tap choices, and
    thank the customer."""
    kind, ref = proof or ("photo", None)
    if ref is None and await claim_waits(ctx.session, order.id):
        # "Sudah transfer" again while staff still have the first: nothing new to tell them.
        _photo_pays(ctx, order)
        return ctx.reply("pay.claim_waits", code=order.code)
    # A receipt right after "sudah transfer" (words, no receipt): that claim's alert, if still
    # unsent, takes it, and the alert sent for it quotes those words.
    earlier = await waiting_claim(ctx.session, order.id) if ref is not None else None
    claimed = earlier if earlier is not None and earlier.proof is None else None
    events = await _claim(ctx, [order], ref)
    if not events:
        return ctx.reply("pay.nothing_due", code=order.code)
    if ref is None:
        _photo_pays(ctx, order)  # the receipt asked for below
    elif ctx.chat.proof_for_order_id is not None:
        ctx.chat.proof_for_order_id = None
    said = _said_with(ctx)
    if claimed is not None:
        said = said or (claimed.note or "")[:300]
    alert = _proof_alert(ctx, [order], kind, ref, said)
    revised = claimed is not None and await revise_alert(ctx.session, f"proof:{claimed.id}", alert)
    if not revised:
        await alert_staff(ctx.session, [Alert(alert, f"proof:{events[0]}", order.id)], now=ctx.now)
    return replace(_thanks(ctx, [order], ref), order_id=order.id)


async def _received_for_all(
    ctx: Context, orders: list[Order], proof: tuple[str, str] | None
) -> Reply:
    """One transfer for several bills ("Semua" under "which order?"): each order's payment is
    claimed, and staff get one alert with the sum, one tap confirming them all."""
    kind, ref = proof or ("photo", None)
    events = await _claim(ctx, orders, ref)
    claimed = [order for order, event in zip(orders, events, strict=True) if event is not None]
    if not claimed:
        return ctx.reply("pay.nothing_waits")
    if ctx.chat.proof_for_order_id is not None:
        ctx.chat.proof_for_order_id = None
    alert = _proof_alert(ctx, claimed, kind, ref, _said_with(ctx))
    first = next(event for event in events if event is not None)
    await alert_staff(ctx.session, [Alert(alert, f"proof:{first}", claimed[0].id)], now=ctx.now)
    return _thanks(ctx, claimed, ref)


async def _claim(ctx: Context, orders: list[Order], ref: str | None) -> list[int | None]:
    """Claim each order's payment with the proof; each claim's event id, None where nothing
    was due any more."""
    change = Change(CUSTOMER, ctx.now)
    events: list[int | None] = []
    for order in orders:
        try:
            event = await claim_payment(
                ctx.session, order, change, proof=ref, chat_id=ctx.chat.id, said=ctx.incoming.text
            )
        except InvalidTransition:
            events.append(None)
            continue
        events.append(event.id)
    return events if any(event is not None for event in events) else []


def _said_with(ctx: Context) -> str:
    """What the customer wrote with the proof, for staff; a tapped button says nothing."""
    said = ctx.incoming.text
    return "" if said.startswith("/") else said[:300]


def _proof_alert(
    ctx: Context, orders: list[Order], kind: str, ref: str | None, said: str
) -> ProofAlert:
    """Staff's alert of a proof for one order or several (their codes comma-separated, the
    money summed): what `/bayar` and `/tolak` take at one tap."""
    bills = [bill_of(order) for order in orders]
    return {
        "alert": "proof",
        "code": ",".join(order.code for order in orders),
        "customer": ctx.incoming.name,
        "total": str(sum((bill.total for bill in bills), Decimal(0))),
        "due": str(sum((bill.due for bill in bills), Decimal(0))),
        "paid": str(sum((bill.paid for bill in bills), Decimal(0))),
        "proof": ref,
        "proof_kind": kind,
        "said": said,
    }


def _thanks(ctx: Context, orders: list[Order], ref: str | None) -> Reply:
    """The customer's thanks for a proof; it answers "which order is it for?", so that menu
    asks nothing any more. Words alone ask for the receipt's photo too."""
    key = "pay.proof_received" if ref else "pay.claim_received"
    codes = ", ".join(order.code for order in orders)
    return replace(ctx.reply(key, code=codes), clears_menu=True)


def _photo_pays(ctx: Context, order: Order) -> None:
    """A photo that comes next in this chat is the proof of `order`."""
    if ctx.chat.proof_for_order_id != order.id:  # unchanged, a question stays a read
        ctx.chat.proof_for_order_id = order.id


# ------------------------------------------------------------------------------- staff


async def paid(ctx: Context, args: str) -> Reply:
    """Record a payment: `/bayar INV-1[,INV-2…]` (all that is due) or `/bayar INV-1 150000`."""
    codes, rest = split_codes(args)
    amount: Decimal | None = None
    if rest:
        if rest.strip() == "?" and len(codes) == 1:
            # "✏️ Another amount": the sum typed next is the amount (`amount_typed`).
            in_full = Choice(ctx.t("alert.proof_paid"), f"/bayar {codes[0]}")
            return Reply(ctx.t("pay.amount_usage", code=codes[0]), choices=(in_full,))
        if rest.strip() == "?":
            return ctx.reply("pay.amount_usage", code=",".join(codes))
        amount = parse_amount(rest.split()[0])
        if amount is None or amount <= 0:
            return ctx.reply("pay.amount_usage", code=",".join(codes))
        if len(codes) > 1:
            return ctx.reply("pay.one_amount")

    async def move(order: Order, change: Change) -> object:
        return await pay(ctx.session, order, change, amount)

    def worded(order: Order) -> dict[str, object]:
        return {"payment": payment_state(ctx, order)}  # paid in a later phase says so too

    done = await each_order(ctx, codes, move, "paid.done", worded=worded)
    # What offered this payment is answered: a sum typed next pays nothing more.
    return done if done.choices else replace(done, clears_menu=True)


async def amount_typed(ctx: Context, text: str) -> Reply | None:
    """A sum typed alone ("150rb") right after `/bayar KODE ?` asked for one: recorded as
    `/bayar KODE 150000`; None when it is no sum, or no payment of one order was just offered."""
    offered = ctx.last_menu[0].split() if len(ctx.last_menu) == 1 else []
    if len(offered) != 2 or offered[0] != "/bayar" or (amount := typed_sum(text)) is None:
        return None
    return await paid(ctx, f"{offered[1]} {amount}")


async def give_back(ctx: Context, args: str) -> Reply:
    """Record money given back: `/kembalikan INV-1[,INV-2…]` (all that was paid) or
    `/kembalikan INV-1 50000`; the customer is told."""
    codes, rest = split_codes(args)
    amount: Decimal | None = None
    if rest:
        amount = parse_amount(rest.split()[0])
        if amount is None or amount <= 0 or len(codes) > 1:
            return ctx.reply("refund.usage")

    async def move(order: Order, change: Change) -> object:
        return await refund(ctx.session, order, change, amount)

    return await each_order(ctx, codes, move, "refund.done")


async def _money_move(ctx: Context, args: str, what: str) -> Reply:
    codes, rest = split_codes(args)
    amount = parse_amount(rest.split()[0]) if rest else None
    if not codes or amount is None or amount < 0:
        return ctx.reply(f"{what}.usage")

    async def move(order: Order, change: Change) -> object:
        if what == "shipping":
            return await charge(ctx.session, order, change, shipping=amount)
        return await charge(ctx.session, order, change, discount=amount)

    return await each_order(ctx, codes, move, f"{what}.done")


async def shipping(ctx: Context, args: str) -> Reply:
    """Set the shipping fee before payment: `/ongkir INV-1 15000`."""
    return await _money_move(ctx, args, "shipping")


async def discount(ctx: Context, args: str) -> Reply:
    """Take something off the bill: `/diskon INV-1 10000`."""
    return await _money_move(ctx, args, "discount")


async def refuse(ctx: Context, args: str) -> Reply:
    """Refuse a transfer proof: `/tolak INV-1 alasan`; the customer reads the reason."""
    codes, reason = split_codes(args)
    if not codes:
        return ctx.reply("refuse_proof.usage")
    if not reason:
        return ctx.reply("refuse_proof.ask_reason", code=",".join(codes))

    async def move(order: Order, change: Change) -> object:
        return await refuse_payment(ctx.session, order, change, reason=reason)

    return await each_order(ctx, codes, move, "refuse_proof.done")
