"""Who acts for an organisation: sign-up, join requests, invitations (both databases)."""

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlmodel import select

from dhu_core import db, exchange, organisations, practices, ratelimits, tokens, twinning
from dhu_core.accounts import OwnerRegistration, PermissionDenied
from dhu_core.models import (
    AuditEvent,
    FieldError,
    InterestCreate,
    Membership,
    Organisation,
    PracticeCreate,
    PracticeDraft,
    StateConflict,
    TwinningNeedCreate,
    User,
    field_errors,
    utcnow,
)
from tests.people import PASSWORD, account


@pytest.fixture
def clinic(engine):
    """An organisation with private data: a draft, a rejected practice, a need, an inbox."""
    with db.session_scope(engine) as session:
        org = Organisation(name="Tartu Clinic", country="EE")
        other = Organisation(name="Porto Lab", country="PT")
        session.add_all([org, other])
        session.flush()

        member = account(session, "member", "owner", org.id)
        outsider = account(session, "outsider", "owner", other.id)
        coordinator = account(session, "coordinator", "coordinator", other.id)
    with db.session_scope(engine) as session:
        practices.save_draft(
            session=session, data=PracticeDraft(title="Secret draft plan"), actor=member
        )
        published = practices.submit_practice(
            session=session,
            data=PracticeCreate(
                title="Published telemonitoring",
                summary="Nurses follow patients with heart failure at home every day.",
                practice_type="service",
                maturity=3,
                countries=["EE"],
            ),
            actor=member,
        )
        practices.approve_practice(session=session, practice_id=published.id, actor=coordinator)
        twinning.create_need(
            session=session,
            actor=member,
            data=TwinningNeedCreate(
                problem_statement="We want a tool for rehabilitation exercises at home.",
                country="EE",
            ),
        )
    with db.session_scope(engine) as session:
        exchange.express_interest(
            session=session,
            actor=outsider,
            data=InterestCreate(practice_id=published.id, text="We would like to learn more."),
        )
    return {
        "org": org.id,
        "other": other.id,
        "member": member,
        "outsider": outsider,
        "coordinator": coordinator,
        "published": published.id,
    }


def _registration(**fields) -> OwnerRegistration:
    return OwnerRegistration(
        username=fields.pop("username", "newcomer"),
        display_name="Nora Newcomer",
        email=fields.pop("email", "newcomer@example.org"),
        password=PASSWORD,
        **fields,
    )


def _sign_up(engine, client="203.0.113.9", **fields) -> organisations.Registration:
    return organisations.sign_up(data=_registration(**fields), client=client, engine=engine)


def _fresh(engine, user: User) -> User:
    with db.read_scope(engine) as session:
        return session.get(User, user.id)


def _private_view(engine, user: User) -> dict:
    """What the account sees of private data, and whether it may edit the published practice."""
    user = _fresh(engine, user)
    with db.read_scope(engine) as session:
        seen = {
            "practices": [p.title for p in practices.own_practices(session=session, actor=user)],
            "inbox": [i.sender_email for i in exchange.inbox(session=session, actor=user)],
            "needs": [n.problem_statement for n in twinning.own_needs(session=session, actor=user)],
        }
    return seen


def test_asking_to_join_an_organisation_shows_nothing_private_until_approved(engine, clinic):
    registration = _sign_up(engine, organisation_id=clinic["org"])
    newcomer = registration.user
    assert (registration.status, registration.organisation) == ("pending", "Tartu Clinic")
    assert _fresh(engine, newcomer).organisation_id is None
    assert _private_view(engine, newcomer) == {"practices": [], "inbox": [], "needs": []}
    edit = PracticeCreate(
        title="Hijacked title",
        summary="A summary long enough to be a complete practice edit.",
        practice_type="app",
        maturity=3,
        countries=["EE"],
    )
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        practices.submit_practice(
            session=session,
            data=edit,
            actor=_fresh(engine, newcomer),
            practice_id=clinic["published"],
        )

    with db.session_scope(engine) as session:
        [request] = organisations.join_requests(session=session, actor=clinic["member"])
        organisations.decide_request(
            session=session, actor=clinic["member"], membership_id=request.id, approve=True
        )
    seen = _private_view(engine, newcomer)
    assert "Secret draft plan" in seen["practices"]
    assert seen["inbox"] == ["outsider@example.org"]
    assert len(seen["needs"]) == 1


def test_only_members_and_coordinators_decide_a_request(engine, clinic):
    newcomer = _sign_up(engine, organisation_id=clinic["org"]).user
    with db.read_scope(engine) as session:
        assert organisations.join_requests(session=session, actor=clinic["outsider"]) == []
        [request] = organisations.join_requests(session=session, actor=clinic["coordinator"])
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        organisations.decide_request(
            session=session, actor=clinic["outsider"], membership_id=request.id, approve=True
        )
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        organisations.decide_request(
            session=session, actor=_fresh(engine, newcomer), membership_id=request.id, approve=True
        )
    with db.session_scope(engine) as session:
        organisations.decide_request(
            session=session, actor=clinic["coordinator"], membership_id=request.id, approve=False
        )
    assert _fresh(engine, newcomer).organisation_id is None
    conflict = pytest.raises(StateConflict, match="just declined by coordinator")
    with conflict, db.session_scope(engine) as session:
        organisations.decide_request(
            session=session, actor=clinic["member"], membership_id=request.id, approve=True
        )


def test_a_new_organisation_may_not_take_the_name_of_an_existing_one(engine, clinic):
    with pytest.raises(FieldError) as error:
        _sign_up(engine, organisation_name="tartu CLINIC", organisation_country="EE")
    assert (
        "choose it in the list to ask to join it" in field_errors(error.value)["organisation_name"]
    )
    with db.read_scope(engine) as session:
        assert session.exec(select(User).where(User.username == "newcomer")).first() is None
    registration = _sign_up(engine, organisation_name="Tartu Clinic", organisation_country="LV")
    assert (registration.status, registration.organisation) == ("active", "Tartu Clinic")
    assert _fresh(engine, registration.user).organisation_id not in (None, clinic["org"])


def test_workshop_captures_can_be_neither_listed_nor_joined(engine, clinic):
    with db.session_scope(engine) as session:
        captures = Organisation(name=organisations.CAPTURE_ORGANISATION, country="EE")
        session.add(captures)
        session.flush()
        captures_id = captures.id
    assert captures_id not in organisations.organisation_choices(engine=engine)
    assert clinic["org"] in organisations.organisation_choices(engine=engine)
    with pytest.raises(FieldError):
        _sign_up(engine, organisation_id=captures_id)
    with pytest.raises(FieldError):
        _sign_up(engine, organisation_name="Workshop Captures", organisation_country="FI")


def _invite(engine, clinic, email="colleague@example.org") -> organisations.Invitation:
    with db.session_scope(engine) as session:
        return organisations.invite(session=session, actor=clinic["member"], email=email)


def test_an_invitation_makes_a_member_at_once_and_works_only_once(engine, clinic):
    made = _invite(engine, clinic)
    registration = _sign_up(engine, invitation=made.token)
    assert (registration.status, registration.organisation) == ("active", "Tartu Clinic")
    assert "Secret draft plan" in _private_view(engine, registration.user)["practices"]
    with pytest.raises(FieldError, match="used or withdrawn"):
        _sign_up(engine, username="second", email="second@example.org", invitation=made.token)
    with db.read_scope(engine) as session:
        events = session.exec(
            select(AuditEvent.action).where(AuditEvent.entity == "membership")
        ).all()
    assert events.count("membership.accepted") == 1


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: str(int(token.split(".")[0]) + 1) + token[token.index(".") :],
        lambda token: "not-a-token",
        lambda token: tokens.make("unsubscribe", int(token.split(".")[0]), utcnow() + timedelta(1)),
    ],
    ids=["altered signature", "other record", "garbage", "other purpose"],
)
def test_a_forged_invitation_is_refused(engine, clinic, forge):
    made = _invite(engine, clinic)
    with pytest.raises(FieldError) as error:
        _sign_up(engine, invitation=forge(made.token))
    assert "invitation" in field_errors(error.value)


def test_an_expired_or_withdrawn_invitation_is_refused(engine, clinic):
    made = _invite(engine, clinic)
    later = utcnow() + timedelta(days=organisations.INVITATION_DAYS, minutes=1)
    with pytest.raises(tokens.InvalidToken, match="expired"), db.read_scope(engine) as session:
        organisations.invitation(session=session, token=made.token, now=later)
    with db.session_scope(engine) as session:
        organisations.withdraw_invitation(
            session=session, actor=clinic["member"], membership_id=made.membership.id
        )
    with pytest.raises(FieldError, match="used or withdrawn"):
        _sign_up(engine, invitation=made.token)


def test_a_signed_in_account_without_organisation_accepts_an_invitation(engine, clinic):
    loner = _sign_up(engine, organisation_id=clinic["other"]).user
    made = _invite(engine, clinic)
    with db.session_scope(engine) as session:
        organisations.accept_invitation(session=session, account=loner, token=made.token)
    assert _fresh(engine, loner).organisation_id == clinic["org"]
    second = _invite(engine, clinic)
    refused = pytest.raises(FieldError, match="acts for an organisation")
    with refused, db.session_scope(engine) as session:
        organisations.accept_invitation(
            session=session, account=clinic["outsider"], token=second.token
        )


def test_members_see_their_colleagues_and_open_invitations(engine, clinic):
    _invite(engine, clinic, "colleague@example.org")
    with db.read_scope(engine) as session:
        seen = organisations.members(session=session, actor=clinic["member"])
        assert organisations.members(session=session, actor=_fresh(engine, clinic["outsider"]))
    assert [(m.email, m.status) for m in seen] == [
        ("member@example.org", "active"),
        ("colleague@example.org", "invited"),
    ]


def test_every_sign_up_from_one_client_counts_against_its_limit(engine, clinic):
    limit = organisations.SIGN_UP_LIMIT.uses
    with pytest.raises(FieldError):
        _sign_up(engine, username="member", organisation_id=clinic["org"])  # a name taken
    for number in range(limit - 1):
        _sign_up(engine, username=f"user{number}", email=f"u{number}@example.org",
                 organisation_id=clinic["org"])  # fmt: skip
    with pytest.raises(ratelimits.RateLimited, match="wait about 60 minutes"):
        _sign_up(engine, username="one-more", email="more@example.org", organisation_id=1)
    _sign_up(
        engine,
        client="198.51.100.7",
        username="elsewhere",
        email="elsewhere@example.org",
        organisation_id=clinic["org"],
    )


def test_a_registration_names_either_an_organisation_to_join_or_a_new_one():
    with pytest.raises(ValidationError) as error:
        _registration(
            organisation_id=1, organisation_name="Both at once", organisation_country="EE"
        )
    assert "either" in field_errors(error.value)["organisation_name"]


def test_the_demo_accounts_are_active_members(engine):
    from dhu_core import demo

    with db.session_scope(engine) as session:
        db.delete_all_rows(session)
    demo.seed_demo(engine=engine, practices=40)
    with db.read_scope(engine) as session:
        users = {u.username: u for u in session.exec(select(User))}
        memberships = session.exec(select(Membership)).all()
    assert {(m.account_id, m.organisation_id, m.status) for m in memberships} == {
        (u.id, u.organisation_id, "active") for u in users.values() if u.organisation_id
    }
