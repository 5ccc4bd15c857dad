"""Limits on how often one client or one e-mail address may use an action (sign-up, capture).

Uses are rows of `rate_event`, shared by every app process; the key is a keyed hash, so no
address is stored in clear. Counting and recording happen in the caller's write transaction,
after a lock on the key, so two requests at the same moment cannot both slip under the limit.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, func, select

from dhu_core import db, tokens
from dhu_core.models import RateEvent, utcnow


@dataclass(frozen=True)
class Limit:
    """At most `uses` uses of the action `bucket` by one key within `window`."""

    bucket: str
    uses: int
    window: timedelta


class RateLimited(Exception):
    """Too many uses lately; `wait` says how long until the next one is allowed."""

    def __init__(self, limit: Limit, wait: timedelta) -> None:
        minutes = max(1, round(wait.total_seconds() / 60))
        super().__init__(
            f"Too many attempts from here lately. Please wait about {minutes} "
            f"minute{'s' if minutes > 1 else ''}; what you typed stays here."
        )
        self.limit, self.wait = limit, wait


def use(session: Session, limit: Limit, key: str, *, now: datetime | None = None) -> None:
    """Record one use of `limit.bucket` by `key`, or raise RateLimited when none is left."""
    moment = now or utcnow()
    hashed = tokens.digest(key)
    db.lock_name(session, f"rate:{limit.bucket}:{hashed}")
    since = moment - limit.window
    session.exec(
        delete(RateEvent).where(
            RateEvent.bucket == limit.bucket, RateEvent.key == hashed, RateEvent.at < since
        )
    )
    count, oldest = session.exec(
        select(func.count(), func.min(RateEvent.at)).where(
            RateEvent.bucket == limit.bucket, RateEvent.key == hashed, col(RateEvent.at) >= since
        )
    ).one()
    if count >= limit.uses:
        raise RateLimited(limit, oldest + limit.window - moment)
    session.add(RateEvent(bucket=limit.bucket, key=hashed, at=moment))
