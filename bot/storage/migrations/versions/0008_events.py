"""agenda: events, RSVPs and personal calendar feed tokens

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _user_fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete="CASCADE", name=f"fk_{table}_user_id_users")


def upgrade() -> None:
    op.create_table(
        "agenda_events",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("uid", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("start_local", sa.DateTime(timezone=False), nullable=False),
        sa.Column("end_local", sa.DateTime(timezone=False), nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("address", sa.String(255)),
        sa.Column("online_url", sa.String(512)),
        sa.Column("hosts", sa.String(512), nullable=False, server_default=""),
        sa.Column("audience", sa.String(512), nullable=False, server_default="all"),
        sa.Column("capacity", sa.Integer()),
        sa.Column("rsvp_deadline", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), nullable=False, server_default="planned"),
        sa.Column("sequence", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agenda_events"),
        sa.UniqueConstraint("uid", name="uq_agenda_events_uid"),
    )
    op.create_index("ix_agenda_events_start", "agenda_events", ["start_local"])
    op.create_table(
        "agenda_rsvps",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column(
            "event_id",
            BIG_ID,
            sa.ForeignKey(
                "agenda_events.id",
                ondelete="CASCADE",
                name="fk_agenda_rsvps_event_id_agenda_events",
            ),
            nullable=False,
        ),
        sa.Column("user_id", BIG_ID, _user_fk("agenda_rsvps"), nullable=False),
        sa.Column("answer", sa.String(8), nullable=False),
        sa.Column("waitlist_position", sa.Integer()),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agenda_rsvps"),
        sa.UniqueConstraint("event_id", "user_id", name="uq_agenda_rsvps_event_id"),
    )
    op.create_index("ix_agenda_rsvps_user_id", "agenda_rsvps", ["user_id"])
    op.create_table(
        "agenda_feed_tokens",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("user_id", BIG_ID, _user_fk("agenda_feed_tokens"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_agenda_feed_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_agenda_feed_tokens_token_hash"),
    )
    op.create_index("ix_agenda_feed_tokens_user_id", "agenda_feed_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_agenda_feed_tokens_user_id", table_name="agenda_feed_tokens")
    op.drop_table("agenda_feed_tokens")
    op.drop_index("ix_agenda_rsvps_user_id", table_name="agenda_rsvps")
    op.drop_table("agenda_rsvps")
    op.drop_index("ix_agenda_events_start", table_name="agenda_events")
    op.drop_table("agenda_events")
