"""Throwaway databases for tests (and benchmarks): SQLite files, or PostgreSQL databases.

PostgreSQL is used when `KABAR_TEST_DATABASE_URL` names a database kabar may write to. Each
test gets a database of its own, copied from one migrated once per process (a template: far
cheaper than migrating each time), named after that database and dropped afterwards. A role
that may not create databases gets a schema of its own in that database instead. Nothing is
ever shared.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import secrets
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class PgPlace:
    """Where a test's PostgreSQL database lives: a database of its own, or a schema."""

    kind: str  # "database" or "schema"
    name: str


async def open_database(backend: str, folder: Path) -> tuple[Database, PgPlace | None]:
    """Create an empty database migrated to head; return it and, on PostgreSQL, where it is.

    Raises LookupError for PostgreSQL when no URL is set.
    """
    if backend == "sqlite":
        path = folder / f"kabar-{secrets.token_hex(4)}.db"
        await asyncio.to_thread(shutil.copyfile, await _migrated_sqlite(), path)
        return Database(f"sqlite+aiosqlite:///{path}"), None
    url = postgres_url()
    if url is None:
        raise LookupError(f"PostgreSQL needs {PG_ENV} (e.g. postgresql://postgres@127.0.0.1/test)")
    template = await _template(url)
    if template is None:  # no right to create databases: a schema in the one given
        schema = f"t_{secrets.token_hex(6)}"
        await _admin(url, f'CREATE SCHEMA "{schema}"')
        db = Database(url, connect_args={"server_settings": {"search_path": schema}}, pool_size=20)
        await upgrade(db)
        return db, PgPlace("schema", schema)
    name = f"{_base(url)}_t_{secrets.token_hex(6)}"
    await _admin(url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return Database(_in(url, name), pool_size=20), PgPlace("database", name)


async def close_database(db: Database, place: PgPlace | None) -> None:
    """Dispose of a database from `open_database`, dropping it on PostgreSQL."""
    await db.dispose()
    if place is None:
        return
    url = postgres_url()
    assert url is not None
    if place.kind == "schema":
        await _admin(url, f'DROP SCHEMA "{place.name}" CASCADE')
    else:
        await _admin(url, f'DROP DATABASE IF EXISTS "{place.name}" WITH (FORCE)')


_templates: dict[str, str | None] = {}  # this process's migrated template for each URL


async def _template(url: str) -> str | None:
    """The name of a database migrated to head that tests' databases are copied from, made
    once per process and dropped when it ends; None when the role may not create databases."""
    if url not in _templates:
        admin = Database(url)
        async with admin.engine.connect() as conn:
            may = await conn.scalar(
                text("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user")
            )
        await admin.dispose()
        if not may:
            _templates[url] = None
            return None
        name = f"{_base(url)}_tpl_{secrets.token_hex(4)}"
        await _admin(url, f'CREATE DATABASE "{name}"')
        atexit.register(_drop_at_exit, url, name)
        template = Database(_in(url, name))
        await upgrade(template)
        await template.dispose()  # a template is copied only while nobody is connected to it
        _templates[url] = name
    return _templates[url]


def _drop_at_exit(url: str, name: str) -> None:
    asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(url: str, statement: str) -> None:
    """Run one statement of a database's own (CREATE DATABASE takes no transaction)."""
    admin = Database(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await admin.dispose()


def _base(url: str) -> str:
    """The name of the database the URL names: tests' databases are named after it (so that
    `.ci/run` can drop whatever a killed run left behind)."""
    return str(make_url(url).database)[:30]


def _in(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


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
