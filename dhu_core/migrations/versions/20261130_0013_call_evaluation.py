"""Evaluating and awarding twinning calls

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30

`call_assignment` gives an application to an evaluator, `call_conflict` keeps the conflicts of
interest evaluators declare, `call_score` each evaluator's score and comment per criterion,
`call_consensus` the agreed scores and weighted total of an application (with a version), and
`call_award` each application's outcome once its call is awarded. A call says whether
evaluators from the applicant's country are excluded, and when it was awarded.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STRING = sqlmodel.sql.sqltypes.AutoString
MOMENT = sqlmodel.sql.sqltypes.UTCDateTime


def _application_and_evaluator() -> list:
    return [
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("evaluator_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["call_application.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["evaluator_id"], ["account.id"], ondelete="CASCADE"),
    ]


def upgrade() -> None:
    with op.batch_alter_table("twinning_call") as batch:
        batch.add_column(
            sa.Column(
                "exclude_same_country", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch.add_column(sa.Column("awarded_at", MOMENT(), nullable=True))
    op.create_table(
        "call_assignment",
        *_application_and_evaluator(),
        sa.Column("status", STRING(length=20), nullable=False),
        sa.Column("assigned_by_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", MOMENT(), nullable=False),
        sa.Column("submitted_at", MOMENT(), nullable=True),
        sa.ForeignKeyConstraint(["assigned_by_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("application_id", "evaluator_id"),
    )
    op.create_table(
        "call_conflict",
        *_application_and_evaluator(),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("declared_at", MOMENT(), nullable=False),
        sa.PrimaryKeyConstraint("application_id", "evaluator_id"),
    )
    op.create_table(
        "call_score",
        *_application_and_evaluator(),
        sa.Column("criterion", STRING(length=200), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("updated_at", MOMENT(), nullable=False),
        sa.PrimaryKeyConstraint("application_id", "evaluator_id", "criterion"),
    )
    op.create_table(
        "call_consensus",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", MOMENT(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["call_application.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("application_id"),
    )
    op.create_table(
        "call_award",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("outcome", STRING(length=20), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("reserve_position", sa.Integer(), nullable=True),
        sa.Column("practice_id", sa.Integer(), nullable=True),
        sa.Column("match_id", sa.Integer(), nullable=True),
        sa.Column("grant", sa.Integer(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", MOMENT(), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["call_application.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["call_id"], ["twinning_call.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["match_id"], ["twinning_match.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("application_id"),
    )
    op.create_index("ix_call_award_call_id", "call_award", ["call_id"])
    op.create_index("ix_call_award_match_id", "call_award", ["match_id"])


def downgrade() -> None:
    op.drop_table("call_award")
    op.drop_table("call_consensus")
    op.drop_table("call_score")
    op.drop_table("call_conflict")
    op.drop_table("call_assignment")
    with op.batch_alter_table("twinning_call") as batch:
        batch.drop_column("awarded_at")
        batch.drop_column("exclude_same_country")
