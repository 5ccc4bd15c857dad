"""The delivery step against a real SMTP server on localhost: once each, whatever happens."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from dhu_core import db, notifications
from dhu_core.accounts import PermissionDenied
from dhu_core.config import Settings
from dhu_core.models import OutboxMessage, utcnow
from dhu_core.notifications import delivery
from dhu_core.notifications.delivery import SmtpServer, SmtpUrlError, parse_smtp_url
from tests.mailserver import free_port, mail_server
from tests.people import account
from tests.race import racers

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # a Tuesday
PUBLIC = "https://dhu.example.org"


def _settings(url: str | None, **more) -> Settings:
    return Settings(dhu_smtp_url=url, dhu_public_url=PUBLIC, **more)


def _enqueue(engine, count: int, kind: str = "practice-approved", to=None, now=NOW) -> None:
    with db.session_scope(engine) as session:
        for number in range(count):
            notifications.enqueue(
                session,
                kind=kind,
                to=to or [f"owner{number}@example.org"],
                context={"practice_id": number, "practice_title": f"Practice {number}"},
                now=now,
            )


def _statuses(engine) -> Counter:
    with db.read_scope(engine) as session:
        return Counter(session.exec(select(OutboxMessage.status)).all())


def _rows(engine) -> list[OutboxMessage]:
    with db.read_scope(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())


def _once_each(handler, count: int) -> None:
    ids = handler.message_ids()
    assert len(ids) == count
    assert len(set(ids)) == count, "a message arrived twice"


def test_each_message_is_delivered_once_in_text_and_html(engine):
    _enqueue(engine, 3)
    version = db.data_version(engine)
    with mail_server() as (url, handler):
        report = delivery.deliver_due(engine, now=NOW, settings=_settings(url))
        again = delivery.deliver_due(engine, now=NOW + timedelta(hours=1), settings=_settings(url))
    assert (report.sent, again.sent) == (3, 0)
    _once_each(handler, 3)
    message = handler.received[0]
    assert message["To"] == "owner0@example.org"
    assert message["Subject"] == "Published: Practice 0"
    assert message["From"] == "DHU Platform <noreply@dhu.example.org>"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"{PUBLIC}/radar?practice=0" in text and f"{PUBLIC}/radar?practice=0" in html
    assert f"{PUBLIC}/unsubscribe?token=" in text
    assert message["List-Unsubscribe"].startswith(f"<{PUBLIC}/unsubscribe?token=")
    assert _statuses(engine) == {"sent": 3}
    assert db.data_version(engine) == version, "sending e-mail emptied every page cache"


def test_without_a_mail_server_messages_wait_where_administrators_see_them(engine):
    _enqueue(engine, 2)
    report = delivery.deliver_due(engine, now=NOW, settings=_settings(None))
    assert report.sent == 0 and "DHU_SMTP_URL is not set" in report.problem
    with db.session_scope(engine) as session:
        admin = account(session, "adam", "admin")
        view = delivery.outbox(session, actor=admin)
        owner = account(session, "olga", "owner")
        with pytest.raises(PermissionDenied):
            delivery.outbox(session, actor=owner)
    assert view.counts == {"pending": 2}
    assert [m.recipient for m in view.waiting] == ["owner0@example.org", "owner1@example.org"]


def test_a_server_down_then_up_gets_every_message_once(engine):
    _enqueue(engine, 5)
    port = free_port()
    url = f"smtp://127.0.0.1:{port}"
    down = delivery.deliver_due(engine, now=NOW, settings=_settings(url))
    assert down.sent == 0 and "cannot be reached" in down.problem
    assert _statuses(engine) == {"pending": 5}
    with mail_server(port) as (_, handler):
        up = delivery.deliver_due(engine, now=NOW + timedelta(minutes=1), settings=_settings(url))
        delivery.deliver_due(engine, now=NOW + timedelta(minutes=2), settings=_settings(url))
    assert up.sent == 5
    _once_each(handler, 5)


def test_a_refusing_server_is_retried_later_with_back_off_then_given_up(engine):
    _enqueue(engine, 1)
    with mail_server(refuse=True) as (url, _):
        first = delivery.deliver_due(engine, now=NOW, settings=_settings(url))
        soon = NOW + timedelta(seconds=30)
        early = delivery.deliver_due(engine, now=soon, settings=_settings(url))
        (row,) = _rows(engine)
        assert (first.retrying, early.attempted) == (1, 0)
        assert (row.status, row.attempts, row.due_at) == ("pending", 1, NOW + timedelta(minutes=1))
        assert "554" in row.last_error
        later = NOW + timedelta(minutes=1)
        gave_up = delivery.deliver_due(
            engine, now=later, settings=_settings(url, dhu_mail_max_attempts=2)
        )
    (row,) = _rows(engine)
    assert gave_up.failed == 1 and (row.status, row.attempts) == ("failed", 2)
    with db.session_scope(engine) as session:
        admin = account(session, "adam", "admin")
        assert [m.id for m in delivery.outbox(session, actor=admin).needs_a_look] == [row.id]
        delivery.send_again(session, actor=admin, message_id=row.id, now=later)
    with mail_server() as (url, handler):
        delivery.deliver_due(engine, now=later, settings=_settings(url))
    _once_each(handler, 1)


def test_a_server_hanging_up_mid_message_is_recorded_and_retried(engine):
    _enqueue(engine, 3)
    with mail_server(disconnect=True) as (url, _):
        report = delivery.deliver_due(engine, now=NOW, settings=_settings(url))
    assert report.sent == 0 and report.retrying == 1 and "closed" in report.problem
    first, *others = _rows(engine)
    assert (first.status, first.attempts) == ("pending", 1)
    assert "SMTPServerDisconnected" in first.last_error
    assert [(m.status, m.attempts) for m in others] == [("pending", 0)] * 2
    with mail_server() as (url, handler):
        delivery.deliver_due(engine, now=NOW, settings=_settings(url))
        delivery.deliver_due(engine, now=NOW + timedelta(minutes=2), settings=_settings(url))
    _once_each(handler, 3)


def test_a_step_dying_after_the_server_accepted_never_sends_twice(engine, monkeypatch):
    _enqueue(engine, 3)

    def crash(*args, **kwargs):
        raise SystemExit("the process is killed after the server accepted the first message")

    with mail_server() as (url, handler):
        with monkeypatch.context() as patched:
            patched.setattr(delivery, "_record_sent", crash)
            with pytest.raises(SystemExit):
                delivery.deliver_due(engine, now=NOW, settings=_settings(url))
        assert _statuses(engine) == {"sending": 3}
        soon = delivery.deliver_due(engine, now=NOW + timedelta(minutes=5), settings=_settings(url))
        assert soon.attempted == 0  # the claim may still be alive
        later = NOW + delivery.CLAIM_TIMEOUT + timedelta(minutes=1)
        report = delivery.deliver_due(engine, now=later, settings=_settings(url))
    assert report.recovered == 3 and report.sent == 2
    _once_each(handler, 3)
    first = _rows(engine)[0]
    assert first.status == "unknown" and "may have arrived" in first.last_error


def test_weekly_messages_go_out_together_on_monday_morning(engine):
    with db.session_scope(engine) as session:
        owner = account(session, "olga", "owner")
        notifications.set_preferences(session, actor=owner, choices={"practice-approved": "weekly"})
    _enqueue(engine, 2, to=[owner])
    monday = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    with mail_server() as (url, handler):
        assert delivery.deliver_due(engine, now=NOW, settings=_settings(url)).sent == 0
        report = delivery.deliver_due(engine, now=monday, settings=_settings(url))
    assert (report.digests, report.sent) == (1, 1)
    (digest,) = handler.received
    assert digest["Subject"] == "Your weekly DHU Platform digest: 2 messages"
    text = digest.get_body(("plain",)).get_content()
    assert "Published: Practice 0" in text and "Published: Practice 1" in text
    assert "/unsubscribe?token=" in text
    assert _statuses(engine) == {"digested": 2, "sent": 1}


RACED = 200


def test_two_delivery_steps_at_once_send_each_message_once(engine):
    _enqueue(engine, RACED, now=utcnow())
    database = engine.url.render_as_string(hide_password=False)
    with mail_server() as (url, handler), racers(database) as pair:
        task = ("deliver_outbox", {"smtp_url": url, "public_url": PUBLIC})
        first, second = pair.race(task, task)
    assert first.applied and second.applied, (first, second)
    _once_each(handler, RACED)
    assert _statuses(engine) == {"sent": RACED}


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("smtp://mailer:s%40cret@mail.example.org:587",
         SmtpServer("mail.example.org", 587, "starttls", "mailer", "s@cret")),
        ("smtp://mailer:pw@mail.example.org",
         SmtpServer("mail.example.org", 587, "starttls", "mailer", "pw")),
        ("smtps://mailer:pw@mail.example.org",
         SmtpServer("mail.example.org", 465, "tls", "mailer", "pw")),
        ("smtps://mail.example.org:2465", SmtpServer("mail.example.org", 2465, "tls")),
        ("smtp://localhost:1025", SmtpServer("localhost", 1025, "none")),
        ("smtp://127.0.0.1", SmtpServer("127.0.0.1", 25, "none")),
    ],
)  # fmt: skip
def test_the_smtp_url_names_the_server_and_its_security(url, server):
    assert parse_smtp_url(url) == server


@pytest.mark.parametrize("url", ["mail.example.org", "http://x.org", "smtp://", "smtp://h:99999"])
def test_an_unusable_smtp_url_is_refused_with_how_to_write_it(url):
    with pytest.raises(SmtpUrlError, match="DHU_SMTP_URL"):
        parse_smtp_url(url)


def test_the_password_of_an_smtp_url_is_never_shown():
    assert "s3cret" not in repr(parse_smtp_url("smtp://u:s3cret@h:587"))


def test_the_delivery_of_one_message_retries_at_1_2_4_minutes_up_to_6_hours():
    delays = [delivery.retry_delay(n) for n in (1, 2, 3, 12)]
    assert delays == [timedelta(minutes=m) for m in (1, 2, 4, 360)]
