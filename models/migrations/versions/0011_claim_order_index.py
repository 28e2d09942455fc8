"""the outbox's due index in the claim's whole order

Revision ID: 0011
Revises: 0010

A claim takes the oldest due rows by (due_at, id). With `id` in the index, PostgreSQL reads
them in that order and stops at the claim's limit, instead of sorting every due row.
Create Date: 2026-12-05 15:40:12.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.drop_index("ix_notifications_due", table_name="notifications")
    op.create_index("ix_notifications_due", "notifications", ["status", "due_at", "id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_notifications_due", table_name="notifications")
    op.create_index("ix_notifications_due", "notifications", ["status", "due_at"])
