"""The call world of tests/call_world.py after its call closed: one submitted application (an
adopter in Denmark with a practice of an originator in Portugal) and evaluators, some with a
conflict of interest."""

from sqlmodel import Session

from dhu_core.calls import applications
from dhu_core.models import ApplicationDraft
from tests import call_world
from tests.call_world import BEFORE
from tests.people import account


def submitted_application(session: Session, world: dict, call_id: int | None = None) -> int:
    """The adopter's application with the monitoring practice, confirmed and submitted."""
    adopter = world["adopter"]
    draft = ApplicationDraft(
        need_id=world["need"], practice_ids=[world["monitoring"]], motivation="Ready for May."
    )
    application = applications.save_application(
        session=session, actor=adopter, call_id=call_id or world["call"], data=draft, now=BEFORE
    )
    applications.answer(
        session=session, actor=world["originator"], application_id=application.id,
        practice_id=world["monitoring"], confirm=True, now=BEFORE,
    )  # fmt: skip
    applications.submit_application(
        session=session, actor=adopter, application_id=application.id, now=BEFORE
    )
    return application.id


def build(session: Session) -> dict:
    """The call world with `application` submitted and evaluators: `eva` and `otto` free of
    conflicts (no organisation; an organisation in Austria), `insider` a member of the
    originator, `neighbour` of another organisation in Portugal."""
    world = call_world.build(session)
    lisbon_too = call_world.organisation(session, "Porto Digital Health", "PT")
    return {
        **world,
        "application": submitted_application(session, world),
        "eva": account(session, "eva", "evaluator"),
        "otto": account(session, "otto", "evaluator", world["abroad"]),
        "insider": account(session, "ines", "evaluator", world["origin"]),
        "neighbour": account(session, "nuno", "evaluator", lisbon_too),
    }
