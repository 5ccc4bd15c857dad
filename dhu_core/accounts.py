"""Accounts, roles and login security: the service functions behind every sign-in.

Every function that writes or reveals non-public data takes the acting user (`actor`) and
refuses what its role may not do; the menu hiding a page is not protection on its own.
"""

import math
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import bcrypt
from pydantic import BaseModel, Field, ValidationInfo, field_validator
from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from dhu_core import audit, db, geo, i18n, strength, taxonomy
from dhu_core.i18n import N_, _, ngettext
from dhu_core.models import (
    EMAIL_RE,
    AuditEvent,
    FieldError,
    LoginThrottle,
    Membership,
    Organisation,
    User,
    UserPublic,
    utcnow,
)

Clock = Callable[[], datetime]

MAX_FAILURES = 5
LOCK_TIME = timedelta(minutes=15)
#: A failure older than this is forgotten, so failures spread over days never add up to a lock.
FAILURE_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
#: bcrypt reads no further (and bcrypt 4.1+ refuses a longer password with an error).
MAX_PASSWORD_BYTES = 72
#: zxcvbn's score 3: "safely unguessable", about 10^8 guesses or more.
MIN_PASSWORD_SCORE = 3


def password_rules() -> str:
    """What a password must be, in the page's language (the help of password fields)."""
    return _(
        "At least {minimum} characters (at most {maximum} bytes). A few uncommon words make a "
        "strong password; common passwords, names and keyboard patterns are refused."
    ).format(minimum=MIN_PASSWORD_LENGTH, maximum=MAX_PASSWORD_BYTES)


USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,59}$")
#: The refusals of a sign-in, in the default language (translated where they are raised).
LOGIN_FAILED = N_("The username or password is not right.")
LOGIN_LOCKED = N_("Too many failed attempts from here. Wait 15 minutes, then try again.")
#: Failures of an account (from any address) before each attempt must wait: 1 s, 2 s, 4 s…
FREE_FAILURES = 3
MAX_DELAY = timedelta(minutes=1)
#: The throttle row of an account from every client together ("*" is never a client address).
ANY_CLIENT = "*"
# A valid hash to compare against when the username does not exist, so both cases take as long.
_DUMMY_HASH = bcrypt.hashpw(b"no such user", bcrypt.gensalt()).decode()


#: Roles of actors that are no account: the command line and jobs, and people not signed in.
SYSTEM = "system"
VISITOR = "visitor"


#: The hash of an actor that is no account: no password matches it.
NO_PASSWORD = "!"  # noqa: S105 (not a password: a hash no password has)


def system_actor(name: str) -> User:
    """The named actor of work that no signed-in person does (the `dhu` command, jobs).

    Recorded in the audit trail as `system:<name>`; it is never stored as an account.
    """
    return User(
        username=f"system:{name}",
        display_name=f"System ({name})",
        email="",
        role=SYSTEM,
        password_hash=NO_PASSWORD,
    )


def visitor() -> User:
    """Someone who is not signed in (a sign-in attempt, a quick capture at a workshop)."""
    return User(
        username=VISITOR, display_name="Visitor", email="", role=VISITOR, password_hash=NO_PASSWORD
    )


class PermissionDenied(Exception):
    """The acting user's role, or a disabled account, does not allow this."""


class LoginFailed(Exception):
    """A sign-in was refused; the message never tells whether the username exists."""


def hash_password(password: str) -> str:
    """A bcrypt hash of `password`."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def check_password(password: str, password_hash: str) -> bool:
    """True when `password` matches the bcrypt `password_hash`."""
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:
        return False


def password_problem(
    password: str, *, username: str = "", personal: Sequence[str] = ()
) -> str | None:
    """Why `password` is too weak, in plain words, or None when it is strong enough.

    Judged by zxcvbn (about 30,000 common passwords, names and words, keyboard patterns,
    dates, repeats), with the username and `personal` words (name, e-mail) known to guessers.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("use at least {count} characters").format(count=MIN_PASSWORD_LENGTH)
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        return _(
            "use at most {count} bytes: {count} plain letters, digits or spaces; an accented "
            "letter or a symbol may count as 2 to 4"
        ).format(count=MAX_PASSWORD_BYTES)
    if username and username.casefold() in password.casefold():
        return _("the password must not contain the username")
    guess = strength.estimate(password, personal=[username, *personal])
    if guess.score < MIN_PASSWORD_SCORE:
        return " ".join([_("this password is too easy to guess."), guess.advice]).strip()
    return None


# --- permissions -------------------------------------------------------------------------


def require_role(actor: User | None, *roles: str) -> User:
    """The actor, when signed in, enabled and holding one of `roles`; else PermissionDenied."""
    if actor is None:
        raise PermissionDenied(_("Sign in first."))
    if actor.disabled:
        raise PermissionDenied(_("This account is disabled."))
    if roles and actor.role not in roles:
        raise PermissionDenied(_("Your role does not allow this."))
    return actor


def current_user(*, session: Session, user_id: int, signed_in_at: datetime) -> User | None:
    """The account of an open session, or None when it was disabled or signed out since."""
    user = session.get(User, user_id)
    if user is None or user.disabled:
        return None
    if user.sessions_valid_after and signed_in_at < user.sessions_valid_after:
        return None
    return user


# --- signing in and out ------------------------------------------------------------------


def authenticate(
    *,
    username: str,
    password: str,
    client: str,
    now: Clock = utcnow,
    engine: Engine | None = None,
) -> User:
    """The account for a correct username and password; LoginFailed otherwise.

    Two limits, kept alike for unknown usernames so that none can be told apart:
    five failures in a row for one account from one client address lock that pair for
    15 minutes, and every account makes the next attempt from anywhere wait longer after each
    failure (1 s, 2 s, 4 s… at most a minute), a delay that never becomes a lock-out.
    This function owns its transactions: a refused sign-in must still be recorded.
    """
    username = username.strip().lower()
    key = username[:60]  # the throttle's column; no real username is longer
    moment = now()
    with db.read_scope(engine) as session:
        refusal = _refusal(_throttles(session, key, client), moment)
        user = session.exec(select(User).where(User.username == username)).first()
    # bcrypt is slow on purpose: check outside the transaction that writes, so no lock is held.
    hashed = user.password_hash if user else _DUMMY_HASH
    valid = refusal is None and check_password(password, hashed)
    with db.session_scope(engine) as session:
        pair, account = _throttles(session, key, client, for_update=True)
        # Attempts at the same moment were checked side by side: one that failed in between
        # decides for this one too, whatever its password.
        refusal = refusal or _refusal((pair, account), moment)
        user = user and session.get(User, user.id)
        if refusal:
            audit.record(session, visitor(), "login.refused", username=key)
        elif user is not None and valid and not user.disabled:
            session.delete(pair)
            session.delete(account)
            user.last_login_at = moment
            session.add(user)
            audit.record(session, user, "login.succeeded", "account", user.id)
            return user
        else:
            _note_failure(pair, moment, lock=True)
            _note_failure(account, moment, lock=False)
            session.add_all([pair, account])
            audit.record(
                session, visitor(), "login.failed", "account", user and user.id, username=key
            )
            refusal = _(LOGIN_LOCKED) if pair.locked_until else _(LOGIN_FAILED)
    raise LoginFailed(refusal)


def account_delay(failures: int) -> timedelta:
    """How long an account waits after its `failures`-th recent failure before the next try."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - FREE_FAILURES)), MAX_DELAY)


def _throttles(
    session: Session, username: str, client: str, *, for_update: bool = False
) -> tuple[LoginThrottle, LoginThrottle]:
    """The throttle of this account from this client, and of the account from anywhere."""
    keys = (client, ANY_CLIENT)
    if for_update:
        # Insert first, then lock: two processes failing at once each count their failure, and
        # on SQLite the transaction holds the write lock from its first statement. Rows are
        # taken in one order ("*" sorts first) so that two sign-ins never wait for each other.
        dialect = {"sqlite": sqlite, "postgresql": postgresql}[session.get_bind().dialect.name]
        session.execute(
            dialect.insert(LoginThrottle)
            .values([{"username": username, "client": key, "failures": 0} for key in sorted(keys)])
            .on_conflict_do_nothing(index_elements=["username", "client"])
        )
    query = select(LoginThrottle).where(
        LoginThrottle.username == username, col(LoginThrottle.client).in_(keys)
    )
    if for_update:
        query = query.order_by(col(LoginThrottle.client)).with_for_update()
    rows = {row.client: row for row in session.exec(query)}
    return tuple(
        rows.get(key) or LoginThrottle(username=username, client=key, failures=0) for key in keys
    )


def _refusal(throttles: tuple[LoginThrottle, LoginThrottle], moment: datetime) -> str | None:
    """Why an attempt now is refused before its password is looked at, or None."""
    pair, account = throttles
    if pair.locked_until and pair.locked_until > moment:
        return _(LOGIN_LOCKED)
    if account.last_failed_at:
        wait = account.last_failed_at + account_delay(account.failures) - moment
        if wait > timedelta(0):
            seconds = math.ceil(wait.total_seconds())
            return ngettext(
                "Too many failed attempts for this account. Wait {seconds} second, then try again.",
                "Too many failed attempts for this account. Wait {seconds} seconds, then try "
                "again.",
                seconds,
            ).format(seconds=seconds)
    return None


def _note_failure(throttle: LoginThrottle, moment: datetime, *, lock: bool) -> None:
    if throttle.last_failed_at is None or moment - throttle.last_failed_at > FAILURE_WINDOW:
        throttle.failures = 0
    throttle.failures += 1
    throttle.last_failed_at = moment
    if lock:
        locked = throttle.failures >= MAX_FAILURES
        throttle.locked_until = moment + LOCK_TIME if locked else None


def user_for_cookie(
    *, session: Session, user_id: int, issued_at: datetime, now: Clock = utcnow
) -> User | None:
    """The account a login cookie names, unless it was issued before a logout or disable."""
    user = session.get(User, user_id)
    if user is None or user.disabled or issued_at > now() + timedelta(minutes=5):
        return None
    if user.sessions_valid_after and issued_at < user.sessions_valid_after:
        return None
    return user


def sign_out(*, session: Session, actor: User, now: Clock = utcnow) -> None:
    """End every session of `actor`: cookies issued before now stop working."""
    require_role(actor)
    user = session.get(User, actor.id)
    user.sessions_valid_after = now()
    session.add(user)
    audit.record(session, actor, "logout", "account", actor.id)


def change_password(
    *, session: Session, actor: User, current: str, new: str, now: Clock = utcnow
) -> None:
    """Change the actor's own password; other sessions and old cookies end."""
    require_role(actor)
    user = session.get(User, actor.id)
    if not check_password(current, user.password_hash):
        raise FieldError("current", _("the current password is not right"))
    problem = password_problem(
        new, username=user.username, personal=[user.display_name, user.email]
    )
    if problem:
        raise FieldError("new", problem)
    user.password_hash = hash_password(new)
    user.sessions_valid_after = now()
    session.add(user)
    audit.record(session, actor, "account.password_changed", "account", user.id)


# --- creating accounts -------------------------------------------------------------------


class AccountInput(BaseModel):
    """A new account as a person types it: field-level messages on every problem."""

    username: str
    display_name: str
    email: str
    password: str

    @field_validator("username", mode="before")
    @classmethod
    def _username(cls, v: Any) -> str:
        name = str(v or "").strip().lower()
        if not USERNAME_RE.match(name):
            raise ValueError(
                _("use 3 to 60 characters: letters, digits, dots, dashes or underscores")
            )
        return name

    @field_validator("display_name", mode="before")
    @classmethod
    def _display_name(cls, v: Any) -> str:
        name = " ".join(str(v or "").split())
        if not 2 <= len(name) <= 120:
            raise ValueError(_("enter your name (2 to 120 characters)"))
        return name

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, v: Any) -> str:
        email = str(v or "").strip().lower()
        if len(email) > 254 or not EMAIL_RE.match(email):
            raise ValueError(_("enter an e-mail address such as name@example.org"))
        return email

    @field_validator("password")
    @classmethod
    def _password(cls, v: str, info: ValidationInfo) -> str:
        problem = password_problem(
            v,
            username=info.data.get("username", ""),
            personal=[info.data.get("display_name", ""), info.data.get("email", "")],
        )
        if problem:
            raise ValueError(problem)
        return v


class OwnerRegistration(AccountInput):
    """Self-registration of a practice owner: through an invitation, by asking to join an
    existing organisation, with a new organisation, or to claim a practice."""

    invitation: str | None = None
    #: Registering to claim a practice of an organisation that has no member yet: the claim,
    #: once a coordinator approves it, makes the account a member (see `claims`).
    claiming: bool = False
    organisation_id: int | None = None
    organisation_name: str | None = Field(default=None, validate_default=True)
    organisation_type: str = "other"
    organisation_country: str | None = Field(default=None, validate_default=True)

    @field_validator("invitation", mode="before")
    @classmethod
    def _invitation(cls, v: Any) -> str | None:
        return str(v).strip() or None if v else None

    @field_validator("organisation_name")
    @classmethod
    def _organisation_name(cls, v: str | None, info: ValidationInfo) -> str | None:
        name = " ".join((v or "").split()) or None
        if info.data.get("invitation") or info.data.get("claiming"):
            return None
        joining = info.data.get("organisation_id") is not None
        if joining and name:
            raise ValueError(_("either ask to join an organisation of the list or name a new one"))
        if not joining and name is None:
            raise ValueError(_("choose your organisation from the list or name a new one"))
        return name

    @field_validator("organisation_type", mode="before")
    @classmethod
    def _organisation_type(cls, v: Any) -> str:
        return taxonomy.ORGANISATION_TYPES.normalise(v or "other")

    @field_validator("organisation_country")
    @classmethod
    def _organisation_country(cls, v: str | None, info: ValidationInfo) -> str | None:
        if not info.data.get("organisation_name"):
            return None
        if not v:
            raise ValueError(_("choose the country of the new organisation"))
        return geo.normalise_country(v)


def create_user(
    *,
    session: Session,
    username: str,
    password: str,
    role: str,
    email: str,
    display_name: str | None = None,
    organisation_id: int | None = None,
    language: str = i18n.DEFAULT,
) -> User:
    """Create an account with a hashed password; FieldError when the name or e-mail is taken.

    With `organisation_id` the account is an active member of it at once: for trusted callers
    (the `dhu` command, administrators, a new organisation's first member); everybody else
    joins through `organisations`.
    """
    role = taxonomy.ROLES.normalise(role)
    username = username.strip().lower()
    email = email.strip().lower()
    db.lock_name(session, "account")  # two sign-ups of one name: the second is told it is taken
    if session.exec(select(User).where(User.username == username)).first():
        raise FieldError(
            "username", _("the username '{username}' is taken").format(username=username)
        )
    if session.exec(select(User).where(User.email == email)).first():
        raise FieldError("email", _("an account with this e-mail address exists"))
    if organisation_id is not None and session.get(Organisation, organisation_id) is None:
        raise FieldError(
            "organisation_id",
            _("there is no organisation with id {id}").format(id=organisation_id),
        )
    user = User(
        username=username,
        display_name=display_name or username,
        email=email,
        role=role,
        organisation_id=organisation_id,
        password_hash=hash_password(password),
        language=i18n.supported(language) or i18n.DEFAULT,
    )
    session.add(user)
    session.flush()
    if organisation_id is not None:
        session.add(
            Membership(
                organisation_id=organisation_id,
                account_id=user.id,
                status="active",
                decided_at=utcnow(),
            )
        )
        session.flush()
    return user


def set_language(*, session: Session, actor: User, language: str) -> None:
    """Record the interface language the signed-in account chose: its e-mails are written in it
    from now on. A language the platform does not have is ignored."""
    actor = require_role(actor)
    code = i18n.supported(language)
    if code is None:
        return
    account = db.get_for_update(session, User, actor.id)
    if account is not None and account.language != code:
        account.language = code
        session.add(account)


# --- administration ----------------------------------------------------------------------


def admin_create_user(
    *, session: Session, actor: User, data: AccountInput, role: str, organisation_id: int | None
) -> User:
    """An administrator creates an account of any role."""
    require_role(actor, "admin")
    user = create_user(
        session=session,
        username=data.username,
        password=data.password,
        role=role,
        email=data.email,
        display_name=data.display_name,
        organisation_id=organisation_id,
    )
    audit.record(session, actor, "account.created", "account", user.id, role=user.role)
    return user


def list_users(*, session: Session, actor: User) -> list[UserPublic]:
    """Every account, for administrators."""
    require_role(actor, "admin")
    users = session.exec(select(User).order_by(User.username)).all()
    return [UserPublic.model_validate(u) for u in users]


def set_role(
    *, session: Session, actor: User, user_id: int, role: str, expected: str | None = None
) -> User:
    """Change an account's role (administrators only; nobody demotes themselves).

    `expected` is the role the administrator saw: when it changed since, nothing happens and
    StateConflict says who changed it. The acting administrator is enabled and an
    administrator when the change is made, so an administrator always remains.
    """
    user = _account_to_change(session, actor, user_id, N_("You cannot change your own role."))
    role = taxonomy.ROLES.normalise(role)
    if expected is not None and user.role != expected:
        raise audit.conflict(
            session,
            "account",
            user.id,
            said=_(
                "This account's role was just set to {role} by {{who}}. Reload the page to see "
                "it as it is now."
            ).format(role=taxonomy.ROLES.label(user.role)),
        )
    before, user.role = user.role, role
    session.add(user)
    audit.record(session, actor, "account.role_changed", "account", user.id, old=before, new=role)
    return user


def set_disabled(
    *, session: Session, actor: User, user_id: int, disabled: bool, now: Clock = utcnow
) -> User:
    """Disable or enable an account (administrators only); disabling ends its sessions."""
    user = _account_to_change(session, actor, user_id, N_("You cannot disable your own account."))
    if user.disabled == disabled:
        said = (
            _("This account was just disabled by {who}. Reload the page to see it as it is now.")
            if disabled
            else _(
                "This account was just enabled by {who}. Reload the page to see it as it is now."
            )
        )
        raise audit.conflict(session, "account", user.id, said=said)
    user.disabled = disabled
    if disabled:
        user.sessions_valid_after = now()
    session.add(user)
    action = "account.disabled" if disabled else "account.enabled"
    audit.record(session, actor, action, "account", user.id)
    return user


def _account_to_change(session: Session, actor: User, user_id: int, refusal: str) -> User:
    """The account to change, locked, after checking under the same lock that the actor is
    still an enabled administrator (another administrator may have just demoted them);
    PermissionDenied(`refusal`, translated) when it is the actor's own."""
    require_role(actor, "admin")
    # Every administrator row is locked in one order before the account itself, so that two
    # administrators changing each other wait for one another instead of deadlocking.
    session.exec(
        select(User.id)
        .where(User.role == "admin", col(User.disabled).is_(False))
        .order_by(col(User.id))
        .with_for_update()
    ).all()
    current = db.get_for_update(session, User, actor.id)
    if current is None or current.disabled or current.role != "admin":
        raise audit.conflict(
            session,
            "account",
            actor.id,
            said=_("Your role was just changed by {who}. Reload the page to see it as it is now."),
        )
    user = db.get_for_update(session, User, user_id)
    if user is None:
        raise LookupError(_("no such account"))
    if user.id == actor.id:
        raise PermissionDenied(_(refusal))
    return user


def audit_log(*, session: Session, actor: User, limit: int = 200) -> list[AuditEvent]:
    """The newest audit events, for administrators."""
    require_role(actor, "admin")
    return list(
        session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)).all()
    )
