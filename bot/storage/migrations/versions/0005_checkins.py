"""checkins: spinnenweb check-ins, their health data encrypted in one payload column

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkins",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column(
            "user_id",
            BIG_ID,
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_checkins_user_id_users"),
            nullable=False,
        ),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_checkins"),
    )
    op.create_index("ix_checkins_taken_at", "checkins", ["taken_at"])
    op.create_index("ix_checkins_user_taken", "checkins", ["user_id", "taken_at"])


def downgrade() -> None:
    op.drop_index("ix_checkins_user_taken", table_name="checkins")
    op.drop_index("ix_checkins_taken_at", table_name="checkins")
    op.drop_table("checkins")
