"""Browser: a map tooltip shows what users typed as text, exactly once escaped."""

import pytest

from tests.apps import HOSTILE
from tests.browser import require_chromium, settle, streamlit_server
from tests.test_browser_map import _pixel

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def tooltip_app(tmp_path_factory):
    require_chromium()
    folder = tmp_path_factory.mktemp("tooltip")
    env = {"DHU_DATA_DIR": str(folder), "DATABASE_URL": ""}
    with streamlit_server(env, folder / "streamlit.log", script="tests/apps/tooltip.py") as url:
        yield url


def test_markup_in_a_tooltip_shows_as_typed_and_never_runs(tooltip_app, page):
    page.goto(tooltip_app)
    deck = page.get_by_test_id("stDeckGlJsonChart")
    deck.locator("canvas").first.wait_for(timeout=60_000)
    settle(page)
    page.wait_for_timeout(1_000)
    page.mouse.move(*_pixel(deck.bounding_box(), "EE"))
    tooltip = page.locator(".deck-tooltip")
    tooltip.wait_for(state="visible", timeout=10_000)

    assert tooltip.inner_text().splitlines()[0] == HOSTILE
    assert "&lt;" not in tooltip.inner_text() and "&amp;" not in tooltip.inner_text()
    assert tooltip.locator("img").count() == 0
    assert page.evaluate("window.pwned") is None
