"""AppTest of the knowledge, live, quick-capture, inbox and admin pages on the demo database."""

import sqlite3

import pytest
import streamlit as st
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dhu_core import db, exchange, knowledge, live, practices
from dhu_core.changes import SCOPES
from dhu_core.config import get_settings
from dhu_core.models import (
    DigestInput,
    InterestCreate,
    PracticeCreate,
    TwinningNeed,
    User,
    utcnow,
)
from tests.apptest import APP, sign_in
from tests.test_knowledge import HOSTILE, HtmlElements


@pytest.fixture
def app(embedded_app) -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


def _user(username: str) -> User:
    with db.read_scope() as session:
        return session.exec(select(User).where(User.username == username)).one()


def _text(at: AppTest) -> str:
    """Everything the page wrote as Markdown, without the escaping backslashes."""
    parts = [part.value for part in [*at.markdown, *at.caption, *at.subheader, *at.title]]
    parts += [link.proto.label for link in at.get("page_link")]
    return "\n".join(parts).replace("\\", "")


def _html(at: AppTest) -> str:
    """The HTML of the page's content (the sidebar's own script, the language menu's, left out)."""
    return "\n".join(element.proto.body for element in at.main.get("html"))


def _expanders(at: AppTest) -> list[str]:
    """The labels of the expanders, the one holding more spotlights left out."""
    labels = [e.label.replace("\\", "") for e in at.expander]
    return [label for label in labels if not label.endswith("more spotlights")]


def _metric(at: AppTest, label: str) -> int:
    return int(next(m.value for m in at.metric if m.label == label).replace(",", ""))


def _publish(title: str) -> int:
    """Register and approve a practice through the service layer, as the demo users."""
    data = PracticeCreate(
        title=title,
        summary="A practice registered while the live view was open.",
        practice_type="app",
        maturity=3,
        countries=["EE"],
    )
    owner, coordinator = _user("demo-owner"), _user("demo-coordinator")
    with db.session_scope() as session:
        practice = practices.submit_practice(session=session, data=data, actor=owner)
        practices.approve_practice(session=session, practice_id=practice.id, actor=coordinator)
        return practice.id


# --- live --------------------------------------------------------------------------------


def test_the_live_view_shows_a_practice_published_after_it_opened(app):
    app.switch_page("app_pages/live.py").run()
    assert not app.exception
    before = _metric(app, "Published practices")

    _publish("Registered during the workshop")
    app.run()  # what the fragment's timer does every few seconds

    assert _metric(app, "Published practices") == before + 1
    assert "Registered during the workshop" in _text(app)


def test_the_live_view_draws_the_qr_code_of_the_configured_capture_url(embedded_app, monkeypatch):
    monkeypatch.setenv("DHU_PUBLIC_URL", "https://workshop.example.org/dhu/")
    get_settings.cache_clear()
    encoded = []
    real_qr_png = live.qr_png
    monkeypatch.setattr(
        live, "qr_png", lambda payload: encoded.append(payload) or real_qr_png(payload)
    )
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["every"] = "2"
    at.run().switch_page("app_pages/live.py").run()

    assert encoded == ["https://workshop.example.org/dhu/capture"]
    [qr] = at.get("image")[0].proto.imgs
    assert qr.alt.endswith(": https://workshop.example.org/dhu/capture")
    # Under the code, the address may break after "/" and "." only.
    assert "https:/<wbr>/<wbr>workshop.<wbr>example.<wbr>org/<wbr>dhu/<wbr>capture" in _html(at)
    assert "refreshes every 2 s" in _text(at)


def test_the_live_view_points_at_the_port_the_app_runs_on(embedded_app, monkeypatch):
    monkeypatch.delenv("DHU_PUBLIC_URL", raising=False)
    get_settings.cache_clear()
    encoded = []
    real_qr_png = live.qr_png
    monkeypatch.setattr(
        live, "qr_png", lambda payload: encoded.append(payload) or real_qr_png(payload)
    )
    real_option = st.get_option
    monkeypatch.setattr(
        st, "get_option", lambda name: 8765 if name == "server.port" else real_option(name)
    )
    at = AppTest.from_file(APP, default_timeout=60)
    at.run().switch_page("app_pages/live.py").run()

    # A script test has no browser to ask: the server's own port, not a constant 8501.
    assert encoded == ["http://localhost:8765/capture"]


def test_the_live_view_counts_quick_captures_of_the_last_hour(app):
    app.switch_page("app_pages/capture.py").run()
    _fill_capture(app, "Asthma coach app")
    app.button[0].click().run()
    app.switch_page("app_pages/live.py").run()
    assert _metric(app, "Captures in the last hour") == 1


# --- quick capture -----------------------------------------------------------------------


def _fill_capture(at: AppTest, title: str, email: str = "team@example.org") -> None:
    at.text_input(key="qc_title").input(title)
    at.selectbox(key="qc_country").select("EE")
    at.selectbox(key="qc_type").select("app")
    at.text_input(key="qc_email").input(email)


def test_a_capture_with_errors_keeps_what_was_typed(app, embedded_app):
    app.switch_page("app_pages/capture.py").run()
    _fill_capture(app, "Asthma coach app", email="not-an-address")
    app.button[0].click().run()

    assert any("e-mail address" in e.value for e in app.error)
    assert app.text_input(key="qc_title").value == "Asthma coach app"
    assert app.selectbox(key="qc_country").value == "EE"
    assert _count(embedded_app, CAPTURES) == 0


def test_quick_capture_allows_three_per_session_then_asks_to_wait(app, embedded_app):
    app.switch_page("app_pages/capture.py").run()
    for number in range(1, 4):
        _fill_capture(app, f"Workshop practice {number}")
        app.button[0].click().run()
        assert any("Thank you" in s.value for s in app.success)
        assert app.text_input(key="qc_title").value == ""

    _fill_capture(app, "Workshop practice 4")
    app.button[0].click().run()
    assert any("Please wait about 10 minutes" in e.value for e in app.error)
    assert app.text_input(key="qc_title").value == "Workshop practice 4"
    assert _count(embedded_app, CAPTURES) == 3


def test_a_coordinator_completes_and_publishes_a_capture(app, embedded_app):
    app.switch_page("app_pages/capture.py").run()
    _fill_capture(app, "Asthma coach app")
    app.button[0].click().run()
    assert not any(s.value == "Captures to complete" for s in app.subheader)

    at = sign_in(app, "demo-coordinator")
    at.switch_page("app_pages/capture.py").run()
    capture_id = _count(embedded_app, CAPTURES.replace("count(*)", "max(p.id)"))
    at.selectbox(key="qc_complete").set_value(capture_id).run()
    assert at.text_input(key="pf_title").value == "Asthma coach app"
    at.text_area(key="pf_summary").input("A coach in the phone helps children with asthma.")
    at.radio(key="pf_maturity").set_value(2)
    next(b for b in at.button if b.label == "Publish").click().run()

    # Its owner is asked for: next to the field, and named next to the button.
    errors = [e.value for e in at.error]
    assert "Choose the organisation that owns the practice" in errors
    assert "Please correct 1 field: Organisation" in errors
    at.radio(key="qc_owner_how").set_value("new").run()
    at.text_input(key="qc_owner_name").input("Tartu Asthma Society")
    assert at.selectbox(key="qc_owner_country").value == "EE"  # the capture's country
    next(b for b in at.button if b.label == "Publish").click().run()

    assert not at.exception
    assert any("Published: Asthma coach app" in s.value.replace("\\", "") for s in at.success)
    owner = (
        "SELECT o.name || ' ' || o.country FROM practice p "
        "JOIN organisation o ON o.id = p.owner_organisation_id "
        "WHERE p.id = ? AND p.status = 'published'"
    )
    assert _count(embedded_app, owner, capture_id) == "Tartu Asthma Society EE"


CAPTURES = (
    "SELECT count(*) FROM practice p JOIN organisation o ON o.id = p.owner_organisation_id "
    "WHERE o.name = 'Workshop captures'"
)


def _count(folder, sql: str, *parameters) -> int:
    with sqlite3.connect(folder / "dhu.sqlite3") as conn:
        return conn.execute(sql, parameters).fetchone()[0]


# --- knowledge ---------------------------------------------------------------------------


def test_visitors_see_spotlights_and_digests_and_filter_by_topic(app):
    app.switch_page("app_pages/knowledge.py").run()
    assert not app.exception
    spotlights = knowledge.spotlights()
    assert spotlights
    assert spotlights[0].title in _text(app)
    assert [t.label for t in app.tabs] == ["Digests", "Demand and supply", "Lessons from twinnings"]
    digests = knowledge.published_digests()
    assert _expanders(app) == [d.title for d in digests]

    topic = digests[-1].topics[0]
    app.selectbox(key="kn_topic").select(topic).run()
    assert _expanders(app) == [d.title for d in knowledge.published_digests(topic=topic)]
    assert app.query_params["topic"] == topic
    assert any("Sign in to see" in i.value for i in app.info)
    assert not [p for p in app.get("popover")]


def test_a_hostile_digest_is_shown_without_scripts_frames_or_handlers(app):
    coordinator = _user("demo-coordinator")
    data = DigestInput(title="Hostile digest", topics=["hostile"], body=HOSTILE)
    with db.session_scope() as session:
        digest = knowledge.save_digest(session=session, actor=coordinator, data=data)
        knowledge.publish_digest(session=session, actor=coordinator, digest_id=digest.id)

    app.query_params["topic"] = "hostile"
    app.switch_page("app_pages/knowledge.py").run()
    html = _html(app)
    assert "Hello</h1>" in html
    parsed = HtmlElements(html)
    assert not {"script", "iframe", "img"} & set(parsed.tags)
    assert not [name for _, name, _ in parsed.attributes if name.startswith("on")]
    assert not [value for _, _, value in parsed.attributes if "script:" in value]


def test_a_coordinator_writes_previews_and_publishes_a_digest(app):
    at = sign_in(app, "demo-coordinator")
    at.switch_page("app_pages/knowledge.py").run()
    assert [t.label for t in at.tabs] == [
        "Digests",
        "Demand and supply",
        "Lessons from twinnings",
        "Write a digest",
        "Manage spotlights",
        "Newsletter",
    ]
    newest = practices.newest_practices(limit=2)
    at.text_input(key="kd_title").input("Remote monitoring after discharge")
    at.multiselect(key="kd_topics").select("ehds")
    at.text_area(key="kd_body").input("## Why it matters\n\nFewer **readmissions**.")
    for practice in newest:  # each found by its title; the earlier choice stays
        at.text_input(key="kd_search").input(practice.title).run()
        at.multiselect(key="kd_practices").select(practice.id).run()
    linked = [p.id for p in newest]
    assert "<h2>Why it matters</h2>" in _html(at)  # the preview

    next(b for b in at.button if b.label == "Publish").click().run()
    assert not at.exception
    assert any("Published: Remote monitoring" in s.value for s in at.success)
    [digest] = knowledge.published_digests(text="remote monitoring after discharge")
    assert (digest.topics, sorted(digest.practice_ids)) == (["ehds"], sorted(linked))


def test_a_digest_with_errors_shows_them_next_to_the_fields(app):
    at = sign_in(app, "demo-coordinator")
    at.switch_page("app_pages/knowledge.py").run()
    at.text_input(key="kd_title").input("Remote monitoring")
    next(b for b in at.button if b.label == "Publish").click().run()
    messages = [e.value for e in at.error]
    assert any("at least one topic" in m for m in messages)
    assert any("20 characters" in m for m in messages)
    assert at.text_input(key="kd_title").value == "Remote monitoring"


def test_a_corrected_digest_title_loses_its_message_without_another_click(app):
    """Issue 11: "Title needs at least 3 characters" stayed under a valid title."""
    at = sign_in(app, "demo-coordinator")
    at.switch_page("app_pages/knowledge.py").run()
    at.text_input(key="kd_title").input("AI")
    next(b for b in at.button if b.label == "Save draft").click().run()
    messages = [e.value for e in at.error]
    assert "Title needs at least 3 characters" in messages
    assert messages[-1] == "Please correct 3 fields: Title, Topics, Text"

    at.text_input(key="kd_title").input("Trustworthy AI in hospitals").run()
    messages = [e.value for e in at.error]
    assert "Title needs at least 3 characters" not in messages
    assert messages[-1] == "Please correct 2 fields: Topics, Text"


def test_a_digest_has_a_link_that_opens_it(app):
    [*_, digest] = knowledge.published_digests()
    app.switch_page("app_pages/knowledge.py").run()
    links = {link.proto.query_string for link in app.get("page_link")}
    assert f"digest={digest.id}" in links

    app.query_params["digest"] = str(digest.id)
    app.switch_page("app_pages/knowledge.py").run()
    assert not app.exception
    assert [h.value.replace("\\", "") for h in app.header] == [digest.title]
    assert app.query_params["digest"] == str(digest.id)
    assert _expanders(app) == []

    app.query_params["digest"] = "999999"
    app.switch_page("app_pages/knowledge.py").run()
    assert [w.value for w in app.warning] == ["This digest does not exist or is not published."]


def test_a_coordinator_puts_a_mature_practice_in_the_spotlight(app):
    at = sign_in(app, "demo-coordinator")
    at.switch_page("app_pages/knowledge.py").run()
    candidate = next(
        p for p in practices.newest_practices(limit=50) if p.maturity >= 3 and not p.featured
    )
    at.text_input(key="ks_search").input(candidate.title).run()
    at.selectbox(key="ks_practice").set_value(candidate.id)
    at.text_area(key="ks_analysis").input(
        "Deployed in routine care for five years; **evaluated** in two regions."
    ).run()
    assert "<strong>evaluated</strong>" in _html(at)  # the preview
    next(b for b in at.button if b.label == "Feature it").click().run()

    assert not at.exception
    assert any("In the spotlight now" in s.value for s in at.success)
    assert candidate.id in [p.id for p in knowledge.spotlights()]


def test_a_coordinator_composes_the_newsletter_of_a_period(app):
    _publish("Tele <script>alert(1)</script> & care")
    at = sign_in(app, "demo-coordinator")
    at.switch_page("app_pages/knowledge.py").run()
    today = utcnow().date()
    at.date_input(key="kn_period").set_value((today, today)).run()
    next(b for b in at.button if b.label == "Compose the newsletter").click().run()

    assert not at.exception
    [letter] = [c.value for c in at.code if c.language == "html"]
    assert letter.startswith("<!DOCTYPE html>")
    escaped = "Tele &lt;script&gt;alert(1)&lt;/script&gt; &amp; care"
    assert escaped in letter
    assert "<script>" not in letter
    assert escaped in _html(at)  # the preview, as escaped
    assert [b.proto.label for b in at.get("download_button")] == [
        "Download HTML",
        "Download Markdown",
    ]


def test_owners_do_not_get_the_coordinator_tools(app):
    at = sign_in(app, "demo-owner")
    at.switch_page("app_pages/knowledge.py").run()
    assert [t.label for t in at.tabs] == ["Digests", "Demand and supply", "Lessons from twinnings"]


def test_interest_in_a_need_reaches_the_inbox_of_its_organisation(app):
    adopter = _user("demo-owner2")
    with db.session_scope() as session:
        need = session.exec(
            select(TwinningNeed).where(TwinningNeed.organisation_id == adopter.organisation_id)
        ).first()
    at = sign_in(app, "demo-owner")
    at.switch_page("app_pages/knowledge.py").run()
    at.text_input(key="board_text").input("Porto University Hospital").run()
    at.text_area(key=f"interest-{need.id}--text").input("We would gladly share how we did it.")
    next(b for b in at.button if b.form_id == f"interest-{need.id}-").click().run()
    assert any("Sent." in s.value for s in at.success)

    reader = sign_in(AppTest.from_file(APP, default_timeout=60).run(), "demo-owner2")
    reader.switch_page("app_pages/inbox.py").run()
    assert "We would gladly share how we did it." in _text(reader)
    assert "1 unread" in _text(reader)
    next(b for b in reader.button if b.label == "Mark as read").click().run()
    assert "0 unread" in _text(reader)


def test_the_coordinators_inbox_holds_interest_nobody_else_can_read(app):
    """Issue 11: the coordinator's inbox said "Your account belongs to no organisation"."""
    owner = _user("demo-owner")
    with db.read_scope() as session:
        members = set(session.exec(select(User.organisation_id)).all())
    practice = next(
        p for p in practices.newest_practices(limit=50) if p.owner_organisation_id not in members
    )
    with db.session_scope() as session:
        exchange.express_interest(
            session=session,
            actor=owner,
            data=InterestCreate(practice_id=practice.id, text="Could we reuse this in Tallinn?"),
        )

    at = sign_in(app, "demo-coordinator")
    at.switch_page("app_pages/inbox.py").run()
    assert not at.exception
    assert "Addressed to the coordinators" in _text(at)
    assert "Could we reuse this in Tallinn?" in _text(at)
    assert "belongs to no organisation" not in _text(at) + " ".join(i.value for i in at.info)
    next(b for b in at.button if b.label == "Mark as read").click().run()
    assert "0 unread" in _text(at)


# --- home and admin ----------------------------------------------------------------------


def test_the_home_page_heads_with_spotlights(app):
    assert not app.exception
    headings = [h.value for h in app.subheader]
    assert headings.index("Spotlights on mature solutions") < headings.index("Newest practices")
    assert knowledge.spotlights()[0].title in _text(app)


def test_an_administrator_resets_the_demo_data_after_confirming(app, embedded_app):
    _publish("Added before the reset")
    at = sign_in(app, "demo-admin")
    at.switch_page("app_pages/admin.py").run()
    reset = next(b for b in at.button if b.label == "Reset the demo data")
    assert reset.disabled
    at.checkbox[0].check().run()
    next(b for b in at.button if b.label == "Reset the demo data").click().run()

    assert not at.exception
    assert any("Demo data reset" in s.value for s in at.success)
    assert (
        _count(embedded_app, "SELECT count(*) FROM practice WHERE title = 'Added before the reset'")
        == 0
    )


def test_the_demo_reset_is_not_offered_on_a_database_without_demo_data(app, embedded_app):
    with sqlite3.connect(embedded_app / "dhu.sqlite3") as conn:
        conn.execute("UPDATE app_state SET demo = 0")
        conn.executemany("INSERT INTO data_change (scope) VALUES (?)", [(s,) for s in SCOPES])
    at = sign_in(app, "demo-admin")
    at.switch_page("app_pages/admin.py").run()
    assert not [b for b in at.button if b.label == "Reset the demo data"]
    assert any("only a demo database can be reset" in c.value for c in at.caption)
