"""Practices: registration, revisions, moderation, and reading them for pages."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, delete, select

from dhu_core import audit, db, organisations
from dhu_core.accounts import PermissionDenied, require_role
from dhu_core.i18n import N_, _
from dhu_core.models import (
    LISTED,
    LISTED_STATUS,
    PRACTICE_LIST_FIELDS,
    VISIBLE_STATUSES,
    AuditEvent,
    FieldError,
    Organisation,
    Practice,
    PracticeCountry,
    PracticeCreate,
    PracticeDraft,
    PracticePublic,
    PracticeRevision,
    PracticeTag,
    PracticeUpdate,
    StateConflict,
    User,
    utcnow,
)
from dhu_core.models import PRACTICE_TAG_FIELDS as TAG_FIELDS
from dhu_core.notifications import events


def newest_practices(*, limit: int = 5, engine: Engine | None = None) -> list[PracticePublic]:
    """The most recently published practices, newest first."""
    with db.read_scope(engine) as session:
        ids = session.exec(
            select(Practice.id)
            .where(LISTED)
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


# --- writing: registration, revisions and moderation ------------------------------------

#: Fixed reasons a coordinator can give when rejecting (free text may follow).
#: Stored in English; a page shows them with `_()`.
REJECTION_REASONS = (
    N_("Not a digital health practice"),
    N_("Duplicate of an existing practice"),
    N_("Information incomplete or unclear"),
    N_("Contact details missing or not working"),
    N_("Outside the platform's scope (not in Europe)"),
    N_("Other"),
)
#: Statuses in which the owner edits the practice itself; a published one gets a revision.
EDITABLE = ("draft", "submitted", "rejected")
#: What a status tells about the last change, for the message when someone else was quicker.
_STATUS_NEWS = {
    "draft": N_(
        "This practice was just saved as a draft by {who}. Reload the page to see it as it is now."
    ),
    "submitted": N_(
        "This practice was just submitted for review by {who}. Reload the page to see it as it "
        "is now."
    ),
    "published": N_(
        "This practice was just approved by {who}. Reload the page to see it as it is now."
    ),
    "rejected": N_(
        "This practice was just rejected by {who}. Reload the page to see it as it is now."
    ),
    "archived": N_(
        "This practice was just archived by {who}. Reload the page to see it as it is now."
    ),
}


def save_draft(
    *, session: Session, data: PracticeDraft, actor: User, practice_id: int | None = None
) -> Practice:
    """Keep an unfinished practice of the actor's organisation; only the title is required."""
    practice = _writable(session, actor, practice_id)
    if practice.status not in EDITABLE:
        raise changed_first(session, practice)
    _apply(session, practice, data, status="draft")
    audit.record(session, actor, "practice.draft_saved", "practice", practice.id)
    return practice


def submit_practice(
    *, session: Session, data: PracticeCreate, actor: User, practice_id: int | None = None
) -> Practice:
    """Send a complete practice to review; for a published one, its edit waits as a revision."""
    practice = _writable(session, actor, practice_id)
    if practice.status in EDITABLE:
        waiting_already = practice.status == "submitted"
        _apply(session, practice, data, status="submitted")
        audit.record(session, actor, "practice.submitted", "practice", practice.id)
        if not waiting_already:  # coordinators hear once per review, not once per edit
            events.review_waiting(session, practice, revision=False)
        return practice
    pending = _pending_revision(session, practice.id)
    revision = pending or PracticeRevision(practice_id=practice.id)
    revision.data = data.model_dump(mode="json")
    revision.submitted_by_id = actor.id
    revision.submitted_at = utcnow()
    session.add(revision)
    session.flush()
    audit.record(
        session, actor, "practice.revision_submitted", "practice", practice.id, revision=revision.id
    )
    if pending is None:
        events.review_waiting(session, practice, revision=True)
    return practice


def approve_practice(*, session: Session, practice_id: int, actor: User) -> Practice:
    """Publish a submitted practice, or apply its pending revision (coordinators, admins)."""
    require_role(actor, "coordinator", "admin")
    practice = _locked(session, practice_id)
    revision = _pending_revision(session, practice_id)
    if revision is not None:
        _apply(session, practice, PracticeUpdate.model_validate(revision.data), LISTED_STATUS)
        # An approved edit confirms the practice, and lists it again if it was archived since.
        practice.last_confirmed_at, practice.archived_at = practice.updated_at, None
        _decide(revision, actor, "approved")
        session.add(revision)
        audit.record(session, actor, "practice.revision_approved", "practice", practice.id)
        events.practice_decided(session, practice, approved=True, revision=True)
        return practice
    if practice.status != "submitted":
        raise changed_first(session, practice)
    practice.status = LISTED_STATUS
    practice.updated_at = utcnow()
    practice.published_at = practice.published_at or practice.updated_at
    practice.last_confirmed_at = practice.updated_at
    practice.rejection_reason = None
    session.add(practice)
    audit.record(session, actor, "practice.approved", "practice", practice.id)
    events.practice_decided(session, practice, approved=True, revision=False)
    return practice


def reject_practice(
    *, session: Session, practice_id: int, actor: User, reason: str, note: str = ""
) -> Practice:
    """Send a submitted practice or a revision back with a reason (coordinators, admins)."""
    require_role(actor, "coordinator", "admin")
    if reason not in REJECTION_REASONS:
        raise FieldError("reason", _("choose one of the listed reasons"))
    practice = _locked(session, practice_id)
    text = f"{reason}. {note.strip()}" if note.strip() else reason
    revision = _pending_revision(session, practice_id)
    if revision is not None:
        _decide(revision, actor, "rejected")
        revision.rejection_reason = text
        session.add(revision)
        action = "practice.revision_rejected"
    else:
        if practice.status != "submitted":
            raise changed_first(session, practice)
        practice.status = "rejected"
        practice.rejection_reason = text
        practice.updated_at = utcnow()
        session.add(practice)
        action = "practice.rejected"
    audit.record(session, actor, action, "practice", practice.id, reason=reason, note=note)
    events.practice_decided(
        session, practice, approved=False, revision=revision is not None, reason=text
    )
    return practice


def _writable(
    session: Session, actor: User, practice_id: int | None, *, lock: bool = True
) -> Practice:
    """The actor's organisation's practice to change (locked), or a new one for it.

    Any active member of the organisation that owns the practice may change it, whoever
    typed it; membership is read from the database, not from the account object.
    """
    require_role(actor, "owner", "coordinator", "admin")
    organisation_id = organisations.acting_organisation(session, actor)
    if organisation_id is None:
        raise PermissionDenied(_("Your account belongs to no organisation; ask an administrator."))
    if practice_id is None:
        return Practice(title="", owner_organisation_id=organisation_id, created_by_id=actor.id)
    practice = _locked(session, practice_id) if lock else _get(session, practice_id)
    if practice.owner_organisation_id != organisation_id:
        raise PermissionDenied(_("Only members of the practice's organisation can change it."))
    if practice.status == "archived":
        raise ValueError(_("an archived practice cannot be changed"))
    return practice


def _apply(session: Session, practice: Practice, data: PracticeDraft, status: str) -> None:
    """Write the form's fields, deployments and tags to `practice`."""
    for name, value in data.model_dump(exclude=set(PRACTICE_LIST_FIELDS)).items():
        setattr(practice, name, value)
    practice.status = status
    practice.rejection_reason = None
    practice.updated_at = utcnow()
    session.add(practice)
    session.flush()
    session.exec(delete(PracticeCountry).where(PracticeCountry.practice_id == practice.id))
    session.exec(delete(PracticeTag).where(PracticeTag.practice_id == practice.id))
    session.add_all(PracticeCountry(practice_id=practice.id, country=c) for c in data.countries)
    session.add_all(
        PracticeTag(practice_id=practice.id, kind=kind, code=code)
        for kind, field in TAG_FIELDS.items()
        for code in getattr(data, field)
    )
    session.flush()


def _pending_revision(session: Session, practice_id: int) -> PracticeRevision | None:
    return session.exec(
        select(PracticeRevision).where(
            PracticeRevision.practice_id == practice_id, PracticeRevision.status == "pending"
        )
    ).first()


def _decide(revision: PracticeRevision, actor: User, status: str) -> None:
    revision.status = status
    revision.decided_by_id = actor.id
    revision.decided_at = utcnow()


def _get(session: Session, practice_id: int) -> Practice:
    practice = session.get(Practice, practice_id)
    if practice is None:
        raise LookupError(_("no practice with id {id}").format(id=practice_id))
    return practice


def _locked(session: Session, practice_id: int) -> Practice:
    """The practice, locked until the transaction ends: its status decides what happens next."""
    practice = db.get_for_update(session, Practice, practice_id)
    if practice is None:
        raise LookupError(_("no practice with id {id}").format(id=practice_id))
    return practice


def changed_first(session: Session, practice: Practice) -> StateConflict:
    """The refusal when a practice is no longer in the state the action expects."""
    return audit.conflict(session, "practice", practice.id, said=_(_STATUS_NEWS[practice.status]))


# --- reading for owners and coordinators -------------------------------------------------


@dataclass(frozen=True)
class OwnPractice:
    """A practice in its owner's list: status, the reason when rejected, a pending edit."""

    id: int
    title: str
    status: str
    updated_at: datetime
    rejection_reason: str | None
    revision_pending: bool
    revision_rejection: str | None


def own_practices(*, session: Session, actor: User) -> list[OwnPractice]:
    """The practices of the actor's organisation, most recently changed first."""
    require_role(actor, "owner", "coordinator", "admin")
    practices = session.exec(
        select(Practice)
        .where(Practice.owner_organisation_id == actor.organisation_id)
        .order_by(col(Practice.updated_at).desc())
    ).all()
    revisions: dict[int, PracticeRevision] = {}
    for revision in session.exec(
        select(PracticeRevision)
        .where(col(PracticeRevision.practice_id).in_([p.id for p in practices]))
        .order_by(col(PracticeRevision.id))
    ):
        revisions[revision.practice_id] = revision  # the newest one wins
    return [
        OwnPractice(
            id=p.id,
            title=p.title,
            status=p.status,
            updated_at=p.updated_at,
            rejection_reason=p.rejection_reason,
            revision_pending=p.id in revisions and revisions[p.id].status == "pending",
            revision_rejection=revisions[p.id].rejection_reason
            if p.id in revisions and revisions[p.id].status == "rejected"
            else None,
        )
        for p in practices
    ]


def practice_form(*, session: Session, actor: User, practice_id: int) -> PracticeDraft:
    """What the edit form starts from: the pending revision if any, else the practice."""
    _writable(session, actor, practice_id, lock=False)  # checks that the actor may edit it
    revision = _pending_revision(session, practice_id)
    if revision is not None:
        return PracticeDraft.model_validate(revision.data)
    public = load_public(session, [practice_id])[0]
    return PracticeDraft.model_validate(public.model_dump())


@dataclass(frozen=True)
class ReviewItem:
    """One entry of the coordinators' queue: a new practice or an edit of a published one."""

    practice_id: int
    kind: str  # "new" or "edit"
    submitted_at: datetime
    proposed: PracticePublic
    current: PracticePublic | None


def review_queue(*, session: Session, actor: User) -> list[ReviewItem]:
    """Submitted practices and pending edits, oldest first (coordinators and admins)."""
    return [
        review_item(session=session, actor=actor, entry=entry)
        for entry in review_entries(session=session, actor=actor)
    ]


@dataclass(frozen=True)
class ReviewEntry:
    """One line of the coordinators' queue, for choosing it: what the chosen one shows in full
    is loaded by `review_item` (a queue of thousands is not loaded whole on every run)."""

    practice_id: int
    kind: str  # "new" or "edit"
    submitted_at: datetime
    #: The proposed title (an edit's, for an edit).
    title: str
    revision_id: int | None = None


def review_entries(*, session: Session, actor: User) -> list[ReviewEntry]:
    """The queue of submitted practices and pending edits, oldest first, as short lines."""
    require_role(actor, "coordinator", "admin")
    submitted = session.exec(
        select(Practice.id, Practice.updated_at, Practice.title).where(
            Practice.status == "submitted"
        )
    ).all()
    revisions = session.exec(
        select(PracticeRevision).where(PracticeRevision.status == "pending")
    ).all()
    entries = [ReviewEntry(row.id, "new", row.updated_at, row.title) for row in submitted]
    entries += [
        ReviewEntry(
            revision.practice_id,
            "edit",
            revision.submitted_at,
            PracticeUpdate.model_validate(revision.data).title,
            revision.id,
        )
        for revision in revisions
    ]
    return sorted(entries, key=lambda entry: entry.submitted_at)


def review_item(*, session: Session, actor: User, entry: ReviewEntry) -> ReviewItem:
    """One entry of the queue with the practice as proposed (and as published, for an edit)."""
    require_role(actor, "coordinator", "admin")
    [current] = load_public(session, [entry.practice_id])
    if entry.revision_id is None:
        return ReviewItem(entry.practice_id, "new", entry.submitted_at, current, None)
    revision = session.get(PracticeRevision, entry.revision_id)
    proposed = current.model_copy(update=PracticeUpdate.model_validate(revision.data).model_dump())
    return ReviewItem(entry.practice_id, "edit", entry.submitted_at, proposed, current)


def history(*, session: Session, actor: User, practice_id: int) -> list[AuditEvent]:
    """Who did what to a practice, oldest first (its organisation, coordinators, admins)."""
    require_role(actor, "owner", "coordinator", "admin")
    practice = _get(session, practice_id)
    if actor.role == "owner" and practice.owner_organisation_id != actor.organisation_id:
        raise PermissionDenied(_("Only the practice's organisation and coordinators see this."))
    return audit.history(session, "practice", practice_id)


def public_practice(*, practice_id: int, engine: Engine | None = None) -> PracticePublic | None:
    """A listed or archived practice (which its address still opens) with every public field,
    or None."""
    with db.read_scope(engine) as session:
        practice = session.get(Practice, practice_id)
        if practice is None or practice.status not in VISIBLE_STATUSES:
            return None
        return load_public(session, [practice_id])[0]


def changed_fields(
    current: PracticePublic, proposed: PracticePublic
) -> dict[str, tuple[object, object]]:
    """Field -> (published value, proposed value) for every field an edit changes."""
    fields = PracticeUpdate.model_fields
    return {
        name: (getattr(current, name), getattr(proposed, name))
        for name in fields
        if getattr(current, name) != getattr(proposed, name)
    }


@dataclass(frozen=True)
class PracticeTitle:
    """Just enough of a practice to link to it."""

    id: int
    title: str


def public_titles(ids: list[int], *, engine: Engine | None = None) -> list[PracticeTitle]:
    """Id and title of the listed practices among `ids`."""
    with db.read_scope(engine) as session:
        rows = session.exec(
            select(Practice.id, Practice.title).where(col(Practice.id).in_(ids), LISTED)
        ).all()
    return [PracticeTitle(id=row.id, title=row.title) for row in rows]
