"""User accounts: password hashing and account creation."""

import bcrypt
from sqlmodel import Session, select

from dhu_core import taxonomy
from dhu_core.models import User


def hash_password(password: str) -> str:
    """A bcrypt hash of `password` (the same scheme streamlit-authenticator uses)."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def check_password(password: str, password_hash: str) -> bool:
    """True when `password` matches the bcrypt `password_hash`."""
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:
        return False


def create_user(
    *,
    session: Session,
    username: str,
    password: str,
    role: str,
    email: str,
    display_name: str | None = None,
    organisation_id: int | None = None,
) -> User:
    """Create an account with a hashed password; ValueError when the name or e-mail is taken."""
    role = taxonomy.ROLES.normalise(role)
    if session.exec(select(User).where(User.username == username)).first():
        raise ValueError(f"the username '{username}' is taken")
    if session.exec(select(User).where(User.email == email)).first():
        raise ValueError(f"an account with the e-mail {email} exists")
    user = User(
        username=username,
        display_name=display_name or username,
        email=email,
        role=role,
        organisation_id=organisation_id,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    return user
