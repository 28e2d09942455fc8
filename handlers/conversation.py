"""The conversation's entry point: one incoming message in, the replies out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from handlers.context import Context, Settings
from handlers.i18n import Messages
from handlers.router import dispatch
from handlers.types import Incoming, Reply, Role, SharedContact
from models.base import utcnow
from models.chats import (
    Sender,
    first_delivery,
    get_or_create_chat,
    identify,
    note_visits,
    remember_chat_of,
    touch_inbound,
)
from models.enums import Channel
from models.errors import InvalidPhone
from models.linking import link_by_phone
from models.messages import Logged, log_message, log_messages
from models.people import Chat
from models.phones import international_phone
from models.search import IndexCache
from models.storage import Database
from models.text import clean_text

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
        self.failures = Failures()

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Answer one message. Never raises: a failure is logged and gets a short apology."""
        incoming = _cleaned(incoming)
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
        except Exception as exc:
            self.failures.log(incoming.channel.value, exc, self.clock())
            return [Reply(self.messages.text(self.settings.default_language, "error.sorry"))]

    async def _answer_reading(self, incoming: Incoming) -> list[Reply] | None:
        """Answer a question that changes nothing; None if answering it would write."""
        now = self.clock()
        async with self.db.sessions(sync_session_class=_ReadingSession) as session:
            sender = await _identify(session, incoming)
            if sender is None or sender.staff is not None:
                return None  # a first message opens the chat; staff mostly change things
            if sender.thread is not None:
                return None  # a person answers this chat: the message goes to them
            chat = sender.chat
            if not chat.reachable or chat.inactive_reason is not None:
                return None  # writing after a block or STOP reopens the chat
            try:
                ctx = self._new_context(session, incoming, sender, now)
                replies = await self._dispatch(ctx)
            except _Writes:
                return None
            if session.new or session.dirty or session.deleted:
                return None
        logged = [_inbound(chat.id, incoming, now), *_outbound(chat.id, replies, now)]
        await self.visits.record(chat.id, now, _menu_of(replies), logged)
        return [replace(reply, lang=ctx.lang) for reply in replies]

    async def _answer_writing(self, incoming: Incoming) -> list[Reply]:
        """Answer a message in one write transaction, with everything it changes."""
        now = self.clock()
        async with self.db.transaction() as session:
            if incoming.message_id and not await first_delivery(
                session, incoming.channel, incoming.message_id, now
            ):
                return []  # answered when it first came
            sender = await _identify(session, incoming)
            if sender is None or incoming.phone_verified:
                chat = (
                    sender.chat
                    if sender
                    else await get_or_create_chat(session, incoming.channel, incoming.chat[:64])
                )
                if incoming.phone_verified:
                    await _link_verified_phone(session, chat, incoming.sender)
                sender = await _identify(session, incoming)
                assert sender is not None
            silenced = sender.chat.opted_out
            touch_inbound(sender.chat, now)  # writing again reopens a blocked or opted-out chat
            remember_chat_of(sender, group=incoming.group)
            await log_message(session, _inbound(sender.chat.id, incoming, now))
            ctx = self._new_context(session, incoming, sender, now)
            ctx.resumed = silenced
            replies = await self._dispatch(ctx)
            if ctx.resumed and not ctx.chat.opted_out:
                replies = [Reply(ctx.t("stop.resumed")), *replies]
            menu = _menu_of(replies)
            if menu is not None:
                ctx.chat.last_choices = menu
            await log_messages(session, _outbound(ctx.chat.id, replies, now))
            return [replace(reply, lang=ctx.lang) for reply in replies]

    async def _dispatch(self, ctx: Context) -> list[Reply]:
        """Route the message (a bare number picks from the last menu) to its handler."""
        ctx.incoming = _picked(ctx.incoming, ctx.chat.last_choices)
        slash_optional = ctx.incoming.channel is not Channel.TELEGRAM
        return await dispatch(ctx, slash_optional=slash_optional)

    def _new_context(
        self, session: AsyncSession, incoming: Incoming, sender: Sender, now: datetime
    ) -> Context:
        """Build the context one message is handled in: who writes, in which role and words."""
        if sender.staff is not None:
            role = Role.STAFF
        elif sender.reseller is not None:
            role = Role.RESELLER
        else:
            role = Role.CUSTOMER if sender.linked else Role.UNKNOWN
        return Context(
            session=session,
            incoming=incoming,
            chat=sender.chat,
            role=role,
            staff=sender.staff,
            reseller=sender.reseller,
            lang=sender.language or self.settings.default_language,
            settings=self.settings,
            messages=self.messages,
            now=now,
            catalog=self.catalog,
            thread=sender.thread,
        )


async def _identify(session: AsyncSession, incoming: Incoming) -> Sender | None:
    """Recognise who writes, and in which chat (None: the chat is new)."""
    return await identify(
        session,
        incoming.channel,
        incoming.chat[:64],
        incoming.sender,
        phone_verified=incoming.phone_verified,
        group=incoming.group,
    )


class Failures:
    """Logs failures to answer: a traceback once a minute per place it arose, else one line.

    One chat can make every message it sends fail the same way, many a second; its log
    must not grow by a traceback each.
    """

    every = timedelta(minutes=1)

    def __init__(self) -> None:
        self._shown: dict[tuple[str, str, int], datetime] = {}

    def log(self, channel: str, exc: Exception, now: datetime) -> None:
        """Log that a message on `channel` could not be answered because of `exc`."""
        site = _site(exc)
        shown = self._shown.get(site)
        if shown is None or not shown <= now < shown + self.every:
            self._shown[site] = now
            log.error("could not answer a %s message", channel, exc_info=exc)
            return
        name, path, line = site
        log.error(
            "could not answer a %s message: %s at %s:%s (traceback logged once a minute)",
            channel,
            name,
            path,
            line,
        )


def _site(exc: BaseException) -> tuple[str, str, int]:
    """Where an exception arose: its type and the innermost frame of its traceback."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return type(exc).__name__, "?", 0
    return type(exc).__name__, tb.tb_frame.f_code.co_filename, tb.tb_lineno


# SQLite lets one transaction write at a time: a write per question would queue every question
# behind the others, one write for all the visits that came in meanwhile does not.
class Visits:
    """Stores that people wrote (and the menu they were shown last), many chats per write."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: dict[int, tuple[datetime, list[str] | None]] = {}
        self._logged: list[Logged] = []
        self._committed: asyncio.Future[None] | None = None
        self._writer: asyncio.Task[None] | None = None

    async def record(
        self,
        chat_id: int,
        now: datetime,
        menu: list[str] | None = None,
        logged: Sequence[Logged] = (),
    ) -> None:
        """Note that this chat wrote at `now` (was shown `menu`, and said and was told what
        `logged` holds); wait until it is stored."""
        earlier = self._pending.get(chat_id)
        if earlier is not None and menu is None:
            menu = earlier[1]
        self._pending[chat_id] = (now, menu)
        self._logged.extend(logged)
        if self._committed is None:
            self._committed = asyncio.get_running_loop().create_future()
        committed = self._committed
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        await asyncio.shield(committed)

    async def _write(self) -> None:
        """Store the visits that came in, batch after batch, until none are left."""
        while self._pending:
            batch, logged, committed = self._pending, self._logged, self._committed
            self._pending, self._logged, self._committed = {}, [], None
            assert committed is not None
            try:
                await self._store(batch, logged)
            except asyncio.CancelledError:
                committed.cancel()
                raise
            except Exception as exc:
                committed.set_exception(exc)
            else:
                committed.set_result(None)

    async def _store(
        self, batch: dict[int, tuple[datetime, list[str] | None]], logged: Sequence[Logged]
    ) -> None:
        """Touch every chat of the batch, and log its messages, in one write transaction."""
        async with self.db.transaction() as session:
            await note_visits(session, batch)
            await log_messages(session, logged)


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


def _inbound(chat_id: int, incoming: Incoming, now: datetime) -> Logged:
    """The message as the chat log keeps it."""
    kind, ref = incoming.media or (None, None)
    return Logged(
        chat_id,
        "in",
        "person",
        incoming.text,
        now,
        media_kind=kind,
        media=ref,
        provider_message_id=incoming.provider_id or incoming.message_id,
    )


def _outbound(chat_id: int, replies: Sequence[Reply], now: datetime) -> list[Logged]:
    """The replies as the chat log keeps them."""
    return [
        Logged(
            chat_id,
            "out",
            "kabar",
            reply.text,
            now,
            media_kind="photo" if reply.photo else None,
            media=reply.photo,
        )
        for reply in replies
    ]


def _menu_of(replies: Sequence[Reply]) -> list[str] | None:
    """Return the commands of the last menu among the replies; None when none shows one."""
    menus = [reply for reply in replies if reply.choices]
    return [choice.command for choice in menus[-1].choices] if menus else None


async def _link_verified_phone(session: AsyncSession, chat: Chat, sender: str) -> None:
    """A WhatsApp sender's number is vouched for: link their orders to this chat."""
    try:
        phone = international_phone(sender)
    except InvalidPhone:
        return
    await link_by_phone(session, chat, phone)


def _picked(incoming: Incoming, choices: list[str] | None) -> Incoming:
    """A bare number answers the last menu: "2" is its second option."""
    text = incoming.text.strip()
    if choices and text.isdigit() and 1 <= int(text) <= len(choices):
        return replace(incoming, text=choices[int(text) - 1])
    return incoming


def _with_text(incoming: Incoming, text: str) -> Incoming:
    return replace(incoming, text=text)


def _cleaned(incoming: Incoming) -> Incoming:
    """The message without control characters or lone surrogates, so every handler is safe."""
    contact = incoming.contact
    if contact is not None:
        contact = SharedContact(clean_text(contact.phone), _clean(contact.user_id))
    cleaned = replace(
        incoming,
        chat=clean_text(incoming.chat),
        sender=clean_text(incoming.sender),
        name=clean_text(incoming.name),
        text=clean_text(incoming.text),
        photo=_clean(incoming.photo),
        message_id=_clean(incoming.message_id),
        contact=contact,
    )
    return incoming if cleaned == incoming else cleaned


def _clean(value: str | None) -> str | None:
    return clean_text(value) if value is not None else None
