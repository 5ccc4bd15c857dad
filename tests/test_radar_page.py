"""AppTest of the RADAR catalogue page on a freshly started embedded database (demo data)."""

import sqlite3

from streamlit.testing.v1 import AppTest

from dhu_core import catalogue
from tests.apptest import APP

PUBLISHED = "SELECT count(*) FROM practice WHERE status = 'published'"
TYPES = "SELECT practice_type, count(*) FROM practice WHERE status = 'published' GROUP BY 1"


def _radar(**params: str | list[str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/radar.py")
    at.query_params.update(params)
    at.run()
    assert not at.exception
    return at


def _query(path, sql: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def _heading(at: AppTest) -> str:
    return at.subheader[0].value


def test_a_page_past_the_end_shows_the_last_page_and_corrects_the_url(embedded_app):
    at = _radar(page="50")

    published = _query(embedded_app / "dhu.sqlite3", PUBLISHED)[0][0]
    pages = -(-published // catalogue.DEFAULT_PAGE_SIZE)
    assert _heading(at) == f"{published:,} practices · page {pages} of {pages}"
    assert at.query_params["page"] == str(pages)
    on_last_page = published - (pages - 1) * catalogue.DEFAULT_PAGE_SIZE
    cards = [link for link in at.get("page_link") if "practice=" in link.proto.query_string]
    assert len(cards) == on_last_page
    next_button = next(b for b in at.button if b.label == "Next")
    assert next_button.disabled


def test_previous_and_next_turn_the_pages(embedded_app):
    at = _radar()
    assert _heading(at).endswith("page 1 of " + _heading(at).rsplit(" ", 1)[-1])

    next(b for b in at.button if b.label == "Next").click().run()
    assert " · page 2 of " in _heading(at)
    assert at.query_params["page"] == "2"
    next(b for b in at.button if b.label == "Previous").click().run()
    assert " · page 1 of " in _heading(at)
    assert "page" not in at.query_params


def test_a_search_without_result_says_so_names_the_filters_and_offers_no_download(embedded_app):
    at = _radar(q="quokkatelemetry", country="DE", type="app")

    assert _heading(at) == "No practice matches"
    hint = at.info[-1].value
    assert "quokkatelemetry" in hint and "Check the spelling" in hint and "remove a filter" in hint
    assert at.download_button.len == 0
    labels = [button.label.replace("\\", "") for button in at.button]  # labels are Markdown
    assert "Country of deployment: Germany" in labels
    assert "Type: App" in labels
    assert "Search: quokkatelemetry" in labels

    next(b for b in at.button if b.label == "Search\\: quokkatelemetry").click().run()
    assert _heading(at).endswith(" · page 1 of " + _heading(at).rsplit(" ", 1)[-1])
    assert at.query_params == {"country": "DE", "type": "app"}
    assert at.download_button.len == 3


def test_words_typed_without_result_and_taken_back_show_the_catalogue_again(embedded_app):
    at = _radar()
    at.text_input(key="radar_text").input("quokkatelemetry").run()
    assert _heading(at) == "No practice matches"

    at.text_input(key="radar_text").input("").run()

    assert not at.exception and not at.error
    assert " · page 1 of " in _heading(at)


def test_clearing_every_filter_brings_all_practices_back(embedded_app):
    at = _radar(q="quokkatelemetry", maturity="5", transferable="no")
    published = _query(embedded_app / "dhu.sqlite3", PUBLISHED)[0][0]

    next(b for b in at.button if b.label == "Clear the search and all filters").click().run()

    assert _heading(at).startswith(f"{published:,} practices · page 1 of ")
    assert at.query_params == {}


def test_the_facets_show_their_counts_on_the_page_and_choosing_one_updates_the_url(embedded_app):
    at = _radar()
    counts = dict(_query(embedded_app / "dhu.sqlite3", TYPES))

    types = next(pills for pills in at.pills if pills.label == "Type")
    labels = {
        "app": "App",
        "policy": "Policy",
        "strategy": "Strategy",
        "service": "Complex solution or service",
        "framework": "Assessment framework",
        "model": "Care or business model",
    }
    assert set(types.options) == {f"{labels[code]} ({n:,})" for code, n in counts.items()}
    assert {pills.label for pills in at.pills} >= {"Type", "Maturity", "Country of deployment"}
    assert at.multiselect.len == 0  # no counts hidden inside dropdowns

    types.select("app").run()

    assert at.query_params["type"] == "app"
    assert _heading(at).startswith(f"{counts['app']:,} practices")


def test_long_facets_show_their_largest_values_until_asked_for_all(embedded_app):
    at = _radar()
    countries = next(pills for pills in at.pills if pills.label == "Country of deployment")
    assert len(countries.options) == 6

    show_all = next(b for b in at.button if b.label.startswith("Show all "))
    listed = int(show_all.label.removeprefix("Show all "))
    assert listed > 6
    show_all.click().run()

    countries = next(pills for pills in at.pills if pills.label == "Country of deployment")
    assert len(countries.options) == listed
