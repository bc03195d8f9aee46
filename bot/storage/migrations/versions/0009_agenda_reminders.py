"""agenda reminders: what the reminder engine planned and sent, and muting

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agenda_events") as batch:
        batch.add_column(sa.Column("told_sequence", sa.Integer()))
        batch.add_column(sa.Column("told", sa.Text()))
    with op.batch_alter_table("agenda_rsvps") as batch:
        batch.add_column(
            sa.Column("muted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("agenda_muted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "agenda_reminders",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column(
            "event_id",
            BIG_ID,
            sa.ForeignKey(
                "agenda_events.id",
                ondelete="CASCADE",
                name="fk_agenda_reminders_event_id_agenda_events",
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("done_at", sa.DateTime(timezone=True)),
        sa.Column("recipients", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_agenda_reminders"),
        sa.UniqueConstraint("event_id", "name", name="uq_agenda_reminders_event_id"),
    )
    op.create_index("ix_agenda_reminders_due", "agenda_reminders", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_agenda_reminders_due", table_name="agenda_reminders")
    op.drop_table("agenda_reminders")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("agenda_muted")
    with op.batch_alter_table("agenda_rsvps") as batch:
        batch.drop_column("muted")
    with op.batch_alter_table("agenda_events") as batch:
        batch.drop_column("told")
        batch.drop_column("told_sequence")
