"""Browser: each role sees exactly its pages; sessions survive reload and end at sign-out."""

import base64
import contextlib
import hashlib
import hmac
import json
import sqlite3
import time

import pytest
from playwright.sync_api import Error as PlaywrightError

from dhu_core.demo import DEMO_ACCOUNTS
from dhu_core.ui.shell import VISITOR, pages_for
from tests.browser import (
    demo_password,
    has_session_cookie,
    settle,
    sign_in,
    wait_for_session_cookie,
)

pytestmark = pytest.mark.browser
ACCOUNTS = {account.role: account for account in DEMO_ACCOUNTS}


def _menu(page) -> set[str]:
    nav = page.get_by_test_id("stSidebarNav")
    nav.wait_for(timeout=30_000)
    return {link.inner_text().split("\n")[-1].strip() for link in nav.get_by_role("link").all()}


def _expected(role: str) -> set[str]:
    return {spec.title for spec in pages_for(role) if not spec.hidden}


def test_a_visitor_sees_only_public_pages(demo_server, page):
    url, _ = demo_server
    page.goto(url + "/")
    page.get_by_text("Published practices").wait_for(timeout=60_000)
    assert _menu(page) == _expected(VISITOR)


@pytest.mark.parametrize("role", ["owner", "coordinator", "admin"])
def test_each_role_sees_exactly_its_pages_and_keeps_the_session_on_reload(demo_server, page, role):
    url, database = demo_server
    account = ACCOUNTS[role]
    sign_in(page, url, account.username, demo_password(database, account.username))
    assert _menu(page) == _expected(role)

    page.wait_for_timeout(1500)  # the cookie component writes the cookie after the rerun
    page.reload()
    page.get_by_text(f"Signed in as {account.username}").wait_for(timeout=30_000)
    assert _menu(page) == _expected(role)


def test_sign_out_ends_the_session_and_the_old_cookie(demo_server, page):
    url, database = demo_server
    account = ACCOUNTS["owner"]
    sign_in(page, url, account.username, demo_password(database, account.username))
    page.wait_for_timeout(1500)
    cookies = page.context.cookies()
    assert any(c["name"] == "dhu_session" for c in cookies)

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("link", name="Sign in").wait_for(timeout=30_000)
    page.reload()
    page.get_by_text("Published practices").wait_for(timeout=30_000)
    assert _menu(page) == _expected(VISITOR)

    # The cookie from before sign-out, put back by hand, no longer signs anyone in.
    page.context.add_cookies([c for c in cookies if c["name"] == "dhu_session"])
    page.reload()
    page.get_by_text("Published practices").wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    assert _menu(page) == _expected(VISITOR)
    assert not page.get_by_text("Signed in as").is_visible()


def test_the_cookie_is_written_when_the_run_after_sign_in_is_replaced(demo_server, page):
    """The cookie component is held back by the network until a page opened right after
    signing in has replaced the run that drew it: the cookie is still written, and the
    session survives a reload (before, it was drawn in that one run only and never written)."""
    url, database = demo_server
    account = ACCOUNTS["owner"]
    held = []
    page.route("**/component/**cookie_manager**", lambda route: held.append(route))
    page.goto(url + "/sign-in")
    settle(page, network_idle=False)
    page.get_by_role("textbox", name="Username").fill(account.username)
    page.get_by_role("textbox", name="Password").fill(demo_password(database, account.username))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {account.username}").wait_for(timeout=30_000)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Knowledge").click()
    page.get_by_role("heading", name="Knowledge").first.wait_for(timeout=30_000)
    settle(page, network_idle=False)
    assert held, "the cookie component was never asked for"
    assert not has_session_cookie(page)

    page.unroute("**/component/**cookie_manager**")
    for route in held:
        # A route whose frame is gone (the run that drew it was replaced) cannot go on.
        with contextlib.suppress(PlaywrightError):
            route.continue_()
    wait_for_session_cookie(page)
    settle(page)
    page.reload()
    page.get_by_text(f"Signed in as {account.username}").wait_for(timeout=30_000)
    assert _menu(page) == _expected("owner")


#: Pages a visitor or an owner must not see, and a text only their protected content shows.
PROTECTED = {
    "/admin": ("Audit log", [VISITOR, "owner", "coordinator"]),
    "/review": ("Waiting for review", [VISITOR, "owner"]),
    "/twinning": ("An adopter states what it needs", [VISITOR]),
}


@pytest.mark.parametrize(
    ("path", "role"), [(path, role) for path, (_, roles) in PROTECTED.items() for role in roles]
)
def test_opening_a_protected_page_directly_shows_no_protected_content(
    demo_server, page, path, role
):
    url, database = demo_server
    if role != VISITOR:
        account = ACCOUNTS[role]
        sign_in(page, url, account.username, demo_password(database, account.username))
    page.goto(url + path)
    # In place of the page: the sign-in form, or whom the page is for (issue 11).
    shown = "Sign in to open this page." if role == VISITOR else "This page is for"
    page.get_by_text(shown).wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    body = page.inner_text("body")
    assert PROTECTED[path][0] not in body
    assert "demo-admin@example.org" not in body


def _token(key: str, subject: int, expires: float, purpose: str = "session") -> str:
    """A token as the server signs its login cookie: `subject.expiry.HMAC`, under a key derived
    from the server's secret for the purpose (written here apart from dhu_core.tokens)."""
    derived = hmac.new(key.encode(), f"dhu-token:{purpose}".encode(), hashlib.sha256).digest()
    payload = f"{subject}.{int(expires)}"
    mac = hmac.new(derived, payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def _user_id(database, username: str) -> int:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        query = "SELECT id FROM account WHERE username = ?"
        return connection.execute(query, (username,)).fetchone()[0]


def _forged_cookie(url: str, database, username: str, key: str) -> dict:
    token = _token(key, _user_id(database, username), time.time() + 86_400)
    return {"name": "dhu_session", "value": token, "url": url}


def test_a_cookie_signed_with_another_key_is_rejected(demo_server, page):
    url, database = demo_server
    other_key = "another-key-" + "x" * 40
    page.context.add_cookies([_forged_cookie(url, database, "demo-admin", other_key)])
    page.goto(url + "/")
    page.get_by_text("Published practices").wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    assert _menu(page) == _expected(VISITOR)

    # The same cookie signed with the server's own key does sign in: the check above is real.
    key = (database.parent / ".cookie_key").read_text().strip()
    page.context.add_cookies([_forged_cookie(url, database, "demo-admin", key)])
    page.reload()
    page.get_by_text("Signed in as demo-admin").wait_for(timeout=30_000)


def _raw_cookie(url: str, token: str) -> dict:
    return {"name": "dhu_session", "value": token, "url": url}


def _jwt(key: str, claims: dict) -> str:
    """A login cookie as the platform wrote it before 2026-12-02 (a JSON Web Token, HS256)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    signed = part(b'{"alg":"HS256","typ":"JWT"}') + "." + part(json.dumps(claims).encode())
    return signed + "." + part(hmac.new(key.encode(), signed.encode(), hashlib.sha256).digest())


@pytest.mark.parametrize(
    "forge",
    [
        lambda key, admin: _token(key, admin, time.time() + 86_400, purpose="unsubscribe"),
        lambda key, admin: _token(key, admin, time.time() - 60),
        lambda key, admin: _token(key, admin + 1, time.time() + 86_400).replace(
            f"{admin + 1}.", f"{admin}.", 1
        ),
        lambda key, admin: _token(key, admin, time.time() + 86_400) + "x",
        lambda key, admin: _jwt(key, {"username": "demo-admin", "exp_date": time.time() + 86_400}),
        lambda key, admin: "not.a.token",
        lambda key, admin: f"{admin}.{int(time.time()) + 86_400}.",
    ],
    ids=[
        "another purpose",
        "expired",
        "another account's signature",
        "altered signature",
        "old JWT cookie",
        "garbage",
        "unsigned",
    ],
)
def test_a_cookie_that_cannot_be_verified_counts_as_no_cookie(demo_server, page, forge):
    url, database = demo_server
    key = (database.parent / ".cookie_key").read_text().strip()
    page.context.add_cookies([_raw_cookie(url, forge(key, _user_id(database, "demo-admin")))])
    page.goto(url + "/")
    page.get_by_text("Published practices").wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    assert _menu(page) == _expected(VISITOR)
    body = page.inner_text("body")
    assert "Traceback" not in body and "error id" not in body and "Error" not in body
