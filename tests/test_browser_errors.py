"""Browser: an unexpected error shows an id, never a traceback, an exception text or SQL."""

import re

import pytest

from tests.browser import require_chromium, settle, streamlit_server

pytestmark = pytest.mark.browser
LEAKS = ("SELECT", "password_hash", "Traceback", "RuntimeError", "failing.py")


@pytest.fixture(scope="module")
def failing_app(tmp_path_factory):
    require_chromium()
    folder = tmp_path_factory.mktemp("failing")
    log = folder / "streamlit.log"
    env = {"DHU_DATA_DIR": str(folder), "DATABASE_URL": ""}
    with streamlit_server(env, log, script="tests/apps/failing.py") as url:
        yield url, log


def test_a_failure_shows_an_error_id_that_the_server_log_explains(failing_app, page):
    url, log = failing_app
    page.goto(url + "/?where=guarded")
    page.get_by_text("error id").wait_for(timeout=30_000)
    settle(page)
    body = page.inner_text("body")
    reference = re.search(r"error id ([0-9a-f]{8})", body).group(1)
    assert not [leak for leak in LEAKS if leak in body]
    logged = log.read_text()
    assert f"failure {reference}" in logged and "SELECT password_hash" in logged


def test_an_uncaught_failure_shows_no_detail_either(failing_app, page):
    url, _ = failing_app
    page.goto(url + "/")
    page.get_by_text("Before the failure.").wait_for(timeout=30_000)
    settle(page)
    page.wait_for_timeout(500)
    body = page.inner_text("body")
    assert not [leak for leak in LEAKS if leak in body]
