"""AppTest of the calls pages on the embedded demo database: the public list and a call's page,
a draft hidden from visitors, an originator confirming, an adopter's application pre-filled,
checked and kept as a draft, and a coordinator publishing."""

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dhu_core import db, twinning
from dhu_core.calls import applications, calls
from dhu_core.models import (
    AuditEvent,
    CallApplication,
    CallApplicationPractice,
    TwinningNeed,
    User,
)
from dhu_core.text import md_escape
from tests import call_world
from tests.apptest import APP, click, sign_in
from tests.call_world import call_data


@pytest.fixture
def app(embedded_app) -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


def _open(at: AppTest, call_id: int | None = None) -> AppTest:
    at.query_params.clear()
    if call_id is not None:
        at.query_params["call"] = str(call_id)
    at.switch_page("app_pages/calls.py").run()
    assert not at.exception
    return at


def _listing():
    with db.read_scope() as session:
        return calls.list_calls(session=session, actor=None)


def _user(name: str) -> User:
    with db.read_scope() as session:
        return session.exec(select(User).where(User.username == name)).one()


def _text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)


def _linked_calls(at: AppTest) -> list[str]:
    return [p.proto.query_string for p in at.get("page_link") if "call=" in p.proto.query_string]


def test_a_visitor_sees_the_calls_and_a_call_with_its_countdown_but_no_draft(app):
    listing = _listing()
    with db.session_scope() as session:
        draft = calls.create_call(
            session=session, actor=_user("demo-coordinator"), data=call_data(title="Secret plan")
        ).id
    _open(app)
    shown = _text(app)
    linked = _linked_calls(app)
    for call in (listing.open[0], listing.past[0]):
        assert f"call={call.id}" in linked
    assert "Secret plan" not in shown and f"call={draft}" not in linked
    _open(app, listing.open[0].id)
    shown = _text(app)
    assert "Closes in " in shown and f"{listing.open[0].closes_at:%H:%M} UTC" in shown
    assert "Adopters in:" in shown and "Relevance of the practice to the need" in str(
        app.dataframe[0].value
    )
    assert not [b for b in app.button if b.label == "Submit the application"]
    _open(app, draft)
    assert "no published call" in app.warning[0].value


def test_a_call_title_is_shown_as_text(app):
    with db.session_scope() as session:
        title = "**Bold** [call](javascript:alert(1)) :red[now]"
        call_id = call_world.published_call(session, _user("demo-coordinator"), title=title)
    _open(app, call_id)
    assert app.header[0].value == md_escape(title)


def test_the_originator_confirms_taking_part_in_the_app(app):
    call_id = _listing().open[0].id
    sign_in(app, "demo-owner")
    app.switch_page("app_pages/inbox.py").run()
    assert _linked_calls(app) == [f"call={call_id}"]
    _open(app, call_id)
    assert "Applications that chose your practices" in [h.value for h in app.subheader]
    click(app, "Confirm")
    assert "confirmed" in app.success[0].value
    with db.read_scope() as session:
        answers = session.exec(select(CallApplicationPractice.status)).all()
    assert "pending" not in answers


def test_an_application_is_checked_on_submission_and_kept_as_a_draft(app):
    call_id = _listing().open[0].id
    sign_in(app, "demo-owner2")
    _open(app, call_id)
    app.text_area(key=f"call-{call_id}-motivation").input("Our pilot ward starts in May.")
    click(app, "Submit the application")
    assert any("confirmed" in e.value for e in app.error)
    assert any("Please correct 1 field: Preferred practices" in e.value for e in app.error)
    with db.read_scope() as session:
        kept = session.exec(
            select(CallApplication).where(CallApplication.created_by_id == _user("demo-owner2").id)
        ).one()
    assert (kept.status, kept.motivation) == ("draft", "Our pilot ward starts in May.")
    row = _pending_row(kept.id)
    with db.session_scope() as session:
        applications.answer(
            session=session, actor=_user("demo-owner"), application_id=kept.id,
            practice_id=row.practice_id, confirm=True,
        )  # fmt: skip
    click(app, "Submit the application")
    assert "submitted" in app.success[0].value
    with db.read_scope() as session:
        assert session.get(CallApplication, kept.id).status == "submitted"


def _pending_row(application_id: int) -> CallApplicationPractice:
    with db.read_scope() as session:
        return session.exec(
            select(CallApplicationPractice).where(
                CallApplicationPractice.application_id == application_id
            )
        ).one()


def test_a_new_application_is_prefilled_with_the_suggestions_for_the_need(app):
    call_id = _listing().open[0].id
    owner = _user("demo-owner")
    with db.session_scope() as session:
        need = TwinningNeed(
            problem_statement="We want patients to book appointments and see results online.",
            country="EE",
            organisation_id=owner.organisation_id,
        )
        session.add(need)
        session.flush()
        need_id = need.id
    with db.read_scope() as session:
        best = [
            s.practice.id
            for s in twinning.suggest_practices(session=session, actor=owner, need_id=need_id)
        ]
    sign_in(app, "demo-owner")
    _open(app, call_id)
    chosen = app.multiselect(key=f"call-{call_id}-practices-{need_id}")
    assert chosen.value == best[:3]
    click(app, "Save the draft")
    assert "draft is saved" in app.success[0].value


def test_a_coordinator_publishes_a_draft_from_its_page(app):
    with db.session_scope() as session:
        draft = calls.create_call(
            session=session, actor=_user("demo-coordinator"), data=call_data()
        ).id
    sign_in(app, "demo-coordinator")
    _open(app, draft)
    assert "Edit the draft" in [h.value for h in app.subheader]
    app.text_input[0].input("Twinning for home hospital care")
    click(app, "Save the draft")
    assert "draft is saved" in app.success[0].value
    click(app, "Publish the call")
    assert "published" in app.success[0].value
    with db.read_scope() as session:
        actions = session.exec(
            select(AuditEvent.action).where(
                AuditEvent.entity == "call", AuditEvent.entity_id == draft
            )
        ).all()
    assert actions == ["call.created", "call.updated", "call.published"]
    with db.read_scope() as session:
        shown = calls.get_call(session=session, actor=None, call_id=draft)
    assert shown.title == "Twinning for home hospital care" and len(shown.criteria) == 2


def test_a_coordinators_new_call_is_checked_with_messages_next_to_the_fields(app):
    sign_in(app, "demo-coordinator")
    _open(app)
    app.text_input[0].input("Call")
    click(app, "Save the draft")
    messages = [e.value for e in app.error]
    # The criteria start from the last call's (the demo's), so they need no correction.
    assert "Please correct 2 fields: Title, Description" in messages
    with db.read_scope() as session:
        assert calls.list_calls(session=session, actor=_user("demo-coordinator")).drafts == []
