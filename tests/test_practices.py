"""Registration, drafts, revisions of published practices and moderation (both databases)."""

import pytest
from pydantic import ValidationError
from sqlmodel import select

from dhu_core import accounts, db, practices
from dhu_core.accounts import PermissionDenied
from dhu_core.models import (
    FieldError,
    Organisation,
    Practice,
    PracticeCreate,
    PracticeDraft,
    field_errors,
)


@pytest.fixture
def team(engine):
    with db.session_scope(engine) as session:
        org, other = (
            Organisation(name="Tallinn Clinic", country="EE"),
            Organisation(name="Porto Lab", country="PT"),
        )
        session.add_all([org, other])
        session.flush()

        def make(name, role, organisation):
            return accounts.create_user(
                session=session,
                username=name,
                password="Long-enough-pw-1",
                role=role,
                email=f"{name}@example.org",
                organisation_id=organisation.id,
            )

        return {
            "owner": make("owner", "owner", org),
            "colleague": make("colleague", "owner", org),
            "stranger": make("stranger", "owner", other),
            "coordinator": make("coordinator", "coordinator", other),
        }


COMPLETE = dict(
    title="Home telemonitoring of heart failure",
    summary="Patients send weight and blood pressure daily; nurses call when values drift.",
    practice_type="service",
    maturity=4,
    countries=["EE", "LV"],
    health_domains=["cardiovascular", "telehealth"],
    dhi_codes=["1.4.2"],
    standards=["fhir"],
    languages=["et", "en"],
    transferable=True,
)


def _publish(engine, team, **changes) -> int:
    with db.session_scope(engine) as session:
        practice = practices.submit_practice(
            session=session, data=PracticeCreate(**{**COMPLETE, **changes}), actor=team["owner"]
        )
        practices.approve_practice(
            session=session, practice_id=practice.id, actor=team["coordinator"]
        )
        return practice.id


def test_a_draft_needs_only_a_title_and_keeps_what_was_typed(engine, team):
    with db.session_scope(engine) as session:
        draft = practices.save_draft(
            session=session,
            data=PracticeDraft(title="Unfinished idea", standards=["FHIR"], countries=["ee"]),
            actor=team["owner"],
        )
    with db.session_scope(engine) as session:
        form = practices.practice_form(session=session, actor=team["owner"], practice_id=draft.id)
    assert (form.title, form.standards, form.countries) == ("Unfinished idea", ["fhir"], ["EE"])
    assert form.practice_type is None and form.maturity is None


def test_submitting_needs_every_required_field():
    with pytest.raises(ValidationError) as error:
        PracticeCreate(title="Unfinished idea")
    assert set(field_errors(error.value)) == {"summary", "practice_type", "maturity", "countries"}


def test_a_colleague_of_the_same_organisation_may_edit_a_stranger_may_not(engine, team):
    with db.session_scope(engine) as session:
        draft_id = practices.save_draft(
            session=session, data=PracticeDraft(title="Shared work"), actor=team["owner"]
        ).id
    with db.session_scope(engine) as session:
        practices.save_draft(
            session=session,
            practice_id=draft_id,
            data=PracticeDraft(title="Shared work, improved"),
            actor=team["colleague"],
        )
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        practices.practice_form(session=session, actor=team["stranger"], practice_id=draft_id)


def test_an_edit_of_a_published_practice_waits_for_review_while_the_old_one_stays(engine, team):
    practice_id = _publish(engine, team)
    with db.session_scope(engine) as session:
        practices.submit_practice(
            session=session,
            practice_id=practice_id,
            data=PracticeCreate(**{**COMPLETE, "title": "Telemonitoring 2.0", "maturity": 5}),
            actor=team["owner"],
        )
    shown = practices.public_practice(practice_id=practice_id, engine=engine)
    assert (shown.title, shown.maturity) == (COMPLETE["title"], 4)

    with db.session_scope(engine) as session:
        queue = practices.review_queue(session=session, actor=team["coordinator"])
        assert [(i.kind, i.proposed.title, i.current.title) for i in queue] == [
            ("edit", "Telemonitoring 2.0", COMPLETE["title"])
        ]
        mine = practices.own_practices(session=session, actor=team["owner"])
        assert mine[0].revision_pending and mine[0].status == "published"
        practices.approve_practice(
            session=session, practice_id=practice_id, actor=team["coordinator"]
        )
    shown = practices.public_practice(practice_id=practice_id, engine=engine)
    assert (shown.title, shown.maturity) == ("Telemonitoring 2.0", 5)
    assert shown.countries == ["EE", "LV"]


def test_a_rejected_edit_tells_the_owner_why_and_changes_nothing(engine, team):
    practice_id = _publish(engine, team)
    with db.session_scope(engine) as session:
        practices.submit_practice(
            session=session,
            practice_id=practice_id,
            data=PracticeCreate(**{**COMPLETE, "title": "Bad edit"}),
            actor=team["owner"],
        )
        practices.reject_practice(
            session=session,
            practice_id=practice_id,
            actor=team["coordinator"],
            reason="Information incomplete or unclear",
            note="Say what changed.",
        )
        mine = practices.own_practices(session=session, actor=team["owner"])
    assert mine[0].revision_rejection == "Information incomplete or unclear. Say what changed."
    assert (
        practices.public_practice(practice_id=practice_id, engine=engine).title
        == (COMPLETE["title"])
    )


def test_rejection_needs_a_listed_reason_and_is_kept_in_the_history(engine, team):
    with db.session_scope(engine) as session:
        practice_id = practices.submit_practice(
            session=session, data=PracticeCreate(**COMPLETE), actor=team["owner"]
        ).id
    with pytest.raises(FieldError), db.session_scope(engine) as session:
        practices.reject_practice(
            session=session, practice_id=practice_id, actor=team["coordinator"], reason="meh"
        )
    with db.session_scope(engine) as session:
        practices.reject_practice(
            session=session,
            practice_id=practice_id,
            actor=team["coordinator"],
            reason="Duplicate of an existing practice",
        )
        events = practices.history(session=session, actor=team["owner"], practice_id=practice_id)
        assert [e.action for e in events] == ["practice.submitted", "practice.rejected"]
        assert session.get(Practice, practice_id).rejection_reason == (
            "Duplicate of an existing practice"
        )
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        practices.history(session=session, actor=team["stranger"], practice_id=practice_id)


def test_unpublished_practices_are_not_public(engine, team):
    with db.session_scope(engine) as session:
        practice_id = practices.submit_practice(
            session=session, data=PracticeCreate(**COMPLETE), actor=team["owner"]
        ).id
    assert practices.public_practice(practice_id=practice_id, engine=engine) is None
    published_id = _publish(engine, team)
    shown = practices.public_practice(practice_id=published_id, engine=engine)
    assert shown.owner_organisation == "Tallinn Clinic"
    assert shown.health_domains == ["cardiovascular", "telehealth"]
    with db.session_scope(engine) as session:
        statuses = session.exec(select(Practice.status).order_by(Practice.id)).all()
    assert statuses == ["submitted", "published"]
