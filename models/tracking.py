"""Courier tracking: a shipped order's resi asked of the courier, and the life of its row.

    shipped with a resi ─open─▶ waiting ─claim (lease; one call of the day's quota)─▶ checking
                                  ▲                                                    │
                                  │ found: again in poll_minutes                       │
                                  │ not found: backed off; the provider failed: later  │
                                  └────────────────────────────────────────────────────┤
                                                       delivered / returned ─▶ done ◀──┘

A new milestone is an order event, told once to everyone who hears of the order (the
reseller under their brand); delivered moves the order to delivered as /terima does, by the
tracker. Staff hear once of a failed attempt, a return, a resi still unknown a day after
shipping, a shipment stuck for `stuck_days`, and of a provider that refuses kabar's key; and
once of a customer saying the parcel came, with the tap that marks it delivered.
Everything a round needs to go on after a restart is here: when each shipment was last
checked and is next due, what the courier said, and the calls made today.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, insert_for, str_enum
from models.change import TRACKER, Change
from models.enums import Phase
from models.errors import InvalidTransition
from models.flows import Position
from models.lifecycle import advance, tell_progress
from models.milestones import (
    FINAL,
    FORWARD,
    Milestone,
    city_of,
    milestone_of,
    place_in,
    pretty_place,
    receiver_in,
    status_milestone,
)
from models.orders import Order
from models.outbox import Alert, ArrivedAlert, TrackingAlert, TrackingNews, alert_staff
from models.tracker import Checkpoint, Shipment, TrackerError, TrackerRefused

FIRST_CHECK = timedelta(minutes=30)  # a resi is rarely known sooner; undo has had its window
NOT_FOUND_ALERT = timedelta(hours=24)  # still unknown this long after shipping: staff look
MAX_BACKOFF = timedelta(hours=24)  # the longest a resi the courier does not know waits
LEASE = timedelta(minutes=15)  # a claim a dead round never answered is free again after this
OPEN_LIMIT = 1000  # shipments started per round (turning tracking on for a busy shop)
ROUND_LIMIT = 100  # calls per round, whatever the quota allows
PAUSE = timedelta(minutes=5)  # the provider's first rest after a failure, doubling each time
MAX_PAUSE = timedelta(hours=1)
REFUSED_PAUSE = timedelta(hours=1)  # a refused key: try again now and then (it may be fixed)
MAX_RETRY_AFTER = timedelta(hours=6)
DAY = 86400


class ShipmentTrack(Base):
    """One shipped order's resi as the tracker follows it: when to ask, what was said."""

    __tablename__ = "shipment_tracks"
    __table_args__ = (Index("ix_shipment_tracks_next_check_at", "next_check_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    courier: Mapped[str] = mapped_column(String(64))  # the order's, as kabar names it
    tracking_number: Mapped[str] = mapped_column(String(64))
    since: Mapped[datetime] = mapped_column(UTCDateTime)  # shipped
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Not asked before this time; None: done (delivered or returned).
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Checks in a row the courier did not know the resi: the backoff.
    misses: Mapped[int] = mapped_column(Integer, default=0)
    milestone: Mapped[Milestone | None] = mapped_column(str_enum(Milestone))
    reached: Mapped[list[str]] = mapped_column(JSON, default=list)  # milestones, in order
    # Every checkpoint seen, oldest first, as Checkpoint.to_json.
    checkpoints: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    last_checkpoint_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    receiver: Mapped[str | None] = mapped_column(String(80))
    destination: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(String(200))


class TrackerUsage(Base):
    """A provider's calls today (against its daily quota) and its rest after failures."""

    __tablename__ = "tracker_usage"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[str] = mapped_column(String(10))  # the shop's date `calls` counts
    calls: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # rounds in a row that failed
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))


@dataclass(frozen=True)
class TrackingPolicy:
    """How often to ask, how much a day, when a shipment counts as stuck (`[tracking]`)."""

    poll: timedelta = timedelta(minutes=120)
    daily_quota: int = 500
    stuck: timedelta = timedelta(days=4)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Jakarta"))

    def day_of(self, now: datetime) -> str:
        """The shop's date of a moment: the day a call counts against."""
        return now.astimezone(self.timezone).date().isoformat()


def allowance(quota: int, now: datetime, tz: ZoneInfo) -> int:
    """How many of the day's calls may be made by `now`: the quota spread over the shop's day.

    What one part of the day left unused is there for the rest of it; the whole quota is
    never more than the day's.
    """
    local = now.astimezone(tz)
    elapsed = (local - local.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds()
    return min(quota, math.floor(quota * elapsed / DAY) + 1)


def backoff(poll: timedelta, misses: int) -> timedelta:
    """How long a shipment waits after `misses` checks in a row that found nothing."""
    wait: timedelta = poll * 2 ** max(misses - 1, 0)
    return min(wait, MAX_BACKOFF)


# ------------------------------------------------------------------------------- a round


async def open_tracks(
    session: AsyncSession, couriers: Collection[str], now: datetime, *, limit: int = OPEN_LIMIT
) -> int:
    """Start following shipped orders whose courier the tracker knows; return how many.

    An order shipped again with another resi (after an undo) is followed afresh.
    """
    names = sorted({courier.casefold() for courier in couriers})
    if not names:
        return 0
    t = ShipmentTrack
    rows = (
        await session.execute(
            select(Order.id, Order.courier, Order.tracking_number, Order.phase_entered_at, t.id)
            .outerjoin(t, t.order_id == Order.id)
            .where(
                Order.phase == Phase.SHIPPED,
                Order.tracking_number.is_not(None),
                func.lower(Order.courier).in_(names),
                or_(t.id.is_(None), t.tracking_number != Order.tracking_number),
            )
            .order_by(Order.phase_entered_at, Order.id)
            .limit(limit)
        )
    ).all()
    fresh: list[dict[str, Any]] = []
    for order_id, courier, resi, shipped_at, track in rows:
        track_id: int | None = track  # None: not followed yet (outer join)
        # A resi put right (or shipped again after an undo) is as new as a fresh shipment's:
        # the courier may not know it for hours, and that is counted from now.
        since = shipped_at if track_id is None else max(shipped_at, now)
        values: dict[str, Any] = {
            "courier": courier,
            "tracking_number": resi,
            "since": since,
            "next_check_at": since + FIRST_CHECK,
            "checked_at": None,
            "lease_until": None,
            "misses": 0,
            "milestone": None,
            "reached": [],
            "checkpoints": [],
            "last_checkpoint_at": None,
            "receiver": None,
            "destination": None,
            "last_error": None,
        }
        if track_id is None:
            fresh.append({"order_id": order_id, **values})
        else:
            await session.execute(update(t).where(t.id == track_id).values(**values))
    if fresh:
        insert = insert_for(session)
        # A round running beside this one may have started the same order: one row it is.
        await session.execute(insert(t).on_conflict_do_nothing(index_elements=["order_id"]), fresh)
    return len(rows)


@dataclass(frozen=True, slots=True)
class Due:
    """A shipment claimed for one call to the tracker."""

    id: int
    courier: str
    resi: str


async def _usage(session: AsyncSession, provider: str, today: str) -> TrackerUsage:
    """The provider's usage row, locked for the rest of the transaction."""
    query = (
        select(TrackerUsage)
        .where(TrackerUsage.provider == provider)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    usage = await session.scalar(query)
    if usage is None:
        await session.execute(
            insert_for(session)(TrackerUsage)
            .values(provider=provider, day=today, calls=0, failures=0)
            .on_conflict_do_nothing(index_elements=["provider"])
        )
        usage = await session.scalar(query)
        assert usage is not None
    if usage.day != today:
        usage.day, usage.calls = today, 0
    return usage


async def take_due(
    session: AsyncSession, provider: str, policy: TrackingPolicy, now: datetime
) -> list[Due]:
    """Claim the shipments to ask about now, longest unchecked first, and count their calls.

    As many as the day's quota allows by now (see `allowance`), none while the provider
    rests after a failure. A claim is a lease: a round that dies frees it when it ends.
    """
    usage = await _usage(session, provider, policy.day_of(now))
    if usage.paused_until is not None and usage.paused_until > now:
        return []
    budget = min(allowance(policy.daily_quota, now, policy.timezone) - usage.calls, ROUND_LIMIT)
    if budget <= 0:
        return []
    t = ShipmentTrack
    stale = func.coalesce(t.checked_at, t.since)
    due = (
        select(t.id)
        .join(Order, Order.id == t.order_id)
        .where(
            t.next_check_at <= now,
            or_(t.lease_until.is_(None), t.lease_until < now),
            Order.phase == Phase.SHIPPED,
            Order.tracking_number == t.tracking_number,
        )
        .order_by(stale, t.id)
        .limit(budget)
        .with_for_update(skip_locked=True, of=t)
    )
    result = await session.execute(
        update(t)
        .where(t.id.in_(due.scalar_subquery()))
        .values(lease_until=now + LEASE)
        .returning(t.id, t.courier, t.tracking_number, stale)
    )
    rows = sorted(result.all(), key=lambda row: (row[3], row[0]))  # RETURNING keeps no order
    usage.calls += len(rows)
    return [Due(track_id, courier, resi) for track_id, courier, resi, _ in rows]


async def end_round(
    session: AsyncSession,
    provider: str,
    policy: TrackingPolicy,
    now: datetime,
    *,
    unused: Sequence[Due] = (),
    failed: Due | None = None,
    error: TrackerError | None = None,
) -> None:
    """Close a round: hand back the claims it did not use (their calls too) and, if the
    provider failed, let it rest and put the shipment it failed on at the back of the line.

    At the back, one resi the provider chokes on cannot hold up the others; nothing is lost,
    its turn only comes after theirs.
    """
    usage = await _usage(session, provider, policy.day_of(now))
    usage.calls = max(0, usage.calls - len(unused))
    t = ShipmentTrack
    if unused:
        await session.execute(
            update(t).where(t.id.in_([due.id for due in unused])).values(lease_until=None)
        )
    if error is None:
        usage.failures, usage.paused_until, usage.last_error = 0, None, None
        return
    usage.failures += 1
    usage.last_error = str(error)[:200]
    if isinstance(error, TrackerRefused):
        rest = REFUSED_PAUSE
        refused: TrackingAlert = {
            "alert": "tracking",
            "fact": "refused",
            "code": "",
            "courier": provider,
            "resi": "",
            "text": str(error)[:200],
            "days": 0,
        }
        # Once a day: a key nobody fixed is worth one reminder a morning, not one an hour.
        key = f"alert:tracking:refused:{provider}:{policy.day_of(now)}"
        await alert_staff(session, [Alert(refused, key)], now=now)
    elif error.retry_after is not None:
        rest = min(error.retry_after, MAX_RETRY_AFTER)
    else:
        rest = min(PAUSE * 2 ** (usage.failures - 1), MAX_PAUSE)
    usage.paused_until = now + rest
    if failed is not None:
        track = await session.get(ShipmentTrack, failed.id, with_for_update=True)
        if track is not None:
            track.lease_until = None
            track.checked_at = now  # tried: the others, unchecked longer, go first
            track.next_check_at = now + rest
            track.last_error = str(error)[:200]


# ------------------------------------------------------------------------------- one answer


async def record_check(
    session: AsyncSession, due: Due, shipment: Shipment, policy: TrackingPolicy, now: datetime
) -> Milestone | None:
    """Take in what the tracker said of one shipment; return the milestone told, if any.

    The checkpoints not seen before are kept, and the newest milestone they reach that the
    order has not reached yet is its news: one event, told once (older news that arrived in
    the same answer is passed over, as a customer would not want it late). Delivered moves
    the order to delivered. An order that moved on meanwhile (delivered by hand, shipped
    again with another resi) is left alone.
    """
    track = await session.get(ShipmentTrack, due.id, with_for_update=True, populate_existing=True)
    if track is None:
        return None
    track.lease_until = None
    order = await session.scalar(
        select(Order)
        .where(Order.id == track.order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if (
        order is None
        or order.phase is not Phase.SHIPPED
        or order.tracking_number != track.tracking_number
    ):
        return None
    track.checked_at = now
    alerts: list[Alert] = []
    if not shipment.found:
        _not_found(track, order, policy, now, alerts)
        await alert_staff(session, alerts, now=now)
        return None
    track.misses, track.last_error = 0, None
    if shipment.destination:
        track.destination = shipment.destination[:100]
    seen = [Checkpoint.from_json(stored) for stored in track.checkpoints]
    known = {(c.at, c.text) for c in seen}
    new: list[Checkpoint] = []
    for checkpoint in sorted(shipment.checkpoints, key=lambda c: c.at):
        if (checkpoint.at, checkpoint.text) not in known:
            known.add((checkpoint.at, checkpoint.text))
            new.append(checkpoint)
    every = sorted([*seen, *new], key=lambda c: c.at)
    track.checkpoints = [c.to_json() for c in every]
    if every:
        track.last_checkpoint_at = every[-1].at
    found = _milestones(new, every, shipment, track, now)
    told: Milestone | None = None
    if found:
        track.reached = [*track.reached, *(m.value for m, _ in found)]
        told, checkpoint = found[-1]
        news = _news(told, checkpoint, shipment, track)
        if news["receiver"]:
            track.receiver = news["receiver"][:80]
        await _tell(session, order, told, news, now)
        track.milestone = told
    elif track.milestone is Milestone.NOT_FOUND:
        track.milestone = None  # known now, with nothing to tell yet
    done = track.milestone in FINAL
    for milestone, checkpoint in found:
        if milestone in (Milestone.RETURNING, Milestone.RETURNED):
            alerts.append(_alert(order, track, milestone.value, checkpoint.text))
    if not done:
        # Every failed attempt is worth a call to the courier, not only the first one told.
        for checkpoint in new:
            if milestone_of(checkpoint.text) is Milestone.FAILED_ATTEMPT:
                when = checkpoint.at.isoformat()
                alerts.append(_alert(order, track, "failed_attempt", checkpoint.text, key=when))
    if not done:
        _stuck(track, order, policy, now, alerts)
    track.next_check_at = None if done else now + policy.poll
    await alert_staff(session, alerts, now=now)
    return told


def _milestones(
    new: Sequence[Checkpoint],
    every: Sequence[Checkpoint],
    shipment: Shipment,
    track: ShipmentTrack,
    now: datetime,
) -> list[tuple[Milestone, Checkpoint]]:
    """The milestones the new checkpoints reach for the first time, in the order reached.

    On the way forward only a step further counts (a late "in transit" scan after the
    parcel reached its city is no news); a failed attempt or a return counts once each.
    The provider's status of the whole shipment counts where it says the journey ended and
    the checkpoints do not (yet); its other words ("ON PROCESS") say too little.
    """
    reached = {Milestone(m) for m in track.reached}
    ahead = max((FORWARD.index(m) for m in reached if m in FORWARD), default=-1)
    destination = track.destination or ""
    found: list[tuple[Milestone, Checkpoint]] = []

    def reach(milestone: Milestone, checkpoint: Checkpoint) -> None:
        nonlocal ahead
        if milestone in reached or any(m in FINAL for m, _ in found):
            return
        if milestone in FORWARD:
            if FORWARD.index(milestone) <= ahead:
                return
            ahead = FORWARD.index(milestone)
        reached.add(milestone)
        found.append((milestone, checkpoint))

    for checkpoint in new:
        milestone = milestone_of(checkpoint.text, destination)
        if milestone is not None:
            reach(milestone, checkpoint)
    status = status_milestone(shipment.status)
    if status in FINAL:
        last = every[-1] if every else Checkpoint(now, "", shipment.status)
        reach(status, last)
    return found


def _news(
    milestone: Milestone, checkpoint: Checkpoint, shipment: Shipment, track: ShipmentTrack
) -> TrackingNews:
    """The milestone as an order update tells it: where (the city), who received it, when."""
    place = ""
    if milestone is Milestone.AT_DESTINATION:
        place = city_of(track.destination or "")
    place = place or pretty_place(checkpoint.place) or place_in(checkpoint.text)
    receiver = None
    if milestone is Milestone.DELIVERED:
        receiver = receiver_in(checkpoint.text) or shipment.receiver or None
    return {
        "milestone": milestone.value,
        "place": place or None,
        "receiver": receiver,
        "at": checkpoint.at.isoformat(),
    }


async def _tell(
    session: AsyncSession, order: Order, milestone: Milestone, news: TrackingNews, now: datetime
) -> None:
    """Write the milestone as the order's event: delivered moves it, as /terima does."""
    change = Change(TRACKER, now)
    if milestone is Milestone.DELIVERED:
        try:
            await advance(session, order, Position(Phase.DELIVERED), change, tracking=news)
            return
        except InvalidTransition:
            pass  # a rule of the shop keeps it from delivered: the news is still told
    await tell_progress(session, order, change, tracking=news)


def _not_found(
    track: ShipmentTrack,
    order: Order,
    policy: TrackingPolicy,
    now: datetime,
    alerts: list[Alert],
) -> None:
    """The courier does not know the resi: ask again later and later; a day on, staff look."""
    track.misses += 1
    track.next_check_at = now + backoff(policy.poll, track.misses)
    if track.last_checkpoint_at is not None:  # known before: the provider lost it for now
        _stuck(track, order, policy, now, alerts)
        return
    track.milestone = Milestone.NOT_FOUND
    if now - track.since >= NOT_FOUND_ALERT:
        days = max(1, (now - track.since) // timedelta(days=1))
        alerts.append(_alert(order, track, "not_found", "", key=track.tracking_number, days=days))


def _stuck(
    track: ShipmentTrack,
    order: Order,
    policy: TrackingPolicy,
    now: datetime,
    alerts: list[Alert],
) -> None:
    """No new checkpoint for `stuck_days`: staff hear once for each stall."""
    last = track.last_checkpoint_at
    if last is None or now - last < policy.stuck:
        return
    text = track.checkpoints[-1][2] if track.checkpoints else ""
    days = (now - last) // timedelta(days=1)
    alerts.append(_alert(order, track, "stuck", text, key=last.isoformat(), days=days))


def _alert(
    order: Order, track: ShipmentTrack, fact: str, text: str, *, key: str = "", days: int = 0
) -> Alert:
    """A staff alert about one shipment, keyed so that each fact is told once."""
    payload: TrackingAlert = {
        "alert": "tracking",
        "fact": fact,
        "code": order.code,
        "courier": track.courier,
        "resi": track.tracking_number,
        "text": text[:200],
        "days": days,
    }
    suffix = f":{key}" if key else ""
    return Alert(payload, f"alert:tracking:{order.id}:{fact}{suffix}", order.id)


# ------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class TrackView:
    """What is known of an order's parcel, for a chat to show."""

    courier: str
    resi: str
    milestone: Milestone | None
    checkpoints: tuple[Checkpoint, ...]  # newest first
    receiver: str | None
    checked_at: datetime | None
    next_check_at: datetime | None

    @property
    def latest(self) -> Checkpoint | None:
        """The newest checkpoint, if the courier reported any."""
        return self.checkpoints[0] if self.checkpoints else None


@cache
def _track_query() -> Select[ShipmentTrack]:
    """The order's track, if it follows the order's current resi (built once: see chats)."""
    t = ShipmentTrack
    return (
        select(t)
        .join(Order, Order.id == t.order_id)
        .where(t.order_id == bindparam("order_id"), Order.tracking_number == t.tracking_number)
    )


async def customer_says_arrived(
    session: AsyncSession, order: Order, customer: str, now: datetime
) -> None:
    """A customer says a shipped order came: staff are told once, with the tap that marks it
    delivered (the courier's word may come later, or never where no provider is set)."""
    said: ArrivedAlert = {"alert": "arrived", "code": order.code, "customer": customer[:64]}
    await alert_staff(session, [Alert(said, f"arrived:{order.id}", order_id=order.id)], now=now)


async def track_of(session: AsyncSession, order_id: int) -> TrackView | None:
    """The order's parcel as the tracker follows it; None while it is not followed."""
    track = await session.scalar(_track_query(), {"order_id": order_id})
    if track is None:
        return None
    return TrackView(
        courier=track.courier,
        resi=track.tracking_number,
        milestone=track.milestone,
        checkpoints=tuple(Checkpoint.from_json(c) for c in reversed(track.checkpoints)),
        receiver=track.receiver,
        checked_at=track.checked_at,
        next_check_at=track.next_check_at,
    )
