"""Claims of practices whose organisation has no member: made, flagged, decided once (both
databases), and the web-domain check."""

import pytest
from pydantic import ValidationError
from sqlmodel import col, select

from dhu_core import claims, db, live, organisations, practices
from dhu_core.accounts import OwnerRegistration, PermissionDenied
from dhu_core.models import (
    AuditEvent,
    ClaimCreate,
    FieldError,
    Membership,
    Organisation,
    OutboxMessage,
    Practice,
    PracticeClaim,
    PracticeCountry,
    PracticeCreate,
    StateConflict,
    User,
    field_errors,
)
from tests.people import PASSWORD, account


def _imported(session, organisation: Organisation, title: str) -> int:
    """A published practice of `organisation` as an import leaves it: nobody typed it."""
    practice = Practice(
        title=title,
        summary="Patients book and see their results online, in every clinic of the region.",
        practice_type="service",
        maturity=3,
        status="published",
        owner_organisation_id=organisation.id,
        website="https://portal.region-nord.dk/about",
    )
    session.add(practice)
    session.flush()
    session.add(PracticeCountry(practice_id=practice.id, country=organisation.country))
    return practice.id


@pytest.fixture
def imported(engine):
    """An imported organisation without members, with two practices; a coordinator; Lena of
    another organisation; Karl, who has an account but no organisation."""
    with db.session_scope(engine) as session:
        region = Organisation(
            name="Region Nord", country="DK", website="https://www.region-nord.dk"
        )
        lab = Organisation(name="Porto Lab", country="PT")
        session.add_all([region, lab])
        session.flush()
        return {
            "region": region.id,
            "portal": _imported(session, region, "Patient portal of the region"),
            "second": _imported(session, region, "Video consultations"),
            "coordinator": account(session, "coordinator", "coordinator", lab.id),
            "lena": account(session, "lena", "owner", lab.id),
            "karl": account(session, "karl"),
        }


def _claim(engine, account: User, practice_id: int, role="Head of digital services"):
    with db.session_scope(engine) as session:
        return claims.make_claim(
            session=session, account=account, data=ClaimCreate(practice_id=practice_id, role=role)
        )


def _decide(engine, claim_id: int, approve: bool, actor: User, note: str = ""):
    with db.session_scope(engine) as session:
        return claims.decide_claim(
            session=session, actor=actor, claim_id=claim_id, approve=approve, note=note
        )


def _sign_up_and_claim(engine, email: str, practice_id: int) -> PracticeClaim:
    return claims.sign_up_and_claim(
        data=OwnerRegistration(
            username="marta",
            display_name="Marta Madsen",
            email=email,
            password=PASSWORD,
            claiming=True,
        ),
        claim=ClaimCreate(practice_id=practice_id, role="Project lead of the patient portal"),
        client="203.0.113.5",
        engine=engine,
    )


def _open(engine, actor: User) -> list[claims.ClaimView]:
    with db.read_scope(engine) as session:
        return claims.open_claims(session=session, actor=actor)


def _load(engine, model, key):
    with db.read_scope(engine) as session:
        return session.get(model, key)


@pytest.mark.parametrize(
    ("email", "websites", "flagged"),
    [
        ("anna@example.org", ["https://example.org"], True),
        ("anna@EXAMPLE.org", ["https://www.example.org/about"], True),
        ("anna@mail.example.org", ["http://www.example.org"], True),
        ("anna@example.org", ["https://portal.region.example.org:8443/x"], True),
        ("anna@hospital.co.uk", ["https://www.hospital.co.uk"], True),
        ("anna@example.org", [None, "https://example.org"], True),
        ("anna@example.org.evil.com", ["https://example.org"], False),
        ("anna@evil-example.org", ["https://example.org"], False),
        ("anna@example.org", ["https://example.org.evil.com"], False),
        ("anna@example.com", ["https://example.org"], False),
        ("anna@other.co.uk", ["https://www.hospital.co.uk"], False),
        ("anna@github.io", ["https://region.github.io"], False),
        ("anna@alice.github.io", ["https://bob.github.io"], False),
        ("anna@example.org", [None], False),
        ("anna@example.org", ["not a web address"], False),
        ("anna@example.org", ["https://[::1/"], False),
        ("not-an-address", ["https://example.org"], False),
    ],
)
def test_an_address_at_the_organisation_s_web_domain_is_flagged(email, websites, flagged):
    assert claims.domain_matches(email, *websites) is flagged


def test_a_claim_approved_makes_the_claimant_a_member_who_edits_every_practice(engine, imported):
    made = _sign_up_and_claim(engine, "marta@mail.region-nord.dk", imported["portal"])
    marta = _load(engine, User, made.account_id)
    assert marta.organisation_id is None
    [listed] = _open(engine, imported["coordinator"])
    assert (listed.practice, listed.organisation, listed.claimant) == (
        "Patient portal of the region",
        "Region Nord",
        "Marta Madsen",
    )
    assert (listed.role, listed.domain_matches) == ("Project lead of the patient portal", True)

    _decide(engine, made.id, True, imported["coordinator"], note="Called the region: confirmed.")
    assert _load(engine, User, marta.id).organisation_id == imported["region"]
    assert _open(engine, imported["coordinator"]) == []
    with db.session_scope(engine) as session:
        practices.submit_practice(
            session=session,
            data=PracticeCreate(
                title="Video consultations, by the region",
                summary="Doctors of the region see their patients by video from home.",
                practice_type="service",
                maturity=3,
                countries=["DK"],
            ),
            actor=marta,  # loaded before the approval: membership is read anew
            practice_id=imported["second"],
        )
    with db.read_scope(engine) as session:
        history = [e.action for e in practices.history(
            session=session, actor=imported["coordinator"], practice_id=imported["portal"]
        )]  # fmt: skip
        trail = session.exec(
            select(AuditEvent.action, AuditEvent.actor_name)
            .where(AuditEvent.entity == "claim", AuditEvent.entity_id == made.id)
            .order_by(col(AuditEvent.id))
        ).all()
        decided = session.get(PracticeClaim, made.id)
    assert history[-1] == "practice.claimed"
    assert [tuple(row) for row in trail] == [
        ("claim.made", "marta"),
        ("claim.approved", "coordinator"),
    ]
    assert (decided.status, decided.decision_note) == ("approved", "Called the region: confirmed.")
    assert not claims.claim_state(
        practice_id=imported["portal"], viewer=None, engine=engine
    ).claimable


def test_a_rejected_claim_makes_nobody_a_member_and_cannot_be_decided_again(engine, imported):
    made = _claim(engine, imported["karl"], imported["portal"])
    assert made.domain_matches is False  # karl@example.org
    _decide(engine, made.id, False, imported["coordinator"], note="Nobody there knows Karl.")
    assert _load(engine, User, imported["karl"].id).organisation_id is None
    for approve in (True, False):
        with pytest.raises(StateConflict, match="just rejected by coordinator"):
            _decide(engine, made.id, approve, imported["coordinator"])
    with db.read_scope(engine) as session:
        memberships = session.exec(
            select(Membership).where(Membership.organisation_id == imported["region"])
        ).all()
    assert memberships == []
    again = _claim(engine, imported["karl"], imported["portal"], role="Chief information officer")
    assert again.id != made.id


def test_one_open_claim_per_account_and_practice(engine, imported):
    _claim(engine, imported["karl"], imported["portal"])
    with pytest.raises(FieldError) as refusal:
        _claim(engine, imported["karl"], imported["portal"], role="Still the head of digital")
    assert "waiting for a coordinator" in field_errors(refusal.value)["role"]
    _claim(engine, imported["karl"], imported["second"])
    state = claims.claim_state(
        practice_id=imported["portal"], viewer=imported["karl"], engine=engine
    )
    assert (state.claimable, state.own_open_claim) == (True, True)
    assert len(_open(engine, imported["coordinator"])) == 2


def test_a_practice_with_a_member_or_held_for_captures_cannot_be_claimed(engine, imported):
    made = _claim(engine, imported["karl"], imported["portal"])
    _decide(engine, made.id, True, imported["coordinator"])
    with db.session_scope(engine) as session:
        nina = account(session, "nina")
    with pytest.raises(StateConflict, match="ask one of them to invite you"):
        _claim(engine, nina, imported["second"])
    with db.session_scope(engine) as session:
        held = Organisation(name=live.CAPTURE_ORGANISATION, country="DK")
        session.add(held)
        session.flush()
        capture = _imported(session, held, "A capture published before it had its owner")
    with pytest.raises(StateConflict, match="waits for a coordinator to name its organisation"):
        _claim(engine, nina, capture)
    assert not claims.claim_state(practice_id=capture, viewer=nina, engine=engine).claimable


def test_a_member_of_another_organisation_cannot_claim(engine, imported):
    with pytest.raises(FieldError) as refusal:
        _claim(engine, imported["lena"], imported["portal"])
    assert "acts for another organisation" in field_errors(refusal.value)["role"]


def test_a_claimant_who_joined_elsewhere_meanwhile_is_not_approved(engine, imported):
    made = _claim(engine, imported["karl"], imported["portal"])
    with db.session_scope(engine) as session:
        request = organisations.request_to_join(
            session=session,
            account=imported["karl"],
            organisation_id=imported["lena"].organisation_id,
        )
    with db.session_scope(engine) as session:
        organisations.decide_request(
            session=session, actor=imported["lena"], membership_id=request.id, approve=True
        )
    with pytest.raises(StateConflict, match="acts for another organisation by now"):
        _decide(engine, made.id, True, imported["coordinator"])
    assert _load(engine, PracticeClaim, made.id).status == "open"


def test_approving_a_claim_ends_the_claimant_s_requests_to_join(engine, imported):
    made = _claim(engine, imported["karl"], imported["portal"])
    with db.session_scope(engine) as session:
        request = organisations.request_to_join(
            session=session, account=imported["karl"], organisation_id=imported["region"]
        )
    _decide(engine, made.id, True, imported["coordinator"])
    assert _load(engine, Membership, request.id).status == "cancelled"


def test_only_coordinators_see_and_decide_claims(engine, imported):
    made = _claim(engine, imported["karl"], imported["portal"])
    for actor in (imported["lena"], imported["karl"]):
        with pytest.raises(PermissionDenied):
            _open(engine, actor)
        with pytest.raises(PermissionDenied):
            _decide(engine, made.id, True, actor)
    with pytest.raises(PermissionDenied):
        _claim(engine, None, imported["portal"])


@pytest.mark.parametrize(
    ("role", "message"),
    [
        ("", "your role needs at least 3 characters"),
        ("  it ", "your role needs at least 3 characters"),
        ("12345", "say in words what you do there"),
        ("x" * 201, "at most 200 characters"),
        ("Head\x00of IT", "control characters"),
    ],
)
def test_the_role_is_said_in_words(role, message):
    with pytest.raises(ValidationError) as error:
        ClaimCreate(practice_id=1, role=role)
    assert message in field_errors(error.value)["role"]


def test_a_claim_sign_up_makes_no_account_when_the_claim_is_refused(engine, imported):
    _claim(engine, imported["karl"], imported["portal"])
    _decide(engine, _open(engine, imported["coordinator"])[0].id, True, imported["coordinator"])
    with pytest.raises(StateConflict):
        _sign_up_and_claim(engine, "marta@example.org", imported["second"])
    with db.read_scope(engine) as session:
        assert session.exec(select(User).where(User.username == "marta")).first() is None


def test_the_claimant_is_e_mailed_the_decision_and_the_reason(engine, imported):
    approved = _claim(engine, imported["karl"], imported["portal"])
    rejected = _claim(engine, imported["karl"], imported["second"])
    _decide(engine, rejected.id, False, imported["coordinator"], note="Not known at the region.")
    _decide(engine, approved.id, True, imported["coordinator"])
    with db.read_scope(engine) as session:
        messages = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "claim-decided")
            .order_by(col(OutboxMessage.id))
        ).all()
    assert [(m.kind, m.recipient) for m in messages] == [("claim-decided", "karl@example.org")] * 2
    assert [m.context["approved"] for m in messages] == [False, True]
    assert messages[0].context["reason"] == "Not known at the region."
    assert messages[1].context["organisation"] == "Region Nord"


def test_a_coordinator_does_not_decide_their_own_claim(engine, imported):
    with db.session_scope(engine) as session:
        loner = account(session, "loner", "coordinator")
        other = account(session, "other", "coordinator")
    made = _claim(engine, loner, imported["portal"])
    with pytest.raises(PermissionDenied, match="Another coordinator decides your own claim"):
        _decide(engine, made.id, True, loner)
    _decide(engine, made.id, True, other)
    assert _load(engine, User, loner.id).organisation_id == imported["region"]
