"""Shared fixtures: a fresh, migrated database per test on SQLite and (when set) PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from models.storage import Database
from tests.support.database import close_database, open_database


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh database, migrated to head, on each backend."""
    try:
        database, schema = await open_database(request.param, tmp_path)
    except LookupError as exc:
        pytest.skip(str(exc))
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
