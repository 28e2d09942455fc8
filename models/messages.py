"""The conversation log: every chat message in and out, kept for `[privacy] keep_messages_days`.

kabar owns the shop's chat number, so what anyone wrote, and what they were told, must be
there to read again: for a person taking over a chat, and for a dispute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from itertools import dropwhile, takewhile
from typing import Literal, cast

from sqlalchemy import (
    ForeignKey,
    Index,
    Row,
    Select,
    String,
    Table,
    Text,
    bindparam,
    delete,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow
from models.enums import Channel
from models.people import Chat

Direction = Literal["in", "out"]
Author = Literal["person", "kabar", "staff"]  # "person": whoever writes in the chat
TEXT_KEPT = 4096  # characters of one message kept; no platform sends more


class ChatMessage(Base):
    """One message in a chat: who said it, what, with what attached, about which order."""

    __tablename__ = "chat_messages"
    __table_args__ = (Index("ix_chat_messages_chat_id_id", "chat_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))  # in, out
    author: Mapped[str] = mapped_column(String(16))  # customer, kabar, staff
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, default="")
    media_kind: Mapped[str | None] = mapped_column(String(16))  # photo, document, voice, …
    media: Mapped[str | None] = mapped_column(String(1000))  # the platform's reference
    provider_message_id: Mapped[str | None] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


_TABLE = cast(Table, ChatMessage.__table__)


@dataclass(frozen=True, slots=True)
class Logged:
    """A message to write to the log."""

    chat_id: int
    direction: Direction
    author: Author
    text: str
    at: datetime
    media_kind: str | None = None
    media: str | None = None
    provider_message_id: str | None = None
    order_id: int | None = None
    staff_id: int | None = None

    def row(self) -> dict[str, object]:
        """The row as the table takes it."""
        return {
            "chat_id": self.chat_id,
            "direction": self.direction,
            "author": self.author,
            "staff_id": self.staff_id,
            "text": self.text[:TEXT_KEPT],
            "media_kind": self.media_kind,
            "media": self.media[:1000] if self.media else None,
            "provider_message_id": self.provider_message_id[:64]
            if self.provider_message_id
            else None,
            "order_id": self.order_id,
            "at": self.at,
        }


async def log_messages(session: AsyncSession, messages: Sequence[Logged]) -> None:
    """Write messages to the log, in the caller's transaction, in one statement."""
    if messages:
        await session.execute(_TABLE.insert(), [message.row() for message in messages])


async def log_message(session: AsyncSession, message: Logged) -> int:
    """Write one message to the log; return its id."""
    result = await session.execute(_TABLE.insert().returning(_TABLE.c.id), [message.row()])
    return int(result.scalar_one())


async def last_messages(session: AsyncSession, chat_id: int, count: int) -> list[ChatMessage]:
    """A chat's last `count` messages, oldest first."""
    rows = await session.scalars(
        select(ChatMessage)
        .where(ChatMessage.chat_id == chat_id)
        .order_by(ChatMessage.id.desc())
        .limit(count)
    )
    return list(reversed(rows.all()))


async def messages_after(
    session: AsyncSession, chat_id: int, after_id: int, *, author: Author | None = None
) -> list[ChatMessage]:
    """A chat's messages written after the one with `after_id`, oldest first."""
    query = select(ChatMessage).where(ChatMessage.chat_id == chat_id, ChatMessage.id > after_id)
    if author is not None:
        query = query.where(ChatMessage.author == author)
    return list(await session.scalars(query.order_by(ChatMessage.id)))


async def last_said(session: AsyncSession, chat_id: int) -> tuple[Author, datetime] | None:
    """Who said the last thing logged in a chat to the person in it (kabar or staff), and
    when; None when nothing was."""
    row = (
        await session.execute(
            select(ChatMessage.author, ChatMessage.at)
            .where(ChatMessage.chat_id == chat_id, ChatMessage.direction == "out")
            .order_by(ChatMessage.id.desc())
            .limit(1)
        )
    ).first()
    return (cast(Author, row[0]), row[1]) if row is not None else None


async def last_order_told(session: AsyncSession, chat_id: int, since: datetime) -> int | None:
    """The order a chat was last told about: what it was sent last (a reply, a push, and
    what was sent with it), when all of that was about one order and sent after `since`.
    None otherwise: news of two orders at once points to neither."""
    rows = (await session.execute(_last_said_query(), {"chat_id": chat_id})).all()
    said = list(takewhile(_sent, dropwhile(lambda row: not _sent(row), rows)))
    if not said or said[0].at < since:
        return None
    orders = {row.order_id for row in said if row.at >= said[0].at - _AT_ONCE}
    return orders.pop() if len(orders) == 1 else None


_ONE_TURN = 8  # messages read back for what was said last: plenty


@cache
def _last_said_query() -> Select[str, int | None, datetime]:
    """The chat's last messages, newest first (built once: building costs as much as running)."""
    return (
        select(ChatMessage.direction, ChatMessage.order_id, ChatMessage.at)
        .where(ChatMessage.chat_id == bindparam("chat_id"))
        .order_by(ChatMessage.id.desc())
        .limit(_ONE_TURN)
    )


# Sent together: one answer's messages, or one dispatcher round's pushes (paced a second apart).
_AT_ONCE = timedelta(seconds=10)


def _sent(row: Row[str, int | None, datetime]) -> bool:
    return bool(row.direction == "out")


async def photo_just_before(
    session: AsyncSession, chat_id: int, since: datetime, *, named: str = ""
) -> str | None:
    """The photo a chat sent as the message just before its latest one, when sent after
    `since`: "/foto INV-7" typed under a photo sent without words. With `named` (an order
    code), also the photo before a message that named it: the photo, then "INV-7 jahit",
    then the command that message was offered. None otherwise."""
    rows = (
        await session.execute(
            select(ChatMessage.media_kind, ChatMessage.media, ChatMessage.at, ChatMessage.text)
            .where(ChatMessage.chat_id == chat_id, ChatMessage.direction == "in")
            .order_by(ChatMessage.id.desc())
            .limit(3)
        )
    ).all()
    if len(rows) < 2:
        return None
    kind, media, at, _ = rows[1]
    if kind == "photo":
        return media if at >= since else None
    said = (rows[1][3] or "").casefold()
    if named and len(rows) == 3 and named.casefold() in said and not said.startswith("/"):
        kind, media, at, _ = rows[2]
        return media if kind == "photo" and at >= since else None
    return None


# What a transfer proof can be: a screenshot, or the PDF receipt a bank's app exports.
PROOF_KINDS = ("photo", "document")


async def last_media(session: AsyncSession, chat_id: int) -> tuple[str, str] | None:
    """The kind and reference of the last photo or document someone sent in this chat."""
    row = (
        await session.execute(
            select(ChatMessage.media_kind, ChatMessage.media)
            .where(
                ChatMessage.chat_id == chat_id,
                ChatMessage.direction == "in",
                ChatMessage.media_kind.in_(PROOF_KINDS),
                ChatMessage.media.is_not(None),
            )
            .order_by(ChatMessage.id.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    kind, ref = row
    return str(kind), str(ref)


async def forget_before(session: AsyncSession, before: datetime) -> int:
    """Delete the messages written before `before`; return how many."""
    result = await session.execute(
        delete(ChatMessage)
        .where(ChatMessage.at < before)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Transcript:
    """One chat's stored messages, for a person to read."""

    chat: Chat
    messages: list[ChatMessage]


async def transcript(session: AsyncSession, channel: Channel, address: str) -> Transcript | None:
    """Every stored message of the chat at this address, oldest first; None if no such chat."""
    chat = await session.scalar(
        select(Chat).where(Chat.channel == channel, Chat.address == address)
    )
    if chat is None:
        return None
    rows = await session.scalars(
        select(ChatMessage).where(ChatMessage.chat_id == chat.id).order_by(ChatMessage.id)
    )
    return Transcript(chat, list(rows))
