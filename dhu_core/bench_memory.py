"""Memory of an app process, for `dhu bench`: what each index holds, and what one process holds
resident once every page has been visited by every role.

The app runs as `dhu serve` runs one process, on the benchmark's database, on loopback only.
Debian's Chromium visits every page a visitor reaches from the navigation, then signs in as
each demo role and visits every page that role's navigation shows, and opens a practice and a
country. After each role, the app process's resident memory (VmRSS) and its peak so far
(VmHWM) are read from /proc.
"""

import os
import sys
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import numpy as np
from scipy import sparse
from sqlalchemy import Engine
from sqlmodel import col, select

from dhu_core import accounts, db, demo_logins, facet_index, matching, serve, similarity
from dhu_core.chromium import CHROMIUM, CHROMIUM_ARGS
from dhu_core.demo import DEMO_USERNAMES
from dhu_core.demo_logins import DemoLogin
from dhu_core.models import User, utcnow

#: The demo roles that sign in, one after the other (the visitor comes first).
ROLES = ("owner", "coordinator", "admin", "evaluator")
#: How long one page may take to be drawn (the first ones build the indexes).
PAGE_TIMEOUT_MS = 180_000
#: The links of the navigation, on a phone or a desktop.
NAVIGATION = "[data-testid=stSidebarNav] a[href], [data-testid=stTopNavLink] a[href]"


def run_index_sizes(*, engine: Engine) -> dict:
    """The bytes each index of an app process holds (its arrays, and its Python objects)."""
    with db.read_scope(engine) as session:
        facets = facet_index.FacetIndex.build(session, utcnow() - timedelta(days=365))
    built = {
        "facet index (catalogue)": facets,
        "similarity index": similarity.SimilarityIndex.build(engine=engine),
        "matching index": matching.MatchingIndex.build(engine),
    }
    return {name: f"{deep_size(index) / 2**20:.1f} MB" for name, index in built.items()}


def deep_size(value: object, seen: set[int] | None = None) -> int:
    """The bytes of `value` and of everything it refers to (arrays by their buffers)."""
    seen = set() if seen is None else seen
    if id(value) in seen or isinstance(value, type):
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        return value.nbytes
    if sparse.issparse(value):
        parts = ("data", "indices", "indptr")
        return sum(getattr(value, part).nbytes for part in parts if hasattr(value, part))
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in value.items())
    elif isinstance(value, list | tuple | set | frozenset):
        size += sum(deep_size(item, seen) for item in value)
    elif hasattr(value, "__dict__"):
        size += deep_size(vars(value), seen)
    for name in _slots(type(value)):
        size += deep_size(getattr(value, name, None), seen)
    return size


def _slots(cls: type) -> list[str]:
    """The names of the slots of a class and of its bases (a slotted object has no __dict__)."""
    names = []
    for klass in cls.__mro__:
        slots = vars(klass).get("__slots__", ())
        names += [slots] if isinstance(slots, str) else list(slots)
    return [name for name in names if name not in ("__dict__", "__weakref__")]


def run_memory_bench(
    *, database: Path, logins: Iterable[DemoLogin], workdir: Path, roles: Iterable[str] = ROLES
) -> dict:
    """Visit every page as a visitor and as each demo role of `roles`, on one app process
    serving the SQLite database at `database`; its resident memory after each, and its peak."""
    try:
        import playwright  # noqa: F401 (a test dependency; imported where the browser starts)
    except ImportError:
        return {"skipped": "the tour needs Playwright: pip install -e '.[test]'"}
    if not Path(CHROMIUM).exists():
        return {"skipped": f"the tour needs Chromium ({CHROMIUM}): apt-get install chromium"}
    by_role = {login.role: login for login in logins if login.role in set(roles)}
    workdir.mkdir(parents=True, exist_ok=True)
    environ = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DHU_DATA_DIR": str(workdir),
        "DHU_JOBS_IN_APP": "false",
    }
    port = serve.free_port()
    with (
        open(workdir / "app.log", "w") as log,
        serve.running(
            workers=1,
            listen=f"127.0.0.1:{port}",
            first_port=port,
            proxy=False,
            announce=lambda _: None,
            environ=environ,
            output=log,
        ) as processes,
        # In a thread of its own: a caller may run an event loop (Playwright's sync API does).
        ThreadPoolExecutor(max_workers=1) as runner,
    ):
        pid = processes.apps[0].pid
        url = f"http://127.0.0.1:{port}"
        return runner.submit(_tour, url, pid, by_role).result()


def _tour(url: str, pid: int, by_role: dict[str, DemoLogin]) -> dict:
    from playwright.sync_api import sync_playwright

    figures: dict[str, str] = {"app process at start": _megabytes(pid)}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for role in ("visitor", *by_role):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                page.set_default_timeout(PAGE_TIMEOUT_MS)
                if role != "visitor":
                    _sign_in(page, url, by_role[role])
                visited = _visit_every_page(page, url)
                context.close()
                figures[f"after the {role}'s {visited} pages"] = _megabytes(pid)
        finally:
            browser.close()
    figures["peak"] = _megabytes(pid, field="VmHWM")
    # What the last figure is made of: memory of the process's own (the Python heap, arrays),
    # and its share when the pages of the libraries' files are split among the processes
    # mapping them (each app process of `dhu serve --workers N` maps the same files).
    figures["of it anonymous (heap, arrays)"] = _megabytes(pid, field="RssAnon")
    figures["proportional set size (PSS)"] = _megabytes(pid, field="Pss", source="smaps_rollup")
    return figures


def _sign_in(page, url: str, login: DemoLogin) -> None:
    page.goto(url + "/sign-in")
    _settle(page)
    page.get_by_role("textbox", name="Username").fill(login.username)
    page.get_by_role("textbox", name="Password").fill(login.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {login.username}").wait_for()
    _settle(page)


def _visit_every_page(page, url: str) -> int:
    """Open every page of the navigation, then a practice and a country; how many pages."""
    page.goto(url + "/")
    _settle(page)
    page.locator(NAVIGATION).first.wait_for()
    addresses = sorted(
        {link.get_attribute("href") for link in page.locator(NAVIGATION).all()} - {None}
    )
    for address in addresses:
        page.goto(address if address.startswith("http") else url + address)
        _settle(page)
    page.goto(url + "/radar")
    _settle(page)
    practice = page.locator("[data-testid=stMain] a[href*='practice=']").first
    if practice.count():
        practice.click()
        _settle(page)
    page.goto(url + "/map?country=DE")
    _settle(page)
    return len(addresses) + 2


def _settle(page) -> None:
    """Wait until the app has finished its runs."""
    page.wait_for_load_state("networkidle")
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden")
    page.wait_for_timeout(300)


def _megabytes(pid: int, *, field: str = "VmRSS", source: str = "status") -> str:
    for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
        if line.startswith(field + ":"):
            return f"{int(line.split()[1]) / 1024:.0f} MB"
    return "unknown"


def new_demo_passwords(engine: Engine) -> list[DemoLogin]:
    """Give the demo accounts of a database new passwords, for a tour of a copy of it."""
    logins = []
    with db.session_scope(engine) as session:
        for user in session.exec(select(User).where(col(User.username).in_(DEMO_USERNAMES))):
            password = demo_logins.new_password()
            user.password_hash = accounts.hash_password(password)
            session.add(user)
            logins.append(DemoLogin(user.username, user.role, password, user.password_hash))
    return logins


if __name__ == "__main__":  # on a copy of a demo database: python -m dhu_core.bench_memory COPY
    copy = db.get_engine(f"sqlite:///{sys.argv[1]}")
    db.upgrade(copy)
    print(run_index_sizes(engine=copy))
    tour_logins = new_demo_passwords(copy)
    copy.dispose()
    with tempfile.TemporaryDirectory() as temporary:
        print(
            run_memory_bench(
                database=Path(sys.argv[1]), logins=tour_logins, workdir=Path(temporary)
            )
        )
