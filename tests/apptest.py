"""Helpers for AppTest page tests: the app's entry point and signing in as a demo account."""

from streamlit.testing.v1 import AppTest

from dhu_core.config import get_settings
from tests.browser import ROOT, demo_password

APP = str(ROOT / "main.py")


def open_app() -> AppTest:
    """The app, run once (the embedded database is prepared on this first run)."""
    return AppTest.from_file(APP, default_timeout=60).run()


def password_of(username: str) -> str:
    """The password the app drew for a demo account when it seeded its embedded database."""
    return demo_password(get_settings().dhu_data_dir / "dhu.sqlite3", username)


def sign_in(at: AppTest, username: str, password: str | None = None) -> AppTest:
    """Sign `at` in as the demo account `username` (or another one, with its `password`)
    through the sign-in page."""
    at.switch_page("app_pages/sign_in.py").run()
    inputs = {t.label: t for t in at.text_input}
    inputs["Username"].input(username)
    inputs["Password"].input(password or password_of(username))
    at.button[0].click().run()
    return at.run()


def click(at: AppTest, label: str) -> AppTest:
    """Click the first button labelled `label` and run the page; it raised nothing."""
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception
    return at
