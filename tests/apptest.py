"""Helpers for AppTest page tests: the app's entry point and signing in as a demo account."""

from streamlit.testing.v1 import AppTest

from dhu_core.demo import DEMO_ACCOUNTS
from tests.browser import ROOT

APP = str(ROOT / "app.py")
PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}


def open_app() -> AppTest:
    """The app, run once (the embedded database is prepared on this first run)."""
    return AppTest.from_file(APP, default_timeout=60).run()


def sign_in(at: AppTest, username: str) -> AppTest:
    """Sign `at` in as the demo account `username` through the sign-in page."""
    at.switch_page("app_pages/sign_in.py").run()
    inputs = {t.label: t for t in at.text_input}
    inputs["Username"].input(username)
    inputs["Password"].input(PASSWORDS[username])
    at.button[0].click().run()
    return at.run()
