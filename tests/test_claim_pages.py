"""AppTest of claims: the claim button on a practice's detail view, a claim sign-up, and the
coordinators' list of open claims on Review (embedded demo database)."""

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dhu_core import db
from dhu_core.models import Membership, Practice, PracticeClaim, User
from tests.apptest import APP, sign_in
from tests.people import PASSWORD, account


@pytest.fixture
def app(embedded_app) -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


def _published_practice(*, with_members: bool) -> int:
    """A published demo practice whose organisation has members, or has none."""
    members = select(Membership.organisation_id).where(Membership.status == "active")
    owned = Practice.owner_organisation_id.in_(members)
    with db.read_scope() as session:
        return session.exec(
            select(Practice.id)
            .where(Practice.status == "published", owned if with_members else ~owned)
            .order_by(Practice.id)
        ).first()


def _open_practice(at: AppTest, practice_id: int) -> AppTest:
    at.query_params["practice"] = str(practice_id)
    at.switch_page("app_pages/radar.py").run()
    assert not at.exception
    return at


def _popovers(at: AppTest) -> list[str]:
    return [p.proto.popover.label for p in at.get("popover")]


def _sign_in_as(at: AppTest, username: str) -> AppTest:
    at.switch_page("app_pages/sign_in.py").run()
    inputs = {t.label: t for t in at.text_input}
    inputs["Username"].input(username)
    inputs["Password"].input(PASSWORD)
    next(b for b in at.button if b.label == "Sign in").click().run()
    return at.run()


def _claims() -> list[PracticeClaim]:
    with db.read_scope() as session:
        return list(session.exec(select(PracticeClaim)).all())


def test_a_visitor_sees_the_claim_button_only_where_nobody_acts_for_the_organisation(app):
    orphan = _published_practice(with_members=False)
    _open_practice(app, orphan)
    assert "Claim this practice" in _popovers(app)
    [link] = [p for p in app.get("page_link") if "claim" in p.proto.label]
    assert link.proto.label == "Create an account to claim it"
    assert f"claim={orphan}" in link.proto.query_string

    _open_practice(app, _published_practice(with_members=True))
    assert "Claim this practice" not in _popovers(app)


def test_a_signed_in_account_claims_with_its_role_and_a_bad_role_keeps_the_input(app):
    with db.session_scope() as session:
        account(session, "karl")
    orphan = _published_practice(with_members=False)
    _sign_in_as(app, "karl")
    _open_practice(app, orphan)
    role = app.text_input(key=f"claim-{orphan}-role")
    role.input("1234")
    next(b for b in app.button if b.label == "Send the claim").click().run()
    assert not app.exception
    assert app.text_input(key=f"claim-{orphan}-role").value == "1234"
    assert any("Say in words what you do there" in e.value for e in app.error)
    assert _claims() == []

    app.text_input(key=f"claim-{orphan}-role").input("Head of digital services")
    next(b for b in app.button if b.label == "Send the claim").click().run()
    assert not app.exception
    assert "Claim sent" in app.success[0].value
    assert [c.role for c in _claims()] == ["Head of digital services"]
    assert "Your claim of this practice waits for a coordinator." in [i.value for i in app.info]
    assert "Claim this practice" not in _popovers(app)


def test_a_member_of_another_organisation_gets_no_claim_button(app):
    sign_in(app, "demo-owner")
    _open_practice(app, _published_practice(with_members=False))
    assert "Claim this practice" not in _popovers(app)


def test_a_visitor_registers_and_claims_in_one_form(app):
    orphan = _published_practice(with_members=False)
    app.query_params["claim"] = str(orphan)
    app.switch_page("app_pages/sign_up.py").run()
    assert not app.exception
    assert any(i.value.startswith("You claim") for i in app.info)
    assert not app.radio  # no organisation to choose or create: the claim names it
    for key, value in {
        "su_username": "marta",
        "su_display_name": "Marta Madsen",
        "su_email": "marta@example.org",
        "su_password": PASSWORD,
        "su_password_again": PASSWORD,
        "su_role": "Project lead of the portal",
    }.items():
        app.text_input(key=key).input(value)
    next(b for b in app.button if b.label == "Create account").click().run()
    assert not app.exception and not app.error
    assert "your claim of" in app.success[0].value
    [claim] = _claims()
    with db.read_scope() as session:
        marta = session.exec(select(User).where(User.username == "marta")).one()
    assert (claim.account_id, claim.practice_id, claim.status) == (marta.id, orphan, "open")
    assert marta.organisation_id is None


def test_a_claim_sign_up_without_a_role_says_so_next_to_the_field(app):
    app.query_params["claim"] = str(_published_practice(with_members=False))
    app.switch_page("app_pages/sign_up.py").run()
    app.text_input(key="su_username").input("marta")
    next(b for b in app.button if b.label == "Create account").click().run()
    assert not app.exception
    assert any("Your role needs at least 3 characters" in e.value for e in app.error)
    assert app.text_input(key="su_username").value == "marta"


@pytest.mark.parametrize("claim", ["999999", "abc", "-1", "99999999999999999999"])
def test_a_claim_link_to_no_claimable_practice_gets_a_message(app, claim):
    app.query_params["claim"] = claim
    app.switch_page("app_pages/sign_up.py").run()
    assert not app.exception
    assert any("cannot be claimed" in w.value for w in app.warning)


def test_the_review_page_lists_open_claims_and_a_coordinator_approves_one(app):
    orphan = _published_practice(with_members=False)
    with db.session_scope() as session:
        practice = session.get(Practice, orphan)
        practice.website = "https://www.region-nord.dk"
        karl = account(session, "karl")
        karl.email = "karl@region-nord.dk"
        karl.display_name = "Karl <b>Holm</b>"
        session.add_all([practice, karl])
        session.add(
            PracticeClaim(
                practice_id=orphan,
                organisation_id=practice.owner_organisation_id,
                account_id=karl.id,
                role="Head of digital services",
                domain_matches=True,
            )
        )
        title = practice.title
    sign_in(app, "demo-coordinator")
    app.switch_page("app_pages/review.py").run()
    assert not app.exception
    assert "Claims of practices (1 waiting)" in [e.label for e in app.expander]
    [listed] = [m.value for m in app.markdown if "claims" in m.value and title in m.value]
    assert "Karl \\<b\\>Holm\\</b\\>" in listed  # escaped: shown as typed, never as HTML
    assert "organisation's web domain" in listed
    next(b for b in app.button if b.label == "Approve the claim").click().run()
    assert not app.exception
    assert any("Approved: the claim" in s.value for s in app.success)
    with db.read_scope() as session:
        assert session.get(User, karl.id).organisation_id == practice.owner_organisation_id
    assert not [b for b in app.button if b.label == "Approve the claim"]
    assert "Claims of practices (0 waiting)" in [e.label for e in app.expander]
