"""Browser scenario: register, approve, find; and a hostile title stays plain text."""

import pytest

from tests.browser import demo_password, settle, sign_in

pytestmark = pytest.mark.browser
HOSTILE = "<img src=x onerror=alert(1)>"
WORD = "Quokkatelemetry"


def _choose(page, label: str, option: str, *, several: bool = False) -> None:
    page.get_by_label(label, exact=True).click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).click()
    if several:  # a multiselect stays open for more choices
        page.keyboard.press("Escape")
    settle(page)


def test_register_approve_and_find_a_practice_with_a_hostile_title(demo_server, page):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    url, database = demo_server

    sign_in(page, url, "demo-owner", demo_password(database, "demo-owner"))
    page.goto(url + "/register")
    settle(page)
    page.get_by_role("textbox", name="Title *").fill(HOSTILE)
    page.get_by_role("textbox", name="Summary *").fill(
        f"{WORD} lets nurses follow heart patients at home with a tablet and a scale."
    )
    page.get_by_role("textbox", name="Summary *").blur()
    settle(page)
    _choose(page, "Type of practice *", "App")
    page.get_by_text("3 · Deployed", exact=False).first.click()
    settle(page)
    _choose(page, "Countries of deployment *", "Estonia", several=True)
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_text("Submitted for review. A coordinator will look at it soon.").wait_for(
        timeout=30_000
    )
    page.get_by_role("button", name="Sign out").click()
    settle(page)

    sign_in(page, url, "demo-coordinator", demo_password(database, "demo-coordinator"))
    page.goto(url + "/review")
    settle(page)
    page.get_by_label("Waiting for review", exact=True).click()
    page.keyboard.type("onerror")
    page.get_by_role("option").filter(has_text=HOSTILE).click()
    settle(page)
    assert page.get_by_text(WORD).first.is_visible()
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Approved:").wait_for(timeout=30_000)
    page.get_by_role("button", name="Sign out").click()
    settle(page)

    page.goto(url + "/radar")
    settle(page)
    page.get_by_role("textbox", name="Search").fill(WORD.lower())
    page.get_by_role("textbox", name="Search").press("Enter")
    page.get_by_text("1 practice ·").wait_for(timeout=30_000)
    link = page.get_by_role("link", name=HOSTILE)
    assert link.inner_text() == HOSTILE
    link.click()
    settle(page)
    page.get_by_role("heading", name=HOSTILE).wait_for(timeout=30_000)
    assert page.get_by_text(WORD).first.is_visible()
    assert page.locator("img[src='x']").count() == 0
    assert dialogs == []
