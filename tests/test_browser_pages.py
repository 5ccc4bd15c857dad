"""Browser: what a new user meets (issue 11): shareable addresses, tab titles, links to
protected pages, the focus after a failed submit, and titles that wrap instead of being cut."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser import demo_password, settle, sign_in

pytestmark = pytest.mark.browser

#: Every element of `root` that cuts its text: an ellipsis style, or text wider than the box.
CUT_TEXT = """root => [root, ...root.querySelectorAll("*")]
  .filter(e => e.innerText && e.innerText.trim())
  .filter(e => getComputedStyle(e).textOverflow === "ellipsis"
               || e.scrollWidth > e.clientWidth + 1)
  .map(e => e.innerText.trim())"""


def _open(page, url: str, text: str) -> None:
    page.goto(url)
    page.get_by_text(text, exact=True).first.wait_for(timeout=60_000)
    settle(page)


def _query(page) -> dict[str, str]:
    return dict(re.findall(r"[?&]([^=&]+)=([^&]*)", page.url))


def test_a_practice_opened_from_the_catalogue_has_its_own_address_title_and_heading(
    demo_server, page
):
    url, _ = demo_server
    _open(page, url + "/radar", "RADAR")
    link = page.locator("[data-testid=stMain] a[href*='practice=']").first
    practice_id = re.search(r"practice=(\d+)", link.get_attribute("href")).group(1)
    title = link.inner_text().strip()
    link.click()
    page.get_by_role("heading", name=title, level=1).wait_for(timeout=30_000)
    settle(page)

    assert _query(page) == {"practice": practice_id}
    assert page.title() == f"{title} · RADAR · DHU Platform"
    assert page.locator("h1").count() == 1
    map_link = page.get_by_role("link", name=re.compile("on the uptake map$"))
    assert re.fullmatch(r"/map\?country=[A-Z]{2}", map_link.get_attribute("href"))

    # The address opens the same practice for anyone it is shared with.
    shared = page.context.browser.new_page()
    _open(shared, page.url, "Similar practices")
    assert shared.get_by_role("heading", name=title, level=1).is_visible()
    shared.close()


def test_home_links_each_newest_practice_to_its_detail_view(demo_server, page):
    url, _ = demo_server
    _open(page, url + "/", "Newest practices")
    links = page.locator("[data-testid=stMain] a[href*='practice=']")
    assert links.count() >= 5
    last = links.last  # the newest practices come after the spotlights
    title = last.inner_text().strip()
    last.click()
    page.get_by_role("heading", name=title, level=1).wait_for(timeout=30_000)
    assert "practice" in _query(page)


def test_every_page_has_a_tab_title_of_its_own(demo_server, page):
    url, _ = demo_server
    titles = {}
    for path, text in (
        ("/", "Newest practices"),
        ("/map", "Uptake map"),
        ("/radar", "RADAR"),
        ("/knowledge", "Knowledge community"),
        ("/sign-in", "Sign in"),
        ("/sign-up", "Create an account"),
    ):
        _open(page, url + path, text)
        titles[path] = page.title()
    assert titles == {
        "/": "Home · DHU Platform",
        "/map": "Uptake map · DHU Platform",
        "/radar": "RADAR · DHU Platform",
        "/knowledge": "Knowledge · DHU Platform",
        "/sign-in": "Sign in · DHU Platform",
        "/sign-up": "Create an account · DHU Platform",
    }


def test_the_sign_in_and_sign_up_pages_read_cleanly(demo_server, page):
    url, _ = demo_server
    _open(page, url + "/sign-in", "Sign in")
    assert page.get_by_role("heading", name="Sign in").count() == 1
    _open(page, url + "/sign-up", "Create an account")
    text = page.get_by_test_id("stMain").inner_text()
    assert "**" not in text and "\\*" not in text


def test_a_link_to_a_protected_page_signs_in_there_and_opens_it(demo_server, page):
    """Issue 11: /review opened while signed out showed "Page not found" over Home."""
    url, database = demo_server
    _open(page, url + "/review", "Sign in to open this page.")
    assert page.get_by_text("Page not found").count() == 0
    assert page.get_by_text("Waiting for review").count() == 0
    assert page.title() == "Review · DHU Platform"

    page.get_by_role("textbox", name="Username").fill("demo-coordinator")
    page.get_by_role("textbox", name="Password").fill(demo_password(database, "demo-coordinator"))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Review", level=1).wait_for(timeout=30_000)
    settle(page)
    assert page.url == url + "/review"
    assert page.get_by_text("Page not found").count() == 0


def test_a_page_for_another_role_says_whom_it_is_for(demo_server, page):
    url, database = demo_server
    sign_in(page, url, "demo-owner", demo_password(database, "demo-owner"))
    _open(page, url + "/admin", "Signed in as demo-owner · Practice owner")
    expect(page.get_by_text("This page is for: Administrator.")).to_be_visible()
    assert page.get_by_text("Page not found").count() == 0
    assert page.get_by_role("heading", name="Audit log").count() == 0


def test_a_failed_submit_shows_a_summary_by_the_button_and_focuses_the_first_field(
    demo_server, page
):
    url, database = demo_server
    sign_in(page, url, "demo-owner", demo_password(database, "demo-owner"))
    _open(page, url + "/register", "Register a practice")
    page.get_by_role("textbox", name="Summary *").fill("Nurses follow heart patients at home.")
    page.get_by_role("textbox", name="Summary *").blur()
    settle(page)
    submit = page.get_by_role("button", name="Submit for review")
    submit.click()
    summary = page.get_by_text("Please correct 4 fields: Title, Type of practice, Maturity, ")
    summary.wait_for(timeout=30_000)
    page.wait_for_function("document.activeElement.getAttribute('aria-label') === 'Title *'")
    button, box = submit.bounding_box(), summary.bounding_box()
    assert 0 <= box["y"] - (button["y"] + button["height"]) < 80  # right under the button

    # The next failed submit moves the focus to the field that is now first to correct.
    page.get_by_role("textbox", name="Title *").fill("Heart failure telemonitoring")
    page.get_by_role("textbox", name="Title *").blur()
    settle(page)
    # Without another click, the corrected title has left the summary.
    page.get_by_text("Please correct 3 fields: Type of practice,").wait_for(timeout=30_000)
    submit.click()
    page.wait_for_function(
        "!!document.activeElement.closest('.st-key-field-practice-practice_type')",
        timeout=30_000,
    )
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        "Type of practice *"
    )


@pytest.mark.parametrize("width", [390, 1400])
def test_titles_wrap_instead_of_being_cut(demo_server, chromium, width):
    """Issue 11: spotlight titles (Home, Knowledge) and practice titles on a phone were cut."""
    url, _ = demo_server
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        for path, text in (
            ("/", "Newest practices"),
            ("/knowledge", "Spotlights on mature solutions"),
            ("/radar", "RADAR"),
        ):
            _open(page, url + path, text)
            titles = page.locator("[data-testid=stMain] [data-testid=stPageLink-NavLink]")
            titles.nth(2).wait_for()
            cut = [t.evaluate(CUT_TEXT) for t in titles.all()]
            assert [c for c in cut if c] == [], path
            labels = page.locator("[data-testid=stMain] [data-testid=stMetricLabel]")
            assert [c for c in (m.evaluate(CUT_TEXT) for m in labels.all()) if c] == [], path
    finally:
        context.close()


def test_a_digest_has_a_permalink(demo_server, page):
    url, _ = demo_server
    _open(page, url + "/knowledge", "Digests")
    digests = page.get_by_role("tabpanel", name="Digests")
    digests.get_by_test_id("stExpander").first.click()
    link = digests.get_by_role("link", name="Link to this digest").first
    link.wait_for()
    digest_id = re.search(r"digest=(\d+)", link.get_attribute("href")).group(1)
    link.click()
    page.get_by_role("link", name="All digests").wait_for(timeout=30_000)
    settle(page)
    assert _query(page) == {"digest": digest_id}
    heading = page.get_by_role("heading", level=2).first.inner_text().strip()
    assert page.title() == f"{heading} · Knowledge · DHU Platform"

    shared = page.context.browser.new_page()
    _open(shared, page.url, "All digests")
    assert shared.get_by_role("heading", name=heading, level=2).is_visible()
    shared.close()
