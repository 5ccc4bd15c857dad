"""E-mail notifications: the outbox, preferences, and spent single-use tokens

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

`outbox_message` holds every e-mail, written in the transaction of the change it reports and
sent later by the delivery step (`dhu_core.notifications.delivery`). `notification_preference`
keeps, per e-mail address and kind of message, whether it is sent at once, in a weekly digest
or never. `spent_token` remembers used single-use links (unsubscribe, password reset).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("context", sa.JSON(), nullable=True),
        sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["digest_id"], ["outbox_message.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key", "recipient", name="uq_outbox_message_dedupe"),
    )
    op.create_index("ix_outbox_message_claim", "outbox_message", ["claim"], unique=False)
    op.create_index("ix_outbox_message_recipient", "outbox_message", ["recipient"], unique=False)
    op.create_index(
        "ix_outbox_message_status_due", "outbox_message", ["status", "due_at"], unique=False
    )
    op.create_table(
        "notification_preference",
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("choice", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("address", "kind"),
    )
    op.create_table(
        "spent_token",
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("spent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_index("ix_spent_token_expires_at", "spent_token", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_spent_token_expires_at", table_name="spent_token")
    op.drop_table("spent_token")
    op.drop_table("notification_preference")
    op.drop_index("ix_outbox_message_status_due", table_name="outbox_message")
    op.drop_index("ix_outbox_message_recipient", table_name="outbox_message")
    op.drop_index("ix_outbox_message_claim", table_name="outbox_message")
    op.drop_table("outbox_message")
