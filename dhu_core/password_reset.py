"""Setting a new password through a link sent by e-mail.

Asking for a link gives the same answer whether or not an account has the address, and is
rate-limited per client and per address. The link is signed, expires after an hour and works
once: its token is bound to the account's current password hash, so
any password change voids it, and a used token is refused with a message that says so.
"""

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from dhu_core import accounts, audit, db, notifications, ratelimits, single_use, tokens
from dhu_core.i18n import N_, _
from dhu_core.models import FieldError, User, utcnow

PURPOSE = "password-reset"
LIFETIME = timedelta(hours=1)
CLIENT_LIMIT = ratelimits.Limit("password-reset", 10, timedelta(hours=1))
ADDRESS_LIMIT = ratelimits.Limit("password-reset-address", 3, timedelta(hours=1))
#: The answer to every request for a link (translated where it is shown).
SENT = N_(
    "If an account has this e-mail address, a link to set a new password is on its way to it. "
    "The link works once, for one hour. Nothing arrived? Check the spam folder, or ask an "
    "administrator."
)


def _purpose(user: User) -> str:
    # The key of a token depends on the hash of the password it replaces: once the password
    # has changed, by this link or otherwise, the link is void.
    fingerprint = hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]
    return f"{PURPOSE}:{fingerprint}"


def request_link(
    *, email: str, client: str, engine: Engine | None = None, now: datetime | None = None
) -> str:
    """E-mail a reset link to the account with address `email`, if there is one; the answer
    is SENT either way. RateLimited after too many requests from `client` or for `email`.

    The requests are counted in a transaction of their own, so that a refused one counts too.
    """
    moment = now or utcnow()
    address = " ".join(str(email).split()).lower()
    with db.session_scope(engine) as session:
        ratelimits.use(session, CLIENT_LIMIT, client, now=moment)
        ratelimits.use(session, ADDRESS_LIMIT, address, now=moment)
    with db.session_scope(engine) as session:
        user = session.exec(
            select(User).where(func.lower(User.email) == address, col(User.disabled).is_(False))
        ).first()
        if user is not None and user.email:
            expires = moment + LIFETIME
            notifications.enqueue(
                session,
                kind="password-reset",
                to=[user],
                context={
                    "username": user.username,
                    "token": tokens.make(_purpose(user), user.id, expires),
                    "expires": f"{expires:%d %B %Y, %H:%M} UTC",
                    "expires_at": expires.isoformat(),
                },
                now=moment,
            )
            audit.record(session, accounts.visitor(), "account.reset_requested", "account", user.id)
    return SENT


def account_for(
    session: Session, *, token: str, now: datetime | None = None, lock: bool = True
) -> User:
    """The account a reset link is for (locked); InvalidToken when forged, expired or used."""
    if single_use.is_spent(session, token):
        raise tokens.InvalidToken(_(single_use.USED))
    try:
        account_id = int(str(token).strip().split(".")[0])
    except ValueError:
        raise tokens.InvalidToken(_("this link is not complete; copy the whole link")) from None
    user = db.get_for_update(session, User, account_id) if lock else session.get(User, account_id)
    if user is None or user.disabled:
        raise tokens.InvalidToken(_("this link is not valid; ask for a new one"))
    tokens.read(_purpose(user), token, now=now)
    return user


def set_password(*, session: Session, token: str, new: str, now: datetime | None = None) -> User:
    """Set the password of the link's account; its sessions end and a sign-in lock lifts.

    FieldError("new") for a password the sign-up rules refuse (the link stays usable);
    InvalidToken for a forged, expired or used link.
    """
    moment = now or utcnow()
    user = account_for(session, token=token, now=moment)
    problem = accounts.password_problem(
        new, username=user.username, personal=[user.display_name, user.email]
    )
    if problem:
        raise FieldError("new", problem)
    single_use.spend(session, PURPOSE, token, now=moment)
    user.password_hash = accounts.hash_password(new)
    user.sessions_valid_after = moment
    user.failed_logins, user.locked_until = 0, None
    session.add(user)
    audit.record(session, user, "account.password_reset", "account", user.id)
    return user
