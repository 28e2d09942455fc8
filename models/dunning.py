"""Unpaid orders: one reminder to the customer, staff told when overdue, and (if the shop says
so) an overdue ready-stock order cancelled and its stock let go. Each at most once per order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.change import by_system
from models.enums import Fulfillment, PaymentState, Phase
from models.lifecycle import cancel
from models.orders import Order
from models.outbox import Alert, OverdueAlert, alert_staff
from models.updates import Told, order_update, payment_news, tell

OPEN_PHASES = (Phase.AWAITING_STOCK, Phase.PLACED, Phase.PAID, Phase.IN_PRODUCTION, Phase.READY)
UNPAID_REASON = "not paid in time"


@dataclass(frozen=True)
class Dunning:
    """When the shop reminds, warns staff and gives up on an unpaid order."""

    remind_after: timedelta = timedelta(hours=24)
    overdue_after: timedelta = timedelta(hours=72)
    auto_cancel: bool = False


@dataclass(frozen=True)
class Dunned:
    """What one run did: reminders queued, staff alerts raised, orders cancelled."""

    reminded: list[str]
    overdue: list[str]
    cancelled: list[str]


async def chase_unpaid(session: AsyncSession, now: datetime, rules: Dunning) -> Dunned:
    """Remind, warn and cancel unpaid orders as the rules say; keyed, so each happens once."""
    unpaid = list(
        await session.scalars(
            select(Order)
            .where(
                Order.payment_state == PaymentState.UNPAID,
                Order.placed_at < now - rules.remind_after,
                Order.phase.in_(OPEN_PHASES),
            )
            .order_by(Order.placed_at, Order.id)
            .with_for_update()
        )
    )
    reminders: list[Told] = []
    alerts: list[Alert] = []
    cancelled: list[str] = []
    overdue: list[str] = []
    for order in unpaid:
        notice = order_update(
            code=order.code,
            fulfillment=order.fulfillment,
            plan=order.plan,
            from_phase=order.phase,
            phase=order.phase,
            stage=order.stage_index,
            eta=order.estimated_ready_at,
            at=now,
        )
        notice["payment"] = payment_news(order, "reminder")
        reminders.append(Told(order, notice, now, None, key=f"payment:remind:{order.id}"))
        if order.placed_at >= now - rules.overdue_after:
            continue
        overdue.append(order.code)
        warning: OverdueAlert = {"alert": "overdue", "code": order.code}
        alerts.append(Alert(warning, f"payment:overdue:{order.id}", order.id))
        if rules.auto_cancel and order.fulfillment is Fulfillment.READY_STOCK:
            # The customer hears why with the cancellation itself; the stock goes to others.
            await cancel(session, order, by_system(now), reason=UNPAID_REASON, payment="cancelled")
            cancelled.append(order.code)
    await tell(session, reminders)
    await alert_staff(session, alerts, now=now)
    return Dunned([t.update["order_code"] for t in reminders], overdue, cancelled)
