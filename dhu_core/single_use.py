"""Single-use links: a signed token (dhu_core.tokens) that is refused once it has been used."""

import hashlib
from datetime import UTC, datetime

from sqlmodel import Session, delete

from dhu_core import db
from dhu_core.i18n import N_, _
from dhu_core.models import SpentToken, utcnow
from dhu_core.tokens import InvalidToken

#: The refusal of a used link (translated where it is raised).
USED = N_("this link has been used already; ask for a new one if you need it")


def _digest(token: str) -> str:
    return hashlib.sha256(str(token).strip().encode()).hexdigest()


def spend(session: Session, purpose: str, token: str, *, now: datetime | None = None) -> None:
    """Record the use of `token`, read as valid by `tokens.read`; InvalidToken when it was used
    before. Call it in the transaction of what the link does, so a refused action spends nothing.
    """
    expires = datetime.fromtimestamp(int(str(token).strip().split(".")[1]), UTC)
    digest = _digest(token)
    db.lock_name(session, f"token:{digest}")
    if session.get(SpentToken, digest) is not None:
        raise InvalidToken(_(USED))
    moment = now or utcnow()
    session.exec(delete(SpentToken).where(SpentToken.expires_at < moment))
    session.add(SpentToken(digest=digest, purpose=purpose, spent_at=moment, expires_at=expires))


def is_spent(session: Session, token: str) -> bool:
    """True when `token` was used already (to refuse a reused link before showing its form)."""
    return session.get(SpentToken, _digest(token)) is not None
