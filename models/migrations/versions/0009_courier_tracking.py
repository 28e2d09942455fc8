"""courier tracking

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 17:07:00.998008

Shipped orders are followed at the courier: each resi has a row (shipment_tracks) with when
it was last checked and is next due, what the courier said and the milestones told, so a
restart loses nothing; a provider's calls of the day and its rest after failures are in
tracker_usage; an order event may carry the courier milestone it tells (phase_events.tracking).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "tracker_usage",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("paused_until", models.base.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("provider", name=op.f("pk_tracker_usage")),
    )
    op.create_table(
        "shipment_tracks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("courier", sa.String(length=64), nullable=False),
        sa.Column("tracking_number", sa.String(length=64), nullable=False),
        sa.Column("since", models.base.UTCDateTime(), nullable=False),
        sa.Column("checked_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("next_check_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("lease_until", models.base.UTCDateTime(), nullable=True),
        sa.Column("misses", sa.Integer(), nullable=False),
        sa.Column(
            "milestone",
            sa.Enum(
                "picked_up",
                "in_transit",
                "at_destination",
                "out_for_delivery",
                "delivered",
                "failed_attempt",
                "returning",
                "returned",
                "not_found",
                name="milestone",
                native_enum=False,
            ),
            nullable=True,
        ),
        sa.Column("reached", sa.JSON(), nullable=False),
        sa.Column("checkpoints", sa.JSON(), nullable=False),
        sa.Column("last_checkpoint_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("receiver", sa.String(length=80), nullable=True),
        sa.Column("destination", sa.String(length=100), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_shipment_tracks_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_tracks")),
        sa.UniqueConstraint("order_id", name=op.f("uq_shipment_tracks_order_id")),
    )
    with op.batch_alter_table("shipment_tracks", schema=None) as batch_op:
        batch_op.create_index("ix_shipment_tracks_next_check_at", ["next_check_at"], unique=False)

    with op.batch_alter_table("phase_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tracking", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("phase_events", schema=None) as batch_op:
        batch_op.drop_column("tracking")

    with op.batch_alter_table("shipment_tracks", schema=None) as batch_op:
        batch_op.drop_index("ix_shipment_tracks_next_check_at")

    op.drop_table("shipment_tracks")
    op.drop_table("tracker_usage")
