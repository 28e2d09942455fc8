"""The phase machines of the fulfilment flows: which moves are allowed, pure logic."""

from __future__ import annotations

from dataclasses import dataclass

from models.enums import Fulfillment, Phase
from models.errors import InvalidTransition

FLOWS: dict[Fulfillment, tuple[Phase, ...]] = {
    Fulfillment.READY_STOCK: (
        Phase.AWAITING_STOCK,
        Phase.PLACED,
        Phase.PAID,
        Phase.PACKED,
        Phase.SHIPPED,
        Phase.DELIVERED,
    ),
    # A made-to-order order that also holds ready-stock lines can wait for that stock too.
    Fulfillment.MADE_TO_ORDER: (
        Phase.AWAITING_STOCK,
        Phase.PLACED,
        Phase.PAID,
        Phase.IN_PRODUCTION,
        Phase.READY,
        Phase.SHIPPED,
        Phase.DELIVERED,
    ),
}
FINAL = frozenset({Phase.DELIVERED, Phase.CANCELLED})


@dataclass(frozen=True)
class Position:
    """Where an order stands: its phase and, in production, its 0-based stage."""

    phase: Phase
    stage: int | None = None


def _describe(position: Position) -> str:
    if position.stage is None:
        return position.phase.value
    return f"{position.phase.value} stage {position.stage + 1}"


def check_advance(
    code: str, fulfillment: Fulfillment, current: Position, target: Position, stage_count: int
) -> None:
    """Refuse, with the reason, a move that is not forward along the order's flow.

    Forward moves may skip phases (a seller who packs and ships at once says `shipped`);
    they may not go back, leave a final phase, or leave awaiting_stock (only stock does that).
    """

    def refuse(reason: str, rule: str) -> InvalidTransition:
        return InvalidTransition(code, _describe(current), _describe(target), reason, rule)

    flow = FLOWS[fulfillment]
    if current.phase in FINAL:
        raise refuse(f"the order is already {current.phase.value}", "final")
    if current.phase is Phase.ON_HOLD:
        raise refuse("the order is on hold; resume it first", "on_hold")
    if target.phase not in flow:
        raise refuse(
            f"{target.phase.value} is not a phase of {fulfillment.value} orders", "not_in_flow"
        )
    if target.phase is Phase.AWAITING_STOCK:
        raise refuse("only a stock shortage puts an order in awaiting_stock", "stock_only")
    if current.phase is Phase.AWAITING_STOCK:
        raise refuse("the order waits for stock; restock fills it", "awaiting_stock")
    if target.phase is Phase.IN_PRODUCTION:
        if target.stage is None or not 0 <= target.stage < stage_count:
            raise refuse("name a production stage of this order", "needs_stage")
    elif target.stage is not None:
        raise refuse("only in_production has stages", "no_stage")
    here, there = flow.index(current.phase), flow.index(target.phase)
    if there < here or (
        there == here
        and (target.phase is not Phase.IN_PRODUCTION or (target.stage or 0) <= (current.stage or 0))
    ):
        raise refuse("phases only move forward; use undo to correct a mistake", "backwards")


def check_side_exit(code: str, current: Position, target: Phase) -> None:
    """Refuse cancel or hold from a final phase, hold from hold, and hold once shipped."""
    if current.phase in FINAL:
        raise InvalidTransition(
            code,
            _describe(current),
            target.value,
            f"the order is already {current.phase.value}",
            "final",
        )
    if target is Phase.ON_HOLD and current.phase is Phase.ON_HOLD:
        raise InvalidTransition(
            code, _describe(current), target.value, "it is on hold already", "held_already"
        )
    if target is Phase.ON_HOLD and current.phase is Phase.SHIPPED:
        # The parcel is with the courier: nothing in the shop can hold it any more.
        raise InvalidTransition(
            code, _describe(current), target.value, "it is with the courier", "held_shipped"
        )


def check_progress(code: str, current: Position) -> None:
    """Refuse news from inside a phase of an order that is done (delivered or cancelled)."""
    if current.phase in FINAL:
        raise InvalidTransition(
            code,
            _describe(current),
            _describe(current),
            f"the order is already {current.phase.value}",
            "final",
        )
