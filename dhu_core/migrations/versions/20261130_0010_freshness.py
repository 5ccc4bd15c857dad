"""Freshness of practices: last confirmed, reminded and archived; detail-page views per day

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

A published practice now has the time it was last confirmed as current (publication, an
approved edit, or a click of its organisation or a coordinator), the time its organisation was
last reminded to confirm it, and, once archived for want of confirmation, the time it was
archived (`dhu_core.freshness`). Practices published before are taken as confirmed when they
were last changed (an approved edit changes `updated_at`), or else when published; archived
ones as archived then. `practice_view_day` counts the views of each detail page per day.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("last_confirmed_at", "freshness_reminded_at", "archived_at")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column(
            "practice", sa.Column(name, sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    op.execute(
        "UPDATE practice SET last_confirmed_at = COALESCE(updated_at, published_at) "
        "WHERE status IN ('published', 'archived')"
    )
    op.execute("UPDATE practice SET archived_at = updated_at WHERE status = 'archived'")
    op.create_index(
        "ix_practice_status_confirmed", "practice", ["status", "last_confirmed_at"], unique=False
    )
    op.create_table(
        "practice_view_day",
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("practice_id", "day"),
    )


def downgrade() -> None:
    op.drop_table("practice_view_day")
    op.drop_index("ix_practice_status_confirmed", table_name="practice")
    for name in reversed(COLUMNS):
        op.drop_column("practice", name)
