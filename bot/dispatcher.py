"""The outbox dispatcher: claims due notifications, words them per chat, sends, records."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.channels import ChatChannel, SendError, TemplateChannel
from handlers.context import Settings
from handlers.i18n import Messages
from handlers.notifications import render_notification, template_variables
from models.base import utcnow
from models.enums import Channel, NotificationKind, NotificationStatus
from models.linking import preferred_language
from models.outbox import Notification, claim_due, enqueue, finish
from models.people import Chat
from models.phones import mask_phone
from models.storage import Database

log = logging.getLogger(__name__)


def _inside(last_inbound: datetime | None, now: datetime, window: timedelta) -> bool:
    """Whether the person wrote recently enough for a free-form message."""
    return last_inbound is not None and now - last_inbound < window


class Dispatcher:
    """Sends what the outbox owes, at least once, never before it is due."""

    def __init__(
        self,
        db: Database,
        channels: Mapping[Channel, ChatChannel],
        messages: Messages,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        batch: int = 100,
        lease: timedelta = timedelta(seconds=60),
        max_attempts: int = 8,
    ) -> None:
        self.db = db
        self.channels = channels  # the live mapping: channels may start after the dispatcher
        self.messages = messages
        self.settings = settings
        self.clock = clock
        self.batch = batch
        self.lease = lease
        self.max_attempts = max_attempts

    async def tick(self) -> int:
        """Send every notification due now; return how many were sent."""
        sent = 0
        while True:
            now = self.clock()
            async with self.db.transaction() as session:
                claimed = await claim_due(session, now=now, limit=self.batch, lease=self.lease)
            if not claimed:
                return sent
            for row in claimed:
                sent += await self._send_one(row)
            if len(claimed) < self.batch:
                return sent

    async def _send_one(self, row: Notification) -> int:
        """Send one claimed row through its chat's channel; 1 if it went out."""
        now = self.clock()
        async with self.db.sessions() as session:
            chat = await session.get(Chat, row.chat_id)
            lang = await preferred_language(session, chat) if chat else None
        row_id, attempts = row.id, row.attempts
        if chat is None or not chat.reachable:
            reason = "chat opted out" if chat and chat.opted_out else "chat inactive"
            await self._finish(row_id, NotificationStatus.SKIPPED, now, error=reason)
            return 0
        channel = self.channels.get(chat.channel)
        if channel is None:
            await self._finish(
                row_id, NotificationStatus.HELD, now, error=f"{chat.channel.value} is not running"
            )
            return 0
        reply = render_notification(
            self.messages,
            self.settings,
            lang or self.settings.default_language,
            row.kind,
            row.payload,
        )
        try:
            if isinstance(channel, TemplateChannel) and (
                row.via_template or not _inside(chat.last_inbound_at, now, channel.session_window)
            ):
                # WhatsApp: outside the 24-hour window only an approved template may go out.
                template = channel.templates.get(row.kind.value)
                if template is None:
                    await self._hold_for_template(row, chat, now)
                    return 0
                variables = template_variables(reply, row.kind, row.payload)
                message_id = await channel.send_template(chat.address, template, variables)
            else:
                message_id = await channel.send(chat.address, reply, track=True)
        except SendError as exc:
            await self._failed(row_id, chat.id, exc, attempts, now)
            return 0
        except Exception as exc:  # an adapter bug must not stop the other sends
            log.exception("sending notification %s failed", row_id)
            await self._failed(row_id, chat.id, SendError(repr(exc)), attempts, now)
            return 0
        await self._finish(row_id, NotificationStatus.SENT, self.clock(), message_id=message_id)
        return 1

    async def _hold_for_template(self, row: Notification, chat: Chat, now: datetime) -> None:
        """Hold a push that needs a template nobody configured, and tell staff once per kind."""
        async with self.db.transaction() as session:
            await finish(
                session,
                row.id,
                NotificationStatus.HELD,
                now=now,
                error=f"needs template: no [whatsapp.templates] {row.kind.value}",
            )
            staff_chats = await session.scalars(
                select(Chat.id).where(Chat.staff_id.is_not(None), Chat.id != chat.id)
            )
            await enqueue(
                session,
                [
                    {
                        "chat_id": staff_chat,
                        "kind": NotificationKind.STAFF_ALERT,
                        "idempotency_key": f"alert:needs_template:{row.kind.value}:{staff_chat}",
                        "due_at": now,
                        "payload": {
                            "alert": "needs_template",
                            "kind": row.kind.value,
                            "chat": mask_phone(chat.address),
                        },
                    }
                    for staff_chat in staff_chats
                ],
            )

    async def _failed(
        self, row_id: int, chat_id: int, exc: SendError, attempts: int, now: datetime
    ) -> None:
        if exc.blocked:
            async with self.db.transaction() as session:
                chat = await session.get(Chat, chat_id)
                if chat is not None:
                    chat.active, chat.inactive_reason = False, str(exc)[:200]
        if exc.permanent or attempts >= self.max_attempts:
            await self._finish(row_id, NotificationStatus.DEAD, now, error=str(exc))
            return
        delay = exc.retry_after or min(2**attempts, 3600) * (0.5 + random.random())
        await self._finish(
            row_id,
            NotificationStatus.PENDING,
            now,
            error=str(exc),
            retry_at=now + timedelta(seconds=delay),
        )

    async def _finish(
        self,
        row_id: int,
        status: NotificationStatus,
        now: datetime,
        *,
        message_id: str | None = None,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        async with self.db.transaction() as session:
            await finish(
                session,
                row_id,
                status,
                now=now,
                provider_message_id=message_id,
                error=error,
                retry_at=retry_at,
            )
