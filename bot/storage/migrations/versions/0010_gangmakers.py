"""gangmakers and leerateliers: prompt answers, host checklists, theme votes, host
offers and reflectiecirkels

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _event_fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey(
        "agenda_events.id", ondelete="CASCADE", name=f"fk_{table}_event_id_agenda_events"
    )


def _user_fk(table: str, column: str = "user_id", ondelete: str = "CASCADE") -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete=ondelete, name=f"fk_{table}_{column}_users")


def upgrade() -> None:
    op.create_table(
        "agenda_prompt_answers",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", BIG_ID, _event_fk("agenda_prompt_answers"), nullable=False),
        sa.Column("user_id", BIG_ID, _user_fk("agenda_prompt_answers"), nullable=False),
        sa.Column("prompt", sa.String(16), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("share", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agenda_prompt_answers"),
    )
    op.create_index(
        "ix_agenda_prompt_answers_event_id", "agenda_prompt_answers", ["event_id", "prompt"]
    )
    op.create_index("ix_agenda_prompt_answers_user_id", "agenda_prompt_answers", ["user_id"])
    op.create_table(
        "agenda_checklist",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", BIG_ID, _event_fk("agenda_checklist"), nullable=False),
        sa.Column("item", sa.String(32), nullable=False),
        sa.Column("done_by", BIG_ID, _user_fk("agenda_checklist", "done_by", "SET NULL")),
        sa.Column("done_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_agenda_checklist"),
        sa.UniqueConstraint("event_id", "item", name="uq_agenda_checklist_event_id"),
    )
    op.create_table(
        "agenda_polls",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", BIG_ID, _event_fk("agenda_polls"), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", BIG_ID, _user_fk("agenda_polls", "created_by", "SET NULL")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_agenda_polls"),
    )
    op.create_index("ix_agenda_polls_event_id", "agenda_polls", ["event_id"])
    op.create_table(
        "agenda_votes",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column(
            "poll_id",
            BIG_ID,
            sa.ForeignKey(
                "agenda_polls.id", ondelete="CASCADE", name="fk_agenda_votes_poll_id_agenda_polls"
            ),
            nullable=False,
        ),
        sa.Column("user_id", BIG_ID, _user_fk("agenda_votes"), nullable=False),
        sa.Column("option", sa.Integer(), nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agenda_votes"),
        sa.UniqueConstraint("poll_id", "user_id", name="uq_agenda_votes_poll_id"),
    )
    op.create_index("ix_agenda_votes_user_id", "agenda_votes", ["user_id"])
    op.create_table(
        "agenda_host_offers",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", BIG_ID, _event_fk("agenda_host_offers"), nullable=False),
        sa.Column("organisation", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.Column("answered_by", BIG_ID, _user_fk("agenda_host_offers", "answered_by", "SET NULL")),
        sa.PrimaryKeyConstraint("id", name="pk_agenda_host_offers"),
        sa.UniqueConstraint("event_id", "organisation", name="uq_agenda_host_offers_event_id"),
    )
    op.create_table(
        "circles",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("circle", sa.Integer(), nullable=False),
        sa.Column("organisation", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_circles"),
        sa.UniqueConstraint("year", "organisation", name="uq_circles_year"),
    )


def downgrade() -> None:
    op.drop_table("circles")
    op.drop_table("agenda_host_offers")
    op.drop_index("ix_agenda_votes_user_id", table_name="agenda_votes")
    op.drop_table("agenda_votes")
    op.drop_index("ix_agenda_polls_event_id", table_name="agenda_polls")
    op.drop_table("agenda_polls")
    op.drop_table("agenda_checklist")
    op.drop_index("ix_agenda_prompt_answers_user_id", table_name="agenda_prompt_answers")
    op.drop_index("ix_agenda_prompt_answers_event_id", table_name="agenda_prompt_answers")
    op.drop_table("agenda_prompt_answers")
