"""Staff commands: move orders (one or several at once), ship, cancel, undo, stock, queue."""

from __future__ import annotations

import difflib
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, timedelta
from types import MappingProxyType

from handlers.context import Context
from handlers.forms import BETWEEN_PRODUCTS
from handlers.i18n import when
from handlers.intents import asks_what_is_late, order_codes, product_words
from handlers.money import typed_sum
from handlers.types import Choice, Reply
from handlers.views import LOW_STOCK, payment_state, phase_label, stock_line
from models.change import Actor, Change
from models.enums import Phase
from models.errors import DomainError, InvalidTransition, NotFound, StockError
from models.flows import FLOWS, Position
from models.inventory import product_exists, running_low, set_stock
from models.lifecycle import (
    advance,
    cancel,
    hold,
    load_many_for_change,
    resume,
    tell_progress,
)
from models.lifecycle import ship as ship_order
from models.linking import codes_stored, order_history
from models.messages import photo_just_before
from models.orders import Order, clean_code
from models.queue import (
    awaiting_payment,
    due_by,
    orders_of_customers,
    placed_since,
    work_queue,
)
from models.search import find_products
from models.undo import undo_last_command, undoable
from models.updates import Batch

# Phase words a seller may use with /tahap, English and Indonesian.
PHASE_WORDS = {
    "placed": Phase.PLACED,
    "dipesan": Phase.PLACED,
    "paid": Phase.PAID,
    "dibayar": Phase.PAID,
    "bayar": Phase.PAID,
    "packed": Phase.PACKED,
    "dikemas": Phase.PACKED,
    "kemas": Phase.PACKED,
    "ready": Phase.READY,
    "siap": Phase.READY,
    "shipped": Phase.SHIPPED,
    "dikirim": Phase.SHIPPED,
    "kirim": Phase.SHIPPED,
    "delivered": Phase.DELIVERED,
    "diterima": Phase.DELIVERED,
    "terima": Phase.DELIVERED,
}
HOLD_WORDS = {"hold", "tahan", "ditahan", "tunda", "ditunda"}
RESUME_WORDS = {"resume", "lanjut", "lanjutkan"}
NEXT_WORDS = {"next", "berikutnya", "selanjutnya"}  # each order to its own next stage
# Couriers by the names people type, to the name customers see.
COURIERS = {
    "jne": "JNE",
    "j&t": "J&T",
    "jnt": "J&T",
    "jt": "J&T",
    "j&t express": "J&T",
    "sicepat": "SiCepat",
    "si cepat": "SiCepat",
    "anteraja": "AnterAja",
    "anter aja": "AnterAja",
    "pos": "POS Indonesia",
    "pos indonesia": "POS Indonesia",
    "posindo": "POS Indonesia",
    "ninja": "Ninja Xpress",
    "ninja xpress": "Ninja Xpress",
    "ninja express": "Ninja Xpress",
    "id express": "ID Express",
    "idexpress": "ID Express",
    "idx": "ID Express",
    "lion": "Lion Parcel",
    "lion parcel": "Lion Parcel",
    "gosend": "GoSend",
    "go-send": "GoSend",
    "go send": "GoSend",
    "grab": "GrabExpress",
    "grabexpress": "GrabExpress",
    "grab express": "GrabExpress",
    "jnt cargo": "JNT Cargo",
    "j&t cargo": "JNT Cargo",
    "sap": "SAP Express",
    "sap express": "SAP Express",
    "wahana": "Wahana",
    "tiki": "TIKI",
}
RESI = re.compile(r"[A-Za-z0-9-]{4,40}")
# Staff notes are the shop's own; what follows this marker is told to the customer.
FOR_CUSTOMER = re.compile(
    r"(?:^|\s)(?:--|—|–)\s*(?:ke-?pelanggan|pelanggan|to-?customer|customer)\b:?\s*", re.I
)
CODES = re.compile(r"^\s*([^\s,]+(?:\s*,\s*[^\s,]+)*)\s*(.*)$", re.S)
MAX_CODES = 1000  # one message moves at most this many orders

Move = Callable[[Order, Change], Awaitable[object]]  # what a command does to each order


# Words staff write around the courier and the resi: "pakai jne resi JN123", "via J&T no. …".
COURIER_NOISE = frozenset(
    {
        *("pakai", "pake", "via", "lewat", "dengan", "dgn", "kurir", "courier", "ekspedisi"),
        *("resi", "no", "no.", "nomor", "nomer", "awb", "tracking", "number", "sudah", "udah"),
        "dikirim",
    }
)


def normalize_courier(name: str) -> str:
    """The courier's proper name (`jnt` → `J&T`); unknown couriers as typed; "" when none
    is named. The words staff write around it ("pakai jne resi") are no part of it."""
    typed = " ".join(word for word in name.split() if word.lower() not in COURIER_NOISE)
    return COURIERS.get(typed.lower(), typed)


def split_note(text: str) -> tuple[str | None, str | None]:
    """Split `catatan --ke-pelanggan pesan` into the shop's note and the customer's."""
    found = FOR_CUSTOMER.search(text)
    if found is None:
        return text.strip() or None, None
    own, told = text[: found.start()].strip(), text[found.end() :].strip()
    return own or None, told or None


def split_codes(args: str) -> tuple[list[str], str]:
    """Split `INV-1, INV-2 rest` into the codes and the rest."""
    match = CODES.match(args)
    if match is None:
        return [], ""
    codes = [c.strip() for c in match[1].split(",") if c.strip()]
    return codes, match[2].strip()


async def each_order(
    ctx: Context,
    codes: list[str],
    move: Move,
    done_key: str,
    *,
    choices: tuple[Choice, ...] = (),
    values: Mapping[str, object] = MappingProxyType({}),
    worded: Callable[[Order], Mapping[str, object]] | None = None,
) -> Reply:
    """Apply one move to every order, as one command; a line per order (`done_key`, worded
    with the order's code and phase, `values`, and what `worded` says of the moved order).

    A refused order leaves nothing behind without a savepoint of its own: the domain checks a
    move before it writes anything. The changes are written together at the end, so a
    thousand orders cost a few statements, not a few thousand.
    """
    if not codes:
        return ctx.reply("staff.need_code")
    if len(codes) > MAX_CODES:
        return ctx.reply("staff.too_many", limit=MAX_CODES)
    # Customers hear after the undo window; /undo takes back the whole command.
    batch = Batch(ctx.session)
    change = Change(
        Actor.staff(ctx.staff_id),
        ctx.now,
        delay=ctx.settings.undo_window,
        command=uuid.uuid4().hex,
        batch=batch,
        policy=ctx.settings.payment.policy,  # packing and shipping wait for payment
    )
    found = await load_many_for_change(ctx.session, codes)
    lines: list[str] = []
    moved = 0
    for code in dict.fromkeys(codes):
        order = found.get(clean_code(code) or "")
        if order is None:
            lines.append("❌ " + ctx.t("staff.not_found", code=code[:64]))
            continue
        try:
            await move(order, change)
        except InvalidTransition as exc:
            lines.append("❌ " + refusal(ctx, exc))
            continue
        except DomainError as exc:
            lines.append(f"❌ {code[:64]}: {exc}")
            continue
        said = {**values, **worded(order)} if worded is not None else values
        done = ctx.t(done_key, code=order.code, phase=phase_label(ctx, order), **said)
        lines.append("✅ " + done)
        moved += 1
    await batch.write()
    if moved and ctx.settings.undo_seconds:
        lines.append(ctx.t("staff.undo_hint", seconds=ctx.settings.undo_seconds))
    return Reply("\n".join(lines), choices=choices)


def refusal(ctx: Context, exc: InvalidTransition) -> str:
    """Word a refused move in the staff member's language."""
    known = ctx.messages.keys(ctx.lang)

    def word(name: str) -> str:
        name = name.split(" ")[0]
        return ctx.phase(name) if f"phase.{name}" in known else name

    return ctx.t(
        f"refuse.{exc.rule}", code=exc.order_code, phase=word(exc.phase), target=word(exc.target)
    )


async def stage(ctx: Context, args: str) -> Reply:
    """Move orders to a phase or production stage: `/tahap INV-1,INV-2 jahit [catatan]`.

    A photo captioned with the codes alone is news from inside the current stage.
    """
    codes, rest = split_codes(args)
    word, _, rest_note = rest.partition(" ")
    word = word.lower()
    note, told = split_note(rest_note)
    photo = await _photo(ctx, codes)
    if codes and not word and photo:
        return await progress(ctx, args)
    if not codes or not word:
        return ctx.reply("stage.usage")
    side_exit = hold if word in HOLD_WORDS else resume if word in RESUME_WORDS else None
    guesses: dict[str, list[str]] = {}  # a likely stage word -> the codes it was meant for

    async def move(order: Order, change: Change) -> object:
        if side_exit is not None:
            return await side_exit(ctx.session, order, change, note=note, customer_note=told)
        target = _next(ctx, order) if word in NEXT_WORDS else _target(order, word)
        if target is None and word in NEXT_WORDS:
            ahead = ", ".join(_words_ahead(ctx, order)) or "-"
            raise DomainError(ctx.t("stage.no_next", ahead=ahead))
        if target is None:
            guess = _closest(order, word)
            if guess is not None:
                guesses.setdefault(guess, []).append(order.code)
                raise DomainError(ctx.t("stage.did_you_mean", word=word[:40], guess=guess))
            ahead = ", ".join(_words_ahead(ctx, order)) or "-"
            raise DomainError(ctx.t("stage.unknown", word=word[:40], ahead=ahead))
        return await advance(
            ctx.session, order, target, change, note=note, customer_note=told, photo=photo
        )

    reply = await each_order(ctx, codes, move, "stage.done")
    tail = f" {rest_note.strip()}" if rest_note.strip() else ""
    choices = tuple(
        Choice(guess, f"/tahap {','.join(found)} {guess}{tail}") for guess, found in guesses.items()
    )
    return replace(reply, choices=choices) if choices else reply


def _target(order: Order, word: str) -> Position | None:
    """A phase word, or the name of one of this order's production stages."""
    for index, planned in enumerate(order.plan):
        if planned.name == word:
            return Position(Phase.IN_PRODUCTION, index)
    phase = PHASE_WORDS.get(word)
    return Position(phase) if phase else None


def _next(ctx: Context, order: Order) -> Position | None:
    """Where `/tahap KODE next` takes an order: its next production stage, or the phase after
    it; never paid (money is recorded with /bayar) nor shipped (that needs a resi: /kirim)."""
    word = _next_word(ctx, order)
    return _target(order, word) if word is not None else None


def _after(ctx: Context, order: Order, finished: str | None) -> str | None:
    """The step after a finished stage (the order's own, unless another is named)."""
    stages = [planned.name for planned in order.plan]
    if finished not in stages:
        return _next_word(ctx, order)
    following = stages.index(finished) + 1
    return stages[following] if following < len(stages) else ctx.phase("ready").split()[0]


def _next_word(ctx: Context, order: Order) -> str | None:
    """The stage or phase word of `_next`, as staff write it."""
    for word in _words_ahead(ctx, order):
        target = _target(order, word)
        if target is not None and target.phase is not Phase.PAID:
            return word if target.phase is not Phase.SHIPPED else None
    return None


def _words_ahead(ctx: Context, order: Order) -> list[str]:
    """What `/tahap` takes for this order from here, in its flow's order: later phases in the
    staff member's words and the production stages still to come."""
    stages = [planned.name for planned in order.plan]
    flow = FLOWS[order.fulfillment]
    ahead: list[str] = []
    if order.phase is Phase.IN_PRODUCTION and order.stage_index is not None:
        ahead += stages[order.stage_index + 1 :]
    for phase in flow[flow.index(order.phase) + 1 :] if order.phase in flow else ():
        if phase is Phase.IN_PRODUCTION:
            ahead += stages
        elif PHASE_WORDS.get(word := ctx.phase(phase.value).split()[0]) is phase:
            ahead.append(word)  # "siap kirim": /tahap … siap
    return ahead


def _closest(order: Order, word: str) -> str | None:
    """The stage or phase word a mistyped one most likely means ("jait" → "jahit")."""
    known = [planned.name for planned in order.plan] + list(PHASE_WORDS)
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.7)
    return close[0] if close else None


async def progress(ctx: Context, args: str) -> Reply:
    """Tell customers of progress inside the stage: `/foto INV-7 [catatan]` with a photo."""
    codes, rest = split_codes(args)
    note, told = split_note(rest)
    if told is None:  # a progress note is written for the customer
        note, told = None, note
    photo = await _photo(ctx, codes)
    if not codes or not (photo or told):
        return ctx.reply("progress.usage")

    async def move(order: Order, change: Change) -> object:
        return await tell_progress(
            ctx.session, order, change, note=note, customer_note=told, photo=photo
        )

    return await each_order(ctx, codes, move, "progress.done")


PHOTO_WAITS = timedelta(minutes=10)  # a photo sent without words, for the command after it
# Words around an order code that answer "which order is the photo for?" and say no more.
_FOR_THE_PHOTO = frozenset({"ya", "itu", "ini", "untuk", "buat", "for", "kak", "foto", "fotonya"})


async def photo_named(ctx: Context, text: str, code: str) -> Reply | None:
    """An order code typed alone right after a photo sent without words (asked which order
    it is for): the photo goes to that order's customers, as `/foto KODE` would send it.
    None for anything else."""
    words = text.lower().replace(",", " ").split()
    if any(clean_code(w) != code and w.strip(".!:") not in _FOR_THE_PHOTO for w in words):
        return None
    if await _photo(ctx) is None:
        return None
    return await progress(ctx, code)


async def _photo(ctx: Context, codes: Sequence[str] = ()) -> str | None:
    """The photo a staff command sends to customers: its own, or one sent alone just before
    it in a private chat (WhatsApp has no captions on every app; a group's photos are talk),
    or before the words about its one order that offered it ("INV-7 jahit", then the tap)."""
    if ctx.incoming.photo or ctx.incoming.group:
        return ctx.incoming.photo
    named = codes[0] if len(codes) == 1 else ""
    return await photo_just_before(ctx.session, ctx.chat.id, ctx.now - PHOTO_WAITS, named=named)


async def _move_to(ctx: Context, args: str, phase: Phase, done_key: str) -> Reply:
    codes, rest = split_codes(args)
    note, told = split_note(rest)

    async def move(order: Order, change: Change) -> object:
        return await advance(
            ctx.session, order, Position(phase), change, note=note, customer_note=told
        )

    return await each_order(ctx, codes, move, done_key)


async def paid(ctx: Context, args: str) -> Reply:
    """Record payment: `/bayar INV-1[,INV-2…]`."""
    return await _move_to(ctx, args, Phase.PAID, "paid.done")


async def delivered(ctx: Context, args: str) -> Reply:
    """Record delivery: `/terima INV-1[,INV-2…]`."""
    return await _move_to(ctx, args, Phase.DELIVERED, "delivered.done")


async def ship(ctx: Context, args: str) -> Reply:
    """Ship one order with courier and tracking number: `/kirim INV-1 JNE JN123456`."""
    parts = args.split()
    if len(parts) < 3:
        return ctx.reply("ship.usage")
    code, courier, resi = parts[0], normalize_courier(" ".join(parts[1:-1])), parts[-1]
    if not courier:
        return ctx.reply("ship.usage")  # "/kirim INV-1 resi JN123": which courier?
    if "," in code:
        return ctx.reply("ship.one_order")
    if not RESI.fullmatch(resi):
        return ctx.reply("ship.bad_resi", resi=resi[:40])

    async def move(order: Order, change: Change) -> object:
        return await ship_order(
            ctx.session, order, change, courier=courier, tracking_number=resi.upper()
        )

    return await each_order(
        ctx, [code], move, "ship.done", values={"courier": courier, "resi": resi.upper()}
    )


async def cancel_orders(ctx: Context, args: str) -> Reply:
    """Cancel orders with a reason: `/batal INV-1[,INV-2…] alasan [--ke-pelanggan pesan]`.

    The reason stays with the shop; only what follows `--ke-pelanggan` is told.
    """
    codes, rest = split_codes(args)
    reason, told = split_note(rest)
    if not codes or not (reason or told):
        return ctx.reply("cancel.usage")

    paid: list[Order] = []

    async def move(order: Order, change: Change) -> object:
        event = await cancel(ctx.session, order, change, reason=reason or told, customer_note=told)
        if order.paid_amount > 0:
            paid.append(order)
        return event

    done = await each_order(ctx, codes, move, "cancel.done")
    # The shop holds money for an order it will not send: say how to give it back.
    hints = [ctx.t("cancel.money_held", code=o.code, amount=ctx.money(o.paid_amount)) for o in paid]
    return replace(done, text="\n".join([done.text, *hints])) if hints else done


async def undo(ctx: Context, args: str) -> Reply:
    """Take back my last command while customers have not been told."""
    named, reason = split_codes(args)
    if named and clean_code(named[0]) and any(ch.isdigit() for ch in named[0]):
        # "batalkan INV-1003 stok habis" cancels an order: undo nothing, offer the /batal.
        if not reason.strip():
            return ctx.reply("cancel.usage")
        command = f"/batal {args.strip()}"
        return ctx.reply("cancel.usage", choices=(Choice(command, command),))
    result = await undo_last_command(
        ctx.session, ctx.staff_id, window=ctx.settings.undo_window, now=ctx.now
    )
    if result is None:
        return ctx.reply("undo.nothing", seconds=ctx.settings.undo_seconds)
    lines = [ctx.t("undo.done", code=code) for code in result.reverted]
    lines += [ctx.t(f"undo.refused.{rule}", code=code) for code, rule in result.refused]
    return Reply("\n".join(lines))


# "eh salah, batalin", "oops wrong one": staff taking back what they just did, in words.
_TAKE_BACK = frozenset({"batalin", "batalkan", "undo", "balikin", "kembalikan", "urungkan"})
_MISTAKE = frozenset({"salah", "keliru", "typo", "kepencet", "oops", "wrong", "mistake"})


async def undo_offered(ctx: Context, text: str) -> Reply | None:
    """The /undo one tap away, naming what it would take back, when staff write that their
    last command was a mistake while it can still be undone; None otherwise."""
    said = {w.strip(".,:;!?") for w in text.lower().split()}
    if not (_TAKE_BACK | _MISTAKE) & said:
        return None
    window = ctx.settings.undo_window
    events = await undoable(ctx.session, ctx.staff_id, window=window, now=ctx.now)
    if not events:
        return None
    codes = ", ".join(dict.fromkeys(code for _, code in reversed(events)))
    return ctx.reply("undo.offer", codes=codes, choices=(Choice(ctx.t("undo.button"), "/undo"),))


# What staff write of an order in passing: "INV-1001 lunas", "INV-1002 mulai potong",
# "INV-1002 jahit sudah selesai", "INV-1001 sudah sampai".
_PAID_WORDS = frozenset({"lunas", "bayar", "dibayar", "transfer", "tf", "paid"})
_DOWN_PAYMENT = frozenset({"dp", "panjar", "deposit"})  # one word each, as `said` splits
# What is added to or taken off the bill, by the command that sets it.
_FEE_WORDS = {"ongkir": "ongkir", "ongkos": "ongkir", "shipping": "ongkir", "diskon": "diskon"}
_FEE_WORDS |= {"potongan": "diskon", "discount": "diskon"}
_ARRIVED_WORDS = frozenset({"sampai", "diterima", "delivered", "arrived"})
_DONE_WORDS = frozenset({"selesai", "beres", "kelar", "done", "finished"})
_SHIP_WORDS = frozenset({"resi", "awb", "kirim", "dikirim", "terkirim", "shipped", "sent"})
_CANCEL_WORDS = frozenset({"batal", "batalkan", "dibatalkan", "cancel", "cancelled", "canceled"})
_ASKS = frozenset(
    {"?", "mana", "kapan", "apa", "apakah", "gimana", "bagaimana", "belum", "berapa", "kah"}
    | {"where", "when", "what", "how", "is", "has"}
)


def _shipping_in(text: str, order: Order, codes: Sequence[str] = ()) -> str | None:
    """The courier and resi a staff message gives an order ("INV-1001 dikirim JNE
    JP1234567890", "resi INV-1001 salah, harusnya JP9876543210"): the order's own courier when
    none is named; None when it gives no resi."""
    tokens = text.replace(",", " ").split()
    if not _SHIP_WORDS.intersection(t.lower() for t in tokens):
        return None
    resi = next(
        (
            t
            for t in tokens
            if RESI.fullmatch(t) and len(t) >= 8 and any(c.isdigit() for c in t)
            and clean_code(t) not in (order.code, *codes) and t.lower() not in COURIERS
        ),
        None,
    )  # fmt: skip
    named = next((COURIERS[t.lower()] for t in tokens if t.lower() in COURIERS), None)
    courier = named or order.courier
    return f"{courier} {resi.upper()}" if resi and courier else None


async def move_offered(ctx: Context, text: str, code: str) -> Reply | None:
    """The command a staff message about an order means, one tap away (nothing moves until
    tapped); None when it names no move. Finished stages move on to the next one."""
    said = text.lower().replace(",", " ").replace("?", " ? ").split()
    if _ASKS.intersection(said):
        return None  # "INV-1001 sudah sampai mana?" asks where it is
    history = await order_history(ctx.session, code, seen_by=None)  # staff see every order
    if history is None:
        return None
    order = history.order
    # "INV-1001, INV-1002 lunas": each named, where the command takes several
    named_too = [c for c in order_codes(text) if c != code]  # a resi reads as a code too
    codes = [order.code, *(await codes_stored(ctx.session, named_too) if named_too else [])]
    codes = list(dict.fromkeys(codes))
    named = next((w for w in said if _target(order, w)), None)
    if shipped := _shipping_in(text, order, codes):
        command = f"/kirim {order.code} {shipped}"
    elif _CANCEL_WORDS.intersection(w.strip(".:;!") for w in said):  # "INV-3 batal, stok habis"
        words = text.replace(",", " ").split()
        why = [
            w
            for w in words
            if w.lower().strip(".:;!") not in _CANCEL_WORDS and clean_code(w) not in codes
        ]
        while len(codes) > 1 and why and BETWEEN_PRODUCTS.fullmatch(why[0]):
            why.pop(0)  # "INV-1 dan INV-2 batal": the "dan" joined the codes
        if not why:
            return ctx.reply("cancel.usage")
        command = f"/batal {order.code} {' '.join(why)}"
    elif (fee := next((_FEE_WORDS[w] for w in said if w in _FEE_WORDS), None)) and (
        amount := _amount_in(text, order.code)
    ):
        command = f"/{fee} {order.code} {amount}"  # "INV-1002 ongkir 15rb"
    elif _PAID_WORDS.intersection(said) or _DOWN_PAYMENT.intersection(said):
        command = f"/bayar {order.code}"  # all of it, unless an amount or a DP is said
        if (amount := _amount_in(text, order.code)) is not None:
            command += f" {amount}"  # "INV-1002 baru dp 100rb"
        elif _DOWN_PAYMENT.intersection(said):
            command += " ?"  # a down payment, and how much is asked
    elif _ARRIVED_WORDS.intersection(said):
        command = f"/terima {order.code}"
    elif HOLD_WORDS.intersection(said) and named is None:  # "INV-1003 tunda dulu"
        command = f"/tahap {order.code} tahan"
    elif RESUME_WORDS.intersection(said) and named is None and order.phase is Phase.ON_HOLD:
        command = f"/tahap {order.code} lanjut"
    elif _DONE_WORDS.intersection(said) and order.phase is Phase.IN_PRODUCTION:
        following = _after(ctx, order, named)  # "jahit sudah selesai": on to what follows
        command = f"/tahap {order.code} {following}" if following else ""
    else:
        command = f"/tahap {order.code} {named}" if named else ""
    if not command:
        return None
    verb, *rest = command.split()
    if len(codes) > 1 and verb == "/kirim":  # one parcel for several: /kirim takes one order
        commands = [" ".join([verb, each, *rest[1:]]) for each in codes]
    elif len(codes) > 1 and verb in _FOR_SEVERAL and not (verb == "/bayar" and rest[1:]):
        commands = [" ".join([verb, ",".join(codes), *rest[1:]])]  # a sum is one order's
    else:
        commands = []
    if commands:
        return Reply(
            ctx.t("staff.move_offered_several", codes=", ".join(codes)),
            choices=tuple(Choice(c, c) for c in commands),
        )
    where = phase_label(ctx, order)
    return Reply(
        ctx.t("staff.move_offered", code=order.code, phase=where),
        choices=(Choice(command, command),),
    )


_FOR_SEVERAL = frozenset({"/tahap", "/bayar", "/terima", "/batal"})  # comma-separated codes


def _amount_in(text: str, code: str) -> int | None:
    """The sum a staff message names, in rupiah ("100rb", "Rp150.000", "1,5 jt"); None
    when it names none. A number under a thousand is no sum of money."""
    words = [w.strip("!:;") for w in text.split() if clean_code(w) != code]
    for i, word in enumerate(words):
        for typed in (f"{word} {words[i + 1]}" if i + 1 < len(words) else "", word):
            if typed and (amount := typed_sum(typed)) is not None:
                return amount
    return None


# A stock change written in words: "stok kaos hitam XL tambah 5", "… jadi 20", "… -2",
# "kaos hitam XL sisa 3" (what is left), "restock tote 20" (what came in).
STOCK_CHANGE = re.compile(
    r"\b(tambah(?:kan|in)?|add|plus|kurang(?:i|in)?|minus|jadi(?:kan)?|menjadi|set|sisa(?:nya)?"
    r"|tinggal|restock|restok|masuk|datang)\s*(\d{1,6})\b"
    r"|(?<![\w+-])([+-])\s*(\d{1,6})\b",
    re.I,
)
# None left: "stok kaos hitam L habis", "tote kosong".
_EMPTY = re.compile(r"\b(?:habis|kosong|sold\s*out|out\s+of\s+stock)\b", re.I)
# The change first, then the product, then how many: "tambah stok tote 10", "restock tote 20".
_VERB_FIRST = re.compile(
    r"^\s*(?P<verb>tambah(?:kan|in)?|add|kurang(?:i|in)?|restock|restok)\s+(?:(?:stok|stock)\s+)?"
    r"(?P<what>.+?)\s+"
    r"(?P<count>\d{1,6})(?:\s*(?:pcs|biji|buah))?[\s.!]*$",
    re.I,
)
_ADDING = ("tambah", "add", "plus", "+", "restock", "restok", "masuk", "datang")
_TAKING = ("kurang", "minus", "-")


async def stock_change_offered(ctx: Context, text: str) -> Reply | None:
    """Staff writing a stock change in words ("stok kaos hitam XL tambah 5"): the product's
    stock, with the change one tap away as `/stokset`; None when the words name no change or
    no product. Words never change stock by themselves."""
    if first := _VERB_FIRST.match(text):  # "tambah stok tote 10"
        word, count = first["verb"].lower(), first["count"]
        named = first["what"]
    elif found := STOCK_CHANGE.search(text):
        word, count = (found[1] or found[3]).lower(), found[2] or found[4]
        named = f"{text[: found.start()]} {text[found.end() :]}"
    elif (empty := _EMPTY.search(text)) and "?" not in text:  # "habis?" asks
        word, count = "set", "0"
        named = f"{text[: empty.start()]} {text[empty.end() :]}"
    else:
        return None
    if word.startswith(_ADDING):
        change, key = f"+{count}", "setstock.offer_add"
    elif word.startswith(_TAKING):
        change, key = f"-{count}", "setstock.offer_take"
    else:
        change, key = count, "setstock.offer_set"
    query = product_words(named)
    products = (await find_products(ctx.session, query or "", cache=ctx.catalog)).products
    if len(products) == 1:
        product = products[0]
        offer = Choice(ctx.t(key, count=count), f"/stokset {product.sku} {change}")
        return Reply(stock_line(ctx, product), choices=(offer,))
    if not products:
        return None
    choices = tuple(Choice(p.label, f"/stokset {p.sku} {change}") for p in products)
    return Reply(ctx.t("setstock.which"), choices=choices)


async def set_stock_cmd(ctx: Context, args: str) -> Reply:
    """Set stock (`/stokset SKU 12`) or add to it (`/stokset SKU +5`); a product name that
    matches one product does as well as its SKU (`/stokset kaos putih L +5`)."""
    what, _, amount = args.strip().rpartition(" ")
    what = what.strip()
    if not what or not re.fullmatch(r"[+-]?\d{1,7}", amount):
        return ctx.reply("setstock.usage")
    sku = clean_code(what) if " " not in what else None
    if sku is None or not await product_exists(ctx.session, sku):
        found = await find_products(ctx.session, what, limit=5, cache=ctx.catalog)
        if len(found.products) != 1:
            if not found.products:
                return ctx.reply("stock.none", query=what[:64])
            return Reply(
                ctx.t("setstock.which"),
                choices=tuple(
                    Choice(p.label, f"/stokset {p.sku} {amount}") for p in found.products
                ),
            )
        sku = found.products[0].sku
    try:
        async with ctx.session.begin_nested():
            change = await set_stock(
                ctx.session, sku, int(amount), add=amount[0] in "+-", now=ctx.now
            )
    except NotFound:
        return ctx.reply("stock.none", query=what[:64])
    except StockError as exc:
        return Reply(f"❌ {exc}")
    lines = [
        ctx.t(
            "setstock.done",
            sku=change.product.sku,
            before=change.before,
            after=change.product.on_hand,
            available=change.product.available,
        )
    ]
    if change.filled:
        codes = ", ".join(o.code for o in change.filled)
        lines.append(ctx.t("setstock.filled", count=len(change.filled), codes=codes))
    if change.subscribers_told:
        lines.append(ctx.t("setstock.subscribers", count=change.subscribers_told))
    return Reply("\n".join(lines))


LATE_WORDS = {"telat", "terlambat", "late"}
QUEUE_PHASE_WORDS = {
    **PHASE_WORDS,
    "menunggu": Phase.AWAITING_STOCK,
    "awaiting": Phase.AWAITING_STOCK,
    "stok": Phase.AWAITING_STOCK,
    "produksi": Phase.IN_PRODUCTION,
    "diproduksi": Phase.IN_PRODUCTION,
    "production": Phase.IN_PRODUCTION,
    **dict.fromkeys(HOLD_WORDS, Phase.ON_HOLD),
}
QUEUE_CODES = 10  # codes named per line; the count says how many more


FOUND_LIMIT = 10  # orders a search by customer shows

# How staff ask for a customer's orders in words: "cari pesanan ani", "orderan atas nama
# Budi", "cari 0813-1111-2222", or a phone number alone (a customer just called).
_SEARCH_WORDS = r"(?:cari|carikan|search|find|lihat|cek)"
_ORDER_WORDS = r"(?:pesanan|pesanannya|orderan|orderannya|order|orders)"
_NAMED = re.compile(r"(?:\batas nama|\ba\.n\.?|\ba/n|\ban\.)\s*(?P<who>\S.*)", re.IGNORECASE)
_SEARCHED = re.compile(
    rf"^(?P<search>{_SEARCH_WORDS}\s+)?(?P<orders>{_ORDER_WORDS}\s+)?(?P<who>.+)$", re.IGNORECASE
)
_PHONE = re.compile(r"(?:(?:no|nomor|nomer|hp|wa)\.?\s+)*(?P<number>\+?[0-9][0-9 .()-]{7,}[0-9])")


def customer_searched(text: str) -> str | None:
    """The name or phone number a staff message asks the orders of; None when it asks none
    plainly. A name needs words that say so ("atas nama ani", "cari pesanan ani"): "cari
    kaos" is a product, "pesanan hari ini" no one."""
    said = " ".join(text.split()).strip(" ?!.")
    if named := _NAMED.search(said):
        return named["who"].strip(" ?!.") or None
    searched = _SEARCHED.match(said)
    if searched is None:
        return None
    who = searched["who"]
    if (phone := _PHONE.fullmatch(who)) and sum(c.isdigit() for c in who) >= 9:
        return phone["number"]
    return who if searched["search"] and searched["orders"] else None


def asks_about_today(text: str) -> bool:
    """Whether staff ask for today's orders ("pesanan hari ini berapa?", "ada pesanan
    baru?", "today's orders")."""
    return _TODAY.search(text) is not None


_TODAY = re.compile(
    r"\b(?:hari ini|today'?s?|(?:pesanan|order|orderan)\s+baru|new\s+orders?)\b", re.IGNORECASE
)


def asks_what_runs_low(text: str) -> str | None:
    """Whether staff ask which products run low ("stok menipis apa aja?" -> "low") or are out
    ("stok yang habis apa saja?", "what is out of stock?" -> "out"); None otherwise. A product
    named with it ("stok kaos hitam L habis") sets its stock instead."""
    if _LISTS.search(text) is None:
        return None
    if (found := _RUNS_LOW.search(text)) is None:
        return None
    return "low" if found["low"] else "out"


_LISTS = re.compile(r"\b(?:apa|mana|which|what|list|daftar|semua)\b", re.I)
_RUNS_LOW = re.compile(
    r"(?P<low>\b(?:menipis|tipis|hampir\s+habis|mau\s+habis|sedikit|running\s+low|low)\b)"
    r"|\b(?:habis|kosong|out\s+of\s+stock|sold\s+out)\b",
    re.I,
)


async def running_low_list(ctx: Context, which: str) -> Reply:
    """The ready-stock products that run low (or are out), fewest first, a tap to each."""
    at_most = LOW_STOCK if which == "low" else 0  # "menipis": what customers hear "only N left" of
    count, found = await running_low(ctx.session, at_most, FOUND_LIMIT)
    if not count:
        return ctx.reply(f"lowstock.none_{which}", count=at_most)
    lines = [ctx.t(f"lowstock.{which}", count=count, at_most=at_most)]
    lines += [stock_line(ctx, product) for product in found]
    if count > len(found):
        lines.append(ctx.t("findorders.more", count=count - len(found)))
    choices = tuple(Choice(p.label, f"/stok {p.sku}") for p in found[:5])
    return Reply("\n".join(lines), choices=choices)


def asks_who_has_not_paid(text: str) -> bool:
    """Whether staff ask which orders still wait for money ("yang belum bayar siapa aja?",
    "pesanan belum lunas", "unpaid orders", "who hasn't paid?")."""
    return _NOT_PAID.search(text) is not None


_NOT_PAID = re.compile(
    r"\b(?:belum|blm)\s+(?:di)?(?:bayar|lunas|transfer|tf)\b|\bunpaid\b|\bnot\s+(?:yet\s+)?paid\b"
    r"|\b(?:has|have)(?:n['’]?t|\s+not)\s+(?:yet\s+)?paid\b|\byet\s+to\s+pay\b|\bstill\s+owes?\b",
    re.IGNORECASE,
)


async def unpaid(ctx: Context) -> Reply:
    """The orders whose money is still due, waiting longest first, each with what is due."""
    count, found = await awaiting_payment(ctx.session, FOUND_LIMIT)
    if not count:
        return ctx.reply("findorders.none_unpaid")
    lines = [ctx.t("findorders.unpaid", count=count)]
    lines += [f"{o.code} · {name} · {payment_state(ctx, o)}" for o, name in found]
    if count > len(found):
        lines.append(ctx.t("findorders.more", count=count - len(found)))
    choices = tuple(Choice(order.code, f"/status {order.code}") for order, _ in found[:5])
    return Reply("\n".join(lines), choices=choices)


async def orders_today(ctx: Context) -> Reply:
    """The orders placed since midnight, shop time: how many, the newest first."""
    local = ctx.now.astimezone(ctx.settings.timezone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    count, found = await placed_since(ctx.session, midnight, FOUND_LIMIT)
    more = [ctx.t("findorders.more", count=count - len(found))] if count > len(found) else []
    return _listed(ctx, ctx.t("findorders.today", count=count), found, more)


async def find_orders(ctx: Context, args: str) -> Reply:
    """A customer's orders, found by their name or phone number: `/pesanan sari`; today's,
    with `/pesanan hari ini`."""
    words = " ".join((customer_searched(f"cari pesanan {args}") or args).split())[:100]
    if not words:
        return ctx.reply("findorders.usage")
    if asks_about_today(words):
        return await orders_today(ctx)
    if asks_what_is_late(words):
        return await queue(ctx, "telat")  # "pesanan yang telat" asks for no one by name
    if asks_who_has_not_paid(words):
        return await unpaid(ctx)  # "pesanan belum lunas" neither
    found = await orders_of_customers(ctx.session, words, FOUND_LIMIT)
    if not found:
        return ctx.reply("findorders.none", words=words)
    return _listed(ctx, ctx.t("findorders.title", words=words), found)


def _listed(
    ctx: Context, title: str, found: list[tuple[Order, str]], more: list[str] | None = None
) -> Reply:
    """Orders found for staff, a line each with the customer's name, the first five a tap."""
    lines = [title, *(f"{o.code} · {name} · {phase_label(ctx, o)}" for o, name in found)]
    choices = tuple(Choice(order.code, f"/status {order.code}") for order, _ in found[:5])
    return Reply("\n".join([*lines, *(more or [])]), choices=choices)


async def queue(ctx: Context, args: str) -> Reply:
    """Open orders per phase and stage with their codes, late ones first.

    `/antrian telat` shows only the late ones, `/antrian dibayar` (or a stage name) one line.
    """
    wanted = args.strip().lower()
    if asks_who_has_not_paid(wanted):
        return await unpaid(ctx)  # /antrian belum bayar
    summary = await work_queue(ctx.session, ctx.now, codes=QUEUE_CODES)
    phase = QUEUE_PHASE_WORDS.get(wanted)
    only_late = wanted in LATE_WORDS
    shown = [
        line
        for line in summary.lines
        if not wanted or line.phase is phase or (line.stage is not None and line.stage == wanted)
    ]
    if wanted and not only_late and phase is None and not shown:
        return ctx.reply("queue.usage", word=wanted[:40])
    lines: list[str] = []
    if summary.late and (only_late or not wanted):
        lines.append(ctx.t("queue.late_title", count=len(summary.late)))
        for order in summary.late:
            due = due_by(order)
            since = when(due, ctx.settings.timezone, ctx.lang) if due else "-"
            lines.append(
                f"⚠️ {order.code} · {phase_label(ctx, order)} · {ctx.t('queue.due', since=since)}"
            )
    if not only_late and shown:
        lines.append(ctx.t("queue.title"))
        for line in shown:
            label = ctx.phase(line.phase) + (f" · {line.stage}" if line.stage else "")
            lines.append(f"{label}: {line.count}")
            if line.codes:
                more = line.count - len(line.codes)
                extra = " " + ctx.t("queue.more", count=more) if more > 0 else ""
                lines.append(f"  {', '.join(line.codes)}{extra}")
    if not lines:
        return ctx.reply("queue.none_late" if only_late else "queue.empty")
    return Reply("\n".join(lines))
