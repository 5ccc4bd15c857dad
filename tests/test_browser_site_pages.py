"""Browser: the footer of every page, legible on a phone and a large screen, reaches About,
Help, Data and API, the privacy notice and the accessibility statement."""

import re

import pytest

from tests.browser import settle
from tests.test_browser_pages import CUT_TEXT

pytestmark = pytest.mark.browser

#: The footer's links, the heading of the page each opens, its address and its tab title.
LINKS = [
    ("About", "About the DHU Platform", "/about", "About"),
    ("Help", "Help", "/help", "Help"),
    ("Data and API", "Data and API", "/data-and-api", "Data and API"),
    ("Privacy", "Privacy notice", "/privacy", "Privacy notice"),
    ("Accessibility", "Accessibility statement", "/accessibility", "Accessibility statement"),
]
#: The lowest edge of the page's content (but the footer and closed expanders), and the
#: footer's box.
BOXES = """() => {
  const footer = document.querySelector('.st-key-dhu-footer');
  const elements = document.querySelectorAll(
    '[data-testid=stMain] [data-testid=stElementContainer]');
  const content = [...elements].filter(e => !e.closest('.st-key-dhu-footer, details:not([open])')
    && e.getBoundingClientRect().height > 0);
  const box = footer.getBoundingClientRect();
  return {
    contentBottom: Math.max(...content.map(e => e.getBoundingClientRect().bottom + scrollY)),
    top: box.top + scrollY, left: box.left, right: box.right,
    position: getComputedStyle(footer).position,
  };
}"""

#: The tables of a page's text wider than their box, by their first header.
WIDER_TABLES = """() => [...document.querySelectorAll('.dhu-rich-text table')]
  .filter(t => t.scrollWidth > t.clientWidth + 1).map(t => t.querySelector('th')?.innerText)"""


@pytest.mark.parametrize("width", [390, 1400])
def test_the_footer_is_legible_under_the_content_and_reaches_every_page(
    demo_server, chromium, width
):
    url, _ = demo_server
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(url + "/radar")
        page.get_by_role("heading", name="RADAR", level=1).wait_for(timeout=60_000)
        settle(page)
        footer = page.locator(".st-key-dhu-footer")
        # The footer's last link, waited for: on a loaded machine it comes a run after the rest.
        footer.get_by_role("link", name=LINKS[-1][0], exact=True).wait_for(timeout=30_000)
        footer.scroll_into_view_if_needed()
        boxes = page.evaluate(BOXES)
        assert boxes["position"] in ("static", "relative")  # in the flow, over nothing
        assert boxes["top"] >= boxes["contentBottom"] - 1
        assert boxes["left"] >= 0 and boxes["right"] <= width
        links = footer.get_by_role("link")
        assert [link.inner_text().strip() for link in links.all()] == [link[0] for link in LINKS]
        assert [c for c in (link.evaluate(CUT_TEXT) for link in links.all()) if c] == []
        for link in links.all():
            box = link.bounding_box()
            assert box["height"] >= 24 and box["x"] + box["width"] <= width  # easy to tap

        for label, heading, path, title in LINKS:
            page.locator(".st-key-dhu-footer").get_by_role("link", name=label, exact=True).click()
            page.get_by_role("heading", name=heading, level=1).wait_for(timeout=30_000)
            settle(page)
            assert re.fullmatch(re.escape(url + path), page.url)
            assert page.title() == f"{title} · DHU Platform"
            assert page.locator(".dhu-rich-text h2").count() >= 1 or path == "/about"
            # No column of a table out of sight, to be found by scrolling it sideways.
            assert page.evaluate(WIDER_TABLES) == [], path
    finally:
        context.close()
