"""Memberships of organisations, and rate-limited actions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

`membership` records who asked to join, was invited to, belongs to or left an organisation;
every account that already acts for an organisation gets an active membership, so nobody loses
access. `rate_event` keeps recent uses of rate-limited actions (sign-up, quick capture).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["invited_by_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_membership_account_id", "membership", ["account_id"], unique=False)
    op.create_index(
        "ix_membership_organisation_status",
        "membership",
        ["organisation_id", "status"],
        unique=False,
    )
    op.create_table(
        "rate_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rate_event_at", "rate_event", ["at"], unique=False)
    op.create_index(
        "ix_rate_event_bucket_key_at", "rate_event", ["bucket", "key", "at"], unique=False
    )
    # Accounts that act for an organisation today keep doing so, now as active members.
    op.execute(
        "INSERT INTO membership (organisation_id, account_id, status, created_at, decided_at) "
        "SELECT organisation_id, id, 'active', created_at, created_at FROM account "
        "WHERE organisation_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_rate_event_bucket_key_at", table_name="rate_event")
    op.drop_index("ix_rate_event_at", table_name="rate_event")
    op.drop_table("rate_event")
    op.drop_index("ix_membership_organisation_status", table_name="membership")
    op.drop_index("ix_membership_account_id", table_name="membership")
    op.drop_table("membership")
