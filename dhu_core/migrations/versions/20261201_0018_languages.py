"""Accounts and e-mails have a language

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01

`account.language` is the interface language an account chose last (at sign-up, or from the
language menu while signed in); `outbox_message.language` the language a message is written
in, its recipient's when it was queued. Both are English for the rows written before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("account", "outbox_message"):
        op.add_column(
            table,
            sa.Column("language", sa.String(length=5), nullable=False, server_default="en"),
        )


def downgrade() -> None:
    for table in ("outbox_message", "account"):
        op.drop_column(table, "language")
