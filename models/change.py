"""Who makes a change to an order, when, and how the people it concerns are told of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the batch writes events, which know orders; a change is only a value
    from models.updates import Batch


@dataclass(frozen=True)
class Actor:
    """Who made a change: a staff member, the system (scheduler, restock), an import, or the
    courier tracker."""

    kind: str
    staff_id: int | None = None

    @classmethod
    def staff(cls, staff_id: int) -> Actor:
        """A change made by a staff member."""
        return cls("staff", staff_id)


SYSTEM = Actor("system")
IMPORT = Actor("import")
CUSTOMER = Actor("customer")  # a customer's own word: a transfer proof
TRACKER = Actor("tracker")  # the courier's checkpoints said so


@dataclass(frozen=True)
class Policy:
    """What the shop allows before the money is in: the flows that may pack and ship unpaid."""

    ship_unpaid: frozenset[str] = frozenset()  # of ready_stock, made_to_order, dropship


@dataclass(frozen=True)
class Change:
    """The circumstances of a change: every lifecycle call takes one.

    `delay` holds the messages back (a staff member's undo window); the events of one staff
    `command` share its id, so undo reverts them together; with a `batch`, events and messages
    are written when the batch is (a bulk command), otherwise at once. A staff member's change
    carries the shop's `policy`: packing or shipping waits for payment where it says so.
    """

    actor: Actor
    now: datetime
    delay: timedelta = timedelta(0)
    command: str | None = None
    batch: Batch | None = None
    policy: Policy | None = None  # the shop's payment rules; None checks none (the system's)

    @property
    def due_at(self) -> datetime:
        """When the people concerned are told."""
        return self.now + self.delay


def by_system(now: datetime) -> Change:
    """A change the system makes on its own, told at once."""
    return Change(SYSTEM, now)
