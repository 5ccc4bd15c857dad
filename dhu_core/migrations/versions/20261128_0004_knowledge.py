"""knowledge community: expressions of interest

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 14:00:00.000000

The table `interest` holds expressions of interest in a twinning need or a practice, shown in
the inbox of the organisation they are addressed to. Digests, spotlights and quick captures use
tables of the first schema.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "interest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_user_id", sa.Integer(), nullable=False),
        sa.Column("from_organisation_id", sa.Integer(), nullable=True),
        sa.Column("to_organisation_id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=True),
        sa.Column("practice_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("read_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["from_organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["from_user_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["need_id"], ["twinning_need.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["to_organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("interest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_interest_from_user_id"), ["from_user_id"])
        batch_op.create_index(batch_op.f("ix_interest_to_organisation_id"), ["to_organisation_id"])


def downgrade() -> None:
    with op.batch_alter_table("interest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interest_to_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_interest_from_user_id"))
    op.drop_table("interest")
