"""Word an outbox notification, at send time, in the recipient chat's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import cast

from handlers.context import Settings
from handlers.i18n import Messages, day, money, when
from handlers.types import Attachment, Choice, Reply
from handlers.views import progress_bar
from models.enums import Language, NotificationKind
from models.outbox import (
    BackInStock,
    HandoverForward,
    LinkNotice,
    OrderUpdate,
    Payload,
    PaymentNews,
    ProofAlert,
    StaffAlert,
    StaffReply,
    SupportNotice,
    TrackingAlert,
    TrackingNews,
)

ETA_PHASES = ("placed", "paid", "in_production")
BOT_LINE = 90  # characters of the bot's own earlier messages shown in a handover forward
Say = Callable[..., str]  # a message key and its values, in the chat's language


def render_notification(
    messages: Messages,
    settings: Settings,
    lang: Language,
    kind: NotificationKind,
    payload: Payload,
) -> Reply:
    """The message one chat gets for one notification."""

    def t(key: str, **values: object) -> str:
        return messages.text(lang, key, **values)

    if kind is NotificationKind.BACK_IN_STOCK:
        news = cast(BackInStock, payload)
        product = f"{news['name']} {news['variant'] or ''}".strip()
        said = t("push.back_in_stock", product=product, sku=news["sku"])
        if not settings.orders.customers_can_order or not news.get("may_order", True):
            return Reply(said, lang=lang)
        order_it = Choice(t("push.order_now"), f"/pesan {news['sku']}")  # while it lasts
        return Reply(said, choices=(order_it,), lang=lang)
    if kind is NotificationKind.STAFF_ALERT:
        alert = cast(StaffAlert, payload)
        if alert["alert"] == "proof":
            return _proof(t, settings, lang, alert)
        said = t("push.staff_alert", text=_alert_text(t, settings, lang, alert))
        if alert["alert"] == "arrived":
            delivered = Choice(t("alert.arrived_confirm"), f"/terima {alert['code']}")
            return Reply(said, choices=(delivered,), lang=lang)
        if alert["alert"] == "chat_order":
            shown = Choice(alert["code"], f"/status {alert['code']}")
            return Reply(said, choices=(shown,), lang=lang)
        return Reply(said, lang=lang)
    if kind is NotificationKind.HANDOVER:
        return _forward(t, settings, lang, cast(HandoverForward, payload))
    if kind is NotificationKind.STAFF_REPLY:
        answer = cast(StaffReply, payload)
        file = answer.get("file")
        sent = Attachment(answer.get("file_kind", "document"), file) if file else None
        return Reply(answer["text"], photo=answer["photo"], file=sent, lang=lang)
    if kind is NotificationKind.SUPPORT_NOTICE:
        notice = cast(SupportNotice, payload)
        return Reply(t(f"support.notice.{notice['notice']}"), lang=lang)
    if kind is NotificationKind.LINK_NOTICE:
        return Reply(_link_notice(t, cast(LinkNotice, payload)), lang=lang)
    return _order_update(t, settings, lang, cast(OrderUpdate, payload))


CHANNEL_NAMES = {"telegram": "Telegram", "whatsapp": "WhatsApp", "console": "console"}


def _link_notice(t: Say, notice: LinkNotice) -> str:
    """Tell a customer that another chat now sees their orders, and what to do if not theirs."""
    orders = ", ".join(notice["orders"])
    if notice["more"]:
        orders = t("link.notice.more", orders=orders, more=notice["more"])
    channel = CHANNEL_NAMES.get(notice["channel"], notice["channel"])
    code = notice["orders"][0] if notice["orders"] else ""
    return t(f"link.notice.{notice['via']}", channel=channel, orders=orders, code=code)


def _forward(t: Say, settings: Settings, lang: Language, forward: HandoverForward) -> Reply:
    """A customer's messages for a staff chat: the thread, who, their orders, what they wrote."""
    number, who = forward["thread"], forward["customer"] or t("greeting.friend")
    lines = []
    if forward["first"]:
        contact = ", ".join(part for part in (forward["phone"], forward["channel"]) if part)
        named = who
        if other := forward.get("orders_of"):
            named = t("support.forward.orders_of", who=who, customer=other)
        lines.append(
            t(f"support.forward.{forward['reason']}", number=number, who=named, contact=contact)
        )
        if forward["orders"]:
            orders = ", ".join(
                f"{code} {t(f'phase.{phase}')}{' · ' + stage if stage else ''}"
                for code, phase, stage in forward["orders"]
            )
            lines.append(t("support.forward.orders", orders=orders))
        else:
            lines.append(t("support.forward.no_orders"))
        if brand := forward.get("brand"):
            lines.append(t("support.forward.brand", brand=brand))
    else:
        lines.append(t("support.forward.more", number=number, who=who))
    if forward["claimed_by"]:
        lines.append(t("support.claimed_by", who=forward["claimed_by"]))
    if forward["more"]:
        lines.append(t("support.forward.earlier", count=forward["more"]))
    photo: str | None = None
    file: Attachment | None = None
    for message in forward["messages"]:
        at = datetime.fromisoformat(message["at"]).astimezone(settings.timezone)
        author, kind = message["author"], message["media_kind"]
        speaker = who if author == "person" else t(f"support.author.{author}")
        # One line a message; kabar's own, which staff can read in the order, short.
        said = " / ".join(line.strip() for line in message["text"].splitlines() if line.strip())
        if author == "kabar" and len(said) > BOT_LINE:
            said = said[: BOT_LINE - 1] + "…"
        if kind:
            said = f"[{t('support.media.' + kind)}] {said}".strip()
            if photo is None and file is None and message["media"]:
                # Staff open the first thing sent: a photo, or the file itself (a PDF, a voice
                # note), not only a line saying one came.
                photo, file = _media_of(kind, message["media"])
        lines.append(f"{at:%H:%M} {speaker}: {said}")
    if forward["first"]:
        lines.append(t("support.forward.how", number=number))
    return Reply("\n".join(lines), photo=photo, file=file, lang=lang)


def _media_of(kind: str, ref: str) -> tuple[str | None, Attachment | None]:
    """A media reference as a reply carries it: a photo, a file a channel can send, or neither."""
    if kind == "photo":
        return ref, None
    attachment = Attachment(kind, ref)
    return None, attachment if attachment.sendable else None


def told_as_money(update: OrderUpdate) -> bool:
    """Whether an update is worded as its money news (an amount, what is left to pay) rather
    than as its phase: money that moved no phase, or moved it other than by paying in full."""
    news = update.get("payment")
    return news is not None and bool(update.get("progress") or news["news"] != "paid")


def says_more_than_its_phase(update: OrderUpdate) -> bool:
    """Whether an update carries words of its own that a later phase would not tell: a photo,
    a note, a corrected resi, money news."""
    return bool(
        update.get("photo") or update.get("note") or update.get("corrected")
    ) or told_as_money(update)


def _order_update(t: Say, settings: Settings, lang: Language, update: OrderUpdate) -> Reply:
    """An order update, as its customer (under the brand they know) or its reseller hears it."""
    code, phase = update["order_code"], update["phase"]
    if update.get("late"):
        brand = update["brand"] or settings.shop_name
        when = day(datetime.fromisoformat(update["eta"] or update["at"]), settings.timezone, lang)
        header = t("push.header", brand=brand, code=code)
        return Reply(
            header + "\n" + t("push.late", stage=update["stage"] or "", date=when), lang=lang
        )
    if update["audience"] == "reseller":
        lines = [t("push.reseller", code=code, customer=update["customer_name"])]
    else:
        lines = [t("push.header", brand=update["brand"] or settings.shop_name, code=code)]
    tracked = update.get("tracking")
    news = update.get("payment")
    if tracked is not None:
        lines.append(tracking_news(t, settings, lang, tracked, update))
    elif news is not None and told_as_money(update):
        lines.append(_payment_news(t, settings, lang, news, update["note"]))
        update = {**update, "note": None}  # a refusal's reason is the news itself
    elif update.get("corrected"):  # the courier line below says the new one
        lines.append(t("push.resi_added" if update.get("resi_added") else "push.resi_corrected"))
    elif update.get("progress"):
        where = t(f"phase.{phase}") + (f" · {update['stage']}" if update["stage"] else "")
        lines.append(t("push.progress_news", where=where))
    elif update["from_phase"] == "awaiting_stock" and phase in ("placed", "paid"):
        lines.append(t("push.filled"))  # restocked: its "received" was told when it was placed
    elif update["from_phase"] == "on_hold" and phase != "cancelled":
        lines.append(t("push.resumed", phase=t(f"phase.{phase}")))
    else:
        lines.append(t(f"push.phase.{phase}", stage=update["stage"] or ""))
    if (
        update["stage_count"]
        and phase == "in_production"
        and update["stage_number"]
        and not update.get("progress")
    ):
        bar = progress_bar(update["stage_number"], update["stage_count"], update["stage"] or "")
        lines.append(t("push.progress", bar=bar))
    if update["eta"] and phase in ETA_PHASES and update["fulfillment"] == "made_to_order":
        eta = datetime.fromisoformat(update["eta"])
        lines.append(t("push.eta", date=day(eta, settings.timezone, lang)))
    # A milestone of the parcel needs no reminder of the resi; told with "shipped", it does.
    told_shipped = tracked is None or "path" in update
    if phase == "shipped" and told_shipped and (update["courier"] or update["tracking_number"]):
        lines.append(
            t(
                "push.courier",
                courier=update["courier"] or "-",
                resi=update["tracking_number"] or "-",
            )
        )
    if update["note"]:
        lines.append(t("push.note", note=update["note"]))
    if phase == "cancelled" and (held := update.get("held")):  # "and my money?"
        lines.append(t("push.cancelled_paid", amount=money(Decimal(held), settings.currency, lang)))
    path: list[str] = []
    for step in update.get("path", []):
        if step and (not path or path[-1] != step):  # milestones inside "shipped" are one step
            path.append(step)
    if len(path) > 1:  # several changes told at once: say the way it came
        lines.append(t("push.path", path=" → ".join(t(f"phase.{step}") for step in path)))
    return Reply("\n".join(lines), photo=update["photo"], lang=lang)


def _payment_news(
    t: Say, settings: Settings, lang: Language, news: PaymentNews, reason: str | None
) -> str:
    """Money news in words: paid in full, a down payment, a refused proof, a reminder."""

    def rupiah(value: str) -> str:
        return money(Decimal(value), settings.currency, lang)

    return t(
        f"push.payment.{news['news']}",
        amount=rupiah(news["amount"]),
        due=rupiah(news["due"]),
        total=rupiah(news["total"]),
        reason=reason or "",
    )


def _proof(t: Say, settings: Settings, lang: Language, alert: ProofAlert) -> Reply:
    """A transfer proof for staff: the order, the money, the photo or PDF, one tap to confirm."""

    def rupiah(value: str) -> str:
        return money(Decimal(value), settings.currency, lang)

    code = alert["code"]
    lines = [
        t(
            "alert.proof",
            code=code.replace(",", ", "),  # one transfer for several bills
            customer=alert["customer"] or t("greeting.friend"),
        ),
        t("alert.proof_money", total=rupiah(alert["total"]), due=rupiah(alert["due"])),
    ]
    if alert["said"]:
        lines.append(f"“{alert['said']}”")
    if not alert["proof"]:
        lines.append(t("alert.proof_without_photo"))
    choices: tuple[Choice, ...] = (
        Choice(t("alert.proof_paid"), f"/bayar {code}"),
        Choice(t("alert.proof_other_amount"), f"/bayar {code} ?"),
        Choice(t("alert.proof_refuse"), f"/tolak {code}"),
    )
    if "," in code:  # one transfer for several bills: another amount is no one bill's
        choices = (choices[0], choices[2])
    proof = alert["proof"]
    photo, file = _media_of(alert.get("proof_kind", "photo"), proof) if proof else (None, None)
    return Reply("\n".join(lines), choices=choices, photo=photo, file=file, lang=lang)


def tracking_news(
    t: Say, settings: Settings, lang: Language, news: TrackingNews, update: OrderUpdate
) -> str:
    """A courier milestone in words: `📦 Paketmu sudah di kota tujuan (Bandung)`."""
    milestone = news["milestone"]
    if milestone == "at_destination" and news["place"]:
        return t("push.tracking.at_destination_in", place=news["place"])
    if milestone == "delivered":
        tz = settings.timezone
        at = datetime.fromisoformat(news["at"]).astimezone(tz)
        told = datetime.fromisoformat(update["at"]).astimezone(tz)
        # The hour alone when it is news of the day; a parcel found delivered late says when.
        time = f"{at:%H:%M}" if at.date() == told.date() else when(at, tz, lang)
        if news["receiver"]:
            return t("push.tracking.delivered_to", receiver=news["receiver"], time=time)
        return t("push.tracking.delivered", time=time)
    return t(f"push.tracking.{milestone}", courier=update["courier"] or "-")


def _tracking_alert(t: Say, alert: TrackingAlert) -> str:
    """A shipment that needs a person, in words."""
    return t(
        f"alert.tracking.{alert['fact']}",
        code=alert["code"],
        courier=alert["courier"],
        resi=alert["resi"],
        text=alert["text"] or "-",
        days=alert["days"],
    )


def _alert_text(t: Say, settings: Settings, lang: Language, alert: StaffAlert) -> str:
    """A staff alert in words."""
    if alert["alert"] == "digest":
        lines = [t("alert.digest", day=alert["day"])]
        for phase, stage, count in alert["counts"]:
            lines.append(f"{t(f'phase.{phase}')}{' · ' + stage if stage else ''}: {count}")
        if alert["late"]:
            lines.append(t("alert.digest_late", codes=", ".join(alert["late"])))
        return "\n".join(lines)
    if alert["alert"] == "late":
        where = t(f"phase.{alert['phase']}") + (f" · {alert['stage']}" if alert["stage"] else "")
        return t("alert.late", code=alert["code"], where=where)
    if alert["alert"] == "needs_template":
        return t("alert.needs_template", kind=alert["kind"], chat=alert["chat"])
    if alert["alert"] == "claimed":
        return t("alert.claimed", number=alert["thread"], staff=alert["staff"])
    if alert["alert"] == "overdue":
        return t("alert.overdue", code=alert["code"])
    if alert["alert"] == "proof":
        return t("alert.proof", code=alert["code"], customer=alert["customer"])
    if alert["alert"] == "tracking":
        return _tracking_alert(t, alert)
    if alert["alert"] == "arrived":
        return t("alert.arrived", code=alert["code"], customer=alert["customer"])
    if alert["alert"] == "chat_order":
        total = money(Decimal(alert["total"]), settings.currency, lang)
        said = [t("alert.chat_order", code=alert["code"], who=alert["who"], total=total)]
        if alert.get("to"):  # the fee to set depends on it
            said.append(t("status.ship_to", to=alert.get("to")))
        if alert["note"]:
            said.append(t("alert.chat_order_note", note=alert["note"]))
        return "\n".join(said)
    return t("alert.dead_letter", code=alert["code"], chat=alert["chat"], error=alert["error"])


def template_variables(reply: Reply, kind: NotificationKind, payload: Payload) -> dict[str, str]:
    """Variables for an approved WhatsApp template: {{1}} who, {{2}} what, {{3}} the message.

    order_update: 1 = brand (or shop), 2 = order code, 3 = the update as kabar words it;
    back_in_stock: 1 = product, 2 = SKU, 3 = the message; staff_alert, handover, staff_reply,
    support_notice, link_notice: 1 = the message.
    """
    lines = reply.text.splitlines()
    body = " ".join(line.strip() for line in lines[1:] if line.strip()) or reply.text
    if kind is NotificationKind.ORDER_UPDATE:
        who = lines[0].split(" · ")[0] if lines else ""
        return {"1": who, "2": cast(OrderUpdate, payload)["order_code"], "3": body}
    if kind is NotificationKind.BACK_IN_STOCK:
        news = cast(BackInStock, payload)
        product = f"{news['name']} {news['variant'] or ''}".strip()
        return {"1": product, "2": news["sku"], "3": reply.text}
    # staff_alert, handover, staff_reply, support_notice, link_notice: 1 = the message.
    return {"1": reply.text}
