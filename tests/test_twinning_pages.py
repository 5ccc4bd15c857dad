"""AppTest of /twinning: an owner states a need and sees ranked, explained practices; a
coordinator shortlists and agrees a pair; owners cannot change statuses."""

import json
import sqlite3

import pytest

from tests.apptest import open_app, sign_in

PROBLEM = (
    "Our hospital wants remote monitoring of heart failure patients at home, "
    "with alerts to nurses when weight or blood pressure drift."
)


@pytest.fixture
def owner(embedded_app):
    at = sign_in(open_app(), "demo-owner2")
    at.switch_page("app_pages/twinning.py").run()
    assert not at.exception
    return at


def _state_need(at) -> None:
    at.text_area(key="need_problem_statement").input(PROBLEM)
    at.selectbox(key="need_country").select("PT")
    at.multiselect(key="need_health_domains").select("cardiovascular")
    at.multiselect(key="need_languages").select("pt").select("en")
    at.button(key="FormSubmitter:need-State this need").click().run()


def test_a_need_with_errors_shows_them_next_to_the_fields(owner):
    owner.text_area(key="need_problem_statement").input("too short")
    owner.button(key="FormSubmitter:need-State this need").click().run()
    messages = [e.value.lower() for e in owner.error]
    assert any("problem statement needs at least 20 characters" in m for m in messages)
    assert "country where it will be adopted: choose the country" in messages  # names its field
    assert owner.text_area(key="need_problem_statement").value == "too short"


def test_a_corrected_field_loses_its_message_at_the_next_click(owner):
    owner.text_area(key="need_problem_statement").input("too short")
    owner.button(key="FormSubmitter:need-State this need").click().run()
    owner.text_area(key="need_problem_statement").input(PROBLEM)
    owner.button(key="FormSubmitter:need-Suggest tags from my text").click().run()
    assert not owner.exception
    messages = [e.value.lower() for e in owner.error]
    assert not any("problem statement" in m for m in messages), messages
    assert "country where it will be adopted: choose the country" in messages  # not corrected


def test_owner_states_a_need_and_sees_ranked_explained_candidates(owner, embedded_app):
    _state_need(owner)
    assert not owner.exception
    assert any("Need stated" in s.value for s in owner.success)
    with sqlite3.connect(embedded_app / "dhu.sqlite3") as conn:
        need_id = conn.execute("SELECT max(id) FROM twinning_need").fetchone()[0]
    owner.selectbox(key="own_need").select(need_id).run()
    scores = [
        float(link.label.rsplit("score ", 1)[1].rstrip("%"))
        for link in owner.get("page_link")
        if "score" in (link.label or "")
    ]
    assert len(scores) == 10
    assert scores == sorted(scores, reverse=True)
    reasons = " ".join(m.value for m in owner.markdown)
    assert "health domain" in reasons
    assert not any(b.label == "Change status" for b in owner.button)


def test_coordinator_shortlists_and_agrees_a_pair(embedded_app):
    owner = sign_in(open_app(), "demo-owner2")
    owner.switch_page("app_pages/twinning.py").run()
    _state_need(owner)

    at = sign_in(open_app(), "demo-coordinator")
    at.switch_page("app_pages/twinning.py").run()
    with sqlite3.connect(embedded_app / "dhu.sqlite3") as conn:
        need_id = conn.execute("SELECT max(id) FROM twinning_need").fetchone()[0]
    at.selectbox(key="any_need").select(need_id).run()
    shortlist = [b for b in at.button if b.label == "Shortlist"]
    shortlist[0].click().run()
    assert any("Shortlisted" in s.value for s in at.success)

    with sqlite3.connect(embedded_app / "dhu.sqlite3") as conn:
        match_id, status = conn.execute(
            "SELECT id, status FROM twinning_match WHERE need_id = ?", (need_id,)
        ).fetchone()
    assert status == "shortlisted"
    at.selectbox(key="twinning_match").select(match_id).run()
    at.selectbox(key="next_status").select("agreed")
    at.text_area(key="status_note").input("Both sides signed the letter of intent.")
    at.button(key=f"FormSubmitter:status-{match_id}-Change status").click().run()
    assert not at.exception
    with sqlite3.connect(embedded_app / "dhu.sqlite3") as conn:
        assert conn.execute(
            "SELECT status, notes FROM twinning_match WHERE id = ?", (match_id,)
        ).fetchone() == ("agreed", "Both sides signed the letter of intent.")
        actions = [
            row[0]
            for row in conn.execute(
                "SELECT action FROM audit_event WHERE entity = 'twinning_match' AND entity_id = ?",
                (match_id,),
            )
        ]
    assert actions[-2:] == ["twinning.status_changed", "twinning.status_changed"]


def test_the_form_is_empty_after_a_need_and_the_same_need_again_is_refused(owner, embedded_app):
    _state_need(owner)
    assert owner.text_area(key="need_problem_statement").value == ""
    assert owner.multiselect(key="need_health_domains").value == []
    _state_need(owner)
    errors = [e.value for e in owner.error]
    assert any("stated this need already" in e for e in errors)
    assert "Please correct 1 field: Problem statement" in errors
    assert owner.text_area(key="need_problem_statement").value == PROBLEM
    with sqlite3.connect(embedded_app / "dhu.sqlite3") as conn:
        assert conn.execute(
            "SELECT count(*) FROM twinning_need WHERE problem_statement = ?", (PROBLEM,)
        ).fetchone() == (1,)


def test_coordinators_filter_needs_from_the_url_and_the_history_speaks_plainly(embedded_app):
    owner = sign_in(open_app(), "demo-owner2")
    owner.switch_page("app_pages/twinning.py").run()
    _state_need(owner)
    with sqlite3.connect(embedded_app / "dhu.sqlite3") as conn:
        need_id = conn.execute("SELECT max(id) FROM twinning_need").fetchone()[0]
    at = sign_in(open_app(), "demo-coordinator")
    at.query_params["need_q"] = "blood pressure drift"
    at.query_params["need_country"] = "PT"
    at.switch_page("app_pages/twinning.py").run()
    assert at.selectbox(key="any_need").options == [
        at.selectbox(key="any_need").format_func(need_id)
    ]
    assert at.query_params["need"] == str(need_id)
    next(b for b in at.button if b.label == "Shortlist").click().run()
    with sqlite3.connect(embedded_app / "dhu.sqlite3") as conn:
        match_id = conn.execute(
            "SELECT id FROM twinning_match WHERE need_id = ?", (need_id,)
        ).fetchone()[0]
    at.selectbox(key="twinning_match").select(match_id).run()
    history = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "Suggested → Shortlisted: “Shortlisted from the need's ranked candidates.”" in history
    assert "twinning.status_changed" not in history and "allocation" not in history


def test_tags_suggested_from_the_words_can_be_kept_or_removed(owner, embedded_app):
    owner.text_area(key="need_problem_statement").input(PROBLEM)
    owner.multiselect(key="need_languages").select("pt")
    owner.button(key="FormSubmitter:need-Suggest tags from my text").click().run()
    assert not owner.exception

    suggested = owner.multiselect(key="need_health_domains").value
    assert "cardiovascular" in suggested
    assert owner.multiselect(key="need_languages").value == ["pt"]
    assert owner.text_area(key="need_problem_statement").value == PROBLEM
    notes = [c.value for c in owner.caption if "Suggested from your text" in c.value]
    assert any("Cardiovascular" in note for note in notes)

    owner.multiselect(key="need_health_domains").unselect("cardiovascular").select("telehealth")
    owner.selectbox(key="need_country").select("PT")
    owner.button(key="FormSubmitter:need-State this need").click().run()
    assert any("Need stated" in s.value for s in owner.success)
    with sqlite3.connect(embedded_app / "dhu.sqlite3") as conn:
        need_id = conn.execute("SELECT max(id) FROM twinning_need").fetchone()[0]
        stated = {
            code
            for (code,) in conn.execute(
                "SELECT code FROM need_tag WHERE need_id = ? AND kind = 'domain'", (need_id,)
            )
        }
        (detail,) = conn.execute(
            "SELECT detail FROM audit_event WHERE action = 'twinning.need_created' "
            "AND entity_id = ?",
            (need_id,),
        ).fetchone()
    assert stated == {*suggested, "telehealth"} - {"cardiovascular"}
    accepted = json.loads(detail)["suggested"]
    assert "cardiovascular" not in accepted.get("health_domains", [])
