"""Who hears about which change: one function per event, called by the service that makes
the change, in its transaction (see `notifications.enqueue`)."""

from sqlmodel import Session

from dhu_core import taxonomy
from dhu_core.models import Organisation, Practice, TwinningMatch, TwinningNeed, User
from dhu_core.notifications import (
    administrators,
    coordinators,
    enqueue,
    organisation_members,
)
from dhu_core.notifications.render import AN_ORGANISATION

#: How much of a free text (a need, a message) an e-mail quotes.
QUOTE = 300


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE else text[: QUOTE - 1].rstrip() + "…"


def _organisation_name(session: Session, organisation_id: int | None) -> str:
    organisation = session.get(Organisation, organisation_id) if organisation_id else None
    return organisation.name if organisation else AN_ORGANISATION


def practice_decided(
    session: Session, practice: Practice, *, approved: bool, revision: bool, reason: str = ""
) -> None:
    """Tell the practice's organisation that it (or its edit) was published or sent back."""
    context = {"practice_id": practice.id, "practice_title": practice.title, "revision": revision}
    if not approved:
        context["reason"] = reason
    enqueue(
        session,
        kind="practice-approved" if approved else "practice-rejected",
        to=organisation_members(session, practice.owner_organisation_id),
        context=context,
    )


def review_waiting(session: Session, practice: Practice, *, revision: bool) -> None:
    """Tell the coordinators that a practice or an edit of one waits for their review."""
    enqueue(
        session,
        kind="review-waiting",
        to=coordinators(session),
        context={
            "practice_id": practice.id,
            "practice_title": practice.title,
            "organisation": _organisation_name(session, practice.owner_organisation_id),
            "revision": revision,
        },
    )


def interest_received(
    session: Session,
    *,
    sender: User,
    organisation_id: int,
    about: str,
    about_title: str,
    text: str,
    dedupe_key: str | None = None,
) -> None:
    """Tell an organisation that someone is interested in its practice or need."""
    enqueue(
        session,
        kind="interest-received",
        to=organisation_members(session, organisation_id),
        context={
            "sender": sender.display_name,
            "sender_organisation": _organisation_name(session, sender.organisation_id)
            if sender.organisation_id
            else "",
            "about": about,
            "about_title": about_title,
            "text": _quote(text),
        },
        dedupe_key=dedupe_key,
    )


def need_title(problem_statement: str) -> str:
    """How an e-mail names a twinning need: the start of its problem statement."""
    return _quote(problem_statement)[:80]


def twinning_status_changed(session: Session, match: TwinningMatch, *, old: str) -> None:
    """Tell both sides of a twinning that its status changed."""
    need = session.get(TwinningNeed, match.need_id)
    practice = session.get(Practice, match.practice_id)
    enqueue(
        session,
        kind="twinning-status",
        to=[
            *organisation_members(session, need.organisation_id),
            *organisation_members(session, practice.owner_organisation_id),
        ],
        context={
            "match_id": match.id,
            "practice_title": practice.title,
            "need_organisation": _organisation_name(session, need.organisation_id),
            # In English for the record; written in the reader's language from the codes.
            "status": taxonomy.MATCH_STATUSES.labels.get(match.status, match.status).lower(),
            "old_status": taxonomy.MATCH_STATUSES.labels.get(old, old).lower(),
            "status_code": match.status,
            "old_status_code": old,
        },
    )


def account_registered(session: Session, user: User, *, organisation: str, pending: bool) -> None:
    """Tell the administrators about a new account, which may need a role or a decision."""
    enqueue(
        session,
        kind="account-needs-role",
        to=administrators(session),
        context={
            "username": user.username,
            "display_name": user.display_name,
            "organisation": organisation,
            "pending": pending,
            "role": taxonomy.ROLES.labels.get(user.role, user.role),
            "role_code": user.role,
        },
    )
