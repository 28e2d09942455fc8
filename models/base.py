"""Declarative base, shared column types and the clock."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Enum, MetaData
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as naive UTC; hand them back aware (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; kabar stores aware datetimes only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


def str_enum(enum: type[StrEnum]) -> Enum:
    """Store a StrEnum by its value in a plain VARCHAR (no native enum to migrate)."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=max(len(m.value) for m in enum),
        values_callable=lambda members: [m.value for m in members],
    )


class Base(DeclarativeBase):
    """Base class of every kabar table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def insert_of(dialect: str) -> Any:
    """The dialect's INSERT, the one that can skip rows already there (ON CONFLICT)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def insert_for(session: AsyncSession) -> Any:
    """`insert_of` the session's database."""
    return insert_of(session.get_bind().dialect.name)
