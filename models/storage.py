"""Engines and sessions for SQLite (WAL, immediate write locks) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry

log = logging.getLogger(__name__)

READ_ONLY = "kabar_read_only"
BUSY_TIMEOUT_MS = 5000  # how long a SQLite writer waits for another to let go of the lock
SQLITE_THREADS = 2  # threads that run whole units of work on SQLite (one may wait for the lock)

T = TypeVar("T")
Work = Callable[[AsyncSession], Coroutine[Any, Any, T]]


def _tune_sqlite(engine: Engine) -> None:
    """Make SQLite safe for concurrent async writers."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
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


class _Suspended(Exception):
    """A unit of work run in SQLite's thread awaited something only the event loop can give."""


def _to_the_end(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never waits (its statements run at once) to its result."""
    try:
        work.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    work.close()
    raise _Suspended


class _Cursor(sqlite3.Cursor):
    async def _async_soft_close(self) -> None:
        """What an AsyncSession asks of a cursor once its rows are read: nothing to do here."""


class _Connection(sqlite3.Connection):
    def cursor(self, factory: Any = _Cursor) -> Any:
        """A cursor that an AsyncSession can read results from."""
        return super().cursor(factory)


class _SqliteThreads:
    """Runs a whole unit of work on a plain sqlite3 connection, in one hop to a thread.

    aiosqlite hands every statement to a thread and back, and each hop costs far more CPU than
    the statement (about 0.5 ms against 0.02 ms here). A question makes half a dozen. Here its
    whole answer runs in a thread of ours, through the same AsyncSession API: with a driver
    that never waits, each `await session.execute(...)` finishes at once, so the handler's
    coroutine is run to its end right there, and the event loop never blocks on SQLite.
    """

    def __init__(self, database: str) -> None:
        self.engine = create_engine(
            f"sqlite:///{database}",
            # A pooled connection serves whichever of the threads is free.
            connect_args={"factory": _Connection, "check_same_thread": False},
            pool_size=SQLITE_THREADS,
            hide_parameters=True,
        )
        _tune_sqlite(self.engine)
        self._reading = self.engine.execution_options(**{READ_ONLY: True})
        self._executor: ThreadPoolExecutor | None = None
        self._suspended_logged = False

    async def run(self, work: Work[T], session_class: type[Session], *, write: bool) -> T:
        """Run `work` in a thread; raise _Suspended if it must run on the loop instead."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(SQLITE_THREADS, thread_name_prefix="kabar-sqlite")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._run, work, session_class, write)
        except _Suspended:
            if not self._suspended_logged:
                self._suspended_logged = True
                log.warning("a unit of work waited on the event loop: it runs there instead")
            raise

    def _run(self, work: Work[T], session_class: type[Session], write: bool) -> T:
        session = AsyncSession(sync_session_class=session_class, expire_on_commit=False)
        sync = session.sync_session
        sync.bind = self.engine if write else self._reading
        try:
            if not write:
                return _to_the_end(work(session))
            with sync.begin():
                return _to_the_end(work(session))
        finally:
            sync.close()

    def close(self) -> None:
        """Let the threads finish and close their connections."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self.engine.dispose()


class Database:
    """An engine and its session factory: what the rest of kabar is handed."""

    def __init__(self, url: str | URL, **engine_options: Any) -> None:
        self.url = make_url(url)
        self._options = engine_options
        # A failed statement's error would carry its parameters (names, numbers, notes) into
        # logs and tracebacks.
        self.engine = create_async_engine(self.url, **{"hide_parameters": True, **engine_options})
        self._threads: _SqliteThreads | None = None
        if self.url.get_backend_name() == "sqlite":
            _tune_sqlite(self.engine.sync_engine)
            if self.url.database not in (None, "", ":memory:"):
                self._threads = _SqliteThreads(self.url.database)
        # Sessions for reading; writes go through transaction(). Both share one pool.
        self.sessions = async_sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        self._writers = async_sessionmaker(self.engine, expire_on_commit=False)
        # `read` on PostgreSQL: no BEGIN and ROLLBACK around a question, two round trips of
        # its five; each statement sees what is committed when it runs.
        self._reads = self.sessions
        if self.dialect == "postgresql":
            self._reads = async_sessionmaker(
                self.engine.execution_options(isolation_level="AUTOCOMMIT", **{READ_ONLY: True}),
                expire_on_commit=False,
            )

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

    async def read(self, work: Work[T], session_class: type[Session] = Session) -> T:
        """Run `work(session)` in a read session of `session_class`; return what it returns.

        On a SQLite file the whole of it runs in one hop to a thread (see _SqliteThreads); `work`
        must then only await the session. Anything else it awaits makes it run again here. On
        PostgreSQL it runs outside a transaction: each statement reads what is committed then.
        """
        if self._threads is not None:
            try:
                return await self._threads.run(work, session_class, write=False)
            except _Suspended:
                pass
        async with self._reads(sync_session_class=session_class) as session:
            return await work(session)

    async def write(self, work: Work[T]) -> T:
        """Run `work(session)` in one write transaction, committed if it returns (as `read`)."""
        if self._threads is not None:
            try:
                return await self._threads.run(work, Session, write=True)
            except _Suspended:
                pass
        async with self.transaction() as session:
            return await work(session)

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
        if self._threads is not None:
            await asyncio.to_thread(self._threads.close)
