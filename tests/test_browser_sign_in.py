"""Browser: a client's own X-Forwarded-For header changes nothing on a real server."""

import sqlite3
import time

import pytest

from dhu_core import accounts
from tests.browser import demo_password, settle

pytestmark = pytest.mark.browser
USERNAME = "demo-owner2"


def _open_sign_in(chromium, url: str, forwarded_for: str | None):
    """A new browser whose every request, the WebSocket handshake too, has this header."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    context = chromium.new_context(extra_http_headers=headers)
    page = context.new_page()
    page.goto(url + "/sign-in")
    settle(page)
    return context, page


def _attempt(chromium, url: str, password: str, forwarded_for: str) -> str:
    """Sign in once from a browser claiming `forwarded_for`; the message the page shows."""
    context, page = _open_sign_in(chromium, url, forwarded_for)
    try:
        page.get_by_role("textbox", name="Username").fill(USERNAME)
        page.get_by_role("textbox", name="Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        outcome = page.get_by_test_id("stAlertContentError").or_(page.get_by_text("Signed in as"))
        outcome.first.wait_for(timeout=30_000)
        return outcome.first.inner_text()
    finally:
        context.close()


def test_rotating_x_forwarded_for_does_not_escape_the_lock(demo_server, chromium):
    url, database = demo_server
    failures = 0
    n = 0
    while failures < accounts.MAX_FAILURES:
        n += 1
        message = _attempt(chromium, url, "Not-the-password-1", f"203.0.113.{n}")
        if message.startswith("Too many failed attempts for this account"):
            time.sleep(int(message.split("Wait ")[1].split(" ")[0]))
            continue
        failures += 1
        last = failures == accounts.MAX_FAILURES
        assert message == (accounts.LOGIN_LOCKED if last else accounts.LOGIN_FAILED)
    time.sleep(accounts.MAX_DELAY.total_seconds() / 8)  # past the account's delay (8 s)

    # With the address taken from the header, this browser would be a new client and get in.
    message = _attempt(chromium, url, demo_password(database, USERNAME), "198.51.100.99")
    assert message == accounts.LOGIN_LOCKED
    with sqlite3.connect(database) as conn:
        clients = dict(
            conn.execute(
                "SELECT client, failures FROM login_throttle WHERE username = ?", (USERNAME,)
            ).fetchall()
        )
    assert len(clients) == 2 and clients["*"] == accounts.MAX_FAILURES
    assert not any(client.startswith(("203.0.113.", "198.51.100.")) for client in clients)


def test_demo_passwords_show_in_a_browser_on_this_machine_only(demo_server, chromium):
    url, database = demo_server
    password = demo_password(database, "demo-admin")

    context, page = _open_sign_in(chromium, url, None)
    page.get_by_text("demo-admin").first.wait_for(timeout=30_000)
    assert password in page.inner_text("body")
    context.close()

    # The same browser behind a proxy (or pretending to be) is not shown them.
    context, page = _open_sign_in(chromium, url, "127.0.0.1")
    page.get_by_text("printed on the server's console").wait_for(timeout=30_000)
    assert password not in page.inner_text("body")
    context.close()
