"""E-mail notifications through a transactional outbox.

A change that someone should hear about calls `enqueue` with the session of its own write
transaction: the messages are rows of `outbox_message`, committed (or rolled back) with the
change itself, so no message is lost and none reports a change that did not happen. The
delivery step (`dhu_core.notifications.delivery`, run by `dhu run-jobs` and in the app's
background) sends them later over SMTP.

    notifications.enqueue(
        session,
        kind="practice-approved",
        to=notifications.organisation_members(session, practice.owner_organisation_id),
        context={"practice_id": practice.id, "practice_title": practice.title},
    )

Each kind has its templates in `templates/<kind>.txt` and `.html`; the context fills them.
"""

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from dhu_core import db, i18n, single_use, tokens
from dhu_core.accounts import PermissionDenied
from dhu_core.i18n import _
from dhu_core.models import (
    EMAIL_RE,
    Membership,
    NotificationPreference,
    OutboxMessage,
    User,
    utcnow,
)
from dhu_core.notifications import kinds, render
from dhu_core.notifications.kinds import CHOICES, IMMEDIATELY, NEVER, WEEKLY

__all__ = [
    "CHOICES",
    "IMMEDIATELY",
    "NEVER",
    "WEEKLY",
    "administrators",
    "coordinators",
    "describe",
    "enqueue",
    "organisation_members",
    "preferences",
    "set_preferences",
    "unsubscribe",
    "unsubscribe_token",
]

Recipient = User | str

#: Weekly digests go out on Monday mornings (UTC).
DIGEST_WEEKDAY = 0
DIGEST_TIME = time(7, 0)
#: How long an unsubscribe link works after the message was sent.
UNSUBSCRIBE_DAYS = 90
UNSUBSCRIBE = "unsubscribe"


def enqueue(
    session: Session,
    *,
    kind: str,
    to: Iterable[Recipient],
    context: dict[str, Any],
    dedupe_key: str | None = None,
    now: datetime | None = None,
    language: str | None = None,
) -> list[OutboxMessage]:
    """Write one message of `kind` per recipient (an account or an e-mail address) into the
    outbox, in `session`'s transaction, as each recipient chose: due now, held for the weekly
    digest, or not at all. Returns the messages written.

    Disabled accounts and accounts without an address get nothing; an address given twice
    gets one message. With `dedupe_key`, a recipient who already has a message with that key
    gets no second one (a reminder job run twice). `context` must be JSON (names, ids, text).

    Each message is written in its recipient's language: an account's own (`User.language`),
    `language` for a bare address (the sender's guess, an invitation's), else English. The
    context keeps codes and ISO dates that `render` writes in that language when it is sent.
    """
    kind_of = kinds.get(kind)
    # Renders the whole message: a context the templates cannot fill fails here.
    titles = {i18n.DEFAULT: render.subject(kind, context)}
    moment = now or utcnow()
    addressed = _addresses(to, language)
    if not addressed:
        return []
    if dedupe_key is not None:
        db.lock_name(session, f"outbox:{dedupe_key}")
        sent_before = set(
            session.exec(
                select(OutboxMessage.recipient).where(
                    OutboxMessage.dedupe_key == dedupe_key,
                    col(OutboxMessage.recipient).in_(list(addressed)),
                )
            ).all()
        )
        addressed = {a: u for a, u in addressed.items() if a not in sent_before}
    choices = _choices(session, kind, list(addressed)) if kind_of.optional else {}
    messages = []
    for address, (account_id, written_in) in addressed.items():
        choice = choices.get(address, IMMEDIATELY)
        if choice == NEVER:
            continue
        weekly = choice == WEEKLY
        if written_in not in titles:
            titles[written_in] = render.subject(kind, context, language=written_in)
        message = OutboxMessage(
            kind=kind,
            recipient=address,
            account_id=account_id,
            subject=titles[written_in],
            language=written_in,
            context=context,
            dedupe_key=dedupe_key,
            status=WEEKLY if weekly else "pending",
            due_at=next_digest(moment) if weekly else moment,
            created_at=moment,
        )
        session.add(message)
        messages.append(message)
    session.flush()
    if any(message.status == "pending" for message in messages):
        session.info[_DUE] = True
    return messages


#: Set when a transaction commits messages due at once: the app's delivery thread (see
#: `background`) wakes up and sends them, instead of at its next round.
messages_due = threading.Event()
_DUE = "dhu_outbox_due"


@event.listens_for(OrmSession, "after_commit")
def _wake_delivery(session: OrmSession) -> None:
    if session.info.pop(_DUE, False):
        messages_due.set()


@event.listens_for(OrmSession, "after_rollback")
def _forget_due(session: OrmSession) -> None:
    session.info.pop(_DUE, None)


def _addresses(
    recipients: Iterable[Recipient], language: str | None
) -> dict[str, tuple[int | None, str]]:
    """Each recipient's address in lower case, with its account id (None for an address) and
    the language to write to it in."""
    addressed: dict[str, tuple[int | None, str]] = {}
    for recipient in recipients:
        if isinstance(recipient, User):
            if recipient.disabled or recipient.id is None or not recipient.email:
                continue
            written_in = i18n.supported(recipient.language) or i18n.DEFAULT
            addressed.setdefault(recipient.email.strip().lower(), (recipient.id, written_in))
        else:
            address = str(recipient).strip().lower()
            if not EMAIL_RE.match(address):
                raise ValueError(f"not an e-mail address: {recipient!r}")
            addressed.setdefault(address, (None, i18n.supported(language) or i18n.DEFAULT))
    return addressed


def _choices(session: Session, kind: str, addresses: list[str]) -> dict[str, str]:
    rows = session.exec(
        select(NotificationPreference).where(
            NotificationPreference.kind == kind,
            col(NotificationPreference.address).in_(addresses),
        )
    ).all()
    return {row.address: row.choice for row in rows}


def next_digest(moment: datetime) -> datetime:
    """The first digest time (Monday 07:00 UTC) after `moment`."""
    day = moment.date() + timedelta(days=(DIGEST_WEEKDAY - moment.weekday()) % 7)
    due = datetime.combine(day, DIGEST_TIME, tzinfo=moment.tzinfo)
    return due if due > moment else due + timedelta(days=7)


# --- who hears about what ----------------------------------------------------------------


def coordinators(session: Session) -> list[User]:
    """The enabled coordinators; the administrators when there is no coordinator."""
    return _with_role(session, "coordinator") or administrators(session)


def administrators(session: Session) -> list[User]:
    """The enabled administrators."""
    return _with_role(session, "admin")


def _with_role(session: Session, role: str) -> list[User]:
    return list(
        session.exec(
            select(User).where(User.role == role, col(User.disabled).is_(False)).order_by(User.id)
        ).all()
    )


def organisation_members(session: Session, organisation_id: int | None) -> list[User]:
    """The enabled accounts acting for an organisation (its active members)."""
    if organisation_id is None:
        return []
    return list(
        session.exec(
            select(User)
            .join(Membership, col(Membership.account_id) == User.id)
            .where(
                Membership.organisation_id == organisation_id,
                Membership.status == "active",
                col(User.disabled).is_(False),
            )
            .order_by(User.id)
        ).all()
    )


# --- preferences and unsubscribing -------------------------------------------------------


def preferences(session: Session, *, actor: User) -> dict[str, str]:
    """The signed-in person's choice for each kind they may choose (default: immediately)."""
    address = _own_address(actor)
    chosen = {
        row.kind: row.choice
        for row in session.exec(
            select(NotificationPreference).where(NotificationPreference.address == address)
        ).all()
    }
    return {kind.name: chosen.get(kind.name, IMMEDIATELY) for kind in kinds.choosable(actor.role)}


def set_preferences(session: Session, *, actor: User, choices: dict[str, str]) -> None:
    """Store the signed-in person's choices (kind -> immediately, weekly or never)."""
    address = _own_address(actor)
    for kind, choice in choices.items():
        if not kinds.get(kind).optional or choice not in CHOICES:
            raise ValueError(f"no choice {choice!r} for {kind!r}")
        _choose(session, address, kind, choice)


def _own_address(actor: User) -> str:
    if actor is None or actor.id is None or not actor.email:
        raise PermissionDenied("Sign in to choose which e-mails you get.")
    return actor.email.strip().lower()


def _choose(session: Session, address: str, kind: str, choice: str) -> None:
    row = db.get_for_update(session, NotificationPreference, (address, kind))
    if row is None:
        row = NotificationPreference(address=address, kind=kind, choice=choice)
    row.choice, row.updated_at = choice, utcnow()
    session.add(row)


def unsubscribe_token(message: OutboxMessage, *, now: datetime | None = None) -> str | None:
    """The token of the unsubscribe link of `message`; None for a kind nobody turns off."""
    if not kinds.get(message.kind).optional and message.kind != "digest":
        return None
    return tokens.make(UNSUBSCRIBE, message.id, tokens.lifetime_end(UNSUBSCRIBE_DAYS, now=now))


@dataclass(frozen=True)
class Unsubscribed:
    """What an unsubscribe link turned off: the address and the kinds' labels."""

    address: str
    kinds: list[str]


def unsubscribe_link(
    session: Session, *, token: str, now: datetime | None = None
) -> tuple[OutboxMessage, list[str]]:
    """The message whose unsubscribe link carried `token`, and the kinds the link turns off.

    InvalidToken (with a message for the page) when the token is forged, expired or used.
    The link of a weekly digest turns off every kind its recipient gets weekly.
    """
    message_id = tokens.read(UNSUBSCRIBE, token, now=now)
    if single_use.is_spent(session, token):
        raise tokens.InvalidToken(_(single_use.USED))
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise tokens.InvalidToken(_("this link is not valid any more; choose on your account page"))
    if message.kind == "digest":
        turned_off = [k for k, c in _address_choices(session, message.recipient) if c == WEEKLY]
    else:
        turned_off = [message.kind]
    return message, turned_off


def describe(session: Session, *, token: str, now: datetime | None = None) -> Unsubscribed:
    """What the unsubscribe link with `token` would turn off, for the page to ask first."""
    message, turned_off = unsubscribe_link(session, token=token, now=now)
    return Unsubscribed(message.recipient, [kinds.get(kind).label for kind in turned_off])


def unsubscribe(session: Session, *, token: str, now: datetime | None = None) -> Unsubscribed:
    """Turn off, for its recipient, what the unsubscribe link with `token` names; once."""
    message, turned_off = unsubscribe_link(session, token=token, now=now)
    single_use.spend(session, UNSUBSCRIBE, token, now=now)
    for kind in turned_off:
        _choose(session, message.recipient, kind, NEVER)
    return Unsubscribed(message.recipient, [kinds.get(kind).label for kind in turned_off])


def _address_choices(session: Session, address: str) -> list[tuple[str, str]]:
    rows = session.exec(
        select(NotificationPreference).where(NotificationPreference.address == address)
    ).all()
    return [(row.kind, row.choice) for row in rows]
