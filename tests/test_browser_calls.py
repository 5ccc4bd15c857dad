"""Browser: an open call reached from the list has its own address, tab title, countdown and
rules, for a visitor of the demo server."""

import re

import pytest

from tests.browser import settle

pytestmark = pytest.mark.browser


def test_an_open_call_has_its_own_address_title_and_countdown(demo_server, page):
    url, _ = demo_server
    page.goto(url + "/calls")
    page.get_by_text("Open calls", exact=True).wait_for(timeout=60_000)
    settle(page)
    link = page.get_by_role("link", name=re.compile("Twinning call 2027")).first
    call_id = re.search(r"call=(\d+)", link.get_attribute("href")).group(1)
    link.click()
    page.get_by_role("link", name="All calls").wait_for(timeout=30_000)
    settle(page)
    assert re.search(rf"[?&]call={call_id}\b", page.url)
    heading = page.get_by_role("heading", level=2).first.inner_text().strip()
    assert page.title() == f"{heading} · Twinning calls · DHU Platform"
    body = page.locator("body").inner_text()
    # The two largest units that are not zero: "3 days and 4 hours", or "3 days and 45 minutes"
    # within the hour before the closing time of day (17:00).
    countdown = r"Closes in \d+ days? and \d+ (hours?|minutes?|seconds?), on .* at 17:00 UTC"
    assert re.search(countdown, body)
    assert "Relevance of the practice to the need" in body or page.get_by_text(
        "Evaluation criteria"
    )
