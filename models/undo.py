"""Undo: a staff member takes back their last command while its messages are still held."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import stock
from models.change import Actor, Change
from models.lifecycle import restore_snapshot, snapshot_of, stock_lines
from models.orders import Order, PhaseEvent
from models.outbox import withdraw
from models.payments import ledger


@dataclass
class UndoResult:
    """What an undo did: orders put back, and orders it could not put back with the reason."""

    reverted: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (order code, rule)


async def undoable(
    session: AsyncSession, staff_id: int, *, window: timedelta, now: datetime
) -> list[tuple[PhaseEvent, str]]:
    """The events of the staff member's latest command still inside the window, newest first,
    each with its order's code; empty if there is none (undo_last_command would do nothing)."""
    undoer = aliased(PhaseEvent)
    latest = await session.scalar(
        select(PhaseEvent.command_id)
        .where(
            PhaseEvent.staff_id == staff_id,
            PhaseEvent.command_id.is_not(None),
            PhaseEvent.undoes_event_id.is_(None),
            PhaseEvent.at >= now - window,
            ~select(undoer.id).where(undoer.undoes_event_id == PhaseEvent.id).exists(),
        )
        .order_by(PhaseEvent.id.desc())
        .limit(1)
    )
    if latest is None:
        return []
    rows = await session.execute(
        select(PhaseEvent, Order.code)
        .join(Order, Order.id == PhaseEvent.order_id)
        .where(PhaseEvent.command_id == latest)
        .order_by(PhaseEvent.id.desc())
    )
    return [(event, code) for event, code in rows]


async def undo_last_command(
    session: AsyncSession, staff_id: int, *, window: timedelta, now: datetime
) -> UndoResult | None:
    """Revert the staff member's latest command if it is inside the window; None if none is.

    Each order goes back to exactly where it was (phase, stage, courier, stock) and the
    command's unsent messages are withdrawn, so customers hear nothing of it. An order that
    moved again since, or whose freed stock went to another order, is left as it is.
    """
    events = [event for event, _ in await undoable(session, staff_id, window=window, now=now)]
    if not events:
        return None
    result = UndoResult()
    for event in events:
        order = await session.scalar(
            select(Order)
            .where(Order.id == event.order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert order is not None
        rule = await _revert(session, order, event, staff_id, now)
        if rule is None:
            result.reverted.append(order.code)
        else:
            result.refused.append((order.code, rule))
    result.reverted.reverse()
    result.refused.reverse()
    return result


async def _revert(
    session: AsyncSession, order: Order, event: PhaseEvent, staff_id: int, now: datetime
) -> str | None:
    """Put one order back before `event`; return why not, or None when done.

    Changes already taken back do not count as moves since: /undo again steps back again.
    """
    taken_back = select(PhaseEvent.undoes_event_id).where(
        PhaseEvent.order_id == order.id, PhaseEvent.undoes_event_id.is_not(None)
    )
    newest = await session.scalar(
        select(PhaseEvent.id)
        .where(
            PhaseEvent.order_id == order.id,
            PhaseEvent.undoes_event_id.is_(None),
            PhaseEvent.id.not_in(taken_back),
        )
        .order_by(PhaseEvent.id.desc())
        .limit(1)
    )
    if newest != event.id or event.before is None:
        return "moved_since"
    lines = await stock_lines(session, order)
    if event.stock_effect == "released":
        if not await stock.reserve(session, lines):
            return "stock_gone"
    elif event.stock_effect == "consumed":
        await stock.unconsume(session, lines)
    current, undone = order.position, snapshot_of(order)
    state = order.payment_state
    restore_snapshot(order, event.before)
    if event.paid:  # the ledger keeps the payment, and the row that takes it back
        change = Change(Actor.staff(staff_id), now, command=event.command_id)
        session.add(ledger(order, change, "undo", state, amount=-event.paid, note="undo"))
    session.add(
        PhaseEvent(
            order_id=order.id,
            at=now,
            actor=Actor.staff(staff_id).kind,
            staff_id=staff_id,
            from_phase=current.phase,
            from_stage=current.stage,
            to_phase=order.phase,
            to_stage=order.stage_index,
            note="undo",
            before=undone,
            undoes_event_id=event.id,
        )
    )
    await withdraw(session, event.id, "undone by staff")
    await session.flush()
    return None
