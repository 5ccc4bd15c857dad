"""Claims of practices whose organisation has no member account

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30

`practice_claim` keeps who claimed to act for the organisation of an imported or captured
practice, in which role, whether their e-mail address is at the organisation's web domain,
and the coordinator's decision. An account has at most one open claim per practice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    op.create_table(
        "practice_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("domain_matches", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_practice_claim_account_id", "practice_claim", ["account_id"])
    op.create_index("ix_practice_claim_status_created", "practice_claim", ["status", "created_at"])
    op.create_index(
        "uq_practice_claim_open",
        "practice_claim",
        ["practice_id", "account_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("uq_practice_claim_open", table_name="practice_claim")
    op.drop_index("ix_practice_claim_status_created", table_name="practice_claim")
    op.drop_index("ix_practice_claim_account_id", table_name="practice_claim")
    op.drop_table("practice_claim")
