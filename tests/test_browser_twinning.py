"""Browser scenario: an owner states a need; a coordinator sees it ranked with explanations,
shortlists and agrees a pair; the new twinning is drawn on /map."""

import pytest

from tests.browser import demo_password, settle, sign_in

pytestmark = pytest.mark.browser
PROBLEM = (
    "Our hospital wants remote monitoring of heart failure patients at home, with alerts "
    "to nurses when weight or blood pressure drift."
)


def _map_twinnings(page, url: str) -> int:
    page.goto(url + "/map")
    settle(page)
    metric = page.get_by_test_id("stMetric").filter(has_text="Twinnings").first
    return int(metric.get_by_test_id("stMetricValue").inner_text().replace(",", ""))


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    settle(page)


def test_need_ranked_shortlisted_agreed_and_drawn_on_the_map(demo_server, page):
    url, database = demo_server
    arcs_before = _map_twinnings(page, url)

    sign_in(page, url, "demo-owner2", demo_password(database, "demo-owner2"))
    page.goto(url + "/twinning")
    settle(page)
    page.get_by_role("tab", name="State a need").click()
    page.get_by_role("textbox", name="Problem statement *").fill(PROBLEM)
    page.get_by_label("Country where it will be adopted *", exact=True).click()
    page.keyboard.type("Portugal")
    page.get_by_role("option", name="Portugal", exact=True).click()
    page.get_by_role("button", name="State this need").click()
    page.get_by_text("Need stated.").wait_for(timeout=30_000)
    _sign_out(page)

    sign_in(page, url, "demo-coordinator", demo_password(database, "demo-coordinator"))
    page.goto(url + "/twinning")
    settle(page)
    page.get_by_text("remote monitoring of heart failure").first.wait_for(timeout=30_000)
    assert page.get_by_text("score").count() > 0
    assert page.get_by_text("health domains").count() > 0  # the reasons, in words
    page.get_by_role("button", name="Shortlist").first.click()
    page.get_by_text("Shortlisted.").wait_for(timeout=30_000)

    page.get_by_role("tab", name="Twinnings").click()
    settle(page)
    page.get_by_label("Twinning to follow", exact=True).click()
    page.keyboard.type("Porto University Hospital (Shortlisted)")
    page.get_by_role("option").filter(has_text="(Shortlisted)").first.click()
    settle(page)
    page.get_by_role("button", name="Change status").click()  # next status: agreed
    page.get_by_text("Now agreed.").wait_for(timeout=30_000)

    assert _map_twinnings(page, url) == arcs_before + 1
