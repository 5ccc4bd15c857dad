"""Browser: every page in the menu of a visitor, an owner, an evaluator, a coordinator and an
administrator, drawn in German, shows no English text of the catalogue (issue 16): the rendered
text is compared with every message that German translates. A signed-in role tours the pages
its menu adds to the visitor's."""

import pytest

from dhu_core import i18n
from dhu_core.ui import shell
from tests import axe_audit
from tests.browser import demo_password, sign_in
from tests.german import catalogue

pytestmark = pytest.mark.browser

ROLES = {**axe_audit.ROLES, "evaluator": "demo-evaluator"}
#: Texts this long are looked for inside the page's lines; shorter ones only as a whole line
#: (a short English word may be part of a practice's title, which stays as it was written).
LONG = 25


def english_of_the_catalogue() -> tuple[set[str], list[str]]:
    """The English messages German translates otherwise: (short ones, long ones)."""
    english = set()
    for message in catalogue("de"):
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in ids:
            if text and text not in strings and "{" not in text:
                english.add(text.replace("**", "").strip())
    return {t for t in english if len(t) < LONG}, [t for t in english if len(t) >= LONG]


def english_left(text: str, short: set[str], long: list[str]) -> list[str]:
    """The catalogue's English texts found in a page's rendered `text`."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    found = {line for line in lines if line in short}
    found |= {english for english in long if any(english in line for line in lines)}
    return sorted(found)


def _pages_of(role: str) -> list[shell.PageSpec]:
    """The pages of `role`'s menu; a signed-in role's without the visitor's, which the visitor's
    tour reads (the run stays short: each page once, by the first role that has it)."""
    pages = axe_audit.menu(role)
    if role == shell.VISITOR:
        return pages
    public = set(axe_audit.menu(shell.VISITOR))
    return [spec for spec in pages if spec not in public]


def test_the_check_finds_english_text():
    short, long = english_of_the_catalogue()
    assert english_left("Uptake map\nSomething else", short, long) == ["Uptake map"]
    assert english_left("Verbreitungskarte", short, long) == []


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_in_german_has_no_english_text_of_the_catalogue(demo_server, chromium, role):
    url, database = demo_server
    short, long = english_of_the_catalogue()
    # Signed in in English (the form's labels), then every page asked for in German by its address.
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    left = {}
    try:
        username = ROLES[role]
        if username:
            sign_in(page, url, username, demo_password(database, username))
        for spec in _pages_of(role):
            with i18n.language("de"):
                title = i18n._(spec.title)
            axe_audit.open_page(page, f"{url}/{spec.url_path}?lang=de", title)
            assert page.evaluate("document.documentElement.lang") == "de"
            found = english_left(page.locator("body").inner_text(), short, long)
            if found:
                left["/" + spec.url_path] = found
    finally:
        context.close()
    report = "\n".join(f"{path}: {found}" for path, found in left.items())
    assert not left, f"English left on the {role}'s pages in German:\n{report}"


def test_every_role_of_the_menu_is_toured():
    assert {role for spec in shell.PAGES for role in spec.roles} == set(ROLES)
