"""Shared fixtures: a fresh, migrated database per test on SQLite and (when set) PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bench.common import PG_ENV, postgres_url
from models.schema import upgrade
from models.storage import Database


async def open_database(backend: str, tmp_path: Path) -> tuple[Database, str | None]:
    """Create an empty, migrated database of the given backend; return it and its PG schema."""
    if backend == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'kabar.db'}")
        await upgrade(db)
        return db, None
    url = postgres_url()
    if url is None:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1/test)")
    # A schema of its own per test: nothing is shared between tests, and dropping it is cheap.
    schema = f"t_{secrets.token_hex(6)}"
    admin = Database(url)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    db = Database(url, connect_args={"server_settings": {"search_path": schema}}, pool_size=20)
    await upgrade(db)
    return db, schema


async def close_database(db: Database, schema: str | None) -> None:
    """Dispose of a test database, dropping its PostgreSQL schema."""
    await db.dispose()
    if schema is not None:
        url = postgres_url()
        assert url is not None
        admin = Database(url)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh database, migrated to head, on each backend."""
    database, schema = await open_database(request.param, tmp_path)
    try:
        yield database
    finally:
        await close_database(database, schema)


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh SQLite database only, for tests about SQLite itself or the CLI."""
    database, _ = await open_database("sqlite", tmp_path)
    try:
        yield database
    finally:
        await database.dispose()
