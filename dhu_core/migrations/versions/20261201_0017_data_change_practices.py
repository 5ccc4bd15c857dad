"""The change log says which practices' facet values a catalogue change touched

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01

`data_change.practices` holds, on a catalogue row, the ids of the practices whose facet values
(status, type, maturity, transferable, publication and confirmation times, deployments, tags)
the transaction changed, so that each process patches its facet index with those practices
instead of reading them all again (see `dhu_core.facet_index`). Rows written before it say
nothing (NULL): an index that meets one is built again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("data_change", sa.Column("practices", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("data_change", "practices")
