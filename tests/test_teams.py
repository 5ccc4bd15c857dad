"""Organisation teams: any member edits the organisation's practices and needs; leaving hands
over, and the last member cannot leave (both databases)."""

import pytest
from sqlmodel import select

from dhu_core import accounts, claims, db, organisations, practices, twinning
from dhu_core.accounts import PermissionDenied
from dhu_core.models import (
    AuditEvent,
    FieldError,
    Membership,
    Organisation,
    OutboxMessage,
    Practice,
    PracticeCreate,
    PracticeDraft,
    TwinningNeedCreate,
    User,
)
from tests.people import account

COMPLETE = dict(
    summary="Nurses follow patients with heart failure at home every day.",
    practice_type="service",
    maturity=3,
    countries=["EE"],
)


@pytest.fixture
def team(engine):
    """Tartu Clinic with two members (Anna typed its practice), and an outsider."""
    with db.session_scope(engine) as session:
        clinic = Organisation(name="Tartu Clinic", country="EE")
        lab = Organisation(name="Porto Lab", country="PT")
        session.add_all([clinic, lab])
        session.flush()
        people = {
            "clinic": clinic.id,
            "anna": account(session, "anna", "owner", clinic.id),
            "ben": account(session, "ben", "owner", clinic.id),
            "outsider": account(session, "outsider", "owner", lab.id),
            "coordinator": account(session, "coordinator", "coordinator", lab.id),
            "admin": account(session, "admin", "admin", lab.id),
        }
    with db.session_scope(engine) as session:
        practice = practices.submit_practice(
            session=session,
            data=PracticeCreate(
                title="Heart failure telemonitoring",
                contact_email="anna@example.org",
                **COMPLETE,
            ),
            actor=people["anna"],
        )
        practices.approve_practice(
            session=session, practice_id=practice.id, actor=people["coordinator"]
        )
        draft = practices.save_draft(
            session=session, data=PracticeDraft(title="Anna's draft"), actor=people["anna"]
        )
    return people | {"published": practice.id, "draft": draft.id}


def _edit_draft(engine, actor: User, practice_id: int, title: str) -> None:
    with db.session_scope(engine) as session:
        practices.save_draft(
            session=session, data=PracticeDraft(title=title), actor=actor, practice_id=practice_id
        )


def _leave(engine, actor: User, successor: User | None) -> Membership:
    with db.session_scope(engine) as session:
        return organisations.leave(
            session=session, actor=actor, successor_id=successor.id if successor else None
        )


def _load(engine, model, key):
    with db.read_scope(engine) as session:
        return session.get(model, key)


def test_any_member_edits_the_practices_a_colleague_typed(engine, team):
    _edit_draft(engine, team["ben"], team["draft"], "Ben finished Anna's draft")
    assert _load(engine, Practice, team["draft"]).title == "Ben finished Anna's draft"
    with db.session_scope(engine) as session:
        practices.submit_practice(
            session=session,
            data=PracticeCreate(title="Heart failure telemonitoring, 2nd edition", **COMPLETE),
            actor=team["ben"],
            practice_id=team["published"],
        )
    with db.read_scope(engine) as session:
        [item] = practices.review_queue(session=session, actor=team["coordinator"])
        form = practices.practice_form(
            session=session, actor=team["anna"], practice_id=team["published"]
        )
    assert (item.kind, item.proposed.title) == ("edit", form.title)
    assert form.title == "Heart failure telemonitoring, 2nd edition"


def test_someone_of_another_organisation_is_refused(engine, team):
    with pytest.raises(PermissionDenied, match="members of the practice's organisation"):
        _edit_draft(engine, team["outsider"], team["draft"], "Taken over")
    with pytest.raises(PermissionDenied), db.read_scope(engine) as session:
        practices.practice_form(session=session, actor=team["outsider"], practice_id=team["draft"])
    assert _load(engine, Practice, team["draft"]).title == "Anna's draft"


def test_any_member_states_needs_for_the_organisation_and_nobody_else_does(engine, team):
    need = TwinningNeedCreate(
        problem_statement="We want a tool for rehabilitation exercises at home.", country="EE"
    )
    with db.session_scope(engine) as session:
        made = twinning.create_need(session=session, actor=team["ben"], data=need)
    assert made.organisation_id == team["clinic"]
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        twinning.create_need(
            session=session, actor=team["outsider"], data=need, organisation_id=team["clinic"]
        )
    with db.read_scope(engine) as session:
        seen = twinning.own_needs(session=session, actor=team["anna"])
    assert [n.id for n in seen] == [made.id]


def test_a_member_who_left_edits_nothing_even_with_the_account_loaded_before(engine, team):
    stale_anna = team["anna"]  # loaded while she was a member, as a page might hold it
    _leave(engine, stale_anna, successor=team["ben"])
    assert stale_anna.organisation_id == team["clinic"]
    with pytest.raises(PermissionDenied):
        _edit_draft(engine, stale_anna, team["draft"], "Edited after leaving")
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        twinning.create_need(
            session=session,
            actor=stale_anna,
            data=TwinningNeedCreate(
                problem_statement="A need stated by someone who left the clinic.", country="EE"
            ),
        )
    assert _load(engine, User, stale_anna.id).organisation_id is None
    _edit_draft(engine, team["ben"], team["draft"], "Ben carries on")


def test_leaving_hands_the_contact_address_over_to_the_named_member(engine, team):
    left = _leave(engine, team["anna"], successor=team["ben"])
    assert left.status == "left"
    assert _load(engine, Practice, team["published"]).contact_email == "ben@example.org"
    with db.read_scope(engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "membership.left")).one()
        members = organisations.members(session=session, actor=team["ben"])
    assert event.detail["successor"] == team["ben"].id
    assert event.detail["contact_handed_over"] == [team["published"]]
    assert [m.email for m in members] == ["ben@example.org"]


def test_the_successor_is_another_member_of_the_organisation(engine, team):
    for successor in (None, team["anna"], team["outsider"]):
        with pytest.raises(FieldError, match="choose the member who takes over"):
            _leave(engine, team["anna"], successor)
    assert _load(engine, User, team["anna"].id).organisation_id == team["clinic"]


def test_the_last_member_leaves_only_after_a_colleague_accepted_an_invitation(engine, team):
    _leave(engine, team["ben"], successor=team["anna"])
    with pytest.raises(FieldError, match="last member: invite a colleague first"):
        _leave(engine, team["anna"], successor=team["ben"])
    with db.session_scope(engine) as session:
        made = organisations.invite(session=session, actor=team["anna"], email="cleo@example.org")
    with pytest.raises(FieldError, match="last member"):
        _leave(engine, team["anna"], successor=team["ben"])  # invited is not accepted
    with db.session_scope(engine) as session:
        cleo = account(session, "cleo")
    with db.session_scope(engine) as session:
        organisations.accept_invitation(session=session, account=cleo, token=made.token)
    _leave(engine, team["anna"], successor=cleo)
    with db.read_scope(engine) as session:
        active = session.exec(
            select(Membership.account_id).where(
                Membership.organisation_id == team["clinic"], Membership.status == "active"
            )
        ).all()
    assert active == [cleo.id]
    _edit_draft(engine, _load(engine, User, cleo.id), team["draft"], "Cleo keeps it now")


def test_leaving_twice_is_a_clear_refusal(engine, team):
    _leave(engine, team["anna"], successor=team["ben"])
    with pytest.raises(Exception, match="acts for no organisation") as refusal:
        _leave(engine, team["anna"], successor=team["ben"])
    assert type(refusal.value).__name__ == "StateConflict"


def test_an_invitation_is_e_mailed_to_the_colleague_with_its_link(engine, team):
    with db.session_scope(engine) as session:
        made = organisations.invite(session=session, actor=team["anna"], email="Cleo@Example.org")
    with db.read_scope(engine) as session:
        [message] = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "invitation")
        ).all()
    assert (message.kind, message.recipient, message.status) == (
        "invitation",
        "cleo@example.org",
        "pending",
    )
    assert message.context["token"] == made.token
    assert message.context["organisation"] == "Tartu Clinic"
    assert "Tartu Clinic" in message.subject


def test_an_invitation_refused_or_rolled_back_sends_nothing(engine, team):
    with pytest.raises(FieldError), db.session_scope(engine) as session:
        organisations.invite(session=session, actor=team["anna"], email="not an address")
    with pytest.raises(RuntimeError), db.session_scope(engine) as session:
        organisations.invite(session=session, actor=team["anna"], email="cleo@example.org")
        raise RuntimeError("the page failed after the invitation")
    with db.read_scope(engine) as session:
        invitations = select(OutboxMessage).where(OutboxMessage.kind == "invitation")
        assert session.exec(invitations).all() == []


def test_a_disabled_colleague_neither_takes_over_nor_keeps_the_organisation(engine, team):
    _disable(engine, team, team["ben"])
    with pytest.raises(FieldError, match="last member"):
        _leave(engine, team["anna"], successor=team["ben"])
    practice = team["published"]
    assert not claims.claim_state(practice_id=practice, viewer=None, engine=engine).claimable
    _disable(engine, team, team["anna"])
    assert claims.claim_state(practice_id=practice, viewer=None, engine=engine).claimable


def _disable(engine, team, user: User) -> None:
    with db.session_scope(engine) as session:
        accounts.set_disabled(session=session, actor=team["admin"], user_id=user.id, disabled=True)
