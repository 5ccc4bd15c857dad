"""Evaluating the applications to a closed call: coordinators assign each submitted application
to evaluators without a conflict of interest; each evaluator scores every criterion with a
comment; coordinators see where evaluators disagree and record the agreed scores (consensus),
whose weighted total on 0-100 the award ranks by.

Every change locks the application's row first (then the assignment's), so assigning, scoring
and the consensus of one application happen one after another; the consensus also compares
the version the coordinator saw, and locks the call first, as the award does.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime
from statistics import fmean

from sqlmodel import Session, col, func, select

from dhu_core import audit, db, geo, i18n, notifications
from dhu_core.accounts import PermissionDenied, require_role
from dhu_core.calls import applications, calls
from dhu_core.i18n import _, ngettext
from dhu_core.models import (
    CONTROL_RE,
    SCORE_RANGE,
    Call,
    CallApplication,
    CallApplicationPractice,
    CallAssignment,
    CallConflict,
    CallConsensus,
    CallCriterion,
    CallScore,
    FieldError,
    Membership,
    Organisation,
    StateConflict,
    TwinningNeed,
    User,
    utcnow,
)

EVALUATOR = "evaluator"
ASSIGNED, SUBMITTED = "assigned", "submitted"
#: The fewest evaluators whose submitted scores a consensus needs.
MIN_EVALUATORS = 2
#: Evaluators' scores of one criterion this far apart (highest minus lowest) are flagged.
DISAGREEMENT_SPREAD = 2
#: The longest comment of a score or a consensus, or reason of a conflict of interest.
MAX_COMMENT = 4000


class ScoreProblems(FieldError):
    """Scores that cannot be saved: one message per criterion, shown next to it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(next(iter(errors)), " ".join(errors.values()))
        self.errors = errors


# --- the rules -----------------------------------------------------------------------------


def _text_problem(text: str) -> str | None:
    """What is wrong with a comment or a reason, if anything."""
    if CONTROL_RE.search(text):
        return _("remove the invisible control characters")
    if len(text) > MAX_COMMENT:
        return _("write at most {most} characters (there are {count})").format(
            most=i18n.format_number(MAX_COMMENT), count=i18n.format_number(len(text))
        )
    return None


def _checked_text(text: str, field_name: str) -> str:
    """`text` without surrounding blanks; FieldError on `field_name` when it is unfit."""
    text = (text or "").replace("\r\n", "\n").strip()
    if problem := _text_problem(text):
        raise FieldError(field_name, problem)
    return text


def _closed_call(session: Session, call_id: int, moment: datetime, *, lock: bool = False) -> Call:
    return calls.closed_call(
        session, call_id, moment, lock=lock,
        then=_("its applications are evaluated after it closes"),
    )  # fmt: skip


def _not_awarded(call: Call) -> None:
    """StateConflict once the call is awarded: its evaluation is settled."""
    if call.awarded_at is not None:
        raise StateConflict(_("This call is awarded: its evaluation is settled."))


def _locked_application(session: Session, application_id: int) -> CallApplication:
    application = db.get_for_update(session, CallApplication, application_id)
    if application is None:
        raise LookupError(_("no application with id {id}").format(id=application_id))
    return application


def _organisation_of(session: Session, account_id: int) -> Organisation | None:
    """The organisation an account is an active member of, if any."""
    return session.exec(
        select(Organisation)
        .join(Membership, col(Membership.organisation_id) == Organisation.id)
        .where(Membership.account_id == account_id, Membership.status == "active")
    ).first()


def conflict_of_interest(
    session: Session, call: Call, application: CallApplication, evaluator_id: int
) -> str | None:
    """Why the evaluator may not evaluate the application, or None when they may: a declared
    conflict; their organisation applies or originates a chosen practice; or, when the call
    says so, their organisation is in the adopter's or an originator's country."""
    declared = session.get(CallConflict, (application.id, evaluator_id))
    if declared is not None:
        return _("they declared a conflict of interest")
    own = _organisation_of(session, evaluator_id)
    if own is None:
        return None
    involved = {application.organisation_id} | set(
        session.exec(
            select(CallApplicationPractice.organisation_id).where(
                CallApplicationPractice.application_id == application.id
            )
        ).all()
    )
    if own.id in involved:
        return _("their organisation is the applicant or the originator of a chosen practice")
    if call.exclude_same_country:
        countries = set(
            session.exec(select(Organisation.country).where(col(Organisation.id).in_(involved)))
        )
        if own.country in countries:
            return _(
                "their organisation is in {country}, a country of the application, and this "
                "call excludes evaluators from those countries"
            ).format(country=geo.country_name(own.country))
    return None


def _consensus_recorded(session: Session, application_id: int) -> None:
    """StateConflict once the application's consensus is recorded: its evaluation is settled."""
    if session.get(CallConsensus, application_id) is not None:
        raise StateConflict(
            _(
                "The consensus of this application is recorded: its evaluators and scores are "
                "settled."
            )
        )


# --- assigning -----------------------------------------------------------------------------


def assign(
    *,
    session: Session,
    actor: User,
    application_id: int,
    evaluator_id: int,
    now: datetime | None = None,
) -> CallAssignment:
    """Give a submitted application of a closed call to an evaluator without a conflict of
    interest (coordinators and administrators); the evaluator is told by e-mail."""
    require_role(actor, *calls.COORDINATORS)
    moment = now or utcnow()
    application = _locked_application(session, application_id)
    call = _closed_call(session, application.call_id, moment)
    _not_awarded(call)
    if application.status != "submitted":
        raise FieldError("application", _("Only submitted applications are evaluated."))
    evaluator = session.get(User, evaluator_id)
    if evaluator is None or evaluator.role != EVALUATOR or evaluator.disabled:
        raise FieldError("evaluator_id", _("Choose an enabled account with the evaluator role."))
    if reason := conflict_of_interest(session, call, application, evaluator_id):
        raise FieldError(
            "evaluator_id",
            _("{name} cannot evaluate this application: {reason}.").format(
                name=evaluator.username, reason=reason
            ),
        )
    _consensus_recorded(session, application.id)
    if session.get(CallAssignment, (application.id, evaluator_id)) is not None:
        raise FieldError(
            "evaluator_id", _("{name} is assigned already.").format(name=evaluator.username)
        )
    assignment = CallAssignment(
        application_id=application.id, evaluator_id=evaluator_id, assigned_by_id=actor.id,
        assigned_at=moment,
    )  # fmt: skip
    session.add(assignment)
    audit.record(
        session, actor, "call.evaluator_assigned", "call_application", application.id,
        evaluator=evaluator_id,
    )  # fmt: skip
    notifications.enqueue(
        session,
        kind="call-assignment",
        to=[evaluator],
        context={
            "call_title": call.title,
            "application_id": application.id,
            "adopter": session.get(Organisation, application.organisation_id).name,
        },
        dedupe_key=f"call-assignment:{application.id}:{evaluator_id}",
    )
    return assignment


def unassign(*, session: Session, actor: User, application_id: int, evaluator_id: int) -> None:
    """Take an application back from an evaluator, with their scores (coordinators and
    administrators), until its consensus is recorded."""
    require_role(actor, *calls.COORDINATORS)
    application = _locked_application(session, application_id)
    _consensus_recorded(session, application.id)
    assignment = db.get_for_update(session, CallAssignment, (application.id, evaluator_id))
    if assignment is None:
        raise audit.conflict(
            session, "call_application", application.id, "This evaluator", "unassigned"
        )
    _drop(session, assignment)
    audit.record(
        session, actor, "call.evaluator_unassigned", "call_application", application.id,
        evaluator=evaluator_id,
    )  # fmt: skip


def _drop(session: Session, assignment: CallAssignment) -> None:
    """Delete an assignment and the evaluator's scores of the application."""
    for score in _scores(session, assignment.application_id, assignment.evaluator_id):
        session.delete(score)
    session.delete(assignment)


def _scores(session: Session, application_id: int, evaluator_id: int) -> list[CallScore]:
    return list(
        session.exec(
            select(CallScore).where(
                CallScore.application_id == application_id, CallScore.evaluator_id == evaluator_id
            )
        ).all()
    )


def declare_conflict(*, session: Session, actor: User, application_id: int, reason: str) -> None:
    """An evaluator declares a conflict of interest on an application assigned to them: it is
    taken back with their scores, and they never see it again; coordinators see the reason."""
    require_role(actor, EVALUATOR)
    reason = _checked_text(reason, "reason")
    if not reason:
        raise FieldError("reason", _("say what the conflict of interest is"))
    application = _locked_application(session, application_id)
    _consensus_recorded(session, application.id)
    assignment = db.get_for_update(session, CallAssignment, (application.id, actor.id))
    if assignment is None:
        raise PermissionDenied(_("This application is not assigned to you."))
    _drop(session, assignment)
    session.add(CallConflict(application_id=application.id, evaluator_id=actor.id, reason=reason))
    audit.record(
        session, actor, "call.conflict_declared", "call_application", application.id,
        reason=reason,
    )  # fmt: skip


@dataclass(frozen=True)
class Evaluator:
    """An evaluator as the assignment controls show them, with the reason they may not
    evaluate an application, if any."""

    id: int
    username: str
    conflict: str | None


def evaluators(*, session: Session, actor: User, application_id: int) -> list[Evaluator]:
    """Every enabled evaluator and their conflict of interest with the application, if any
    (coordinators and administrators), for the assignment controls."""
    require_role(actor, *calls.COORDINATORS)
    application = session.get(CallApplication, application_id)
    if application is None:
        raise LookupError(_("no application with id {id}").format(id=application_id))
    call = session.get(Call, application.call_id)
    found = session.exec(
        select(User)
        .where(User.role == EVALUATOR, col(User.disabled).is_(False))
        .order_by(col(User.username))
    ).all()
    return [
        Evaluator(user.id, user.username, conflict_of_interest(session, call, application, user.id))
        for user in found
    ]


# --- what an evaluator sees and does --------------------------------------------------------


@dataclass(frozen=True)
class Assigned:
    """An application in an evaluator's list."""

    application_id: int
    call_id: int
    call_title: str
    organisation: str
    status: str
    scored: int
    criteria: int


def my_assignments(*, session: Session, actor: User) -> list[Assigned]:
    """The applications assigned to the evaluator, those still to score first."""
    require_role(actor, EVALUATOR)
    rows = session.execute(
        select(CallAssignment, CallApplication, Call, Organisation.name)
        .join(CallApplication, CallApplication.id == CallAssignment.application_id)
        .join(Call, Call.id == CallApplication.call_id)
        .join(Organisation, Organisation.id == CallApplication.organisation_id)
        .where(CallAssignment.evaluator_id == actor.id)
        .order_by(col(CallAssignment.status), col(Call.closes_at), col(CallApplication.id))
    ).all()
    return [
        Assigned(
            application.id,
            call.id,
            call.title,
            organisation,
            assignment.status,
            len(_scores(session, application.id, actor.id)),
            len(call.criteria),
        )
        for assignment, application, call, organisation in rows
        if conflict_of_interest(session, call, application, actor.id) is None
    ]


@dataclass(frozen=True)
class Mark:
    """A score and its comment."""

    score: int | None
    comment: str


@dataclass(frozen=True)
class EvaluationSheet:
    """An assigned application as its evaluator scores it."""

    call_id: int
    call_title: str
    application: applications.ApplicationView
    adopter_country: str
    need: str
    criteria: list[CallCriterion]
    status: str
    marks: dict[str, Mark]
    #: The consensus is recorded: the scores are settled.
    settled: bool


def _assignment_of(session: Session, actor: User, application_id: int):
    """The application and call of the actor's assignment; PermissionDenied unless assigned
    to this evaluator without a conflict."""
    require_role(actor, EVALUATOR)
    application = session.get(CallApplication, application_id)
    assignment = application and session.get(CallAssignment, (application.id, actor.id))
    if assignment is None:
        raise PermissionDenied(_("This application is not assigned to you."))
    call = session.get(Call, application.call_id)
    if conflict_of_interest(session, call, application, actor.id) is not None:
        raise PermissionDenied(_("You have a conflict of interest with this application."))
    return application, call, assignment


def open_application(*, session: Session, actor: User, application_id: int) -> EvaluationSheet:
    """An application assigned to the evaluator: the need, the motivation, the chosen
    practices with their originators' answers, the criteria and the evaluator's scores."""
    application, call, assignment = _assignment_of(session, actor, application_id)
    return EvaluationSheet(
        call_id=call.id,
        call_title=call.title,
        application=applications.application_view(session, application),
        adopter_country=session.get(Organisation, application.organisation_id).country,
        need=session.get(TwinningNeed, application.need_id).problem_statement,
        criteria=[CallCriterion.model_validate(c) for c in call.criteria],
        status=assignment.status,
        marks={
            s.criterion: Mark(s.score, s.comment)
            for s in _scores(session, application.id, actor.id)
        },
        settled=session.get(CallConsensus, application.id) is not None,
    )


def _checked(criteria: list[dict], marks: dict[str, Mark], *, complete: bool) -> dict[str, Mark]:
    """The marks of the call's criteria, whole scores in SCORE_RANGE, with a comment when
    `complete` (every criterion then); ScoreProblems by criterion otherwise."""
    low, high = SCORE_RANGE
    problems, kept = {}, {}
    for criterion in (c["name"] for c in criteria):
        mark = marks.get(criterion, Mark(None, ""))
        comment = (mark.comment or "").replace("\r\n", "\n").strip()
        if problem := _text_problem(comment):
            problems[criterion] = _("comment on “{criterion}”: {problem}").format(
                criterion=criterion, problem=problem
            )
            continue
        give = _("give “{criterion}” a score from {low} to {high}")
        if mark.score is None:
            if complete or comment:
                problems[criterion] = give.format(criterion=criterion, low=low, high=high)
            continue
        if not _whole(mark.score):
            problems[criterion] = _("give “{criterion}” a whole score from {low} to {high}").format(
                criterion=criterion, low=low, high=high
            )
        elif not low <= mark.score <= high:
            problems[criterion] = give.format(criterion=criterion, low=low, high=high)
        elif complete and not comment:
            problems[criterion] = _("explain the score of “{criterion}” in a comment").format(
                criterion=criterion
            )
        else:
            kept[criterion] = Mark(int(mark.score), comment)
    if unknown := set(marks) - {c["name"] for c in criteria}:
        problems["form"] = _("this call has no criterion {names}").format(
            names=", ".join(sorted(unknown))
        )
    if problems:
        raise ScoreProblems(problems)
    return kept


def _whole(score: object) -> bool:
    """Whether a score is a whole number (not a boolean, text, NaN or infinity)."""
    if isinstance(score, bool) or not isinstance(score, int | float):
        return False
    return math.isfinite(score) and int(score) == score


def save_scores(
    *,
    session: Session,
    actor: User,
    application_id: int,
    marks: dict[str, Mark],
    submit: bool = False,
    now: datetime | None = None,
) -> CallAssignment:
    """Keep the evaluator's scores as a draft, or submit them when every criterion has a score
    and a comment; submitted scores are final, and nothing is scored once the consensus is
    recorded or before the call closed."""
    moment = now or utcnow()
    _assignment_of(session, actor, application_id)
    application = _locked_application(session, application_id)
    call = _closed_call(session, application.call_id, moment)
    _not_awarded(call)
    assignment = db.get_for_update(session, CallAssignment, (application.id, actor.id))
    if assignment is None:
        raise PermissionDenied(_("This application is not assigned to you."))
    _consensus_recorded(session, application.id)
    if assignment.status == SUBMITTED:
        raise StateConflict(_("You submitted your scores of this application: they are final."))
    kept = _checked(call.criteria, marks, complete=submit)
    stored = {s.criterion: s for s in _scores(session, application.id, actor.id)}
    for criterion, mark in kept.items():
        score = stored.get(criterion) or CallScore(
            application_id=application.id, evaluator_id=actor.id, criterion=criterion, score=0
        )
        score.score, score.comment, score.updated_at = mark.score, mark.comment, moment
        session.add(score)
    if submit:
        assignment.status, assignment.submitted_at = SUBMITTED, moment
        session.add(assignment)
        audit.record(
            session, actor, "call.scores_submitted", "call_application", application.id,
            scores={c: m.score for c, m in kept.items()},
        )  # fmt: skip
    return assignment


# --- disagreement and consensus ------------------------------------------------------------


@dataclass(frozen=True)
class CriterionScores:
    """The submitted scores of one criterion of an application, by evaluator."""

    criterion: str
    weight: float
    scores: dict[str, int]
    comments: dict[str, str]

    @property
    def spread(self) -> int:
        return max(self.scores.values()) - min(self.scores.values()) if self.scores else 0

    @property
    def mean(self) -> float | None:
        return fmean(self.scores.values()) if self.scores else None

    @property
    def disagreement(self) -> bool:
        return self.spread >= DISAGREEMENT_SPREAD


@dataclass(frozen=True)
class ApplicationEvaluation:
    """Where the evaluation of one submitted application stands, for coordinators."""

    application_id: int
    organisation: str
    #: Assigned evaluators' usernames and their assignment's status.
    evaluators: dict[str, str]
    #: Evaluators' usernames and the conflicts of interest they declared.
    conflicts: dict[str, str]
    criteria: list[CriterionScores]
    consensus: CallConsensus | None = None
    evaluator_ids: dict[str, int] = field(default_factory=dict)

    @property
    def submitted(self) -> int:
        return sum(status == SUBMITTED for status in self.evaluators.values())

    @property
    def needs_evaluators(self) -> bool:
        return len(self.evaluators) < MIN_EVALUATORS

    @property
    def disagreement(self) -> bool:
        return any(c.disagreement for c in self.criteria)

    @property
    def ready_for_consensus(self) -> bool:
        return self.submitted >= MIN_EVALUATORS


def call_evaluation(*, session: Session, actor: User, call_id: int) -> list[ApplicationEvaluation]:
    """Each submitted application of a call with its evaluators, their submitted scores by
    criterion (spread, mean, disagreement), declared conflicts and consensus (coordinators
    and administrators)."""
    require_role(actor, *calls.COORDINATORS)
    call = session.get(Call, call_id)
    if call is None:
        raise LookupError(_("no call with id {id}").format(id=call_id))
    found = session.execute(
        select(CallApplication, Organisation.name)
        .join(Organisation, Organisation.id == CallApplication.organisation_id)
        .where(CallApplication.call_id == call_id, CallApplication.status == "submitted")
        .order_by(col(CallApplication.id))
    ).all()
    return [_evaluation(session, call, application, name) for application, name in found]


def _evaluation(
    session: Session, call: Call, application: CallApplication, organisation: str
) -> ApplicationEvaluation:
    assigned = session.execute(
        select(CallAssignment, User.username)
        .join(User, User.id == CallAssignment.evaluator_id)
        .where(CallAssignment.application_id == application.id)
        .order_by(col(User.username))
    ).all()
    conflicts = session.execute(
        select(CallConflict.reason, User.username)
        .join(User, User.id == CallConflict.evaluator_id)
        .where(CallConflict.application_id == application.id)
        .order_by(col(User.username))
    ).all()
    submitted = session.execute(
        select(CallScore, User.username)
        .join(User, User.id == CallScore.evaluator_id)
        .join(
            CallAssignment,
            (CallAssignment.application_id == CallScore.application_id)
            & (CallAssignment.evaluator_id == CallScore.evaluator_id),
        )
        .where(CallScore.application_id == application.id, CallAssignment.status == SUBMITTED)
        .order_by(col(User.username))
    ).all()
    criteria = []
    for criterion in call.criteria:
        mine = [(s, name) for s, name in submitted if s.criterion == criterion["name"]]
        criteria.append(
            CriterionScores(
                criterion["name"],
                criterion["weight"],
                {name: s.score for s, name in mine},
                {name: s.comment for s, name in mine},
            )
        )
    return ApplicationEvaluation(
        application_id=application.id,
        organisation=organisation,
        evaluators={name: a.status for a, name in assigned},
        conflicts={name: reason for reason, name in conflicts},
        criteria=criteria,
        consensus=session.get(CallConsensus, application.id),
        evaluator_ids={name: a.evaluator_id for a, name in assigned},
    )


def weighted_total(criteria: list[dict], scores: dict[str, int]) -> float:
    """The weighted score on a 0-100 scale: sum(weight × score) / (sum(weight) × 5) × 100."""
    weights = {c["name"]: c["weight"] for c in criteria}
    best = sum(weights.values()) * SCORE_RANGE[1]
    return round(sum(weights[name] * scores[name] for name in weights) / best * 100, 2)


def record_consensus(
    *,
    session: Session,
    actor: User,
    application_id: int,
    marks: dict[str, Mark],
    comment: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> CallConsensus:
    """Record the agreed score and comment of every criterion and an overall comment
    (coordinators and administrators), once at least MIN_EVALUATORS evaluators submitted.

    `expected_version` is the version the coordinator saw (None: there was none yet); when
    someone recorded or changed it since, nothing changes and StateConflict says who did.
    """
    require_role(actor, *calls.COORDINATORS)
    moment = now or utcnow()
    found = session.get(CallApplication, application_id)
    if found is None:
        raise LookupError(_("no application with id {id}").format(id=application_id))
    # The call first, as the award locks it: a consensus is recorded before or after an award,
    # never while the award ranks by the consensus scores.
    call = _closed_call(session, found.call_id, moment, lock=True)
    application = _locked_application(session, application_id)
    _not_awarded(call)
    consensus = db.get_for_update(session, CallConsensus, application.id)
    if (consensus.version if consensus else None) != expected_version:
        raise audit.conflict(
            session, "call_application", application.id, "This application's consensus",
            "recorded" if expected_version is None else "changed",
        )  # fmt: skip
    submitted = session.scalar(
        select(func.count()).where(
            CallAssignment.application_id == application.id, CallAssignment.status == SUBMITTED
        )
    )
    if submitted < MIN_EVALUATORS:
        raise StateConflict(
            ngettext(
                "A consensus needs the scores of at least {least} evaluators; {count} submitted "
                "so far.",
                "A consensus needs the scores of at least {least} evaluators; {count} submitted "
                "so far.",
                submitted,
            ).format(least=MIN_EVALUATORS, count=submitted)
        )
    kept = _checked(call.criteria, marks, complete=True)
    comment = _checked_text(comment, "comment")
    consensus = consensus or CallConsensus(application_id=application.id, version=0)
    consensus.scores = {c: {"score": m.score, "comment": m.comment} for c, m in kept.items()}
    consensus.total = weighted_total(call.criteria, {c: m.score for c, m in kept.items()})
    consensus.comment = comment
    consensus.decided_by_id, consensus.decided_at = actor.id, moment
    consensus.version += 1
    session.add(consensus)
    audit.record(
        session, actor, "call.consensus_recorded", "call_application", application.id,
        total=consensus.total, version=consensus.version,
    )  # fmt: skip
    return consensus


def consensus_totals(session: Session, call_id: int) -> dict[int, float]:
    """The consensus total (0-100) of each application of the call that has one, by id."""
    return dict(
        session.execute(
            select(CallConsensus.application_id, CallConsensus.total)
            .join(CallApplication, CallApplication.id == CallConsensus.application_id)
            .where(CallApplication.call_id == call_id)
        ).all()
    )
