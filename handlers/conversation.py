"""The conversation's entry point: one incoming message in, the replies out, in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context, Settings
from handlers.i18n import Messages
from handlers.router import dispatch
from handlers.types import Incoming, Reply, Role
from models.base import utcnow
from models.enums import Channel
from models.errors import InvalidPhone
from models.linking import (
    first_delivery,
    get_or_create_chat,
    link_by_phone,
    linked_customer_ids,
    preferred_language,
    touch_inbound,
)
from models.people import Chat, Reseller, Staff
from models.phones import normalize_phone
from models.search import IndexCache
from models.storage import Database

log = logging.getLogger(__name__)
MAX_TEXT = 4096  # longer messages are cut; no platform sends more


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
        # Called after a message's transaction commits: the runtime wakes its dispatcher, so
        # a push due at once leaves at once rather than at the next poll.
        self.on_commit = on_commit
        self.settings = settings
        self.messages = messages
        self.clock = clock
        self.catalog = IndexCache()

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Answer one message. Never raises: a failure is logged and gets a short apology."""
        if len(incoming.text) > MAX_TEXT:
            incoming = _with_text(incoming, incoming.text[:MAX_TEXT])
        try:
            async with self.db.transaction() as session:
                if incoming.message_id and not await first_delivery(
                    session, incoming.channel, incoming.message_id, self.clock()
                ):
                    return []  # answered when it first came
                ctx = await self._context(session, incoming)
                ctx.incoming = _picked(ctx.incoming, ctx.chat.last_choices)
                slash_optional = incoming.channel is not Channel.TELEGRAM
                replies = await dispatch(ctx, slash_optional=slash_optional)
                menus = [reply for reply in replies if reply.choices]
                if menus:
                    ctx.chat.last_choices = [choice.command for choice in menus[-1].choices]
                answered = [replace(reply, lang=ctx.lang) for reply in replies]
            if self.on_commit is not None:
                self.on_commit()
            return answered
        except Exception:
            log.exception("could not answer a %s message", incoming.channel.value)
            return [Reply(self.messages.text(self.settings.default_language, "error.sorry"))]

    async def _context(self, session: AsyncSession, incoming: Incoming) -> Context:
        """Find or open the chat, recognise the sender, and pick the language."""
        now = self.clock()
        chat = await get_or_create_chat(session, incoming.channel, incoming.chat[:64])
        touch_inbound(chat, now)  # writing again reopens a blocked or opted-out chat
        if incoming.phone_verified:
            await _link_verified_phone(session, chat, incoming.sender)
        staff, reseller = await _identify(session, incoming, chat)
        if staff is not None:
            role = Role.STAFF
        elif reseller is not None:
            role = Role.RESELLER
        else:
            linked = await linked_customer_ids(session, chat)
            role = Role.CUSTOMER if linked else Role.UNKNOWN
        lang = await preferred_language(session, chat)
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
