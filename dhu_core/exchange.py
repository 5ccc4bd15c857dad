"""Demand meets supply: open twinning needs beside transferable practices, and interest.

Signed-in users express interest in a need or a practice; the message waits in the inbox of
the organisation behind it, on the platform (no e-mail server), with an audit trail.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from dhu_core import audit, catalogue, db
from dhu_core.accounts import PermissionDenied, require_role
from dhu_core.catalogue import CatalogueQuery
from dhu_core.models import (
    FieldError,
    Interest,
    InterestCreate,
    Organisation,
    Practice,
    PracticePublic,
    TwinningNeed,
    User,
    utcnow,
)
from dhu_core.notifications import events

SIGNED_IN = ("owner", "coordinator", "admin")
COORDINATORS = ("coordinator", "admin")
BOARD_SIZE = 20


@dataclass(frozen=True)
class OpenNeed:
    """A twinning need on the board: who is looking for what."""

    id: int
    organisation_id: int
    organisation: str
    country: str
    problem_statement: str
    twinning_type: str
    timeline: str | None
    created_at: datetime


def open_needs(
    *, text: str = "", limit: int = BOARD_SIZE, engine: Engine | None = None
) -> list[OpenNeed]:
    """Open twinning needs, newest first, whose statement or organisation has every word."""
    query = (
        select(TwinningNeed, Organisation.name)
        .join(Organisation, col(Organisation.id) == TwinningNeed.organisation_id)
        .where(TwinningNeed.status == "open")
    )
    for word in text.split():
        query = query.where(
            or_(
                col(TwinningNeed.problem_statement).icontains(word, autoescape=True),
                col(Organisation.name).icontains(word, autoescape=True),
            )
        )
    query = query.order_by(col(TwinningNeed.created_at).desc(), col(TwinningNeed.id).desc())
    with db.read_scope(engine) as session:
        rows = session.exec(query.limit(limit)).all()
    return [
        OpenNeed(
            id=need.id,
            organisation_id=need.organisation_id,
            organisation=name,
            country=need.country,
            problem_statement=need.problem_statement,
            twinning_type=need.twinning_type,
            timeline=need.timeline,
            created_at=need.created_at,
        )
        for need, name in rows
    ]


def offerings(
    *, text: str = "", limit: int = BOARD_SIZE, engine: Engine | None = None
) -> list[PracticePublic]:
    """Published practices whose owners are willing to transfer them, best match or newest."""
    query = CatalogueQuery(text=text, transferable=True, sort="relevance", page_size=limit)
    return catalogue.search(query, engine=engine).practices


# --- expressions of interest -------------------------------------------------------------


@dataclass(frozen=True)
class InterestItem:
    """An expression of interest as its sender and its addressee see it."""

    id: int
    sender: str
    sender_email: str
    sender_organisation: str | None
    recipient_organisation: str
    #: "need" or "practice"
    about: str
    about_id: int
    about_title: str
    text: str
    created_at: datetime
    read_at: datetime | None


def express_interest(*, session: Session, actor: User, data: InterestCreate) -> Interest:
    """Send an expression of interest in a need or a practice to its organisation's inbox."""
    require_role(actor, *SIGNED_IN)
    if (data.need_id is None) == (data.practice_id is None):
        raise FieldError("form", "choose either a need or a practice")
    if data.need_id is not None:
        need = session.get(TwinningNeed, data.need_id)
        if need is None or need.status != "open":
            raise FieldError("form", "this need is no longer open")
        recipient = need.organisation_id
        about, about_title = "twinning need", events.need_title(need.problem_statement)
    else:
        practice = session.get(Practice, data.practice_id)
        if practice is None or practice.status != "published":
            raise FieldError("form", "this practice is not published")
        recipient = practice.owner_organisation_id
        about, about_title = "practice", practice.title
    if recipient == actor.organisation_id:
        raise FieldError("form", "this comes from your own organisation")
    interest = Interest(
        from_user_id=actor.id,
        from_organisation_id=actor.organisation_id,
        to_organisation_id=recipient,
        need_id=data.need_id,
        practice_id=data.practice_id,
        text=data.text,
    )
    session.add(interest)
    session.flush()
    audit.record(
        session,
        actor,
        "interest.expressed",
        "interest",
        interest.id,
        to_organisation=recipient,
        need=data.need_id,
        practice=data.practice_id,
    )
    events.interest_received(
        session,
        sender=actor,
        organisation_id=recipient,
        about=about,
        about_title=about_title,
        text=data.text,
    )
    return interest


def inbox(*, session: Session, actor: User) -> list[InterestItem]:
    """Expressions of interest addressed to the actor's organisation, newest first."""
    require_role(actor, *SIGNED_IN)
    if actor.organisation_id is None:
        return []
    return _items(session, col(Interest.to_organisation_id) == actor.organisation_id)


def coordinators_inbox(*, session: Session, actor: User) -> list[InterestItem]:
    """Expressions of interest addressed to the coordinators, newest first: those for an
    organisation that nobody can read them in (it has no enabled member on the platform, as
    most imported or demo organisations), for a coordinator to pass on."""
    require_role(actor, *COORDINATORS)
    return _items(session, col(Interest.to_organisation_id).not_in(_organisations_with_readers()))


def sent(*, session: Session, actor: User) -> list[InterestItem]:
    """Expressions of interest the actor sent, newest first."""
    require_role(actor, *SIGNED_IN)
    return _items(session, col(Interest.from_user_id) == actor.id)


def mark_read(*, session: Session, actor: User, interest_id: int) -> Interest:
    """Mark an expression of interest to the actor's organisation, or one addressed to the
    coordinators when the actor is one, as read."""
    require_role(actor, *SIGNED_IN)
    interest = db.get_for_update(session, Interest, interest_id)
    addressee = interest is not None and interest.to_organisation_id == actor.organisation_id
    for_coordinators = (
        interest is not None
        and actor.role in COORDINATORS
        and not _has_readers(session, interest.to_organisation_id)
    )
    if not (addressee or for_coordinators):
        raise PermissionDenied(
            "Only its addressee's organisation (or a coordinator, when nobody there can read "
            "it) can mark this as read."
        )
    if interest.read_at is None:
        interest.read_at = utcnow()
        session.add(interest)
        audit.record(session, actor, "interest.read", "interest", interest.id)
    return interest


def _organisations_with_readers():
    """The organisations with at least one enabled member, who can read their inbox."""
    return (
        select(User.organisation_id)
        .where(col(User.organisation_id).is_not(None), col(User.disabled).is_(False))
        .distinct()
    )


def _has_readers(session: Session, organisation_id: int) -> bool:
    readers = _organisations_with_readers().where(User.organisation_id == organisation_id)
    return session.exec(readers).first() is not None


def _items(session: Session, condition) -> list[InterestItem]:
    sender_org = aliased(Organisation)
    recipient_org = aliased(Organisation)
    rows = session.exec(
        select(Interest, User, sender_org.name, recipient_org.name, Practice.title, TwinningNeed)
        .join(User, col(User.id) == Interest.from_user_id)
        .join(recipient_org, recipient_org.id == Interest.to_organisation_id)
        .outerjoin(sender_org, sender_org.id == Interest.from_organisation_id)
        .outerjoin(Practice, col(Practice.id) == Interest.practice_id)
        .outerjoin(TwinningNeed, col(TwinningNeed.id) == Interest.need_id)
        .where(condition)
        .order_by(col(Interest.created_at).desc(), col(Interest.id).desc())
        .limit(200)
    ).all()
    return [
        InterestItem(
            id=interest.id,
            sender=user.display_name,
            sender_email=user.email,
            sender_organisation=sender_name,
            recipient_organisation=recipient_name,
            about="need" if need else "practice",
            about_id=need.id if need else interest.practice_id,
            about_title=_shorten(need.problem_statement) if need else practice_title,
            text=interest.text,
            created_at=interest.created_at,
            read_at=interest.read_at,
        )
        for interest, user, sender_name, recipient_name, practice_title, need in rows
    ]


def _shorten(text: str, length: int = 80) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"
