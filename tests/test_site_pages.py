"""About, Help, Data and API, the privacy notice and the accessibility statement: their texts,
the operator's settings in them, the operator's own files, and the pages in the app."""

import csv
import logging
import re
from html import unescape

import pytest
import streamlit
from streamlit.testing.v1 import AppTest

from dhu_core import i18n, matching, site_pages, taxonomy
from dhu_core.config import Settings, get_settings
from dhu_core.knowledge import render_markdown
from tests.apptest import APP, sign_in
from tests.test_knowledge import HOSTILE, HtmlElements

#: An operator name that would be markup if it were not escaped.
HOSTILE_NAME = "Santé <b>Régionale</b> *Nord* [x](javascript:alert(1))"
#: The pages, their module and their heading.
PAGES = {
    "about": "About the DHU Platform",
    "help": "Help",
    "data_api": "Data and API",
    "privacy": "Privacy notice",
    "accessibility": "Accessibility statement",
}
FOOTER = ["About", "Help", "Data and API", "Privacy", "Accessibility"]


def _all_pages(settings: Settings) -> dict[str, str]:
    return {
        "about": site_pages.about(settings=settings),
        "help": site_pages.help_page(settings=settings),
        "data_api": site_pages.data_and_api(
            settings=settings, base_path="/dhu", app_url="https://dhu.example.org/dhu"
        ),
        "privacy": site_pages.privacy_notice(settings=settings),
        "accessibility": site_pages.accessibility_statement(settings=settings),
    }


def _assert_inert(html: str) -> None:
    """No element, attribute or link in `html` that could run anything (text may say so)."""
    parsed = HtmlElements(html)
    assert not {"script", "iframe", "img", "style", "b", "object"} & set(parsed.tags)
    assert not [name for _, name, _ in parsed.attributes if name.startswith("on")]
    links = [value for _, name, value in parsed.attributes if name == "href"]
    assert all(link.startswith(("https:", "http:", "mailto:", "/")) for link in links), links


def test_every_placeholder_of_every_page_is_filled():
    for name, text in _all_pages(Settings()).items():
        assert "{{" not in text and "}}" not in text, name
        assert render_markdown(text).count("<h2>") >= 1 or name == "about", name


def test_an_unnamed_operator_is_named_honestly():
    about = site_pages.about(settings=Settings())
    assert "is run by the operator of this installation" in about
    assert "No contact address has been given for this installation yet." in about


def test_the_operators_name_and_contact_appear_escaped():
    settings = Settings(dhu_operator_name=HOSTILE_NAME, dhu_operator_contact="dpo@sante.example")
    for name, text in _all_pages(settings).items():
        html = render_markdown(text)
        _assert_inert(html)
        if name != "help":  # Help names no operator, only the contact
            assert "Santé &lt;b&gt;Régionale&lt;/b&gt; *Nord* [x](javascript:alert(1))" in html
        assert '<a href="mailto:dpo@sante.example"' in html, name


def test_a_web_address_is_a_contact_too():
    settings = Settings(dhu_operator_contact="https://sante.example/contact?topic=(privacy)")
    html = render_markdown(site_pages.privacy_notice(settings=settings))
    assert '<a href="https://sante.example/contact?topic=(privacy)"' in html


@pytest.mark.parametrize(
    "contact",
    [
        "javascript:alert(1)",
        "dpo at sante.example",
        'https://sante.example/"onmouseover=alert(1)',
        "https://sante.example/a b",
        "ftp://sante.example/",
        "<dpo@sante.example>",
    ],
)
def test_a_contact_that_is_no_address_is_refused(contact):
    with pytest.raises(ValueError, match="e-mail address"):
        Settings(dhu_operator_contact=contact)


def test_empty_variables_count_as_unset():
    settings = Settings(dhu_operator_name=" ", dhu_operator_contact="", dhu_privacy_notice_file="")
    assert (settings.dhu_operator_name, settings.dhu_operator_contact) == (None, None)
    assert settings.dhu_privacy_notice_file is None


def test_an_operators_own_notice_replaces_the_default_and_runs_nothing(tmp_path):
    notice = tmp_path / "privacy.md"
    notice.write_text(f"## Our notice\n\nWe keep little.\n\n{HOSTILE}", encoding="utf-8")
    statement = tmp_path / "accessibility.md"
    statement.write_text("## Our statement\n\n<script>alert(1)</script>", encoding="utf-8")
    settings = Settings(dhu_privacy_notice_file=notice, dhu_accessibility_statement_file=statement)

    privacy = render_markdown(site_pages.privacy_notice(settings=settings))
    assert "<h2>Our notice</h2>" in privacy and "We keep little." in privacy
    assert "The controller of the personal data" not in privacy
    _assert_inert(privacy)
    accessibility = render_markdown(site_pages.accessibility_statement(settings=settings))
    assert "<h2>Our statement</h2>" in accessibility
    _assert_inert(accessibility)


@pytest.mark.parametrize("problem", ["missing", "empty", "folder", "not UTF-8"])
def test_an_unreadable_operator_file_falls_back_to_the_default_and_is_logged(
    tmp_path, caplog, problem
):
    path = tmp_path / "privacy.md"
    if problem == "empty":
        path.write_text("  \n", encoding="utf-8")
    elif problem == "folder":
        path.mkdir()
    elif problem == "not UTF-8":
        path.write_bytes(b"\xff\xfe\x00 Datenschutz")
    with caplog.at_level(logging.ERROR, logger="dhu_core.site_pages"):
        text = site_pages.privacy_notice(settings=Settings(dhu_privacy_notice_file=path))
    assert text == site_pages.privacy_notice(settings=Settings())
    assert [r.getMessage() for r in caplog.records if "DHU_PRIVACY_NOTICE_FILE" in r.getMessage()]


def test_help_explains_every_twinning_criterion_with_its_default_weight():
    with open(site_pages.PAGES_DIR / "twinning_criteria.csv", encoding="utf-8") as f:
        assert [row["criterion"] for row in csv.DictReader(f)] == list(matching.CRITERIA)
    html = unescape(render_markdown(site_pages.help_page(settings=Settings())))
    for name, label in matching.CRITERIA.items():
        assert re.search(
            rf"<td>{re.escape(label)}</td>\s*<td>[^<]+</td>\s*<td>"
            rf"{matching.DEFAULT_WEIGHTS[name]:g}</td>",
            html,
        ), label


def test_the_glossary_comes_from_the_code_lists():
    html = render_markdown(site_pages.help_page(settings=Settings()))
    for code in taxonomy.MATURITY_LEVELS:
        assert f"<strong>{taxonomy.MATURITY_LEVELS.label(code)}</strong>" in html
        assert taxonomy.MATURITY_LEVELS.definitions[code] in html
    categories = [code for code in taxonomy.DHI_CODES if code.count(".") == 1]
    assert len(categories) > 20
    for code in categories:
        assert f"<li>{code} {taxonomy.DHI_CODES.label(code)}</li>" in html
    for group in taxonomy.DHI_GROUPS:
        assert f"<strong>{group} {taxonomy.DHI_GROUPS.label(group)}</strong>" in html


def test_data_and_api_links_from_the_apps_base_and_names_the_licence():
    text = site_pages.data_and_api(
        settings=Settings(), base_path="/dhu/", app_url="https://dhu.example.org/dhu"
    )
    html = render_markdown(text)
    for path in (
        "/api/v1/openapi.json",
        "/api/v1/practices",
        "/api/v1/feeds/practices.atom",
        "/api/v1/feeds/digests.atom",
        "/api/v1/feeds/spotlights.atom",
        "/api/v1/open-data/practices.csv",
        "/api/v1/open-data/practices.json",
        "/api/v1/open-data/data-dictionary.csv",
    ):
        assert f'href="/dhu{path}"' in html, path
    assert "curl 'https://dhu.example.org/dhu/api/v1/practices?country=EE" in html
    assert "CC BY 4.0" in html and "120 requests a minute" in html
    root = site_pages.data_and_api(settings=Settings(), base_path="", app_url="http://x")
    assert 'href="/api/v1/openapi.json"' in render_markdown(root)


def test_data_and_api_lists_every_endpoint_of_the_openapi_document():
    openapi = pytest.importorskip("dhu_core.api.openapi")
    text = site_pages.data_and_api(settings=Settings(), base_path="", app_url="http://x")
    missing = [path for path in openapi.document()["paths"] if path not in text]
    assert missing == []


# --- the pages in other languages ----------------------------------------------------------

PAGE_FILES = ["about", "help", "privacy", "accessibility", "data-and-api"]
LINK = re.compile(r"\]\(([^)]*)\)")


@pytest.mark.parametrize("language", [code for code in i18n.LANGUAGES if code != i18n.DEFAULT])
@pytest.mark.parametrize("name", PAGE_FILES)
def test_every_page_has_a_translation_with_the_same_placeholders_links_and_sections(name, language):
    english = (site_pages.PAGES_DIR / f"{name}.md").read_text(encoding="utf-8")
    translated = (site_pages.PAGES_DIR / f"{name}.{language}.md").read_text(encoding="utf-8")
    placeholders = re.compile(r"\{\{\s*\w+\s*\}\}")
    assert sorted(placeholders.findall(translated)) == sorted(placeholders.findall(english))
    assert LINK.findall(translated) == LINK.findall(english)
    headings = re.compile(r"^#+ ", re.MULTILINE)
    assert len(headings.findall(translated)) == len(headings.findall(english))
    with open(site_pages.PAGES_DIR / "twinning_criteria.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            assert row[f"label_{language}"].strip() and row[f"means_{language}"].strip(), row


def test_a_page_is_shown_in_the_page_language_with_its_generated_parts():
    with i18n.language("de"):
        about = site_pages.about(settings=Settings())
        help_page = unescape(render_markdown(site_pages.help_page(settings=Settings())))
    assert "## Drei Säulen" in about and "Three pillars" not in about
    assert "betreibt der Betreiber dieser Installation" in about
    assert "Für diese Installation wurde noch keine Kontaktadresse angegeben." in about
    assert "<th>Kriterium</th>" in help_page
    assert re.search(r"<td>Gesundheitsbereiche</td>\s*<td>[^<]+</td>\s*<td>3</td>", help_page)
    assert "<strong>Grenzüberschreitend</strong>: Im Regelbetrieb in mehr als" in help_page
    assert "<li>2.4 Telemedizin</li>" in help_page
    # English is the fallback, and stays the default.
    assert "## Three pillars" in site_pages.about(settings=Settings())


# --- the pages in the app ------------------------------------------------------------------


@pytest.fixture(scope="module")
def operated(tmp_path_factory):
    """The app on one embedded database for this module, with an operator's settings: a
    hostile name, a contact, a hostile privacy notice and a missing accessibility statement."""
    folder = tmp_path_factory.mktemp("site-pages")
    notice = folder / "privacy.md"
    notice.write_text(f"## Our own notice\n\n{HOSTILE}", encoding="utf-8")
    with pytest.MonkeyPatch.context() as env:
        env.delenv("DATABASE_URL", raising=False)
        env.setenv("DHU_DATA_DIR", str(folder))
        env.setenv("DHU_OPERATOR_NAME", HOSTILE_NAME)
        env.setenv("DHU_OPERATOR_CONTACT", "dpo@sante.example")
        env.setenv("DHU_PRIVACY_NOTICE_FILE", str(notice))
        env.setenv("DHU_ACCESSIBILITY_STATEMENT_FILE", str(folder / "missing.md"))
        _clear_caches()
        yield env
    _clear_caches()


def _clear_caches() -> None:
    get_settings.cache_clear()
    streamlit.cache_data.clear()
    streamlit.cache_resource.clear()


def _html(at: AppTest) -> str:
    """The page's rich text (the platform's own stylesheet left out)."""
    bodies = (element.proto.body for element in at.get("html"))
    return "\n".join(body for body in bodies if 'class="dhu-rich-text"' in body)


def _visit_every_page(at: AppTest) -> dict[str, str]:
    """Each page's HTML, after checking its heading, that it failed nowhere, and its footer."""
    shown = {}
    for module, heading in PAGES.items():
        at.switch_page(f"app_pages/{module}.py").run()
        assert not at.exception and not at.error, module
        assert [t.value for t in at.title] == [heading]
        footer = [link.proto.label for link in at.get("page_link")][-len(FOOTER) :]
        assert footer == FOOTER, module
        shown[module] = _html(at)
    return shown


def test_every_page_opens_for_a_visitor_with_the_operators_text_escaped(operated):
    shown = _visit_every_page(AppTest.from_file(APP, default_timeout=60).run())
    for html in shown.values():
        _assert_inert(html)
    assert "Santé &lt;b&gt;Régionale&lt;/b&gt;" in shown["about"]
    assert '<a href="mailto:dpo@sante.example"' in shown["about"]
    assert "<h2>Our own notice</h2>" in shown["privacy"]
    assert "The controller of the personal data" not in shown["privacy"]
    # The statement's file is missing: the default statement, naming the operator.
    assert "Web Accessibility Directive" in shown["accessibility"]
    assert "Santé &lt;b&gt;Régionale&lt;/b&gt;" in shown["accessibility"]
    assert "Clients</strong>" in shown["help"]
    assert "curl 'http://localhost:" in shown["data_api"]


def test_every_page_opens_for_a_signed_in_user_with_the_footer_on_other_pages(operated):
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), "demo-owner")
    assert any("Signed in as demo" in c.value for c in at.sidebar.caption)
    _visit_every_page(at)
    for other in ("home", "radar", "my_practices"):
        at.switch_page(f"app_pages/{other}.py").run()
        assert [link.proto.label for link in at.get("page_link")][-len(FOOTER) :] == FOOTER


def test_the_footer_stays_under_a_protected_page_that_asks_to_sign_in(operated):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/review.py").run()
    assert [t.value for t in at.title] == ["Sign in"]
    assert [link.proto.label for link in at.get("page_link")][-len(FOOTER) :] == FOOTER


def test_an_invalid_contact_stops_the_app_with_a_message_naming_the_setting(operated):
    operated.setenv("DHU_OPERATOR_CONTACT", "javascript:alert(1)")
    get_settings.cache_clear()
    try:
        at = AppTest.from_file(APP, default_timeout=60).run()
        assert not at.exception
        [error] = at.error
        assert error.value.startswith("DHU_OPERATOR_CONTACT: give an e-mail address")
        assert "alert" not in error.value
    finally:
        operated.setenv("DHU_OPERATOR_CONTACT", "dpo@sante.example")
        get_settings.cache_clear()
