"""Index for the catalogue's default order: newest published practices first.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_practice_status_published", "practice", ["status", "published_at", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_practice_status_published", table_name="practice")
