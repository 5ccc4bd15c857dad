"""Browser: the keyboard alone signs in, registers a practice, searches RADAR and opens a practice,
and every control it stops on shows that it has the focus (WCAG 2.1 AA, 2.1.1 and 2.4.7; issue
16). No click and no mouse: Tab, Shift+Tab, Enter, Space, the arrow keys and typing."""

import re

import pytest

from tests import axe_audit
from tests.browser import demo_password, settle, wait_for_session_cookie

pytestmark = pytest.mark.browser
OWNER = "demo-owner"
WORD = "Kestrelcare"
#: How many Tab presses may separate two controls the scenario uses.
MAX_STOPS = 80
#: A focus indicator is visible when it is at least 2 px wide and has a contrast of at least 3:1
#: with what is around it (WCAG 2.1, 1.4.11 non-text contrast).
MIN_WIDTH = 2
MIN_CONTRAST = 3.0

#: The focused element, its accessible name, and its focus indicator: the outline or box-shadow
#: drawn around it, its width and its contrast with the background it is drawn on.
FOCUS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) return null;
  const rgba = text => {
    const n = (text.match(/[\\d.]+/g) || []).map(Number);
    return n.length >= 3 ? [n[0], n[1], n[2], n.length > 3 ? n[3] : 1] : [0, 0, 0, 0];
  };
  let background = [255, 255, 255];
  for (let a = e.parentElement; a; a = a.parentElement) {
    const c = rgba(getComputedStyle(a).backgroundColor);
    if (c[3] > 0.99) { background = c.slice(0, 3); break; }
  }
  const over = c => c.slice(0, 3).map((v, i) => v * c[3] + background[i] * (1 - c[3]));
  const luminance = c => {
    const [r, g, b] = c.map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = c => {
    const [a, b] = [luminance(over(c)), luminance(background)];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  };
  const style = getComputedStyle(e);
  const rings = [];
  if (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) {
    const colour = rgba(style.outlineColor);
    rings.push({width: parseFloat(style.outlineWidth), contrast: contrast(colour)});
  }
  if (style.boxShadow !== "none") {
    for (const shadow of style.boxShadow.split(/,(?![^(]*\\))/)) {
      const colour = shadow.match(/rgba?\\([^)]*\\)/);
      const lengths = shadow.replace(/rgba?\\([^)]*\\)/, "").match(/-?[\\d.]+px/g) || [];
      const spread = lengths.length > 3 ? Math.abs(parseFloat(lengths[3])) : 0;
      if (colour) rings.push({width: spread, contrast: contrast(rgba(colour[0]))});
    }
  }
  const labelled = e.getAttribute("aria-labelledby");
  const name = e.getAttribute("aria-label")
    || (labelled && document.getElementById(labelled)?.innerText)
    || (e.labels && e.labels[0] && e.labels[0].innerText)
    || e.innerText || e.value || "";
  const box = e.getBoundingClientRect();
  return {
    tag: e.tagName, role: e.getAttribute("role") || "", name: name.trim().replace(/\\s+/g, " "),
    shown: box.width > 0 && box.height > 0, rings,
  };
}"""


class Keyboard:
    """The scenario's hands on the keyboard: every stop of the focus is checked and kept."""

    def __init__(self, page):
        self.page = page
        self.stops: list[dict] = []
        self.invisible: list[str] = []

    def focused(self) -> dict | None:
        return self.page.evaluate(FOCUS)

    def check(self) -> dict | None:
        """The focused element; noted when its focus does not show."""
        focus = self.focused()
        self.stops.append(focus)
        if focus is None:  # on the page's body: the next Tab starts from the top again
            return None
        visible = focus["shown"] and any(
            ring["width"] >= MIN_WIDTH and ring["contrast"] >= MIN_CONTRAST
            for ring in focus["rings"]
        )
        if not visible:
            self.invisible.append(f"{focus['tag']} {focus['role']} {focus['name'][:60]!r}")
        return focus

    def tab_to(self, name: str | re.Pattern, *, backwards: bool = False) -> dict:
        """Press Tab (Shift+Tab) until an element of that accessible name (or one matching
        that pattern) has the focus."""
        wanted = name if isinstance(name, re.Pattern) else re.compile(re.escape(name))
        for _ in range(MAX_STOPS):
            self.page.keyboard.press("Shift+Tab" if backwards else "Tab")
            focus = self.check()
            if focus and (
                wanted.search(focus["name"]) if wanted is name else wanted.fullmatch(focus["name"])
            ):
                return focus
        raise AssertionError(f"{name!r} was not reached in {MAX_STOPS} Tab presses")

    def type(self, text: str) -> None:
        self.page.keyboard.type(text, delay=10)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)


def sign_in_by_keyboard(keys: Keyboard, url: str, password: str) -> None:
    page = keys.page
    page.goto(url + "/sign-in")
    settle(page)
    keys.tab_to("Username")
    keys.type(OWNER)
    keys.tab_to("Password")
    keys.type(password)
    keys.press("Enter")
    page.get_by_text(f"Signed in as {OWNER}").wait_for(timeout=30_000)
    wait_for_session_cookie(page, seconds=60)
    settle(page)


def open_from_menu(keys: Keyboard, label: str, title: str) -> None:
    """Follow the menu's link `label` (from the top of the page) to the page of that h1."""
    page = keys.page
    page.keyboard.press("Control+Home")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    keys.tab_to(re.compile(re.escape(label) + "$"))
    keys.press("Enter")
    page.locator("[data-testid=stMain] h1", has_text=title).first.wait_for(timeout=60_000)
    settle(page)


def choose(keys: Keyboard, label: str, option: str, *, several: bool = False) -> None:
    """Choose `option` in a select box: type to filter the list, Enter to take the first."""
    keys.tab_to(label)
    keys.type(option)
    keys.page.get_by_role("option", name=option, exact=True).wait_for(timeout=10_000)
    keys.press("Enter")
    if several:  # a multiselect stays open for more
        keys.press("Escape")
    settle(keys.page)


#: What a control says is wrong with it: aria-invalid and the texts its aria-describedby names.
DESCRIBED = """control => ({
  invalid: control.getAttribute("aria-invalid"),
  description: (control.getAttribute("aria-describedby") || "").split(/\\s+/).filter(Boolean)
    .map(id => document.getElementById(id)?.innerText.trim() || "").join(" "),
})"""


def described(locator) -> dict:
    return locator.evaluate(DESCRIBED)


def submit_empty_form(keys: Keyboard) -> None:
    """Submit the empty form: each message names its field, sits right under it and is tied to
    its control (aria-describedby), and the focus goes to the first field to correct."""
    page = keys.page
    keys.tab_to(re.compile(r"Submit for review$"))
    keys.press("Enter")
    page.get_by_text("Please correct").wait_for(timeout=30_000)
    page.wait_for_function("document.activeElement.getAttribute('aria-label') === 'Title *'")
    settle(page)
    title = page.get_by_role("textbox", name="Title *")
    assert described(title) == {
        "invalid": "true",
        "description": "Title needs at least 3 characters",
    }
    countries = page.get_by_role("combobox", name="Countries of deployment *")
    assert described(countries) == {
        "invalid": "true",
        "description": "Countries of deployment: Name at least one country where it is deployed",
    }
    assert described(page.get_by_role("textbox", name="Description")) == {
        "invalid": None,
        "description": "",
    }


def register_by_keyboard(keys: Keyboard) -> None:
    page = keys.page
    open_from_menu(keys, "Register a practice", "Register a practice")
    submit_empty_form(keys)
    keys.check()  # the focus moved to the title
    keys.type(f"{WORD} home monitoring")
    keys.tab_to("Summary *")
    keys.type(f"{WORD} lets nurses follow heart patients at home with a tablet and a scale.")
    keys.press("Tab")  # leaving the field keeps its text (a run of the page)
    settle(page)
    keys.check()
    # Corrected, a field's message goes, and with it what tied the message to the field.
    assert described(page.get_by_role("textbox", name="Title *")) == {
        "invalid": None,
        "description": "",
    }
    choose(keys, "Type of practice *", "App")
    keys.tab_to(re.compile(r"^1 · "))  # the first maturity level; the arrows move in the group
    keys.press("ArrowDown")
    settle(page)
    assert page.get_by_role("radio", checked=True).first.get_attribute("value") is not None
    choose(keys, "Countries of deployment *", "Estonia", several=True)
    keys.tab_to(re.compile(r"Submit for review$"))  # after its icon
    keys.press("Enter")
    page.get_by_text("Submitted for review. A coordinator will look at it soon.").wait_for(
        timeout=30_000
    )
    settle(page)


def find_by_keyboard(keys: Keyboard) -> str:
    """Search RADAR for a word of a published practice and open the first result; its title."""
    page = keys.page
    open_from_menu(keys, "RADAR", "RADAR")
    keys.tab_to("Search")
    keys.type("telestroke")
    keys.press("Enter")
    page.wait_for_url(re.compile(r"[?&]q=telestroke"), timeout=30_000)
    settle(page)
    card = page.locator("[data-testid=stMain] [data-testid=stPageLink-NavLink]").first
    title = card.inner_text().strip()
    keys.tab_to(title)
    keys.press("Enter")
    page.wait_for_url(re.compile(r"practice=\d+"), timeout=30_000)
    page.get_by_role("heading", name=title).first.wait_for(timeout=30_000)
    settle(page)
    return title


def test_a_practice_owner_works_with_the_keyboard_alone(demo_server, page):
    url, database = demo_server
    keys = Keyboard(page)
    sign_in_by_keyboard(keys, url, demo_password(database, OWNER))
    register_by_keyboard(keys)
    title = find_by_keyboard(keys)

    assert title in page.locator("[data-testid=stMain] h1").first.inner_text()
    # Back the way it came: Shift+Tab reaches the link to the catalogue.
    keys.tab_to(re.compile("Back to the catalogue$"), backwards=True)
    assert len(keys.stops) > 20
    assert not keys.invisible, "focus not visible on:\n" + "\n".join(keys.invisible)


def test_every_chart_table_of_the_map_opens_by_keyboard(demo_server, page):
    """Under each chart, its "Data table" opens with Tab and Enter; open, the page still has no
    serious or critical violation (a table wider than its box scrolls by keyboard too)."""
    url, _ = demo_server
    axe_audit.open_page(page, url + "/map?country=EE", "Uptake map")
    charts = "document.querySelectorAll('[data-testid=stVegaLiteChart]').length >= 8"
    page.wait_for_function(charts, timeout=60_000)
    keys = Keyboard(page)
    summary = page.locator("summary", has_text="Data table")
    expanders = page.locator("[data-testid=stExpander]").filter(has=summary)
    count = expanders.count()
    assert count == page.locator("[data-testid=stVegaLiteChart]").count() >= 8

    for _ in range(count):
        keys.tab_to(re.compile(r"Data table$"))
        keys.press("Enter")
    settle(page)
    for index in range(count):
        assert expanders.nth(index).locator("table").is_visible()
    assert not keys.invisible, "focus not visible on:\n" + "\n".join(keys.invisible)
    severe = [
        str(v)
        for v in axe_audit.audit_quiet_page(page, axe_audit.exclusions())
        if v.impact in axe_audit.SEVERE
    ]
    assert not severe, "\n".join(severe)
