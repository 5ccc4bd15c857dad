"""Practices and digests record the language they are written in

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01

`practice.text_language` and `digest.language` hold the ISO 639-1 code of the language the
title and texts are written in. Content stays in that language; a reader whose interface is in
another sees a badge saying which it is. Rows written before are English, as every practice
and digest of the platform was until now.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("practice", "text_language"), ("digest", "language"))


def upgrade() -> None:
    for table, column in COLUMNS:
        op.add_column(
            table, sa.Column(column, sa.String(length=5), nullable=False, server_default="en")
        )


def downgrade() -> None:
    for table, column in COLUMNS:
        op.drop_column(table, column)
