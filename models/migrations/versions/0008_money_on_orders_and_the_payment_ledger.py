"""money on orders and the payment ledger

Revision ID: 0008
Revises: 0007

Orders carry their money (the lines' subtotal, shipping, discount, what was paid, a unique
code) and a payment state apart from the phase; payment_events is the ledger. Existing orders
get their subtotal from their lines, and those already past `paid` are paid in full.
Create Date: 2026-12-03 16:57:10.681423
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "payment_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("at", models.base.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column(
            "from_state",
            sa.Enum(
                "unpaid",
                "proof_sent",
                "partly_paid",
                "paid",
                "refunded",
                name="paymentstate",
                native_enum=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "to_state",
            sa.Enum(
                "unpaid",
                "proof_sent",
                "partly_paid",
                "paid",
                "refunded",
                name="paymentstate",
                native_enum=False,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("proof", sa.String(length=1000), nullable=True),
        sa.Column("command_id", sa.String(length=32), nullable=True),
        sa.Column("chat_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_payment_events_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_payment_events_staff_id_staff"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
    )
    with op.batch_alter_table("payment_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_events_command_id"), ["command_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payment_events_order_id"), ["order_id"], unique=False)

    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proof_for_order_id", sa.Integer(), nullable=True))

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "subtotal",
                sa.Numeric(precision=14, scale=2),
                nullable=False,
                server_default=sa.text("0"),
            )
        )
        batch_op.add_column(
            sa.Column(
                "shipping_fee",
                sa.Numeric(precision=14, scale=2),
                nullable=False,
                server_default=sa.text("0"),
            )
        )
        batch_op.add_column(
            sa.Column(
                "discount",
                sa.Numeric(precision=14, scale=2),
                nullable=False,
                server_default=sa.text("0"),
            )
        )
        batch_op.add_column(
            sa.Column(
                "paid_amount",
                sa.Numeric(precision=14, scale=2),
                nullable=False,
                server_default=sa.text("0"),
            )
        )
        batch_op.add_column(sa.Column("unique_code", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "payment_state",
                sa.Enum(
                    "unpaid",
                    "proof_sent",
                    "partly_paid",
                    "paid",
                    "refunded",
                    name="paymentstate",
                    native_enum=False,
                ),
                nullable=False,
                server_default="unpaid",
            )
        )
        batch_op.create_index(
            "ix_orders_payment_placed", ["payment_state", "placed_at"], unique=False
        )
        batch_op.create_index(
            "uq_orders_open_unique_code",
            ["unique_code"],
            unique=True,
            sqlite_where=sa.text("payment_state IN ('unpaid', 'proof_sent', 'partly_paid')"),
            postgresql_where=sa.text("payment_state IN ('unpaid', 'proof_sent', 'partly_paid')"),
        )

    with op.batch_alter_table("phase_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paid", sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.add_column(sa.Column("payment", sa.String(length=16), nullable=True))

    op.execute(
        "UPDATE orders SET subtotal = COALESCE((SELECT SUM(l.qty * l.unit_price)"
        " FROM order_lines AS l WHERE l.order_id = orders.id), 0)"
    )
    op.execute(
        "UPDATE orders SET payment_state = 'paid', paid_amount = subtotal WHERE phase IN"
        " ('paid', 'packed', 'in_production', 'ready', 'shipped', 'delivered')"
    )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("phase_events", schema=None) as batch_op:
        batch_op.drop_column("payment")
        batch_op.drop_column("paid")

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_orders_open_unique_code",
            sqlite_where=sa.text("payment_state IN ('unpaid', 'proof_sent', 'partly_paid')"),
            postgresql_where=sa.text("payment_state IN ('unpaid', 'proof_sent', 'partly_paid')"),
        )
        batch_op.drop_index("ix_orders_payment_placed")
        batch_op.drop_column("payment_state")
        batch_op.drop_column("unique_code")
        batch_op.drop_column("paid_amount")
        batch_op.drop_column("discount")
        batch_op.drop_column("shipping_fee")
        batch_op.drop_column("subtotal")

    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_column("proof_for_order_id")

    with op.batch_alter_table("payment_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_events_order_id"))
        batch_op.drop_index(batch_op.f("ix_payment_events_command_id"))

    op.drop_table("payment_events")
