"""A small world for twinning-call tests: a coordinator, adopters with needs, an originator
with practices, and a published call open around a fixed instant."""

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, delete, select

from dhu_core import db
from dhu_core.calls import calls
from dhu_core.models import (
    Call,
    CallApplication,
    CallAssignment,
    CallAward,
    CallConsensus,
    CallCreate,
    CallScore,
    Organisation,
    Practice,
    TwinningNeed,
    User,
)
from tests.people import account

#: The instant the tests' call closes; tests pass `now` around it.
CLOSES = datetime(2026, 12, 15, 17, 0, tzinfo=UTC)
OPENS = CLOSES - timedelta(days=30)
BEFORE = CLOSES - timedelta(days=1)
AFTER = CLOSES + timedelta(seconds=1)


def call_data(**changes) -> CallCreate:
    """A call for adopters in Denmark and Portugal, of services and apps of maturity 3 or more."""
    values = {
        "title": "Twinning for remote monitoring",
        "description": "Ten places for adopters of remote patient monitoring services.",
        "countries": ["DK", "PT"],
        "practice_types": ["service", "app"],
        "min_maturity": 3,
        "places": 10,
        "grant_per_place": 15000,
        "opens_at": OPENS,
        "closes_at": CLOSES,
        "criteria": [
            {"name": "Fit of the practice to the need", "weight": 3, "guidance": "1 to 5"},
            {"name": "Feasibility of the work plan", "weight": 2},
        ],
    }
    return CallCreate(**{**values, **changes})


def organisation(session: Session, name: str, country: str) -> int:
    found = Organisation(name=name, country=country)
    session.add(found)
    session.flush()
    return found.id


def practice(session: Session, organisation_id: int, title: str, kind="service", maturity=4):
    found = Practice(
        title=title,
        summary="A practice ready to be taken up elsewhere.",
        practice_type=kind,
        maturity=maturity,
        status="published",
        owner_organisation_id=organisation_id,
    )
    session.add(found)
    session.flush()
    return found.id


def need(session: Session, organisation_id: int, country: str) -> int:
    found = TwinningNeed(
        problem_statement="We need to follow heart failure patients at home after discharge.",
        country=country,
        organisation_id=organisation_id,
    )
    session.add(found)
    session.flush()
    return found.id


def published_call(session: Session, coordinator: User, **changes) -> int:
    call = calls.create_call(session=session, actor=coordinator, data=call_data(**changes))
    calls.publish_call(session=session, actor=coordinator, call_id=call.id, now=OPENS)
    return call.id


def build(session: Session) -> dict[str, int | User]:
    """Ids of everyone and everything; accounts as User objects."""
    home = organisation(session, "Odense Hospital", "DK")
    origin = organisation(session, "Lisbon Health Lab", "PT")
    abroad = organisation(session, "Vienna Clinic", "AT")
    coordinator = account(session, "coordinator", "coordinator")
    return {
        "coordinator": coordinator,
        "admin": account(session, "admin", "admin"),
        "home": home,
        "origin": origin,
        "abroad": abroad,
        "adopter": account(session, "ane", "owner", home),
        "originator": account(session, "rui", "owner", origin),
        "foreigner": account(session, "franz", "owner", abroad),
        "need": need(session, home, "DK"),
        "foreign_need": need(session, abroad, "AT"),
        "monitoring": practice(session, origin, "Home monitoring of heart failure"),
        "policy": practice(session, origin, "Telehealth policy", kind="policy", maturity=4),
        "young": practice(session, origin, "Young app", kind="app", maturity=2),
        "call": published_call(session, coordinator),
    }


def reopen_the_award(call_id: int) -> None:
    """Take back the award of a closed call of the app's database."""
    with db.session_scope() as session:
        call = session.get(Call, call_id)
        session.exec(delete(CallAward).where(CallAward.call_id == call_id))
        call.awarded_at = None
        session.add(call)


def reopen_the_scores(application_id: int, evaluator: str) -> None:
    """Take back the award of the application's call, then the consensus and the evaluator's
    submitted scores of the application."""
    with db.session_scope() as session:
        call_id = session.get(CallApplication, application_id).call_id
    reopen_the_award(call_id)
    with db.session_scope() as session:
        evaluator_id = session.exec(select(User.id).where(User.username == evaluator)).one()
        session.exec(delete(CallConsensus).where(CallConsensus.application_id == application_id))
        session.exec(
            delete(CallScore).where(
                CallScore.application_id == application_id, CallScore.evaluator_id == evaluator_id
            )
        )
        assignment = session.get(CallAssignment, (application_id, evaluator_id))
        assignment.status, assignment.submitted_at = "assigned", None
        session.add(assignment)
