"""Accounts and permissions at the service level, on SQLite and PostgreSQL."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from pydantic import ValidationError
from sqlmodel import select

from dhu_core import accounts, db, organisations, practices
from dhu_core.accounts import LoginFailed, PermissionDenied
from dhu_core.cli import main
from dhu_core.config import get_settings
from dhu_core.models import (
    AuditEvent,
    FieldError,
    LoginThrottle,
    Organisation,
    PracticeCreate,
    PracticeDraft,
    User,
    field_errors,
)

PASSWORD = "Correct-horse-42"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def people(engine):
    """Two owners of different organisations, a coordinator, an admin and a disabled owner."""
    with db.session_scope(engine) as session:
        orgs = [Organisation(name=f"Org {c}", country=c) for c in ("EE", "PT", "BE")]
        session.add_all(orgs)
        session.flush()
        made = {}
        for name, role, org in [
            ("owner-a", "owner", orgs[0]),
            ("owner-b", "owner", orgs[1]),
            ("coord", "coordinator", orgs[2]),
            ("admin", "admin", orgs[2]),
            ("gone", "owner", orgs[0]),
        ]:
            made[name] = accounts.create_user(
                session=session,
                username=name,
                password=PASSWORD,
                role=role,
                email=f"{name}@example.org",
                organisation_id=org.id,
            )
        made["gone"].disabled = True
    return made


def _practice(**changes) -> PracticeCreate:
    fields = dict(
        title="Heart failure telemonitoring",
        summary="Patients send weight and blood pressure daily to the clinic.",
        practice_type="service",
        maturity=3,
        countries=["EE"],
    )
    return PracticeCreate(**{**fields, **changes})


def _submitted_practice(engine, owner) -> int:
    with db.session_scope(engine) as session:
        return practices.submit_practice(session=session, data=_practice(), actor=owner).id


# --- permissions -------------------------------------------------------------------------


def test_owner_cannot_approve_or_reject(engine, people):
    practice_id = _submitted_practice(engine, people["owner-a"])
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        practices.approve_practice(
            session=session, practice_id=practice_id, actor=people["owner-a"]
        )
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        practices.reject_practice(
            session=session,
            practice_id=practice_id,
            actor=people["owner-a"],
            reason=practices.REJECTION_REASONS[0],
        )


def test_owner_cannot_edit_or_submit_another_owners_practice(engine, people):
    with db.session_scope(engine) as session:
        practice_id = practices.save_draft(
            session=session, data=PracticeDraft(title="Mine"), actor=people["owner-a"]
        ).id
    edit = _practice(title="Taken over")
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        practices.save_draft(
            session=session, practice_id=practice_id, data=edit, actor=people["owner-b"]
        )
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        practices.submit_practice(
            session=session, practice_id=practice_id, data=edit, actor=people["owner-b"]
        )
    with db.session_scope(engine) as session:
        updated = practices.submit_practice(
            session=session, practice_id=practice_id, data=edit, actor=people["owner-a"]
        )
        assert (updated.title, updated.status) == ("Taken over", "submitted")


def test_coordinator_moderates(engine, people):
    first = _submitted_practice(engine, people["owner-a"])
    second = _submitted_practice(engine, people["owner-a"])
    with db.session_scope(engine) as session:
        approved = practices.approve_practice(
            session=session, practice_id=first, actor=people["coord"]
        )
        rejected = practices.reject_practice(
            session=session,
            practice_id=second,
            actor=people["coord"],
            reason="Information incomplete or unclear",
            note="Please add the evidence.",
        )
        assert approved.status == "published" and approved.published_at is not None
        assert rejected.status == "rejected"
        assert "Please add the evidence." in rejected.rejection_reason
        actions = session.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["practice.approved", "practice.rejected"]


def test_a_disabled_user_can_do_nothing(engine, people):
    gone = people["gone"]
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        practices.submit_practice(session=session, data=_practice(), actor=gone)
    gone_admin = people["admin"].model_copy(update={"disabled": True})
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        accounts.list_users(session=session, actor=gone_admin)
    with pytest.raises(LoginFailed):
        accounts.authenticate(engine=engine, username="gone", password=PASSWORD, client="a")


def test_visitors_and_owners_cannot_administer(engine, people):
    for actor in (None, people["owner-a"], people["coord"]):
        with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
            accounts.set_role(
                session=session, actor=actor, user_id=people["owner-b"].id, role="admin"
            )
        with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
            accounts.audit_log(session=session, actor=actor)


def test_admin_changes_roles_and_disables_accounts_with_audit(engine, people):
    with db.session_scope(engine) as session:
        accounts.set_role(
            session=session, actor=people["admin"], user_id=people["owner-b"].id, role="coordinator"
        )
        accounts.set_disabled(
            session=session, actor=people["admin"], user_id=people["owner-a"].id, disabled=True
        )
        events = accounts.audit_log(session=session, actor=people["admin"])
        assert session.get(User, people["owner-b"].id).role == "coordinator"
        assert session.get(User, people["owner-a"].id).disabled
    assert [e.action for e in events[:2]] == ["account.disabled", "account.role_changed"]
    with pytest.raises(PermissionDenied), db.session_scope(engine) as session:
        accounts.set_disabled(
            session=session, actor=people["admin"], user_id=people["admin"].id, disabled=True
        )


# --- signing in --------------------------------------------------------------------------


def _login(engine, username, password, client="198.51.100.7", clock=None):
    return accounts.authenticate(
        engine=engine, username=username, password=password, client=client, now=clock or Clock()
    )


def _login_message(engine, username, password, **kwargs) -> str:
    with pytest.raises(LoginFailed) as failure:
        _login(engine, username, password, **kwargs)
    return str(failure.value)


def test_wrong_username_and_wrong_password_give_the_same_message(engine, people):
    assert _login(engine, "owner-a", PASSWORD).username == "owner-a"
    wrong_password = _login_message(engine, "owner-a", "Not-the-password-1")
    wrong_username = _login_message(engine, "nobody-here", PASSWORD)
    assert wrong_password == wrong_username == accounts.LOGIN_FAILED


def _fail_as_fast_as_allowed(engine, username, clock, client="198.51.100.7") -> str:
    """One failed attempt, after waiting as long as the account's delay asks; its message."""
    message = _login_message(engine, username, "Wrong-password-1", client=client, clock=clock)
    while message.startswith("Too many failed attempts for this account"):
        clock.advance(seconds=int(message.split("Wait ")[1].split(" ")[0]))
        message = _login_message(engine, username, "Wrong-password-1", client=client, clock=clock)
    return message


def test_lock_out_after_five_failures_expires(engine, people):
    clock = Clock()
    for _ in range(accounts.MAX_FAILURES):
        _fail_as_fast_as_allowed(engine, "owner-a", clock)
    clock.advance(minutes=1)
    assert _login_message(engine, "owner-a", PASSWORD, clock=clock) == accounts.LOGIN_LOCKED
    clock.advance(minutes=13)
    assert _login_message(engine, "owner-a", PASSWORD, clock=clock) == accounts.LOGIN_LOCKED
    clock.advance(minutes=2)
    assert _login(engine, "owner-a", PASSWORD, clock=clock).username == "owner-a"


def test_lock_out_of_an_unknown_username_looks_the_same(engine, people):
    clock = Clock()
    for _ in range(accounts.MAX_FAILURES):
        _fail_as_fast_as_allowed(engine, "owner-a", clock)
        _fail_as_fast_as_allowed(engine, "nobody-here", clock)
    assert _login_message(engine, "owner-a", PASSWORD, clock=clock) == _login_message(
        engine, "nobody-here", PASSWORD, clock=clock
    )


def test_an_attacker_elsewhere_cannot_lock_the_owner_out(engine, people):
    clock = Clock()
    for n in range(40):
        _fail_as_fast_as_allowed(engine, "owner-a", clock, client=f"203.0.113.{n % 3}")
    # The owner may have to wait for the account's delay, never longer.
    clock.advance(seconds=accounts.MAX_DELAY.total_seconds())
    user = _login(engine, "owner-a", PASSWORD, client="198.51.100.7", clock=clock)
    assert user.username == "owner-a"


def test_failures_spread_over_time_do_not_add_up(engine, people):
    clock = Clock()
    for _ in range(3 * accounts.MAX_FAILURES):
        _login_message(engine, "owner-a", "Wrong-password-1", clock=clock)
        clock.advance(minutes=16)
    assert _login(engine, "owner-a", PASSWORD, clock=clock).username == "owner-a"


def _delays_met(engine, username, attempts, clock) -> list[int]:
    """Fail `attempts` times from ever new addresses; the waits the account asked for."""
    waits = []
    for n in range(attempts):
        message = _login_message(
            engine, username, "Wrong-password-1", client=f"203.0.113.{n}", clock=clock
        )
        if message.startswith("Too many failed attempts for this account"):
            waits.append(int(message.split("Wait ")[1].split(" ")[0]))
            clock.advance(seconds=waits[-1])
            _login_message(
                engine, username, "Wrong-password-1", client=f"203.0.113.{n}", clock=clock
            )
    return waits


def test_rotating_client_addresses_meets_a_delay_that_grows_per_account(engine, people):
    clock = Clock()
    assert _delays_met(engine, "owner-a", 12, clock) == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    # Even the right password waits: the delay does not tell whether a guess was right.
    message = _login_message(engine, "owner-a", PASSWORD, client="198.51.100.9", clock=clock)
    assert message == "Too many failed attempts for this account. Wait 60 seconds, then try again."
    clock.advance(seconds=59)
    assert "Wait 1 second," in _login_message(engine, "owner-a", PASSWORD, clock=clock)
    clock.advance(seconds=1)
    assert _login(engine, "owner-a", PASSWORD, client="198.51.100.9", clock=clock)
    # A success starts the account afresh.
    assert _delays_met(engine, "owner-a", 4, clock) == [1]


def test_an_unknown_username_meets_the_same_delays(engine, people):
    clock = Clock()
    assert _delays_met(engine, "nobody-here", 8, clock) == [1, 2, 4, 8, 16]


def test_the_delay_never_grows_beyond_a_minute_and_is_forgotten(engine, people):
    assert [accounts.account_delay(n).total_seconds() for n in range(12)] == [
        0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60
    ]  # fmt: skip
    clock = Clock()
    _delays_met(engine, "owner-a", 10, clock)
    clock.advance(minutes=16)
    assert _delays_met(engine, "owner-a", 3, clock) == []


def test_failures_at_the_same_moment_are_all_counted(engine, people, monkeypatch):
    # Two sign-ins (as from two app processes) check their passwords side by side, then record
    # their failures at once: the row lock makes the second see the first one's count.
    together = threading.Barrier(2, timeout=30)
    real_check = accounts.check_password

    def check_side_by_side(password, password_hash):
        together.wait()
        return real_check(password, password_hash)

    monkeypatch.setattr(accounts, "check_password", check_side_by_side)
    clock = Clock()

    def fail(client: str) -> str:
        return _login_message(engine, "owner-a", "Wrong-1", client=client, clock=clock)

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(fail, ["203.0.113.1", "203.0.113.1"]))
    assert outcomes == [accounts.LOGIN_FAILED, accounts.LOGIN_FAILED]
    with db.session_scope(engine) as session:
        rows = session.exec(select(LoginThrottle).where(LoginThrottle.username == "owner-a"))
        counts = {row.client: row.failures for row in rows}
    assert counts == {"203.0.113.1": 2, accounts.ANY_CLIENT: 2}


def test_login_success_and_failure_are_audited(engine, people):
    _login(engine, "owner-a", PASSWORD)
    _login_message(engine, "owner-a", "Wrong-password-1")
    with db.session_scope(engine) as session:
        actions = session.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["login.succeeded", "login.failed"]


# --- sessions and cookies ----------------------------------------------------------------


def test_a_cookie_issued_before_logout_is_rejected(engine, people):
    clock = Clock()
    issued = clock() - timedelta(minutes=1)
    with db.session_scope(engine) as session:
        found = accounts.user_for_cookie(
            session=session, user_id=people["owner-a"].id, issued_at=issued
        )
        assert found.username == "owner-a"
        accounts.sign_out(session=session, actor=people["owner-a"], now=clock)
    with db.session_scope(engine) as session:
        assert (
            accounts.user_for_cookie(
                session=session, user_id=people["owner-a"].id, issued_at=issued
            )
            is None
        )
        later = clock() + timedelta(seconds=1)
        again = accounts.user_for_cookie(
            session=session, user_id=people["owner-a"].id, issued_at=later
        )
        assert again is not None


def test_password_change_and_disabling_end_open_sessions(engine, people):
    clock = Clock()
    signed_in = clock() - timedelta(hours=1)
    owner = people["owner-a"]
    with db.session_scope(engine) as session:
        assert accounts.current_user(session=session, user_id=owner.id, signed_in_at=signed_in)
        accounts.change_password(
            session=session, actor=owner, current=PASSWORD, new="Another-pass-77", now=clock
        )
    with db.session_scope(engine) as session:
        assert (
            accounts.current_user(session=session, user_id=owner.id, signed_in_at=signed_in) is None
        )
    clock.advance(minutes=1)
    with db.session_scope(engine) as session:
        accounts.set_disabled(
            session=session, actor=people["admin"], user_id=people["owner-b"].id, disabled=True
        )
        assert (
            accounts.user_for_cookie(
                session=session, user_id=people["owner-b"].id, issued_at=clock()
            )
            is None
        )


# --- registration ------------------------------------------------------------------------


def test_registration_creates_an_owner_and_a_new_organisation(engine, people):
    data = accounts.OwnerRegistration(
        username="New.Owner",
        display_name="Nora Owner",
        email="Nora@Example.org",
        password="A-strong-pass-2026",
        organisation_name="Tartu Health Lab",
        organisation_type="research",
        organisation_country="EE",
    )
    with db.session_scope(engine) as session:
        user = organisations.register_owner(session=session, data=data).user
        assert (user.username, user.role, user.email) == ("new.owner", "owner", "nora@example.org")
        assert session.get(Organisation, user.organisation_id).name == "Tartu Health Lab"
        assert accounts.check_password("A-strong-pass-2026", user.password_hash)
        assert user.password_hash != "A-strong-pass-2026"


def _registration(password: str) -> accounts.OwnerRegistration:
    return accounts.OwnerRegistration(
        username="newowner",
        display_name="Nora Owner",
        email="nora@example.org",
        password=password,
        organisation_id=1,
    )


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-1A", "at least 12 characters"),
        ("Password12345", "too easy to guess"),
        ("Qwertyuiop123", "too easy to guess"),
        ("Password1234", "too easy to guess"),
        ("iloveyou12345", "too easy to guess"),
        ("Welcome2026!", "too easy to guess"),
        ("P@ssw0rd2026!", "too easy to guess"),
        ("abcabcabcabcabc", "too easy to guess"),
        ("nora@example.org2026", "too easy to guess"),
        ("Xx-newowner-99", "must not contain the username"),
    ],
)
def test_weak_passwords_get_a_clear_message_next_to_the_field(password, message):
    with pytest.raises(ValidationError) as error:
        _registration(password)
    assert message in field_errors(error.value)["password"]


def test_the_message_of_a_common_password_says_why():
    with pytest.raises(ValidationError) as error:
        _registration("Password12345")
    assert field_errors(error.value)["password"] == (
        "this password is too easy to guess. This is similar to a commonly used password. "
        "Add another word or two. Uncommon words are better."
    )


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "Tartu rain on Tuesday",
        "sunflower meadow quietly",
        "Kadri walks to the clinic",
        "Good-enough-pass-1",
        "x7Qm-p2Lr-9vTz",
    ],
)
def test_passphrases_and_random_passwords_are_accepted(password):
    assert _registration(password).password == password


@pytest.mark.parametrize("password", ["k" * 73, "Tartu rain " * 11 + "x", "é" * 37, "ü" * 64])
def test_passwords_longer_than_bcrypt_reads_are_refused_with_a_message(password, engine, people):
    assert 73 <= len(password.encode()) <= 128
    with pytest.raises(ValidationError) as error:
        _registration(password)
    assert "at most 72 bytes" in field_errors(error.value)["password"]
    with pytest.raises(FieldError) as changed, db.session_scope(engine) as session:
        accounts.change_password(
            session=session, actor=people["owner-a"], current=PASSWORD, new=password
        )
    assert "at most 72 bytes" in field_errors(changed.value)["new"]


def test_a_password_of_exactly_72_bytes_is_kept_whole(engine, people):
    password = "Tartu rain on Tuesday, " * 3 + "abc"
    assert len(password.encode()) == 72
    with db.session_scope(engine) as session:
        accounts.change_password(
            session=session, actor=people["owner-a"], current=PASSWORD, new=password
        )
    assert _login(engine, "owner-a", password).username == "owner-a"


def test_every_bad_field_gets_its_own_message():
    with pytest.raises(ValidationError) as error:
        accounts.OwnerRegistration(
            username="x", display_name="", email="bad", password="Good-enough-pass-1"
        )
    assert set(field_errors(error.value)) == {
        "username",
        "display_name",
        "email",
        "organisation_name",
    }


def test_a_new_organisation_needs_its_country():
    with pytest.raises(ValidationError) as error:
        accounts.OwnerRegistration(
            username="nora",
            display_name="Nora Owner",
            email="nora@example.org",
            password="Good-enough-pass-1",
            organisation_name="Tartu Health Lab",
        )
    assert field_errors(error.value) == {
        "organisation_country": "choose the country of the new organisation"
    }


def test_a_taken_username_is_reported_on_its_field(engine, people):
    data = accounts.OwnerRegistration(
        username="owner-a",
        display_name="Copy Cat",
        email="copy@example.org",
        password="Good-enough-pass-1",
        organisation_id=people["owner-a"].organisation_id,
    )
    with pytest.raises(FieldError) as error, db.session_scope(engine) as session:
        organisations.register_owner(session=session, data=data)
    assert field_errors(error.value) == {"username": "the username 'owner-a' is taken"}


def test_dhu_create_user_refuses_a_long_password_with_a_message(engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            main,
            ["create-user", "alice", "--role", "admin", "--email", "alice@example.org"],
            input="Kadri walks to the clinic " * 4 + "\n",
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "password: use at most 72 bytes" in result.output
    assert not isinstance(result.exception, ValueError)
