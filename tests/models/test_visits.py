"""What answering a question leaves behind: visits, the chat log, the platform's message ids."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.enums import Channel
from models.messages import ChatMessage, Direction, Logged
from models.people import Chat, InboundMessage
from models.storage import Database
from models.visits import Answered, Delivery, Visit, _in_one_statement, _plainly, store_visits
from tests.support.database import PgPlace, close_database, open_database

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


async def _chats(db: Database, count: int) -> list[int]:
    async with db.transaction() as s:
        result = await s.execute(
            insert(Chat).returning(Chat.id),
            [{"channel": Channel.TELEGRAM, "address": str(7000 + n)} for n in range(count)],
        )
        return list(result.scalars())


async def _log_of(db: Database) -> list[tuple[int, str, str]]:
    async with db.sessions() as s:
        rows = await s.execute(
            select(ChatMessage.chat_id, ChatMessage.direction, ChatMessage.text).order_by(
                ChatMessage.id
            )
        )
        return [(chat_id, direction, text) for chat_id, direction, text in rows]


async def test_a_batch_logs_its_messages_touches_its_chats_and_records_their_ids(
    db: Database,
) -> None:
    sari, budi = await _chats(db, 2)
    first, second = (Channel.TELEGRAM, "101"), (Channel.TELEGRAM, "102")
    logged = [
        (first, Logged(sari, "in", "person", "/status INV-1", T0)),
        (first, Logged(sari, "out", "kabar", "INV-1: dikemas", T0)),
        (second, Logged(budi, "in", "person", "/pesanan", T0)),
    ]
    visits: dict[int, Visit] = {sari: (T0, ["/status INV-1"]), budi: (T0, None)}

    lost = await store_visits(db, Answered([first, second], visits, logged, T0))

    assert lost == set()
    assert await _log_of(db) == [
        (sari, "in", "/status INV-1"),
        (sari, "out", "INV-1: dikemas"),
        (budi, "in", "/pesanan"),
    ]
    async with db.sessions() as s:
        chats = {chat.id: chat for chat in await s.scalars(select(Chat))}
        ids = set(await s.execute(select(InboundMessage.channel, InboundMessage.message_id)))
    assert chats[sari].last_inbound_at == T0 and chats[sari].last_choices == ["/status INV-1"]
    assert chats[budi].last_inbound_at == T0 and chats[budi].last_choices is None
    assert ids == {first, second}


async def test_a_message_answered_elsewhere_first_is_not_logged_again_and_is_returned(
    db: Database,
) -> None:
    (sari,) = await _chats(db, 1)
    again, new = (Channel.WHATSAPP, "SM1"), (Channel.WHATSAPP, "SM2")
    first = [(again, Logged(sari, "in", "person", "a", T0))]
    await store_visits(db, Answered([again], {sari: (T0, None)}, first, T0))
    later = T0 + timedelta(seconds=5)
    logged = [
        (again, Logged(sari, "in", "person", "a", later)),
        (again, Logged(sari, "out", "kabar", "answer to a", later)),
        (new, Logged(sari, "in", "person", "b", later)),
    ]

    lost = await store_visits(db, Answered([again, new], {sari: (later, None)}, logged, later))

    assert lost == {again}
    assert await _log_of(db) == [(sari, "in", "a"), (sari, "in", "b")]


async def test_a_visit_stored_late_changes_nothing_of_a_chat_touched_since(db: Database) -> None:
    (sari,) = await _chats(db, 1)
    later = T0 + timedelta(minutes=1)
    await store_visits(db, Answered([], {sari: (later, ["/pesanan"])}, [], later))

    await store_visits(db, Answered([], {sari: (T0, ["/bantuan"])}, [], T0))

    async with db.sessions() as s:
        chat = await s.get(Chat, sari)
    assert chat is not None
    assert chat.last_inbound_at == later and chat.last_choices == ["/pesanan"]


# ------------------------------------------- the PostgreSQL statement equals the plain form

CHATS = 3
POOL: list[Delivery] = [
    (channel, f"{channel.value[0]}{n}") for channel in Channel for n in range(3)
]


@dataclass(frozen=True)
class Scene:
    """How the chats and ids stand before a batch, and the batch."""

    before: list[tuple[int | None, bool, bool, list[str] | None]]  # per chat: minutes, flags, menu
    recorded: list[Delivery]
    deliveries: list[Delivery]
    visits: dict[int, tuple[int, list[str] | None]]  # chat index -> (minutes, menu)
    logged: list[tuple[int | None, int, Direction, str]]  # (delivery index, chat, direction, text)


DIRECTIONS: list[Direction] = ["in", "out"]
TEXTS = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)
MENUS = st.none() | st.lists(
    st.sampled_from(["/status", "/pesanan", "2", "/stok kaos"]), max_size=3
)


@st.composite
def scenes(draw: st.DrawFn) -> Scene:
    minutes = st.integers(0, 5)
    before = draw(
        st.lists(
            st.tuples(st.none() | minutes, st.booleans(), st.booleans(), MENUS),
            min_size=CHATS,
            max_size=CHATS,
        )
    )
    deliveries = draw(st.lists(st.sampled_from(POOL), unique=True, max_size=4))
    recorded = draw(st.lists(st.sampled_from(POOL), unique=True, max_size=4))
    visits = draw(st.dictionaries(st.integers(0, CHATS - 1), st.tuples(minutes, MENUS)))
    keys = st.none() | st.integers(0, len(deliveries) - 1) if deliveries else st.none()
    logged = draw(
        st.lists(
            st.tuples(keys, st.integers(0, CHATS - 1), st.sampled_from(DIRECTIONS), TEXTS),
            max_size=6,
        )
    )
    return Scene(before, recorded, deliveries, visits, logged)


class _Undo(Exception):
    """Carries what a transaction saw out of it, and rolls it back."""


async def _after(db: Database, chats: list[int], scene: Scene, how: Any) -> object:
    """Set the scene, store its batch `how`, and return what the tables hold then (undone)."""
    at = T0 + timedelta(minutes=max((m for m, _ in scene.visits.values()), default=0))
    try:
        async with db.transaction() as s:
            await _set(s, chats, scene)
            answered = Answered(
                scene.deliveries,
                {
                    chats[c]: (T0 + timedelta(minutes=m), menu)
                    for c, (m, menu) in scene.visits.items()
                },
                [
                    (
                        None if key is None else scene.deliveries[key],
                        Logged(chats[c], direction, "person", text, T0, order_id=None),
                    )
                    for key, c, direction, text in scene.logged
                ],
                at,
            )
            raise _Undo(await how(s, answered), await _tables(s))
    except _Undo as undo:
        return undo.args


async def _set(s: AsyncSession, chats: list[int], scene: Scene) -> None:
    for chat_id, (minutes, active, opted_out, menu) in zip(chats, scene.before, strict=True):
        await s.execute(
            update(Chat)
            .where(Chat.id == chat_id)
            .values(
                last_inbound_at=None if minutes is None else T0 + timedelta(minutes=minutes),
                active=active,
                opted_out=opted_out,
                inactive_reason=None if active else "blocked",
                last_choices=menu,
            )
        )
    if scene.recorded:
        await s.execute(
            insert(InboundMessage),
            [{"channel": c, "message_id": m, "received_at": T0} for c, m in scene.recorded],
        )


async def _tables(s: AsyncSession) -> object:
    chats = await s.execute(
        select(
            Chat.id,
            Chat.last_inbound_at,
            Chat.active,
            Chat.opted_out,
            Chat.inactive_reason,
            Chat.last_choices,
        ).order_by(Chat.id)
    )
    log = await s.execute(
        select(
            ChatMessage.chat_id,
            ChatMessage.direction,
            ChatMessage.author,
            ChatMessage.text,
            ChatMessage.at,
        ).order_by(ChatMessage.id)
    )
    ids = await s.execute(
        select(InboundMessage.channel, InboundMessage.message_id, InboundMessage.received_at)
    )
    return [tuple(row) for row in chats], [tuple(row) for row in log], sorted(map(tuple, ids))


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, list[int]]]:
    """A PostgreSQL database with three chats, for the property test's examples."""
    folder: Path = tmp_path_factory.mktemp("visits")

    async def make() -> tuple[Database, PgPlace | None, list[int]]:
        db, schema = await open_database("postgresql", folder)
        chats = await _chats(db, CHATS)
        await db.dispose()
        return db, schema, chats

    try:
        db, schema, chats = asyncio.run(make())
    except LookupError as exc:
        pytest.skip(str(exc))
    yield db, chats
    asyncio.run(close_database(db, schema))


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scene=scenes())
def test_one_postgresql_statement_stores_a_batch_as_the_plain_statements_do(
    postgres: tuple[Database, list[int]], scene: Scene
) -> None:
    db, chats = postgres

    async def both() -> tuple[object, object]:
        try:
            plain = await _after(db, chats, scene, _plainly)
            one = await _after(db, chats, scene, _in_one_statement)
        finally:
            await db.dispose()  # its connections belong to this example's event loop
        return plain, one

    plain, one = asyncio.run(both())
    assert one == plain
