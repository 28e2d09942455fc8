"""Throwaway databases for tests (and benchmarks): SQLite files, or PostgreSQL schemas.

PostgreSQL is used when `KABAR_TEST_DATABASE_URL` names a database kabar may write to; each
database is a schema of its own in it, dropped afterwards, so nothing is ever shared.
"""

from __future__ import annotations

import os
import secrets
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


async def open_database(backend: str, folder: Path) -> tuple[Database, str | None]:
    """Create an empty database migrated to head; return it and its PostgreSQL schema.

    Raises LookupError for PostgreSQL when no URL is set.
    """
    if backend == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{folder / f'kabar-{secrets.token_hex(4)}.db'}")
        await upgrade(db)
        return db, None
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
