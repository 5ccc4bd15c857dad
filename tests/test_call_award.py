"""Awarding a call: the ranking with the matching score beside it, the proposal within the
places and the originators' capacity, the award as agreed twinnings and outcomes (once, after
the call closed), the decisions in every applicant's inbox and e-mail, and the exports (both
databases)."""

import csv
import io

import openpyxl
import pytest
from sqlmodel import select

from dhu_core import db, twinning
from dhu_core.accounts import PermissionDenied
from dhu_core.calls import award, exports, follow_up
from dhu_core.matching import MatchingIndex, load_needs
from dhu_core.models import (
    AuditEvent,
    CallApplicationPractice,
    CallAward,
    CallConsensus,
    CallScore,
    FieldError,
    Milestone,
    OutboxMessage,
    StateConflict,
    TwinningMatch,
)
from dhu_core.notifications import render
from tests import award_world
from tests.award_world import FORMULA, MARKUP
from tests.call_world import AFTER, BEFORE


@pytest.fixture
def world(engine):
    with db.session_scope(engine) as session:
        return award_world.build(session)


def _award(engine, world, awarded, reserve=(), actor="coordinator", now=AFTER):
    with db.session_scope(engine) as session:
        return award.award(
            session=session, actor=world[actor], call_id=world["award_call"],
            awarded=awarded, reserve=list(reserve), now=now,
        )  # fmt: skip


def _ranking(engine, world, actor="coordinator"):
    with db.read_scope(engine) as session:
        return award.ranking(session=session, actor=world[actor], call_id=world["award_call"])


def test_the_ranking_orders_by_consensus_with_the_matching_score_beside(engine, world):
    found = _ranking(engine, world)
    order = ["aarhus", "braga", "coimbra", "esbjerg"]
    # Braga and Coimbra tie at 80: Braga submitted first.
    assert [a.application_id for a in found.ranked] == [world[name] for name in order]
    assert [a.rank for a in found.ranked] == [1, 2, 3, 4]
    assert [a.total for a in found.ranked] == [90, 80, 80, 70]
    assert [a.application_id for a in found.unscored] == [world["faro"]]
    with db.read_scope(engine) as session:
        index = MatchingIndex.build(session)
        aarhus = found.ranked[0]
        need = load_needs(session, [aarhus.need_id])[0]
        for fit in aarhus.practices:
            assert fit.matching == index.candidate(need, fit.practice_id).score
            assert fit.free_capacity == 1
    assert {f.practice_id for f in aarhus.practices} == {world["monitoring"], world["rehab"]}


def test_the_proposal_keeps_the_places_and_the_originators_capacity(engine, world):
    with db.read_scope(engine) as session:
        proposal = award.propose(
            session=session, actor=world["coordinator"], call_id=world["award_call"]
        )
    # Monitoring has room for one: Aarhus gets rehabilitation so that Braga has a place.
    assert proposal.awarded == {
        world["aarhus"]: world["rehab"],
        world["braga"]: world["monitoring"],
    }
    assert proposal.reserve == [world["coimbra"], world["esbjerg"]]


def test_the_award_agrees_twinnings_and_records_every_outcome(engine, world):
    with db.session_scope(engine) as session:
        # A suggested match of the pair is reused, not duplicated.
        need_id = (
            award.ranking(session=session, actor=world["coordinator"], call_id=world["award_call"])
            .ranked[1]
            .need_id
        )
        session.add(TwinningMatch(need_id=need_id, practice_id=world["monitoring"], score=0.5))
    with db.session_scope(engine) as session:
        award.award_proposal(
            session=session, actor=world["coordinator"], call_id=world["award_call"], now=AFTER
        )
    with db.read_scope(engine) as session:
        outcomes = {a.application_id: a for a in session.exec(select(CallAward)).all()}
        matches = session.exec(select(TwinningMatch).order_by(TwinningMatch.id)).all()
        events = session.exec(select(AuditEvent.action)).all()
    assert {a: o.outcome for a, o in outcomes.items()} == {
        world["aarhus"]: "awarded", world["braga"]: "awarded", world["coimbra"]: "reserve",
        world["esbjerg"]: "reserve", world["faro"]: "not-awarded",
    }  # fmt: skip
    assert outcomes[world["coimbra"]].reserve_position == 1
    assert outcomes[world["esbjerg"]].reserve_position == 2
    assert outcomes[world["faro"]].rank is None
    braga = outcomes[world["braga"]]
    assert (braga.rank, braga.grant, braga.practice_id) == (2, 15000, world["monitoring"])
    assert len(matches) == 2 and all(m.status == "agreed" for m in matches)
    assert braga.match_id == matches[0].id and braga.match_id is not None
    assert {m.id for m in matches} == {o.match_id for o in outcomes.values() if o.match_id}
    assert events.count("call.awarded") == 1
    assert events.count("call.application_decided") == 5
    with db.read_scope(engine) as session:
        assert session.get(CallAward, world["aarhus"]).call_id == world["award_call"]


def test_each_awarded_twinning_starts_its_work_plan_and_tells_its_pair_once(engine, world):
    with db.session_scope(engine) as session:
        award.award_proposal(
            session=session, actor=world["coordinator"], call_id=world["award_call"], now=AFTER
        )
    with db.read_scope(engine) as session:
        match_ids = session.exec(select(TwinningMatch.id)).all()
        plans = {
            m: {
                x.kind: x.due_on
                for x in session.exec(select(Milestone).where(Milestone.match_id == m))
            }
            for m in match_ids
        }
        told = session.exec(
            select(OutboxMessage.recipient, OutboxMessage.context).where(
                OutboxMessage.kind == "twinning-status"
            )
        ).all()
    start = AFTER.date()
    expected = {k: follow_up.add_months(start, n) for k, n in follow_up.DEFAULT_MONTHS.items()}
    assert len(plans) == 2 and all(plan == expected for plan in plans.values())
    # The pair hears of the agreement once, not of the shortlisting on the way.
    assert told and {context["status"] for _, context in told} == {"agreed"}
    pairs = [(context["match_id"], recipient) for recipient, context in told]
    assert len(pairs) == len(set(pairs)) and {m for m, _ in pairs} == set(match_ids)


def test_the_award_waits_for_the_close_and_happens_once(engine, world):
    with pytest.raises(StateConflict, match="open until"):
        _award(engine, world, {world["aarhus"]: world["rehab"]}, now=BEFORE)
    _award(engine, world, {world["aarhus"]: world["rehab"]})
    with pytest.raises(StateConflict, match="awarded by coordinator"):
        _award(engine, world, {world["braga"]: world["monitoring"]})


def test_a_consensus_changed_since_the_ranking_was_read_stops_the_award(engine, world):
    seen = _ranking(engine, world).versions()
    with db.session_scope(engine) as session:
        consensus = session.get(CallConsensus, world["esbjerg"])
        consensus.total, consensus.version = 95, consensus.version + 1
        session.add(consensus)
    with (
        pytest.raises(StateConflict, match="consensus score changed"),
        db.session_scope(engine) as session,
    ):
        award.award(
            session=session, actor=world["coordinator"], call_id=world["award_call"],
            awarded={world["aarhus"]: world["rehab"]}, reserve=[], expected=seen, now=AFTER,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (
            {"aarhus": "rehab", "braga": "monitoring", "coimbra": "rehab"},
            "This call has 2 places",
        ),
        ({"aarhus": "monitoring", "braga": "monitoring"}, "has room for 1 more twinning"),
        ({"braga": "rehab"}, "confirmed taking part"),
        ({"faro": "rehab"}, "not yet scored: Faro"),
    ],
)
def test_an_award_out_of_bounds_is_refused(engine, world, pairs, message):
    awarded = {world[a]: world[p] for a, p in pairs.items()}
    with pytest.raises(FieldError, match=message):
        _award(engine, world, awarded)
    with db.read_scope(engine) as session:
        assert not session.exec(select(CallAward)).all()


def test_a_declined_practice_is_not_awarded(engine, world):
    with db.session_scope(engine) as session:
        row = session.get(CallApplicationPractice, (world["aarhus"], world["monitoring"]))
        row.status = "declined"
        session.add(row)
    with pytest.raises(FieldError, match="Aarhus: award one of the practices"):
        _award(engine, world, {world["aarhus"]: world["monitoring"]})


def test_owners_and_evaluators_neither_rank_award_nor_export(engine, world):
    for actor in ("aarhus_member", "evaluator", "originator"):
        with pytest.raises(PermissionDenied):
            _ranking(engine, world, actor)
        with pytest.raises(PermissionDenied):
            _award(engine, world, {world["aarhus"]: world["rehab"]}, actor=actor)
        with db.read_scope(engine) as session, pytest.raises(PermissionDenied):
            exports.export(
                session=session, actor=world[actor], call_id=world["award_call"],
                table="awards", fmt="csv",
            )  # fmt: skip


def test_every_applicant_gets_its_decision_with_scores_and_escaped_comments(engine, world):
    with db.session_scope(engine) as session:
        award.award_proposal(
            session=session, actor=world["coordinator"], call_id=world["award_call"], now=AFTER
        )
    with db.read_scope(engine) as session:
        messages = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "call-decision")
        ).all()
        decided = award.decisions(session=session, actor=world["esbjerg_member"])
        others = award.decisions(session=session, actor=world["originator"])
    assert sorted(m.recipient for m in messages) == sorted(
        f"{name}@example.org" for name in ("aarhus", "braga", "coimbra", "esbjerg", "faro")
    )
    assert others == []
    (esbjerg,) = decided
    assert (esbjerg.outcome, esbjerg.rank, esbjerg.reserve_position) == ("reserve", 4, 2)
    assert esbjerg.total == 70 and esbjerg.comment == MARKUP
    assert [(s.criterion, s.score, s.comment) for s in esbjerg.scores] == [
        ("Fit of the practice to the need", 4, FORMULA),
        ("Feasibility of the work plan", 3, MARKUP),
    ]
    message = next(m for m in messages if m.recipient == "esbjerg@example.org")
    mail = render.render(
        message.kind, message.context, url="https://dhu.example", unsubscribe_url=None
    )
    assert "Reserve list" in mail.subject
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert "number 2 on the reserve list" in mail.text and MARKUP in mail.text


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_exports_hold_every_row_and_keep_formulas_inert(engine, world):
    with db.session_scope(engine) as session:
        session.add(
            CallScore(
                application_id=world["aarhus"], evaluator_id=world["evaluator"].id,
                criterion="Fit of the practice to the need", score=5, comment=FORMULA,
            )
        )  # fmt: skip
    with db.session_scope(engine) as session:
        award.award_proposal(
            session=session, actor=world["coordinator"], call_id=world["award_call"], now=AFTER
        )

    def export(table, fmt="csv"):
        with db.session_scope(engine) as session:
            return exports.export(
                session=session, actor=world["coordinator"], call_id=world["award_call"],
                table=table, fmt=fmt,
            )  # fmt: skip

    applications = _rows(export("applications"))
    assert len(applications) == 5 and applications[0]["consensus_total"] == "90.0"
    scores = _rows(export("scores"))
    by_evaluator = [row for row in scores if row["source"] == "eva"]
    assert by_evaluator == [
        {"application_id": str(world["aarhus"]), "organisation": "Aarhus", "source": "eva",
         "criterion": "Fit of the practice to the need", "score": "5", "comment": "'" + FORMULA}
    ]  # fmt: skip
    # Four consensus: two criteria and the total each.
    assert sum(row["source"] == exports.CONSENSUS for row in scores) == 12
    awards = _rows(export("awards"))
    assert [row["outcome"] for row in awards].count("awarded") == 2 and len(awards) == 5
    sheet = openpyxl.load_workbook(io.BytesIO(export("scores", "xlsx")))["scores"]
    formulas = [c for row in sheet.iter_rows() for c in row if c.value == FORMULA]
    assert formulas and all(c.data_type == "s" and c.quotePrefix for c in formulas)
    with db.read_scope(engine) as session:
        exported = session.exec(
            select(AuditEvent).where(AuditEvent.action == "call.exported")
        ).all()
    assert len(exported) == 4


def _promote(engine, world, application, practice):
    with db.session_scope(engine) as session:
        return award.promote(
            session=session, actor=world["coordinator"], call_id=world["award_call"],
            application_id=world[application], practice_id=world[practice],
        ).outcome  # fmt: skip


def test_a_declined_twinning_frees_its_place_for_the_reserve_list(engine, world):
    with db.session_scope(engine) as session:
        award.award_proposal(
            session=session, actor=world["coordinator"], call_id=world["award_call"], now=AFTER
        )
    with pytest.raises(StateConflict, match="Every place of this call is taken"):
        _promote(engine, world, "coimbra", "rehab")
    with db.session_scope(engine) as session:
        aarhus = session.get(CallAward, world["aarhus"])
        twinning.set_match_status(
            session=session, actor=world["coordinator"], match_id=aarhus.match_id,
            status="declined", note="The adopter withdrew.",
        )  # fmt: skip
    with pytest.raises(StateConflict, match="was just awarded"):
        _promote(engine, world, "braga", "monitoring")
    assert _promote(engine, world, "coimbra", "rehab") == "awarded"
    with db.read_scope(engine) as session:
        esbjerg = session.get(CallAward, world["esbjerg"])
        coimbra = session.get(CallAward, world["coimbra"])
        match = session.get(TwinningMatch, coimbra.match_id)
        plan = session.exec(select(Milestone).where(Milestone.match_id == match.id)).all()
        told = session.exec(
            select(OutboxMessage.context)
            .where(
                OutboxMessage.kind == "call-decision",
                OutboxMessage.recipient == "coimbra@example.org",
            )
            .order_by(OutboxMessage.id)  # in the order they were written (PostgreSQL keeps none)
        ).all()
    assert (esbjerg.outcome, esbjerg.reserve_position) == ("reserve", 1)
    assert (coimbra.reserve_position, coimbra.grant, match.status) == (None, 15000, "agreed")
    assert len(plan) == len(follow_up.DEFAULT_MONTHS)  # the promoted twinning's work plan
    assert [context["outcome"] for context in told] == ["Reserve list", "Awarded"]
