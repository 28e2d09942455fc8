"""Orders from CSV: every row checked, alone and against the database, before anything is written.

Rows with the same code form one order. Re-importing the same file changes nothing: an order
code already in the database with the same customer, reseller and lines is left alone; with
different ones it is a bad row. Placing them is `models.placing`'s job, as for every order.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.bulk import among, insert_rows
from models.catalog import Product
from models.change import IMPORT
from models.enums import Language, Phase
from models.errors import InvalidPhone
from models.import_rows import (
    CHUNK,
    ImportRejected,
    ImportResult,
    Progress,
    RowError,
    Rows,
    check_code,
    check_count,
    check_text,
    chunks,
    table_of,
)
from models.orders import Order, OrderLine
from models.people import NAME_LENGTH, Customer, Reseller
from models.phones import mask_phone, normalize_phone
from models.placing import WRITE_CHUNK, NewOrder, StockLedger, catalog_of, place_orders


@dataclass(slots=True)
class OrderDraft:
    """One order of the file, its rows checked and grouped."""

    line: int  # where the order starts in the file
    code: str
    customer_name: str
    phone: str
    reseller: str  # empty for a direct sale
    language: Language | None
    # (sku, qty) pairs: most orders have a line or two, and a dict each would cost more than
    # the rest of the draft (an import holds every order of the file at once).
    lines: tuple[tuple[str, int], ...] = ()

    def add(self, sku: str, qty: int) -> None:
        """Add a line; a SKU named again adds to its quantity."""
        for index, (known, before) in enumerate(self.lines):
            if known == sku:
                self.lines = (*self.lines[:index], (sku, before + qty), *self.lines[index + 1 :])
                return
        self.lines = (*self.lines, (sku, qty))


class _Customer(NamedTuple):
    id: int
    name: str
    language: Language | None


# These columns repeat a handful of values down a whole file: check each value once.
@lru_cache(maxsize=4_096)
def _sku(value: str) -> str:
    return check_code(value, "sku")


@lru_cache(maxsize=256)
def _qty(value: str) -> int:
    return check_count(value, "qty", minimum=1)


@lru_cache(maxsize=4_096)
def _reseller(value: str) -> str:
    return check_code(value, "reseller") if value else ""


@lru_cache(maxsize=64)
def _language(value: str) -> Language | None:
    try:
        return Language(value.lower()) if value else None
    except ValueError:
        raise ValueError(f"language: expected id or en, got {value!r}") from None


def _check_order_row(row: dict[str, str]) -> tuple[str, str, str, str, int, str, Language | None]:
    check_text(row)
    code = check_code(row["code"], "code")
    name = row["customer_name"]
    if not name:
        raise ValueError("customer_name: required")
    if len(name) > NAME_LENGTH:
        raise ValueError(f"customer_name: at most {NAME_LENGTH} characters")
    try:
        phone = normalize_phone(row["customer_phone"])
    except InvalidPhone:
        # Masked: these lines end up in terminals and cron mails.
        shown = mask_phone(row["customer_phone"])
        raise ValueError(f"customer_phone: {shown!r} is not a phone number") from None
    return (
        code,
        name,
        phone,
        _sku(row["sku"]),
        _qty(row["qty"]),
        _reseller(row["reseller"]),
        _language(row["language"]),
    )


def _draft_orders(
    rows: Rows, errors: list[RowError], progress: Progress | None
) -> dict[str, OrderDraft]:
    """Check every row on its own and group the good ones by order code."""
    drafts: dict[str, OrderDraft] = {}
    for done, (line, row) in enumerate(rows, start=1):
        try:
            code, name, phone, sku, qty, reseller, language = _check_order_row(row)
        except ValueError as exc:
            errors.append(RowError(line, str(exc)))
            continue
        draft = drafts.get(code)
        if draft is None:
            drafts[code] = OrderDraft(line, code, name, phone, reseller, language, ((sku, qty),))
        elif (draft.customer_name, draft.phone, draft.reseller, draft.language) != (
            name,
            phone,
            reseller,
            language,
        ):
            errors.append(
                RowError(
                    line,
                    f"order {code}: customer, reseller or language differ from line {draft.line}",
                )
            )
        else:
            draft.add(sku, qty)
        if progress and done % CHUNK == 0:
            progress("checking", done, len(rows))
    return drafts


async def import_orders(
    session: AsyncSession,
    rows: Rows,
    *,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ImportResult:
    """Create the orders of the file (one row per line, rows grouped by code)."""
    now = now or utcnow()
    errors: list[RowError] = []
    drafts = _draft_orders(rows, errors, progress)

    skus = sorted({sku for d in drafts.values() for sku, _ in d.lines})
    catalog = await catalog_of(session, skus)
    resellers = {r.code: r for r in await session.scalars(select(Reseller))}
    existing = await _existing_orders(session, list(drafts))
    known = await _known_customers(session, sorted({d.phone for d in drafts.values()}))

    fresh: list[OrderDraft] = []
    result = ImportResult(rows=len(rows))
    for draft in drafts.values():
        missing = [sku for sku, _ in draft.lines if sku not in catalog]
        if missing:
            errors.append(RowError(draft.line, f"sku: no product {', '.join(missing)}"))
        if draft.reseller and draft.reseller not in resellers:
            errors.append(RowError(draft.line, f"reseller: no reseller {draft.reseller}"))
        before = existing.get(draft.code)
        if before is None:
            fresh.append(draft)
        elif before != (draft.phone, draft.reseller or None, dict(draft.lines)):
            errors.append(
                RowError(
                    draft.line,
                    f"order {draft.code} already exists with another customer, reseller or lines",
                )
            )
        else:
            result.unchanged += 1
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.line))

    customers = await _upsert_customers(session, drafts.values(), known)
    # What follows holds a chunk of orders at a time, and no more names.
    del drafts, existing, known
    for draft in fresh:
        draft.customer_name = ""
    # In file order, a chunk at a time: each chunk reserves from the stock the earlier left,
    # and queues behind the orders they left waiting, as one call for all of them would.
    ledger = StockLedger()
    await ledger.learn(session, (catalog[sku].id for sku in skus if catalog[sku].ready))
    done = 0
    for part in chunks(fresh, WRITE_CHUNK):
        placed = await place_orders(
            session,
            [
                NewOrder(
                    draft.code,
                    customers[draft.phone],
                    [(catalog[sku], qty) for sku, qty in draft.lines],
                    resellers[draft.reseller].id if draft.reseller else None,
                )
                for draft in part
            ],
            now=now,
            actor=IMPORT,
            ledger=ledger,
        )
        result.created += len(placed)
        result.awaiting_stock += sum(p.phase is Phase.AWAITING_STOCK for p in placed)
        done += len(part)
        if progress:
            progress("writing", done, len(fresh))
    return result


async def _existing_orders(
    session: AsyncSession, codes: Sequence[str]
) -> dict[str, tuple[str, str | None, dict[str, int]]]:
    """For codes already in the database: (phone, reseller code, sku -> qty)."""
    found: dict[str, tuple[str, str | None, dict[str, int]]] = {}
    rows = await session.execute(
        select(Order.code, Customer.phone, Reseller.code, Product.sku, OrderLine.qty)
        .join(Customer, Customer.id == Order.customer_id)
        .outerjoin(Reseller, Reseller.id == Order.reseller_id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Product, Product.id == OrderLine.product_id)
        .where(among(Order.code, codes, session.get_bind().dialect))
    )
    for code, phone, reseller, sku, qty in rows:
        found.setdefault(code, (phone, reseller, {}))[2][sku] = qty
    return found


async def _known_customers(session: AsyncSession, phones: Sequence[str]) -> dict[str, _Customer]:
    """The customers already known by these phone numbers."""
    rows = await session.execute(
        select(Customer.phone, Customer.id, Customer.name, Customer.language).where(
            among(Customer.phone, phones, session.get_bind().dialect)
        )
    )
    return {row.phone: _Customer(row.id, row.name, row.language) for row in rows}


async def _upsert_customers(
    session: AsyncSession, drafts: Collection[OrderDraft], known: Mapping[str, _Customer]
) -> dict[str, int]:
    """Create new customers; the latest name and language of known ones win. Return their ids."""
    new: dict[str, tuple[str, str, Language | None]] = {}
    latest = dict(known)
    for draft in drafts:
        person = latest.get(draft.phone)
        if person is None:
            new[draft.phone] = (draft.phone, draft.customer_name, draft.language)
        else:
            language = person.language if draft.language is None else draft.language
            latest[draft.phone] = person._replace(name=draft.customer_name, language=language)
    table = table_of(Customer)
    changed = [
        {"customer_id": p.id, "new_name": p.name, "new_language": p.language}
        for phone, p in latest.items()
        if p != known[phone]
    ]
    if changed:
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("customer_id"))
            .values(name=bindparam("new_name"), language=bindparam("new_language")),
            changed,
        )
    created = utcnow()
    returned = await insert_rows(
        session,
        table,
        ("phone", "name", "language", "created_at"),
        [(*values, created) for values in new.values()],
        returning=("phone", "id"),
    )
    ids = {phone: person.id for phone, person in known.items()}
    ids.update(dict(returned))
    # Keyed by the file's own strings: the database's copies of 10k phone numbers go.
    return {draft.phone: ids[draft.phone] for draft in drafts}
