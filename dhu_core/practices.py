"""Practices: registration, moderation, and reading them for the catalogue and home page."""

from sqlalchemy import Engine
from sqlmodel import Session, delete, select

from dhu_core import audit, db
from dhu_core.accounts import PermissionDenied, require_role
from dhu_core.models import PRACTICE_TAG_FIELDS as TAG_FIELDS
from dhu_core.models import (
    Organisation,
    Practice,
    PracticeCountry,
    PracticeCreate,
    PracticePublic,
    PracticeTag,
    PracticeUpdate,
    User,
    utcnow,
)


def newest_practices(*, limit: int = 5, engine: Engine | None = None) -> list[PracticePublic]:
    """The most recently published practices, newest first."""
    with db.session_scope(engine) as session:
        ids = session.exec(
            select(Practice.id)
            .where(Practice.status == "published")
            .order_by(Practice.published_at.desc(), Practice.id.desc())
            .limit(limit)
        ).all()
        return load_public(session, list(ids))


def load_public(session: Session, ids: list[int]) -> list[PracticePublic]:
    """Practices with their organisation, deployments and tags, in the order of `ids`."""
    if not ids:
        return []
    rows = session.exec(
        select(Practice, Organisation.name, Organisation.country)
        .join(Organisation, Organisation.id == Practice.owner_organisation_id)
        .where(Practice.id.in_(ids))
    ).all()
    countries: dict[int, list[str]] = {i: [] for i in ids}
    for practice_id, country in session.exec(
        select(PracticeCountry.practice_id, PracticeCountry.country)
        .where(PracticeCountry.practice_id.in_(ids))
        .order_by(PracticeCountry.country)
    ):
        countries[practice_id].append(country)
    tags: dict[int, dict[str, list[str]]] = {i: {} for i in ids}
    for practice_id, kind, code in session.exec(
        select(PracticeTag.practice_id, PracticeTag.kind, PracticeTag.code)
        .where(PracticeTag.practice_id.in_(ids))
        .order_by(PracticeTag.code)
    ):
        tags[practice_id].setdefault(kind, []).append(code)
    by_id = {
        practice.id: PracticePublic.model_validate(
            practice,
            update={
                "owner_organisation": org_name,
                "owner_country": org_country,
                "countries": countries[practice.id],
                **{field: tags[practice.id].get(kind, []) for kind, field in TAG_FIELDS.items()},
            },
        )
        for practice, org_name, org_country in rows
    }
    return [by_id[i] for i in ids if i in by_id]


# --- writing: registration and moderation --------------------------------------------------

#: Fixed reasons a coordinator can give when rejecting (free text may follow).
REJECTION_REASONS = (
    "Not a digital health practice",
    "Duplicate of an existing practice",
    "Information incomplete or unclear",
    "Contact details missing or not working",
    "Outside the platform's scope (not in Europe)",
    "Other",
)


def create_practice(
    *, session: Session, data: PracticeCreate, actor: User, submit: bool = False
) -> Practice:
    """Register a practice of the actor's organisation, as a draft or submitted for review."""
    require_role(actor, "owner", "coordinator", "admin")
    if actor.organisation_id is None:
        raise PermissionDenied("Your account belongs to no organisation; ask an administrator.")
    practice = Practice.model_validate(
        data,
        update={
            "owner_organisation_id": actor.organisation_id,
            "created_by_id": actor.id,
            "status": "submitted" if submit else "draft",
        },
    )
    session.add(practice)
    session.flush()
    _write_lists(session, practice.id, data)
    audit.record(session, actor, f"practice.{practice.status}", "practice", practice.id)
    return practice


def update_practice(
    *, session: Session, practice_id: int, data: PracticeUpdate, actor: User, submit: bool = False
) -> Practice:
    """Edit a draft, submitted or rejected practice of the actor's own organisation."""
    practice = _own_practice(session, practice_id, actor)
    if practice.status in ("published", "archived"):
        raise PermissionDenied("A published practice is changed through a revision.")
    for name, value in data.model_dump(exclude=set(_LIST_FIELDS)).items():
        setattr(practice, name, value)
    practice.status = "submitted" if submit else "draft"
    practice.updated_at = utcnow()
    session.add(practice)
    session.exec(delete(PracticeCountry).where(PracticeCountry.practice_id == practice.id))
    session.exec(delete(PracticeTag).where(PracticeTag.practice_id == practice.id))
    session.flush()
    _write_lists(session, practice.id, data)
    audit.record(session, actor, "practice.edited", "practice", practice.id, status=practice.status)
    return practice


def submit_practice(*, session: Session, practice_id: int, actor: User) -> Practice:
    """Send an own draft or rejected practice to the coordinators' review queue."""
    practice = _own_practice(session, practice_id, actor)
    _require_status(practice, ("draft", "rejected"), "submitted")
    practice.status = "submitted"
    practice.rejection_reason = None
    practice.updated_at = utcnow()
    session.add(practice)
    audit.record(session, actor, "practice.submitted", "practice", practice.id)
    return practice


def approve_practice(*, session: Session, practice_id: int, actor: User) -> Practice:
    """Publish a submitted practice (coordinators and administrators)."""
    require_role(actor, "coordinator", "admin")
    practice = _get(session, practice_id)
    _require_status(practice, "submitted", "approved")
    practice.status = "published"
    practice.published_at = practice.published_at or utcnow()
    practice.rejection_reason = None
    practice.updated_at = utcnow()
    session.add(practice)
    audit.record(session, actor, "practice.approved", "practice", practice.id)
    return practice


def reject_practice(
    *, session: Session, practice_id: int, actor: User, reason: str, note: str = ""
) -> Practice:
    """Send a submitted practice back to its owner with a reason (coordinators, admins)."""
    require_role(actor, "coordinator", "admin")
    if reason not in REJECTION_REASONS:
        raise ValueError("choose one of the listed reasons")
    practice = _get(session, practice_id)
    _require_status(practice, "submitted", "rejected")
    practice.status = "rejected"
    practice.rejection_reason = f"{reason}. {note.strip()}".strip() if note.strip() else reason
    practice.updated_at = utcnow()
    session.add(practice)
    audit.record(
        session, actor, "practice.rejected", "practice", practice.id, reason=reason, note=note
    )
    return practice


_LIST_FIELDS = ("countries", *TAG_FIELDS.values())


def _write_lists(session: Session, practice_id: int, data: PracticeCreate) -> None:
    session.add_all(PracticeCountry(practice_id=practice_id, country=c) for c in data.countries)
    session.add_all(
        PracticeTag(practice_id=practice_id, kind=kind, code=code)
        for kind, field in TAG_FIELDS.items()
        for code in getattr(data, field)
    )


def _get(session: Session, practice_id: int) -> Practice:
    practice = session.get(Practice, practice_id)
    if practice is None:
        raise LookupError(f"no practice with id {practice_id}")
    return practice


def _require_status(practice: Practice, allowed: str | tuple[str, ...], verb: str) -> None:
    allowed = (allowed,) if isinstance(allowed, str) else allowed
    if practice.status not in allowed:
        raise ValueError(f"a {practice.status} practice cannot be {verb}")


def _own_practice(session: Session, practice_id: int, actor: User) -> Practice:
    require_role(actor, "owner", "coordinator", "admin")
    practice = _get(session, practice_id)
    if practice.owner_organisation_id != actor.organisation_id:
        raise PermissionDenied("Only people of the practice's own organisation can change it.")
    return practice
