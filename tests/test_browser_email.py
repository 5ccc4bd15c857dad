"""Browser: a forgotten password, set again from the e-mail the app itself sent.

The app runs with DHU_SMTP_URL pointing at a real SMTP server started by the test; its own
background delivery thread sends the message, and the browser opens the link found in it.
"""

import re
import time
from urllib.parse import urlsplit

import pytest

from tests.browser import demo_password, first_visit, settle, sign_in, streamlit_server
from tests.mailserver import mail_server

pytestmark = pytest.mark.browser
NEW_PASSWORD = "Lisbon trams climb slowly"


def _wait_for_mail(handler, count: int, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while len(handler.received) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"no e-mail arrived within {seconds} s")
        time.sleep(0.2)
    return handler.received[count - 1]


def test_a_password_is_set_again_from_the_link_the_app_e_mailed(tmp_path, chromium, page):
    with mail_server() as (smtp_url, handler):
        env = {"DHU_DATA_DIR": str(tmp_path), "DATABASE_URL": "", "DHU_SMTP_URL": smtp_url}
        with streamlit_server(env, tmp_path / "streamlit.log") as url:
            first_visit(chromium, url)
            page.goto(url + "/sign-in")
            settle(page)
            page.get_by_role("link", name="Forgot password?").click()
            page.get_by_role("textbox", name="E-mail address of your account").fill(
                "demo-owner@example.org"
            )
            page.get_by_role("button", name="Send me a link").click()
            page.get_by_text("a link to set a new password is on its way").wait_for()

            mail = _wait_for_mail(handler, 1)
            assert mail["To"] == "demo-owner@example.org"
            text = mail.get_body(("plain",)).get_content()
            link = re.search(r"\S+/reset-password\?token=\S+", text).group(0)
            # Without DHU_PUBLIC_URL the link names the default address; the path is the link.
            parts = urlsplit(link)
            page.goto(f"{url}{parts.path}?{parts.query}")
            settle(page)
            page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
            page.get_by_label("New password again").fill(NEW_PASSWORD)
            page.get_by_role("button", name="Set the new password").click()
            page.get_by_text("Your new password is set").wait_for()

            page.goto(f"{url}{parts.path}?{parts.query}")
            page.get_by_text("This link has been used already").wait_for()
            sign_in(page, url, "demo-owner", NEW_PASSWORD)
            assert demo_password(tmp_path / "dhu.sqlite3", "demo-owner") != NEW_PASSWORD
