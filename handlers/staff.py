"""Staff commands: move orders (one or several at once), ship, cancel, undo, stock, queue."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable

from handlers.context import Context
from handlers.i18n import when
from handlers.types import Reply
from handlers.views import phase_label
from models.change import Actor, Change
from models.enums import Phase
from models.errors import DomainError, InvalidTransition, NotFound, StockError
from models.flows import Position
from models.inventory import set_stock
from models.lifecycle import advance, cancel, hold, load_many_for_change, resume
from models.orders import Order, clean_code
from models.queue import due_by, work_queue
from models.undo import undo_last_command
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
HOLD_WORDS = {"hold", "tahan", "ditahan"}
RESUME_WORDS = {"resume", "lanjut", "lanjutkan"}
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
}
RESI = re.compile(r"[A-Za-z0-9-]{4,40}")
CODES = re.compile(r"^\s*([^\s,]+(?:\s*,\s*[^\s,]+)*)\s*(.*)$", re.S)
MAX_CODES = 1000  # one message moves at most this many orders

Move = Callable[[Order, Change], Awaitable[object]]  # what a command does to each order


def normalize_courier(name: str) -> str:
    """The courier's proper name (`jnt` → `J&T`); unknown couriers as typed."""
    key = " ".join(name.lower().split())
    return COURIERS.get(key, name.strip())


def split_codes(args: str) -> tuple[list[str], str]:
    """Split `INV-1, INV-2 rest` into the codes and the rest."""
    match = CODES.match(args)
    if match is None:
        return [], ""
    codes = [c.strip() for c in match[1].split(",") if c.strip()]
    return codes, match[2].strip()


async def _each(ctx: Context, codes: list[str], move: Move, done_key: str) -> Reply:
    """Apply one move to every order, as one command; a line per order.

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
        lines.append("✅ " + ctx.t(done_key, code=order.code, phase=phase_label(ctx, order)))
        moved += 1
    await batch.write()
    if moved and ctx.settings.undo_seconds:
        lines.append(ctx.t("staff.undo_hint", seconds=ctx.settings.undo_seconds))
    return Reply("\n".join(lines))


def refusal(ctx: Context, exc: InvalidTransition) -> str:
    """Word a refused move in the staff member's language."""
    return ctx.t(
        f"refuse.{exc.rule}",
        code=exc.order_code,
        phase=ctx.phase(exc.phase.split(" ")[0]),
        target=ctx.phase(exc.target.split(" ")[0]) if exc.target != "resume" else exc.target,
    )


async def stage(ctx: Context, args: str) -> Reply:
    """Move orders to a phase or production stage: `/tahap INV-1,INV-2 jahit [catatan]`."""
    codes, rest = split_codes(args)
    word, _, rest_note = rest.partition(" ")
    word, note = word.lower(), rest_note.strip() or None
    if not codes or not word:
        return ctx.reply("stage.usage")
    photo = ctx.incoming.photo
    side_exit = hold if word in HOLD_WORDS else resume if word in RESUME_WORDS else None

    async def move(order: Order, change: Change) -> object:
        if side_exit is not None:
            return await side_exit(ctx.session, order, change, note=note)
        target = _target(order, word)
        if target is None:
            raise DomainError(ctx.t("stage.unknown", word=word[:40], code=order.code))
        return await advance(ctx.session, order, target, change, note=note, photo=photo)

    return await _each(ctx, codes, move, "stage.done")


def _target(order: Order, word: str) -> Position | None:
    """A phase word, or the name of one of this order's production stages."""
    for index, planned in enumerate(order.plan):
        if planned.name == word:
            return Position(Phase.IN_PRODUCTION, index)
    phase = PHASE_WORDS.get(word)
    return Position(phase) if phase else None


async def _move_to(ctx: Context, args: str, phase: Phase, done_key: str) -> Reply:
    codes, note = split_codes(args)

    async def move(order: Order, change: Change) -> object:
        return await advance(ctx.session, order, Position(phase), change, note=note or None)

    return await _each(ctx, codes, move, done_key)


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
    if "," in code:
        return ctx.reply("ship.one_order")
    if not RESI.fullmatch(resi):
        return ctx.reply("ship.bad_resi", resi=resi[:40])

    async def move(order: Order, change: Change) -> object:
        shipped = Position(Phase.SHIPPED)
        return await advance(
            ctx.session, order, shipped, change, courier=courier, tracking_number=resi.upper()
        )

    return await _each(ctx, [code], move, "ship.done")


async def cancel_orders(ctx: Context, args: str) -> Reply:
    """Cancel orders with a reason: `/batal INV-1[,INV-2…] alasan`."""
    codes, reason = split_codes(args)
    if not codes or not reason:
        return ctx.reply("cancel.usage")

    async def move(order: Order, change: Change) -> object:
        return await cancel(ctx.session, order, change, reason=reason)

    return await _each(ctx, codes, move, "cancel.done")


async def undo(ctx: Context, args: str) -> Reply:
    """Take back my last command while customers have not been told."""
    result = await undo_last_command(
        ctx.session, ctx.staff_id, window=ctx.settings.undo_window, now=ctx.now
    )
    if result is None:
        return ctx.reply("undo.nothing", seconds=ctx.settings.undo_seconds)
    lines = [ctx.t("undo.done", code=code) for code in result.reverted]
    lines += [ctx.t(f"undo.refused.{rule}", code=code) for code, rule in result.refused]
    return Reply("\n".join(lines))


async def set_stock_cmd(ctx: Context, args: str) -> Reply:
    """Set stock (`/stokset SKU 12`) or add to it (`/stokset SKU +5`)."""
    parts = args.split()
    if len(parts) != 2 or not re.fullmatch(r"[+-]?\d{1,7}", parts[1]):
        return ctx.reply("setstock.usage")
    sku, amount = parts[0], parts[1]
    if clean_code(sku) is None:
        return ctx.reply("stock.none", query=sku[:64])
    try:
        async with ctx.session.begin_nested():
            change = await set_stock(
                ctx.session, sku, int(amount), add=amount[0] in "+-", now=ctx.now
            )
    except NotFound:
        return ctx.reply("stock.none", query=sku[:64])
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


async def queue(ctx: Context, args: str) -> Reply:
    """Open orders per phase and stage, late ones first."""
    summary = await work_queue(ctx.session, ctx.now)
    if not summary.lines:
        return ctx.reply("queue.empty")
    lines: list[str] = []
    if summary.late:
        lines.append(ctx.t("queue.late_title", count=len(summary.late)))
        for order in summary.late:
            due = due_by(order)
            since = when(due, ctx.settings.timezone, ctx.lang) if due else "-"
            lines.append(
                f"⚠️ {order.code} · {phase_label(ctx, order)} · {ctx.t('queue.due', since=since)}"
            )
    lines.append(ctx.t("queue.title"))
    for line in summary.lines:
        label = ctx.phase(line.phase) + (f" · {line.stage}" if line.stage else "")
        lines.append(f"{label}: {line.count}")
    return Reply("\n".join(lines))
