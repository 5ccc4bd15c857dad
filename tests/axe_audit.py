"""An accessibility audit with axe-core (WCAG 2.1 A and AA rules) of every page in the menu of a
visitor, an owner, a coordinator and an administrator, in Debian's Chromium.

`python -m tests.axe_audit` starts the app on a new demo database and prints the violations per
page and role (serious, critical, other); tests/test_browser_axe.py fails on any serious or
critical one that is not excused in tests/data/axe_exclusions.csv.
"""

import csv
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

from dhu_core.ui import shell
from tests.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    demo_password,
    first_visit,
    settle,
    sign_in,
    streamlit_server,
)

#: The roles audited and the demo account each signs in with (None: nobody signed in).
ROLES = {
    shell.VISITOR: None,
    "owner": "demo-owner",
    "coordinator": "demo-coordinator",
    "admin": "demo-admin",
}
#: axe-core's tags of the WCAG 2.0 and 2.1 success criteria at levels A and AA.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SEVERE = ("serious", "critical")
EXCLUSIONS = Path(__file__).parent / "data" / "axe_exclusions.csv"

#: No run of the page under way: Streamlit fades the elements of a page that is rerunning
#: (stale), which axe would take for text of too little contrast. /live reruns every 5 s.
QUIET = """() => !document.querySelector('[data-stale="true"], [data-testid="stStatusWidget"]')"""
#: Whether each node a violation names lies inside an element of Streamlit's matching `within`
#: (a CSS selector): only those nodes may be excused.
NODES_WITHIN = """([targets, within]) => targets.map(target => {
  const element = target && document.querySelector(target);
  return !!(element && element.closest(within));
})"""


@dataclass(frozen=True)
class Exclusion:
    """A rule excused inside one part of Streamlit's own markup, and why we cannot fix it."""

    rule: str
    within: str
    reason: str


@dataclass(frozen=True)
class Violation:
    """A rule broken on a page, with its impact and the nodes that break it."""

    rule: str
    impact: str
    help: str
    nodes: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.rule} ({self.impact}, {len(self.nodes)}): {self.help}: {self.nodes[:3]}"


def exclusions() -> list[Exclusion]:
    """The excused rules of tests/data/axe_exclusions.csv; each must give its reason."""
    with open(EXCLUSIONS, newline="") as file:
        rows = [Exclusion(**row) for row in csv.DictReader(file)]
    missing = [row.rule for row in rows if not row.reason.strip() or not row.within.strip()]
    if missing:
        raise ValueError(f"{EXCLUSIONS.name}: no reason or no element given for {missing}")
    return rows


def menu(role: str) -> list[shell.PageSpec]:
    """The pages in `role`'s menu."""
    return [spec for spec in shell.pages_for(role) if not spec.hidden]


def audit(page, excused: list[Exclusion] = ()) -> list[Violation]:
    """The WCAG 2.1 A and AA violations of the page open in `page`, without the nodes excused.

    A node inside an iframe or a shadow root (its target is more than one selector) is never
    excused.
    """
    options = {"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]}
    violations = []
    for found in Axe().run(page, options=options).response["violations"]:
        nodes = found["nodes"]
        targets = [n["target"][0] if len(n["target"]) == 1 else "" for n in nodes]
        for exclusion in (e for e in excused if e.rule == found["id"]):
            inside = page.evaluate(NODES_WITHIN, [targets, exclusion.within])
            nodes = [n for n, excuse in zip(nodes, inside, strict=True) if not excuse]
            targets = [t for t, excuse in zip(targets, inside, strict=True) if not excuse]
        if nodes:
            html = tuple(node["html"][:160] for node in nodes)
            violations.append(Violation(found["id"], found["impact"], found["help"], html))
    return violations


def audit_quiet_page(page, excused: list[Exclusion] = (), attempts: int = 3) -> list[Violation]:
    """`audit` of the page at rest: again if a rerun of the page began while axe ran."""
    for _ in range(attempts):
        page.wait_for_function(QUIET, timeout=30_000)
        violations = audit(page, excused)
        if page.evaluate(QUIET):
            break
    return violations


def open_page(page, url: str, title: str) -> None:
    """Open `url` and wait until the app has drawn the page of that `title` (its tab's title)."""
    page.goto(url)
    wait_until_drawn(page, title)


def wait_until_drawn(page, title: str) -> None:
    """Wait until the page of that tab `title` is drawn and the app has finished its runs."""
    page.wait_for_function("title => document.title.startsWith(title)", arg=title, timeout=60_000)
    page.locator("[data-testid=stMain] h1").first.wait_for(timeout=60_000)
    settle(page)


def audit_role(
    chromium, url: str, database: Path, role: str, excused: list[Exclusion] = ()
) -> Iterator[tuple[str, list[Violation]]]:
    """(path, violations) for each page in the menu of `role`, signed in as its demo account."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        username = ROLES[role]
        if username:
            sign_in(page, url, username, demo_password(database, username))
        for spec in menu(role):
            path = "/" + spec.url_path
            # Through the menu, as people do (and in a third less time than loading each page);
            # the first page and the one after /live, which hides the menu, by their address.
            link = page.locator(f'[data-testid="stSidebarNavLink"][href="{url}{path}"]')
            if link.is_visible():
                link.click()
                # A page may add its state to the address (/twinning?need=13).
                address = re.compile(re.escape(url + path) + r"(\?.*)?$")
                page.wait_for_url(address, wait_until="commit")
                wait_until_drawn(page, spec.title)
            else:
                open_page(page, url + path, spec.title)
            yield path, audit_quiet_page(page, excused)
    finally:
        context.close()


def counts(violations: list[Violation]) -> dict[str, int]:
    """How many nodes break a serious, a critical and any other rule."""
    tally = {"serious": 0, "critical": 0, "other": 0}
    for violation in violations:
        key = violation.impact if violation.impact in SEVERE else "other"
        tally[key] += len(violation.nodes)
    return tally


def main() -> None:
    """Print the violations (nodes) per page and role on a new demo database, and each rule."""
    from playwright.sync_api import sync_playwright

    details = "-v" in sys.argv
    excused = exclusions() if "--excused" in sys.argv else []
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        data_dir = Path(folder)
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        env = {"DHU_DATA_DIR": str(data_dir), "DATABASE_URL": ""}
        with streamlit_server(env, data_dir / "streamlit.log") as url:
            first_visit(chromium, url)
            print("| role | page | serious | critical | other |\n|---|---|---|---|---|")
            for role in ROLES:
                for path, violations in audit_role(
                    chromium, url, data_dir / "dhu.sqlite3", role, excused
                ):
                    tally = counts(violations)
                    print(
                        f"| {role} | {path} | {tally['serious']} | {tally['critical']} "
                        f"| {tally['other']} |",
                        flush=True,
                    )
                    if details:
                        for violation in violations:
                            print(f"    {violation}", flush=True)
        chromium.close()
    print(f"{time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
