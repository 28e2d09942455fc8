"""Stock reservation primitives: atomic in SQL, never below zero, even under concurrency."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from models.catalog import Product

StockLines = Sequence[tuple[int, int]]  # (product_id, qty)


async def reserve(session: AsyncSession, lines: StockLines) -> bool:
    """Reserve every line or none: True when all fitted, False (nothing held) otherwise.

    Each line is one conditional UPDATE, so two orders racing for the last unit cannot both
    win: PostgreSQL re-checks the condition after the row lock, SQLite holds the write lock.
    """
    done: list[tuple[int, int]] = []
    for product_id, qty in lines:
        stmt = (
            update(Product)
            .where(Product.id == product_id, Product.on_hand - Product.reserved >= qty)
            .values(reserved=Product.reserved + qty)
            .returning(Product.id)
            .execution_options(synchronize_session="fetch")
        )
        if (await session.execute(stmt)).first() is None:
            await release(session, done)
            return False
        done.append((product_id, qty))
    return True


async def release(session: AsyncSession, lines: StockLines) -> None:
    """Give reserved units back (cancellation, or a partial reservation undone)."""
    for product_id, qty in lines:
        await session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(reserved=Product.reserved - qty)
            .execution_options(synchronize_session="fetch")
        )


async def consume(session: AsyncSession, lines: StockLines) -> None:
    """Take reserved units out of the warehouse: they left with the courier."""
    for product_id, qty in lines:
        await session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(on_hand=Product.on_hand - qty, reserved=Product.reserved - qty)
            .execution_options(synchronize_session="fetch")
        )


async def unconsume(session: AsyncSession, lines: StockLines) -> None:
    """Put shipped units back as reserved: a shipment recorded by mistake was undone."""
    for product_id, qty in lines:
        await session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(on_hand=Product.on_hand + qty, reserved=Product.reserved + qty)
            .execution_options(synchronize_session="fetch")
        )
