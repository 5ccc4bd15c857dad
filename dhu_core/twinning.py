"""Twinning: adopters' needs, suggested practices, and twinnings followed to completion.

Statuses of a match: suggested -> shortlisted -> agreed -> in-transfer -> completed, and any
open one -> declined. Only coordinators and administrators change them; every change is an
audit event with the old and new status and the note, which is the match's history.

An adopter's interest in a suggested practice keeps the match "suggested" (shortlisting is
the coordinators' decision) and is recorded as a "twinning.interest" event, shown as a flag.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from dhu_core import audit, db, geo, need_tags, organisations, params, spreadsheet, taxonomy
from dhu_core.accounts import PermissionDenied, require_role
from dhu_core.i18n import N_, _, format_date, format_number, format_percent
from dhu_core.matching import (
    CRITERIA,
    Candidate,
    MatchingIndex,
    NeedProfile,
    PracticeProfile,
    allocate_call,
    clean_weights,
    explain,
    load_needs,
    load_practices,
    open_practice_ids,
)
from dhu_core.models import (
    CONTROL_RE,
    NEED_TAG_FIELDS,
    AuditEvent,
    FieldError,
    NeedTag,
    Organisation,
    Practice,
    StateConflict,
    TwinningMatch,
    TwinningNeed,
    TwinningNeedCreate,
    User,
    WeightProfile,
    utcnow,
)
from dhu_core.notifications import events
from dhu_core.text import lower_first

COORDINATORS = ("coordinator", "admin")
#: The statuses a match may take next; completed and declined are final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "suggested": ("shortlisted", "declined"),
    "shortlisted": ("agreed", "declined"),
    "agreed": ("in-transfer", "declined"),
    "in-transfer": ("completed", "declined"),
    "completed": (),
    "declined": (),
}
MAX_NOTE = 2000
INTEREST = "twinning.interest"


# --- needs -------------------------------------------------------------------------------


def create_need(
    *,
    session: Session,
    actor: User,
    data: TwinningNeedCreate,
    organisation_id: int | None = None,
    suggested: Mapping[str, Sequence[str]] | None = None,
) -> TwinningNeed:
    """State a need: owners for their own organisation; coordinators for any, on its behalf.

    `suggested` are the tags suggested from the words (`suggest_need_tags`), by field: the
    audit event records which of the need's tags were accepted from them.
    """
    require_role(actor, "owner", *COORDINATORS)
    own = organisations.acting_organisation(session, actor)
    organisation_id = organisation_id or own
    if organisation_id is None:
        raise PermissionDenied(_("Your account belongs to no organisation; ask an administrator."))
    if actor.role == "owner" and organisation_id != own:
        raise PermissionDenied(_("You can state needs only for your own organisation."))
    # Locked so that a second click, or a colleague at the same moment, finds the first need.
    if db.get_for_update(session, Organisation, organisation_id) is None:
        raise FieldError("organisation_id", _("the chosen organisation does not exist"))
    _refuse_a_repeated_need(session, organisation_id, data)
    need = TwinningNeed.model_validate(
        data.model_dump(exclude=set(NEED_TAG_FIELDS.values())),
        update={"organisation_id": organisation_id, "created_by_id": actor.id},
    )
    session.add(need)
    session.flush()
    session.add_all(
        NeedTag(need_id=need.id, kind=kind, code=code)
        for kind, field in NEED_TAG_FIELDS.items()
        for code in getattr(data, field)
    )
    # Which of the need's tags were accepted from those suggested from its words.
    detail = {}
    if suggested is not None:
        detail["suggested"] = {
            field: accepted
            for field in NEED_TAG_FIELDS.values()
            if (accepted := [c for c in getattr(data, field) if c in suggested.get(field, ())])
        }
    audit.record(session, actor, "twinning.need_created", "twinning_need", need.id, **detail)
    return need


def _refuse_a_repeated_need(
    session: Session, organisation_id: int, data: TwinningNeedCreate
) -> None:
    """FieldError when the organisation has an open need with the same statement and country."""
    statement = " ".join(data.problem_statement.split()).casefold()
    for need in session.exec(
        select(TwinningNeed).where(
            TwinningNeed.organisation_id == organisation_id,
            TwinningNeed.status == "open",
            TwinningNeed.country == data.country,
        )
    ):
        if " ".join(need.problem_statement.split()).casefold() == statement:
            raise FieldError(
                "problem_statement",
                _(
                    "your organisation stated this need already on {date}; find it under “My needs”"
                ).format(date=format_date(need.created_at, form="long")),
            )


def suggest_need_tags(
    *, statement: str, session: Session | None = None, index: MatchingIndex | None = None
) -> need_tags.SuggestedTags:
    """Health domains, WHO DHI categories and types of practice suggested from a problem
    statement, learned from the practices open for twinning (pass a cached `index`)."""
    if index is None:
        if session is None:
            raise ValueError("give a session or an index")
        index = MatchingIndex.build(session)
    return need_tags.suggest(statement, index)


def own_needs(*, session: Session, actor: User) -> list[NeedProfile]:
    """The needs of the actor's organisation, newest first."""
    require_role(actor, "owner", *COORDINATORS)
    if actor.organisation_id is None:
        return []
    return load_needs(session, organisation_id=actor.organisation_id)


#: How far a need has come, for the coordinators' filter: the statuses of its matches.
NEED_PROGRESS = taxonomy.CodeList(
    "progress",
    # English labels, marked: the page shows them translated.
    {
        "untwinned": N_("No twinning yet"),
        "shortlisted": N_("Shortlisted"),
        "twinned": N_("Agreed, in transfer or completed"),
    },
)
#: The match statuses that put a need in a progress class ("untwinned": that keep it out).
_PROGRESS_STATUSES = {
    "untwinned": ("shortlisted", *taxonomy.TWINNING_STATUSES),
    "shortlisted": ("shortlisted",),
    "twinned": taxonomy.TWINNING_STATUSES,
}


@dataclass(frozen=True)
class NeedQuery:
    """The coordinators' filter of open needs; mirrored in the URL."""

    text: str = ""
    countries: tuple[str, ...] = ()
    organisation_ids: tuple[int, ...] = ()
    progress: str | None = None

    def to_params(self) -> dict[str, list[str] | str]:
        """The filter as URL query parameters (empty ones left out)."""
        params = {
            "need_q": self.text,
            "need_country": list(self.countries),
            "need_org": [str(i) for i in self.organisation_ids],
            "need_progress": self.progress or "",
        }
        return {key: value for key, value in params.items() if value}

    @classmethod
    def from_params(cls, raw: Mapping[str, object]) -> "NeedQuery":
        """The filter from URL parameters anyone may edit; what is not known is dropped."""
        progress = params.last(raw.get("need_progress"))
        return cls(
            text=params.last(raw.get("need_q"))[:200],
            countries=tuple(params.known(params.values(raw.get("need_country")), _country)),
            organisation_ids=tuple(params.known(params.values(raw.get("need_org")), int)),
            progress=progress if progress in NEED_PROGRESS else None,
        )


def _country(value: str) -> str:
    if value.upper() not in geo.countries():
        raise ValueError(value)
    return value.upper()


def find_needs(*, session: Session, actor: User, query: NeedQuery) -> list[NeedProfile]:
    """Open needs matching the coordinators' filter, newest first (coordinators and admins)."""
    choices = find_need_choices(session=session, actor=actor, query=query)
    return load_needs(session, [choice.id for choice in choices])


@dataclass(frozen=True)
class NeedChoice:
    """A need as a list to choose from shows it (its profile is loaded once chosen)."""

    id: int
    organisation: str
    country: str
    problem_statement: str


def find_need_choices(*, session: Session, actor: User, query: NeedQuery) -> list[NeedChoice]:
    """`find_needs` as short lines: the columns a choice shows, not thousands of profiles with
    their codes (coordinators and admins)."""
    require_role(actor, *COORDINATORS)
    ids = (
        select(
            TwinningNeed.id,
            Organisation.name,
            TwinningNeed.country,
            TwinningNeed.problem_statement,
        )
        .join(Organisation, Organisation.id == TwinningNeed.organisation_id)
        .where(TwinningNeed.status == "open")
    )
    if query.countries:
        ids = ids.where(col(TwinningNeed.country).in_(query.countries))
    if query.organisation_ids:
        ids = ids.where(col(TwinningNeed.organisation_id).in_(query.organisation_ids))
    for word in query.text.split():
        ids = ids.where(
            or_(
                col(TwinningNeed.problem_statement).icontains(word, autoescape=True),
                col(Organisation.name).icontains(word, autoescape=True),
            )
        )
    if query.progress is not None:
        matched = select(TwinningMatch.need_id).where(
            col(TwinningMatch.status).in_(_PROGRESS_STATUSES[query.progress])
        )
        ids = ids.where(
            col(TwinningNeed.id).not_in(matched)
            if query.progress == "untwinned"
            else col(TwinningNeed.id).in_(matched)
        )
    ids = ids.order_by(col(TwinningNeed.created_at).desc(), col(TwinningNeed.id))
    return [NeedChoice(*row) for row in session.exec(ids).all()]


def all_needs(*, session: Session, actor: User, status: str | None = None) -> list[NeedProfile]:
    """Every need (optionally those in one status), newest first: coordinators and admins."""
    require_role(actor, *COORDINATORS)
    return load_needs(session, status=status)


def get_need(*, session: Session, actor: User, need_id: int) -> NeedProfile:
    """One need, for its organisation, coordinators and admins."""
    require_role(actor, "owner", *COORDINATORS)
    found = load_needs(session, [need_id])
    if not found:
        raise LookupError(f"no twinning need with id {need_id}")
    if actor.role == "owner" and found[0].organisation_id != actor.organisation_id:
        raise PermissionDenied(_("Only the need's organisation and coordinators see this need."))
    return found[0]


# --- suggestions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    """A practice suggested for a need, with its score and the reasons in plain words."""

    candidate: Candidate
    practice: PracticeProfile
    reasons: list[str]


#: Suggestions asked of the index beyond those shown, in place of practices closed since it
#: was built.
STALE_MARGIN = 5


def suggest_practices(
    *,
    session: Session,
    actor: User,
    need_id: int,
    weights: Mapping[str, float] | None = None,
    k: int = 10,
    index: MatchingIndex | None = None,
) -> list[Suggestion]:
    """The best practices for a need, explained (pass a cached `index` to skip loading it)."""
    need = get_need(session=session, actor=actor, need_id=need_id)
    index = index or MatchingIndex.build(session)
    # A cached index may be seconds older than the data: a practice closed since is left out.
    found = index.top_k([need], weights, k + STALE_MARGIN)[0]
    still_open = open_practice_ids(session, [c.practice_id for c in found])
    suggestions = []
    for candidate in [c for c in found if c.practice_id in still_open][:k]:
        practice = index.practice(candidate.practice_id)
        suggestions.append(Suggestion(candidate, practice, explain(candidate, need, practice)))
    return suggestions


def express_interest(
    *,
    session: Session,
    actor: User,
    need_id: int,
    practice_id: int,
    index: MatchingIndex | None = None,
) -> TwinningMatch:
    """The need's organisation says it is interested in a practice (see the module notes)."""
    need = get_need(session=session, actor=actor, need_id=need_id)
    organisations.require_member(
        session,
        actor,
        need.organisation_id,
        _("Only the need's own organisation can express its interest."),
    )
    _require_open(session, practice_id)
    _lock_need(session, need_id)
    match = _match_of(session, need_id, practice_id)
    if match is None:
        index = index or MatchingIndex.build(session)
        [practice] = load_practices(session, [practice_id])  # as it is now (see _require_open)
        candidate = index.candidate(need, practice_id, practice=practice)
        if candidate is None:
            raise ValueError(_("this practice is not open for twinning with this need"))
        match = _new_match(session, need_id, practice_id, candidate.score, candidate.breakdown)
    audit.record(session, actor, INTEREST, "twinning_match", match.id, need=need_id)
    practice = session.get(Practice, practice_id)
    events.interest_received(
        session,
        sender=actor,
        organisation_id=practice.owner_organisation_id,
        about="practice",
        about_title=practice.title,
        text=f"Our need: {need.problem_statement}",
        dedupe_key=f"twinning-interest:{match.id}",
    )
    return match


def save_match(
    *,
    session: Session,
    actor: User,
    need_id: int,
    practice_id: int,
    score: float,
    breakdown: Mapping[str, float],
) -> TwinningMatch:
    """Keep a suggestion as a match (status unchanged when it exists): coordinators, admins."""
    require_role(actor, *COORDINATORS)
    need = _lock_need(session, need_id)
    practice = session.get(Practice, practice_id)
    if need is None or practice is None:
        raise LookupError("no such need or practice")
    if need.organisation_id == practice.owner_organisation_id:
        raise ValueError(_("a need is not matched with a practice of its own organisation"))
    values = [score, *breakdown.values()]
    if set(breakdown) - set(CRITERIA) or not all(0.0 <= value <= 1.0 for value in values):
        raise ValueError("a score and the values of its criteria lie between 0 and 1")
    match = _match_of(session, need_id, practice_id)
    if match is None:
        match = _new_match(session, need_id, practice_id, score, breakdown)
    else:
        match.score, match.breakdown, match.updated_at = score, dict(breakdown), utcnow()
        session.add(match)
    audit.record(session, actor, "twinning.match_saved", "twinning_match", match.id, score=score)
    return match


def _require_open(session: Session, practice_id: int) -> None:
    """Lock the practice; StateConflict unless it is open for twinning now. Suggestions come
    from an index that may be a few seconds older than the data. (Practices are locked before
    needs, as the award of a call does.)"""
    practice = db.get_for_update(session, Practice, practice_id)
    if practice is None:
        raise LookupError(f"no practice with id {practice_id}")
    if practice_id not in open_practice_ids(session, [practice_id]):
        raise StateConflict(
            _(
                "“{practice}” is no longer open for twinning: it changed since this list was "
                "made. Reload the page to see the practices open now."
            ).format(practice=practice.title)
        )


def _lock_need(session: Session, need_id: int) -> TwinningNeed | None:
    """Lock a need while its matches are looked up and created, so none is created twice."""
    return db.get_for_update(session, TwinningNeed, need_id)


def _match_of(session: Session, need_id: int, practice_id: int) -> TwinningMatch | None:
    return session.exec(
        select(TwinningMatch).where(
            TwinningMatch.need_id == need_id, TwinningMatch.practice_id == practice_id
        )
    ).first()


def _new_match(
    session: Session, need_id: int, practice_id: int, score: float, breakdown: Mapping[str, float]
) -> TwinningMatch:
    match = TwinningMatch(
        need_id=need_id, practice_id=practice_id, score=score, breakdown=dict(breakdown)
    )
    session.add(match)
    session.flush()
    return match


# --- following a twinning ----------------------------------------------------------------


def set_match_status(
    *,
    session: Session,
    actor: User,
    match_id: int,
    status: str,
    note: str = "",
    expected: str | None = None,
    tell: bool = True,
) -> TwinningMatch:
    """Move a match on to its next status (coordinators and admins); recorded with the note.

    `expected` is the status the coordinator saw: when someone changed it since, nothing
    happens and StateConflict says who did what. `tell` False: both sides are not told (a
    step on the way to the status they are told of).
    """
    require_role(actor, *COORDINATORS)
    match = db.get_for_update(session, TwinningMatch, match_id)
    if match is None:
        raise LookupError(f"no twinning match with id {match_id}")
    try:
        new = taxonomy.MATCH_STATUSES.normalise(status)
    except ValueError as error:
        raise FieldError("status", str(error)) from None
    old = match.status
    if expected is not None and old != expected:
        raise _changed_first(session, match)
    if new not in TRANSITIONS[old]:
        raise FieldError("status", _transition_problem(old, new))
    return move_match(session=session, actor=actor, match=match, status=new, note=note, tell=tell)


def move_match(
    *,
    session: Session,
    actor: User,
    match: TwinningMatch,
    status: str,
    note: str = "",
    tell: bool = True,
) -> TwinningMatch:
    """Set a locked match's next status, recorded with the note, and tell both sides (unless
    `tell` is False).

    The caller has checked the actor's right and that the match may move on to `status`.
    """
    require_role(actor, "owner", *COORDINATORS)
    old, new = match.status, status
    note = " ".join(note.split())
    if CONTROL_RE.search(note) or len(note) > MAX_NOTE:
        raise FieldError(
            "note",
            _("write a note of at most {count} plain characters").format(
                count=format_number(MAX_NOTE)
            ),
        )
    match.status = new
    match.updated_at = utcnow()
    if note:
        match.notes = note
    session.add(match)
    audit.record(
        session,
        actor,
        "twinning.status_changed",
        "twinning_match",
        match.id,
        old=old,
        new=new,
        note=note,
    )
    if tell:
        events.twinning_status_changed(session, match, old=old)
    return match


def _changed_first(session: Session, match: TwinningMatch) -> StateConflict:
    label = lower_first(taxonomy.MATCH_STATUSES.label(match.status))
    return audit.conflict(session, "twinning_match", match.id, "This twinning", f"set to {label}")


def _transition_problem(old: str, new: str) -> str:
    def label(status: str) -> str:
        return lower_first(taxonomy.MATCH_STATUSES.label(status))

    if not TRANSITIONS[old]:
        return _("a {old} twinning is final; it cannot become {new}").format(
            old=label(old), new=label(new)
        )
    options = _(" or ").join(label(s) for s in TRANSITIONS[old])
    return _("a {old} twinning can next be {options}, not {new}").format(
        old=label(old), options=options, new=label(new)
    )


#: Why a pair was shortlisted, as its history tells it (in English: its history shows it in
#: the reader's language, see `describe`).
SHORTLISTED_FROM = {
    "candidates": N_("Shortlisted from the need's ranked candidates."),
    "allocation": N_("Accepted from the call's allocation."),
}
#: The note of a twinning completed by the publication of its lessons-learned case.
COMPLETED_BY_LESSONS = N_("Lessons learned published to the knowledge community.")
#: The notes the platform writes into a match's history, which `describe` translates.
PLATFORM_NOTES = {*SHORTLISTED_FROM.values(), COMPLETED_BY_LESSONS}


def shortlist(
    *,
    session: Session,
    actor: User,
    need_id: int,
    practice_id: int,
    score: float,
    breakdown: Mapping[str, float],
    source: str,
    tell: bool = True,
) -> TwinningMatch:
    """Shortlist a pair, from the need's candidates or a call's allocation (`source`): the
    match is kept and shortlisted, and its history says where it came from (both sides told
    unless `tell` is False).

    Shortlisted, not agreed: both sides still have to consent before a twinning is agreed.
    StateConflict when the practice is no longer open for twinning.
    """
    require_role(actor, *COORDINATORS)
    _require_open(session, practice_id)
    return _shortlist(
        session=session, actor=actor, need_id=need_id, practice_id=practice_id,
        score=score, breakdown=breakdown, source=source, tell=tell,
    )  # fmt: skip


def _shortlist(
    *,
    session: Session,
    actor: User,
    need_id: int,
    practice_id: int,
    score: float,
    breakdown: Mapping[str, float],
    source: str,
    tell: bool = True,
) -> TwinningMatch:
    _lock_need(session, need_id)
    existing = _match_of(session, need_id, practice_id)
    if existing is not None and existing.status != "suggested":
        raise _changed_first(session, existing)
    match = save_match(
        session=session,
        actor=actor,
        need_id=need_id,
        practice_id=practice_id,
        score=score,
        breakdown=breakdown,
    )
    return set_match_status(
        session=session,
        actor=actor,
        match_id=match.id,
        status="shortlisted",
        note=SHORTLISTED_FROM[source],
        expected="suggested",
        tell=tell,
    )


def agree(
    *,
    session: Session,
    actor: User,
    need_id: int,
    practice_id: int,
    score: float,
    breakdown: Mapping[str, float],
    note: str,
) -> TwinningMatch:
    """Agree a pair at once, as an awarded call place does: a new or suggested match is
    shortlisted first (from the allocation) so that its history shows both steps, though both
    sides are told of the agreement only; FieldError when the match is past shortlisting."""
    require_role(actor, *COORDINATORS)
    _lock_need(session, need_id)
    match = _match_of(session, need_id, practice_id)
    if match is None or match.status == "suggested":
        # An awarded call's practice was confirmed by its originator: it need not be open.
        match = _shortlist(
            session=session, actor=actor, need_id=need_id, practice_id=practice_id,
            score=score, breakdown=breakdown, source="allocation", tell=False,
        )  # fmt: skip
    return set_match_status(
        session=session, actor=actor, match_id=match.id, status="agreed", note=note
    )


def match_history(*, session: Session, actor: User, match_id: int) -> list[AuditEvent]:
    """Who did what to a match, oldest first: both organisations, coordinators, admins."""
    require_role(actor, "owner", *COORDINATORS)
    match = _get_match(session, match_id)
    if actor.role == "owner" and actor.organisation_id not in sides(session, match):
        raise PermissionDenied(_("Only the two organisations and coordinators see this history."))
    return audit.history(session, "twinning_match", match_id)


def describe(event: AuditEvent) -> str:
    """One plain sentence for an event of a match's history (no internal event names), in the
    page's language (the notes the platform wrote too)."""
    detail = event.detail or {}
    if event.action == "twinning.status_changed":
        label = taxonomy.MATCH_STATUSES.label
        change = f"{label(detail.get('old', ''))} → {label(detail.get('new', ''))}"
        note = detail.get("note")
        if not note:
            return change
        quoted = _("“{name}”").format(name=_(note) if note in PLATFORM_NOTES else note)
        return f"{change}: {quoted}"
    if event.action == "twinning.match_saved":
        return _("Kept as a suggestion, scored {score}").format(
            score=percent(detail.get("score", 0.0))
        )
    if event.action == INTEREST:
        return _("The adopter's organisation said it is interested")
    return event.action.rsplit(".", 1)[-1].replace("_", " ").capitalize()


def percent(score: float) -> str:
    """A score as every page shows it: a whole percentage, such as 70% (70 % in German)."""
    return format_percent(score)


def sides(session: Session, match: TwinningMatch) -> tuple[int, int]:
    """The adopter's and the originator's organisation of a match."""
    need = session.get(TwinningNeed, match.need_id)
    practice = session.get(Practice, match.practice_id)
    return need.organisation_id, practice.owner_organisation_id


def _get_match(session: Session, match_id: int) -> TwinningMatch:
    match = session.get(TwinningMatch, match_id)
    if match is None:
        raise LookupError(f"no twinning match with id {match_id}")
    return match


#: The adopter's and the originator's organisation, in queries joined by `with_both_sides`.
ADOPTER = aliased(Organisation, name="adopter")
ORIGINATOR = aliased(Organisation, name="originator")


def with_both_sides(query: Select) -> Select:
    """`query` of matches joined to their need, their practice, and the organisations of both
    (`ADOPTER`, the need's, and `ORIGINATOR`, the practice's owner)."""
    return (
        query.join(TwinningNeed, TwinningNeed.id == TwinningMatch.need_id)
        .join(ADOPTER, ADOPTER.id == TwinningNeed.organisation_id)
        .join(Practice, Practice.id == TwinningMatch.practice_id)
        .join(ORIGINATOR, ORIGINATOR.id == Practice.owner_organisation_id)
    )


@dataclass(frozen=True)
class MatchEntry:
    """A match as lists and exports show it: both sides, score, status and notes."""

    id: int
    need_id: int
    need: str
    adopter_organisation: str
    adopter_country: str
    practice_id: int
    practice: str
    originator_organisation: str
    originator_country: str
    score: float
    status: str
    notes: str | None
    interest: bool
    updated_at: datetime


def twinning_matches(
    *,
    session: Session,
    actor: User,
    need_id: int | None = None,
    statuses: Sequence[str] | None = None,
) -> list[MatchEntry]:
    """Matches, most recently changed first: all for coordinators and admins; for owners,
    those where their organisation is the adopter or the originator.
    """
    require_role(actor, "owner", *COORDINATORS)
    # Columns, not the matches' records: thousands of them (and their JSON breakdowns, which
    # no list shows) made a page's run hold several times what it shows.
    query = with_both_sides(
        sa_select(
            TwinningMatch.id,
            TwinningMatch.need_id,
            TwinningNeed.problem_statement,
            ADOPTER.name,
            TwinningNeed.country,
            TwinningMatch.practice_id,
            Practice.title,
            ORIGINATOR.name,
            ORIGINATOR.country,
            TwinningMatch.score,
            TwinningMatch.status,
            TwinningMatch.notes,
            TwinningMatch.updated_at,
        ).select_from(TwinningMatch)
    ).order_by(col(TwinningMatch.updated_at).desc(), col(TwinningMatch.id).desc())
    if actor.role == "owner":
        query = query.where(
            or_(
                TwinningNeed.organisation_id == actor.organisation_id,
                Practice.owner_organisation_id == actor.organisation_id,
            )
        )
    if need_id is not None:
        query = query.where(TwinningMatch.need_id == need_id)
    if statuses is not None:
        query = query.where(col(TwinningMatch.status).in_(statuses))
    interested = set(
        session.exec(
            select(AuditEvent.entity_id).where(
                AuditEvent.entity == "twinning_match", AuditEvent.action == INTEREST
            )
        ).all()
    )
    return [
        MatchEntry(*row[:-1], interest=row[0] in interested, updated_at=row[-1])
        for row in session.execute(query).all()
    ]


#: The columns of the twinnings export, in order.
EXPORT_COLUMNS = (
    "need_id",
    "need",
    "adopter_organisation",
    "adopter_country",
    "practice_id",
    "practice",
    "originator_organisation",
    "originator_country",
    "score",
    "status",
    "notes",
    "updated",
)


def twinnings_export_rows(*, session: Session, actor: User) -> list[dict[str, object]]:
    """Every match as a flat row for CSV or XLSX (coordinators and admins)."""
    require_role(actor, *COORDINATORS)
    return [
        {
            "need_id": entry.need_id,
            "need": entry.need,
            "adopter_organisation": entry.adopter_organisation,
            "adopter_country": entry.adopter_country,
            "practice_id": entry.practice_id,
            "practice": entry.practice,
            "originator_organisation": entry.originator_organisation,
            "originator_country": entry.originator_country,
            "score": round(entry.score, 4),
            "status": entry.status,
            "notes": entry.notes or "",
            "updated": entry.updated_at.isoformat(timespec="seconds"),
        }
        for entry in twinning_matches(session=session, actor=actor)
    ]


def twinnings_export(*, session: Session, actor: User, fmt: str) -> bytes:
    """Every match as the bytes of a CSV or XLSX file (coordinators and admins)."""
    rows = [
        [row[column] for column in EXPORT_COLUMNS]
        for row in twinnings_export_rows(session=session, actor=actor)
    ]
    return spreadsheet.file_bytes(fmt, EXPORT_COLUMNS, rows, sheet="twinnings")


# --- weight profiles ---------------------------------------------------------------------


def save_weight_profile(
    *, session: Session, actor: User, name: str, weights: Mapping[str, float]
) -> WeightProfile:
    """Save named weights (a profile of the same name, in any letter case, is replaced)."""
    require_role(actor, *COORDINATORS)
    name = " ".join(str(name or "").split())
    if not 2 <= len(name) <= 60 or CONTROL_RE.search(name):
        raise FieldError("name", _("give the profile a name of 2 to 60 characters"))
    try:
        cleaned = clean_weights(weights)
    except ValueError as error:
        raise FieldError("weights", str(error)) from None
    profile = session.exec(
        select(WeightProfile).where(func.lower(WeightProfile.name) == name.lower())
    ).first() or WeightProfile(name=name)
    profile.name, profile.weights = name, cleaned
    profile.updated_by_id, profile.updated_at = actor.id, utcnow()
    session.add(profile)
    session.flush()
    audit.record(session, actor, "twinning.weights_saved", "weight_profile", profile.id)
    return profile


def weight_profiles(*, session: Session, actor: User) -> list[WeightProfile]:
    """The saved weight profiles by name (coordinators and admins)."""
    require_role(actor, *COORDINATORS)
    return list(session.exec(select(WeightProfile).order_by(func.lower(WeightProfile.name))).all())


# --- allocating a call -------------------------------------------------------------------


@dataclass(frozen=True)
class ProposedPair:
    """A pair of a call's proposed allocation, for a coordinator to accept or leave."""

    need: NeedProfile
    practice: PracticeProfile
    candidate: Candidate


def propose_allocation(
    *,
    session: Session,
    actor: User,
    places: int,
    need_ids: Sequence[int] | None = None,
    weights: Mapping[str, float] | None = None,
    index: MatchingIndex | None = None,
) -> list[ProposedPair]:
    """The pairs of highest total score for a call with `places` twinnings, among the open
    needs (or those given) that have no twinning yet, within the originators' free capacity.
    """
    require_role(actor, *COORDINATORS)
    twinned = set(
        session.exec(
            select(TwinningMatch.need_id).where(
                col(TwinningMatch.status).in_(taxonomy.TWINNING_STATUSES)
            )
        ).all()
    )
    needs = [n for n in load_needs(session, need_ids, status="open") if n.id not in twinned]
    if not needs or places <= 0:
        return []
    index = index or MatchingIndex.build(session)
    pairs = allocate_call(index, needs, places, weights)
    # A cached index may be seconds older than the data: a pair whose practice closed since is
    # left out (accepting it would be refused, see `shortlist`).
    still_open = open_practice_ids(session, [c.practice_id for _need, c in pairs])
    return [
        ProposedPair(need, index.practice(candidate.practice_id), candidate)
        for need, candidate in pairs
        if candidate.practice_id in still_open
    ]
