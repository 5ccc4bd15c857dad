"""The call itself: a coordinator drafts it, edits it while a draft, and publishes it; then
everyone sees it, open, upcoming or past by the server's clock."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from dhu_core import audit, db, i18n
from dhu_core.accounts import require_role
from dhu_core.i18n import _, ngettext
from dhu_core.models import (
    Call,
    CallCreate,
    CallCriterion,
    CallPublic,
    StateConflict,
    User,
    in_utc,
    utcnow,
)

COORDINATORS = ("coordinator", "admin")
#: A call's phase for its readers, by the clock: before it opens, while open, after it closes.
UPCOMING, OPEN, CLOSED = "upcoming", "open", "closed"


def is_coordinator(actor: User | None) -> bool:
    """Whether the actor sees and changes draft calls."""
    return actor is not None and not actor.disabled and actor.role in COORDINATORS


def create_call(*, session: Session, actor: User, data: CallCreate) -> Call:
    """Draft a new call (coordinators and administrators)."""
    require_role(actor, *COORDINATORS)
    call = Call.model_validate(
        data.model_dump(mode="json", exclude={"opens_at", "closes_at"}),
        update={"opens_at": data.opens_at, "closes_at": data.closes_at, "created_by_id": actor.id},
    )
    session.add(call)
    session.flush()
    audit.record(session, actor, "call.created", "call", call.id, title=call.title)
    return call


def latest_criteria(session: Session) -> list[CallCriterion]:
    """The evaluation criteria of the call drafted last, from which a new call starts (none
    before the first call)."""
    latest = session.exec(
        select(Call).order_by(col(Call.created_at).desc(), col(Call.id).desc()).limit(1)
    ).first()
    return [CallCriterion(**criterion) for criterion in latest.criteria] if latest else []


def update_call(*, session: Session, actor: User, call_id: int, data: CallCreate) -> Call:
    """Change a draft call (coordinators and administrators); a published call is fixed, since
    applicants rely on its rules."""
    require_role(actor, *COORDINATORS)
    call = _draft(session, call_id)
    values = data.model_dump(mode="json", exclude={"opens_at", "closes_at"})
    for name, value in {**values, "opens_at": data.opens_at, "closes_at": data.closes_at}.items():
        setattr(call, name, value)
    call.updated_at = utcnow()
    session.add(call)
    audit.record(session, actor, "call.updated", "call", call.id, title=call.title)
    return call


def publish_call(
    *, session: Session, actor: User, call_id: int, now: datetime | None = None
) -> Call:
    """Publish a draft call (coordinators and administrators): everyone sees it from now on."""
    require_role(actor, *COORDINATORS)
    call = _draft(session, call_id)
    moment = now or utcnow()
    if in_utc(call.closes_at) <= moment:
        raise StateConflict(_("This call's closing time has passed: set a later one first."))
    call.status, call.published_at, call.updated_at = "published", moment, moment
    session.add(call)
    audit.record(session, actor, "call.published", "call", call.id)
    return call


def _draft(session: Session, call_id: int) -> Call:
    call = db.get_for_update(session, Call, call_id)
    if call is None:
        raise LookupError(f"no call with id {call_id}")
    if call.status != "draft":
        raise audit.conflict(session, "call", call.id, "This call", call.status)
    return call


def closed_call(
    session: Session, call_id: int, moment: datetime, *, then: str, lock: bool = False
) -> Call:
    """The published call `call_id` once it has closed at `moment` (its applications are
    final), locked when `lock`; StateConflict while it is open, saying what happens `then` (a
    text already in the page's language)."""
    call = db.get_for_update(session, Call, call_id) if lock else session.get(Call, call_id)
    if call is None or call.status != "published":
        raise LookupError(f"no published call with id {call_id}")
    if moment < in_utc(call.closes_at):
        raise StateConflict(
            _("This call is open until {moment} UTC: {then}.").format(
                moment=moment_text(in_utc(call.closes_at)), then=then
            )
        )
    return call


def phase(call: Call | CallPublic, now: datetime | None = None) -> str:
    """Upcoming, open or closed at `now` (the server's clock by default)."""
    moment = now or utcnow()
    if moment < in_utc(call.opens_at):
        return UPCOMING
    return OPEN if moment < in_utc(call.closes_at) else CLOSED


def moment_text(moment: datetime) -> str:
    """A day and time as the page's language writes them (05 March 2026 at 12:00)."""
    day = (
        f"{moment:%d %B %Y}"
        if i18n.current() == i18n.DEFAULT
        else i18n.format_date(moment, form="long")
    )
    return _("{date} at {time}").format(date=day, time=f"{moment:%H:%M}")


def time_left(closes_at: datetime, now: datetime | None = None) -> str:
    """The time until `closes_at` in words, to its two largest units ("3 days and 4 hours")."""
    seconds = int((in_utc(closes_at) - (now or utcnow())).total_seconds())
    if seconds <= 0:
        return _("closed")
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    words = [
        (ngettext("{count} day", "{count} days", days), days),
        (ngettext("{count} hour", "{count} hours", hours), hours),
        (ngettext("{count} minute", "{count} minutes", minutes), minutes),
        (ngettext("{count} second", "{count} seconds", seconds), seconds),
    ]
    units = [word.format(count=count) for word, count in words if count]
    if len(units) == 1:
        return units[0]
    return _("{first} and {second}").format(first=units[0], second=units[1])


def get_call(*, session: Session, actor: User | None, call_id: int) -> CallPublic:
    """A published call for everyone, a draft for coordinators; LookupError otherwise (a
    draft's existence is not told)."""
    call = session.get(Call, call_id)
    if call is None or (call.status != "published" and not is_coordinator(actor)):
        raise LookupError(f"no call with id {call_id}")
    return CallPublic.model_validate(call)


@dataclass(frozen=True)
class CallListing:
    """The calls of the public list, by phase; drafts for coordinators only."""

    open: list[CallPublic]
    upcoming: list[CallPublic]
    past: list[CallPublic]
    drafts: list[CallPublic]


def list_calls(*, session: Session, actor: User | None, now: datetime | None = None) -> CallListing:
    """Open calls closing first, upcoming ones opening first, past ones latest first."""
    moment = now or utcnow()
    query = select(Call).order_by(col(Call.closes_at), col(Call.id))
    if not is_coordinator(actor):
        query = query.where(Call.status == "published")
    listing = CallListing([], [], [], [])
    for call in session.exec(query):
        public = CallPublic.model_validate(call)
        if call.status != "published":
            listing.drafts.append(public)
        else:
            by_phase = {OPEN: listing.open, UPCOMING: listing.upcoming, CLOSED: listing.past}
            by_phase[phase(call, moment)].append(public)
    listing.upcoming.sort(key=lambda c: (c.opens_at, c.id))
    listing.past.reverse()
    return listing
