"""The conversation's entry point: one incoming message in, the replies out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, Select, bindparam, event, exists, false, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from handlers.context import Context, Settings
from handlers.i18n import Messages
from handlers.router import dispatch
from handlers.types import Incoming, Reply, Role
from models.base import utcnow
from models.enums import Channel, Language
from models.errors import InvalidPhone
from models.linking import (
    first_delivery,
    get_or_create_chat,
    languages_of,
    link_by_phone,
    linked_customer_ids,
    touch_inbound,
)
from models.people import Chat, ChatLink, Customer, Reseller, Staff
from models.phones import normalize_phone
from models.search import IndexCache
from models.storage import Database

log = logging.getLogger(__name__)
MAX_TEXT = 4096  # longer messages are cut; no platform sends more


class _Writes(Exception):
    """Answering this message changes something: it must be answered in a write transaction."""


class Conversation:
    """Answers people on any channel; the channel adapters call `handle`."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        messages: Messages,
        clock: Callable[[], datetime] = utcnow,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        # Called after a message's write transaction commits (only those can owe a push): the
        # runtime wakes its dispatcher, so a push due at once leaves at once, not at the next poll.
        self.on_commit = on_commit
        self.settings = settings
        self.messages = messages
        self.clock = clock
        self.catalog = IndexCache()
        self.visits = Visits(db)

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Answer one message. Never raises: a failure is logged and gets a short apology."""
        if len(incoming.text) > MAX_TEXT:
            incoming = _with_text(incoming, incoming.text[:MAX_TEXT])
        try:
            answered = None
            # Most messages only ask (status, orders, stock). Answered from a read transaction
            # they never queue behind a writer, and their visits are stored many per write. A
            # message that would change anything is answered again, from the start, in a
            # write transaction of its own. A redelivery check or a verified phone always writes.
            if incoming.message_id is None and not incoming.phone_verified:
                answered = await self._answer_reading(incoming)
            if answered is None:
                answered = await self._answer_writing(incoming)
                if self.on_commit is not None:
                    self.on_commit()
            return answered
        except Exception:
            log.exception("could not answer a %s message", incoming.channel.value)
            return [Reply(self.messages.text(self.settings.default_language, "error.sorry"))]

    async def _answer_reading(self, incoming: Incoming) -> list[Reply] | None:
        """Answer a question that changes nothing; None if answering it would write."""
        now = self.clock()
        async with self.db.sessions(sync_session_class=_ReadingSession) as session:
            seen = await _look_up(session, incoming)
            if seen is None or seen.staff_id is not None:
                return None  # a first message opens the chat; staff mostly change things
            chat = seen.chat
            if not chat.reachable or chat.inactive_reason is not None:
                return None  # writing after a block or STOP reopens the chat
            try:
                reseller = None
                if seen.reseller_id is not None:
                    reseller = await session.get(Reseller, seen.reseller_id)
                role = Role.CUSTOMER if seen.linked else Role.UNKNOWN
                ctx = self._new_context(
                    session,
                    incoming,
                    chat,
                    now,
                    role=Role.RESELLER if reseller is not None else role,
                    reseller=reseller,
                    lang=chat.language or seen.language,
                )
                replies = await self._dispatch(ctx)
            except _Writes:
                return None
            if session.new or session.dirty or session.deleted:
                return None
        await self.visits.record(chat.id, now, _menu_of(replies))
        return [replace(reply, lang=ctx.lang) for reply in replies]

    async def _answer_writing(self, incoming: Incoming) -> list[Reply]:
        """Answer a message in one write transaction, with everything it changes."""
        now = self.clock()
        async with self.db.transaction() as session:
            if incoming.message_id and not await first_delivery(
                session, incoming.channel, incoming.message_id, now
            ):
                return []  # answered when it first came
            chat = await get_or_create_chat(session, incoming.channel, incoming.chat[:64])
            touch_inbound(chat, now)  # writing again reopens a blocked or opted-out chat
            if incoming.phone_verified:
                await _link_verified_phone(session, chat, incoming.sender)
            ctx = await self._context(session, incoming, chat, now)
            replies = await self._dispatch(ctx)
            menu = _menu_of(replies)
            if menu is not None:
                ctx.chat.last_choices = menu
            return [replace(reply, lang=ctx.lang) for reply in replies]

    async def _dispatch(self, ctx: Context) -> list[Reply]:
        """Route the message (a bare number picks from the last menu) to its handler."""
        ctx.incoming = _picked(ctx.incoming, ctx.chat.last_choices)
        slash_optional = ctx.incoming.channel is not Channel.TELEGRAM
        return await dispatch(ctx, slash_optional=slash_optional)

    async def _context(
        self, session: AsyncSession, incoming: Incoming, chat: Chat, now: datetime
    ) -> Context:
        """Recognise the sender in their chat, and pick the language."""
        staff, reseller = await _identify(session, incoming, chat)
        if staff is not None:
            role = Role.STAFF
        elif reseller is not None:
            role = Role.RESELLER
        else:
            linked = await linked_customer_ids(session, chat)
            role = Role.CUSTOMER if linked else Role.UNKNOWN
        lang = chat.language
        if lang is None and role is not Role.UNKNOWN:
            # The language a linked customer chose when ordering (preferred_language's rule).
            lang = (await languages_of(session, [chat])).get(chat.id)
        return self._new_context(
            session, incoming, chat, now, role=role, staff=staff, reseller=reseller, lang=lang
        )

    def _new_context(
        self,
        session: AsyncSession,
        incoming: Incoming,
        chat: Chat,
        now: datetime,
        *,
        role: Role,
        staff: Staff | None = None,
        reseller: Reseller | None = None,
        lang: Language | None,
    ) -> Context:
        """Build the context one message is handled in."""
        return Context(
            session=session,
            incoming=incoming,
            chat=chat,
            role=role,
            staff=staff,
            reseller=reseller,
            lang=lang or self.settings.default_language,
            settings=self.settings,
            messages=self.messages,
            now=now,
            catalog=self.catalog,
        )


@dataclass(frozen=True)
class _Seen:
    """A chat and who is writing in it, as far as answering a question needs."""

    chat: Chat
    staff_id: int | None
    reseller_id: int | None
    linked: bool  # the chat may see some customer's orders
    language: Language | None  # the language a linked customer chose when ordering


async def _look_up(session: AsyncSession, incoming: Incoming) -> _Seen | None:
    """Find the chat and recognise the sender in one round trip; None for an unknown chat."""
    params: dict[str, object] = {"channel": incoming.channel, "address": incoming.chat[:64]}
    if incoming.channel is Channel.TELEGRAM and incoming.sender.isdigit():
        query, params["user_id"] = _look_up_query("telegram"), int(incoming.sender)
    elif incoming.channel is Channel.CONSOLE and not incoming.group:
        query = _look_up_query("console")
    else:
        query = _look_up_query("nobody")
    row = (await session.execute(query, params)).first()
    if row is None:
        return None
    chat, staff_id, reseller_id, linked, language = row
    return _Seen(chat, staff_id, reseller_id, bool(linked), language)


# The rules of `_identify`, `linked_customer_ids` and `preferred_language`, asked in one
# statement: on SQLite each statement costs a few thread hand-offs, and answering a question
# takes only a few more. Built once per kind of sender: building it costs as much as running it.
@cache
def _look_up_query(by: str) -> Select[Chat, int | None, int | None, bool, Language | None]:
    """Build the chat's row with its staff and reseller ids, whether it is linked, its language."""
    if by == "telegram":
        user_id = bindparam("user_id", type_=BigInteger)
        is_staff, is_reseller = Staff.telegram_id == user_id, Reseller.telegram_id == user_id
    elif by == "console":  # the console has no identity of its own: its chats carry the persona
        is_staff, is_reseller = Staff.id == Chat.staff_id, Reseller.id == Chat.reseller_id
    else:
        is_staff, is_reseller = false(), false()
    staff = select(Staff.id).where(is_staff, Staff.active.is_(True)).scalar_subquery()
    reseller = select(Reseller.id).where(is_reseller).scalar_subquery()
    linked = exists().where(ChatLink.chat_id == Chat.id)
    language = (
        select(Customer.language)
        .join(ChatLink, ChatLink.customer_id == Customer.id)
        .where(ChatLink.chat_id == Chat.id, Customer.language.is_not(None))
        .order_by(Customer.id)
        .limit(1)
        .scalar_subquery()
    )
    return select(Chat, staff, reseller, linked, language).where(
        Chat.channel == bindparam("channel"), Chat.address == bindparam("address")
    )


# SQLite lets one transaction write at a time: a write per question would queue every question
# behind the others, one write for all the visits that came in meanwhile does not.
class Visits:
    """Stores that people wrote (and the menu they were shown last), many chats per write."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: dict[int, tuple[datetime, list[str] | None]] = {}
        self._committed: asyncio.Future[None] | None = None
        self._writer: asyncio.Task[None] | None = None

    async def record(self, chat_id: int, now: datetime, menu: list[str] | None = None) -> None:
        """Note that this chat wrote at `now` (and was shown `menu`); wait until it is stored."""
        earlier = self._pending.get(chat_id)
        if earlier is not None and menu is None:
            menu = earlier[1]
        self._pending[chat_id] = (now, menu)
        if self._committed is None:
            self._committed = asyncio.get_running_loop().create_future()
        committed = self._committed
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        await asyncio.shield(committed)

    async def _write(self) -> None:
        """Store the visits that came in, batch after batch, until none are left."""
        while self._pending:
            batch, committed = self._pending, self._committed
            self._pending, self._committed = {}, None
            assert committed is not None
            try:
                await self._store(batch)
            except asyncio.CancelledError:
                committed.cancel()
                raise
            except Exception as exc:
                committed.set_exception(exc)
            else:
                committed.set_result(None)

    async def _store(self, batch: dict[int, tuple[datetime, list[str] | None]]) -> None:
        """Touch every chat of the batch in one write transaction."""
        async with self.db.transaction() as session:
            chats = await session.scalars(select(Chat).where(Chat.id.in_(sorted(batch))))
            for chat in chats:
                now, menu = batch[chat.id]
                touch_inbound(chat, now)
                if menu is not None:
                    chat.last_choices = menu


class _ReadingSession(Session):
    """A session for answering questions: any write in it raises _Writes before it is sent."""


@event.listens_for(_ReadingSession, "do_orm_execute")
def _refuse_statement(state: ORMExecuteState) -> None:
    """Stop an INSERT, UPDATE or DELETE before it runs."""
    if state.is_insert or state.is_update or state.is_delete:
        raise _Writes


@event.listens_for(_ReadingSession, "before_flush")
def _refuse_flush(session: Session, context: Any, instances: Any) -> None:
    """Stop a flush of new, changed or deleted objects before it runs."""
    raise _Writes


def _menu_of(replies: Sequence[Reply]) -> list[str] | None:
    """Return the commands of the last menu among the replies; None when none shows one."""
    menus = [reply for reply in replies if reply.choices]
    return [choice.command for choice in menus[-1].choices] if menus else None


async def _link_verified_phone(session: AsyncSession, chat: Chat, sender: str) -> None:
    """A WhatsApp sender's number is vouched for: link their orders to this chat."""
    try:
        phone = normalize_phone(sender)
    except InvalidPhone:
        return
    await link_by_phone(session, chat, phone)


async def _identify(
    session: AsyncSession, incoming: Incoming, chat: Chat
) -> tuple[Staff | None, Reseller | None]:
    """Recognise staff and resellers by who is writing, never by which chat it is in."""
    staff: Staff | None = None
    reseller: Reseller | None = None
    if incoming.channel is Channel.TELEGRAM and incoming.sender.isdigit():
        user_id = int(incoming.sender)
        staff = await session.scalar(select(Staff).where(Staff.telegram_id == user_id))
        reseller = await session.scalar(select(Reseller).where(Reseller.telegram_id == user_id))
    elif incoming.channel is Channel.WHATSAPP and incoming.phone_verified:
        staff = await session.scalar(select(Staff).where(Staff.phone == incoming.sender))
        reseller = await session.scalar(select(Reseller).where(Reseller.phone == incoming.sender))
    elif incoming.channel is Channel.CONSOLE and not incoming.group:
        # The console has no platform identity: its chats are tied to a persona when seeded.
        staff = await session.get(Staff, chat.staff_id) if chat.staff_id else None
        reseller = await session.get(Reseller, chat.reseller_id) if chat.reseller_id else None
    if staff is not None and not staff.active:
        staff = None
    return staff, reseller


def _picked(incoming: Incoming, choices: list[str] | None) -> Incoming:
    """A bare number answers the last menu: "2" is its second option."""
    text = incoming.text.strip()
    if choices and text.isdigit() and 1 <= int(text) <= len(choices):
        return replace(incoming, text=choices[int(text) - 1])
    return incoming


def _with_text(incoming: Incoming, text: str) -> Incoming:
    return replace(incoming, text=text)
