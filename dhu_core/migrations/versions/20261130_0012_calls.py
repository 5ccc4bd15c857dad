"""Twinning calls and the applications to them

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30

`twinning_call` keeps a call's rules (countries, practice types and minimum maturity), places,
grant per place, opening and closing times and evaluation criteria, as a draft until it is
published. `call_application` is an adopter organisation's application with one of its needs
(one per organisation and call), and `call_application_practice` each preferred practice with
its originator's answer.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STRING = sqlmodel.sql.sqltypes.AutoString
MOMENT = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "twinning_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", STRING(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("min_maturity", sa.Integer(), nullable=True),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("grant_per_place", sa.Integer(), nullable=False),
        sa.Column("currency", STRING(length=3), nullable=False),
        sa.Column("opens_at", MOMENT(), nullable=False),
        sa.Column("closes_at", MOMENT(), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("practice_types", sa.JSON(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("status", STRING(length=20), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", MOMENT(), nullable=False),
        sa.Column("updated_at", MOMENT(), nullable=False),
        sa.Column("published_at", MOMENT(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_twinning_call_status", "twinning_call", ["status"])
    op.create_table(
        "call_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("motivation", sa.Text(), nullable=False),
        sa.Column("status", STRING(length=20), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", MOMENT(), nullable=False),
        sa.Column("updated_at", MOMENT(), nullable=False),
        sa.Column("submitted_at", MOMENT(), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["twinning_call.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["need_id"], ["twinning_need.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id", "organisation_id", name="uq_call_application_organisation"),
    )
    op.create_index("ix_call_application_call_id", "call_application", ["call_id"])
    op.create_table(
        "call_application_practice",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("status", STRING(length=20), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", MOMENT(), nullable=True),
        sa.ForeignKeyConstraint(["application_id"], ["call_application.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("application_id", "practice_id"),
    )
    op.create_index(
        "ix_call_application_practice_organisation_id",
        "call_application_practice",
        ["organisation_id"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_call_application_practice_organisation_id", table_name="call_application_practice"
    )
    op.drop_table("call_application_practice")
    op.drop_index("ix_call_application_call_id", table_name="call_application")
    op.drop_table("call_application")
    op.drop_index("ix_twinning_call_status", table_name="twinning_call")
    op.drop_table("twinning_call")
