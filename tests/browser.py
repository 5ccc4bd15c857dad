"""A real server and a real browser: `streamlit run` on a free port, Debian's Chromium."""

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

from dhu_core import demo_logins, serve
from dhu_core.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: F401 (the tests' names)
from dhu_core.config import Settings
from dhu_core.ui.auth import COOKIE_NAME

ROOT = Path(__file__).resolve().parent.parent
#: Screenshots kept for people to look at: failed browser tests, the map, the map page at
#: 390 px (map-390.png) and the live view at 1920 x 1080 (live-1920x1080.png).
ARTIFACTS = ROOT / "test-artifacts"
#: How long a test server may take to answer on a busy machine (as for `dhu serve`).
STARTUP_SECONDS = serve.STARTUP_SECONDS
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def require_chromium() -> None:
    """Skip (fail under CI) when Debian's Chromium is not installed."""
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(env: dict[str, str], log: Path, script: str = "app.py") -> Iterator[str]:
    """Run the app (or another `script`) on a free port until the block ends; yield its base
    URL once healthy."""
    port = free_port()
    command = serve.streamlit_command(port, script)
    with open(log, "w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            url = f"http://127.0.0.1:{port}"
            try:
                serve.wait_until_healthy(process, url)
            except serve.ServeError as failure:
                raise RuntimeError(f"{failure}:\n{log.read_text()}") from None
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def is_local(url: str) -> bool:
    """True for a request that stays on this machine."""
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about", "chrome", "chrome-extension"):
        return True
    return parsed.hostname in LOCAL_HOSTS


def settle(page, *, network_idle: bool = True) -> None:
    """Wait until the app has finished its runs (the cookie component triggers one more);
    `network_idle=False` where a test holds requests back, so the network never idles."""
    if network_idle:
        page.wait_for_load_state("networkidle")
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=30_000)
    page.wait_for_timeout(300)


def first_visit(chromium, url: str) -> None:
    """Open the app once: its first run prepares the database (demo data, demo passwords)."""
    context = chromium.new_context()
    page = context.new_page()
    page.goto(url + "/")
    page.get_by_text("Published practices").wait_for(timeout=120_000)
    context.close()


def demo_password(database: Path, username: str) -> str:
    """The password the app drew for a demo account of the embedded database at `database`."""
    logins = demo_logins.read(Settings(dhu_data_dir=database.parent))
    return next(login.password for login in logins if login.username == username)


def sign_in(page, url: str, username: str, password: str) -> None:
    """Sign in through the form and wait until the session cookie is stored."""
    page.goto(url + "/sign-in")
    settle(page)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {username}").wait_for(timeout=30_000)
    wait_for_session_cookie(page)
    settle(page)


def has_session_cookie(page) -> bool:
    """True when the browser holds the login cookie."""
    return any(c["name"] == COOKIE_NAME for c in page.context.cookies())


def wait_for_session_cookie(page, seconds: float = 30) -> None:
    """Wait until the browser holds the login cookie (written by a component, a run later)."""
    deadline = time.monotonic() + seconds
    while not has_session_cookie(page):
        if time.monotonic() > deadline:
            raise AssertionError("the session cookie was never set")
        page.wait_for_timeout(200)
