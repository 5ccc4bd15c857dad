"""Browser scenario: a visitor finds practices that may be outdated and an archived one by its
address; an owner confirms a practice as current on My practices."""

import sqlite3

import pytest

from tests.browser import demo_password, settle, sign_in

pytestmark = pytest.mark.browser


def test_outdated_badge_archived_notice_and_a_confirmation_on_my_practices(demo_server, page):
    url, database = demo_server
    with sqlite3.connect(database) as conn:
        archived_id, archived_title = conn.execute(
            "SELECT id, title FROM practice WHERE status = 'archived' ORDER BY id LIMIT 1"
        ).fetchone()

    page.goto(url + "/radar?freshness=outdated")
    settle(page)
    badges = page.get_by_test_id("stMarkdownContainer").filter(has_text="May be outdated")
    badges.first.wait_for(timeout=30_000)
    assert badges.count() >= 10  # a badge on each card of the page

    page.goto(url + f"/radar?practice={archived_id}")
    settle(page)
    page.get_by_text("This practice is archived").wait_for(timeout=30_000)
    assert page.get_by_role("heading", name=archived_title).count() == 1

    sign_in(page, url, "demo-owner", demo_password(database, "demo-owner"))
    page.goto(url + "/my-practices")
    settle(page)
    page.get_by_role("heading", name="My practices").wait_for(timeout=30_000)
    assert page.get_by_text("Views, last 30 days").count() > 0
    page.get_by_role("button", name="Confirm it is still current").first.click()
    page.get_by_text("Confirmed as current today").wait_for(timeout=30_000)
