"""Bulk statements: many rows in a few multi-row inserts, and IN lists of any length.

SQLAlchemy's executemany builds a parameter dict per row and runs every value through its
type's converter; at tens of thousands of rows that costs more than the database's own work.
Here each column's converter runs once per distinct value (exactly what SQLAlchemy would
send, for a fraction of the work), rows stay plain tuples, and each batch is one
`INSERT … VALUES (…), (…) RETURNING …` statement.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import chain
from typing import Any

from sqlalchemy import ColumnElement, String, Table, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, Session

# SQLite (since 3.32) takes at most 32,766 parameters a statement, asyncpg 32,767.
MAX_PARAMETERS = 30_000
# Rows per INSERT. Bigger statements were no faster on either database, and SQLite keeps each
# prepared shape: at 1,000 rows a 20k-row import held 5 MB more (bench.scale_probe).
BATCH_ROWS = 250

Converter = Callable[[Any], Any]


def _converted(values: Sequence[Any], convert: Converter | None) -> Sequence[Any]:
    """Convert one column's values, calling `convert` once per distinct value."""
    if convert is None:
        return values
    try:
        once = {v: None if v is None else convert(v) for v in set(values)}
    except TypeError:
        # Unhashable values (JSON documents): callers share one object per distinct document,
        # and the rows keep each alive, so its id names it for the length of this call.
        by_id: dict[int, Any] = {}
        for v in values:
            if id(v) not in by_id:
                by_id[id(v)] = None if v is None else convert(v)
        return [by_id[id(v)] for v in values]
    return list(map(once.__getitem__, values))


def _placeholder(dialect: Dialect) -> Callable[[int], str]:
    """The driver's way of writing the n-th (0-based) positional parameter."""
    style = dialect.paramstyle
    if style == "qmark":
        return lambda _n: "?"
    if style in ("format", "pyformat"):
        return lambda _n: "%s"
    if style == "numeric":
        return lambda n: f":{n + 1}"
    if style == "numeric_dollar":
        return lambda n: f"${n + 1}"
    raise NotImplementedError(f"bulk insert: parameter style {style!r} is not supported")


@lru_cache(maxsize=64)  # one entry per (table, batch size): the SQL text is the same every time
def insert_statement(
    dialect: Dialect, table: Table, columns: tuple[str, ...], rows: int, returning: tuple[str, ...]
) -> str:
    """Write the multi-row INSERT for `rows` rows."""
    quote = dialect.identifier_preparer.quote
    mark = _placeholder(dialect)
    width = len(columns)
    values = ", ".join(
        "(" + ", ".join(mark(row * width + i) for i in range(width)) + ")" for row in range(rows)
    )
    sql = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
        f"({', '.join(quote(c) for c in columns)}) VALUES {values}"
    )
    if returning:
        sql += f" RETURNING {', '.join(quote(c) for c in returning)}"
    return sql


async def insert_rows(
    session: AsyncSession,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert rows (tuples in `columns` order) in the session's transaction.

    Return the `returning` columns of every inserted row, as the driver gives them, in no
    promised order (SQLite does not promise one for multi-row inserts).
    """
    if not rows:
        return []
    return await session.run_sync(_insert_rows, table, columns, rows, returning)


def _insert_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    connection = session.connection()
    dialect = connection.dialect
    width = len(columns)
    converted = [
        _converted(values, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name, values in zip(columns, zip(*rows, strict=True), strict=True)
    ]
    flat = list(chain.from_iterable(zip(*converted, strict=True)))  # row after row
    batch = max(1, min(BATCH_ROWS, MAX_PARAMETERS // width))
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), batch):
        count = min(batch, len(rows) - start)
        sql = insert_statement(dialect, table, tuple(columns), count, tuple(returning))
        params = tuple(flat[start * width : (start + count) * width])
        result = connection.exec_driver_sql(sql, params)
        if returning:
            found.extend(tuple(r) for r in result)
    return found


def among(
    column: ColumnElement[Any] | QueryableAttribute[Any],
    values: Sequence[str] | Sequence[int],
    dialect: Dialect,
) -> ColumnElement[bool]:
    """`column IN (values)` with all values in one parameter: one query, however many there are.

    An ordinary IN list takes a parameter per value, so long lists need many queries (and
    SQLAlchemy's work per value); PostgreSQL takes an array, SQLite a JSON array instead.
    """
    if dialect.name == "postgresql":
        array = ARRAY(column.expression.type)
        return column.expression == any_(bindparam(None, list(values), type_=array))
    if dialect.name == "sqlite":
        listed = func.json_each(bindparam(None, json.dumps(list(values)), type_=String))
        return column.in_(select(listed.table_valued("value").c.value))
    return column.in_(values)
