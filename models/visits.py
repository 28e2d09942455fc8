"""What answering a question leaves behind, stored for many questions at once.

A question answered from a read transaction still owes three writes: the chat's visit (when
the person wrote last, which opens WhatsApp's 24-hour window, and the menu they were shown),
the messages in the chat log, and the platform's id of the message (a redelivery is known by
it). `store_visits` writes them for a whole batch of questions.

On PostgreSQL the three are one statement, run outside a transaction: atomic alone, it costs
one round trip where BEGIN, three statements and COMMIT cost five, and asyncpg's executemany
costs more CPU than the statement (`python -m bench.visits`). The plain form (`_plainly`) is
the rule; the one statement (`_in_one_statement`) is held equal to it by a property test
(tests/models/test_visits.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import Any

from sqlalchemy import ARRAY, TextClause, Update, bindparam, or_, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import UTCDateTime, insert_of
from models.enums import Channel
from models.import_rows import table_of
from models.messages import Logged, log_messages
from models.people import Chat, InboundMessage
from models.storage import Database

Delivery = tuple[Channel, str]  # a platform's message id, on its channel
Visit = tuple[datetime, list[str] | None]  # when a chat wrote, and the menu it was shown


@dataclass(frozen=True)
class Answered:
    """What a batch of questions answered from reads leaves to store."""

    deliveries: Sequence[Delivery]  # the platform's ids of the messages, recorded at `at`
    visits: Mapping[int, Visit]  # chat id -> when it wrote, and the menu it was shown
    logged: Sequence[tuple[Delivery | None, Logged]]  # each log row with its message's id
    at: datetime


async def store_visits(db: Database, answered: Answered) -> set[Delivery]:
    """Record the message ids, touch each chat that wrote, and log each message unless its
    message id (one of `deliveries`, or None) was recorded already; all or nothing.

    Return the message ids found recorded already: another process answered those first.
    """
    if db.dialect == "postgresql":
        async with db.autocommit() as session:
            return await _in_one_statement(session, answered)
    return await db.write(partial(_plainly, answered=answered))


async def _plainly(session: AsyncSession, answered: Answered) -> set[Delivery]:
    """`store_visits` as three statements, in the caller's transaction."""
    lost = await note_deliveries(session, answered.deliveries, answered.at)
    await note_visits(session, answered.visits)
    await log_messages(session, [row for key, row in answered.logged if key not in lost])
    return lost


async def _in_one_statement(session: AsyncSession, answered: Answered) -> set[Delivery]:
    """`store_visits` as one PostgreSQL statement: each kind of row goes as arrays, a column
    an array, however many rows there are."""
    deliveries, visits, logged = answered.deliveries, answered.visits, answered.logged
    rows = [row.row() for _, row in logged]
    keys = [key for key, _ in logged]
    params: dict[str, Any] = {
        "at": answered.at,
        "delivery_channel": [channel.value for channel, _ in deliveries],
        "delivery_id": [message_id[:64] for _, message_id in deliveries],
        "visit_chat": list(visits),
        "visit_at": [when for when, _ in visits.values()],
        "visit_menu": [None if menu is None else json.dumps(menu) for _, menu in visits.values()],
        "key_channel": [key[0].value if key else None for key in keys],
        "key_id": [key[1][:64] if key else None for key in keys],
    }
    for column in _LOGGED:
        params[f"log_{column}"] = [row[column] for row in rows]
    result = await session.execute(_one_statement(), params)
    recorded = {(Channel(channel), message_id) for channel, message_id in result}
    return {(channel, message_id[:64]) for channel, message_id in deliveries} - recorded


# The chat log's columns, and the PostgreSQL type each is sent as (an array of it).
_LOGGED = {
    "chat_id": "integer",
    "direction": "varchar",
    "author": "varchar",
    "staff_id": "integer",
    "text": "text",
    "media_kind": "varchar",
    "media": "varchar",
    "provider_message_id": "varchar",
    "order_id": "integer",
    "at": "timestamp",
}


@cache
def _one_statement() -> TextClause:
    """The PostgreSQL statement of `_in_one_statement` (built once).

    Each part does what its plain statement does: the ids go in unless there (returning
    those that went in), a chat is touched unless a later message touched it since, and a
    message is logged when it has no id or its id went in. The log keeps the batch's order.
    """
    columns = ", ".join(_LOGGED)
    arrays = ", ".join(f"CAST(:log_{name} AS {kind}[])" for name, kind in _LOGGED.items())
    sql = f"""
        WITH recorded AS (
            INSERT INTO inbound_messages (channel, message_id, received_at)
            SELECT d.channel, d.message_id, :at
            FROM unnest(CAST(:delivery_channel AS varchar[]), CAST(:delivery_id AS varchar[]))
                AS d (channel, message_id)
            ON CONFLICT DO NOTHING
            RETURNING channel, message_id
        ), touched AS (
            UPDATE chats
            SET last_inbound_at = v.at, active = true, opted_out = false,
                inactive_reason = NULL,
                last_choices = COALESCE(CAST(v.menu AS json), chats.last_choices)
            FROM unnest(
                CAST(:visit_chat AS integer[]),
                CAST(:visit_at AS timestamp[]),
                CAST(:visit_menu AS text[])
            ) AS v (chat_id, at, menu)
            WHERE chats.id = v.chat_id
                AND (chats.last_inbound_at IS NULL OR chats.last_inbound_at <= v.at)
        ), logged AS (
            INSERT INTO chat_messages ({columns})
            SELECT {columns}
            FROM unnest(
                {arrays}, CAST(:key_channel AS varchar[]), CAST(:key_id AS varchar[])
            ) WITH ORDINALITY AS m ({columns}, key_channel, key_id, n)
            WHERE m.key_id IS NULL OR EXISTS (
                SELECT 1 FROM recorded
                WHERE recorded.channel = m.key_channel AND recorded.message_id = m.key_id
            )
            ORDER BY m.n
        )
        SELECT channel, message_id FROM recorded
    """
    times = ARRAY(UTCDateTime())
    return text(sql).bindparams(
        bindparam("at", type_=UTCDateTime()),
        bindparam("visit_at", type_=times),
        bindparam("log_at", type_=times),
    )


async def note_visits(session: AsyncSession, visits: Mapping[int, Visit]) -> None:
    """`touch_inbound` for many chats at once, each with the menu it was shown last (if any).

    A visit stored late (the database was busy) changes nothing of a chat that a later
    message has touched since.
    """
    shown = [
        {"chat_id": chat_id, "at": at, "menu": menu}
        for chat_id, (at, menu) in visits.items()
        if menu is not None
    ]
    plain = [
        {"chat_id": chat_id, "at": at} for chat_id, (at, menu) in visits.items() if menu is None
    ]
    for query, rows in ((_visit_query(True), shown), (_visit_query(False), plain)):
        if rows:
            await session.execute(query, rows)


@cache
def _visit_query(with_menu: bool) -> Update:
    """One chat's visit, for many chats in one executemany (built once).

    Core, not ORM: the session's Chat objects are not touched, and none is loaded.
    """
    chats = table_of(Chat)
    at = bindparam("at", type_=chats.c.last_inbound_at.type)
    values: dict[str, Any] = {
        "last_inbound_at": at,
        "active": True,
        "opted_out": False,
        "inactive_reason": None,
    }
    if with_menu:
        values["last_choices"] = bindparam("menu", type_=chats.c.last_choices.type)
    return (
        update(chats)
        .where(
            chats.c.id == bindparam("chat_id"),
            or_(chats.c.last_inbound_at.is_(None), chats.c.last_inbound_at <= at),
        )
        .values(values)
    )


async def note_deliveries(
    session: AsyncSession, ids: Sequence[Delivery], now: datetime
) -> set[Delivery]:
    """Record platform message ids answered without a write of their own; return the ones
    recorded already (answered elsewhere first)."""
    if not ids:
        return set()
    rows = [
        {"channel": channel, "message_id": message_id[:64], "received_at": now}
        for channel, message_id in ids
    ]
    result = await session.execute(_delivery_insert(session.get_bind().dialect.name), rows)
    recorded = {(Channel(channel), message_id) for channel, message_id in result}
    return {(channel, message_id[:64]) for channel, message_id in ids} - recorded


@cache
def _delivery_insert(dialect: str) -> Any:
    """Record one message id unless it is recorded, returning it if it was not: run for many
    ids at once, its shape (and compiled form) is the same however many come."""
    table = table_of(InboundMessage)
    return (
        insert_of(dialect)(table)
        .on_conflict_do_nothing()
        .returning(table.c.channel, table.c.message_id)
    )
