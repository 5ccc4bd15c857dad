"""Browser: the uptake map in Chromium, drawn from the shipped shapes, nothing from the internet."""

import math
import re

import pytest
from PIL import Image

from dhu_core import geo, maps
from tests.browser import ARTIFACTS, is_local, settle

pytestmark = pytest.mark.browser


def _open_map(page, url: str):
    page.goto(url + "/map")
    deck = page.get_by_test_id("stDeckGlJsonChart")
    deck.locator("canvas").first.wait_for(timeout=60_000)
    settle(page)
    deck.scroll_into_view_if_needed()
    page.wait_for_timeout(1_000)  # WebGL draws on the next animation frames
    return deck


def _pixel(box: dict, country: str) -> tuple[float, float]:
    """Where the label point of `country` lies on the map (Web Mercator of the initial view)."""
    point, view = geo.countries()[country], maps.VIEW
    scale = 512 * 2**view.zoom / (2 * math.pi)

    def mercator(latitude: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(latitude) / 2))

    x = box["x"] + box["width"] / 2 + scale * math.radians(point.lon - view.longitude)
    y = box["y"] + box["height"] / 2 - scale * (mercator(point.lat) - mercator(view.latitude))
    return x, y


def test_the_map_is_drawn_in_colour_from_local_data_only(demo_server, page):
    url, _ = demo_server
    deck = _open_map(page, url)

    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "uptake-map.png"
    deck.screenshot(path=screenshot)
    print(f"map screenshot: {screenshot}")
    image = Image.open(screenshot).convert("RGB")
    counts = image.getcolors(maxcolors=image.width * image.height)
    # Colours covering at least 0.2 % of the map: the palette's classes, grey, the sea, arcs.
    large = [colour for count, colour in counts if count > image.width * image.height / 500]
    assert len(large) > 5, large
    assert (*maps.SEA,) in large
    assert page.get_by_text("Published practices deployed in the country.").is_visible()

    page.wait_for_load_state("networkidle")
    assert page.requests, "the browser made no request at all"
    assert [u for u in page.requests if not is_local(u)] == []


def test_clicking_a_country_opens_its_panel(demo_server, page):
    url, _ = demo_server
    deck = _open_map(page, url)

    x, y = _pixel(deck.bounding_box(), "FI")
    page.mouse.move(x, y)
    page.locator(".deck-tooltip", has_text="Finland").wait_for(timeout=10_000)
    # A real click on the real clock, with Chromium's software WebGL (no GPU here): deck.gl
    # picks on mouse-down, and a pick slower than its 250 ms click limit made it a long press.
    page.mouse.click(x, y)

    page.wait_for_url(re.compile(r"country=FI"), timeout=30_000)
    page.get_by_text("Practices deployed in Finland").wait_for()
    assert page.get_by_role("heading", name="Finland").is_visible()
