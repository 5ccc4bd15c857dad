"""Browser: the live view on a projector: full screen, one screen, a QR code of this server."""

import re

import pytest
import zxingcpp
from PIL import Image

from tests.browser import ARTIFACTS, settle

pytestmark = pytest.mark.browser

#: Every element whose content is taller than its box and that scrolls it.
SCROLLING = """() => [document.documentElement, ...document.querySelectorAll('*')]
  .filter(e => e.scrollHeight > e.clientHeight + 1 && (e === document.documentElement
    || ['auto', 'scroll'].includes(getComputedStyle(e).overflowY)))
  .map(e => (e.getAttribute('data-testid') || e.tagName) + ': ' + e.scrollHeight + ' > '
    + e.clientHeight)"""
#: The boxes of everything drawn on the page (what Streamlit's element containers hold).
ELEMENTS = """() => [...document.querySelectorAll('[data-testid=stElementContainer] > *')]
  .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height > 0)
  .map(e => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; })"""


def _overlap(a, b) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > 2 and min(a[3], b[3]) - max(a[1], b[1]) > 2


def _open_live(page, url: str):
    page.goto(url + "/live")
    page.get_by_test_id("stDeckGlJsonChart").locator("canvas").first.wait_for(timeout=60_000)
    page.get_by_test_id("stImage").locator("img").wait_for()
    settle(page)
    page.wait_for_timeout(1_000)  # WebGL draws on the next animation frames


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1400, 900)])
def test_the_live_view_fills_one_screen_of_a_projector(demo_server, chromium, width, height):
    url, _ = demo_server
    context = chromium.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    _open_live(page, url)

    assert page.evaluate(SCROLLING) == []
    boxes = page.evaluate(ELEMENTS)
    assert max(box[3] for box in boxes) <= height
    assert [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if _overlap(a, b)] == []
    assert not page.get_by_test_id("stSidebar").is_visible()
    assert not page.get_by_test_id("stHeader").is_visible()
    assert page.get_by_text("The organisations, practices and twinnings shown here").count() == 0
    assert page.get_by_text("Demo data: generated, not real projects.").is_visible()
    legend = page.locator(".dhu-legend")
    assert legend.is_visible() and "No data" in legend.inner_text()
    newest = page.get_by_role("heading", name="Newest practices")
    ticker = page.get_by_test_id("stColumn").filter(has=newest).inner_text()
    # The date as the page's language writes it (English here: Nov 5, 2026), then the time.
    assert re.search(r"· [A-Z][a-z]{2} \d{1,2}, 20\d{2}, \d{2}:\d{2}", ticker), ticker

    if width == 1920:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "live-1920x1080.png")
    context.close()


def test_the_qr_code_points_at_the_port_the_app_runs_on(demo_server, page, tmp_path):
    """Without DHU_PUBLIC_URL, the address this browser used, with the server's real port."""
    url, _ = demo_server
    _open_live(page, url)
    image = page.get_by_test_id("stImage").locator("img")
    image.screenshot(path=tmp_path / "qr.png")

    found = zxingcpp.read_barcodes(Image.open(tmp_path / "qr.png").convert("L"))
    assert [code.text for code in found] == [f"{url}/capture"]
    assert image.get_attribute("alt") == (
        f"QR code of the address of the quick-capture form: {url}/capture"
    )
