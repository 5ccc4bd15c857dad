"""AppTest of the evaluation pages on the embedded demo database: an evaluator's list, the score
form checked per criterion and kept as a draft, then submitted; an application not assigned
refused; the coordinators' evaluation section of the closed demo call."""

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dhu_core import db
from dhu_core.models import (
    CallConsensus,
    CallScore,
)
from dhu_core.text import md_escape
from tests import call_world
from tests.apptest import APP, click, sign_in

RELEVANCE = "Relevance of the practice to the need"


@pytest.fixture
def app(embedded_app) -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


def _open(at: AppTest, application_id: int | None = None) -> AppTest:
    at.query_params.clear()
    if application_id is not None:
        at.query_params["application"] = str(application_id)
    at.switch_page("app_pages/evaluation.py").run()
    assert not at.exception
    return at


def test_an_evaluator_scores_an_assigned_application(app):
    sign_in(app, "demo-evaluator")
    _open(app)
    linked = [
        p.proto.query_string for p in app.get("page_link") if "application=" in p.proto.query_string
    ]
    assert linked == ["application=1", "application=2", "application=3"]
    _open(app, 1)
    assert any("settled" in i.value for i in app.info)
    call_world.reopen_the_scores(1, "demo-evaluator")
    _open(app, 1)
    assert "Chosen practices" in [h.value for h in app.subheader]
    app.number_input(key="eval-1-score-0").set_value(4)
    app.text_area(key="eval-1-comment-1").input("The plan needs a budget.")
    click(app, "Submit the scores")
    messages = [e.value for e in app.error]
    assert any(m.startswith("Please correct 3 fields") for m in messages), messages
    assert f"Explain the score of “{RELEVANCE}” in a comment" in messages
    click(app, "Save draft")
    assert any("“Readiness of the adopter” a score" in e.value for e in app.error)
    app.number_input(key="eval-1-score-1").set_value(3)
    app.number_input(key="eval-1-score-2").set_value(2)
    for number in (0, 2):
        app.text_area(key=f"eval-1-comment-{number}").input("Convincing enough.")
    click(app, "Submit the scores")
    assert "submitted" in app.success[0].value
    with db.read_scope() as session:
        scores = session.exec(
            select(CallScore.score)
            .where(CallScore.application_id == 1)
            .order_by(CallScore.criterion)
        ).all()
    assert len(scores) == 6
    _open(app, 5)
    assert "not assigned to you" in app.warning[0].value
    for page in ("home", "calls", "account"):
        app.query_params.clear()
        app.switch_page(f"app_pages/{page}.py").run()
        assert not app.exception and not app.warning, page


def test_a_coordinator_sees_the_evaluation_of_the_closed_call(app):
    call_world.reopen_the_scores(2, "demo-evaluator")
    sign_in(app, "demo-coordinator")
    app.query_params.clear()
    app.query_params["call"] = "1"
    app.switch_page("app_pages/calls.py").run()
    assert not app.exception
    assert "Evaluation" in [h.value for h in app.subheader]
    shown = "\n".join(m.value for m in app.markdown)
    assert "Consensus" in shown and "spread" in shown
    # Application 2 is open again, with one evaluator's scores submitted: no consensus yet.
    labels = {b.label for b in app.button}
    unassign = {f"Unassign {md_escape(name)}" for name in ("demo-evaluator", "demo-evaluator2")}
    assert {*unassign, "Assign"} <= labels
    assert not [b for b in app.button if b.key == "consensus-2-record"]
    app.number_input(key="consensus-1-score-0").set_value(1)
    app.button(key="consensus-1-record").click().run()
    assert not app.exception
    assert "consensus of" in app.success[0].value
    with db.read_scope() as session:
        changed = session.get(CallConsensus, 1)
    assert changed.version == 2 and changed.scores[RELEVANCE]["score"] == 1
