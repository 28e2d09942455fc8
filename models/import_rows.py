"""CSV rows for the imports: reading the file, checking fields, and naming what is wrong."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import Table

from models.errors import DomainError
from models.orders import clean_code
from models.text import unsafe_character

CHUNK = 500  # keeps IN (...) lists and batches well inside every driver's limits
# What the money columns hold: NUMERIC(14, 2) (models.catalog.MONEY), 12 digits before the point.
MONEY_LIMIT = Decimal(10) ** 12
CENT = Decimal("0.01")

Progress = Callable[[str, int, int], None]  # (stage, done, total)
Row = tuple[int, dict[str, str]]  # (line number, column -> stripped value)


class Rows(Protocol):
    """What the imports read: rows that can be counted and gone through (a list, CsvRows)."""

    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Row]: ...


T = TypeVar("T")


@dataclass(frozen=True)
class RowError:
    """What is wrong with one line of the file."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportRejected(DomainError):
    """The file has bad rows; nothing was written."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = list(errors)
        super().__init__(f"{len(self.errors)} bad row(s); nothing was imported")


@dataclass
class ImportResult:
    """What an import did."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    awaiting_stock: int = 0
    notes: list[str] = field(default_factory=list)


class CsvRows:
    """The data rows of a CSV file, made one at a time as they are read.

    A big file held as one dict per row costs ten times its size in memory; the text itself
    costs its size. The file is read, decoded and parsed once up front, so a file that is not
    UTF-8, not CSV, or lacks a column is refused before anything is written; each pass over
    the rows parses the text again, which is cheap next to checking them.
    """

    def __init__(self, text: str, columns: Sequence[str]) -> None:
        reader = csv.reader(_lines(text))
        try:
            header = [name.strip().lower() for name in next(reader, [])]
            missing = [c for c in columns if c not in header]
            if missing:
                raise ImportRejected([RowError(1, f"missing column(s): {', '.join(missing)}")])
            self._text = text
            self._where = [(c, header.index(c)) for c in columns]
            self._count = sum(1 for record in reader if any(cell.strip() for cell in record))
        except csv.Error as exc:
            raise ImportRejected([RowError(reader.line_num, f"unreadable CSV: {exc}")]) from exc

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Row]:
        reader = csv.reader(_lines(self._text))
        next(reader)  # the header, checked when the file was read
        where = self._where
        line = reader.line_num + 1
        for record in reader:
            if any(cell.strip() for cell in record):
                size = len(record)
                yield line, {c: record[i].strip() if i < size else "" for c, i in where}
            line = reader.line_num + 1


_LINE_END = re.compile(r"\r\n|\r|\n")  # what a file opened with newline="" ends lines at


def _lines(text: str) -> Iterator[str]:
    """The text's lines with their endings, one at a time, as reading the file would give them.

    Not io.StringIO: it holds a copy of the text at four bytes a character.
    """
    start = 0
    for end in _LINE_END.finditer(text):
        yield text[start : end.end()]
        start = end.end()
    if start < len(text):
        yield text[start:]


def read_csv(path: Path, columns: Sequence[str]) -> CsvRows:
    """Read a UTF-8 CSV with a header row; extra columns are ignored, missing ones refused."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise ImportRejected([RowError(0, f"the file is not UTF-8 text ({exc.reason})")]) from exc
    return CsvRows(text, columns)


def table_of(model: type[Any]) -> Table:
    """The Core table of a model: bulk statements skip the ORM's per-row bookkeeping."""
    return cast(Table, model.__table__)


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """Split a sequence into slices of `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def check_code(value: str, what: str) -> str:
    """Return a code or SKU in its stored form, or name what is wrong with it."""
    code = clean_code(value)
    if code is None:
        raise ValueError(f"{what}: expected letters, digits and . _ / - (max 64), got {value!r}")
    return code


def check_text(row: dict[str, str]) -> None:
    """Refuse a row with a control character or a lone surrogate in any field (named)."""
    if unsafe_character("".join(row.values())) is None:
        return  # the common case, in one search
    for column, value in row.items():
        found = unsafe_character(value)
        if found is not None:
            # Only the column: the value may be a person's name or number.
            raise ValueError(f"{column}: contains {found}")


def check_money(value: str, what: str, *, optional: bool = False) -> Decimal | None:
    """Return an amount of money (two decimals at most), or name what is wrong with it."""
    if not value and optional:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{what}: expected a number like 350000, got {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"{what}: expected a number like 350000, got {value!r}")
    if amount < 0:
        raise ValueError(f"{what}: expected 0 or more, got {value!r}")
    if amount >= MONEY_LIMIT:
        raise ValueError(f"{what}: expected less than {MONEY_LIMIT:,}, got {value!r}")
    if amount != amount.quantize(CENT):  # in range, so quantize cannot overflow
        raise ValueError(f"{what}: expected at most two decimals, got {value!r}")
    return amount


def check_count(value: str, what: str, *, minimum: int, default: int | None = None) -> int:
    """Return a whole number of at least `minimum`, or name what is wrong with it."""
    if not value and default is not None:
        return default
    if not re.fullmatch(r"\d{1,9}", value) or int(value) < minimum:
        raise ValueError(f"{what}: expected a whole number >= {minimum}, got {value!r}")
    return int(value)
