"""Accounts for data-layer tests, made the way the `dhu` command makes them."""

from sqlmodel import Session

from dhu_core import accounts
from dhu_core.models import User

#: The password of every test account (strong enough for the sign-up rules too).
PASSWORD = "Tartu rain on Tuesday"


def account(
    session: Session, username: str, role: str = "owner", organisation_id: int | None = None
) -> User:
    """An account `username`@example.org, an active member of `organisation_id` if given."""
    return accounts.create_user(
        session=session,
        username=username,
        password=PASSWORD,
        role=role,
        email=f"{username}@example.org",
        organisation_id=organisation_id,
    )
