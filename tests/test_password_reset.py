"""A new password through a link by e-mail: same answer for any address, one use, one hour."""

from datetime import timedelta

import pytest
from sqlmodel import select

from dhu_core import accounts, db, password_reset, ratelimits, tokens
from dhu_core.models import FieldError, OutboxMessage, User, utcnow
from tests.people import PASSWORD, account

NEW = "Lisbon trams climb slowly"
CLIENT = "203.0.113.7"


@pytest.fixture
def olga(engine) -> User:
    with db.session_scope(engine) as session:
        return account(session, "olga")


def _link_token(engine) -> str:
    with db.read_scope(engine) as session:
        (message,) = session.exec(select(OutboxMessage)).all()
    assert message.kind == "password-reset" and message.recipient == "olga@example.org"
    return message.context["token"]


def _set(engine, token, new=NEW, now=None) -> User:
    with db.session_scope(engine) as session:
        return password_reset.set_password(session=session, token=token, new=new, now=now)


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(engine, olga):
    unknown = password_reset.request_link(email="nobody@example.org", client=CLIENT, engine=engine)
    known = password_reset.request_link(email=" Olga@Example.org ", client=CLIENT, engine=engine)
    assert unknown == known == password_reset.SENT
    assert _link_token(engine)


def test_a_link_sets_the_password_once(engine, olga):
    password_reset.request_link(email="olga@example.org", client=CLIENT, engine=engine)
    token = _link_token(engine)
    with pytest.raises(FieldError) as weak:
        _set(engine, token, new="password123")
    assert weak.value.field == "new"
    _set(engine, token)
    with db.session_scope(engine) as session:
        user = session.get(User, olga.id)
        assert accounts.check_password(NEW, user.password_hash)
        assert user.sessions_valid_after is not None
    with pytest.raises(tokens.InvalidToken, match="used already"):
        _set(engine, token, new="Another quiet harbour evening")


def test_a_link_is_void_once_the_password_changed_otherwise(engine, olga):
    password_reset.request_link(email="olga@example.org", client=CLIENT, engine=engine)
    token = _link_token(engine)
    with db.session_scope(engine) as session:
        accounts.change_password(session=session, actor=olga, current=PASSWORD, new=NEW)
    with pytest.raises(tokens.InvalidToken, match="not valid"):
        _set(engine, token, new="Another quiet harbour evening")


def test_a_forged_or_expired_link_is_refused(engine, olga):
    password_reset.request_link(email="olga@example.org", client=CLIENT, engine=engine)
    token = _link_token(engine)
    subject, expires, signature = token.split(".")
    later = utcnow() + password_reset.LIFETIME + timedelta(minutes=1)
    for forged, now, problem in (
        (f"{subject}.{int(expires) + 3600}.{signature}", None, "not valid"),
        (tokens.make("password-reset", olga.id, utcnow() + timedelta(hours=1)), None, "not valid"),
        (f"{olga.id + 1}.{expires}.{signature}", None, "not valid"),
        ("12345", None, "not valid"),
        ("no-token-at-all", None, "not complete"),
        (token, later, "expired"),
    ):
        with pytest.raises(tokens.InvalidToken, match=problem):
            _set(engine, forged, now=now)
    with db.read_scope(engine) as session:
        assert accounts.check_password(PASSWORD, session.get(User, olga.id).password_hash)


def test_requests_are_limited_per_address_and_per_client(engine, olga):
    for number in range(3):
        password_reset.request_link(
            email="olga@example.org", client=f"198.51.100.{number}", engine=engine
        )
    with pytest.raises(ratelimits.RateLimited):
        password_reset.request_link(email="olga@example.org", client="198.51.100.9", engine=engine)
    for number in range(password_reset.CLIENT_LIMIT.uses):
        password_reset.request_link(email=f"x{number}@example.org", client=CLIENT, engine=engine)
    with pytest.raises(ratelimits.RateLimited):
        password_reset.request_link(email="y@example.org", client=CLIENT, engine=engine)
