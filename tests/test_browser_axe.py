"""Browser: no serious or critical WCAG 2.1 AA violation (axe-core) on any page in the menu of a
visitor, an owner, a coordinator and an administrator (issue 16)."""

import pytest
from axe_playwright_python.base import AXE_SCRIPT

from tests import axe_audit

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("role", list(axe_audit.ROLES))
def test_no_page_of_the_menu_has_a_serious_or_critical_violation(demo_server, chromium, role):
    url, database = demo_server
    excused = axe_audit.exclusions()
    severe = {}
    for path, violations in axe_audit.audit_role(chromium, url, database, role, excused):
        found = [str(v) for v in violations if v.impact in axe_audit.SEVERE]
        if found:
            severe[path] = found
    report = "\n".join(f"{path}:\n  " + "\n  ".join(found) for path, found in severe.items())
    assert not severe, f"serious or critical violations for the {role}:\n{report}"


def test_every_exclusion_names_a_rule_axe_knows_and_streamlit_markup(demo_server, page):
    """An excused rule is one axe-core has, and its element is one of Streamlit's own (data-testid
    attributes are Streamlit's; ours are the classes `dhu-…` and `st-key-…`)."""
    url, _ = demo_server
    axe_audit.open_page(page, url + "/about", "About")
    page.evaluate(AXE_SCRIPT)
    rules = set(page.evaluate("axe.getRules().map(rule => rule.ruleId)"))
    for exclusion in axe_audit.exclusions():
        assert exclusion.rule in rules
        assert exclusion.within.startswith("[data-testid=")
        assert page.locator(exclusion.within).count() >= 1, exclusion.within


def test_the_page_declares_its_language(demo_server, page):
    """English, the interface's only language so far (Streamlit's page says so itself)."""
    url, _ = demo_server
    for path, title in (("/", "Home"), ("/map", "Uptake map"), ("/accessibility", "Accessibility")):
        axe_audit.open_page(page, url + path, title)
        assert page.evaluate("document.documentElement.lang") == "en", path
