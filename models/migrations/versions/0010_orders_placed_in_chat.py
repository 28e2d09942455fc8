"""orders placed in chat

Revision ID: 0010
Revises: 0009

Orders placed in chat: where an order goes (recipient, phone, address), the drafts customers
put together step by step, and the counters that number new order codes (INV-1004).
Create Date: 2026-12-03 17:33:36.979684
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "code_counters",
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", name=op.f("pk_code_counters")),
    )
    op.create_table(
        "order_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("remind_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("reminded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_order_drafts_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_drafts")),
        sa.UniqueConstraint("chat_id", name=op.f("uq_order_drafts_chat_id")),
    )
    with op.batch_alter_table("order_drafts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_order_drafts_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_order_drafts_remind_at"), ["remind_at"], unique=False)

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recipient_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("recipient_phone", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("address", sa.Text(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("address")
        batch_op.drop_column("recipient_phone")
        batch_op.drop_column("recipient_name")

    with op.batch_alter_table("order_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_drafts_remind_at"))
        batch_op.drop_index(batch_op.f("ix_order_drafts_expires_at"))

    op.drop_table("order_drafts")
    op.drop_table("code_counters")
