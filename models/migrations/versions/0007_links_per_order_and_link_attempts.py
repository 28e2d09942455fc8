"""links per order and link attempts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 16:34:44.244847

A link code opens its order only (chat_order_links); a customer-wide link (chat_links) is left
for a verified phone number. Chats count the link codes tried there that opened nothing
(link_failures since link_failures_since).

Existing data: a chat linked to a customer by a code saw every order of that customer; it
keeps seeing exactly those, as one link per order placed up to this migration, and no longer
sees orders placed later. Downgrading turns links per order back into customer-wide ones (the
older schema cannot say less). Notifications gain the kind link_notice (a VARCHAR already wide
enough: nothing to alter).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "chat_order_links",
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_chat_order_links_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_chat_order_links_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", "order_id", name=op.f("pk_chat_order_links")),
    )
    with op.batch_alter_table("chat_order_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chat_order_links_order_id"), ["order_id"], unique=False
        )

    # Adding columns needs no rebuild of the table (which would copy every chat).
    with op.batch_alter_table("chats", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("link_failures", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(
            sa.Column("link_failures_since", models.base.UTCDateTime(), nullable=True)
        )

    op.execute(
        "INSERT INTO chat_order_links (chat_id, order_id, linked_at) "
        "SELECT chat_links.chat_id, orders.id, chat_links.linked_at "
        "FROM chat_links JOIN orders ON orders.customer_id = chat_links.customer_id "
        "WHERE chat_links.via = 'code'"
    )
    op.execute("DELETE FROM chat_links WHERE via = 'code'")


def downgrade() -> None:
    """Revert this revision."""
    op.execute(
        "INSERT INTO chat_links (chat_id, customer_id, via, linked_at) "
        "SELECT chat_order_links.chat_id, orders.customer_id, 'code', "
        "MIN(chat_order_links.linked_at) "
        "FROM chat_order_links JOIN orders ON orders.id = chat_order_links.order_id "
        "WHERE NOT EXISTS (SELECT 1 FROM chat_links WHERE chat_links.chat_id = "
        "chat_order_links.chat_id AND chat_links.customer_id = orders.customer_id) "
        "GROUP BY chat_order_links.chat_id, orders.customer_id"
    )

    with op.batch_alter_table("chats", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("link_failures_since")
        batch_op.drop_column("link_failures")

    with op.batch_alter_table("chat_order_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_order_links_order_id"))

    op.drop_table("chat_order_links")
