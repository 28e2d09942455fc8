"""Engines and sessions for SQLite (WAL, immediate write locks) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, Executable, Result, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import immutabledict

log = logging.getLogger(__name__)

READ_ONLY = "kabar_read_only"
NO_TRANSACTION = "kabar_no_transaction"  # each statement reads what is committed when it runs
BUSY_TIMEOUT_MS = 5000  # how long a SQLite writer waits for another to let go of the lock
# How long a write in SQLite's thread waits for the lock before it goes to wait on the event
# loop's side instead (see _SqliteThread): the questions behind it must not wait that long.
THREAD_BUSY_TIMEOUT_MS = 50

# PostgreSQL connections kept open. SQLAlchemy's default keeps 5 and opens up to 10 more for
# a moment, closing each as it comes back: with a few dozen questions at once (Telegram sends
# up to 40 updates at a time) that was a new server connection every few questions, the
# costliest thing a question did. These are kept, and as many again open for a burst.
POSTGRESQL_POOL = {"pool_size": 20, "max_overflow": 20}

T = TypeVar("T")
Work = Callable[[AsyncSession], Coroutine[Any, Any, T]]


def _tune_sqlite(engine: Engine, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
    """Make SQLite safe for concurrent async writers."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that reads, then writes,
        # fails with "database is locked" instead of waiting its turn. Readers stay deferred,
        # so in WAL mode they never wait for a writer.
        options = connection.get_execution_options()
        if options.get(NO_TRANSACTION):
            return
        if options.get(READ_ONLY):
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


_BUFFERED = immutabledict({"prebuffer_rows": True})  # as AsyncSession reads every result


class _DirectSession(AsyncSession):
    """An AsyncSession over a driver that never waits: a statement runs at once, in the
    caller's thread, without the greenlet AsyncSession starts for each one."""

    async def execute(
        self,
        statement: Executable,
        params: Any = None,
        *,
        execution_options: Mapping[str, Any] = immutabledict(),
        **kw: Any,
    ) -> Result[Any]:
        """Run a statement; its rows are read before this returns, as AsyncSession does."""
        options = _BUFFERED.union(execution_options) if execution_options else _BUFFERED
        return self.sync_session.execute(statement, params, execution_options=options, **kw)

    async def scalar(
        self,
        statement: Executable,
        params: Any = None,
        *,
        execution_options: Mapping[str, Any] = immutabledict(),
        **kw: Any,
    ) -> Any:
        """Run a statement; return the first column of its first row."""
        return self.sync_session.scalar(
            statement, params, execution_options=execution_options, **kw
        )


class _SqliteThread:
    """Runs a whole unit of work on a plain sqlite3 connection, in one hop to a thread.

    aiosqlite hands every statement to a thread and back, and each hop costs far more CPU than
    the statement (about 0.5 ms against 0.02 ms here). A question makes half a dozen. Here its
    whole answer runs in a thread of ours, through the same AsyncSession API: with a driver
    that never waits, each `await session.execute(...)` finishes at once, so the handler's
    coroutine is run to its end right there, and the event loop never blocks on SQLite.

    One thread, one connection. A unit of work is mostly Python, and sqlite3 lets go of the
    GIL around every step of a statement: two threads of ours hand it back and forth, which
    cost a question 2.6 ms of CPU where one thread costs 1.9 (bench: `python -m bench.inbound`).
    So that a write waiting for another process's lock holds up no question, a write here
    waits THREAD_BUSY_TIMEOUT_MS at most, then gives up (`locked`) to be run on the loop.
    Reads take no lock in WAL mode and run outside a transaction, as on PostgreSQL.
    """

    def __init__(self, database: str) -> None:
        self.engine = create_engine(
            f"sqlite:///{database}",
            connect_args={"factory": _Connection, "check_same_thread": False},
            pool_size=1,
            hide_parameters=True,
        )
        _tune_sqlite(self.engine, THREAD_BUSY_TIMEOUT_MS)
        self._connection: Connection | None = None  # opened, used and closed in the thread
        self._executor: ThreadPoolExecutor | None = None
        self._suspended_logged = False

    async def run(self, work: Work[T], session_class: type[Session], *, write: bool) -> T:
        """Run `work` in the thread; raise _Suspended if it must run on the loop instead."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="kabar-sqlite")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._run, work, session_class, write)
        except _Suspended:
            if not self._suspended_logged:
                self._suspended_logged = True
                log.warning("a unit of work waited on the event loop: it runs there instead")
            raise

    def _run(self, work: Work[T], session_class: type[Session], write: bool) -> T:
        # The thread keeps its one connection: taking it from a pool and giving it back cost
        # each unit of work more than its statements.
        connection = self._connection
        if connection is None or connection.closed or connection.invalidated:
            connection = self._connection = self.engine.connect()
        connection.execution_options(**{READ_ONLY: not write, NO_TRANSACTION: not write})
        session = _DirectSession(sync_session_class=session_class, expire_on_commit=False)
        sync = session.sync_session
        sync.bind = connection
        try:
            if not write:
                return _to_the_end(work(session))
            with sync.begin():
                return _to_the_end(work(session))
        finally:
            sync.close()

    def close(self) -> None:
        """Let the thread finish and close its connection."""
        if self._executor is not None:
            if self._connection is not None:
                self._executor.submit(self._connection.close).result()
                self._connection = None
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
        options: dict[str, Any] = {"hide_parameters": True}
        if self.url.get_backend_name() == "postgresql":
            options |= POSTGRESQL_POOL
        self.engine = create_async_engine(self.url, **(options | engine_options))
        self._thread: _SqliteThread | None = None
        if self.url.get_backend_name() == "sqlite":
            _tune_sqlite(self.engine.sync_engine)
            if self.url.database not in (None, "", ":memory:"):
                self._thread = _SqliteThread(self.url.database)
        # Sessions for reading; writes go through transaction(). Both share one pool.
        self.sessions = async_sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        self._writers = async_sessionmaker(self.engine, expire_on_commit=False)
        # `read` on PostgreSQL: no BEGIN and ROLLBACK around a question, two round trips of
        # its five; each statement sees what is committed when it runs.
        self._reads = self.sessions
        self._alone = self._writers
        if self.dialect == "postgresql":
            autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            self._reads = async_sessionmaker(
                autocommit.execution_options(**{READ_ONLY: True}), expire_on_commit=False
            )
            self._alone = async_sessionmaker(autocommit, expire_on_commit=False)

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

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncSession]:
        """Open a session whose statements each commit as they run (PostgreSQL).

        For a write that is one statement: it is atomic alone, and BEGIN and COMMIT would be
        two more round trips. Elsewhere it is `transaction()`.
        """
        if self.dialect != "postgresql":
            async with self.transaction() as session:
                yield session
            return
        async with self._alone() as session:
            yield session

    async def read(self, work: Work[T], session_class: type[Session] = Session) -> T:
        """Run `work(session)` in a read session of `session_class`; return what it returns.

        On a SQLite file the whole of it runs in one hop to a thread (see _SqliteThread); `work`
        must then only await the session. Anything else it awaits makes it run again here. On
        PostgreSQL it runs outside a transaction: each statement reads what is committed then.
        """
        if self._thread is not None:
            try:
                return await self._thread.run(work, session_class, write=False)
            except _Suspended:
                pass
        async with self._reads(sync_session_class=session_class) as session:
            return await work(session)

    async def write(self, work: Work[T]) -> T:
        """Run `work(session)` in one write transaction, committed if it returns (as `read`).

        On SQLite, a write that finds the lock taken is run again on the loop, where it waits
        for it as long as any writer does (BUSY_TIMEOUT_MS).
        """
        if self._thread is not None:
            try:
                return await self._thread.run(work, Session, write=True)
            except _Suspended:
                pass
            except OperationalError as exc:
                if not locked(exc):
                    raise
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
        if self._thread is not None:
            await asyncio.to_thread(self._thread.close)
