"""Browser: every chart legible on a phone (390 px) and on a wide screen (1400 px), measured.

Legible means: the chart fits the screen, every category has its label, whole (wrapped if
need be), no text overlaps another or is cut off by the chart's edge, and every bar is at least
12 px thick (tests/legibility.py measures the drawn SVG).
"""

import sqlite3

import pytest

from dhu_core import matching, taxonomy
from tests.browser import ARTIFACTS, demo_password, settle, sign_in
from tests.legibility import measure, problems, squeeze

pytestmark = pytest.mark.browser

WIDTHS = [390, 1400]
#: The charts of /map?country=…, by the start of their titles, and how their bars run.
MAP_CHARTS = {
    "Practices by type": "horizontal",
    "Maturity of the practices": "horizontal",
    "Registrations per year": "vertical",
    "Cross-border uptake": "horizontal",
    "Health domains by type": "cells",
    "Practices deployed and people": None,
    "By type": "horizontal",
    "By maturity": "horizontal",
}
TYPES = {squeeze(label) for label in taxonomy.PRACTICE_TYPES.labels.values()}
LEVELS = {squeeze(f"{level} {label}") for level, label in taxonomy.MATURITY_LEVELS.labels.items()}


def _expected_labels(database) -> dict[str, set[str]]:
    """The category labels each chart of the map page must show, from the database."""
    published = "FROM practice p WHERE p.status = 'published'"
    with sqlite3.connect(database) as conn:
        years = {row[0] for row in conn.execute(f"SELECT strftime('%Y', p.created_at) {published}")}
        tagged = conn.execute(
            "SELECT DISTINCT t.code, p.practice_type FROM practice_tag t "
            "JOIN practice p ON p.id = t.practice_id "
            "WHERE t.kind = 'domain' AND p.status = 'published'"
        ).fetchall()
    domains = {squeeze(taxonomy.HEALTH_DOMAINS.label(code)) for code, _ in tagged}
    types = {squeeze(taxonomy.PRACTICE_TYPES.label(kind)) for _, kind in tagged}
    return {
        "Practices by type": TYPES,
        "By type": TYPES,
        "Maturity of the practices": LEVELS,
        "By maturity": LEVELS,
        "Registrations per year": years,
        "Health domains by type": domains | types,
    }


def _charts_drawn(page, count: int) -> None:
    page.wait_for_function(
        """count => [...document.querySelectorAll('[data-testid=stVegaLiteChart]')]
             .filter(c => c.querySelector('svg.marks .role-axis-label text')).length >= count""",
        arg=count,
        timeout=60_000,
    )
    settle(page)


def _full_page_screenshot(page, width: int, path) -> None:
    """The whole page, not only the screen: the viewport made as tall as the page."""
    height = page.evaluate(
        "() => Math.max(...['stMain', 'stAppViewContainer'].map(id => "
        "document.querySelector(`[data-testid=${id}]`)?.scrollHeight || 0))"
    )
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_timeout(1_500)  # charts and the map follow the new size
    page.screenshot(path=path)


@pytest.mark.parametrize("width", WIDTHS)
def test_every_chart_of_the_map_page_is_legible(demo_server, chromium, width):
    url, database = demo_server
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(url + "/map?country=EE")
    _charts_drawn(page, len(MAP_CHARTS))

    charts = measure(page)
    expected = _expected_labels(database)
    found, unreadable = {}, []
    for chart in charts:
        name = next((name for name in MAP_CHARTS if chart.title.startswith(name)), chart.title)
        found[name] = chart
        unreadable += problems(chart, width, bars=MAP_CHARTS.get(name))
        missing = expected.get(name, set()) - chart.labels()
        unreadable += [f"{name!r} lacks the label {label!r}" for label in sorted(missing)]
    assert unreadable == []
    assert set(found) == set(MAP_CHARTS)
    flows = [label for label in found["Cross-border uptake"].labels() if "→" in label]
    assert len(flows) == len(found["Cross-border uptake"].bars) > 0
    codes = found["Practices deployed and people"].labels("role-mark")
    assert len(codes) >= 20, codes  # most countries keep their code beside their point

    if width == 390:
        ARTIFACTS.mkdir(exist_ok=True)
        _full_page_screenshot(page, width, ARTIFACTS / "map-390.png")
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_score_breakdown_of_a_twinning_suggestion_is_legible(demo_server, page, width):
    url, database = demo_server
    sign_in(page, url, "demo-coordinator", demo_password(database, "demo-coordinator"))
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(url + "/twinning")
    _charts_drawn(page, 3)

    criteria = {squeeze(label) for label in matching.CRITERIA.values()}
    for chart in measure(page)[:3]:
        assert problems(chart, width, bars="horizontal") == []
        shown = chart.labels() - {"0%", "50%", "100%"}
        assert shown <= criteria
        assert len(shown) == len(chart.bars) >= 5


#: Texts of the country panel that a browser shows cut short (with "…" or clipped): figure
#: labels, and placeholders of select boxes, measured in the font of their field.
CUT_SHORT = """() => {
  const labels = [...document.querySelectorAll(
    '[data-testid=stMetricLabel] [data-testid=stMarkdownContainer]')]
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent);
  const measure = document.createElement('canvas').getContext('2d');
  const placeholders = [...document.querySelectorAll('[data-testid=stSelectbox] input')]
    .filter(input => !input.value && input.placeholder)
    .filter(input => {
      const style = getComputedStyle(input);
      measure.font = style.font;
      const room = input.clientWidth - parseFloat(style.paddingLeft)
        - parseFloat(style.paddingRight);
      return measure.measureText(input.placeholder).width > room + 1;
    })
    .map(input => input.placeholder);
  return [...labels, ...placeholders];
}"""


@pytest.mark.parametrize("width", WIDTHS)
def test_no_label_of_the_map_page_is_cut_short(demo_server, chromium, width):
    url, _ = demo_server
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(url + "/map")
    page.get_by_test_id("stSelectbox").locator("input").first.wait_for(timeout=60_000)
    settle(page)
    assert page.evaluate(CUT_SHORT) == []

    page.goto(url + "/map?country=EE")
    page.get_by_role("heading", name="Estonia").wait_for(timeout=60_000)
    # The figures come after the heading, in the same run or the next: wait for the last one.
    metrics = page.get_by_test_id("stMetricLabel")
    metrics.filter(has_text="Adopted from abroad").wait_for(timeout=60_000)
    settle(page)
    labels = {" ".join(t.split()) for t in metrics.all_inner_texts()}
    assert {"Per million inhabitants", "Adopted from abroad"} <= labels
    assert page.evaluate(CUT_SHORT) == []
    context.close()
