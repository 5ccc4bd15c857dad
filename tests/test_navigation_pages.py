"""AppTest of how pages are reached: links to protected pages, the practice detail view, the
home page's links and the sign-in page."""

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dhu_core import db, practices
from dhu_core.models import User
from tests.apptest import APP, password_of, sign_in


@pytest.fixture
def app(embedded_app) -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


def _organisation_of(username: str) -> int:
    with db.read_scope() as session:
        return session.exec(select(User.organisation_id).where(User.username == username)).one()


def _open_practice(at: AppTest, practice_id: int) -> AppTest:
    at.query_params["practice"] = str(practice_id)
    at.switch_page("app_pages/radar.py").run()
    assert not at.exception
    return at


def _popovers(at: AppTest) -> list[str]:
    return [p.proto.popover.label for p in at.get("popover")]


@pytest.mark.parametrize(
    ("page", "content"),
    [("review.py", "Waiting for review"), ("admin.py", "Accounts"), ("twinning.py", "Twinning")],
)
def test_a_protected_page_asks_a_visitor_to_sign_in_then_opens(app, page, content):
    """Issue 11: a link to /review opened while signed out showed "Page not found"."""
    app.switch_page(f"app_pages/{page}").run()
    assert not app.exception
    assert [t.value for t in app.title] == ["Sign in"]
    assert {t.label for t in app.text_input} >= {"Username", "Password"}
    assert not app.main.dataframe and not app.main.selectbox  # the page content stays hidden

    username = "demo-admin"
    inputs = {t.label: t for t in app.text_input}
    inputs["Username"].input(username)
    inputs["Password"].input(password_of(username))
    next(b for b in app.button if b.label == "Sign in").click().run()
    assert not app.exception
    shown = [t.value for t in app.title] + [h.value for h in app.subheader]
    shown += [s.label for s in app.selectbox]
    assert content in shown


def test_the_sign_in_page_says_sign_in_once_as_its_heading(app):
    app.switch_page("app_pages/sign_in.py").run()
    headings = [h.value for h in [*app.title, *app.header, *app.subheader]]
    assert headings.count("Sign in") == 1


def test_a_practice_opens_under_its_title_with_its_country_on_the_map(app):
    [practice] = practices.newest_practices(limit=1)
    _open_practice(app, practice.id)
    assert [t.value.replace("\\", "") for t in app.title] == [practice.title]
    links = " ".join(m.value for m in app.markdown)
    assert f"(/map?country={practice.owner_country})" in links
    assert app.query_params["practice"] == str(practice.id)
    assert "Express interest" not in _popovers(app)  # visitors cannot express interest


def test_signed_in_users_of_another_organisation_can_express_interest(app):
    at = sign_in(app, "demo-owner")
    own = _organisation_of("demo-owner")
    newest = practices.newest_practices(limit=50)
    other = next(p for p in newest if p.owner_organisation_id != own)
    _open_practice(at, other.id)
    assert _popovers(at) == ["Express interest"]

    at.text_area(key=f"interest--{other.id}-text").input("Could we adopt this in Tallinn?")
    next(b for b in at.button if b.form_id == f"interest--{other.id}").click().run()
    assert any("Sent." in s.value for s in at.success)

    with db.read_scope() as session:
        own_practices = practices.own_practices(session=session, actor=_user("demo-owner"))
    mine = next(p for p in own_practices if p.status == "published")
    _open_practice(at, mine.id)
    assert _popovers(at) == []


def test_the_newest_practices_on_home_link_to_their_detail_view(app):
    """Issue 11: Home's "Newest practices" were not links."""
    links = {link.proto.query_string for link in app.get("page_link")}
    for practice in practices.newest_practices(limit=5):
        assert f"practice={practice.id}" in links


def _user(username: str) -> User:
    with db.read_scope() as session:
        return session.exec(select(User).where(User.username == username)).one()
