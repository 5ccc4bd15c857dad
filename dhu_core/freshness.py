"""Freshness: when a practice was last confirmed as current, reminders, archiving, restoring.

A listed practice is confirmed on publication, on every approved edit, and when a member of its
organisation or a coordinator confirms with one click that it is still current. Not confirmed
for `DHU_FRESHNESS_REMINDER_MONTHS` (12), it "may be outdated" and its organisation is
reminded; not confirmed for `DHU_FRESHNESS_ARCHIVE_MONTHS` (18), and reminded at least 30
days before, it is archived: no longer listed (see `models.LISTED_STATUS`), kept with its
history, still reachable by its address, and listed again by one confirmation.

The pass (`run_pass`, a job of `dhu run-jobs`) is one set-based UPDATE per step, whose WHERE
holds the whole condition: it costs what it changes, running it twice changes nothing more, and
two processes running it at once change each practice once (SQLite's write lock; on PostgreSQL
the second UPDATE re-checks the condition on each row the first one changed).
"""

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Engine, insert, select, update
from sqlmodel import Session

from dhu_core import accounts, audit, db, notifications
from dhu_core.accounts import PermissionDenied, require_role
from dhu_core.config import Settings, get_settings
from dhu_core.models import (
    LISTED,
    LISTED_STATUS,
    AuditEvent,
    Membership,
    Practice,
    StateConflict,
    User,
    utcnow,
)

#: Who the pass acts as in the audit trail.
JOB_NAME = "freshness"
COORDINATORS = ("coordinator", "admin")
#: The kind of e-mail that asks an organisation to confirm a practice.
REMINDER = "freshness-reminder"
#: Practices reminded per transaction of `run_pass`.
REMINDER_BATCH = 1000
#: The least time between a reminder and archiving: a practice found long outdated the first
#: time (after an import, or when the pass had not run) is not archived at its reminder.
NOTICE = timedelta(days=30)


@dataclass(frozen=True)
class Periods:
    """Months without confirmation until a reminder, and until archiving after one."""

    reminder_months: int
    archive_months: int

    @classmethod
    def configured(cls, settings: Settings | None = None) -> "Periods":
        """The periods of DHU_FRESHNESS_REMINDER_MONTHS and DHU_FRESHNESS_ARCHIVE_MONTHS."""
        settings = settings or get_settings()
        return cls(settings.dhu_freshness_reminder_months, settings.dhu_freshness_archive_months)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the 31st becomes a month's last
    day)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return moment.replace(year=year, month=month + 1, day=min(moment.day, last_day))


def _day_start(now: datetime) -> datetime:
    """Midnight UTC of `now`'s day: freshness changes once a day, so caches can keep it a day."""
    return datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)


def outdated_before(now: datetime | None = None, periods: Periods | None = None) -> datetime:
    """A practice last confirmed before this moment may be outdated (and is due a reminder)."""
    periods = periods or Periods.configured()
    return months_before(_day_start(now or utcnow()), periods.reminder_months)


def may_be_outdated(
    last_confirmed_at: datetime | None, now: datetime | None = None, periods: Periods | None = None
) -> bool:
    """True when a practice confirmed at `last_confirmed_at` is not known to be current."""
    if last_confirmed_at is None:
        return False
    return _aware(last_confirmed_at) < outdated_before(now, periods)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- confirming --------------------------------------------------------------------------


def can_confirm(session: Session, actor: User | None, organisation_id: int) -> bool:
    """True when `actor` may confirm the practices of `organisation_id`: an active member of
    it, a coordinator or an administrator."""
    if actor is None or actor.disabled or actor.id is None:
        return False
    if actor.role in COORDINATORS:
        return True
    if actor.role != "owner":
        return False
    membership = session.execute(
        select(Membership.id).where(
            Membership.account_id == actor.id,
            Membership.organisation_id == organisation_id,
            Membership.status == "active",
        )
    ).first()
    return membership is not None


def confirm(
    *, session: Session, practice_id: int, actor: User, now: datetime | None = None
) -> Practice:
    """Confirm that a practice is still current; an archived one is listed again.

    For members of its organisation, coordinators and administrators. Two confirmations at once
    both hold (the later one confirms again); only one of them restores an archived practice.
    """
    require_role(actor, "owner", *COORDINATORS)
    now = now or utcnow()
    practice = db.get_for_update(session, Practice, practice_id)
    if practice is None:
        raise LookupError(f"no practice with id {practice_id}")
    if not can_confirm(session, actor, practice.owner_organisation_id):
        raise PermissionDenied(
            "Only members of the practice's own organisation and coordinators can confirm it."
        )
    if practice.status == "archived":
        practice.status = LISTED_STATUS
        practice.archived_at = None
        action = "practice.restored"
    elif practice.status == LISTED_STATUS:
        action = "practice.confirmed"
    else:
        raise StateConflict(
            "Only a published or archived practice can be confirmed as current; this one is "
            f"{practice.status}."
        )
    practice.last_confirmed_at = now
    session.add(practice)
    audit.record(session, actor, action, "practice", practice.id)
    return practice


# --- the pass: reminders and archiving ---------------------------------------------------


@dataclass(frozen=True)
class PassResult:
    """The practices one pass reminded and archived."""

    reminded: list[int]
    archived: list[int]


def remind_due(
    session: Session,
    now: datetime | None = None,
    periods: Periods | None = None,
    *,
    limit: int | None = None,
) -> list[int]:
    """Remind the organisation of every listed practice (at most `limit`, lowest ids first) not
    confirmed for the reminder period, and not reminded since its last confirmation; their ids.

    The practices are marked as reminded now, and a `freshness-reminder` e-mail to each active
    member of their organisation goes into the outbox, in the same transaction: a reminder is
    written exactly once, however often and in how many processes the pass runs.
    """
    now = now or utcnow()
    periods = periods or Periods.configured()
    conditions = (
        LISTED,
        Practice.last_confirmed_at < outdated_before(now, periods),
        (Practice.freshness_reminded_at.is_(None))
        | (Practice.freshness_reminded_at < Practice.last_confirmed_at),
    )
    due = update(Practice).where(*conditions)
    if limit is not None:
        # The conditions again on the outer UPDATE: PostgreSQL re-checks them on each row once
        # it has locked it, so a row another pass reminded meanwhile is left alone.
        batch = select(Practice.id).where(*conditions).order_by(Practice.id).limit(limit)
        due = due.where(Practice.id.in_(batch))
    due = (
        due.values(freshness_reminded_at=now)
        .returning(Practice.id)
        .execution_options(synchronize_session=False)
    )
    reminded = sorted(session.execute(due).scalars())
    _audit_all(session, reminded, "practice.freshness_reminded", now)
    if reminded:
        _write_reminders(session, reminded, periods, now)
    return reminded


def _write_reminders(
    session: Session, reminded: list[int], periods: Periods, now: datetime
) -> None:
    """Write the reminders of the practices just `reminded` to their organisations' members
    (one query per `REMINDER_BATCH` practices finds them; practices of organisations without
    members get none)."""
    rows = [
        row
        for start in range(0, len(reminded), REMINDER_BATCH)
        for row in session.execute(
            select(Practice.id, Practice.title, Practice.last_confirmed_at, User)
            .join(Membership, Membership.organisation_id == Practice.owner_organisation_id)
            .join(User, User.id == Membership.account_id)
            .where(
                Practice.id.in_(reminded[start : start + REMINDER_BATCH]),
                Membership.status == "active",
                User.disabled.is_(False),
            )
            .order_by(Practice.id, User.id)
        ).all()
    ]
    members: dict[int, list[User]] = {}
    about: dict[int, tuple[str, datetime]] = {}
    for practice_id, title, confirmed, user in rows:
        members.setdefault(practice_id, []).append(user)
        about[practice_id] = (title, _aware(confirmed))
    for practice_id, (title, confirmed) in about.items():
        archive_on = max(months_before(confirmed, -periods.archive_months), now + NOTICE)
        notifications.enqueue(
            session,
            kind=REMINDER,
            to=members[practice_id],
            context={
                "practice_id": practice_id,
                "practice_title": title,
                "last_confirmed": _day(confirmed),
                "archive_on": _day(archive_on),
                "last_confirmed_on": confirmed.date().isoformat(),
                "archived_on": archive_on.date().isoformat(),
            },
            now=now,
        )


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def archive_due(
    session: Session, now: datetime | None = None, periods: Periods | None = None
) -> list[int]:
    """Archive every listed practice not confirmed for the archive period whose organisation
    was reminded since its last confirmation, at least `NOTICE` ago (so that it had time to
    answer); their ids."""
    now = now or utcnow()
    periods = periods or Periods.configured()
    notice = now - NOTICE
    due = (
        update(Practice)
        .where(
            LISTED,
            Practice.last_confirmed_at < months_before(_day_start(now), periods.archive_months),
            Practice.freshness_reminded_at >= Practice.last_confirmed_at,
            Practice.freshness_reminded_at <= notice,
        )
        .values(status="archived", archived_at=now)
        .returning(Practice.id)
        .execution_options(synchronize_session=False)
    )
    archived = sorted(session.execute(due).scalars())
    _audit_all(session, archived, "practice.archived", now, reason="not confirmed as current")
    return archived


def _audit_all(session: Session, ids: list[int], action: str, now: datetime, **detail) -> None:
    """One audit event per practice changed by the pass, in one statement."""
    if not ids:
        return
    actor = accounts.system_actor(JOB_NAME)
    session.execute(
        insert(AuditEvent),
        [
            {
                "at": now,
                "actor_id": None,
                "actor_name": actor.username,
                "action": action,
                "entity": "practice",
                "entity_id": practice_id,
                "detail": detail,
            }
            for practice_id in ids
        ],
    )


def run_pass(*, engine: Engine | None = None, now: datetime | None = None) -> PassResult:
    """Remind and archive what is due: reminders in transactions of `REMINDER_BATCH` practices
    (writing their e-mails holds the write lock, which other writers wait for), archiving in
    one."""
    now = now or utcnow()
    periods = Periods.configured()
    reminded: list[int] = []
    while True:
        with db.session_scope(engine) as session:
            batch = remind_due(session, now, periods, limit=REMINDER_BATCH)
        reminded += batch
        if len(batch) < REMINDER_BATCH:
            break
    with db.session_scope(engine) as session:
        archived = archive_due(session, now, periods)
    return PassResult(reminded=reminded, archived=archived)


def job(engine: Engine, now: datetime) -> str:
    """The pass as a job of `dhu run-jobs` (see `dhu_core.jobs`): what it did, in a line."""
    result = run_pass(engine=engine, now=now)
    return f"reminded {_practices(result.reminded)}, archived {_practices(result.archived)}"


def _practices(ids: list[int]) -> str:
    return f"{len(ids):,} practice" + ("" if len(ids) == 1 else "s")
