"""Create or upgrade the database schema with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from models.storage import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str = "") -> Config:
    """Build the Alembic configuration in code (no alembic.ini to keep in step)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(db: Database) -> None:
    """Bring the database to the newest schema; safe to run again.

    On SQLite a migration may rebuild a table (copy, drop, rename); with foreign keys on, the
    drop would delete every row that refers to it (ON DELETE CASCADE). So they are off while
    migrating, and checked once it is done.
    """
    if db.url.get_backend_name() != "sqlite":
        async with db.engine.begin() as connection:
            await connection.run_sync(_upgrade)
        return
    async with db.engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        await raw.execute("PRAGMA foreign_keys=OFF")  # outside any transaction, or it is ignored
        try:
            async with connection.begin():
                await connection.run_sync(_upgrade)
            broken = await (await raw.execute("PRAGMA foreign_key_check")).fetchall()
            if broken:
                raise RuntimeError(f"migrating left {len(broken)} rows pointing at nothing")
        finally:
            await raw.execute("PRAGMA foreign_keys=ON")


def head_revision() -> str | None:
    """Return the newest revision the migrations know."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(db: Database) -> str | None:
    """Return the schema revision the database is at (None for an empty database)."""
    async with db.engine.connect() as connection:
        return await connection.run_sync(_current)
