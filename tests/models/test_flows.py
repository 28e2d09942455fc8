"""The phase machines, as pure rules."""

from __future__ import annotations

import itertools

import pytest

from models.enums import Fulfillment, Phase
from models.errors import InvalidTransition
from models.flows import FLOWS, Position, check_advance, check_side_exit

RS, MTO = Fulfillment.READY_STOCK, Fulfillment.MADE_TO_ORDER
P = Position


@pytest.mark.parametrize(
    ("fulfillment", "path"),
    [
        (
            RS,
            [P(Phase.PLACED), P(Phase.PAID), P(Phase.PACKED), P(Phase.SHIPPED), P(Phase.DELIVERED)],
        ),
        (
            MTO,
            [P(Phase.PLACED), P(Phase.PAID)]
            + [P(Phase.IN_PRODUCTION, i) for i in range(4)]
            + [P(Phase.READY), P(Phase.SHIPPED), P(Phase.DELIVERED)],
        ),
    ],
)
def test_each_flow_walks_its_whole_path(fulfillment: Fulfillment, path: list[Position]) -> None:
    for here, there in itertools.pairwise(path):
        check_advance("INV-1", fulfillment, here, there, stage_count=4)


def test_forward_moves_may_skip_a_phase() -> None:
    check_advance("INV-1", RS, P(Phase.PAID), P(Phase.SHIPPED), stage_count=0)
    check_advance("INV-1", MTO, P(Phase.IN_PRODUCTION, 0), P(Phase.IN_PRODUCTION, 2), 4)


@pytest.mark.parametrize(
    ("fulfillment", "current", "target", "named"),
    [
        (RS, P(Phase.SHIPPED), P(Phase.PACKED), "shipped"),
        (RS, P(Phase.PAID), P(Phase.PAID), "paid"),
        (RS, P(Phase.DELIVERED), P(Phase.SHIPPED), "delivered"),
        (RS, P(Phase.CANCELLED), P(Phase.PAID), "cancelled"),
        (RS, P(Phase.PAID), P(Phase.IN_PRODUCTION, 0), "in_production"),
        (RS, P(Phase.AWAITING_STOCK), P(Phase.PAID), "awaiting_stock"),
        (RS, P(Phase.ON_HOLD), P(Phase.SHIPPED), "on_hold"),
        (MTO, P(Phase.PAID), P(Phase.PACKED), "packed"),
        (MTO, P(Phase.IN_PRODUCTION, 2), P(Phase.IN_PRODUCTION, 1), "in_production stage 3"),
        (MTO, P(Phase.IN_PRODUCTION, 1), P(Phase.IN_PRODUCTION, 1), "in_production stage 2"),
        (MTO, P(Phase.PAID), P(Phase.IN_PRODUCTION, 7), "in_production stage 8"),
        (MTO, P(Phase.PAID), P(Phase.IN_PRODUCTION), "in_production"),
        (MTO, P(Phase.READY), P(Phase.IN_PRODUCTION, 3), "ready"),
    ],
)
def test_illegal_moves_are_refused_naming_the_phase(
    fulfillment: Fulfillment, current: Position, target: Position, named: str
) -> None:
    with pytest.raises(InvalidTransition) as caught:
        check_advance("INV-9", fulfillment, current, target, stage_count=4)
    assert named in str(caught.value)
    assert caught.value.order_code == "INV-9"
    assert "INV-9" in str(caught.value)


@pytest.mark.parametrize("final", [Phase.DELIVERED, Phase.CANCELLED])
def test_no_side_exit_from_a_final_phase(final: Phase) -> None:
    with pytest.raises(InvalidTransition, match=final.value):
        check_side_exit("INV-1", P(final), Phase.CANCELLED)


def test_side_exits_from_every_open_phase() -> None:
    for phase in set(FLOWS[RS]) | set(FLOWS[MTO]) | {Phase.ON_HOLD}:
        if phase in (Phase.DELIVERED,):
            continue
        check_side_exit("INV-1", P(phase), Phase.CANCELLED)
    with pytest.raises(InvalidTransition, match="on hold already"):
        check_side_exit("INV-1", P(Phase.ON_HOLD), Phase.ON_HOLD)
