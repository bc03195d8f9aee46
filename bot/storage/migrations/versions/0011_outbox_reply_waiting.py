"""outbox: an index on the replies waiting behind earlier rows of their chat, whose
chats the sender claims first (kind and status lead for SQLite's planner, see the model)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

REPLY_WAITING = sa.text("kind = 'reply' AND status = 'pending'")


def upgrade() -> None:
    op.create_index(
        "ix_outbox_reply_waiting",
        "outbox",
        ["kind", "status", "platform", "chat_id"],
        postgresql_where=REPLY_WAITING,
        sqlite_where=REPLY_WAITING,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_reply_waiting", table_name="outbox")
