"""The demo accounts' passwords: new random ones at every seeding, printed, kept privately.

No password of a demo account is written in the code: each seeding draws new ones, prints them
on the console, and, for the embedded database, keeps them in a file that only its owner can
read, beside the database. The sign-in page shows them only to a browser on the server's own
machine, and only while an account still has the password that the file names.
"""

import json
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import col, select

from dhu_core import clients, db
from dhu_core.config import Settings, UnsafeSetting
from dhu_core.models import User

FILE_NAME = ".demo_logins.json"
#: Letters and digits that cannot be mistaken for one another when read off a screen.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
#: Three groups of five: about 74 bits, typed easily at a workshop.
GROUPS, GROUP_LENGTH = 3, 5
ALLOW_SETTING = "DHU_ALLOW_DEMO_ACCOUNTS_ON_NETWORK"


@dataclass(frozen=True)
class DemoLogin:
    """A demo account's username, role and generated password (with its stored hash)."""

    username: str
    role: str
    password: str
    password_hash: str


def new_password() -> str:
    """A new random password such as `k7m2p-x9qrt-4hcv8`."""
    return "-".join(
        "".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS)
    )


def path(settings: Settings) -> Path:
    """The file that keeps the embedded database's demo passwords."""
    return settings.dhu_data_dir / FILE_NAME


def hand_out(
    logins: Sequence[DemoLogin],
    *,
    database_url: str,
    settings: Settings,
    echo: Callable[[str], None],
) -> None:
    """Print new demo passwords with `echo`; keep them privately for the embedded database."""
    if not logins:
        return
    kept = database_url == settings.sqlalchemy_url and settings.embedded
    if kept:
        _write_private(path(settings), {"accounts": [asdict(login) for login in logins]})
    lines = [f"  {login.username:<18} {login.password}   ({login.role})" for login in logins]
    where = (
        f"They are kept in {path(settings)} (readable only by you) and shown on the sign-in "
        "page to a browser on this machine."
        if kept
        else "They are not stored anywhere else: note them now."
    )
    echo("\n".join(["New passwords of the demo accounts:", *lines, where]))


def to_console(text: str) -> None:
    """Print on the server's console (standard error, where Streamlit logs too)."""
    print(text, file=sys.stderr, flush=True)


def read(settings: Settings) -> list[DemoLogin]:
    """The demo passwords kept for the embedded database, as written (empty when none)."""
    try:
        data = json.loads(path(settings).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return []
    return [DemoLogin(**entry) for entry in data.get("accounts", [])]


def shown(*, settings: Settings, engine: Engine | None = None) -> list[DemoLogin]:
    """The kept demo logins that still work: enabled accounts whose password was not changed."""
    logins = read(settings)
    if not logins or not settings.embedded:
        return []
    with db.read_scope(engine) as session:
        current = {
            user.username: user
            for user in session.exec(
                select(User).where(col(User.username).in_([login.username for login in logins]))
            )
        }
    return [
        login
        for login in logins
        if login.username in current
        and not current[login.username].disabled
        and current[login.username].password_hash == login.password_hash
    ]


def enabled_accounts(usernames: Sequence[str], *, engine: Engine | None = None) -> list[str]:
    """Which of the demo `usernames` exist as enabled accounts."""
    with db.read_scope(engine) as session:
        return list(
            session.exec(
                select(User.username)
                .where(col(User.username).in_(usernames), col(User.disabled).is_(False))
                .order_by(User.username)
            )
        )


def check_exposure(
    *, server_address: str | None, enabled: Sequence[str], settings: Settings
) -> None:
    """UnsafeSetting when enabled demo accounts are served beyond this machine without consent.

    `server_address` is Streamlit's server.address: empty means every network interface.
    """
    if settings.dhu_allow_demo_accounts_on_network or clients.is_loopback(server_address):
        return
    if not enabled:
        return
    where = server_address or "every network interface"
    raise UnsafeSetting(
        f"This server listens on {where} and the database has demo accounts "
        f"({', '.join(enabled)}), some with administrator rights. Either serve it on this "
        "machine only (`--server.address 127.0.0.1`, the default), or start it that way once "
        "to disable the demo accounts on the Administration page, or, to present the demo "
        f"data on purpose, start it with {ALLOW_SETTING}=yes."
    )


def _write_private(target: Path, data: dict) -> None:
    """Write JSON readable by its owner only, replacing the file in one step."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = target.with_name(f"{target.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
    os.replace(temporary, target)
