"""indexes for scale

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 09:12:44.118203
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_updated_at"), ["updated_at"], unique=False)

    with op.batch_alter_table("phase_events", schema=None) as batch_op:
        batch_op.create_index("ix_phase_events_staff_at", ["staff_id", "at"], unique=False)

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_event_id"), ["event_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_event_id"))

    with op.batch_alter_table("phase_events", schema=None) as batch_op:
        batch_op.drop_index("ix_phase_events_staff_at")

    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_updated_at"))
