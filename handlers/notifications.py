"""Word an outbox notification, at send time, in the recipient chat's language."""

from __future__ import annotations

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
        return Reply(t("push.back_in_stock", product=product, sku=payload["sku"]))
    if kind is NotificationKind.STAFF_ALERT:
        return Reply(t("push.staff_alert", text=payload.get("text", "")))
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
    return Reply("\n".join(lines), photo=payload.get("photo"))
