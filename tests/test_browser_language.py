"""Browser: the interface language follows the browser, the menu's choice is remembered by the
browser and kept in the address, and the page says its language on <html lang>."""

import pytest

from tests.browser import settle

pytestmark = pytest.mark.browser


def test_the_language_follows_the_browser_then_the_choice_made_in_the_menu(demo_server, chromium):
    url, _ = demo_server
    context = chromium.new_context(locale="de-DE", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(url + "/")
    page.get_by_text("Veröffentlichte Praktiken").wait_for(timeout=60_000)
    settle(page)
    assert page.evaluate("document.documentElement.lang") == "de"
    assert page.get_by_role("link", name="Verbreitungskarte").first.is_visible()
    assert "lang=" not in page.url  # guessed from the browser, not chosen

    page.get_by_role("combobox", name="Sprache").click()
    page.get_by_role("option", name="Français").click()
    page.get_by_text("Pratiques publiées").wait_for(timeout=30_000)
    settle(page)
    assert "lang=fr" in page.url
    assert page.evaluate("document.documentElement.lang") == "fr"

    # A new tab of the same browser, opened without ?lang=, remembers the choice.
    second = context.new_page()
    second.goto(url + "/map")
    second.get_by_role("link", name="Carte de l'adoption").first.wait_for(timeout=60_000)
    settle(second)
    assert "lang=fr" in second.url
    # Moving to another page keeps the language in the address.
    second.get_by_role("link", name="Accueil").first.click()
    second.get_by_text("Pratiques publiées").wait_for(timeout=30_000)
    settle(second)
    assert "lang=fr" in second.url
    context.close()
