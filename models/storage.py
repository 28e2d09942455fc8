"""Engines and sessions for SQLite (WAL, immediate write locks) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

READ_ONLY = "kabar_read_only"
BUSY_TIMEOUT_MS = 5000  # how long a SQLite writer waits for another to let go of the lock


def _tune_sqlite(engine: AsyncEngine) -> None:
    """Make SQLite safe for concurrent async writers."""

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that reads, then writes,
        # fails with "database is locked" instead of waiting its turn. Readers stay deferred,
        # so in WAL mode they never wait for a writer.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def locked(exc: BaseException) -> bool:
    """Whether a database error says another connection held SQLite's write lock too long."""
    if not isinstance(exc, OperationalError):
        return False
    reason = str(exc.orig).lower()
    return "database is locked" in reason or "database is busy" in reason


def _open_sqlite(path: str) -> None:
    sqlite3.connect(path).close()


class Database:
    """An engine and its session factory: what the rest of kabar is handed."""

    def __init__(self, url: str | URL, **engine_options: Any) -> None:
        self.url = make_url(url)
        self._options = engine_options
        # A failed statement's error would carry its parameters (names, numbers, notes) into
        # logs and tracebacks.
        self.engine = create_async_engine(self.url, **{"hide_parameters": True, **engine_options})
        if self.url.get_backend_name() == "sqlite":
            _tune_sqlite(self.engine)
        # Sessions for reading; writes go through transaction(). Both share one pool.
        self.sessions = async_sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        self._writers = async_sessionmaker(self.engine, expire_on_commit=False)

    def twin(self) -> Database:
        """Another Database on the same URL and options, with a pool of its own."""
        return Database(self.url, **self._options)

    @property
    def dialect(self) -> str:
        """The backend's name: `sqlite` or `postgresql`."""
        return self.url.get_backend_name()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Open a write session in one transaction: committed on success, else rolled back."""
        async with self._writers() as session, session.begin():
            yield session

    async def probe(self) -> None:
        """Open and close one connection; raise the driver's error if the database is unusable."""
        if self.dialect == "sqlite" and self.url.database not in (None, "", ":memory:"):
            # aiosqlite's worker thread outlives a failed open and reports it to an event loop
            # that may be closed by then (a traceback as the process exits): try sqlite3 first.
            await asyncio.to_thread(_open_sqlite, str(self.url.database))
        async with self.engine.connect():
            pass

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
