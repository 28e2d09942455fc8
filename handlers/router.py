"""The one routing table: command words → handler → who may use it. Order matters for help."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from handlers import (
    common,
    customer,
    draft_lines,
    drafts,
    ordering,
    payment,
    reorder,
    sales,
    staff,
    support,
)
from handlers.context import Context
from handlers.faq import (
    ASKED_WITH_A_PRODUCT,
    LEFT_TO_PAY,
    FaqTopic,
    match,
    topic,
    unanswered,
)
from handlers.forms import DROP, OrderForm, read_form, read_sentence
from handlers.intents import (
    Hint,
    Intent,
    IntentKind,
    asks_for_the_catalogue,
    asks_for_the_invoice,
    asks_how_long_to_make,
    asks_the_price,
    asks_to_be_told,
    asks_to_cancel,
    asks_what_is_late,
    asks_what_is_left,
    buys_if,
    classify,
    narrowing,
    variants_asked,
)
from handlers.types import Reply, Role
from handlers.views import menu
from models.enums import Language
from models.linking import is_link_code
from models.messages import PROOF_KINDS
from models.support import Reason

Handler = Callable[[Context, str], Awaitable[Reply | list[Reply]]]

ALL = frozenset(Role)
CUSTOMERS = frozenset({Role.CUSTOMER, Role.UNKNOWN})
STAFF = frozenset({Role.STAFF})
RESELLERS = frozenset({Role.RESELLER})


async def help_(ctx: Context, args: str) -> Reply:
    """List the commands this person may use, in their language."""
    lines = [ctx.t("help.title")]
    for route in ROUTES:
        if ctx.role in route.roles and route.help:
            lines.append(f"/{route.words[0]} — {ctx.t(route.help)}")
    return Reply("\n".join(lines), choices=menu(ctx))


@dataclass(frozen=True)
class Route:
    """Command words (Indonesian first, then English aliases), their handler and roles."""

    words: tuple[str, ...]
    handler: Handler
    roles: frozenset[Role]
    help: str = ""  # catalog key of the line in /bantuan; empty keeps it out of help


ROUTES: tuple[Route, ...] = (
    # Everyone. "kabar" is what the WhatsApp invoice link types: `kabar <code>`.
    Route(("start", "start", "mulai", "kabar"), common.start, ALL, "help.start"),
    Route(("bantuan", "help", "menu"), help_, ALL, "help.help"),
    Route(("bahasa", "language"), common.language, ALL, "help.language"),
    Route(("info", "faq"), common.info, ALL, "help.info"),
    # Customers: their own orders; staff see any order with /status.
    Route(("pesanan", "orders"), customer.orders, CUSTOMERS, "help.orders"),
    Route(("status", "status", "cek"), customer.status, ALL, "help.status"),
    Route(("lacak", "track"), customer.track, ALL, "help.track"),
    Route(("stok", "stock"), customer.stock, ALL, "help.stock"),
    Route(("kabari", "notify"), customer.notify, CUSTOMERS | RESELLERS, "help.notify"),
    Route(("berhenti", "stop"), common.stop, CUSTOMERS | RESELLERS, "help.stop"),
    # Paying: how and what is due, the invoice; a customer's /bayar asks, a staff /bayar records.
    Route(("bayar", "pay", "paid"), payment.how_to_pay, CUSTOMERS | RESELLERS, "help.pay"),
    Route(("tagihan", "invoice"), payment.invoice, ALL, "help.invoice"),
    Route(("bukti", "proof"), payment.proof, CUSTOMERS | RESELLERS),
    # Ordering in chat: a customer's draft, a reseller's dropship order, staff for a customer.
    Route(("pesan", "order"), drafts.start, CUSTOMERS, "help.order"),
    Route(("pesan", "order"), ordering.reseller_order, RESELLERS, "help.resellerorder"),
    Route(("putus", "unlink"), common.unlink, CUSTOMERS | RESELLERS, "help.unlink"),
    # Resellers.
    Route(("pesananku", "myorders"), customer.reseller_orders, RESELLERS, "help.myorders"),
    # Staff.
    Route(("pesananbaru", "neworder"), ordering.new_order, STAFF, "help.neworder"),
    Route(("pesanan", "orders"), staff.find_orders, STAFF, "help.findorders"),
    Route(("tahap", "stage"), staff.stage, STAFF, "help.stage"),
    Route(("bayar", "paid"), payment.paid, STAFF, "help.paid"),
    Route(("ongkir", "shipping"), payment.shipping, STAFF, "help.shipping"),
    Route(("diskon", "discount"), payment.discount, STAFF, "help.discount"),
    Route(("tolak", "reject"), payment.refuse, STAFF, "help.refuse_proof"),
    Route(("kembalikan", "refund"), payment.give_back, STAFF, "help.refund"),
    Route(("kirim", "ship"), staff.ship, STAFF, "help.ship"),
    Route(("terima", "delivered"), staff.delivered, STAFF, "help.delivered"),
    Route(("batal", "cancel"), staff.cancel_orders, STAFF, "help.cancel"),
    Route(("undo", "undo", "batalkan"), staff.undo, STAFF, "help.undo"),
    Route(("foto", "photo"), staff.progress, STAFF, "help.photo"),
    Route(("stokset", "setstock"), staff.set_stock_cmd, STAFF, "help.setstock"),
    Route(("antrian", "queue"), staff.queue, STAFF, "help.queue"),
    # Staff: the front desk (handed-over chats).
    Route(("inbox", "inbox"), support.open_threads, STAFF, "help.inbox"),
    Route(("balas", "reply"), support.answer, STAFF, "help.reply"),
    Route(("ambil", "claim"), support.take, STAFF, "help.claim"),
    Route(("selesai", "done"), support.done, STAFF, "help.done"),
)

# Commands whose one argument is an order code: without a slash, another word makes a sentence.
TAKE_A_CODE: frozenset[Handler] = frozenset(
    {customer.status, payment.how_to_pay, payment.invoice, payment.proof}
)

COMMAND = re.compile(r"^/?(?P<word>[A-Za-z]+)(?:@(?P<bot>\w+))?(?:\s+(?P<args>.*))?$", re.S)


def find_route(word: str, role: Role) -> tuple[Route | None, bool]:
    """The route for a command word as this role may use it; and whether the word exists."""
    known = False
    for route in ROUTES:
        if word in route.words:
            known = True
            if role in route.roles:
                return route, True
    return None, known


async def dispatch(ctx: Context, *, slash_optional: bool) -> list[Reply]:
    """Answer one message: a shared contact, a command, or free text."""
    if ctx.incoming.contact is not None:
        shared = await common.contact(ctx, to_order=ctx.drafting)
        going_on = await drafts.after_contact(ctx) if ctx.drafting else None
        return [shared, *_as_list(going_on)] if going_on is not None else [shared]
    text = ctx.incoming.text.strip()
    if ctx.incoming.group and ctx.role is not Role.STAFF:
        # Groups hear nothing about anyone's orders; plain chatter there is not for us.
        return [Reply(ctx.t("group.private_only"))] if text.startswith("/") else []
    if ctx.role is Role.STAFF and ctx.incoming.reply_to is not None:
        quoted = await support.answer_quoted(ctx)  # a reply to a forwarded customer message
        if quoted is not None:
            return [quoted]
    if ctx.drafting and ctx.thread is None and text.lower() in DROP:
        # "batal" ends the order in the making, before it reads as the staff's /batal.
        return _as_list(await drafts.answer(ctx, text) or ctx.reply("draft.dropped"))
    if ctx.drafting and ctx.role is Role.UNKNOWN and asks_to_cancel(classify(text)):
        # "cancel my order" from a chat with no order but the one in the making: that one.
        return _as_list(await drafts.answer(ctx, "batal") or ctx.reply("draft.dropped"))
    # The conversation already cut the text to what a platform sends; the pattern is linear.
    match = COMMAND.match(text)
    slashed = text.startswith("/")
    if match and (slashed or slash_optional):
        bot = match["bot"]
        if bot and ctx.settings.bot_username and bot.lower() != ctx.settings.bot_username.lower():
            return []  # a command for another bot in the same group
        word, args = match["word"].lower(), (match["args"] or "").strip()
        route, known = find_route(word, ctx.role)
        if slashed or reads_as_command(text, args, route):
            if route is not None:
                if ctx.chat.misses:
                    ctx.chat.misses = 0  # understood
                if ctx.staff is not None and ctx.incoming.group and route.roles == STAFF:
                    # A group where staff work is a staff chat: it hears what staff hear.
                    ctx.chat.staff_id = ctx.staff.id
                return _as_list(await route.handler(ctx, args))
            if known and ctx.role is Role.STAFF:
                return [Reply(ctx.t("error.not_allowed"))]
            if known:
                # A staff word from a customer is a question: "bayar dimana?", "/batal".
                text, slashed = text.removeprefix("/"), False
    if slashed:
        return [await common.unknown_command(ctx, "")]
    if ctx.incoming.group:
        return []  # staff talk among themselves in their group: the bot answers commands there
    if ctx.role is Role.STAFF and ctx.incoming.media is not None and not text:
        return [ctx.reply("staff.photo_which")]  # a photo for a customer needs its order
    drafting = ctx.drafting and ctx.incoming.media is None
    if ctx.thread is not None and ctx.role is not Role.STAFF:
        # A person answers this chat now; an order in the making still takes its answers.
        step = await drafts.answer(ctx, text, held=True) if drafting else None
        if step is not None:
            return _as_list(step)
        # A transfer proof sent to the person is still the one-tap confirmation for staff.
        proof = await _proof_of_one_order(ctx, text) if ctx.incoming.media else None
        forwarded = await support.held(ctx)
        return [proof] if proof is not None else forwarded
    if ctx.incoming.media is None and (form := read_form(text)) is not None:
        return _as_list(await _order_form(ctx, form))  # "Nama: …, Alamat: …, Pesanan: …"
    if drafting:
        step = await drafts.answer(ctx, text)  # the next answer of an order in the making
        if step is not None:
            return _as_list(step)
    if ctx.role is not Role.STAFF and ctx.incoming.media is not None:
        return [await media(ctx, text)]
    replies = _as_list(await free_text(ctx, text))
    # A question in the middle of a draft went to a person: the draft's own question again.
    if drafting and ctx.thread is not None and (again := await drafts.meanwhile(ctx)):
        replies.append(again)
    return replies


async def _order_form(ctx: Context, form: OrderForm) -> Reply | list[Reply]:
    """An order form, filled in by a customer, or pasted by staff or a reseller for another."""
    if ctx.role in (Role.STAFF, Role.RESELLER):
        return await ordering.from_form(ctx, form)
    return await drafts.from_form(ctx, form)


async def media(ctx: Context, caption: str) -> Reply:
    """A photo or file from a customer: a transfer proof, or for a person to look at."""
    kind, _ = ctx.incoming.media or ("", "")
    if kind in PROOF_KINDS and _may_be_a_proof(caption):
        proof = await payment.payment_proof(ctx, claim=False)
        if proof is not None:
            return proof
    return await support.hand_over(ctx, Reason.MEDIA)  # nothing here reads it


async def _proof_of_one_order(ctx: Context, caption: str) -> Reply | None:
    """A photo or file that is the transfer proof of one order, recorded as it; None when it
    is no proof, or of which order is not plain (the person asks)."""
    kind, _ = ctx.incoming.media or ("", "")
    if kind not in PROOF_KINDS or not _may_be_a_proof(caption):
        return None
    return await payment.payment_proof(ctx, claim=False, ask_which=False)


def _may_be_a_proof(caption: str) -> bool:
    """Whether a photo's words leave it a transfer proof: none, an order code, words of paying.
    A question with it ("yang ini ready kak?" under a product's picture, "sudah sampai tapi
    sobek") makes it something for a person to see."""
    intent = classify(caption)
    if intent.kind is IntentKind.PAID:
        return True
    if intent.kind in (IntentKind.PERSON, IntentKind.STOCK, IntentKind.BUY):
        return False
    if intent.kind is IntentKind.ORDER_STATUS and intent.order_code is None:
        return False
    return "?" not in caption


def reads_as_command(text: str, args: str, route: Route | None) -> bool:
    """Whether text without a slash is a command (`status INV-1`) or a sentence.

    `terima kasih` is thanks, not /terima; `pesanan saya sudah sampai mana?` is a question for
    the free-text reader. Staff commands keep their arguments; other commands take at most one
    word without a slash, and longer text is read as a sentence, unless its parts are split
    by ";" as a command's are. `kabar <link code>`, what the
    WhatsApp invoice link types, always starts (though "kabar" alone is a greeting).
    """
    if route is not None and route.handler is common.start and is_link_code(args):
        return True
    if classify(text).kind in (IntentKind.THANKS, IntentKind.GREETING):
        return False
    if route is not None and (route.roles == STAFF or ";" in args):
        return True  # staff words, and parts split by ";" (a reseller's `pesan SKU 1; …`)
    if route is not None and route.handler in TAKE_A_CODE and args:
        # `cek INV-1001` is the command; `cek resi`, `bayar dimana?` are sentences.
        return len(args.split()) == 1 and bool(re.search(r"\d", args))
    return len(args.split()) <= 1


@dataclass(frozen=True)
class Understood:
    """What a free-text message asks: its intent, and the shop's answer it may be asking for."""

    intent: Intent
    faq: FaqTopic | None  # a topic of [shop.faq] the message names

    specific: bool = False  # it named the topic in more than one word ("cash on delivery")
    phrase: str = ""  # the words that named it

    @property
    def kind(self) -> str:
        """`faq` when the shop's answer is the answer, else the intent's kind.

        The shop's answer wins over small talk ("halo, bisa COD?", "cara bayar?" reads as
        help), and a topic named in several words wins over an order or stock question that
        names no order ("how much is shipping?" is not about an order's shipping).
        """
        if self.faq is None:
            return self.intent.kind
        if self.intent.kind in SMALL_TALK:
            return "faq"
        # A stock question whose product words are the topic's own ("ada toko offline?") asks
        # of none; "harga grosir kaos hitam XL" asks the price of a product.
        # "ada diskon?" asks of none even in one word; an order question needs the topic named
        # in several ("how much is shipping?", not "pesanan saya ongkir?").
        if self.intent.order_code is not None:
            return self.intent.kind
        query = set((self.intent.query or "").split())
        if self.intent.kind is IntentKind.STOCK and query <= set(self.phrase.split()):
            return "faq"
        if self.intent.kind is IntentKind.STOCK and self.faq.key in ASKED_WITH_A_PRODUCT:
            return "faq"  # "kaos polos bahannya apa?" asks what it is like, not if it is there
        asks_of_none = self.intent.kind is IntentKind.ORDER_STATUS
        return "faq" if self.specific and asks_of_none else self.intent.kind


def understand(text: str, faq: Sequence[FaqTopic]) -> Understood:
    """Read a message that is not a command (no database: the same text reads the same)."""
    intent = classify(text)
    found = match(faq, intent.words)
    if found is None:
        return Understood(intent, None)
    return Understood(intent, found.topic, specific=found.words > 1, phrase=found.phrase)


async def free_text(ctx: Context, text: str) -> Reply | list[Reply]:
    """Understand a message that is not a command."""
    understood = understand(text, ctx.settings.faq)
    intent, faq = understood.intent, understood.faq
    kind = intent.kind
    reseller = ctx.role is Role.RESELLER
    # "harga reseller berapa?" from a reseller asks their own price of what was shown (with
    # nothing shown: the shop's answer about reselling, or with none written, the list).
    priced = reseller and asks_the_price(intent) and _about_reselling(ctx, understood)
    if (
        priced
        and (shown := customer.shown(ctx))
        and (again := await customer.shown_again(ctx, shown))
    ):
        return again
    if asks_for_the_catalogue(intent) and (reseller or not _about_reselling(ctx, understood)):
        return await customer.catalogue(ctx)  # "ada produk apa aja?", "katalognya dong"
    if ctx.role in (Role.CUSTOMER, Role.UNKNOWN) and reorder.asks_to_order_again(text):
        return await reorder.order_again(ctx, text)  # "mau RO kak", "order lagi INV-1001"
    if ctx.role in (Role.CUSTOMER, Role.UNKNOWN) and reorder.will_order_again(text):
        return ctx.reply("greeting.next_order")  # "nanti saya order lagi ya kak"
    if kind is IntentKind.BUY and (form := read_sentence(text)) is not None:
        return await _order_form(ctx, form)  # "order tote 1 a.n Budi 0812… alamat Jl. …"
    if ctx.role is not Role.STAFF:
        if taken := ordering.the_shown_taken(ctx, text):  # "mau 2 ya kak" after "ada kaos?"
            if ctx.role is Role.RESELLER:
                return await ordering.reseller_order(ctx, taken)
            return await drafts.start(ctx, taken)
        if pick := await ordering.which_of_the_shown(ctx, text):  # "ambil 1" after two shirts
            return pick
        if kind is IntentKind.PERSON or support.asks_for_person(ctx, intent.words):
            return await support.hand_over(ctx, Reason.ASKED)
        if kind is IntentKind.BUY and (asked := await _buying_asks_the_shop(ctx, understood)):
            return asked  # "ada diskon kalau beli banyak?": no product, a shop question
        if kind is IntentKind.BUY and ctx.role is Role.RESELLER:
            return await ordering.reseller_asks_to_order(ctx, text)
        if kind is IntentKind.BUY:
            return await drafts.start(ctx, text)
        down_payment = Hint.PAYMENT in intent.hints and "dp" in intent.words
        if kind is IntentKind.PAID and down_payment and await payment.down_payment_known(ctx):
            # "dp sudah masuk ya kak" once the shop recorded it: the order, as it stands
            return await customer.asked_about(ctx, replace(intent, kind=IntentKind.ORDER_STATUS))
        unmoved = kind is IntentKind.PAID and Hint.UNMOVED in intent.hints
        if unmoved and not await payment.anything_to_pay(ctx):
            # "kok belum dikirim padahal sudah bayar", and the shop has the money: where it is
            return await customer.asked_about(ctx, replace(intent, kind=IntentKind.ORDER_STATUS))
        if kind is IntentKind.PAID:
            return await payment.payment_proof(ctx, claim=True) or ctx.reply("pay.nothing_waits")
        if asks_how_to_pay(ctx, understood):
            if not intent.order_code and match([LEFT], intent.words):
                return await payment.what_is_left(ctx)  # "pelunasannya berapa?"
            return await payment.how_to_pay(ctx, intent.order_code or "")
        if asks_for_the_invoice(intent):  # "minta invoicenya kak": /tagihan
            return await payment.invoice(ctx, intent.order_code or "")
        if _asks_what_is_unwritten(understood, ctx.settings.faq) and not (
            reseller and _about_reselling(ctx, understood)  # their prices: below
        ):
            return await support.hand_over(ctx, Reason.NO_ANSWER)  # understood, not answerable
        if subscribed := await _told_when_back(ctx, understood):  # "yes, let me know" to 🔔
            return subscribed
        if answer := await _narrowed(ctx, understood):  # "yang hitam?" after a stock list
            if ctx.chat.misses:
                ctx.chat.misses = 0
            return answer
        if asks_what_is_left(intent) and understood.kind != "faq":
            return await payment.what_is_left(ctx)  # "sisa berapa kak?", nothing shown
        if asks_the_price(intent) and understood.kind != "faq":
            return await customer.catalogue(ctx)  # "harganya berapa kak?", nothing shown
        unwritten = understood.kind != "faq"
        variants = variants_asked(intent) if kind is IntentKind.UNKNOWN and unwritten else None
        if variants is not None:
            # "warna apa aja?" with nothing shown before: which product, or the white ones
            intent = replace(intent, kind=IntentKind.STOCK, query=variants or None)
            kind = IntentKind.STOCK
        if kind is IntentKind.UNKNOWN and ctx.role is Role.UNKNOWN and customer.types_a_phone(text):
            return customer.typed_phone(ctx)  # "my number is 0813…": what does open orders
        if kind is IntentKind.UNKNOWN and unwritten:
            ctx.chat.misses += 1  # twice in a row, and a person takes over
            if ctx.chat.misses >= MISSES_BEFORE_HANDOVER:
                return await support.hand_over(ctx, Reason.NOT_UNDERSTOOD)
            return await common.not_understood(ctx, "")
        if ctx.chat.misses:
            ctx.chat.misses = 0
    elif intent.order_code is None and (take_back := await staff.undo_offered(ctx, text)):
        return take_back  # "eh salah, batalin" while /undo can still take it back
    elif intent.order_code is None and (typed := await payment.amount_typed(ctx, text)):
        return typed  # "150rb" after "/bayar INV-1 ?" asked how much
    elif intent.order_code is None and (low := staff.asks_what_runs_low(text)):
        return await staff.running_low_list(ctx, low)  # "stok menipis apa aja?"
    elif intent.order_code is None and staff.asks_who_has_not_paid(text):
        return await staff.unpaid(ctx)  # "yang belum bayar siapa aja?"
    elif intent.order_code is None and (period := sales.asked(text)):
        return await sales.report(ctx, period)  # "omzet bulan ini?"
    elif intent.order_code is None and (who := staff.customer_searched(text)):
        return await staff.find_orders(ctx, who)  # "cari pesanan ani", "0813-1111-2222"
    elif intent.order_code and (sent := await staff.photo_named(ctx, text, intent.order_code)):
        return sent  # a photo sent alone, then "INV-1002": that order's progress photo
    elif intent.order_code and (offer := await staff.move_offered(ctx, text, intent.order_code)):
        return offer  # "INV-1001 lunas", "INV-1002 mulai potong": the command, one tap away
    if understood.kind == "faq" and faq is not None:
        return common.faq_answer(ctx, faq)
    about_orders = kind in (IntentKind.ORDER_STATUS, IntentKind.MY_ORDERS) and not intent.order_code
    if ctx.role is Role.STAFF and about_orders and staff.asks_about_today(text):
        return await staff.orders_today(ctx)  # "berapa order hari ini?"
    if Hint.REQUEST in intent.hints and ctx.role is not Role.STAFF:
        return await support.hand_over(ctx, Reason.ASKED)  # "tolong dikirim besok ya"
    # Staff asking something of an order (a person's work, from anyone else) get its status.
    if kind is IntentKind.ORDER_STATUS or (kind is IntentKind.PERSON and intent.order_code):
        if ctx.role is Role.STAFF and asks_what_is_late(text):
            return await staff.queue(ctx, "telat")  # "yang telat apa aja?"
        return await customer.asked_about(ctx, intent)
    if kind is IntentKind.MY_ORDERS:
        if ctx.role is Role.RESELLER:
            return await customer.reseller_orders(ctx, "")
        if ctx.role is Role.STAFF:
            return await staff.queue(ctx, "telat" if asks_what_is_late(text) else "")
        return await customer.orders(ctx, "")
    if kind is IntentKind.STOCK:
        if ctx.role is Role.STAFF and (offered := await staff.stock_change_offered(ctx, text)):
            return offered  # "stok kaos hitam XL tambah 5": one tap does it
        query = intent.query or ""
        if not query:
            # "kapan ready?" right after an order's status: when that order's goods are
            just_told = await customer.the_order_just_told(ctx) if faq is None else None
            return faq_or(ctx, faq) or just_told or ctx.reply("stock.ask")
        told = asks_to_be_told(intent.words) and ctx.role is not Role.STAFF
        answer = await customer.stock_answer(ctx, query, tell_when_back=told)
        found_none = answer is None and faq is None and ctx.role is not Role.STAFF
        if found_none and unanswered(ctx.settings.faq, intent.words):
            return await support.hand_over(ctx, Reason.NO_ANSWER)  # "is COD available?"
        return answer or faq_or(ctx, faq) or customer.none_found(ctx, query)
    if kind in (IntentKind.GREETING, IntentKind.MENU):
        return await common.greet(ctx, "")
    if kind is IntentKind.HELP:
        return await help_(ctx, "")
    if kind is IntentKind.THANKS:
        if Hint.AWAITS in intent.hints:
            return ctx.reply("greeting.awaits")  # "oke ditunggu ya kak"
        if Hint.OK in intent.hints:
            return ctx.reply("greeting.ok")  # "oke kak": no thanks to answer
        return await common.thanks(ctx, "", praised=Hint.PRAISE in intent.hints)
    if kind is IntentKind.STOP and ctx.role is not Role.STAFF:
        return await common.stop(ctx, "")
    if kind is IntentKind.RESUME and ctx.role is not Role.STAFF:
        return await common.resume(ctx, "")
    return await common.not_understood(ctx, "")


def _about_reselling(ctx: Context, understood: Understood) -> bool:
    """Whether a message asks about reselling ("list harga reseller?", "cara jadi reseller?"),
    answered or not: from anyone but a reseller, the shop's answer about it, not the
    catalogue, is what they want."""
    asked = understood.faq or (
        found.topic if (found := unanswered(ctx.settings.faq, understood.intent.words)) else None
    )
    return asked is not None and asked.key == "reseller"


async def _told_when_back(ctx: Context, understood: Understood) -> Reply | None:
    """A back-in-stock alert asked for the one product just shown, naming none ("yes please
    let me know when it's back", "iya mau dikabari"); None for any other message."""
    intent = understood.intent
    if intent.query or not asks_to_be_told(intent.words):
        return None
    shown = customer.shown(ctx)
    return await customer.notify(ctx, shown[0]) if len(shown) == 1 else None


async def _narrowed(ctx: Context, understood: Understood) -> Reply | None:
    """The answer to a follow-up of the stock answer the chat was just shown ("yang hitam
    ukuran apa aja?", "ada XL?"); None if it is no follow-up, or nothing shown fits it (then
    it is read as it stands)."""
    shown = customer.shown(ctx)
    if not shown or understood.kind == "faq":
        return None
    if asks_the_price(understood.intent):  # "harganya berapa?": the lines say it
        return await customer.shown_again(ctx, shown)
    if asks_how_long_to_make(understood.intent):  # "berapa lama pembuatannya?": so do they
        return await customer.shown_again(ctx, shown)
    query = narrowing(understood.intent)
    return await customer.follow_up(ctx, query, shown) if query is not None else None


MISSES_BEFORE_HANDOVER = 2  # messages in a row the bot cannot understand
PAYING = topic("payment", {Language.ID: ""})  # the ways people ask how to pay
LEFT = topic("left_to_pay", {Language.ID: ""}, LEFT_TO_PAY)  # … what is left to pay


def asks_how_to_pay(ctx: Context, understood: Understood) -> bool:
    """A question about paying, answered with the amount due and the shop's accounts (when the
    shop lists accounts; else its own payment answer, if it wrote one, answers)."""
    if understood.intent.kind not in (*SMALL_TALK, IntentKind.ORDER_STATUS, IntentKind.STOCK):
        return False
    if Hint.PAYMENT in understood.intent.hints:
        return False  # "has my payment been received?" asks after the money sent
    if match([PAYING], understood.intent.words) is None:
        return False
    if understood.faq is not None and understood.faq.key != "payment":
        return False  # "bisa bayar di tempat?" asks about COD, a topic of its own
    return bool(ctx.settings.payment.accounts) or not (
        understood.faq is not None and understood.faq.key == "payment"
    )


# A shop question wins over these: "halo, bisa COD?", "cara bayar?" (which reads as help).
SMALL_TALK = frozenset(
    {IntentKind.UNKNOWN, IntentKind.HELP, IntentKind.MENU, IntentKind.GREETING, IntentKind.THANKS}
)


async def _buying_asks_the_shop(ctx: Context, understood: Understood) -> Reply | None:
    """A shop question with buying in it that names nothing the shop sells ("kalau beli 2
    ongkirnya berapa?", "beli banyak ada diskon?"): the shop's answer, or a person where the
    shop wrote none. None when it is a wish to buy after all."""
    faq = understood.faq
    if faq is None and unanswered(ctx.settings.faq, understood.intent.words) is None:
        return None
    hypothetical = buys_if(understood.intent)  # "kalau beli 3 kaos hitam ada diskon?"
    if not hypothetical and await draft_lines.sold(ctx, understood.intent.query or ""):
        return None  # "mau beli kaos hitam, ada diskon?" starts the order
    if faq is not None:
        return common.faq_answer(ctx, faq)
    return await support.hand_over(ctx, Reason.NO_ANSWER)


def _asks_what_is_unwritten(understood: Understood, faq: Sequence[FaqTopic]) -> bool:
    """Whether the message is a shop question the seller wrote no answer to, read as it
    would be if they had ("how much is shipping?" asks the shop, not an order)."""
    missing = unanswered(faq, understood.intent.words)
    if missing is None or understood.faq is not None:
        return False
    named = replace(
        understood, faq=missing.topic, specific=missing.words > 1, phrase=missing.phrase
    )
    return named.kind == "faq"


def faq_or(ctx: Context, faq: FaqTopic | None) -> Reply | None:
    """The shop's answer to a stock question that named no product, if it asks one."""
    return common.faq_answer(ctx, faq) if faq is not None else None


def _as_list(result: Reply | list[Reply]) -> list[Reply]:
    return result if isinstance(result, list) else [result]
