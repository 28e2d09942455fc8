"""Word an outbox notification, at send time, in the recipient chat's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from handlers.context import Settings
from handlers.i18n import Messages, day
from handlers.types import Reply
from handlers.views import progress_bar
from models.enums import Language, NotificationKind

ETA_PHASES = ("placed", "paid", "in_production")


def render_notification(
    messages: Messages,
    settings: Settings,
    lang: Language,
    kind: NotificationKind,
    payload: dict[str, Any],
) -> Reply:
    """The message one chat gets for one notification."""

    def t(key: str, **values: object) -> str:
        return messages.text(lang, key, **values)

    if kind is NotificationKind.BACK_IN_STOCK:
        product = f"{payload['name']} {payload.get('variant') or ''}".strip()
        return Reply(t("push.back_in_stock", product=product, sku=payload["sku"]), lang=lang)
    if kind is NotificationKind.STAFF_ALERT:
        return Reply(t("push.staff_alert", text=_alert_text(t, payload)), lang=lang)
    if payload.get("late"):
        brand = payload.get("brand") or settings.shop_name
        when = day(datetime.fromisoformat(payload["eta"]), settings.timezone, lang)
        header = t("push.header", brand=brand, code=payload["order_code"])
        return Reply(
            header + "\n" + t("push.late", stage=payload.get("stage") or "", date=when), lang=lang
        )
    code, phase = payload["order_code"], payload["phase"]
    if payload.get("audience") == "reseller":
        lines = [t("push.reseller", code=code, customer=payload.get("customer_name") or "")]
    else:
        brand = payload.get("brand") or settings.shop_name
        lines = [t("push.header", brand=brand, code=code)]
    if payload.get("from_phase") == "on_hold" and phase != "cancelled":
        lines.append(t("push.resumed", phase=t(f"phase.{phase}")))
    else:
        lines.append(t(f"push.phase.{phase}", stage=payload.get("stage") or ""))
    if payload.get("stage_count") and phase == "in_production":
        bar = progress_bar(payload["stage_number"], payload["stage_count"], payload["stage"])
        lines.append(t("push.progress", bar=bar))
    if payload.get("eta") and phase in ETA_PHASES and payload.get("fulfillment") == "made_to_order":
        eta = datetime.fromisoformat(payload["eta"])
        lines.append(t("push.eta", date=day(eta, settings.timezone, lang)))
    if phase == "shipped" and (payload.get("courier") or payload.get("tracking_number")):
        lines.append(
            t(
                "push.courier",
                courier=payload.get("courier") or "-",
                resi=payload.get("tracking_number") or "-",
            )
        )
    if payload.get("note"):
        lines.append(t("push.note", note=payload["note"]))
    path = [step for step in payload.get("path") or [] if step]
    if len(path) > 1:  # several changes told at once: say the way it came
        lines.append(t("push.path", path=" → ".join(t(f"phase.{step}") for step in path)))
    return Reply("\n".join(lines), photo=payload.get("photo"), lang=lang)


def _alert_text(t: Callable[..., str], payload: dict[str, Any]) -> str:
    """A staff alert in words."""
    alert = payload.get("alert", "")
    if alert == "digest":
        lines = [t("alert.digest", day=payload.get("day", ""))]
        for phase, stage, count in payload.get("counts", []):
            lines.append(f"{t(f'phase.{phase}')}{' · ' + stage if stage else ''}: {count}")
        if payload.get("late"):
            lines.append(t("alert.digest_late", codes=", ".join(payload["late"])))
        return "\n".join(lines)
    if alert == "late":
        where = t(f"phase.{payload['phase']}") + (
            f" · {payload['stage']}" if payload.get("stage") else ""
        )
        return t("alert.late", code=payload.get("code", ""), where=where)
    if alert:
        return t(f"alert.{alert}", **payload)
    return str(payload.get("text", ""))


def template_variables(
    reply: Reply, kind: NotificationKind, payload: dict[str, Any]
) -> dict[str, str]:
    """Variables for an approved WhatsApp template: {{1}} who, {{2}} what, {{3}} the message.

    order_update: 1 = brand (or shop), 2 = order code, 3 = the update as kabar words it;
    back_in_stock: 1 = product, 2 = SKU, 3 = the message; staff_alert: 1 = the alert.
    """
    lines = reply.text.splitlines()
    body = " ".join(line.strip() for line in lines[1:] if line.strip()) or reply.text
    if kind is NotificationKind.ORDER_UPDATE:
        who = lines[0].split(" · ")[0] if lines else ""
        return {"1": who, "2": str(payload.get("order_code", "")), "3": body}
    if kind is NotificationKind.BACK_IN_STOCK:
        product = f"{payload.get('name', '')} {payload.get('variant') or ''}".strip()
        return {"1": product, "2": str(payload.get("sku", "")), "3": reply.text}
    return {"1": reply.text}
