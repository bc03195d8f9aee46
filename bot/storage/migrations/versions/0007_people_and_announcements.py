"""people and announcements: profile topics, invites, linked groups, announcements

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _user_fk(table: str, column: str, ondelete: str) -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete=ondelete, name=f"fk_{table}_{column}_users")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("topics_off", sa.String(256), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("profile_offered_at", sa.DateTime(timezone=True)))
    op.create_table(
        "invites",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("organisation", sa.String(128)),
        sa.Column("gemeente", sa.String(64)),
        sa.Column("created_by", BIG_ID, _user_fk("invites", "created_by", "SET NULL")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_invites"),
        sa.UniqueConstraint("token_hash", name="uq_invites_token_hash"),
    )
    op.create_table(
        "invite_uses",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column(
            "invite_id",
            BIG_ID,
            sa.ForeignKey("invites.id", ondelete="CASCADE", name="fk_invite_uses_invite_id_invites"),
            nullable=False,
        ),
        sa.Column("user_id", BIG_ID, _user_fk("invite_uses", "user_id", "CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_invite_uses"),
        sa.UniqueConstraint("invite_id", "user_id", name="uq_invite_uses_invite_id"),
    )
    op.create_index("ix_invite_uses_user_id", "invite_uses", ["user_id"])
    op.create_table(
        "group_links",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(128)),
        sa.Column("linked_by", BIG_ID, _user_fk("group_links", "linked_by", "SET NULL")),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.PrimaryKeyConstraint("id", name="pk_group_links"),
        sa.UniqueConstraint("platform", "chat_id", name="uq_group_links_platform"),
    )
    op.create_table(
        "announcements",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("created_by", BIG_ID, _user_fk("announcements", "created_by", "SET NULL")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("audience", sa.String(512), nullable=False),
        sa.Column("topic", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attachment", sa.Text()),
        sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("queued_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("recipients", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("left_out", sa.Text()),
        sa.Column("report_platform", sa.String(16)),
        sa.Column("report_chat_id", sa.String(64)),
        sa.Column("report_message_id", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_announcements"),
    )
    op.create_index("ix_announcements_due", "announcements", ["status", "send_at"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("announcement_id", BIG_ID))
        batch.create_foreign_key(
            "fk_outbox_announcement_id_announcements",
            "announcements",
            ["announcement_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_outbox_announcement_id", ["announcement_id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_announcement_id")
        batch.drop_constraint("fk_outbox_announcement_id_announcements", type_="foreignkey")
        batch.drop_column("announcement_id")
    op.drop_index("ix_announcements_due", table_name="announcements")
    op.drop_table("announcements")
    op.drop_table("group_links")
    op.drop_index("ix_invite_uses_user_id", table_name="invite_uses")
    op.drop_table("invite_uses")
    op.drop_table("invites")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("profile_offered_at")
        batch.drop_column("topics_off")
