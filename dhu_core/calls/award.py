"""Awarding a closed call: the ranking by consensus score with the platform's matching score
beside it, the proposed award within the places and the originators' free capacity, the
coordinator's award (once, under the call's lock) and every applicant's decision.

The proposal takes the applications in rank order and keeps one when it and those kept before
can all still get a confirmed practice with free capacity (`matching.allocate` tells); the
sets it can keep form a matroid, so this is the best set in rank order. Then `allocate` picks
each kept application's practice, the best matching scores first.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from dhu_core import audit, db, notifications, organisations, twinning
from dhu_core.accounts import require_role
from dhu_core.calls import calls, follow_up
from dhu_core.calls.applications import CONFIRMED
from dhu_core.i18n import N_, _, ngettext
from dhu_core.matching import MatchingIndex, allocate, load_needs, load_practices
from dhu_core.models import (
    Call,
    CallApplication,
    CallApplicationPractice,
    CallAward,
    CallConsensus,
    FieldError,
    Organisation,
    Practice,
    StateConflict,
    TwinningMatch,
    User,
    in_utc,
    utcnow,
)

AWARDED, RESERVE, NOT_AWARDED = "awarded", "reserve", "not-awarded"
#: The outcomes in words, in English as stored and told; a page shows them with `_()`.
OUTCOME_LABELS = {
    AWARDED: N_("Awarded"),
    RESERVE: N_("Reserve list"),
    NOT_AWARDED: N_("Not awarded"),
}


@dataclass(frozen=True)
class PracticeFit:
    """A confirmed practice of an application: the platform's matching score for the need
    (None when the practice is not open for twinning) and its originator's free capacity."""

    practice_id: int
    title: str
    originator: str
    matching: float | None
    breakdown: dict[str, float]
    free_capacity: int


@dataclass(frozen=True)
class RankedApplication:
    """A submitted application with its consensus (rank and total None while unscored)."""

    application_id: int
    organisation_id: int
    organisation: str
    country: str
    need_id: int
    need: str
    submitted_at: datetime
    rank: int | None
    total: float | None
    consensus_version: int | None
    practices: list[PracticeFit]


@dataclass(frozen=True)
class Ranking:
    """The scored applications by rank, and those without a consensus yet."""

    call_id: int
    places: int
    ranked: list[RankedApplication]
    unscored: list[RankedApplication]

    def versions(self) -> dict[int, int]:
        """The consensus version of every ranked application, as the coordinator saw it."""
        return {a.application_id: a.consensus_version for a in self.ranked}


@dataclass(frozen=True)
class Proposal:
    """The proposed award: application -> practice in rank order, then the reserve list."""

    awarded: dict[int, int]
    reserve: list[int]


def ranking(
    *,
    session: Session,
    actor: User,
    call_id: int,
    index: MatchingIndex | None = None,
) -> Ranking:
    """The submitted applications by consensus total (ties: the earlier submission first, so
    ranks are positions), each with the matching score of its confirmed practices; unscored
    ones apart."""
    require_role(actor, *calls.COORDINATORS)
    call = session.get(Call, call_id)
    if call is None:
        raise LookupError(_("no call with id {id}").format(id=call_id))
    rows = session.execute(
        select(CallApplication, CallConsensus, Organisation)
        .join(Organisation, Organisation.id == CallApplication.organisation_id)
        .outerjoin(CallConsensus, CallConsensus.application_id == CallApplication.id)
        .where(CallApplication.call_id == call_id, CallApplication.status == "submitted")
        .order_by(col(CallApplication.submitted_at), col(CallApplication.id))
    ).all()
    confirmed: dict[int, list[int]] = {}
    for application_id, practice_id in session.exec(
        select(CallApplicationPractice.application_id, CallApplicationPractice.practice_id).where(
            col(CallApplicationPractice.application_id).in_([row[0].id for row in rows]),
            CallApplicationPractice.status == CONFIRMED,
        )
    ):
        confirmed.setdefault(application_id, []).append(practice_id)
    needs = {n.id: n for n in load_needs(session, [row[0].need_id for row in rows])}
    profiles = {
        p.id: p
        for p in load_practices(
            session, sorted({p for ids in confirmed.values() for p in ids}), open_only=False
        )
    }
    index = index or MatchingIndex.build(session)

    def fit(need_id: int, practice_id: int) -> PracticeFit:
        profile = profiles[practice_id]
        # The practice as it is now: the cached index may be a few seconds older.
        candidate = index.candidate(needs[need_id], practice_id, practice=profile)
        return PracticeFit(
            practice_id, profile.title, profile.organisation,
            None if candidate is None else candidate.score,
            {} if candidate is None else candidate.breakdown, profile.free_capacity,
        )  # fmt: skip

    scored = sorted(
        (row for row in rows if row[1] is not None), key=lambda row: -row[1].total
    )  # stable: equal totals keep the order of submission
    entries = []
    for rank, (application, consensus, organisation) in enumerate(
        [*scored, *(row for row in rows if row[1] is None)], start=1
    ):
        practices = [fit(application.need_id, p) for p in confirmed.get(application.id, [])]
        practices.sort(key=lambda f: (-(f.matching or 0.0), f.title))
        entries.append(
            RankedApplication(
                application_id=application.id,
                organisation_id=organisation.id,
                organisation=organisation.name,
                country=organisation.country,
                need_id=application.need_id,
                need=needs[application.need_id].problem_statement,
                submitted_at=in_utc(application.submitted_at),
                rank=rank if consensus is not None else None,
                total=None if consensus is None else consensus.total,
                consensus_version=None if consensus is None else consensus.version,
                practices=practices,
            )
        )
    return Ranking(call.id, call.places, entries[: len(scored)], entries[len(scored) :])


def propose(
    *, session: Session, actor: User, call_id: int, index: MatchingIndex | None = None
) -> Proposal:
    """The proposed award of a call: the best applications in rank order that fit the places
    and the originators' free capacity, each with a confirmed practice; the rest in reserve."""
    found = ranking(session=session, actor=actor, call_id=call_id, index=index)
    return proposal(found)


def proposal(found: Ranking) -> Proposal:
    """The proposed award of a ranking (see the module notes)."""
    fits = {a.application_id: a.practices for a in found.ranked}
    capacities = {f.practice_id: f.free_capacity for fit in fits.values() for f in fit}
    kept: list[int] = []
    for application in found.ranked:
        if len(kept) == found.places:
            break
        trial = [*kept, application.application_id]
        pairs = {(a, f.practice_id): 1.0 for a in trial for f in fits[a]}
        if len(allocate(pairs, capacities)) == len(trial):
            kept = trial
    # Any pair outweighs every score, so all kept applications get a practice.
    scores = {(a, f.practice_id): len(kept) + (f.matching or 0.0) for a in kept for f in fits[a]}
    chosen = dict(allocate(scores, capacities))
    return Proposal(
        {a: chosen[a] for a in kept},
        [a.application_id for a in found.ranked if a.application_id not in chosen],
    )


def award(
    *,
    session: Session,
    actor: User,
    call_id: int,
    awarded: Mapping[int, int],
    reserve: Sequence[int],
    expected: Mapping[int, int] | None = None,
    now: datetime | None = None,
    index: MatchingIndex | None = None,
) -> list[CallAward]:
    """Award a closed call once: `awarded` maps applications to one of their confirmed
    practices (at most the call's places, within each originator's free capacity); `reserve`
    is the reserve list in order; every other submitted application is not awarded.

    Each awarded pair becomes an agreed twinning. `expected` are the consensus versions the
    coordinator saw (`Ranking.versions`): a consensus changed since is a StateConflict.
    Every applicant organisation gets its decision.
    """
    require_role(actor, *calls.COORDINATORS)
    moment = now or utcnow()
    call = calls.closed_call(
        session, call_id, moment, then=_("it is awarded after it closes"), lock=True
    )
    if call.awarded_at is not None:
        raise audit.conflict(session, "call", call.id, "This call", "awarded")
    found = ranking(session=session, actor=actor, call_id=call_id, index=index)
    _check(found, awarded, reserve, expected)
    by_id = {a.application_id: a for a in [*found.ranked, *found.unscored]}
    _check_capacity(session, by_id, awarded)
    positions = {application_id: place for place, application_id in enumerate(reserve, 1)}
    results = []
    for application in by_id.values():
        outcome = (
            AWARDED if application.application_id in awarded
            else RESERVE if application.application_id in reserve else NOT_AWARDED
        )  # fmt: skip
        result = CallAward(
            application_id=application.application_id, call_id=call.id, outcome=outcome,
            rank=application.rank, decided_by_id=actor.id, decided_at=moment,
        )  # fmt: skip
        if outcome == AWARDED:
            _give_place(
                session, actor, call, application, result, awarded[result.application_id], moment
            )
        elif outcome == RESERVE:
            result.reserve_position = positions[application.application_id]
        session.add(result)
        results.append(result)
    call.awarded_at, call.updated_at = moment, moment
    session.add(call)
    session.flush()
    for result in results:
        audit.record(
            session, actor, "call.application_decided", "call_application",
            result.application_id, call=call.id, outcome=result.outcome, rank=result.rank,
            reserve_position=result.reserve_position, practice=result.practice_id,
            match=result.match_id,
        )  # fmt: skip
        _tell(session, call, by_id[result.application_id], result)
    audit.record(
        session, actor, "call.awarded", "call", call.id,
        awarded=list(awarded), reserve=list(reserve),
    )  # fmt: skip
    return results


def _check(
    found: Ranking,
    awarded: Mapping[int, int],
    reserve: Sequence[int],
    expected: Mapping[int, int] | None,
) -> None:
    ranked = {a.application_id: a for a in found.ranked}
    if expected is not None and found.versions() != dict(expected):
        raise StateConflict(
            _(
                "A consensus score changed since you opened the ranking. Reload the page to see "
                "the ranking as it is now."
            )
        )
    if len(awarded) > found.places:
        raise FieldError(
            "awarded",
            ngettext(
                "This call has {count} place: award at most {count}.",
                "This call has {count} places: award at most {count}.",
                found.places,
            ).format(count=found.places),
        )
    if unscored := [a.organisation for a in found.unscored if a.application_id in awarded]:
        raise FieldError(
            "awarded",
            _("Only scored applications are awarded; not yet scored: {names}.").format(
                names=_names(unscored)
            ),
        )
    for application_id, practice_id in awarded.items():
        _check_practice(ranked.get(application_id), practice_id)
    if len(set(reserve)) < len(reserve) or set(reserve) - set(ranked):
        raise FieldError(
            "reserve", _("Put each scored application at most once on the reserve list.")
        )
    if both := [ranked[a].organisation for a in reserve if a in awarded]:
        raise FieldError(
            "reserve",
            _("Awarded applications are not in reserve: {names}.").format(names=_names(both)),
        )


def _check_practice(application: RankedApplication | None, practice_id: int) -> None:
    """FieldError unless `practice_id` is a confirmed practice of the scored `application`."""
    if application is None:
        raise FieldError("awarded", _("Award only scored applications of this call."))
    if practice_id not in {f.practice_id for f in application.practices}:
        raise FieldError(
            "awarded",
            _(
                "{organisation}: award one of the practices whose originator confirmed taking "
                "part in this application."
            ).format(organisation=application.organisation),
        )


def _names(names: Sequence[str]) -> str:
    return ", ".join(names)


def _check_capacity(
    session: Session, by_id: Mapping[int, RankedApplication], awarded: Mapping[int, int]
) -> None:
    """FieldError when more awarded twinnings use a practice than its originator has room for;
    the practices stay locked, so a concurrent award elsewhere counts after this one."""
    wanted: dict[int, int] = {}
    for practice_id in awarded.values():
        wanted[practice_id] = wanted.get(practice_id, 0) + 1
    for practice_id in sorted(wanted):
        db.get_for_update(session, Practice, practice_id)
    for profile in load_practices(session, sorted(wanted), open_only=False):
        if wanted[profile.id] > profile.free_capacity:
            takers = [by_id[a].organisation for a, p in awarded.items() if p == profile.id]
            raise FieldError(
                "awarded",
                ngettext(
                    "“{title}” has room for {count} more twinning ({organisation}'s capacity); "
                    "it is awarded to {takers}: {names}.",
                    "“{title}” has room for {count} more twinnings ({organisation}'s capacity); "
                    "it is awarded to {takers}: {names}.",
                    profile.free_capacity,
                ).format(
                    title=profile.title,
                    count=profile.free_capacity,
                    organisation=profile.organisation,
                    takers=len(takers),
                    names=_names(takers),
                ),
            )


def _give_place(
    session: Session,
    actor: User,
    call: Call,
    application: RankedApplication,
    result: CallAward,
    practice_id: int,
    moment: datetime,
) -> None:
    """Award `result` a place with the practice, the grant and the agreed twinning, reusing a
    suggested or shortlisted match of the pair; the twinning's work plan starts on the day of
    the award."""
    fit = next(f for f in application.practices if f.practice_id == practice_id)
    result.outcome, result.practice_id, result.grant = AWARDED, practice_id, call.grant_per_place
    result.reserve_position = None
    try:
        match = twinning.agree(
            session=session, actor=actor, need_id=application.need_id,
            practice_id=fit.practice_id, score=fit.matching or 0.0, breakdown=fit.breakdown,
            note=f"Awarded a place in the call “{call.title}”.",
        )  # fmt: skip
    except (FieldError, StateConflict) as refusal:
        raise FieldError(
            "awarded",
            _("{organisation} with “{title}”: {refusal}").format(
                organisation=application.organisation, title=fit.title, refusal=refusal
            ),
        ) from None
    result.match_id = match.id
    follow_up.start_work_plan(
        session=session, actor=actor, match_id=match.id, start=in_utc(moment).date()
    )


def _tell(session: Session, call: Call, application: RankedApplication, result: CallAward) -> None:
    decision = _decision(session, call, result)
    notifications.enqueue(
        session,
        kind="call-decision",
        to=notifications.organisation_members(session, application.organisation_id),
        context={
            "call_id": call.id,
            "call_title": call.title,
            "outcome": decision.outcome_label,
            "rank": decision.rank or "",
            "reserve_position": decision.reserve_position or "",
            "practice_title": decision.practice or "",
            "grant": f"{decision.grant:,} {decision.currency}" if decision.grant else "",
            "total": "" if decision.total is None else f"{decision.total:.1f}",
            # The grant and the score as numbers, written in the reader's language.
            "grant_amount": decision.grant or 0,
            "currency": decision.currency,
            "total_score": decision.total,
            "scores": [
                {"criterion": s.criterion, "score": s.score, "comment": s.comment}
                for s in decision.scores
            ],
            "comment": decision.comment,
        },
        dedupe_key=f"call-decision:{application.application_id}:{result.outcome}",
    )


# --- decisions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionScore:
    """The consensus on one criterion: its score and comment."""

    criterion: str
    score: float | str
    comment: str


@dataclass(frozen=True)
class Decision:
    """An application's outcome with its consensus scores and comments, as its organisation
    reads it."""

    call_id: int
    call_title: str
    application_id: int
    organisation: str
    outcome: str
    rank: int | None
    reserve_position: int | None
    practice: str | None
    grant: int
    currency: str
    total: float | None
    scores: list[CriterionScore]
    comment: str
    decided_at: datetime

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS[self.outcome]


def _decision(session: Session, call: Call, result: CallAward) -> Decision:
    consensus = session.get(CallConsensus, result.application_id)
    application = session.get(CallApplication, result.application_id)
    given = consensus.scores if consensus is not None else {}
    order = [c["name"] for c in call.criteria] + [n for n in given if n not in _names_of(call)]
    practice = session.get(Practice, result.practice_id) if result.practice_id else None
    return Decision(
        call_id=call.id,
        call_title=call.title,
        application_id=result.application_id,
        organisation=session.get(Organisation, application.organisation_id).name,
        outcome=result.outcome,
        rank=result.rank,
        reserve_position=result.reserve_position,
        practice=None if practice is None else practice.title,
        grant=result.grant,
        currency=call.currency,
        total=None if consensus is None else consensus.total,
        scores=[
            CriterionScore(name, given[name].get("score", ""), given[name].get("comment", ""))
            for name in order
            if name in given
        ],
        comment="" if consensus is None else consensus.comment,
        decided_at=in_utc(result.decided_at),
    )


def _names_of(call: Call) -> set[str]:
    return {c["name"] for c in call.criteria}


def decisions(*, session: Session, actor: User, call_id: int | None = None) -> list[Decision]:
    """The decisions on the applications of the actor's organisation, newest first (one
    call's when `call_id` is given)."""
    require_role(actor)
    organisation_id = organisations.acting_organisation(session, actor)
    if organisation_id is None:
        return []
    query = (
        select(CallAward, Call)
        .join(CallApplication, CallApplication.id == CallAward.application_id)
        .join(Call, Call.id == CallAward.call_id)
        .where(CallApplication.organisation_id == organisation_id)
        .order_by(col(CallAward.decided_at).desc(), col(CallAward.application_id))
    )
    if call_id is not None:
        query = query.where(CallAward.call_id == call_id)
    return [_decision(session, call, result) for result, call in session.execute(query).all()]


def outcomes(*, session: Session, actor: User, call_id: int) -> list[Decision]:
    """Every decision of an awarded call: awarded, reserve, then not awarded, by rank."""
    require_role(actor, *calls.COORDINATORS)
    call = session.get(Call, call_id)
    if call is None:
        raise LookupError(_("no call with id {id}").format(id=call_id))
    found = session.exec(select(CallAward).where(CallAward.call_id == call_id)).all()
    order = {AWARDED: 0, RESERVE: 1, NOT_AWARDED: 2}
    found = sorted(found, key=lambda r: (order[r.outcome], r.rank or 10**9, r.application_id))
    return [_decision(session, call, result) for result in found]


def free_places(session: Session, call: Call) -> int:
    """The places of an awarded call not taken: an awarded twinning declined (or deleted)
    frees its place for the reserve list."""
    taken = session.exec(
        select(TwinningMatch.status)
        .join(CallAward, CallAward.match_id == TwinningMatch.id)
        .where(CallAward.call_id == call.id, CallAward.outcome == AWARDED)
    ).all()
    return call.places - sum(status != "declined" for status in taken)


def promote(
    *,
    session: Session,
    actor: User,
    call_id: int,
    application_id: int,
    practice_id: int,
    now: datetime | None = None,
    index: MatchingIndex | None = None,
) -> CallAward:
    """Give a free place of an awarded call to an application on its reserve list, with one
    of its confirmed practices; those after it on the list move up one, and it is told."""
    require_role(actor, *calls.COORDINATORS)
    call = db.get_for_update(session, Call, call_id)
    if call is None or call.awarded_at is None:
        raise StateConflict(_("This call is not awarded yet."))
    result = db.get_for_update(session, CallAward, application_id)
    if result is None or result.call_id != call.id:
        raise LookupError(_("this application has no decision in this call"))
    if result.outcome != RESERVE:
        label = OUTCOME_LABELS[result.outcome].lower()
        raise audit.conflict(session, "call_application", application_id, "This application", label)
    if free_places(session, call) <= 0:
        raise StateConflict(
            _(
                "Every place of this call is taken: a place frees up when an awarded twinning "
                "is declined."
            )
        )
    found = ranking(session=session, actor=actor, call_id=call_id, index=index)
    by_id = {a.application_id: a for a in found.ranked}
    _check_practice(by_id.get(application_id), practice_id)
    _check_capacity(session, by_id, {application_id: practice_id})
    position, moment = result.reserve_position, now or utcnow()
    _give_place(session, actor, call, by_id[application_id], result, practice_id, moment)
    result.decided_by_id, result.decided_at = actor.id, moment
    session.add(result)
    for later in session.exec(
        select(CallAward).where(
            CallAward.call_id == call.id,
            CallAward.outcome == RESERVE,
            col(CallAward.reserve_position) > position,
        )
    ):
        later.reserve_position -= 1
        session.add(later)
    session.flush()
    audit.record(
        session, actor, "call.reserve_promoted", "call_application", application_id,
        call=call.id, practice=practice_id, match=result.match_id, reserve_position=position,
    )  # fmt: skip
    _tell(session, call, by_id[application_id], result)
    return result


def award_proposal(
    *, session: Session, actor: User, call_id: int, now: datetime | None = None
) -> list[CallAward]:
    """Award a closed call as proposed, with its whole proposed reserve list (the demo)."""
    suggested = propose(session=session, actor=actor, call_id=call_id)
    return award(
        session=session, actor=actor, call_id=call_id, awarded=suggested.awarded,
        reserve=suggested.reserve, now=now,
    )  # fmt: skip
