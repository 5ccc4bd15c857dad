"""AppTest of My organisation: inviting a colleague by e-mail, and leaving with a hand-over."""

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dhu_core import db, organisations
from dhu_core.models import Membership, OutboxMessage, User
from tests.apptest import APP, sign_in
from tests.people import PASSWORD, account


@pytest.fixture
def member(embedded_app) -> AppTest:
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), "demo-owner")
    at.switch_page("app_pages/organisation.py").run()
    assert not at.exception
    return at


def _user(username: str) -> User:
    with db.read_scope() as session:
        return session.exec(select(User).where(User.username == username)).one()


def _submit(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception
    return at


def test_an_invitation_is_e_mailed_and_its_link_shown_once(member):
    member.text_input(key="invite_email").input("cleo@example.org")
    _submit(member, "Create the invitation")
    assert "Invitation e-mailed to cleo@example\\.org" in member.success[0].value
    [link] = [c.value for c in member.code]
    with db.read_scope() as session:
        [message] = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "invitation")
        ).all()
    assert (message.kind, message.recipient) == ("invitation", "cleo@example.org")
    assert link.endswith(f"/join?invitation={message.context['token']}")
    member.run()
    assert not member.code


def test_the_only_member_is_told_to_invite_before_leaving(member):
    assert "Leave the organisation" in [h.value for h in member.subheader]
    assert any("You are its only member" in c.value for c in member.caption)
    assert not [b for b in member.button if b.label == "Leave the organisation"]


def test_a_member_leaves_by_handing_over_to_a_colleague(member):
    owner = _user("demo-owner")
    with db.session_scope() as session:
        colleague = account(session, "cleo", "owner", owner.organisation_id)
    member.run()
    _submit(member, "Leave the organisation")
    assert any("Choose the member who takes over" in e.value for e in member.error)
    assert _user("demo-owner").organisation_id == owner.organisation_id

    [hand_over] = [s for s in member.selectbox if s.label == "Hand over to *"]
    hand_over.set_value(colleague.id)
    _submit(member, "Leave the organisation")
    assert _user("demo-owner").organisation_id is None
    with db.read_scope() as session:
        active = session.exec(
            select(Membership.account_id).where(
                Membership.organisation_id == owner.organisation_id, Membership.status == "active"
            )
        ).all()
    assert active == [colleague.id]
    assert "Your account acts for no organisation yet" in " ".join(m.value for m in member.markdown)


def test_an_account_without_organisation_is_told_why_it_cannot_register_a_practice(
    embedded_app,
):
    at = AppTest.from_file(APP, default_timeout=60).run()  # prepares the database
    with db.session_scope() as session:
        account(session, "karl")
    at.switch_page("app_pages/sign_in.py").run()
    inputs = {t.label: t for t in at.text_input}
    inputs["Username"].input("karl")
    inputs["Password"].input(PASSWORD)
    _submit(at, "Sign in")
    at.switch_page("app_pages/register.py").run()
    assert not at.exception
    assert any("acts for no organisation" in i.value for i in at.info)
    assert not [b for b in at.button if b.label == "Save draft"]


def test_a_member_who_left_in_another_window_is_told_so_on_saving(member):
    owner = _user("demo-owner")
    with db.session_scope() as session:
        colleague = account(session, "cleo", "owner", owner.organisation_id)
    member.switch_page("app_pages/register.py").run()
    member.text_input(key="pf_title").input("A practice typed before leaving")
    with db.session_scope() as session:
        organisations.leave(session=session, actor=owner, successor_id=colleague.id)
    _submit(member, "Save draft")
    assert any("acts for no organisation" in i.value for i in member.info)
    with db.read_scope() as session:
        assert organisations.acting_organisation(session, owner) is None
