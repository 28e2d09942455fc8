"""Sales for staff, asked in words: "omzet hari ini?", "penjualan bulan ini", "sales this week".

The orders placed since the start of the day, the week (Monday) or the month, shop time: how
many, what their bills add up to, what came in and what is still to come.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from handlers.context import Context
from handlers.i18n import day
from handlers.types import Reply
from models.queue import sales_since


class Period(StrEnum):
    """Since when sales are added up."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


_ASKED = re.compile(r"\b(?:omzet|omset|penjualan|pendapatan|sales|revenue|turnover)\b", re.I)
_PERIODS = (
    (Period.WEEK, re.compile(r"\b(?:minggu|pekan|week)\b", re.I)),
    (Period.MONTH, re.compile(r"\b(?:bulan|month)\b", re.I)),
)


def asked(text: str) -> Period | None:
    """The period a staff message asks the sales of (today when it names none); None when
    it asks no sales."""
    if _ASKED.search(text) is None:
        return None
    return next((period for period, said in _PERIODS if said.search(text)), Period.DAY)


def _since(ctx: Context, period: Period) -> datetime:
    """The start of the day, week or month it is now, shop time."""
    local = ctx.now.astimezone(ctx.settings.timezone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period is Period.WEEK:
        start -= timedelta(days=start.weekday())
    elif period is Period.MONTH:
        start = start.replace(day=1)
    return start


async def report(ctx: Context, period: Period) -> Reply:
    """What the orders placed in the period add up to."""
    start = _since(ctx, period)
    sales = await sales_since(ctx.session, start.astimezone(UTC))
    when = day(start, ctx.settings.timezone, ctx.lang)
    lines = [
        ctx.t(f"sales.{period.value}", since=when, count=sales.orders),
        ctx.t("sales.total", amount=ctx.money(sales.total)),
        ctx.t("sales.paid", amount=ctx.money(sales.paid)),
        ctx.t("sales.due", amount=ctx.money(sales.due)),
    ]
    if sales.cancelled:
        lines.append(ctx.t("sales.cancelled", count=sales.cancelled))
    return Reply("\n".join(lines))
