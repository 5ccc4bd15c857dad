"""Browser scenario: an owner invites a colleague; the colleague accepts from the e-mail caught
by a test SMTP server, registers, edits a published practice of the organisation, and confirms
another one as current."""

import re
import sqlite3

import pytest

from dhu_core import db
from dhu_core.config import Settings
from dhu_core.notifications import delivery
from tests.browser import demo_password, settle, sign_in
from tests.mailserver import mail_server
from tests.people import PASSWORD

pytestmark = pytest.mark.browser
COLLEAGUE = "cleo@example.org"


def _deliver(database, public_url: str) -> str:
    """Send the due e-mails to a local SMTP server; the invitation link the colleague got."""
    engine = db.get_engine(f"sqlite:///{database}")
    with mail_server() as (smtp_url, handler):
        delivery.deliver_due(
            engine, settings=Settings(dhu_smtp_url=smtp_url, dhu_public_url=public_url)
        )
    engine.dispose()
    [mail] = [m for m in handler.received if m["To"] == COLLEAGUE]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://\S+/join\?invitation=\S+", text).group(0)


def _published_practice_of(database, username: str) -> str:
    with sqlite3.connect(database) as conn:
        return conn.execute(
            "SELECT p.title FROM practice p JOIN account a "
            "ON a.organisation_id = p.owner_organisation_id "
            "WHERE a.username = ? AND p.status = 'published' ORDER BY p.id LIMIT 1",
            (username,),
        ).fetchone()[0]


def _another_published_practice_of(database, username: str, title: str) -> int:
    with sqlite3.connect(database) as conn:
        return conn.execute(
            "SELECT p.id FROM practice p JOIN account a "
            "ON a.organisation_id = p.owner_organisation_id "
            "WHERE a.username = ? AND p.status = 'published' AND p.title <> ? "
            "ORDER BY p.id DESC LIMIT 1",
            (username, title),
        ).fetchone()[0]


def test_an_invited_colleague_joins_from_the_e_mail_edits_a_practice_and_confirms_another(
    demo_server, page, chromium
):
    url, database = demo_server
    sign_in(page, url, "demo-owner", demo_password(database, "demo-owner"))
    page.goto(url + "/organisation")
    settle(page)
    page.get_by_role("textbox", name="Colleague's e-mail *").fill(COLLEAGUE)
    page.get_by_role("button", name="Create the invitation").click()
    page.get_by_text("Invitation e-mailed to").wait_for(timeout=30_000)

    link = _deliver(database, url)
    colleague = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    try:
        colleague.goto(link)
        settle(colleague)
        colleague.get_by_text("invites you to join").wait_for(timeout=30_000)
        colleague.get_by_role("link", name="Create your account with this invitation").click()
        settle(colleague)
        for name, value in {
            "Username *": "cleo",
            "Your name *": "Cleo Colleague",
            "E-mail *": COLLEAGUE,
            "Password *": PASSWORD,
            "Password again *": PASSWORD,
        }.items():
            colleague.get_by_role("textbox", name=name, exact=True).fill(value)
        colleague.get_by_role("button", name="Create account").click()
        colleague.get_by_text("created as a member of").wait_for(timeout=30_000)

        sign_in(colleague, url, "cleo", PASSWORD)
        title = _published_practice_of(database, "demo-owner")
        colleague.goto(url + "/register")
        settle(colleague)
        colleague.get_by_label("Work on", exact=True).click()
        colleague.get_by_role("option", name=title, exact=True).click()
        settle(colleague)
        colleague.get_by_role("textbox", name="Title *").fill(f"{title}, kept by Cleo")
        colleague.get_by_role("button", name="Submit changes for review").click()
        colleague.get_by_text("Submitted for review.").wait_for(timeout=30_000)

        colleague.goto(url + "/my-practices")
        settle(colleague)
        colleague.get_by_role("heading", name="My practices").wait_for(timeout=30_000)
        other = _another_published_practice_of(database, "demo-owner", title)
        colleague.locator(f".st-key-my-practice-{other}").get_by_role(
            "button", name="Confirm it is still current"
        ).click()
        colleague.get_by_text("Confirmed as current today").wait_for(timeout=30_000)
    finally:
        colleague.context.close()

    with sqlite3.connect(database) as conn:
        submitted_by = conn.execute(
            "SELECT a.username FROM practice_revision r JOIN account a "
            "ON a.id = r.submitted_by_id WHERE r.status = 'pending' AND r.data LIKE ?",
            (f"%{title}, kept by Cleo%",),
        ).fetchall()
    assert submitted_by == [("cleo",)]

    with sqlite3.connect(database) as conn:
        confirmed_by = conn.execute(
            "SELECT a.username FROM audit_event e JOIN account a ON a.id = e.actor_id "
            "WHERE e.entity = 'practice' AND e.action = 'practice.confirmed'"
            " AND e.entity_id = ?",
            (other,),
        ).fetchall()
    assert confirmed_by == [("cleo",)]
