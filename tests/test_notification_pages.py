"""AppTest of the e-mail pages: preferences, unsubscribe and password reset links, the outbox."""

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dhu_core import accounts, db, notifications
from dhu_core.models import OutboxMessage, User
from tests.apptest import APP, sign_in

NEW_PASSWORD = "Lisbon trams climb slowly"


@pytest.fixture
def app(embedded_app) -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


def _owner() -> User:
    with db.read_scope() as session:
        return session.exec(select(User).where(User.username == "demo-owner")).one()


def _unsubscribe_token() -> str:
    with db.session_scope() as session:
        (message,) = notifications.enqueue(
            session,
            kind="practice-approved",
            to=[_owner()],
            context={"practice_id": 1, "practice_title": "Telemonitoring"},
        )
    return notifications.unsubscribe_token(message)


def test_an_owner_chooses_which_e_mails_come_and_how(app):
    sign_in(app, "demo-owner")
    app.switch_page("app_pages/account.py").run()
    app.selectbox(key="pref_practice-approved").select("weekly")
    app.selectbox(key="pref_interest-received").select("never")
    app.button(key="FormSubmitter:email-preferences-Save my choices").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == ["Your choices are saved."]
    with db.read_scope() as session:
        chosen = notifications.preferences(session, actor=_owner())
    assert (chosen["practice-approved"], chosen["interest-received"]) == ("weekly", "never")
    assert app.selectbox(key="pref_practice-approved").value == "weekly"


def test_an_unsubscribe_link_works_without_signing_in_and_only_once(app):
    token = _unsubscribe_token()
    app.query_params["token"] = token
    app.switch_page("app_pages/unsubscribe.py").run()
    assert "demo\\-owner@example\\.org" in app.markdown[0].value
    app.button[0].click().run()
    assert not app.exception
    assert "you will not get these e-mails" in app.success[0].value
    with db.read_scope() as session:
        assert notifications.preferences(session, actor=_owner())["practice-approved"] == "never"

    again = AppTest.from_file(APP, default_timeout=60)
    again.query_params["token"] = token
    again.run()
    again.switch_page("app_pages/unsubscribe.py").run()
    assert [e.value for e in again.error] == [
        "This link has been used already; ask for a new one if you need it"
    ]


def test_a_forged_unsubscribe_link_is_refused_with_a_message(app):
    subject, expires, signature = _unsubscribe_token().split(".")
    app.query_params["token"] = f"{subject}.{int(expires) + 1}.{signature}"
    app.switch_page("app_pages/unsubscribe.py").run()
    assert [e.value for e in app.error] == ["This link is not valid; ask for a new one"]
    assert not app.button


def test_a_forgotten_password_is_set_again_from_the_e_mailed_link(app):
    app.switch_page("app_pages/sign_in.py").run()
    assert "Forgot password?" in [link.label for link in app.get("page_link")]
    app.switch_page("app_pages/forgot_password.py").run()
    app.text_input(key="fp_email").input("not an address")
    app.button[0].click().run()
    assert "e-mail address such as" in app.error[0].value
    assert app.text_input(key="fp_email").value == "not an address"
    app.text_input(key="fp_email").input("demo-owner@example.org")
    app.button[0].click().run()
    assert "a link to set a new password is on its way" in app.success[0].value
    with db.read_scope() as session:
        (message,) = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "password-reset")
        ).all()

    app.query_params["token"] = message.context["token"]
    app.switch_page("app_pages/reset_password.py").run()
    app.text_input(key="rp_new").input(NEW_PASSWORD)
    app.text_input(key="rp_again").input("something else entirely")
    app.button[0].click().run()
    assert [e.value for e in app.error] == ["The two passwords differ"]
    app.text_input(key="rp_again").input(NEW_PASSWORD)
    app.button[0].click().run()
    assert not app.exception
    assert app.success[0].value == "Your new password is set. Sign in with it."
    with db.read_scope() as session:
        assert accounts.check_password(NEW_PASSWORD, _owner().password_hash)


def test_administrators_see_the_messages_waiting_without_a_mail_server(app):
    _unsubscribe_token()
    sign_in(app, "demo-admin")
    app.switch_page("app_pages/admin.py").run()
    assert not app.exception
    assert any("No mail server is set (DHU_SMTP_URL)" in i.value for i in app.info)
    assert "waiting to be sent: 1" in [c.value for c in app.caption]
