"""Pages drawn in German for the tests of the interface's languages: open a page as a visitor
or a demo account with `?lang=de`, gather every text it shows, and find those still in English
where the German catalogue has its own words."""

import json

import streamlit
from babel.messages.pofile import read_po
from streamlit.testing.v1 import AppTest

from dhu_core import i18n
from dhu_core.config import get_settings
from tests.apptest import APP, sign_in


def catalogue(code: str):
    """The `.po` catalogue of the language `code`."""
    with i18n.catalogue_path(code).open("rb") as po_file:
        return read_po(po_file, locale=code)


def clear_caches() -> None:
    get_settings.cache_clear()
    streamlit.cache_data.clear()
    streamlit.cache_resource.clear()


def in_german(page: str) -> AppTest:
    """`page` opened by a link with `?lang=de`, checked to have run cleanly."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "de"
    run_in_german(at)
    at.switch_page(f"app_pages/{page}.py")
    return run_in_german(at)


def run_in_german(at: AppTest) -> AppTest:
    # AppTest formats the widgets' values with their format_func in the test's own thread:
    # that thread draws in German too, as the page's does.
    with i18n.language("de"):
        at.run()
    assert not at.exception and not at.error
    return at


TEXT_ELEMENTS = ["title", "header", "subheader", "markdown", "caption", "info", "warning"]
TEXT_ELEMENTS += ["success", "error", "expander", "tab", "metric", "page_link", "button"]
TEXT_ELEMENTS += ["text_input", "text_area", "selectbox", "multiselect", "radio", "checkbox"]
TEXT_ELEMENTS += ["toggle", "number_input", "date_input", "slider", "select_slider"]
TEXT_ELEMENTS += ["button_group"]


def shown_texts(at: AppTest) -> list[str]:
    """Every heading, text, label, placeholder, help and option the page shows."""
    texts = []
    for kind in TEXT_ELEMENTS:
        for element in at.get(kind):
            for name in ("body", "value", "label", "placeholder", "help"):
                value = getattr(element.proto, name, None)
                if isinstance(value, str) and value:
                    texts.append(value)
            for option in getattr(element.proto, "options", []):
                texts.append(option if isinstance(option, str) else option.content)
    return texts


def english_left(at: AppTest) -> list[str]:
    """The page's texts still in English where the German catalogue has its own words."""
    german = {
        message.id: message.string
        for message in catalogue("de")
        if isinstance(message.id, str) and message.id and message.string != message.id
    }
    long = [english for english in german if len(english) >= 25]
    return [
        text
        for text in shown_texts(at)
        if text in german or any(english in text for english in long)
    ]


def signed_in_in_german(username: str, page: str) -> AppTest:
    """`page` for the demo account `username`, after it signed in, in German."""
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), username)
    at.query_params["lang"] = "de"
    run_in_german(at)
    at.switch_page(f"app_pages/{page}.py")
    return run_in_german(at)


def chart_texts(at: AppTest) -> list[str]:
    """Every title, subtitle, axis title, legend title and tooltip title of the page's charts
    (a title wrapped onto lines, whole)."""
    texts: list[str] = []

    def gather(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("title", "subtitle", "text") and isinstance(value, str | list):
                    texts.append(value if isinstance(value, str) else " ".join(map(str, value)))
                gather(value)
        elif isinstance(node, list):
            for item in node:
                gather(item)

    for element in at.get("vega_lite_chart"):
        gather(json.loads(element.proto.spec))
    return texts


def html(at: AppTest, marker: str) -> str:
    return next(e.proto.body for e in at.get("html") if marker in e.proto.body)
