"""The front desk: what the bot cannot answer goes to a person, who answers from their own chat.

Customers: asking for a person, two messages in a row the bot could not understand, or media
nothing reads opens a handover thread, and the customer is told when a person will answer.
While it is open, their free text goes to staff and the bot keeps quiet. Staff: `/balas N`
(or, on Telegram, a reply to the forwarded message), `/ambil N`, `/selesai N`, `/inbox`.
"""

from __future__ import annotations

import re
from datetime import datetime

from handlers.context import Context
from handlers.types import Reply
from models.support import (
    Reason,
    ThreadError,
    claim,
    close,
    customer_wrote,
    inbox,
    open_thread,
    open_thread_of,
    reply,
    thread_of_forward,
)

NUMBER = re.compile(r"^\s*#?(\d{1,9})\b\s*(.*)$", re.S)


def asks_for_person(ctx: Context, words: tuple[str, ...]) -> bool:
    """Whether the message uses one of the seller's own words for asking for a person."""
    padded = f" {' '.join(words)} "
    return any(f" {phrase} " in padded for phrase in ctx.settings.support_words)


async def hand_over(ctx: Context, reason: Reason) -> Reply:
    """Open a thread for this chat and tell the customer when a person will answer."""
    opened = await open_thread(ctx.session, ctx.chat, reason, ctx.now, name=ctx.incoming.name)
    ctx.chat.misses = 0
    number = opened.thread.id
    ctx.thread = number  # a person answers the chat from now on
    if ctx.settings.staffed(ctx.now):
        answer = ctx.t("support.soon")
    else:
        start = ctx.settings.support_hours[0] if ctx.settings.support_hours else None
        answer = ctx.t("support.later", start=f"{start:%H:%M}" if start else "")
    # A number or a yes from here on answers the person, never a menu the bot showed before.
    text = ctx.t(f"support.ack.{reason.value}", number=number) + " " + answer
    return Reply(text, clears_menu=True)


async def held(ctx: Context) -> list[Reply]:
    """A message in a chat a person has taken over: it goes to staff; the bot keeps quiet."""
    thread = await open_thread_of(ctx.session, ctx.chat.id)
    if thread is not None:
        await customer_wrote(ctx.session, thread, ctx.now)
    return []


# ------------------------------------------------------------------------------- staff


def _refused(ctx: Context, exc: ThreadError) -> Reply:
    return Reply(ctx.t(f"support.refuse.{exc.rule}", number=exc.number, who=exc.who))


async def answer(ctx: Context, args: str) -> Reply:
    """Answer a thread's customer: `/balas 12 teks` (with a photo, the photo too)."""
    match = NUMBER.match(args)
    words = match[2].strip() if match else ""
    if match is None or not (words or _media_sent(ctx)):
        return ctx.reply("support.reply_usage")
    return await _answer(ctx, int(match[1]), words)


async def answer_quoted(ctx: Context) -> Reply | None:
    """A staff member replied to a forwarded message (Telegram): answer that thread."""
    quoted = ctx.incoming.reply_to
    if quoted is None:
        return None
    number = await thread_of_forward(ctx.session, ctx.chat.id, quoted)
    if number is None:
        return None
    if not (ctx.incoming.text.strip() or _media_sent(ctx)):
        return ctx.reply("support.reply_usage")
    return await _answer(ctx, number, ctx.incoming.text.strip())


def _file_sent(ctx: Context) -> tuple[str, str] | None:
    """The file (kind, reference) a staff member sent with their answer, if a channel can
    pass it on: an invoice PDF, a voice note, a video of the product."""
    attachment = ctx.incoming.attachment
    return (attachment.kind, attachment.ref) if attachment and attachment.sendable else None


def _media_sent(ctx: Context) -> bool:
    return ctx.incoming.photo is not None or _file_sent(ctx) is not None


async def _answer(ctx: Context, number: int, words: str) -> Reply:
    assert ctx.staff is not None
    photo, file = ctx.incoming.photo, _file_sent(ctx)
    try:
        await reply(ctx.session, number, ctx.staff, words, ctx.now, photo=photo, file=file)
    except ThreadError as exc:
        return _refused(ctx, exc)
    sent = ctx.t("support.replied", number=number)
    attachment = ctx.incoming.attachment
    if attachment is not None and not attachment.sendable:  # a place, a sticker: not passed on
        key = f"support.media.{attachment.kind}"
        kind = ctx.t(key) if key in ctx.messages.keys(ctx.lang) else attachment.kind
        sent += "\n" + ctx.t("support.not_passed_on", kind=kind)
    return Reply(sent)


async def take(ctx: Context, args: str) -> Reply:
    """Take a thread so no one else answers it at the same time: `/ambil 12`."""
    match = NUMBER.match(args)
    if match is None:
        return ctx.reply("support.claim_usage")
    assert ctx.staff is not None
    try:
        thread = await claim(ctx.session, int(match[1]), ctx.staff, ctx.now, staff_chat=ctx.chat.id)
    except ThreadError as exc:
        return _refused(ctx, exc)
    return ctx.reply("support.taken", number=thread.id)


async def done(ctx: Context, args: str) -> Reply:
    """Close a thread; the customer is told and the bot answers them again: `/selesai 12`."""
    match = NUMBER.match(args)
    if match is None:
        return ctx.reply("support.done_usage")
    try:
        thread = await close(ctx.session, int(match[1]), ctx.now)
    except ThreadError as exc:
        return _refused(ctx, exc)
    return ctx.reply("support.closed", number=thread.id)


async def open_threads(ctx: Context, args: str) -> Reply:
    """The open threads, the longest waiting first, with how long each has waited."""
    waiting = await inbox(ctx.session)
    if not waiting:
        return ctx.reply("support.inbox_empty")
    lines = [ctx.t("support.inbox_title", count=len(waiting))]
    for thread in waiting:
        parts = [f"#{thread.number}", thread.name or ctx.t("greeting.friend")]
        if thread.waiting_since is not None:
            parts.append(ctx.t("support.waiting", minutes=_minutes(ctx.now, thread.waiting_since)))
        else:
            parts.append(ctx.t("support.answered"))
        if thread.claimed_by:
            parts.append(ctx.t("support.claimed_by", who=thread.claimed_by))
        lines.append(" · ".join(parts))
    lines.append(ctx.t("support.inbox_hint"))
    return Reply("\n".join(lines))


def _minutes(now: datetime, since: datetime) -> int:
    return max(0, int((now - since).total_seconds() // 60))
