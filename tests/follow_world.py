"""A small world for following twinnings: an agreed twinning between an adopter in Denmark and
an originator in Portugal, an outsider in Austria, a coordinator, and the text of a case."""

import json
from datetime import date
from pathlib import Path

from sqlmodel import Session, select

from dhu_core.calls import follow_up, lessons
from dhu_core.models import LessonsCase, LessonsInput, Milestone, TwinningMatch, User
from tests import call_world
from tests.people import account

#: The day the tests' work plans start; tests pass `today` around it.
START = date(2027, 1, 31)
CASE = Path(__file__).parent / "data" / "lessons_case.json"


def lessons_input() -> LessonsInput:
    """A complete lessons-learned case."""
    return LessonsInput(**json.loads(CASE.read_text(encoding="utf-8")))


def twinning(session: Session, need_id: int, practice_id: int, status: str = "agreed") -> int:
    match = TwinningMatch(need_id=need_id, practice_id=practice_id, score=0.8, status=status)
    session.add(match)
    session.flush()
    return match.id


def build(session: Session, *, planned: bool = True) -> dict[str, int | User]:
    """Ids of everyone and everything; accounts as User objects."""
    home = call_world.organisation(session, "Odense Hospital", "DK")
    origin = call_world.organisation(session, "Lisbon Health Lab", "PT")
    abroad = call_world.organisation(session, "Vienna Clinic", "AT")
    practice = call_world.practice(session, origin, "Home monitoring of heart failure")
    world = {
        "coordinator": account(session, "coordinator", "coordinator"),
        "adopter": account(session, "ane", "owner", home),
        "originator": account(session, "rui", "owner", origin),
        "outsider": account(session, "franz", "owner", abroad),
        "practice": practice,
        "match": twinning(session, call_world.need(session, home, "DK"), practice),
    }
    if planned:
        follow_up.start_work_plan(
            session=session, actor=world["coordinator"], match_id=world["match"], start=START
        )
    return world


def ready_to_publish(session: Session, actor: User, match_id: int, today: date) -> LessonsCase:
    """A planned twinning with its kick-off done, its final report in and a draft case."""
    kick_off = session.exec(
        select(Milestone).where(Milestone.match_id == match_id, Milestone.kind == "kick-off")
    ).one()
    follow_up.mark_milestone_done(
        session=session, actor=actor, milestone_id=kick_off.id, done_on=today,
        version=kick_off.version, today=today,
    )  # fmt: skip
    follow_up.upload_report(
        session=session, actor=actor, match_id=match_id, kind="final",
        filename="final.txt", content=b"Final report.",
    )  # fmt: skip
    return lessons.save_case(
        session=session, actor=actor, match_id=match_id, data=lessons_input(), version=None
    )
