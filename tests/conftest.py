"""Shared fixtures: a migrated database on SQLite and on the real PostgreSQL server."""

import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import streamlit
from sqlalchemy import Engine, text

from dhu_core import db
from dhu_core.config import get_settings, normalise_database_url
from tests.browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    first_visit,
    require_chromium,
    streamlit_server,
)
from tests.german import clear_caches
from tests.race import Racers, racers

# App processes started by the tests run no scheduled jobs of their own (freshness passes
# would change what a test set up); tests/test_jobs.py turns them on where it tests them.
os.environ.setdefault("DHU_JOBS_IN_APP", "false")

#: The PostgreSQL server the suite runs against (trust auth on this machine).
PG_ADMIN_URL = os.environ.get("DHU_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = bool(os.environ.get("CI"))


def _pg_database() -> Iterator[str]:
    name = f"dhu_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        if IN_CI:
            raise
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield normalise_database_url(f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}")
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'dhu.sqlite3'}"


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    yield from _pg_database()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated_engine(request) -> Iterator[Engine]:
    """One migrated database per backend for the whole run."""
    url = request.getfixturevalue(f"{request.param}_url")
    engine = db.get_engine(url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


#: This machine's PostgreSQL runs without autovacuum: the rows each test deletes stayed as dead
#: tuples in the run's one database, and a race test that takes 3 s alone took 50 s late in the
#: suite. The database is vacuumed after this many tests that emptied it.
VACUUM_EVERY = 20
_emptied = itertools.count(1)


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    """A migrated, empty database (SQLite and PostgreSQL); emptied again after the test."""
    yield migrated_engine
    with db.session_scope(migrated_engine) as session:
        db.delete_all_rows(session)
    if migrated_engine.dialect.name == "postgresql" and next(_emptied) % VACUUM_EVERY == 0:
        with migrated_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))


@pytest.fixture
def embedded_app(tmp_path, monkeypatch) -> Iterator[Path]:
    """Point the app at a new embedded database in a temporary data folder; return the folder.

    The app prepares (migrates and seeds) it on first start, as on a fresh machine.
    """
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DHU_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    streamlit.cache_data.clear()
    streamlit.cache_resource.clear()
    yield tmp_path
    get_settings.cache_clear()
    streamlit.cache_data.clear()
    streamlit.cache_resource.clear()


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, driven by Playwright (never a downloaded browser build)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, request):
    """A fresh browser page that records every request it makes in `page.requests`."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    browser_page = context.new_page()
    browser_page.requests = []
    browser_page.on("request", lambda request: browser_page.requests.append(request.url))
    yield browser_page
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        ARTIFACTS.mkdir(exist_ok=True)
        browser_page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    context.close()


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory, chromium) -> Iterator[tuple[str, Path]]:
    """The app on a new embedded database, seeded with demo data by its first visit."""
    data_dir = tmp_path_factory.mktemp("app-data")
    env = {"DHU_DATA_DIR": str(data_dir), "DATABASE_URL": ""}
    with streamlit_server(env, data_dir / "streamlit.log") as url:
        first_visit(chromium, url)
        yield url, data_dir / "dhu.sqlite3"


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """bcrypt at its lowest cost in tests: the same scheme, a hundred times faster."""
    import bcrypt

    real_gensalt = bcrypt.gensalt
    monkeypatch.setattr(bcrypt, "gensalt", lambda rounds=4, prefix=b"2b": real_gensalt(4, prefix))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Let fixtures see whether the test failed (for screenshots of failed browser tests)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="module")
def racing(migrated_engine) -> Iterator[Racers]:
    """Two worker processes on the test database, released together for each race."""
    with racers(migrated_engine.url.render_as_string(hide_password=False)) as pair:
        yield pair


@pytest.fixture(scope="module")
def app_data(tmp_path_factory):
    """One embedded database for this module's page tests (seeded on the first page run)."""
    with pytest.MonkeyPatch.context() as env:
        env.delenv("DATABASE_URL", raising=False)
        env.setenv("DHU_DATA_DIR", str(tmp_path_factory.mktemp("i18n-pages")))
        clear_caches()
        yield
    clear_caches()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_engine(request, tmp_path) -> Iterator[Engine]:
    """A new, empty database (not migrated) on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        yield db.get_engine(url)
        db.get_engine(url).dispose()
        return
    for url in _pg_database():
        yield db.get_engine(url)
        db.get_engine(url).dispose()
