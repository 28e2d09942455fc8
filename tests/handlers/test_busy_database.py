"""A database busy with a long write (a big import) holds no question back; nothing is lost."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, update

from handlers.types import Incoming
from models import ChatMessage, InboundMessage, Product
from models.enums import Channel
from models.storage import Database
from tests.support.shop import open_shop


@pytest.mark.slow  # the first questions wait out busy_timeout (5 s) before they are answered
async def test_questions_are_answered_while_another_connection_holds_the_write_lock(
    sqlite_db: Database,
) -> None:
    shop = await open_shop(sqlite_db)
    sorry = shop.t("id", "error.sorry")
    asked = [
        ("sari", "/pesanan", "INV-1001"),
        ("rina", "/orders", "DS-2001"),
        ("sari", "/status INV-1002", "INV-1002"),
        ("rina", "where is my order?", "DS-2001"),
        ("mawar", "/stok kaos hitam xl", "KAOS-HTM-XL"),
    ]
    redelivered = Incoming(
        Channel.CONSOLE, "sari", "sari", "Sari", text="/status INV-1001", message_id="m-1"
    )
    other = sqlite_db.twin()  # another process, say `kabar import` of a big file
    try:
        async with other.transaction() as s:
            await s.execute(update(Product).values(on_hand=Product.on_hand))  # the lock, held
            answers = await asyncio.gather(*(shop.text(who, text) for who, text, _ in asked))
            for (who, text, expected), answer in zip(asked, answers, strict=True):
                assert sorry not in answer and expected in answer, (who, text, answer)
            # A menu shown meanwhile is there to pick from, though not stored yet.
            assert "Riwayat:" in await shop.text("sari", "1")
            # Telegram sends a slow answer's update again: still answered once.
            first, again = await asyncio.gather(
                shop.conversation.handle(redelivered), shop.conversation.handle(redelivered)
            )
            assert sorted([len(first), len(again)]) == [0, 1]
            assert "INV-1001" in (first or again)[0].text
            async with sqlite_db.sessions() as reading:
                written = select(func.count()).where(ChatMessage.direction == "in")
                assert await reading.scalar(written) == 0  # not yet: the lock is held
    finally:
        await other.dispose()
    await shop.conversation.visits.flush()  # the lock is free: everything is written now
    async with sqlite_db.sessions() as s:
        said = set(await s.scalars(select(ChatMessage.text).where(ChatMessage.direction == "in")))
        ids = list(await s.scalars(select(InboundMessage.message_id)))
    assert said >= {text for _, text, _ in asked} | {"1", "/status INV-1001"}
    assert ids == ["m-1"]
    assert await shop.conversation.handle(redelivered) == []  # answered when it first came
