"""Throwaway databases for tests (and benchmarks): SQLite files, or PostgreSQL schemas.

PostgreSQL is used when `KABAR_TEST_DATABASE_URL` names a database kabar may write to; each
database is a schema of its own in it, dropped afterwards, so nothing is ever shared.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import secrets
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from models.schema import upgrade
from models.storage import Database

PG_ENV = "KABAR_TEST_DATABASE_URL"


def postgres_url() -> str | None:
    """The PostgreSQL URL to test against (asyncpg form), or None when none is set."""
    raw = os.environ.get(PG_ENV)
    if not raw:
        return None
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+asyncpg")
    return url.render_as_string(hide_password=False)


_migrated: dict[str, Path] = {}  # this process's SQLite file at head, copied for each test


async def _migrated_sqlite() -> Path:
    """A SQLite file migrated to head, made once per process: copying it is cheaper than
    migrating again (migrations themselves are tested in tests/models/test_migrations.py)."""
    if "head" not in _migrated:
        folder = tempfile.mkdtemp(prefix="kabar-tests-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = Path(folder) / "head.db"
        db = Database(f"sqlite+aiosqlite:///{path}")
        await upgrade(db)
        await db.dispose()  # the last connection closing folds the WAL into the file
        _migrated["head"] = path
    return _migrated["head"]


async def open_database(backend: str, folder: Path) -> tuple[Database, str | None]:
    """Create an empty database migrated to head; return it and its PostgreSQL schema.

    Raises LookupError for PostgreSQL when no URL is set.
    """
    if backend == "sqlite":
        path = folder / f"kabar-{secrets.token_hex(4)}.db"
        await asyncio.to_thread(shutil.copyfile, await _migrated_sqlite(), path)
        return Database(f"sqlite+aiosqlite:///{path}"), None
    url = postgres_url()
    if url is None:
        raise LookupError(f"PostgreSQL needs {PG_ENV} (e.g. postgresql://postgres@127.0.0.1/test)")
    schema = f"t_{secrets.token_hex(6)}"
    admin = Database(url)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    db = Database(url, connect_args={"server_settings": {"search_path": schema}}, pool_size=20)
    await upgrade(db)
    return db, schema


async def close_database(db: Database, schema: str | None) -> None:
    """Dispose of a database from `open_database`, dropping its PostgreSQL schema."""
    await db.dispose()
    if schema is not None:
        url = postgres_url()
        assert url is not None
        admin = Database(url)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


def sqlite_file(path: Path, fill: Callable[[Database], Awaitable[object]] | None = None) -> Path:
    """Make a migrated SQLite file at `path` (filled by `fill`), outside any event loop.

    For property tests, whose examples each open it in a loop of their own.
    """

    async def make() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(db)
            if fill is not None:
                await fill(db)
        finally:
            await db.dispose()

    asyncio.run(make())
    return path
