"""AppTest of the account pages: sign-up messages next to fields, sign-in, administration."""

import sqlite3

import pytest
from streamlit.testing.v1 import AppTest

from dhu_core.demo import DEMO_ACCOUNTS
from tests.apptest import APP, password_of, sign_in
from tests.test_io import csv_text, practice_row
from tests.xlsx_package import header_row, package, sheet


@pytest.fixture
def app(embedded_app) -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


def test_sign_up_shows_each_message_next_to_its_field_and_keeps_the_input(app, embedded_app):
    app.switch_page("app_pages/sign_up.py").run()
    app.text_input(key="su_username").input("x")
    app.text_input(key="su_display_name").input("Nora Owner")
    app.text_input(key="su_email").input("not-an-email")
    app.text_input(key="su_password").input("short")
    app.button[0].click().run()

    messages = [e.value for e in app.error]
    assert any("3 to 60 characters" in m for m in messages)
    assert any("e-mail address" in m for m in messages)
    assert any("12 characters" in m for m in messages)
    assert any("organisation" in m for m in messages)
    assert app.text_input(key="su_display_name").value == "Nora Owner"
    assert app.text_input(key="su_email").value == "not-an-email"


def test_the_sign_up_summary_names_the_fields_on_screen(app):
    """Joining, the summary named "New organisation's name", a field not on screen."""
    app.switch_page("app_pages/sign_up.py").run()
    app.button[0].click().run()
    assert app.error[-1].value == (
        "Please correct 5 fields: Username, Your name, E-mail, Password, Organisation to join"
    )


@pytest.mark.parametrize("password", ["Tartu rain on Tuesday " * 4, "ö" * 64])
def test_sign_up_refuses_a_password_longer_than_72_bytes_next_to_its_field(app, password):
    app.switch_page("app_pages/sign_up.py").run()
    app.radio(key="su_how").set_value("new").run()
    app.text_input(key="su_username").input("nora")
    app.text_input(key="su_display_name").input("Nora Owner")
    app.text_input(key="su_email").input("nora@example.org")
    app.text_input(key="su_password").input(password)
    app.text_input(key="su_password_again").input(password)
    app.text_input(key="su_organisation_name").input("Tartu Health Lab")
    app.selectbox(key="su_organisation_country").select("EE")
    app.button[0].click().run()

    assert not app.exception
    assert [e.value for e in app.error] == [
        "Password: Use at most 72 bytes: 72 plain letters, digits or spaces; an accented letter "
        "or a symbol may count as 2 to 4",
        "Please correct 1 field: Password",
    ]
    assert not app.success


def test_sign_up_refuses_a_common_password(app):
    app.switch_page("app_pages/sign_up.py").run()
    app.text_input(key="su_password").input("Password12345")
    app.button[0].click().run()
    assert any("too easy to guess" in e.value for e in app.error)


def test_the_account_page_refuses_a_new_password_longer_than_72_bytes(app):
    at = sign_in(app, "demo-owner")
    at.switch_page("app_pages/account.py").run()
    inputs = {t.label: t for t in at.text_input}
    inputs["Current password"].input(password_of("demo-owner"))
    inputs["New password"].input("Kadri walks to the clinic " * 4)
    at.button[0].click().run()

    assert not at.exception
    assert any("at most 72 bytes" in e.value for e in at.error)
    assert not at.success


def test_sign_up_creates_an_owner_with_a_new_organisation(app, embedded_app):
    app.switch_page("app_pages/sign_up.py").run()
    app.radio(key="su_how").set_value("new").run()
    app.text_input(key="su_username").input("nora")
    app.text_input(key="su_display_name").input("Nora Owner")
    app.text_input(key="su_email").input("nora@example.org")
    app.text_input(key="su_password").input("A-strong-pass-2026")
    app.text_input(key="su_password_again").input("A-strong-pass-2026")
    app.text_input(key="su_organisation_name").input("Tartu Health Lab")
    app.selectbox(key="su_organisation_country").select("EE")
    app.button[0].click().run()

    assert not app.error
    assert any("nora" in s.value for s in app.success)
    with sqlite3.connect(embedded_app / "dhu.sqlite3") as conn:
        row = conn.execute(
            "SELECT a.role, o.name, o.country, a.password_hash FROM account a "
            "JOIN organisation o ON o.id = a.organisation_id WHERE a.username = 'nora'"
        ).fetchone()
    assert row[:3] == ("owner", "Tartu Health Lab", "EE")
    assert row[3].startswith("$2b$")


def test_demo_accounts_are_listed_on_the_sign_in_page_of_the_demo_database(app):
    app.switch_page("app_pages/sign_in.py").run()
    shown = app.table[0].value
    assert list(shown["username"]) == [a.username for a in DEMO_ACCOUNTS]


def test_signing_in_with_an_empty_field_says_what_is_missing_and_keeps_the_username(app):
    """The form said nothing when a field was left empty."""
    app.switch_page("app_pages/sign_in.py").run()
    fields = {field.label: field for field in app.text_input}
    fields["Username"].input("demo-owner")
    app.button[0].click().run()

    assert [e.value for e in app.error] == ["Enter your username and your password."]
    assert {field.label: field.value for field in app.text_input}["Username"] == "demo-owner"
    assert "Signed in as" not in " ".join(c.value for c in app.sidebar.caption)


def test_a_wrong_password_is_refused_and_a_right_one_signs_in(app):
    app.switch_page("app_pages/sign_in.py").run()
    fields = {field.label: field for field in app.text_input}
    fields["Username"].input("demo-owner")
    fields["Password"].input("not-the-password-1")
    app.button[0].click().run()
    assert [e.value for e in app.error] == ["The username or password is not right."]

    at = sign_in(app, "demo-owner")
    assert "Signed in as demo\\-owner · Practice owner" in [c.value for c in at.sidebar.caption]


def test_the_admin_page_lists_accounts_and_the_audit_log(app):
    at = sign_in(app, "demo-admin")
    at.switch_page("app_pages/admin.py").run()
    assert not at.exception
    assert {"Accounts", "Create an account", "Import practices", "Audit log"} <= {
        h.value for h in at.subheader
    }
    usernames = set(at.dataframe[0].value["username"])
    assert {a.username for a in DEMO_ACCOUNTS} <= usernames
    assert "login.succeeded" in set(at.dataframe[1].value["what"])


def _import(app: AppTest, name: str, content: bytes) -> AppTest:
    """Sign in as the demo administrator and import a file on the admin page."""
    at = sign_in(app, "demo-admin")
    at.switch_page("app_pages/admin.py").run()
    at.file_uploader[0].upload(name, content).run()
    next(button for button in at.button if button.label == "Import").click().run()
    assert not at.exception
    return at


def test_an_admin_imports_a_file_and_is_told_how_many_rows_were_read(app):
    rows = [practice_row(title="Asthma school programme"), practice_row(maturity="7")]

    at = _import(app, "practices.csv", csv_text(rows).encode())

    assert [s.value for s in at.success] == ["Read 2 rows, imported 1 practice, rejected 1 row."]
    assert [w.value for w in at.warning] == ["These rows were not imported:"]
    problems = at.dataframe[1].value
    assert (list(problems["row"]), list(problems["column"])) == ([3], ["maturity"])


def test_a_hostile_workbook_gets_a_message_and_the_page_goes_on(app):
    far_cell = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    hostile = package(sheet(header_row() + far_cell, dimension="A1:XFD1048576"))

    at = _import(app, "hostile.xlsx", hostile)

    assert [e.value for e in at.error] == [
        "hostile.xlsx was not imported: cell XFD1048576 has a value beyond column BL: an import "
        "file has at most 64 columns"
    ]
    assert not at.success
    assert "Audit log" in {h.value for h in at.run().subheader}


def test_an_owner_cannot_reach_the_admin_page(app):
    """The page checks the role itself: its URL is reachable, for a clear message (issue 11)."""
    at = sign_in(app, "demo-owner")
    at.switch_page("app_pages/admin.py").run()
    assert not at.exception
    assert [w.value for w in at.warning] == [
        "This page is for: Administrator. Your account's role: Practice owner."
    ]
    assert not at.dataframe and not at.subheader


def test_sign_up_asks_to_join_and_a_member_approves_on_my_organisation(app, embedded_app):
    with sqlite3.connect(embedded_app / "dhu.sqlite3") as conn:
        conn.execute(
            "INSERT INTO organisation (name, organisation_type, country, created_at) "
            "VALUES ('Workshop captures', 'other', 'EE', '2026-01-01 00:00:00')"
        )
        clinic, name = conn.execute(
            "SELECT o.id, o.name FROM organisation o JOIN account a ON a.organisation_id = o.id "
            "WHERE a.username = 'demo-owner'"
        ).fetchone()
    app.switch_page("app_pages/sign_up.py").run()
    choices = app.selectbox(key="su_organisation_id")
    assert not [label for label in choices.options if "Workshop captures" in label]
    app.text_input(key="su_username").input("nora")
    app.text_input(key="su_display_name").input("Nora Owner")
    app.text_input(key="su_email").input("nora@example.org")
    app.text_input(key="su_password").input("Tartu rain on Tuesday")
    app.text_input(key="su_password_again").input("Tartu rain on Tuesday")
    choices.set_value(clinic)
    app.button[0].click().run()

    assert not app.exception and not app.error
    assert "waits for one of its members or a coordinator" in app.success[0].value
    with sqlite3.connect(embedded_app / "dhu.sqlite3") as conn:
        assert conn.execute(
            "SELECT organisation_id FROM account WHERE username = 'nora'"
        ).fetchone() == (None,)

    member = sign_in(AppTest.from_file(APP, default_timeout=60).run(), "demo-owner")
    member.switch_page("app_pages/organisation.py").run()
    assert any("Nora Owner" in m.value and name in m.value for m in member.markdown)
    next(b for b in member.button if b.label == "Approve").click().run()
    assert not member.exception
    assert member.success[0].value == "Approved: Nora Owner."
    with sqlite3.connect(embedded_app / "dhu.sqlite3") as conn:
        assert conn.execute(
            "SELECT organisation_id FROM account WHERE username = 'nora'"
        ).fetchone() == (clinic,)
