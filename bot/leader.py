"""One scheduler for many processes: leadership through a PostgreSQL advisory lock."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from models.storage import Database

log = logging.getLogger(__name__)
LOCK_KEY = 0x6B61626172  # "kabar": one key for every kabar process sharing a database


class Leadership:
    """Held by exactly one process at a time; the lock dies with the process's connection.

    On SQLite (one process) leadership is simply given.
    """

    def __init__(self, db: Database, *, retry_seconds: float = 5.0) -> None:
        self.db = db
        self.retry_seconds = retry_seconds
        self._connection: AsyncConnection | None = None

    @property
    def held(self) -> bool:
        """Whether this process leads."""
        return self._connection is not None or self.db.dialect != "postgresql"

    async def try_acquire(self) -> bool:
        """Take the lead if nobody has it; keep a connection open while leading."""
        if self.held:
            return True
        connection = await self.db.engine.connect()
        got = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})
        if got:
            self._connection = connection
            log.info("this process now runs the scheduler")
            return True
        await connection.close()
        return False

    async def wait(self, stop: asyncio.Event) -> bool:
        """Wait until this process leads (True) or is asked to stop (False)."""
        while not await self.try_acquire():
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.retry_seconds)
                return False
            except TimeoutError:
                continue
        return True

    async def release(self) -> None:
        """Give up the lead; a process that dies loses it with its connection."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            finally:
                await connection.close()
