"""conversation log and handover threads

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 16:01:21.831962

Every chat message in and out is stored (chat_messages); a chat handed over to a person has a
thread (support_threads, one open per chat); chats count the messages in a row the bot could
not understand (misses); notifications gain the handover kinds.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("media_kind", sa.String(length=16), nullable=True),
        sa.Column("media", sa.String(length=1000), nullable=True),
        sa.Column("provider_message_id", sa.String(length=64), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_chat_messages_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_chat_messages_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_chat_messages_staff_id_staff"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
    )
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_messages_at"), ["at"], unique=False)
        batch_op.create_index("ix_chat_messages_chat_id_id", ["chat_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chat_messages_order_id"), ["order_id"], unique=False)

    op.create_table(
        "support_threads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "closed", name="threadstatus", native_enum=False),
            nullable=False,
        ),
        sa.Column(
            "reason",
            sa.Enum("asked", "not_understood", "media", name="reason", native_enum=False),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("opened_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("waiting_since", models.base.UTCDateTime(), nullable=True),
        sa.Column("last_activity_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("claimed_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("forwarded_through", sa.Integer(), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("batch_from", sa.Integer(), nullable=False),
        sa.Column("next_forward_at", models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_support_threads_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by"],
            ["staff.id"],
            name=op.f("fk_support_threads_claimed_by_staff"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_threads")),
    )
    with op.batch_alter_table("support_threads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_support_threads_chat_id"), ["chat_id"], unique=False)
        batch_op.create_index(
            "ix_support_threads_status_activity", ["status", "last_activity_at"], unique=False
        )
        batch_op.create_index(
            "uq_support_threads_open_chat",
            ["chat_id"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )

    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("misses", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=sa.VARCHAR(length=13),
            type_=sa.Enum(
                "order_update",
                "back_in_stock",
                "staff_alert",
                "handover",
                "staff_reply",
                "support_notice",
                name="notificationkind",
                native_enum=False,
            ),
            existing_nullable=False,
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=sa.Enum(
                "order_update",
                "back_in_stock",
                "staff_alert",
                "handover",
                "staff_reply",
                "support_notice",
                name="notificationkind",
                native_enum=False,
            ),
            type_=sa.VARCHAR(length=13),
            existing_nullable=False,
        )

    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_column("misses")

    with op.batch_alter_table("support_threads", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_support_threads_open_chat",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
        batch_op.drop_index("ix_support_threads_status_activity")
        batch_op.drop_index(batch_op.f("ix_support_threads_chat_id"))

    op.drop_table("support_threads")
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_messages_order_id"))
        batch_op.drop_index("ix_chat_messages_chat_id_id")
        batch_op.drop_index(batch_op.f("ix_chat_messages_at"))

    op.drop_table("chat_messages")
