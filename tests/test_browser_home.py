"""Browser: the home page in Chromium, served by `streamlit run`, with nothing from the internet."""

import sqlite3

import pytest

from tests.browser import is_local

pytestmark = pytest.mark.browser


def test_home_page_shows_the_figures_and_fetches_nothing_from_the_internet(demo_server, page):
    url, database = demo_server
    page.goto(url + "/")
    page.get_by_text("Published practices").wait_for(timeout=60_000)

    with sqlite3.connect(database) as conn:
        published = conn.execute("SELECT count(*) FROM practice WHERE status='published'")
        published = published.fetchone()[0]
    metric = page.get_by_test_id("stMetric").filter(has_text="Published practices")
    assert metric.get_by_test_id("stMetricValue").inner_text() == f"{published:,}"
    assert page.get_by_text("Demo data.").is_visible()

    page.wait_for_load_state("networkidle")
    assert page.requests, "the browser made no request at all"
    assert [u for u in page.requests if not is_local(u)] == []
