"""Word an outbox notification, at send time, in the recipient chat's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import cast

from handlers.context import Settings
from handlers.i18n import Messages, day
from handlers.types import Reply
from handlers.views import progress_bar
from models.enums import Language, NotificationKind
from models.outbox import (
    BackInStock,
    HandoverForward,
    LinkNotice,
    OrderUpdate,
    Payload,
    StaffAlert,
    StaffReply,
    SupportNotice,
)

ETA_PHASES = ("placed", "paid", "in_production")
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
        return Reply(t("push.back_in_stock", product=product, sku=news["sku"]), lang=lang)
    if kind is NotificationKind.STAFF_ALERT:
        return Reply(
            t("push.staff_alert", text=_alert_text(t, cast(StaffAlert, payload))), lang=lang
        )
    if kind is NotificationKind.HANDOVER:
        return _forward(t, settings, lang, cast(HandoverForward, payload))
    if kind is NotificationKind.STAFF_REPLY:
        answer = cast(StaffReply, payload)
        return Reply(answer["text"], photo=answer["photo"], lang=lang)
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
        lines.append(
            t(f"support.forward.{forward['reason']}", number=number, who=who, contact=contact)
        )
        if forward["orders"]:
            orders = ", ".join(
                f"{code} {t(f'phase.{phase}')}{' · ' + stage if stage else ''}"
                for code, phase, stage in forward["orders"]
            )
            lines.append(t("support.forward.orders", orders=orders))
        else:
            lines.append(t("support.forward.no_orders"))
    else:
        lines.append(t("support.forward.more", number=number, who=who))
    if forward["claimed_by"]:
        lines.append(t("support.claimed_by", who=forward["claimed_by"]))
    if forward["more"]:
        lines.append(t("support.forward.earlier", count=forward["more"]))
    photo = None
    for message in forward["messages"]:
        at = datetime.fromisoformat(message["at"]).astimezone(settings.timezone)
        author, kind = message["author"], message["media_kind"]
        speaker = who if author == "person" else t(f"support.author.{author}")
        said = message["text"]
        if kind:
            said = f"[{t('support.media.' + kind)}] {said}".strip()
            if kind == "photo" and photo is None:
                photo = message["media"]
        lines.append(f"{at:%H:%M} {speaker}: {said}")
    if forward["first"]:
        lines.append(t("support.forward.how", number=number))
    return Reply("\n".join(lines), photo=photo, lang=lang)


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
    if update.get("progress"):
        where = t(f"phase.{phase}") + (f" · {update['stage']}" if update["stage"] else "")
        lines.append(t("push.progress_news", where=where))
    elif update["from_phase"] == "awaiting_stock" and phase == "placed":
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
    if phase == "shipped" and (update["courier"] or update["tracking_number"]):
        lines.append(
            t(
                "push.courier",
                courier=update["courier"] or "-",
                resi=update["tracking_number"] or "-",
            )
        )
    if update["note"]:
        lines.append(t("push.note", note=update["note"]))
    path = [step for step in update.get("path", []) if step]
    if len(path) > 1:  # several changes told at once: say the way it came
        lines.append(t("push.path", path=" → ".join(t(f"phase.{step}") for step in path)))
    return Reply("\n".join(lines), photo=update["photo"], lang=lang)


def _alert_text(t: Say, alert: StaffAlert) -> str:
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
