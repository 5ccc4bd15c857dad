"""Races on following a twinning, two processes released together, on SQLite and PostgreSQL:
the adopter and the originator mark the same kick-off done, and two coordinators publish the
same lessons-learned case. One wins each race, the other is told who did it first, and the
change is audited once."""

from sqlmodel import col, func, select

from dhu_core import db
from dhu_core.models import AuditEvent, Milestone, TwinningMatch
from tests import follow_world
from tests.follow_world import START
from tests.people import account

RACES = 3


def _events(engine, action: str) -> int:
    with db.read_scope(engine) as session:
        return session.scalar(select(func.count()).where(col(AuditEvent.action) == action))


def _one_won(outcomes) -> None:
    assert sorted(o.kind for o in outcomes) == ["applied", "refused"], outcomes
    loser = next(o for o in outcomes if not o.applied)
    assert loser.error == "StateConflict" and "Reload" in loser.message, loser


def test_the_pair_marks_the_same_kick_off_done_at_once(engine, racing):
    for _ in range(RACES):
        with db.session_scope(engine) as session:
            world = follow_world.build(session)
            kick_off = session.exec(
                select(Milestone).where(
                    Milestone.match_id == world["match"], Milestone.kind == "kick-off"
                )
            ).one()
        marks = [
            (
                "mark_milestone_done",
                {
                    "milestone_id": kick_off.id,
                    "actor_id": world[who].id,
                    "version": kick_off.version,
                    "done_on": START,
                },
            )  # fmt: skip
            for who in ("adopter", "originator")
        ]
        _one_won(racing.race(*marks))
        with db.read_scope(engine) as session:
            assert session.get(TwinningMatch, world["match"]).status == "in-transfer"
            assert session.get(Milestone, kick_off.id).version == kick_off.version + 1
        assert _events(engine, "follow_up.milestone_done") == 1
        assert _events(engine, "twinning.status_changed") == 1
        with db.session_scope(engine) as session:
            db.delete_all_rows(session)


def test_two_coordinators_publish_the_same_case_at_once(engine, racing):
    for _ in range(RACES):
        with db.session_scope(engine) as session:
            world = follow_world.build(session)
            match_id, adopter = world["match"], world["adopter"]
            second = account(session, "coordinator2", "coordinator")
            case = follow_world.ready_to_publish(session, adopter, match_id, START)
        publications = [
            ("publish_case", {"match_id": match_id, "actor_id": actor_id, "version": case.version})
            for actor_id in (world["coordinator"].id, second.id)
        ]
        _one_won(racing.race(*publications))
        with db.read_scope(engine) as session:
            assert session.get(TwinningMatch, match_id).status == "completed"
        assert _events(engine, "lessons.case_published") == 1
        with db.session_scope(engine) as session:
            db.delete_all_rows(session)
