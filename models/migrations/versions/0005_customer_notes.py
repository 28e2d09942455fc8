"""customer notes on phase events

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 16:00:00.000000

A staff note is for the shop's eyes unless written for the customer; the part meant for the
customer gets its own column. Notes written before were all told to customers, so they are
carried over as customer notes (undo's own "undo" marker excepted).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("phase_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_note", sa.Text(), nullable=True))
    op.execute(
        "UPDATE phase_events SET customer_note = note"
        " WHERE note IS NOT NULL AND undoes_event_id IS NULL"
    )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("phase_events", schema=None) as batch_op:
        batch_op.drop_column("customer_note")
