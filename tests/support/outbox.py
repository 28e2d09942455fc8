"""Filling the outbox directly, for tests of what sends it."""

from __future__ import annotations

from collections.abc import Sequence

from models import Chat
from models.base import utcnow
from models.enums import Channel
from models.outbox import LateAlert, Outgoing, enqueue
from models.storage import Database


async def queue_alerts(db: Database, chats: Sequence[int], codes: Sequence[str]) -> None:
    """Queue one staff alert per (Telegram chat, order code), in this order, due now.

    Each reads "⚠️ <code> terlambat: …": `code_of` gives the code back from the text.
    """
    now = utcnow()
    async with db.transaction() as s:
        ids = {}
        for address in dict.fromkeys(chats):
            chat = Chat(channel=Channel.TELEGRAM, address=str(address))
            s.add(chat)
            await s.flush()
            ids[address] = chat.id
        rows = []
        for n, (address, code) in enumerate(zip(chats, codes, strict=True)):
            alert: LateAlert = {"alert": "late", "code": code, "phase": "paid", "stage": ""}
            rows.append(Outgoing.staff_alert(ids[address], alert, key=f"test:{n}", due_at=now))
        await enqueue(s, rows)


def code_of(text: str) -> str:
    """The order code an alert from `queue_alerts` names."""
    return text.split()[1]
