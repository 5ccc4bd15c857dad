"""Each change that someone should hear about writes its e-mails with it (both databases)."""

from sqlmodel import col, select

from dhu_core import db, exchange, practices, twinning
from dhu_core.models import InterestCreate, Organisation, OutboxMessage, PracticeCreate
from tests.people import account
from tests.test_organisations import _sign_up
from tests.test_twinning import new_match, new_need, team  # noqa: F401 (a fixture)

PRACTICE = dict(
    title="Home telemonitoring of heart failure",
    summary="Patients send weight and blood pressure daily; nurses call when values drift.",
    practice_type="service",
    maturity=4,
    countries=["EE"],
)


def _outbox(engine) -> list[tuple[str, str]]:
    """(kind, recipient) of every message, in order; then the outbox is emptied."""
    with db.session_scope(engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        found = [(m.kind, m.recipient) for m in rows]
        contexts = [m.context for m in rows]
        for row in rows:
            session.delete(row)
    _outbox.contexts = contexts
    return found


def test_review_news_goes_to_coordinators_and_decisions_to_the_organisation(engine):
    with db.session_scope(engine) as session:
        clinic = Organisation(name="Tartu Clinic", country="EE")
        session.add(clinic)
        session.flush()
        ann, bob = (account(session, name, "owner", clinic.id) for name in ("ann", "bob"))
        cora = account(session, "cora", "coordinator")
    with db.session_scope(engine) as session:
        practice = practices.submit_practice(
            session=session, data=PracticeCreate(**PRACTICE), actor=ann
        )
    assert _outbox(engine) == [("review-waiting", "cora@example.org")]
    assert _outbox.contexts[0]["organisation"] == "Tartu Clinic"
    with db.session_scope(engine) as session:
        practices.reject_practice(
            session=session,
            practice_id=practice.id,
            actor=cora,
            reason="Information incomplete or unclear",
            note="Add the evidence.",
        )
    assert _outbox(engine) == [
        ("practice-rejected", "ann@example.org"),
        ("practice-rejected", "bob@example.org"),
    ]
    assert _outbox.contexts[0]["reason"] == "Information incomplete or unclear. Add the evidence."
    with db.session_scope(engine) as session:
        practices.submit_practice(
            session=session, data=PracticeCreate(**PRACTICE), actor=bob, practice_id=practice.id
        )
        practices.approve_practice(session=session, practice_id=practice.id, actor=cora)
    assert [kind for kind, _ in _outbox(engine)] == [
        "review-waiting",
        "practice-approved",
        "practice-approved",
    ]
    with db.session_scope(engine) as session:
        practices.submit_practice(
            session=session,
            data=PracticeCreate(**{**PRACTICE, "maturity": 5}),
            actor=bob,
            practice_id=practice.id,
        )
    assert _outbox(engine) == [("review-waiting", "cora@example.org")]
    assert _outbox.contexts[0]["revision"] is True


def test_interest_and_twinning_news_go_to_the_organisations_concerned(engine, team):  # noqa: F811
    need_id = new_need(engine, team)
    with db.session_scope(engine) as session:
        for _ in range(2):
            twinning.express_interest(
                session=session, actor=team["owner"], need_id=need_id, practice_id=team["practice"]
            )
    assert _outbox(engine) == [("interest-received", "originator-owner@example.org")]
    with db.session_scope(engine) as session:
        exchange.express_interest(
            session=session,
            actor=team["stranger"],
            data=InterestCreate(need_id=need_id, text="We ran this for three years in Porto."),
        )
    assert _outbox(engine) == [("interest-received", "adopter-owner@example.org")]
    assert _outbox.contexts[0]["about"] == "twinning need"
    match_id = new_match(engine, team, problem_statement="We need home follow-up after surgery.")
    _outbox(engine)
    with db.session_scope(engine) as session:
        twinning.set_match_status(
            session=session, actor=team["coordinator"], match_id=match_id, status="shortlisted"
        )
    assert sorted(_outbox(engine)) == [
        ("twinning-status", "adopter-owner@example.org"),
        ("twinning-status", "originator-owner@example.org"),
    ]
    assert (_outbox.contexts[0]["old_status"], _outbox.contexts[0]["status"]) == (
        "suggested",
        "shortlisted",
    )


def test_administrators_hear_of_each_new_account(engine):
    with db.session_scope(engine) as session:
        account(session, "adam", "admin")
        session.add(Organisation(name="Porto Lab", country="PT"))
    _sign_up(engine, organisation_name="Nora's Clinic", organisation_country="PT")
    assert _outbox(engine) == [("account-needs-role", "adam@example.org")]
    assert _outbox.contexts[0]["organisation"] == "Nora's Clinic"
    assert _outbox.contexts[0]["pending"] is False
