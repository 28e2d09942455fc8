"""The conversation's entry point: one incoming message in, the replies out."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from handlers.context import Context, Settings
from handlers.i18n import Messages
from handlers.intents import affirms, language_of
from handlers.router import dispatch
from handlers.types import Incoming, Reply, Role, SharedContact
from models.base import utcnow
from models.chats import (
    Sender,
    first_delivery,
    get_or_create_chat,
    identify,
    remember_chat_of,
    touch_inbound,
)
from models.enums import Channel, Language
from models.errors import InvalidPhone
from models.linking import link_by_phone
from models.messages import Logged, log_message, log_messages
from models.orders import clean_code, other_forms
from models.people import Chat
from models.phones import international_phone
from models.search import IndexCache
from models.storage import Database, locked
from models.text import clean_text
from models.visits import Answered, Delivery, Visit, store_visits

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
        # A platform delivers a message again when the answer is slow (Telegram, by update id;
        # Twilio, by MessageSid): it is answered once. A copy that comes while the first is
        # being answered here is dropped at once; one that comes later finds its id stored.
        delivery = _delivery(incoming)
        if delivery is not None and not self.visits.claim(delivery):
            return []
        try:
            answered = None
            # Most messages only ask (status, orders, stock). Answered from a read transaction
            # they never queue behind a writer, and their visits (with the message's id) are
            # stored many per write. A message that would change anything is answered again,
            # from the start, in a write transaction of its own that records its id with what
            # it changes. A verified phone always writes (it may link the chat).
            if not incoming.phone_verified:
                answered = await self._answer_reading(incoming, delivery)
            if answered is None:
                answered = await self._answer_writing(incoming)
                if self.on_commit is not None:
                    self.on_commit()
            return answered
        except Exception as exc:
            self.failures.log(incoming.channel.value, exc, self.clock())
            return [Reply(self.messages.text(self.settings.default_language, "error.sorry"))]
        finally:
            if delivery is not None:
                self.visits.release(delivery)

    async def _answer_reading(
        self, incoming: Incoming, delivery: Delivery | None
    ) -> list[Reply] | None:
        """Answer a question that changes nothing; None if answering it would write."""
        now = self.clock()
        try:
            read = await self.db.read(
                functools.partial(self._read, incoming=incoming, delivery=delivery, now=now),
                _ReadingSession,
            )
        except _Writes:
            return None
        if read is None or isinstance(read, list):
            return read
        chat_id, lang, replies = read
        logged = [_inbound(chat_id, incoming, now), *_outbound(chat_id, replies, now)]
        if not await self.visits.record(chat_id, now, _menu_of(replies), logged, delivery):
            return []  # another process answered this very message first
        return [replace(reply, lang=lang) for reply in replies]

    async def _read(
        self, session: AsyncSession, *, incoming: Incoming, delivery: Delivery | None, now: datetime
    ) -> tuple[int, Language, list[Reply]] | list[Reply] | None:
        """The answer to a question, read in `session`: the chat, its language and the replies;
        [] if it was answered before; None if it is for a write transaction to answer.

        It may run in a thread of the database's (models.storage): it awaits only the session.
        """
        sender = await _identify(session, incoming, delivery)
        if sender is not None and sender.answered:
            return []  # answered when it first came
        if sender is None or sender.staff is not None:
            return None  # a first message opens the chat; staff mostly change things
        if sender.thread is not None:
            return None  # a person answers this chat: the message goes to them
        chat = sender.chat
        if not chat.reachable or chat.inactive_reason is not None:
            return None  # writing after a block or STOP reopens the chat
        ctx = self._new_context(session, incoming, sender, now)
        replies = await self._dispatch(ctx)
        if session.new or session.dirty or session.deleted:
            return None
        return chat.id, ctx.lang, replies

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
                    await _link_verified_phone(session, chat, incoming.sender, now)
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
        menu = self.visits.last_menu(ctx.chat)
        ctx.last_menu = tuple(menu or ())
        ctx.incoming = _picked(ctx.incoming, menu, staff=ctx.role is Role.STAFF)
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
            lang=self._language(incoming, sender),
            settings=self.settings,
            messages=self.messages,
            now=now,
            catalog=self.catalog,
            thread=sender.thread,
            drafting=sender.drafting,
            brand=sender.brand,
        )

    def _language(self, incoming: Incoming, sender: Sender) -> Language:
        """The language to answer in: the chat's (or its customer's); else the one a customer's
        or reseller's words are plainly written in, kept for the chat when it is not the shop's
        default, so that its pushes come in it too (`/bahasa` changes it back)."""
        if sender.language is not None:
            return sender.language
        if sender.staff is not None or incoming.text.startswith("/"):
            # Staff write to customers in the customers' language, and commands say nothing.
            return self.settings.default_language
        said = language_of(incoming.text)
        if said is None:
            return self.settings.default_language
        lang = Language(said)
        if lang is not self.settings.default_language:
            sender.chat.language = lang  # a write: answered in a write transaction, once
        return lang


async def _identify(
    session: AsyncSession, incoming: Incoming, delivery: Delivery | None = None
) -> Sender | None:
    """Recognise who writes, and in which chat (None: the chat is new); with the message's
    `delivery`, whether it was answered before too."""
    return await identify(
        session,
        incoming.channel,
        incoming.chat[:64],
        incoming.sender,
        phone_verified=incoming.phone_verified,
        group=incoming.group,
        message_id=delivery[1] if delivery is not None else None,
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


def _delivery(incoming: Incoming) -> Delivery | None:
    """The platform's id of the message, by which a redelivery is known; None if it has none."""
    return (incoming.channel, incoming.message_id[:64]) if incoming.message_id else None


@dataclass
class _Batch:
    """Visits, chat log rows and message ids to store in one write."""

    visits: dict[int, Visit] = field(default_factory=dict)
    logged: list[tuple[Delivery | None, Logged]] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    # Each resolved, once the batch is written, with the ids found recorded already (their
    # messages were answered elsewhere first); or with None when it had to wait for the lock.
    waiters: list[asyncio.Future[frozenset[Delivery] | None]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.visits or self.logged or self.deliveries)

    def add(self, chat_id: int, visit: Visit) -> None:
        """Note a visit; a later one without a menu keeps the menu shown before."""
        earlier = self.visits.get(chat_id)
        if earlier is not None and visit[1] is None:
            visit = (visit[0], earlier[1])
        self.visits[chat_id] = visit

    def absorb(self, later: _Batch) -> None:
        """Take in what was noted after this batch, keeping the order things happened."""
        for chat_id, visit in later.visits.items():
            self.add(chat_id, visit)
        self.logged.extend(later.logged)
        self.deliveries.extend(later.deliveries)
        self.waiters.extend(later.waiters)

    def resolve(self, outcome: frozenset[Delivery] | None) -> None:
        """Tell everyone waiting for this batch how it went (and stop them waiting)."""
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(outcome)


# SQLite lets one transaction write at a time: a write per question would queue every question
# behind the others, one write for all the visits that came in meanwhile does not.
#
# That write is the only thing a question waits for, and another writer may hold SQLite's lock
# past busy_timeout (a big import). Then the question is answered all the same, its visit stays
# noted here, and the writer keeps at it until the lock is free; questions asked meanwhile do
# not wait at all (a bare "2" picking from a menu not yet stored still finds it, `last_menu`).
class Visits:
    """Stores that people wrote (and the menu they were shown last), many chats per write."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending = _Batch()
        self._writing = _Batch()  # the batch being written, for `last_menu`
        self._writer: asyncio.Task[None] | None = None
        self._stalled = False  # the lock is taken for long: nobody waits for the write
        # Message ids being answered in this process, or answered and not yet stored; True
        # once handed to a batch (which lets go of it when written).
        self._claimed: dict[Delivery, bool] = {}

    def claim(self, delivery: Delivery) -> bool:
        """Start answering a message; False if this process is answering it already."""
        if delivery in self._claimed:
            return False
        self._claimed[delivery] = False
        return True

    def release(self, delivery: Delivery) -> None:
        """Let go of a message answered by a write of its own (or not at all)."""
        if self._claimed.get(delivery) is False:
            del self._claimed[delivery]

    def last_menu(self, chat: Chat) -> list[str] | None:
        """The commands of the last menu the chat was shown, stored or not yet."""
        for batch in (self._pending, self._writing):
            visit = batch.visits.get(chat.id)
            if visit is None or visit[1] is None:
                continue
            if chat.last_inbound_at is None or chat.last_inbound_at <= visit[0]:
                return visit[1]
        return chat.last_choices

    async def record(
        self,
        chat_id: int,
        now: datetime,
        menu: list[str] | None = None,
        logged: Sequence[Logged] = (),
        delivery: Delivery | None = None,
    ) -> bool:
        """Note that this chat wrote at `now` (was shown `menu`, and said and was told what
        `logged` holds, in the message `delivery`); wait until it is stored, unless the
        database's lock is taken for long. False if `delivery` was answered elsewhere first."""
        batch = self._pending
        batch.add(chat_id, (now, menu))
        batch.logged.extend((delivery, row) for row in logged)
        if delivery is not None:
            batch.deliveries.append(delivery)
            self._claimed[delivery] = True
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        if self._stalled:
            return True  # stored once the lock is free
        stored: asyncio.Future[frozenset[Delivery] | None]
        stored = asyncio.get_running_loop().create_future()
        batch.waiters.append(stored)
        lost = await asyncio.shield(stored)
        return lost is None or delivery not in lost

    async def flush(self) -> None:
        """Wait until every visit noted so far is stored (at shutdown)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def _write(self) -> None:
        """Store the visits that came in, batch after batch, until none are left."""
        while self._pending:
            batch, self._pending = self._pending, _Batch()
            self._writing = batch
            try:
                lost = await self._store_when_free(batch)
            except asyncio.CancelledError:
                for waiter in batch.waiters:
                    waiter.cancel()
                raise
            except Exception as exc:
                self._let_go(batch)
                waiters, batch.waiters = batch.waiters, []
                for waiter in waiters:
                    waiter.set_exception(exc)
            else:
                self._let_go(batch)
                batch.resolve(lost)
            finally:
                self._writing = _Batch()

    async def _store_when_free(self, batch: _Batch) -> frozenset[Delivery]:
        """Store the batch, waiting for SQLite's lock as long as another writer holds it."""
        try:
            while True:
                try:
                    return await self._store(batch)
                except Exception as exc:
                    if not locked(exc):
                        raise
                # busy_timeout ran out behind another writer: answer whoever waits, and try
                # again with what came in meanwhile.
                self._stalled = True
                batch.absorb(self._pending)
                self._pending = _Batch()
                self._writing = batch
                batch.resolve(None)
        finally:
            self._stalled = False

    def _let_go(self, batch: _Batch) -> None:
        """The batch's message ids are stored (or never will be): a copy finds them now."""
        for delivery in batch.deliveries:
            self._claimed.pop(delivery, None)

    async def _store(self, batch: _Batch) -> frozenset[Delivery]:
        """Touch every chat of the batch, log its messages and record its message ids, in one
        write transaction; return the ids found recorded already (their messages not logged)."""
        at = max((visit[0] for visit in batch.visits.values()), default=utcnow())
        answered = Answered(batch.deliveries, batch.visits, batch.logged, at)
        return frozenset(await store_visits(self.db, answered))


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
            media_kind=reply.media[0] if reply.media else None,
            media=reply.media[1] if reply.media else None,
            order_id=reply.order_id,
        )
        for reply in replies
    ]


def _menu_of(replies: Sequence[Reply]) -> list[str] | None:
    """The menu the replies leave the chat with: the commands of the last one shown; [] when
    the last reply clears it (an older menu answers nothing now); None when they show
    neither, and the chat keeps the menu it had."""
    for reply in reversed(replies):
        if reply.choices:
            return [choice.command for choice in reply.choices]
        if reply.clears_menu:
            return []
    return None


async def _link_verified_phone(
    session: AsyncSession, chat: Chat, sender: str, now: datetime
) -> None:
    """A WhatsApp sender's number is vouched for: link their orders to this chat."""
    try:
        phone = international_phone(sender)
    except InvalidPhone:
        return
    await link_by_phone(session, chat, phone, now=now)


def _picked(incoming: Incoming, choices: list[str] | None, *, staff: bool) -> Incoming:
    """A bare number answers the last menu: "2" is its second option. A customer's plain yes
    takes a menu's one option, and an order code typed instead of tapped the option about it:
    "INV-1001" after "which order is this proof for?" is `/bukti INV-1001`, not a question."""
    text = incoming.text.strip()
    if not choices:
        return incoming
    # isdecimal, not isdigit: "²" is a digit int() cannot read; "٢" (Arabic-Indic 2) it can.
    if text.isdecimal() and 1 <= int(text) <= len(choices):
        return replace(incoming, text=choices[int(text) - 1])
    if staff:
        return incoming  # staff are offered commands that change orders: a tap or a number
    if len(choices) == 1 and affirms(text):  # "iya kak" to the one thing offered
        return replace(incoming, text=choices[0])
    code = clean_code(text.strip("#.!?"))
    if code is None or not any(c.isdigit() for c in code):
        return incoming
    forms = {code, *other_forms(code)}
    about = [c for c in choices if len(words := c.split()) == 2 and words[1].upper() in forms]
    return replace(incoming, text=about[0]) if len(about) == 1 else incoming


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
