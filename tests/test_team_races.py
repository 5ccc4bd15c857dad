"""Races of teams and claims: two processes released together, 40 trials a pair, on SQLite
and PostgreSQL (see tests/race.py and tests/test_races.py)."""

import pytest
from sqlmodel import select

from dhu_core import db
from dhu_core.models import (
    Membership,
    Organisation,
    Practice,
    PracticeClaim,
    PracticeCountry,
    User,
)
from tests.people import account
from tests.test_races import TRIALS, Tally, _events, _load, _one_applied_and_a_clear_refusal


@pytest.fixture
def people(engine):
    """An imported practice of an organisation without members, two coordinators."""
    with db.session_scope(engine) as session:
        region = Organisation(name="Region Nord", country="DK")
        hub = Organisation(name="Coordination hub", country="BE")
        session.add_all([region, hub])
        session.flush()
        practice = Practice(
            title="Patient portal of the region",
            summary="Patients book and see their results online.",
            practice_type="service",
            maturity=3,
            status="published",
            owner_organisation_id=region.id,
        )
        session.add(practice)
        session.flush()
        session.add(PracticeCountry(practice_id=practice.id, country="DK"))
        return {
            "region": region.id,
            "practice": practice.id,
            "coordinator": account(session, "coordinator", "coordinator", hub.id).id,
            "coordinator2": account(session, "coordinator2", "coordinator", hub.id).id,
        }


def _active_members(engine, organisation_id: int) -> list[int]:
    with db.read_scope(engine) as session:
        return list(
            session.exec(
                select(Membership.account_id).where(
                    Membership.organisation_id == organisation_id, Membership.status == "active"
                )
            ).all()
        )


def test_the_two_last_members_leaving_at_once_leave_one(engine, racing, people):
    tally = Tally()
    for trial in range(TRIALS):
        with db.session_scope(engine) as session:
            team = Organisation(name=f"Team {trial}", country="DK")
            session.add(team)
            session.flush()
            first = account(session, f"first{trial}", "owner", team.id).id
            second = account(session, f"second{trial}", "owner", team.id).id
            team_id = team.id
        outcomes = racing.race(
            ("leave", {"actor_id": first, "successor_id": second}),
            ("leave", {"actor_id": second, "successor_id": first}),
        )
        tally.add(*outcomes)
        tally.check("exactly one applied", sum(o.applied for o in outcomes) == 1)
        remaining = _active_members(engine, team_id)
        tally.check("one member remains", len(remaining) == 1)
        tally.check(
            "the member who remains acts for the organisation",
            all(_load(engine, User, a).organisation_id == team_id for a in remaining),
        )
        tally.check(
            "the loser is told it is the last member",
            all("last member" in o.message for o in outcomes if not o.applied),
        )
    tally.assert_clean()


@pytest.mark.parametrize(("first", "second"), [(True, False), (True, True), (False, False)])
def test_two_coordinators_deciding_one_claim(engine, racing, people, first, second):
    tally = Tally()
    for trial in range(TRIALS):
        with db.session_scope(engine) as session:
            claimant = account(session, f"claimant{trial}")
            claim = PracticeClaim(
                practice_id=people["practice"],
                organisation_id=people["region"],
                account_id=claimant.id,
                role="Head of digital services",
            )
            session.add(claim)
            session.flush()
            claim_id, claimant_id = claim.id, claimant.id
        outcomes = racing.race(
            ("decide_claim", {"claim_id": claim_id, "actor_id": people["coordinator"],
                              "approve": first}),
            ("decide_claim", {"claim_id": claim_id, "actor_id": people["coordinator2"],
                              "approve": second}),
        )  # fmt: skip
        tally.add(*outcomes)
        _one_applied_and_a_clear_refusal(tally, outcomes)
        claim = _load(engine, PracticeClaim, claim_id)
        decisions = _events(engine, "claim", claim_id, "claim.approved", "claim.rejected")
        tally.check("decided once in the audit", len(decisions) == 1)
        memberships = [m for m in _active_members(engine, people["region"]) if m == claimant_id]
        tally.check(
            "a member exactly when approved",
            (claim.status, len(memberships)) in {("approved", 1), ("rejected", 0)},
        )
        with db.session_scope(engine) as session:  # the next trial's practice has no member
            for membership in session.exec(
                select(Membership).where(Membership.organisation_id == people["region"])
            ):
                membership.status = "left"
                session.add(membership)
    tally.assert_clean()


def test_one_account_claiming_a_practice_twice_at_once(engine, racing, people):
    tally = Tally()
    for trial in range(TRIALS):
        with db.session_scope(engine) as session:
            claimant = account(session, f"claimant{trial}").id
        task = ("make_claim", {"practice_id": people["practice"], "actor_id": claimant})
        outcomes = racing.race(task, task)
        tally.add(*outcomes)
        tally.check("exactly one applied", sum(o.applied for o in outcomes) == 1)
        tally.check(
            "the loser is told the claim waits",
            all("waiting for a coordinator" in o.message for o in outcomes if not o.applied),
        )
        with db.read_scope(engine) as session:
            open_claims = session.exec(
                select(PracticeClaim).where(PracticeClaim.account_id == claimant)
            ).all()
        tally.check("one open claim", len(open_claims) == 1)
    tally.assert_clean()
