"""A closed call of two places ready to award: five submitted applications, four with a
consensus, competing for two practices of one originator with room for one twinning each.

By consensus: Aarhus 90 (monitoring or rehabilitation), Braga 80 (monitoring), Coimbra 80
(rehabilitation, submitted after Braga), Esbjerg 70 (rehabilitation); Faro is not yet scored.
Two places: Aarhus takes rehabilitation so that Braga gets monitoring; Coimbra and Esbjerg
are the reserve list.
"""

from datetime import timedelta

from sqlmodel import Session

from dhu_core.calls import applications
from dhu_core.models import ApplicationDraft, CallConsensus, Practice, User
from tests import call_world
from tests.call_world import BEFORE
from tests.people import account

#: What an evaluator might write that a spreadsheet would run as a formula.
FORMULA = '=HYPERLINK("http://evil.example","click")'
#: A comment that Markdown or HTML would render as formatting.
MARKUP = "**Strong** plan <script>alert(1)</script> [link](http://evil.example)"


def transferable(session: Session, practice_id: int) -> None:
    practice = session.get(Practice, practice_id)
    practice.transferable, practice.transfer_capacity = True, 1
    session.add(practice)


def submitted(session: Session, world: dict, name: str, practice_ids: list[int], minutes: int):
    """An adopter (organisation, member, need) with a submitted application; its id."""
    home = call_world.organisation(session, name, "DK")
    member = account(session, name.lower(), "owner", home)
    draft = ApplicationDraft(
        need_id=call_world.need(session, home, "DK"), practice_ids=practice_ids
    )
    moment = BEFORE + timedelta(minutes=minutes)
    application = applications.save_application(
        session=session, actor=member, call_id=world["award_call"], data=draft, now=moment
    )
    for practice_id in practice_ids:
        applications.answer(
            session=session, actor=world["originator"], application_id=application.id,
            practice_id=practice_id, confirm=True, now=moment,
        )  # fmt: skip
    applications.submit_application(
        session=session, actor=member, application_id=application.id, now=moment
    )
    world[f"{name.lower()}_member"] = member
    return application.id


def consensus(session: Session, application_id: int, total: float, comment: str = "") -> None:
    """The agreed score of an application, as the evaluation writes it."""
    session.add(
        CallConsensus(
            application_id=application_id,
            total=total,
            scores={
                "Fit of the practice to the need": {"score": 4, "comment": FORMULA},
                "Feasibility of the work plan": {"score": 3, "comment": MARKUP},
            },
            comment=comment,
        )
    )


def build(session: Session) -> dict[str, int | User]:
    """The call world of tests/call_world.py with the call to award and its applications."""
    world = call_world.build(session)
    world["rehab"] = call_world.practice(session, world["origin"], "Tele-rehabilitation at home")
    for practice_id in (world["monitoring"], world["rehab"]):
        transferable(session, practice_id)
    world["evaluator"] = account(session, "eva", "evaluator")
    world["award_call"] = call_world.published_call(session, world["coordinator"], places=2)
    monitoring, rehab = world["monitoring"], world["rehab"]
    for name, chosen, minutes, total in (
        ("Aarhus", [monitoring, rehab], 1, 90),
        ("Braga", [monitoring], 2, 80),
        ("Coimbra", [rehab], 3, 80),
        ("Esbjerg", [rehab], 4, 70),
        ("Faro", [rehab], 5, None),
    ):
        world[name.lower()] = submitted(session, world, name, chosen, minutes)
        if total is not None:
            consensus(session, world[name.lower()], total, comment=MARKUP)
    return world
