"""AppTest of a call's award view (`/calls?call=ID&tab=award`) on the embedded demo database:
a coordinator sees the ranking and the proposal, is told why an award over the capacity is
refused, awards the proposal and sees the outcomes; the applicant reads its decision."""

from datetime import timedelta

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dhu_core import db, twinning
from dhu_core.calls import award
from dhu_core.models import Call, CallAward, utcnow
from tests import award_world
from tests.apptest import APP, click, sign_in
from tests.award_world import MARKUP
from tests.people import PASSWORD


@pytest.fixture
def app(embedded_app) -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


@pytest.fixture
def world(app) -> dict:
    """The award world beside the demo data, its call closed a minute ago."""
    with db.session_scope() as session:
        world = award_world.build(session)
        call = session.get(Call, world["award_call"])
        call.closes_at = utcnow() - timedelta(minutes=1)
        session.add(call)
    return world


def _open(at: AppTest, call_id: int, **extra: str) -> AppTest:
    at.query_params.clear()
    at.query_params.update({"call": str(call_id), **extra})
    at.switch_page("app_pages/calls.py").run()
    assert not at.exception
    return at


def test_a_coordinator_adjusts_and_awards_a_call(app, world):
    sign_in(app, "demo-coordinator")
    _open(app, world["award_call"])
    assert any("tab=award" in p.proto.query_string for p in app.get("page_link"))
    _open(app, world["award_call"], tab="award")
    assert app.query_params["tab"] == "award"
    ranking = app.dataframe[0].value
    assert list(ranking["Applicant"]) == ["Aarhus", "Braga", "Coimbra", "Esbjerg"]
    assert all("%" in practices for practices in ranking["Practices (matching)"])
    assert "Faro" in "\n".join(m.value for m in app.markdown)
    aarhus = app.selectbox(key=f"award-{world['award_call']}-{world['aarhus']}")
    assert aarhus.value == world["rehab"]
    aarhus.set_value(world["monitoring"]).run()
    app.checkbox(key=f"award-{world['award_call']}-sure").check().run()
    click(app, "Award the call")
    assert any("has room for 1 more twinning" in e.value for e in app.error)
    assert any("Please correct 1 field: Awarded applications" in e.value for e in app.error)
    with db.read_scope() as session:
        # Nothing awarded in this call (the demo's closed call is awarded already).
        assert not session.exec(
            select(CallAward).where(CallAward.call_id == world["award_call"])
        ).all()
    app.selectbox(key=f"award-{world['award_call']}-{world['aarhus']}").set_value(world["rehab"])
    click(app.run(), "Award the call")
    assert "every applicant has its decision" in app.success[0].value
    outcomes = app.dataframe[0].value
    assert list(outcomes["Outcome"]) == ["Awarded", "Awarded", "Reserve list", "Reserve list",
                                         "Not awarded"]  # fmt: skip
    labels = [b.label for b in app.get("download_button")]
    assert "Scores as XLSX" in labels and "Awards as CSV" in labels


def test_the_applicant_reads_its_decision_with_escaped_comments(app, world):
    with db.session_scope() as session:
        award.award_proposal(
            session=session, actor=world["coordinator"], call_id=world["award_call"]
        )
    sign_in(app, "esbjerg", PASSWORD)
    app.switch_page("app_pages/inbox.py").run()
    assert not app.exception
    shown = "\n".join(m.value for m in app.markdown)
    assert "**Reserve list** · rank 4 · number 2 on the reserve list" in shown
    assert MARKUP not in shown and "\\*\\*Strong\\*\\*" in shown
    _open(app, world["award_call"])
    on_the_call = "\n".join(m.value for m in app.markdown)
    assert "**Reserve list** · rank 4" in on_the_call and MARKUP not in on_the_call


def test_a_coordinator_gives_a_freed_place_to_the_reserve_list(app, world):
    with db.session_scope() as session:
        award.award_proposal(
            session=session, actor=world["coordinator"], call_id=world["award_call"]
        )
        aarhus = session.get(CallAward, world["aarhus"])
        twinning.set_match_status(
            session=session, actor=world["coordinator"], match_id=aarhus.match_id,
            status="declined", note="The adopter withdrew.",
        )  # fmt: skip
    sign_in(app, "demo-coordinator")
    _open(app, world["award_call"], tab="award")
    assert "Promote from the reserve list" in [h.value for h in app.subheader]
    click(app, "Give it the place")
    assert "Coimbra has the place" in app.success[0].value
    with db.read_scope() as session:
        assert session.get(CallAward, world["coimbra"]).outcome == "awarded"
    assert "Promote from the reserve list" not in [h.value for h in app.subheader]
