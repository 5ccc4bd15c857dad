"""The outbox: messages written with the change, as each recipient chose (both databases)."""

from datetime import UTC, datetime, timedelta

import jinja2
import pytest
from sqlmodel import select

from dhu_core import db, notifications, tokens
from dhu_core.models import Organisation, OutboxMessage, utcnow
from tests.people import account

APPROVED = {"practice_id": 7, "practice_title": "Heart failure telemonitoring"}


@pytest.fixture
def people(engine):
    with db.session_scope(engine) as session:
        clinic = Organisation(name="Tartu Clinic", country="EE")
        session.add(clinic)
        session.flush()
        members = [account(session, name, "owner", clinic.id) for name in ("ann", "bob")]
        coordinator = account(session, "cora", "coordinator")
        admin = account(session, "adam", "admin")
    return clinic, members, coordinator, admin


def _messages(engine) -> list[OutboxMessage]:
    with db.read_scope(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def test_a_message_is_written_per_member_in_the_callers_transaction(engine, people):
    clinic, members, _, _ = people
    with db.session_scope(engine) as session:
        to = notifications.organisation_members(session, clinic.id)
        notifications.enqueue(session, kind="practice-approved", to=to, context=APPROVED)
    messages = _messages(engine)
    assert [m.recipient for m in messages] == ["ann@example.org", "bob@example.org"]
    assert {m.status for m in messages} == {"pending"}
    assert messages[0].subject == "Published: Heart failure telemonitoring"


def test_a_change_rolled_back_leaves_no_message(engine, people):
    with pytest.raises(RuntimeError), db.session_scope(engine) as session:
        notifications.enqueue(
            session, kind="practice-approved", to=["someone@example.org"], context=APPROVED
        )
        raise RuntimeError("the change fails after the message was written")
    assert _messages(engine) == []


def test_coordinators_are_the_coordinators_else_the_administrators(engine, people):
    _, _, coordinator, admin = people
    with db.session_scope(engine) as session:
        assert [u.username for u in notifications.coordinators(session)] == ["cora"]
        session.get(type(coordinator), coordinator.id).disabled = True
        session.flush()
        assert [u.username for u in notifications.coordinators(session)] == ["adam"]


def test_each_recipient_gets_the_kind_as_they_chose(engine, people):
    _, (ann, bob), _, _ = people
    with db.session_scope(engine) as session:
        notifications.set_preferences(session, actor=ann, choices={"practice-approved": "never"})
        notifications.set_preferences(session, actor=bob, choices={"practice-approved": "weekly"})
    monday_noon = datetime(2026, 11, 30, 12, tzinfo=UTC)
    with db.session_scope(engine) as session:
        notifications.enqueue(
            session, kind="practice-approved", to=[ann, bob], context=APPROVED, now=monday_noon
        )
        assert notifications.preferences(session, actor=ann)["practice-approved"] == "never"
    (held,) = _messages(engine)
    assert (held.recipient, held.status) == ("bob@example.org", "weekly")
    assert held.due_at == datetime(2026, 12, 7, 7, tzinfo=UTC)


def test_a_dedupe_key_makes_one_message_per_recipient(engine, people):
    _, (ann, bob), _, _ = people
    for recipients in ([ann], [ann, bob]):
        with db.session_scope(engine) as session:
            notifications.enqueue(
                session,
                kind="practice-approved",
                to=recipients,
                context=APPROVED,
                dedupe_key="approved:7",
            )
    assert [m.recipient for m in _messages(engine)] == ["ann@example.org", "bob@example.org"]


def test_a_context_the_templates_cannot_fill_fails_in_the_callers_transaction(engine, people):
    with pytest.raises(jinja2.UndefinedError), db.session_scope(engine) as session:
        notifications.enqueue(
            session, kind="practice-approved", to=["x@example.org"], context={"practice_id": 1}
        )
    with pytest.raises(ValueError, match="unknown kind"), db.session_scope(engine) as session:
        notifications.enqueue(session, kind="approved", to=["x@example.org"], context={})


def _one_message(engine, recipient) -> OutboxMessage:
    with db.session_scope(engine) as session:
        (message,) = notifications.enqueue(
            session, kind="practice-approved", to=[recipient], context=APPROVED
        )
    return message


def test_an_unsubscribe_link_turns_its_kind_off_once(engine, people):
    _, (ann, _), _, _ = people
    token = notifications.unsubscribe_token(_one_message(engine, ann))
    with db.session_scope(engine) as session:
        done = notifications.unsubscribe(session, token=token)
    assert done.address == "ann@example.org"
    with db.read_scope(engine) as session:
        assert notifications.preferences(session, actor=ann)["practice-approved"] == "never"
    with pytest.raises(tokens.InvalidToken, match="used already"), db.session_scope(engine) as s:
        notifications.unsubscribe(s, token=token)


def test_a_forged_or_expired_unsubscribe_link_is_refused(engine, people):
    _, (ann, _), _, _ = people
    message = _one_message(engine, ann)
    token = notifications.unsubscribe_token(message)
    subject, expires, signature = token.split(".")
    other = f"{message.id + 1}.{expires}.{signature}"
    later = utcnow() + timedelta(days=notifications.UNSUBSCRIBE_DAYS + 1)
    for forged, now, problem in (
        (other, None, "not valid"),
        (token[:-2] + "xx", None, "not valid"),
        (token, later, "expired"),
    ):
        with pytest.raises(tokens.InvalidToken, match=problem), db.session_scope(engine) as s:
            notifications.unsubscribe(s, token=forged, now=now)
    with db.read_scope(engine) as session:
        assert notifications.preferences(session, actor=ann)["practice-approved"] == "immediately"
