"""How things read in chat: menus, order status with timeline and progress, lists, stock words.

The shared wording pieces of every handler live here; views ask the database nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import timedelta

from handlers.context import Context
from handlers.i18n import day, when
from handlers.types import Choice, Reply, Role
from models.catalog import Product
from models.enums import Channel, Fulfillment, PaymentState, Phase
from models.linking import Item, OrderHistory
from models.orders import Order, PhaseEvent
from models.payments import bill_is_theirs, bill_of
from models.stages import Stage
from models.tracker import Checkpoint
from models.tracking import TrackView

LOW_STOCK = 5  # at or below this, customers are told "only N left"
CUSTOMER_CHECKPOINTS = 5  # the courier's latest checkpoints a customer is shown; staff see all


def menu(ctx: Context) -> tuple[Choice, ...]:
    """The main choices for the asker's role."""
    if ctx.role is Role.STAFF:
        keys = (("menu.queue", "/antrian"), ("menu.stock", "/stok"), ("menu.help", "/bantuan"))
    elif ctx.role is Role.RESELLER:
        keys = (("menu.myorders", "/pesananku"), ("menu.stock", "/stok"), ("menu.help", "/bantuan"))
    else:
        keys = (("menu.orders", "/pesanan"), ("menu.stock", "/stok"), ("menu.help", "/bantuan"))
    return tuple(Choice(ctx.t(key), command) for key, command in keys)


def share_button(ctx: Context) -> str:
    """The label of a share-my-number button, on channels where people share contacts."""
    return ctx.t("menu.share_phone") if ctx.incoming.channel is Channel.TELEGRAM else ""


def no_orders(ctx: Context) -> Reply:
    """Nothing to show yet: the menu, and the way to link for a chat that is not linked."""
    others = tuple(c for c in menu(ctx) if c.command != "/pesanan")  # not the same question
    return Reply(
        ctx.t("orders.none"),
        choices=others,
        contact_button=share_button(ctx) if ctx.role is Role.UNKNOWN else "",
    )


def order_choices(
    ctx: Context, orders: Sequence[Order], items: Mapping[int, Sequence[Item]] | None = None
) -> tuple[Choice, ...]:
    """The first few orders as choices that open their status; with `items`, each says
    what is in it and where it stands, without them only its code."""
    return tuple(
        Choice(
            order_line(ctx, o, items=items.get(o.id)) if items is not None else o.code,
            f"/status {o.code}",
        )
        for o in orders[:5]
    )


def items_summary(items: Sequence[Item] | None) -> str:
    """What is in an order, short: `Kaos Polos Hitam XL ×2 +1`."""
    if not items:
        return ""
    more = f" +{len(items) - 1}" if len(items) > 1 else ""
    return items[0].label + more


def progress_bar(done: int, total: int, label: str = "") -> str:
    """A text progress bar: `▓▓▓░░ 3/5 jahit`."""
    bar = "▓" * done + "░" * max(total - done, 0)
    return f"{bar} {done}/{total} {label}".rstrip()


def phase_label(ctx: Context, order: Order) -> str:
    """The phase in words, with the production stage when there is one."""
    if order.phase is Phase.IN_PRODUCTION and order.stage_index is not None:
        return f"{ctx.phase(order.phase)} · {order.plan[order.stage_index].name}"
    return ctx.phase(order.phase)


def order_line(
    ctx: Context,
    order: Order,
    customer_name: str | None = None,
    *,
    items: Sequence[Item] | None = None,
) -> str:
    """One order on one line: `INV-1001 · Kaos Polos Hitam XL ×2 · dibayar`."""
    who = f" · {customer_name}" if customer_name else ""
    what = f" · {summary}" if (summary := items_summary(items)) else ""
    return f"{order.code}{who}{what} · {phase_label(ctx, order)}"


def brand_for(ctx: Context, order: Order, reseller_name: str | None) -> str:
    """Whose name a customer sees: the reseller's brand on dropship orders, else the shop's."""
    return reseller_name if order.reseller_id and reseller_name else ctx.settings.shop_name


def status_reply(
    ctx: Context,
    history: OrderHistory,
    track: TrackView | None = None,
    *,
    tracking: bool = False,
    packing: Sequence[Item] | None = None,
) -> Reply:
    """The status of an order the asker may see, under the brand its customer knows.

    With `tracking` (the question was about the parcel) the courier's checkpoints follow;
    with `packing` (its lines, for whoever packs or placed it) what goes in it and where.
    """
    brand = brand_for(ctx, history.order, history.brand)
    latest = track.latest if track is not None and not tracking else None
    text = order_status(ctx, history.order, history.events, brand, latest=latest, packing=packing)
    if tracking and track is not None:
        text += "\n" + "\n".join(tracking_lines(ctx, track))
    elif tracking and history.order.phase not in _LEFT:
        text += "\n" + ctx.t("track.not_shipped")  # asked for a resi that does not exist yet
    return Reply(text, order_id=history.order.id)


_LEFT = frozenset({Phase.SHIPPED, Phase.DELIVERED, Phase.CANCELLED})  # no parcel is coming


def tracking_lines(ctx: Context, track: TrackView) -> list[str]:
    """The courier's news of a parcel: where it is, the latest checkpoints (staff: all)."""
    tz, lang = ctx.settings.timezone, ctx.lang
    milestone = ctx.t(f"milestone.{track.milestone}") if track.milestone else "-"
    lines = [ctx.t("track.title", courier=track.courier, resi=track.resi, milestone=milestone)]
    if not track.checkpoints:
        lines.append(ctx.t("track.none_yet"))
    shown = (
        track.checkpoints if ctx.role is Role.STAFF else track.checkpoints[:CUSTOMER_CHECKPOINTS]
    )
    for checkpoint in shown:
        place = f" · {checkpoint.place}" if checkpoint.place else ""
        lines.append(f"• {when(checkpoint.at, tz, lang)}{place} — {checkpoint.text}")
    if len(shown) < len(track.checkpoints):
        lines.append(ctx.t("track.earlier", count=len(track.checkpoints) - len(shown)))
    if ctx.role is Role.STAFF and track.checked_at is not None:
        at = when(track.checked_at, tz, lang)
        if track.next_check_at is None:
            lines.append(ctx.t("track.checked_done", at=at))
        else:
            lines.append(ctx.t("track.checked", at=at, next=when(track.next_check_at, tz, lang)))
    return lines


def order_status(
    ctx: Context,
    order: Order,
    events: Sequence[PhaseEvent],
    brand: str,
    *,
    latest: Checkpoint | None = None,
    packing: Sequence[Item] | None = None,
) -> str:
    """The full status of one order: phase, progress, estimate, courier, timeline.

    `latest` is the courier's newest checkpoint, shown under the resi; `packing`, the
    order's lines, puts what is in it and where it goes under the phase.
    """
    tz, lang = ctx.settings.timezone, ctx.lang
    lines = [
        ctx.t("status.header", brand=brand, code=order.code),
        ctx.t("status.phase", phase=phase_label(ctx, order)),
    ]
    # A cancelled order's money is news only when some was paid: held, or given back.
    money_held = order.paid_amount or order.payment_state is PaymentState.REFUNDED
    billed = sees_the_bill(ctx, order)
    if billed and (money_held or (order.phase is not Phase.CANCELLED and order.subtotal)):
        lines.append(payment_line(ctx, order))
    if packing is not None:
        lines += _packing_lines(ctx, order, packing)
    plan = order.plan
    if order.fulfillment is Fulfillment.MADE_TO_ORDER and plan:
        done = _stages_done(order)
        current = plan[order.stage_index].name if order.stage_index is not None else ""
        lines.append(progress_bar(done, len(plan), current))
        if order.estimated_ready_at and order.phase in (
            Phase.PLACED,
            Phase.PAID,
            Phase.IN_PRODUCTION,
        ):
            lines.append(ctx.t("status.eta", date=day(order.estimated_ready_at, tz, lang)))
    if order.courier or order.tracking_number:
        lines.append(
            ctx.t("status.courier", courier=order.courier or "-", resi=order.tracking_number or "-")
        )
    if latest is not None:
        lines.append(ctx.t("status.checkpoint", at=when(latest.at, tz, lang), text=latest.text))
    lines.append(ctx.t("status.timeline"))
    resis = _resis_given(order, events)
    for event in _effective(events):
        if not billed and _only_money(event):
            continue
        happened = _what_happened(ctx, event, plan)
        if event.id in resis:
            happened = _resi_given(ctx, event, resis[event.id])
        if event.photo:
            happened += " 📷"  # the progress photo sent with it
        lines.append(f"• {when(event.at, tz, lang)} {happened}{_note(ctx, event)}")
    return "\n".join(lines)


def _packing_lines(ctx: Context, order: Order, items: Sequence[Item]) -> list[str]:
    """What goes in the parcel and to whom: what a packer writes on the label."""
    lines = (
        [ctx.t("status.contents", items=", ".join(item.label for item in items))] if items else []
    )
    to = [part for part in (order.recipient_name, order.recipient_phone, order.address) if part]
    if to:
        lines.append(ctx.t("status.ship_to", to=" · ".join(to)))
    return lines


def _resis_given(order: Order, events: Sequence[PhaseEvent]) -> dict[int, tuple[str, str]]:
    """The courier and resi each event inside one phase gave the order, by event id.

    An event keeps what the order held before it (for undo); what it set is what the next
    event found, or what the order holds now.
    """
    given: dict[int, tuple[str, str]] = {}
    after = (order.courier or "", order.tracking_number or "")
    for event in reversed(events):
        if event.before is None:
            continue
        before = (event.before.get("courier") or "", event.before.get("tracking_number") or "")
        stayed = (event.from_phase, event.from_stage) == (event.to_phase, event.to_stage)
        if stayed and before != after and not event.tracking:
            given[event.id] = after
        after = before
    return given


def _resi_given(ctx: Context, event: PhaseEvent, resi: tuple[str, str]) -> str:
    """A resi given, or changed, after the order went out: "dikirim · resi JNE JN123"."""
    courier, number = resi
    held = event.before or {}
    key = "given" if not (held.get("courier") or held.get("tracking_number")) else "changed"
    told = ctx.t(f"status.resi.{key}", courier=courier or "-", resi=number or "-")
    return f"{ctx.phase(event.to_phase)} · {told}"


def _what_happened(ctx: Context, event: PhaseEvent, plan: Sequence[Stage]) -> str:
    """An event in a timeline's words: the phase and stage it moved to, a courier's milestone
    inside "shipped", or what money it moved when that is all it did."""
    if _only_money(event):
        amount = ctx.money(abs(event.paid)) if event.paid is not None else ""
        if event.payment in ("paid", "partly_paid") and amount:
            return ctx.t("status.money.received", amount=amount)
        if event.payment == "refunded" and amount:
            return ctx.t("status.money.refunded", amount=amount)
        if event.payment in ("bill", "rejected"):
            return ctx.t(f"status.money.{event.payment}")
    if event.from_phase is Phase.AWAITING_STOCK and event.to_phase is Phase.PLACED:
        return ctx.t("status.stock_came")  # "dipesan" after "menunggu stok" reads as a step back
    stage = f" · {plan[event.to_stage].name}" if event.to_stage is not None else ""
    if event.tracking and event.from_phase == event.to_phase:  # a milestone inside "shipped"
        stage = f" · {ctx.t('milestone.' + str(event.tracking['milestone']))}"
    return f"{ctx.phase(event.to_phase)}{stage}"


def payment_line(ctx: Context, order: Order) -> str:
    """Where the order's money stands: paid, a down payment and what is left, or unpaid."""
    return ctx.t("status.payment", payment=payment_state(ctx, order))


def payment_state(ctx: Context, order: Order) -> str:
    """The order's payment in a few words: "lunas ✅", "DP Rp50.000, sisa Rp120.000"."""
    bill = bill_of(order)
    state = order.payment_state
    if state is PaymentState.PARTLY_PAID:
        return ctx.t("payment.partly", paid=ctx.money(bill.paid), due=ctx.money(bill.due))
    if state in (PaymentState.UNPAID, PaymentState.PROOF_SENT):
        return ctx.t(f"payment.{state.value}", due=ctx.money(bill.due))
    return ctx.t(f"payment.{state.value}")


def _note(ctx: Context, event: PhaseEvent) -> str:
    """An event's note as the asker may read it: staff see the shop's own notes too."""
    notes = []
    if ctx.role is Role.STAFF and event.note:
        notes.append(event.note)
    if event.customer_note:
        told = event.customer_note
        notes.append(ctx.t("status.told_customer", note=told) if ctx.role is Role.STAFF else told)
    return f" — {' · '.join(notes)}" if notes else ""


def _stages_done(order: Order) -> int:
    """How many production stages are reached (the current one counts)."""
    if order.phase is Phase.IN_PRODUCTION and order.stage_index is not None:
        return order.stage_index + 1
    if order.phase in (Phase.READY, Phase.SHIPPED, Phase.DELIVERED):
        return len(order.plan)
    return 0


def sees_the_bill(ctx: Context, order: Order) -> bool:
    """Whether the asker may see the order's money: staff, and the side that settles it with
    the shop (`bill_is_theirs`), never a dropship order's customer."""
    if ctx.role is Role.STAFF:
        return True
    theirs = ctx.reseller is not None and order.reseller_id == ctx.reseller.id
    return bill_is_theirs(order, "reseller" if theirs else "customer")


def _only_money(event: PhaseEvent) -> bool:
    """An event that moved money and nothing else (a payment in production, a refused proof)."""
    return event.payment is not None and (event.from_phase, event.from_stage) == (
        event.to_phase,
        event.to_stage,
    )


def _effective(events: Sequence[PhaseEvent]) -> list[PhaseEvent]:
    """Events as the customer lived them: undone changes and their undos left out."""
    undone = {e.undoes_event_id for e in events if e.undoes_event_id is not None}
    return [e for e in events if e.id not in undone and e.undoes_event_id is None]


def stock_line(ctx: Context, product: Product) -> str:
    """How available a product is, worded for the asker's role."""
    label = f"{product.label} ({product.sku})"
    if product.fulfillment is Fulfillment.MADE_TO_ORDER:
        total = sum((s.duration for s in product.stages), timedelta())
        days = max(1, math.ceil(total / timedelta(days=1)))
        availability = ctx.t("stock.made_to_order", days=days)
    elif ctx.role is Role.STAFF:
        availability = ctx.t(
            "stock.staff",
            on_hand=product.on_hand,
            reserved=product.reserved,
            available=product.available,
        )
    elif ctx.role is Role.RESELLER:
        availability = ctx.t("stock.reseller", available=product.available)
    elif product.available <= 0:
        availability = ctx.t("stock.sold_out", sku=product.sku)
    elif product.available <= LOW_STOCK:
        availability = ctx.t("stock.low", count=product.available)
    else:
        availability = ctx.t("stock.in_stock")
    if ctx.reseller_brand:
        return f"{label}\n  {availability}"  # the reseller names their own customer's price
    price = product.price
    if ctx.role is Role.RESELLER and product.reseller_price is not None:
        price = product.reseller_price
    return f"{label} — {ctx.money(price)}\n  {availability}"
