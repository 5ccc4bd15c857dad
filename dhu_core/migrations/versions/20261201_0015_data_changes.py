"""Scoped change tracking

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01

`data_change` logs the scopes each write transaction changed (the catalogue, drafts,
twinning…), appended to rather than updated, so writers never wait for one another on it; the
data version in `app_state`, one row that every write updated, goes. The log starts with a row
for every scope, at an id taken from the clock (microseconds), so each version is above any a
cache may have kept from before: the old data version, or this log's before a downgrade.
"""

import time
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The scopes of dhu_core.changes.SCOPES when this migration was written.
SCOPES = (
    "catalogue",
    "drafts",
    "twinning",
    "knowledge",
    "calls",
    "organisations",
    "accounts",
    "sign_in",
    "inbox",
    "audit",
)
#: 64 bits on PostgreSQL; SQLite's INTEGER PRIMARY KEY is 64 bits already (and must be spelt so).
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    data_change = op.create_table(
        "data_change",
        sa.Column("id", ID, nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_data_change_scope_id", "data_change", ["scope", "id"])
    start = int(time.time() * 1_000_000)
    op.bulk_insert(data_change, [{"id": start + i, "scope": s} for i, s in enumerate(SCOPES)])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('data_change', 'id'), max(id)) FROM data_change"
        )
    with op.batch_alter_table("app_state") as batch_op:
        batch_op.drop_column("data_version")


def downgrade() -> None:
    with op.batch_alter_table("app_state") as batch_op:
        batch_op.add_column(
            sa.Column("data_version", sa.Integer(), nullable=False, server_default="0")
        )
    op.drop_index("ix_data_change_scope_id", table_name="data_change")
    op.drop_table("data_change")
