"""orders by when they were placed

Revision ID: 0012
Revises: 0011

Staff ask for today's orders ("pesanan hari ini?") and for the sales of a day, a week or a
month: both read orders placed since a moment, newest first. Without an index on
(placed_at, id) each question read the whole table and sorted it.
Create Date: 2026-12-06 20:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_orders_placed", "orders", ["placed_at", "id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_orders_placed", table_name="orders")
