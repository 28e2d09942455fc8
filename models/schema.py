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


def _pragma(connection: Connection, statement: str) -> None:
    """Run a SQLite PRAGMA on the driver's connection, outside any transaction."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA {statement}")
    finally:
        cursor.close()


def _migrate(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite alters a table by rebuilding it (copy, DROP, rename), and with foreign keys on
        # its DROP first deletes the rows of every table that points at it, ON DELETE CASCADE:
        # adding a column to `chats` would lose every chat's links, messages and pushes. Off
        # while migrating (a pragma a transaction ignores), checked before committing.
        _pragma(connection, "foreign_keys=OFF")
    try:
        with connection.begin():
            script = ScriptDirectory.from_config(config)
            current = MigrationContext.configure(connection).get_current_revision()
            older = {r.revision for r in script.iterate_revisions(current, "base")} - {current}
            if current is not None and revision in older:
                command.downgrade(config, revision)
            else:
                command.upgrade(config, revision)
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                if broken is not None:
                    raise RuntimeError(f"migration left a dangling reference in {broken[0]}")
    finally:
        if sqlite:
            _pragma(connection, "foreign_keys=ON")


async def migrate(db: Database, revision: str = "head") -> None:
    """Bring the database's schema up (or down) to `revision`, keeping every row."""
    async with db.engine.connect() as connection:
        await connection.run_sync(_migrate, revision)


async def upgrade(db: Database) -> None:
    """Bring the database to the newest schema; safe to run again."""
    await migrate(db, "head")


def head_revision() -> str | None:
    """Return the newest revision the migrations know."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(db: Database) -> str | None:
    """Return the schema revision the database is at (None for an empty database)."""
    async with db.engine.connect() as connection:
        return await connection.run_sync(_current)
