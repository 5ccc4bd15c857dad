"""The delivery step: send the due messages of the outbox over SMTP, once each.

A step claims a batch of due messages in a short write transaction (`SELECT … FOR UPDATE SKIP
LOCKED` on PostgreSQL; the write lock of BEGIN IMMEDIATE on SQLite), so two steps running at
once never claim the same message. It then sends them one after the other over one SMTP
connection and records each outcome in a transaction of its own *before* sending the next.

Delivery is at most once. A message accepted by the server is recorded as sent at once; if the
step dies between the server's acceptance and that record, the message stays claimed. Because
a step sends its batch in order and records each outcome before the next, only the first
message still claimed by a dead step can have been sent: `recover` marks it `unknown` (listed
for administrators, who may send it again by hand) and returns the rest of the batch to the
queue. So a crash costs at most one message per step an administrator looks at, never a
repeated send, and never a storm of them. Every message also has a stable Message-ID, so a
mail client would fold a copy sent again by hand into the first.

A refused or broken send is retried with exponential back-off (1, 2, 4 … minutes, at most 6
hours apart) until `DHU_MAIL_MAX_ATTEMPTS`, then marked `failed` with its last error.
"""

import logging
import smtplib
import ssl
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import unquote, urlsplit

import jinja2
from sqlalchemy import Engine
from sqlmodel import Session, col, delete, func, select, update

from dhu_core import audit, db, notifications
from dhu_core.accounts import require_role
from dhu_core.config import Settings, get_settings, mail_url
from dhu_core.models import OutboxMessage, User, utcnow
from dhu_core.notifications import render

log = logging.getLogger(__name__)

#: Messages claimed at once; with TIMEOUT, a batch ends well within CLAIM_TIMEOUT.
BATCH = 50
#: Seconds to wait for the mail server at each step of the conversation.
TIMEOUT = 20
#: A claim older than this belongs to a step that died (see `recover`).
CLAIM_TIMEOUT = timedelta(minutes=30)
FIRST_RETRY = timedelta(minutes=1)
LAST_RETRY = timedelta(hours=6)
#: Statuses of messages that will still go out, and of those needing an administrator.
WAITING = ("pending", notifications.WEEKLY, "sending")
NEEDS_A_LOOK = ("failed", "unknown")


# --- the mail server ---------------------------------------------------------------------


class SmtpUrlError(ValueError):
    """DHU_SMTP_URL cannot be used; the message says how to write it."""


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to hand messages over: `security` is starttls, tls or none."""

    host: str
    port: int
    security: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def parse_smtp_url(url: str) -> SmtpServer:
    """The server of DHU_SMTP_URL.

    `smtps://user:pass@host[:465]` speaks TLS from the start; `smtp://user:pass@host[:587]`
    must switch to TLS with STARTTLS before it signs in (a password never goes out in clear);
    `smtp://host[:25]` without a user uses STARTTLS when the server offers it, else plain text
    (a relay on this machine). User and password may be percent-encoded.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise SmtpUrlError(
            "DHU_SMTP_URL must look like smtp://user:password@host:587 (STARTTLS), "
            "smtps://user:password@host:465 (TLS) or smtp://localhost:25"
        )
    try:
        port = parts.port
    except ValueError:
        raise SmtpUrlError("DHU_SMTP_URL: the port must be a number from 1 to 65535") from None
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if parts.scheme == "smtps":
        return SmtpServer(parts.hostname, port or 465, "tls", username, password)
    security = "starttls" if username else "none"
    port = port or (587 if username else 25)
    return SmtpServer(parts.hostname, port, security, username, password)


def connect(server: SmtpServer) -> smtplib.SMTP:
    """An open, signed-in SMTP connection to `server`."""
    if server.security == "tls":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            server.host, server.port, timeout=TIMEOUT, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT)
        smtp.ehlo()
        if server.security == "starttls" or smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
    if server.username:
        smtp.login(server.username, server.password or "")
    return smtp


def sender(settings: Settings) -> str:
    """The From of every message: DHU_MAIL_FROM, else noreply at the public address's host."""
    host = urlsplit(mail_url(settings)).hostname or "localhost"
    return settings.dhu_mail_from or f"DHU Platform <noreply@{host}>"


# --- one step ----------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    """What one delivery step did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    digests: int = 0
    recovered: int = 0
    #: Why nothing was sent (no DHU_SMTP_URL, a server that cannot be reached), if so.
    problem: str | None = None

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed

    def summary(self) -> str:
        text = (
            f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed, "
            f"{self.digests} weekly digests gathered"
        )
        return f"{text}; {self.problem}" if self.problem else text


def deliver_due(
    engine: Engine | None = None, *, now: datetime | None = None, settings: Settings | None = None
) -> DeliveryReport:
    """Settle the claims of dead steps, gather the weekly digests that are due, then send
    every due message.

    Without DHU_SMTP_URL nothing is sent: the messages wait in the outbox.
    """
    engine = engine or db.get_engine()
    settings = settings or get_settings()
    moment = now or utcnow()
    report = DeliveryReport()
    with db.session_scope(engine) as session:
        report.recovered = recover(session, now=moment)
        report.digests = gather_digests(session, now=moment)
    if not settings.dhu_smtp_url:
        report.problem = "DHU_SMTP_URL is not set: the messages wait in the outbox"
        return report
    server = parse_smtp_url(settings.dhu_smtp_url)
    while batch := _claim(engine, moment):
        if not _send_batch(engine, server, settings, batch, moment, report):
            break
    return report


@dataclass(frozen=True)
class Batch:
    """Messages claimed together (`claim`), and the messages each weekly digest gathers."""

    claim: str
    messages: list[OutboxMessage]
    items: dict[int, list[OutboxMessage]]


def job(engine: Engine, now: datetime) -> str:
    """The delivery step as a job of `dhu run-jobs` (see dhu_core.jobs)."""
    # The jobs before it wrote their messages after the pass began: they are due by now.
    return deliver_due(engine, now=max(now, utcnow())).summary()


def _claim(engine: Engine, now: datetime) -> Batch | None:
    """Claim up to BATCH due messages for this step, which alone sends them now."""
    claim = uuid.uuid4().hex
    with db.session_scope(engine, bookkeeping=True) as session:
        messages = list(
            session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.status == "pending", col(OutboxMessage.due_at) <= now)
                .order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
        )
        if messages:
            session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_([m.id for m in messages]))
                .values(status="sending", claim=claim, claimed_at=now),
            )
        digests = [m.id for m in messages if m.kind == "digest"]
        items: dict[int, list[OutboxMessage]] = defaultdict(list)
        if digests:
            for item in session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.digest_id).in_(digests))
                .order_by(col(OutboxMessage.id))
            ).all():
                items[item.digest_id].append(item)
    return Batch(claim, messages, items) if messages else None


def _send_batch(
    engine: Engine,
    server: SmtpServer,
    settings: Settings,
    batch: Batch,
    now: datetime,
    report: DeliveryReport,
) -> bool:
    """Send a claimed batch in order; False when the server cannot be reached (stop for now)."""
    try:
        smtp = connect(server)
    except (OSError, smtplib.SMTPException) as error:
        problem = f"the mail server {server.host}:{server.port} cannot be reached: {error}"
        report.problem = problem
        _release(engine, batch.claim)
        log.warning("e-mail delivery: %s", problem)
        return False
    try:
        for position, message in enumerate(batch.messages):
            try:
                email = compose(message, settings, now=now, items=batch.items.get(message.id, []))
                smtp.send_message(email)
            except smtplib.SMTPServerDisconnected as error:
                # Closed mid-conversation: the message was not accepted; the next claim opens
                # a new connection if this one got at least one message through.
                _record_failure(engine, message, error, now, report, settings)
                _release(engine, batch.claim)
                report.problem = f"the mail server closed the connection: {error}"
                return position > 0
            except OSError as error:
                _record_failure(engine, message, error, now, report, settings)
                _release(engine, batch.claim)
                report.problem = f"the connection to the mail server failed: {error}"
                return False
            except (smtplib.SMTPException, ValueError, jinja2.TemplateError) as error:
                _record_failure(engine, message, error, now, report, settings)
            else:
                _record_sent(engine, message, now)
                report.sent += 1
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    return True


def compose(
    message: OutboxMessage,
    settings: Settings,
    *,
    now: datetime,
    items: list[OutboxMessage] | None = None,
) -> EmailMessage:
    """The e-mail of an outbox row: plain text and HTML, a stable Message-ID, and (for kinds
    one may turn off) a signed unsubscribe link in the text and in List-Unsubscribe."""
    url = mail_url(settings)
    token = notifications.unsubscribe_token(message, now=now)
    unsubscribe_url = f"{url}/unsubscribe?token={token}" if token else None
    # In the recipient's language, whichever language this thread (a delivery step in the
    # background, `dhu run-jobs`) draws in.
    language = message.language
    items = [
        render.render(item.kind, item.context, url=url, unsubscribe_url=None, language=language)
        for item in items or []
    ]
    content = render.render(
        message.kind, message.context, url=url, unsubscribe_url=unsubscribe_url, items=items,
        language=language,
    )  # fmt: skip
    from_ = sender(settings)
    domain = parseaddr(from_)[1].rpartition("@")[2] or "localhost"
    email = EmailMessage()
    email["Subject"] = content.subject
    email["From"] = from_
    email["To"] = message.recipient
    email["Date"] = format_datetime(now)
    email["Message-ID"] = f"<outbox-{message.id}.{int(message.created_at.timestamp())}@{domain}>"
    email["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        email["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    email.set_content(content.text)
    email.add_alternative(content.html, subtype="html")
    return email


def _record_sent(engine: Engine, message: OutboxMessage, now: datetime) -> None:
    with db.session_scope(engine, bookkeeping=True) as session:
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message.id)
            .values(status="sent", sent_at=now, attempts=OutboxMessage.attempts + 1, claim=None),
        )


def _record_failure(
    engine: Engine,
    message: OutboxMessage,
    error: Exception,
    now: datetime,
    report: DeliveryReport,
    settings: Settings,
) -> None:
    attempts = message.attempts + 1
    gives_up = attempts >= settings.dhu_mail_max_attempts
    if gives_up:
        report.failed += 1
    else:
        report.retrying += 1
    with db.session_scope(engine, bookkeeping=True) as session:
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message.id)
            .values(
                status="failed" if gives_up else "pending",
                attempts=attempts,
                due_at=now + retry_delay(attempts),
                last_error=f"{type(error).__name__}: {error}"[:2000],
                claim=None,
            ),
        )
    log.warning("e-mail %s to %s not sent (attempt %d): %s", message.id, message.recipient,
                attempts, error)  # fmt: skip


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: 1, 2, 4 … minutes, at most 6 h."""
    return min(FIRST_RETRY * 2 ** max(0, attempts - 1), LAST_RETRY)


def _release(engine: Engine, claim: str) -> None:
    """Return the not-yet-attempted messages of a claim to the queue."""
    with db.session_scope(engine, bookkeeping=True) as session:
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.claim) == claim, OutboxMessage.status == "sending")
            .values(status="pending", claim=None, claimed_at=None),
        )


def recover(session: Session, *, now: datetime) -> int:
    """Settle the claims of steps that died: the first message still claimed may have been
    sent (`unknown`, for an administrator), the others were not tried and wait again."""
    stale = session.exec(
        select(OutboxMessage)
        .where(
            OutboxMessage.status == "sending",
            col(OutboxMessage.claimed_at) < now - CLAIM_TIMEOUT,
        )
        .order_by(col(OutboxMessage.claim), col(OutboxMessage.due_at), col(OutboxMessage.id))
        .with_for_update(skip_locked=True)
    ).all()
    seen: set[str | None] = set()
    for message in stale:
        first = message.claim not in seen
        seen.add(message.claim)
        if first:
            message.status = "unknown"
            message.last_error = "the delivery step stopped while sending it; it may have arrived"
        else:
            message.status = "pending"
        message.claim, message.claimed_at = None, None
        session.add(message)
    return len(stale)


def gather_digests(session: Session, *, now: datetime) -> int:
    """Make one digest message per recipient of the weekly messages that are due."""
    held = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.status == notifications.WEEKLY, col(OutboxMessage.due_at) <= now)
        .order_by(col(OutboxMessage.recipient), col(OutboxMessage.id))
        .with_for_update(skip_locked=True)
    ).all()
    by_recipient: dict[str, list[OutboxMessage]] = defaultdict(list)
    for message in held:
        by_recipient[message.recipient].append(message)
    for recipient, items in by_recipient.items():
        (digest,) = notifications.enqueue(
            session,
            kind="digest",
            to=[recipient],
            context={"count": len(items)},
            now=now,
            language=items[-1].language,
        )
        digest.account_id = items[-1].account_id
        for item in items:
            item.status, item.digest_id = "digested", digest.id
        session.add_all([digest, *items])
    return len(by_recipient)


#: Sent messages are kept this long (for administrators, and their unsubscribe links), then
#: forgotten: they hold e-mail addresses and names.
KEEP_SENT = timedelta(days=180)


def forget_sent(engine: Engine, now: datetime) -> str:
    """Delete the messages sent more than KEEP_SENT ago (a job of `dhu run-jobs`)."""
    cutoff = now - KEEP_SENT
    with db.session_scope(engine) as session:
        old = select(OutboxMessage.id).where(
            OutboxMessage.status == "sent", col(OutboxMessage.sent_at) < cutoff
        )
        connection = session.connection()
        # The messages a sent digest gathered first: they point at it.
        gathered = connection.execute(
            delete(OutboxMessage).where(col(OutboxMessage.digest_id).in_(old.scalar_subquery()))
        ).rowcount
        sent = connection.execute(
            delete(OutboxMessage).where(col(OutboxMessage.id).in_(old.scalar_subquery()))
        ).rowcount
        deleted = gathered + sent
    return f"{deleted} sent e-mails older than {KEEP_SENT.days} days forgotten"


# --- what administrators see --------------------------------------------------------------


@dataclass(frozen=True)
class OutboxView:
    """The outbox as administrators see it: counts by status and the messages to look at."""

    counts: dict[str, int]
    waiting: list[OutboxMessage]
    needs_a_look: list[OutboxMessage]


def outbox(session: Session, *, actor: User, limit: int = 50) -> OutboxView:
    """Counts by status, the oldest waiting messages and the failed or unknown ones."""
    require_role(actor, "admin")
    counts = dict(
        session.exec(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )

    def listed(statuses: tuple[str, ...]) -> list[OutboxMessage]:
        return list(
            session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.status).in_(statuses))
                .order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))
                .limit(limit)
            ).all()
        )

    return OutboxView(counts, listed(WAITING), listed(NEEDS_A_LOOK))


def send_again(
    session: Session, *, actor: User, message_id: int, now: datetime | None = None
) -> None:
    """Queue a failed or unknown message once more (an administrator's decision)."""
    require_role(actor, "admin")
    message = db.get_for_update(session, OutboxMessage, message_id)
    if message is None or message.status not in NEEDS_A_LOOK:
        raise LookupError("This message is not failed or unknown any more; reload the page.")
    message.status, message.due_at, message.attempts = "pending", now or utcnow(), 0
    session.add(message)
    audit.record(session, actor, "outbox.sent_again", "outbox_message", message.id)
