"""Following a twinning to completion

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30

`twinning_milestone` holds a twinning's work plan (kick-off, study visit, adaptation, pilot,
final report: due and done dates, with a version), `twinning_assistance` the technical-assistance
sessions coordinators log, `twinning_report` the reports the pair uploads (their bytes in the
database), and `lessons_case` the lessons learned from a twinning, a draft until published.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STRING = sqlmodel.sql.sqltypes.AutoString
MOMENT = sqlmodel.sql.sqltypes.UTCDateTime


def _of_a_twinning() -> list:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["match_id"], ["twinning_match.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    ]


def upgrade() -> None:
    op.create_table(
        "twinning_milestone",
        *_of_a_twinning(),
        sa.Column("kind", STRING(length=20), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", MOMENT(), nullable=False),
        sa.UniqueConstraint("match_id", "kind", name="uq_milestone_match_kind"),
    )
    op.create_index("ix_twinning_milestone_match_id", "twinning_milestone", ["match_id"])
    op.create_table(
        "twinning_assistance",
        *_of_a_twinning(),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("topic", STRING(length=200), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("logged_by_id", sa.Integer(), nullable=True),
        sa.Column("logged_at", MOMENT(), nullable=False),
        sa.ForeignKeyConstraint(["logged_by_id"], ["account.id"]),
    )
    op.create_index("ix_twinning_assistance_match_id", "twinning_assistance", ["match_id"])
    op.create_table(
        "twinning_report",
        *_of_a_twinning(),
        sa.Column("kind", STRING(length=20), nullable=False),
        sa.Column("filename", STRING(length=120), nullable=False),
        sa.Column("content_type", STRING(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", MOMENT(), nullable=False),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["account.id"]),
    )
    op.create_index("ix_twinning_report_match_id", "twinning_report", ["match_id"])
    op.create_table(
        "lessons_case",
        *_of_a_twinning(),
        *(
            sa.Column(part, sa.Text(), nullable=False)
            for part in ("context", "transferred", "adapted", "barriers", "costs", "outcome")
        ),
        sa.Column("status", STRING(length=20), nullable=False),
        sa.Column("written_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", MOMENT(), nullable=False),
        sa.Column("published_at", MOMENT(), nullable=True),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["written_by_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["published_by_id"], ["account.id"]),
        sa.UniqueConstraint("match_id"),
    )


def downgrade() -> None:
    op.drop_table("lessons_case")
    op.drop_table("twinning_report")
    op.drop_table("twinning_assistance")
    op.drop_table("twinning_milestone")
