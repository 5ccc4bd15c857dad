"""The deadline of a call under last-second submissions: 20 submissions in 10 races of two
processes, one just before and one at or after the closing instant (the clock is passed in, so
the instant falls between them); two awards of one call at once; on SQLite and PostgreSQL."""

from datetime import timedelta

from sqlmodel import col, func, select

from dhu_core import db
from dhu_core.calls import applications, evaluation
from dhu_core.models import (
    ApplicationDraft,
    AuditEvent,
    CallApplication,
    CallAward,
    CallConsensus,
    TwinningMatch,
)
from tests import award_world, call_world, evaluation_world
from tests.call_world import AFTER, BEFORE, CLOSES, call_data
from tests.people import account

RACES = 10


def _applications(engine, count: int) -> list[tuple[int, int]]:
    """`count` complete draft applications of as many adopters: (application, member) ids."""
    made = []
    with db.session_scope(engine) as session:
        world = call_world.build(session)
        for number in range(count):
            home = call_world.organisation(session, f"Adopter {number}", "DK")
            member = account(session, f"adopter{number}", "owner", home)
            draft = ApplicationDraft(
                need_id=call_world.need(session, home, "DK"), practice_ids=[world["monitoring"]]
            )
            application = applications.save_application(
                session=session, actor=member, call_id=world["call"], data=draft, now=BEFORE
            )
            applications.answer(
                session=session, actor=world["originator"], application_id=application.id,
                practice_id=world["monitoring"], confirm=True, now=BEFORE,
            )  # fmt: skip
            made.append((application.id, member.id))
    return made


def test_submissions_around_the_closing_instant(engine, racing):
    made = _applications(engine, 2 * RACES)
    on_time, late = [], []
    for race in range(RACES):
        (early_id, early_member), (late_id, late_member) = made[2 * race : 2 * race + 2]
        early = (
            "submit_application",
            {
                "application_id": early_id,
                "actor_id": early_member,
                "now": CLOSES - timedelta(milliseconds=race + 1),
            },
        )
        last = (
            "submit_application",
            {
                "application_id": late_id,
                "actor_id": late_member,
                "now": CLOSES + timedelta(milliseconds=race),
            },
        )
        # Which process gets the earlier clock alternates, so neither is always first.
        if race % 2:
            early_outcome, late_outcome = racing.race(early, last)
        else:
            late_outcome, early_outcome = racing.race(last, early)
        assert early_outcome.applied, early_outcome
        assert late_outcome.error == "StateConflict" and "closed" in late_outcome.message
        on_time.append(early_id)
        late.append(late_id)
    with db.read_scope(engine) as session:
        statuses = dict(session.exec(select(CallApplication.id, CallApplication.status)).all())
        submitted_events = session.scalar(
            select(func.count()).where(col(AuditEvent.action) == "call.application_submitted")
        )
    assert all(statuses[i] == "submitted" for i in on_time)
    assert all(statuses[i] == "draft" for i in late)
    assert submitted_events == RACES


def _scored(session, world: dict, application_id: int, evaluators: list, score: int) -> None:
    """The application assigned to the evaluators, who submit `score` for every criterion."""
    for evaluator in evaluators:
        evaluation.assign(
            session=session, actor=world["coordinator"], application_id=application_id,
            evaluator_id=evaluator.id, now=AFTER,
        )  # fmt: skip
        evaluation.save_scores(
            session=session, actor=evaluator, application_id=application_id, submit=True,
            marks={c.name: evaluation.Mark(score, "Fair.") for c in call_data().criteria},
            now=AFTER,
        )  # fmt: skip


def test_two_coordinators_record_one_consensus_at_a_time(engine, racing):
    """Two coordinators record the consensus of one application at once, then change it at
    once from the version both saw: each time one change applies and the other is refused."""
    names = [c.name for c in call_data().criteria]
    with db.session_scope(engine) as session:
        world = evaluation_world.build(session)
        application = world["application"]
        _scored(session, world, application, [world["eva"], world["otto"]], 3)
    for expected in (None, 1):
        outcomes = racing.race(
            *(
                (
                    "record_consensus",
                    {
                        "application_id": application,
                        "actor_id": world[who].id,
                        "scores": dict.fromkeys(names, score),
                        "expected": expected,
                        "now": AFTER,
                    },
                )
                for who, score in (("coordinator", 4), ("admin", 2))
            )
        )
        assert sorted(o.kind for o in outcomes) == ["applied", "refused"], outcomes
        refused = next(o for o in outcomes if not o.applied)
        assert refused.error == "StateConflict" and "consensus was just" in refused.message
    with db.read_scope(engine) as session:
        consensus = session.get(CallConsensus, application)
        recorded = session.scalar(
            select(func.count()).where(col(AuditEvent.action) == "call.consensus_recorded")
        )
    assert consensus.version == 2 and consensus.total in (80.0, 40.0) and recorded == 2


def test_two_coordinators_award_a_call_at_once(engine, racing):
    with db.session_scope(engine) as session:
        world = award_world.build(session)
        admin, coordinator = world["admin"].id, world["coordinator"].id
    first = {world["aarhus"]: world["rehab"], world["braga"]: world["monitoring"]}
    second = {world["aarhus"]: world["monitoring"], world["coimbra"]: world["rehab"]}
    outcomes = racing.race(
        ("award_call", {"call_id": world["award_call"], "actor_id": coordinator,
                        "awarded": first, "now": AFTER}),
        ("award_call", {"call_id": world["award_call"], "actor_id": admin,
                        "awarded": second, "now": AFTER}),
    )  # fmt: skip
    assert sorted(o.kind for o in outcomes) == ["applied", "refused"], outcomes
    refused = next(o for o in outcomes if not o.applied)
    assert refused.error == "StateConflict" and "was just awarded" in refused.message
    winner = first if outcomes[0].applied else second
    with db.read_scope(engine) as session:
        awarded = session.exec(select(CallAward).where(CallAward.outcome == "awarded")).all()
        agreed = session.exec(select(TwinningMatch).where(TwinningMatch.status == "agreed")).all()
        events = session.scalar(
            select(func.count()).where(col(AuditEvent.action) == "call.awarded")
        )
    assert {a.application_id: a.practice_id for a in awarded} == winner
    assert len(agreed) == 2 and events == 1


def test_a_consensus_recorded_while_the_call_is_awarded(engine, racing):
    """A coordinator records the consensus of the last unscored application while another
    awards the call, in several races: either the consensus is refused (the call is awarded),
    or it comes first and the award ranks by it; never an award blind to a consensus."""
    names = [c.name for c in call_data().criteria]
    for race in range(3):
        with db.session_scope(engine) as session:
            if race:
                db.delete_all_rows(session)
            world = award_world.build(session)
            faro = world["faro"]
            evaluators = [world["evaluator"], account(session, "otto", "evaluator")]
            _scored(session, world, faro, evaluators, 5)
        awarded = {world["aarhus"]: world["rehab"], world["braga"]: world["monitoring"]}
        award_outcome, scored = racing.race(
            ("award_call", {"call_id": world["award_call"], "actor_id": world["coordinator"].id,
                            "awarded": awarded, "now": AFTER}),
            ("record_consensus", {"application_id": faro, "actor_id": world["admin"].id,
                                  "scores": dict.fromkeys(names, 5), "expected": None,
                                  "now": AFTER}),
        )  # fmt: skip
        assert award_outcome.applied, award_outcome
        if not scored.applied:
            assert scored.error == "StateConflict" and "awarded" in scored.message, scored
        with db.read_scope(engine) as session:
            totals = evaluation.consensus_totals(session, world["award_call"])
            ranks = dict(session.exec(select(CallAward.application_id, CallAward.rank)).all())
        assert (faro in totals) == scored.applied
        assert ranks.get(faro) == (1 if scored.applied else None), (race, scored, ranks)
