"""New passwords for accounts that still have a demo password published by earlier versions

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

Earlier versions seeded the demo accounts with passwords written in the code and shown on the
sign-in page, so anyone could sign in as the demo administrator of a server that kept them.
Every account that still has one of those passwords gets a new random one, printed on the
console (and kept in the private file of `dhu_core.demo_logins` for the embedded database), and
its open sessions end. Checked are all accounts of a demo database and, in any other database,
the accounts named like the demo accounts: four bcrypt checks per account (about a second each
at production cost), which a large real database should not have to wait for.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dhu_core import accounts, demo_logins
from dhu_core.config import get_settings
from dhu_core.models import utcnow

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The passwords earlier versions published; named here only to find and replace them.
PUBLISHED = (
    "Owner-demo-2026!",
    "Owner2-demo-2026!",
    "Coordinator-demo-2026!",
    "Admin-demo-2026!",
)
DEMO_USERNAMES = ("demo-owner", "demo-owner2", "demo-coordinator", "demo-admin")

account = sa.table(
    "account",
    sa.column("id", sa.Integer),
    sa.column("username", sa.String),
    sa.column("role", sa.String),
    sa.column("password_hash", sa.String),
    sa.column("sessions_valid_after", sa.DateTime(timezone=True)),
)
app_state = sa.table("app_state", sa.column("demo", sa.Boolean))


def upgrade() -> None:
    bind = op.get_bind()
    is_demo = bool(bind.execute(sa.select(app_state.c.demo)).scalar())
    query = sa.select(account.c.id, account.c.username, account.c.role, account.c.password_hash)
    if not is_demo:
        query = query.where(account.c.username.in_(DEMO_USERNAMES))
    logins = []
    for row in bind.execute(query.order_by(account.c.id)).all():
        if not any(accounts.check_password(old, row.password_hash) for old in PUBLISHED):
            continue
        password = demo_logins.new_password()
        login = demo_logins.DemoLogin(
            row.username, row.role, password, accounts.hash_password(password)
        )
        bind.execute(
            account.update()
            .where(account.c.id == row.id)
            .values(password_hash=login.password_hash, sessions_valid_after=utcnow())
        )
        logins.append(login)
    demo_logins.hand_out(
        logins,
        database_url=bind.engine.url.render_as_string(hide_password=False),
        settings=get_settings(),
        echo=demo_logins.to_console,
    )


def downgrade() -> None:
    """Nothing to undo: the published passwords are not given back."""
