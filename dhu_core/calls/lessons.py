"""Lessons learned: the final report of a twinning as a structured case (context, what was
transferred, what had to be adapted, barriers, costs, outcome), written by the pair or a
coordinator and published by a coordinator to the knowledge community, which completes the
twinning. Only published cases are public."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from dhu_core import audit, db, taxonomy, twinning
from dhu_core.accounts import require_role
from dhu_core.calls import follow_up
from dhu_core.i18n import _
from dhu_core.models import (
    LESSONS_PARTS,
    FieldError,
    LessonsCase,
    LessonsInput,
    Practice,
    StateConflict,
    TwinningMatch,
    TwinningNeed,
    User,
    utcnow,
)
from dhu_core.text import lower_first


def _case(session: Session, match_id: int) -> LessonsCase | None:
    return session.scalar(
        sa_select(LessonsCase).where(LessonsCase.match_id == match_id).with_for_update()
    )


def _changed(session: Session, case: LessonsCase) -> StateConflict:
    return audit.conflict(session, "lessons_case", case.id, "This case", "changed")


def save_case(
    *,
    session: Session,
    actor: User,
    match_id: int,
    data: LessonsInput,
    version: int | None,
) -> LessonsCase:
    """Write or rewrite the draft case of a twinning (the pair or a coordinator); `version`
    is the one the writer saw (None: there was no case yet)."""
    match = db.get_for_update(session, TwinningMatch, match_id)
    if match is None:
        raise LookupError(_("no twinning with id {id}").format(id=match_id))
    follow_up.require_follower(session, actor, match)
    if match.status not in taxonomy.TWINNING_STATUSES:
        raise StateConflict(_("Lessons are written for an agreed twinning."))
    case = _case(session, match_id)
    if (case.version if case else None) != version:
        raise _changed(session, case) if case else StateConflict(_("This case no longer exists."))
    if case is not None and case.status == "published":
        raise StateConflict(_("This case is published already; it can no longer be changed."))
    case = case or LessonsCase(match_id=match_id, version=0)
    for part in LESSONS_PARTS:
        setattr(case, part, getattr(data, part))
    case.written_by_id, case.updated_at, case.version = actor.id, utcnow(), case.version + 1
    session.add(case)
    session.flush()
    audit.record(session, actor, "lessons.case_saved", "lessons_case", case.id, match=match_id)
    return case


def publish_case(*, session: Session, actor: User, match_id: int, version: int) -> LessonsCase:
    """Publish a twinning's case to the knowledge community (coordinators), as seen at
    `version`: the pair's final report must be in, and the twinning becomes completed."""
    require_role(actor, *twinning.COORDINATORS)
    match = db.get_for_update(session, TwinningMatch, match_id)
    if match is None:
        raise LookupError(_("no twinning with id {id}").format(id=match_id))
    case = _case(session, match_id)
    if case is None:
        raise FieldError("case", _("write the lessons-learned case first"))
    if case.version != version or case.status == "published":
        raise _changed(session, case)
    if not follow_up.has_final_report(session, match_id):
        raise FieldError(
            "case", _("the pair's final report is needed before the case is published")
        )
    if "completed" not in twinning.TRANSITIONS[match.status]:
        label = lower_first(taxonomy.MATCH_STATUSES.label(match.status))
        raise FieldError(
            "case",
            _(
                "a twinning is completed once in transfer (after its kick-off); it is {status}"
            ).format(status=label),
        )
    case.status, case.published_at, case.published_by_id = "published", utcnow(), actor.id
    case.version += 1
    session.add(case)
    audit.record(session, actor, "lessons.case_published", "lessons_case", case.id, match=match_id)
    twinning.move_match(
        session=session,
        actor=actor,
        match=match,
        status="completed",
        note=twinning.COMPLETED_BY_LESSONS,
    )
    return case


@dataclass(frozen=True)
class CaseView:
    """A published case with the twinning it comes from."""

    id: int
    match_id: int
    practice_id: int
    practice: str
    adopter: str
    adopter_country: str
    originator: str
    originator_country: str
    parts: dict[str, str]
    published_at: datetime | None


def _published(session: Session, *conditions) -> list[CaseView]:
    query = (
        twinning.with_both_sides(
            sa_select(
                LessonsCase,
                Practice.id,
                Practice.title,
                twinning.ADOPTER.name,
                TwinningNeed.country,
                twinning.ORIGINATOR.name,
                twinning.ORIGINATOR.country,
            ).join(TwinningMatch, TwinningMatch.id == LessonsCase.match_id)
        )
        .where(LessonsCase.status == "published", *conditions)
        .order_by(col(LessonsCase.published_at).desc(), col(LessonsCase.id).desc())
    )
    return [
        CaseView(
            id=case.id,
            match_id=case.match_id,
            practice_id=practice_id,
            practice=title,
            adopter=adopter_name,
            adopter_country=adopter_country,
            originator=originator_name,
            originator_country=originator_country,
            parts={part: getattr(case, part) for part in LESSONS_PARTS},
            published_at=case.published_at,
        )
        for (
            case,
            practice_id,
            title,
            adopter_name,
            adopter_country,
            originator_name,
            originator_country,
        ) in session.execute(query).all()
    ]


def published_cases(*, session: Session, text: str = "") -> list[CaseView]:
    """Published cases, newest first, whose words, practice or organisations contain every
    word of `text`."""
    conditions = [
        or_(
            *(
                col(getattr(LessonsCase, part)).icontains(word, autoescape=True)
                for part in LESSONS_PARTS
            ),
            col(Practice.title).icontains(word, autoescape=True),
            twinning.ADOPTER.name.icontains(word, autoescape=True),
            twinning.ORIGINATOR.name.icontains(word, autoescape=True),
        )
        for word in text.split()[:10]
    ]
    return _published(session, *conditions)


def published_case(*, session: Session, case_id: int) -> CaseView | None:
    """One published case (None for a draft or an unknown id)."""
    found = _published(session, LessonsCase.id == case_id)
    return found[0] if found else None


def cases_of_practice(*, session: Session, practice_id: int) -> list[CaseView]:
    """The published cases of the twinnings that transferred a practice."""
    return _published(session, Practice.id == practice_id)
