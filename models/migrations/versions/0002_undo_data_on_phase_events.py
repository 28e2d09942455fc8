"""undo data on phase events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 18:32:29.394158
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("phase_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("command_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("before", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("stock_effect", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("undoes_event_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_phase_events_command_id"), ["command_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_phase_events_undoes_event_id"), ["undoes_event_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_phase_events_undoes_event_id_phase_events"),
            "phase_events",
            ["undoes_event_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("phase_events", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_phase_events_undoes_event_id_phase_events"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_phase_events_undoes_event_id"))
        batch_op.drop_index(batch_op.f("ix_phase_events_command_id"))
        batch_op.drop_column("undoes_event_id")
        batch_op.drop_column("stock_effect")
        batch_op.drop_column("before")
        batch_op.drop_column("command_id")
