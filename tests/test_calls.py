"""Twinning calls and applications: drafted, published and listed calls; applications saved,
confirmed by originators, checked and submitted before the deadline; the role checks (both
databases)."""

from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlmodel import select

from dhu_core import db
from dhu_core.accounts import PermissionDenied
from dhu_core.calls import applications, calls
from dhu_core.calls.eligibility import Ineligible
from dhu_core.models import (
    ApplicationDraft,
    AuditEvent,
    CallApplication,
    FieldError,
    OutboxMessage,
    Practice,
    StateConflict,
)
from tests import call_world
from tests.call_world import AFTER, BEFORE, CLOSES, OPENS, call_data


@pytest.fixture
def world(engine):
    with db.session_scope(engine) as session:
        return call_world.build(session)


def _save(engine, actor, call_id, need_id, practice_ids, now=BEFORE, motivation="We are ready."):
    with db.session_scope(engine) as session:
        return applications.save_application(
            session=session,
            actor=actor,
            call_id=call_id,
            data=ApplicationDraft(
                need_id=need_id, practice_ids=practice_ids, motivation=motivation
            ),
            now=now,
        ).id


def _answer(engine, actor, application_id, practice_id, confirm=True, now=BEFORE):
    with db.session_scope(engine) as session:
        applications.answer(
            session=session, actor=actor, application_id=application_id,
            practice_id=practice_id, confirm=confirm, now=now,
        )  # fmt: skip


def _submit(engine, actor, application_id, now=BEFORE):
    with db.session_scope(engine) as session:
        return applications.submit_application(
            session=session, actor=actor, application_id=application_id, now=now
        ).status


def _actions(engine, entity: str, entity_id: int) -> list[str]:
    with db.read_scope(engine) as session:
        return [
            e.action
            for e in session.exec(
                select(AuditEvent)
                .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
                .order_by(AuditEvent.id)
            )
        ]


# --- calls -------------------------------------------------------------------------------


def test_a_coordinator_drafts_edits_and_publishes_a_call(engine, world):
    with db.session_scope(engine) as session:
        call = calls.create_call(session=session, actor=world["coordinator"], data=call_data())
        call_id = call.id
    with db.read_scope(engine) as session:
        with pytest.raises(LookupError):
            calls.get_call(session=session, actor=None, call_id=call_id)
        with pytest.raises(LookupError):
            calls.get_call(session=session, actor=world["adopter"], call_id=call_id)
        assert calls.get_call(session=session, actor=world["admin"], call_id=call_id).status == (
            "draft"
        )
    with db.session_scope(engine) as session:
        calls.update_call(
            session=session, actor=world["admin"], call_id=call_id,
            data=call_data(title="Twinning for home care", places=4),
        )  # fmt: skip
        calls.publish_call(session=session, actor=world["coordinator"], call_id=call_id, now=OPENS)
    with db.read_scope(engine) as session:
        shown = calls.get_call(session=session, actor=None, call_id=call_id)
    assert (shown.title, shown.places, shown.status) == ("Twinning for home care", 4, "published")
    assert shown.closes_at == CLOSES and shown.countries == ["DK", "PT"]
    assert [c.name for c in shown.criteria] == [
        "Fit of the practice to the need", "Feasibility of the work plan",
    ]  # fmt: skip
    assert _actions(engine, "call", call_id) == ["call.created", "call.updated", "call.published"]
    with db.session_scope(engine) as session, pytest.raises(StateConflict, match="published by"):
        calls.update_call(
            session=session, actor=world["coordinator"], call_id=call_id, data=call_data()
        )


def test_only_coordinators_and_administrators_create_edit_and_publish_calls(engine, world):
    for actor in (world["adopter"], world["originator"], None):
        with db.session_scope(engine) as session, pytest.raises(PermissionDenied):
            calls.create_call(session=session, actor=actor, data=call_data())
    with db.session_scope(engine) as session:
        draft = calls.create_call(session=session, actor=world["coordinator"], data=call_data())
        draft_id = draft.id
    with db.session_scope(engine) as session, pytest.raises(PermissionDenied):
        calls.update_call(
            session=session, actor=world["adopter"], call_id=draft_id, data=call_data()
        )
    with db.session_scope(engine) as session, pytest.raises(PermissionDenied):
        calls.publish_call(session=session, actor=world["adopter"], call_id=draft_id)
    with db.read_scope(engine) as session:
        assert calls.get_call(session=session, actor=world["admin"], call_id=draft_id).status == (
            "draft"
        )


def test_a_call_is_validated_as_typed():
    with pytest.raises(ValidationError) as error:
        call_data(closes_at=OPENS - timedelta(days=1), criteria=[], countries=["XX"])
    fields = {str(e["loc"][0]) for e in error.value.errors()}
    assert {"closes_at", "criteria", "countries"} <= fields
    with pytest.raises(ValidationError, match="UTC"):
        call_data(opens_at=datetime(2026, 12, 1, 9, 0))
    with pytest.raises(ValidationError, match="EUR"):
        call_data(currency="USD")


def test_a_new_call_starts_from_the_criteria_of_the_call_drafted_last(engine, world):
    with db.session_scope(engine) as session:
        assert [c.name for c in calls.latest_criteria(session)] == [
            "Fit of the practice to the need", "Feasibility of the work plan",
        ]  # fmt: skip
        criteria = [{"name": "Cost of the transfer", "weight": 1, "guidance": "Lower is better"}]
        calls.create_call(
            session=session, actor=world["coordinator"], data=call_data(criteria=criteria)
        )
        assert [c.model_dump() for c in calls.latest_criteria(session)] == [
            {"name": "Cost of the transfer", "weight": 1.0, "guidance": "Lower is better"}
        ]


def test_the_first_call_starts_without_criteria(engine):
    with db.read_scope(engine) as session:
        assert calls.latest_criteria(session) == []


def test_the_list_puts_calls_by_phase_and_shows_drafts_to_coordinators_only(engine, world):
    with db.session_scope(engine) as session:
        coordinator = world["coordinator"]
        later = call_world.published_call(
            session, coordinator, title="A call of next year",
            opens_at=CLOSES + timedelta(days=10), closes_at=CLOSES + timedelta(days=40),
        )  # fmt: skip
        calls.create_call(session=session, actor=coordinator, data=call_data(title="Unfinished"))
    with db.read_scope(engine) as session:
        public = calls.list_calls(session=session, actor=None, now=BEFORE)
        staff = calls.list_calls(session=session, actor=world["coordinator"], now=AFTER)
    assert [c.id for c in public.open] == [world["call"]]
    assert [c.id for c in public.upcoming] == [later] and public.drafts == []
    assert [c.id for c in staff.past] == [world["call"]]
    assert [c.title for c in staff.drafts] == ["Unfinished"]


def test_the_countdown_is_in_words():
    assert calls.time_left(CLOSES, CLOSES - timedelta(days=3, hours=4, minutes=5)) == (
        "3 days and 4 hours"
    )
    assert calls.time_left(CLOSES, CLOSES - timedelta(minutes=1, seconds=5)) == (
        "1 minute and 5 seconds"
    )
    assert calls.time_left(CLOSES, CLOSES) == "closed"


# --- applications ------------------------------------------------------------------------


def test_an_application_is_saved_confirmed_by_the_originator_and_submitted(engine, world):
    application_id = _save(engine, world["adopter"], world["call"], world["need"],
                           [world["monitoring"]])  # fmt: skip
    with db.read_scope(engine) as session:
        asked = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "call-confirmation")
        ).all()
        assert [m.recipient for m in asked] == ["rui@example.org"]
        assert "Home monitoring of heart failure" in asked[0].subject
        requests = applications.confirmation_requests(
            session=session, actor=world["originator"], call_id=world["call"]
        )
    assert [(r.adopter, r.status) for r in requests] == [("Odense Hospital", "pending")]
    with pytest.raises(FieldError, match="confirmed") as waiting:
        _submit(engine, world["adopter"], application_id)
    assert waiting.value.field == "practice_ids"
    _answer(engine, world["originator"], application_id, world["monitoring"])
    assert _submit(engine, world["adopter"], application_id) == "submitted"
    with db.read_scope(engine) as session:
        view = applications.own_application(
            session=session, actor=world["adopter"], call_id=world["call"]
        )
    assert view.complete and view.status == "submitted" and view.submitted_at == BEFORE
    assert _actions(engine, "call_application", application_id) == [
        "call.application_saved", "call.practice_confirmed", "call.application_submitted",
    ]  # fmt: skip


def test_the_originators_inbox_lists_what_waits_for_its_answer_while_the_call_is_open(
    engine, world
):
    application_id = _save(engine, world["adopter"], world["call"], world["need"],
                           [world["monitoring"], world["young"]])  # fmt: skip

    def waiting(now=BEFORE):
        with db.read_scope(engine) as session:
            return [
                r.practice
                for r in applications.waiting_answers(
                    session=session, actor=world["originator"], now=now
                )
            ]

    assert waiting() == ["Home monitoring of heart failure", "Young app"]
    _answer(engine, world["originator"], application_id, world["young"], confirm=False)
    assert waiting() == ["Home monitoring of heart failure"]
    assert waiting(now=CLOSES) == []
    with db.read_scope(engine) as session:
        assert applications.waiting_answers(session=session, actor=world["adopter"]) == []


def test_a_draft_keeps_what_was_typed_and_the_answers_of_practices_still_chosen(engine, world):
    first = _save(engine, world["adopter"], world["call"], world["need"],
                  [world["monitoring"], world["young"]])  # fmt: skip
    _answer(engine, world["originator"], first, world["monitoring"])
    _answer(engine, world["originator"], first, world["young"], confirm=False)
    again = _save(engine, world["adopter"], world["call"], world["need"], [world["monitoring"]],
                  motivation="Our cardiology ward starts in March.")  # fmt: skip
    assert again == first
    with db.read_scope(engine) as session:
        view = applications.own_application(
            session=session, actor=world["adopter"], call_id=world["call"]
        )
        messages = session.exec(select(OutboxMessage)).all()
    assert view.motivation == "Our cardiology ward starts in March."
    assert [(p.title, p.status) for p in view.practices] == [
        ("Home monitoring of heart failure", "confirmed")
    ]
    assert len(messages) == 2  # one request per chosen practice, not one per save


def test_eligibility_is_checked_on_submission_with_a_message_per_field(engine, world):
    foreign = _save(engine, world["foreigner"], world["call"], world["foreign_need"],
                    [world["policy"], world["young"]])  # fmt: skip
    for practice_id in (world["policy"], world["young"]):
        _answer(engine, world["originator"], foreign, practice_id)
    with pytest.raises(Ineligible) as refused:
        _submit(engine, world["foreigner"], foreign)
    errors = refused.value.errors
    assert "Austria" in errors["organisation"] and "Denmark, Portugal" in errors["organisation"]
    assert "“Telehealth policy” is not of a type" in errors["practice_ids"]
    assert "“Young app” has maturity 2" in errors["practice_ids"]
    with db.read_scope(engine) as session:
        assert session.get(CallApplication, foreign).status == "draft"


def test_a_practice_archived_after_it_was_chosen_stops_the_submission(engine, world):
    application_id = _save(engine, world["adopter"], world["call"], world["need"],
                           [world["monitoring"]])  # fmt: skip
    _answer(engine, world["originator"], application_id, world["monitoring"])
    with db.session_scope(engine) as session:
        session.get(Practice, world["monitoring"]).status = "archived"
    with pytest.raises(FieldError, match="no longer in the catalogue: Home monitoring"):
        _submit(engine, world["adopter"], application_id)


def test_practices_are_listed_ones_of_other_organisations(engine, world):
    with db.session_scope(engine) as session:
        own = call_world.practice(session, world["home"], "Our own portal")
    with pytest.raises(FieldError, match="other organisations"):
        _save(engine, world["adopter"], world["call"], world["need"], [own])
    with pytest.raises(FieldError) as wrong_need:
        _save(engine, world["adopter"], world["call"], world["foreign_need"], [])
    assert wrong_need.value.field == "need_id"


def test_only_members_of_each_side_save_submit_and_answer(engine, world):
    application_id = _save(engine, world["adopter"], world["call"], world["need"],
                           [world["monitoring"]])  # fmt: skip
    for outsider in (world["foreigner"], world["coordinator"]):
        with pytest.raises(PermissionDenied):
            _submit(engine, outsider, application_id)
    for not_originator in (world["adopter"], world["foreigner"], world["coordinator"]):
        with pytest.raises(PermissionDenied):
            _answer(engine, not_originator, application_id, world["monitoring"])
    with pytest.raises(PermissionDenied, match="member of an organisation"):
        _save(engine, world["coordinator"], world["call"], world["need"], [])


def test_nothing_is_submitted_saved_or_answered_after_the_closing_time(engine, world):
    application_id = _save(engine, world["adopter"], world["call"], world["need"],
                           [world["monitoring"]])  # fmt: skip
    _answer(engine, world["originator"], application_id, world["monitoring"])
    with pytest.raises(StateConflict, match="closed on 15 December 2026 at 17:00 UTC"):
        _submit(engine, world["adopter"], application_id, now=CLOSES)
    assert _submit(engine, world["adopter"], application_id, now=CLOSES - timedelta(seconds=1))
    with pytest.raises(StateConflict, match="closed"):
        _save(engine, world["adopter"], world["call"], world["need"], [], now=AFTER)
    with pytest.raises(StateConflict, match="closed"):
        _answer(engine, world["originator"], application_id, world["monitoring"], False, AFTER)
    with db.read_scope(engine) as session:
        view = applications.own_application(
            session=session, actor=world["adopter"], call_id=world["call"]
        )
    assert view.status == "submitted" and view.practices[0].status == "confirmed"


def test_a_submitted_application_saved_again_before_the_deadline_is_a_draft(engine, world):
    application_id = _save(engine, world["adopter"], world["call"], world["need"],
                           [world["monitoring"]])  # fmt: skip
    _answer(engine, world["originator"], application_id, world["monitoring"])
    _submit(engine, world["adopter"], application_id)
    with pytest.raises(StateConflict, match="submitted"):
        _answer(engine, world["originator"], application_id, world["monitoring"], False)
    _save(engine, world["adopter"], world["call"], world["need"], [world["monitoring"]])
    with db.read_scope(engine) as session:
        assert session.get(CallApplication, application_id).status == "draft"
        assert [a.status for a in applications.call_applications(
            session=session, actor=world["coordinator"], call_id=world["call"]
        )] == ["draft"]  # fmt: skip
    with db.read_scope(engine) as session, pytest.raises(PermissionDenied):
        applications.call_applications(
            session=session, actor=world["adopter"], call_id=world["call"]
        )


def test_an_upcoming_call_takes_no_application_yet(engine, world):
    with pytest.raises(StateConflict, match="opens on"):
        _save(engine, world["adopter"], world["call"], world["need"], [],
              now=OPENS - timedelta(seconds=1))  # fmt: skip
