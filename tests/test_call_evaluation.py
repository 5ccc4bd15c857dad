"""Evaluating a closed call's applications: assigning evaluators without conflicts of interest
(by organisation, by country when the call says so, declared), what an evaluator may see,
scoring and its checks, the disagreement between evaluators, the consensus and its total
(both databases)."""

import pytest
from sqlmodel import col, select

from dhu_core import db
from dhu_core.accounts import PermissionDenied
from dhu_core.calls import evaluation
from dhu_core.calls.evaluation import Mark, ScoreProblems
from dhu_core.models import (
    AuditEvent,
    Call,
    CallAssignment,
    CallScore,
    FieldError,
    OutboxMessage,
    StateConflict,
)
from tests import call_world, evaluation_world
from tests.call_world import AFTER, BEFORE

FIT, PLAN = "Fit of the practice to the need", "Feasibility of the work plan"


@pytest.fixture
def world(engine):
    with db.session_scope(engine) as session:
        return evaluation_world.build(session)


def _assign(engine, world, evaluator, actor="coordinator", now=AFTER, application=None):
    with db.session_scope(engine) as session:
        evaluation.assign(
            session=session, actor=world[actor], application_id=application or world["application"],
            evaluator_id=world[evaluator].id, now=now,
        )  # fmt: skip


def _score(engine, world, evaluator, marks, submit=True, now=AFTER):
    with db.session_scope(engine) as session:
        return evaluation.save_scores(
            session=session, actor=world[evaluator], application_id=world["application"],
            marks=marks, submit=submit, now=now,
        ).status  # fmt: skip


def _open(engine, world, who):
    with db.read_scope(engine) as session:
        return evaluation.open_application(
            session=session, actor=world[who], application_id=world["application"]
        )


def _consensus(engine, world, fit=4, plan=3, expected=None):
    with db.session_scope(engine) as session:
        return evaluation.record_consensus(
            session=session, actor=world["coordinator"], application_id=world["application"],
            marks={FIT: Mark(fit, "Agreed fit."), PLAN: Mark(plan, "Agreed plan.")},
            comment="A sound application.", expected_version=expected, now=AFTER,
        ).total  # fmt: skip


def _marks(fit, plan):
    return {FIT: Mark(fit, "The practice fits."), PLAN: Mark(plan, "The plan is clear.")}


def test_only_a_coordinator_assigns_an_evaluator_once_the_call_closed(engine, world):
    with pytest.raises(PermissionDenied):
        _assign(engine, world, "eva", actor="adopter")
    with pytest.raises(StateConflict, match="evaluated after"):
        _assign(engine, world, "eva", now=BEFORE)
    with pytest.raises(FieldError, match="evaluator role") as refused:
        _assign(engine, world, "originator")
    assert refused.value.field == "evaluator_id"
    _assign(engine, world, "eva")
    with pytest.raises(FieldError, match="assigned already"):
        _assign(engine, world, "eva")
    with db.read_scope(engine) as session:
        told = session.exec(select(OutboxMessage.recipient, OutboxMessage.kind)).all()
    assert ("eva@example.org", "call-assignment") in told


def test_nobody_evaluates_an_application_of_their_own_organisation(engine, world):
    with pytest.raises(FieldError, match="originator of a chosen practice"):
        _assign(engine, world, "insider")
    # Without the call's rule, an organisation in an applicant's country is fine.
    _assign(engine, world, "neighbour")
    with db.read_scope(engine) as session:
        listed = evaluation.evaluators(
            session=session, actor=world["coordinator"], application_id=world["application"]
        )
    assert {e.username: bool(e.conflict) for e in listed} == {
        "eva": False, "ines": True, "nuno": False, "otto": False,
    }  # fmt: skip


def test_a_call_may_exclude_evaluators_from_the_applicants_countries(engine, world):
    with db.session_scope(engine) as session:
        strict = call_world.published_call(session, world["coordinator"], exclude_same_country=True)
        application = evaluation_world.submitted_application(session, world, strict)
    with pytest.raises(FieldError, match="Portugal"):
        _assign(engine, world, "neighbour", application=application)
    _assign(engine, world, "otto", application=application)


def test_a_declared_conflict_takes_the_application_away_for_good(engine, world):
    _assign(engine, world, "eva")
    _score(engine, world, "eva", {FIT: Mark(3, "")}, submit=False)
    with db.session_scope(engine) as session, pytest.raises(FieldError, match="conflict"):
        evaluation.declare_conflict(
            session=session, actor=world["eva"], application_id=world["application"], reason=" "
        )
    with db.session_scope(engine) as session:
        evaluation.declare_conflict(
            session=session, actor=world["eva"], application_id=world["application"],
            reason="I advised the adopter last year.",
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        _open(engine, world, "eva")
    with db.read_scope(engine) as session:
        assert evaluation.my_assignments(session=session, actor=world["eva"]) == []
        (seen,) = evaluation.call_evaluation(
            session=session, actor=world["coordinator"], call_id=world["call"]
        )
    assert seen.conflicts == {"eva": "I advised the adopter last year."}
    assert seen.evaluators == {} and seen.needs_evaluators
    with pytest.raises(FieldError, match="declared a conflict"):
        _assign(engine, world, "eva")


def test_an_evaluator_sees_only_what_is_assigned_to_them(engine, world):
    _assign(engine, world, "eva")
    sheet = _open(engine, world, "eva")
    assert sheet.application.organisation == "Odense Hospital"
    assert sheet.need.startswith("We need to follow heart failure")
    assert [p.status for p in sheet.application.practices] == ["confirmed"]
    assert [c.name for c in sheet.criteria] == [FIT, PLAN] and sheet.criteria[0].guidance
    with db.read_scope(engine) as session:
        (listed,) = evaluation.my_assignments(session=session, actor=world["eva"])
    assert (listed.application_id, listed.scored, listed.criteria) == (world["application"], 0, 2)
    for who in ("otto", "adopter", "originator", "coordinator"):
        with pytest.raises(PermissionDenied):
            _open(engine, world, who)


def test_an_owner_cannot_score(engine, world):
    _assign(engine, world, "eva")
    for who in ("adopter", "originator", "otto"):
        with pytest.raises(PermissionDenied):
            _score(engine, world, who, _marks(4, 4))


def test_scores_are_kept_as_drafts_and_submitted_complete(engine, world):
    _assign(engine, world, "eva")
    with pytest.raises(ScoreProblems) as refused:
        _score(engine, world, "eva", {FIT: Mark(7, "Too high."), PLAN: Mark(None, "Why?")})
    assert set(refused.value.errors) == {FIT, PLAN}
    assert _score(engine, world, "eva", {FIT: Mark(4, "")}, submit=False) == "assigned"
    assert _open(engine, world, "eva").marks == {FIT: Mark(4, "")}
    with pytest.raises(ScoreProblems) as refused:
        _score(engine, world, "eva", {FIT: Mark(4, "")})
    assert refused.value.errors == {
        FIT: f"explain the score of “{FIT}” in a comment",
        PLAN: f"give “{PLAN}” a score from 0 to 5",
    }
    assert _score(engine, world, "eva", _marks(4, 2)) == "submitted"
    with pytest.raises(StateConflict, match="final"):
        _score(engine, world, "eva", _marks(5, 5))
    with db.read_scope(engine) as session:
        actions = session.exec(select(AuditEvent.action).order_by(col(AuditEvent.id))).all()
    assert actions[-2:] == ["call.evaluator_assigned", "call.scores_submitted"]


def test_disagreement_is_flagged_and_the_consensus_total_is_weighted(engine, world):
    for who in ("eva", "otto"):
        _assign(engine, world, who)
    _score(engine, world, "eva", _marks(5, 2))
    with pytest.raises(StateConflict, match="at least 2 evaluators"):
        _consensus(engine, world)
    _score(engine, world, "otto", _marks(2, 3))
    with db.read_scope(engine) as session:
        (seen,) = evaluation.call_evaluation(
            session=session, actor=world["coordinator"], call_id=world["call"]
        )
    fit, plan = seen.criteria
    assert fit.scores == {"eva": 5, "otto": 2} and (fit.spread, fit.mean) == (3, 3.5)
    assert fit.disagreement and not plan.disagreement and seen.disagreement
    # (3 × 4 + 2 × 3) / ((3 + 2) × 5) × 100
    assert _consensus(engine, world, 4, 3) == 72.0
    with pytest.raises(StateConflict, match="recorded"):
        _consensus(engine, world, 5, 5)
    assert _consensus(engine, world, 5, 5, expected=1) == 100.0
    with db.read_scope(engine) as session:
        assert evaluation.consensus_totals(session, world["call"]) == {world["application"]: 100}


def test_no_scoring_or_unassigning_after_the_consensus(engine, world):
    for who in ("eva", "otto", "neighbour"):
        _assign(engine, world, who)
    _score(engine, world, "eva", _marks(4, 4))
    _score(engine, world, "otto", _marks(4, 3))
    _consensus(engine, world)
    with pytest.raises(StateConflict, match="consensus of this application is recorded"):
        _score(engine, world, "neighbour", _marks(1, 1))
    with db.session_scope(engine) as session, pytest.raises(StateConflict):
        evaluation.unassign(
            session=session, actor=world["coordinator"], application_id=world["application"],
            evaluator_id=world["otto"].id,
        )  # fmt: skip


def test_unassigning_removes_the_evaluators_scores(engine, world):
    _assign(engine, world, "eva")
    _score(engine, world, "eva", {FIT: Mark(4, "")}, submit=False)
    with db.session_scope(engine) as session:
        evaluation.unassign(
            session=session, actor=world["coordinator"], application_id=world["application"],
            evaluator_id=world["eva"].id,
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        _open(engine, world, "eva")
    with db.read_scope(engine) as session:
        assert session.exec(select(CallAssignment)).all() == []
        assert session.exec(select(CallScore)).all() == []


def _declare(engine, world, who, reason):
    with db.session_scope(engine) as session:
        evaluation.declare_conflict(
            session=session, actor=world[who], application_id=world["application"], reason=reason
        )


def test_a_conflict_declared_after_the_consensus_keeps_the_scores_it_rests_on(engine, world):
    for who in ("eva", "otto"):
        _assign(engine, world, who)
        _score(engine, world, who, _marks(4, 3))
    _consensus(engine, world)
    with pytest.raises(StateConflict, match="consensus of this application is recorded"):
        _declare(engine, world, "eva", "I remembered a conflict.")
    with db.read_scope(engine) as session:
        (seen,) = evaluation.call_evaluation(
            session=session, actor=world["coordinator"], call_id=world["call"]
        )
    assert seen.evaluators == {"eva": "submitted", "otto": "submitted"} and not seen.conflicts


@pytest.mark.parametrize("score", ["4", "abc", float("nan"), float("inf"), 2.5, True])
def test_a_score_that_is_not_a_whole_number_is_refused_by_its_criterion(engine, world, score):
    _assign(engine, world, "eva")
    with pytest.raises(ScoreProblems) as refused:
        _score(engine, world, "eva", {FIT: Mark(score, "")}, submit=False)
    assert refused.value.errors == {FIT: f"give “{FIT}” a whole score from 0 to 5"}


def test_comments_and_reasons_are_bounded_plain_text(engine, world):
    long = "x" * (evaluation.MAX_COMMENT + 1)
    for who in ("eva", "otto"):
        _assign(engine, world, who)
    for comment, problem in ((long, "at most 4,000"), ("a\x1b[31mb", "control characters")):
        with pytest.raises(ScoreProblems, match=problem) as refused:
            _score(engine, world, "eva", {FIT: Mark(3, comment)}, submit=False)
        assert set(refused.value.errors) == {FIT}
        with pytest.raises(FieldError, match=problem) as refused:
            _declare(engine, world, "eva", comment)
        assert refused.value.field == "reason"
    for who in ("eva", "otto"):
        _score(engine, world, who, _marks(4, 3))
    with db.session_scope(engine) as session, pytest.raises(FieldError, match="at most") as refused:
        evaluation.record_consensus(
            session=session, actor=world["coordinator"], application_id=world["application"],
            marks=_marks(4, 3), comment=long, now=AFTER,
        )  # fmt: skip
    assert refused.value.field == "comment"
    assert _open(engine, world, "eva").marks[FIT] == Mark(4, "The practice fits.")


def test_nothing_is_assigned_or_scored_once_the_call_is_awarded(engine, world):
    _assign(engine, world, "eva")
    with db.session_scope(engine) as session:
        session.get(Call, world["call"]).awarded_at = AFTER
    with pytest.raises(StateConflict, match="awarded"):
        _assign(engine, world, "otto")
    with pytest.raises(StateConflict, match="awarded"):
        _score(engine, world, "eva", _marks(4, 4))
    assert _open(engine, world, "eva").marks == {}
