"""Following an awarded twinning: its work plan of milestones, technical-assistance sessions,
and the reports its pair uploads.

The pair of a twinning are the members of its adopter organisation (the need's) and of its
originator organisation (the practice's owner); they and the coordinators follow it. The
twinning moves to "in transfer" when its kick-off is done.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from dhu_core import audit, db, organisations, taxonomy, twinning
from dhu_core.accounts import PermissionDenied, require_role
from dhu_core.config import get_settings
from dhu_core.i18n import _, format_date, format_number
from dhu_core.models import (
    CONTROL_RE,
    AssistanceInput,
    AssistanceSession,
    CallAward,
    FieldError,
    LessonsCase,
    Milestone,
    Practice,
    StateConflict,
    TwinningMatch,
    TwinningNeed,
    TwinningReport,
    User,
    utcnow,
)
from dhu_core.text import lower_first

COORDINATORS = twinning.COORDINATORS
#: Months after the start of a work plan when each milestone falls due, by default.
KICK_OFF_MONTHS = 1
STUDY_VISIT_MONTHS = 3
ADAPTATION_MONTHS = 6
PILOT_MONTHS = 9
FINAL_REPORT_MONTHS = 12
DEFAULT_MONTHS = {
    "kick-off": KICK_OFF_MONTHS,
    "study-visit": STUDY_VISIT_MONTHS,
    "adaptation": ADAPTATION_MONTHS,
    "pilot": PILOT_MONTHS,
    "final-report": FINAL_REPORT_MONTHS,
}
#: Twinnings still under way: the ones with a work plan to follow.
UNDER_WAY = ("agreed", "in-transfer")
MAX_NOTE = 2000
#: How far ahead of today a milestone may fall due, in years.
PLAN_YEARS = 5
PDF = "application/pdf"
TEXT = "text/plain"
MAX_FILENAME = 120
_UNSAFE_IN_NAME = re.compile(r"[^\w.\- ]+")
#: The start of a text a browser could take for a web page or an image (HTML, SVG, XML):
#: such a "plain-text" report is refused (the first non-blank character is "<").
_MARKUP = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<")


# --- who follows a twinning ----------------------------------------------------------------


def _match(session: Session, match_id: int, *, lock: bool = False) -> TwinningMatch:
    found = (
        db.get_for_update(session, TwinningMatch, match_id)
        if lock
        else session.get(TwinningMatch, match_id)
    )
    if found is None:
        raise LookupError(_("no twinning with id {id}").format(id=match_id))
    return found


def is_coordinator(actor: User | None) -> bool:
    """Whether the actor follows every twinning."""
    return actor is not None and actor.role in COORDINATORS


def require_follower(session: Session, actor: User, match: TwinningMatch) -> None:
    """PermissionDenied unless the actor is a coordinator or a member of the twinning's pair."""
    require_role(actor, "owner", *COORDINATORS)
    if is_coordinator(actor):
        return
    if organisations.acting_organisation(session, actor) not in twinning.sides(session, match):
        raise PermissionDenied(
            _("Only the two organisations of this twinning and coordinators follow it.")
        )


def _under_way(match: TwinningMatch) -> None:
    """StateConflict unless the twinning is agreed or in transfer: a completed or ended
    twinning's follow-up is closed."""
    if match.status not in UNDER_WAY:
        label = lower_first(taxonomy.MATCH_STATUSES.label(match.status))
        raise StateConflict(
            _("This twinning is {status}: its follow-up is closed.").format(status=label)
        )


# --- the work plan -------------------------------------------------------------------------


def add_months(start: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    year, month = divmod(start.month - 1 + months, 12)
    year, month = start.year + year, month + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def start_work_plan(
    *, session: Session, actor: User, match_id: int, start: date
) -> list[Milestone]:
    """The five milestones of an agreed twinning with no plan yet, due `DEFAULT_MONTHS` after
    `start` (coordinators; the award calls it for each twinning it starts)."""
    require_role(actor, *COORDINATORS)
    match = _match(session, match_id, lock=True)
    if match.status not in UNDER_WAY:
        label = lower_first(taxonomy.MATCH_STATUSES.label(match.status))
        raise StateConflict(
            _("A work plan is made for an agreed twinning; this one is {status}.").format(
                status=label
            )
        )
    if _milestones(session, match_id):
        raise audit.conflict(session, "twinning_match", match_id, "The work plan", "made")
    milestones = [
        Milestone(match_id=match_id, kind=kind, due_on=add_months(start, months))
        for kind, months in DEFAULT_MONTHS.items()
    ]
    session.add_all(milestones)
    session.flush()
    audit.record(
        session, actor, "follow_up.plan_started", "twinning_match", match_id, start=str(start)
    )
    return milestones


def _milestones(session: Session, match_id: int) -> list[Milestone]:
    order = {kind: number for number, kind in enumerate(taxonomy.MILESTONE_KINDS)}
    found = session.exec(select(Milestone).where(Milestone.match_id == match_id)).all()
    return sorted(found, key=lambda m: order.get(m.kind, len(order)))


def is_late(milestone: Milestone, today: date) -> bool:
    """Due before `today` and not done."""
    return milestone.done_on is None and milestone.due_on < today


def _locked_milestone(session: Session, milestone_id: int, version: int) -> Milestone:
    """The milestone, locked, as the actor saw it (`version`), else StateConflict."""
    milestone = db.get_for_update(session, Milestone, milestone_id)
    if milestone is None:
        raise LookupError(_("no milestone with id {id}").format(id=milestone_id))
    if milestone.version != version:
        label = taxonomy.MILESTONE_KINDS.label(milestone.kind)
        raise audit.conflict(session, "twinning_milestone", milestone.id, label, "changed")
    return milestone


def _note(note: str) -> str:
    note = " ".join(str(note or "").split())
    if CONTROL_RE.search(note) or len(note) > MAX_NOTE:
        raise FieldError(
            "note",
            _("write a note of at most {count} plain characters").format(
                count=format_number(MAX_NOTE)
            ),
        )
    return note


def _check_date(match: TwinningMatch, day: date, field_name: str, today: date) -> None:
    """FieldError when a milestone's date is before the twinning was proposed or more than
    PLAN_YEARS ahead."""
    first = match.created_at.date()
    if day < first:
        raise FieldError(
            field_name,
            _("give a date from {date}, when this twinning began").format(
                date=format_date(first, form="long")
            ),
        )
    if day > add_months(today, 12 * PLAN_YEARS):
        raise FieldError(
            field_name, _("give a date within {count} years from today").format(count=PLAN_YEARS)
        )


def reschedule_milestone(
    *,
    session: Session,
    actor: User,
    milestone_id: int,
    due_on: date,
    version: int,
    today: date | None = None,
) -> Milestone:
    """Give a milestone of a twinning under way a new due date (coordinators), as seen at
    `version`."""
    require_role(actor, *COORDINATORS)
    found = session.get(Milestone, milestone_id)
    if found is None:
        raise LookupError(_("no milestone with id {id}").format(id=milestone_id))
    match = _match(session, found.match_id, lock=True)
    _under_way(match)
    milestone = _locked_milestone(session, milestone_id, version)
    _check_date(match, due_on, "due_on", today or date.today())
    old = milestone.due_on
    milestone.due_on, milestone.version = due_on, milestone.version + 1
    milestone.updated_at = utcnow()
    session.add(milestone)
    audit.record(
        session,
        actor,
        "follow_up.milestone_rescheduled",
        "twinning_milestone",
        milestone.id,
        match=milestone.match_id,
        old=str(old),
        new=str(due_on),
    )
    return milestone


def mark_milestone_done(
    *,
    session: Session,
    actor: User,
    milestone_id: int,
    done_on: date,
    version: int,
    note: str = "",
    today: date | None = None,
) -> Milestone:
    """The pair (or a coordinator) says a milestone was done on `done_on`, as seen at
    `version`; a done kick-off moves an agreed twinning to "in transfer"."""
    found = session.get(Milestone, milestone_id)
    if found is None:
        raise LookupError(_("no milestone with id {id}").format(id=milestone_id))
    # The twinning first, then its milestone: every change of both locks them in this order.
    match = _match(session, found.match_id, lock=True)
    require_follower(session, actor, match)
    _under_way(match)
    milestone = _locked_milestone(session, milestone_id, version)
    if milestone.done_on is not None:
        raise StateConflict(
            _("This milestone was done on {date} already.").format(
                date=format_date(milestone.done_on, form="long")
            )
        )
    if done_on > (today or date.today()):
        raise FieldError("done_on", _("give the date it was done: it cannot be in the future"))
    _check_date(match, done_on, "done_on", today or date.today())
    milestone.note = _note(note)
    milestone.done_on, milestone.version = done_on, milestone.version + 1
    milestone.updated_at = utcnow()
    session.add(milestone)
    audit.record(
        session,
        actor,
        "follow_up.milestone_done",
        "twinning_milestone",
        milestone.id,
        match=match.id,
        kind=milestone.kind,
        done_on=str(done_on),
    )
    if milestone.kind == "kick-off" and match.status == "agreed":
        twinning.move_match(
            session=session,
            actor=actor,
            match=match,
            status="in-transfer",
            note=f"Kick-off held on {done_on:%d %B %Y}.",
        )
    return milestone


# --- technical assistance ------------------------------------------------------------------


def log_assistance(
    *, session: Session, actor: User, match_id: int, data: AssistanceInput
) -> AssistanceSession:
    """Log a technical-assistance session held with the pair (coordinators)."""
    require_role(actor, *COORDINATORS)
    _under_way(_match(session, match_id, lock=True))
    held = AssistanceSession.model_validate(
        data.model_dump(), update={"match_id": match_id, "logged_by_id": actor.id}
    )
    session.add(held)
    session.flush()
    audit.record(
        session,
        actor,
        "follow_up.assistance_logged",
        "twinning_match",
        match_id,
        assistance=held.id,
        hours=held.hours,
    )
    return held


# --- reports -------------------------------------------------------------------------------


def report_type(content: bytes) -> str:
    """The type of a report from its bytes, whatever its name says: PDF, or plain text in
    UTF-8 without NUL bytes nor markup at its start (a web page or an SVG image); FieldError
    for anything else."""
    if content.startswith(b"%PDF-"):
        return PDF
    if b"\x00" in content or _MARKUP.match(content):
        raise FieldError("file", _("upload a PDF or a plain-text file; this file is neither"))
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        raise FieldError(
            "file", _("upload a PDF or a plain-text file in UTF-8; this file is neither")
        ) from None
    return TEXT


def safe_filename(name: str, content_type: str) -> str:
    """A report's name without folders or unusual characters, ending as its type does."""
    stem = _UNSAFE_IN_NAME.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" ._")
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    suffix = ".pdf" if content_type == PDF else ".txt"
    return (stem or "report")[: MAX_FILENAME - len(suffix)] + suffix


def upload_report(
    *,
    session: Session,
    actor: User,
    match_id: int,
    kind: str,
    filename: str,
    content: bytes,
    max_bytes: int | None = None,
) -> TwinningReport:
    """Keep a progress or final report of the pair (or a coordinator): a PDF or plain text
    checked by its content, at most `max_bytes` (DHU_REPORT_MAX_BYTES)."""
    match = _match(session, match_id, lock=True)
    require_follower(session, actor, match)
    _under_way(match)
    if kind not in taxonomy.REPORT_KINDS:
        raise FieldError("kind", _("choose a progress report or the final report"))
    limit = max_bytes or get_settings().dhu_report_max_bytes
    if not content:
        raise FieldError("file", _("this file is empty"))
    if len(content) > limit:
        raise FieldError(
            "file",
            _("a report can have at most {limit}; this one has {size}").format(
                limit=file_size(limit), size=file_size(len(content))
            ),
        )
    content_type = report_type(content)
    report = TwinningReport(
        match_id=match_id,
        kind=kind,
        filename=safe_filename(filename, content_type),
        content_type=content_type,
        size=len(content),
        content=content,
        uploaded_by_id=actor.id,
    )
    session.add(report)
    session.flush()
    audit.record(
        session,
        actor,
        "follow_up.report_uploaded",
        "twinning_match",
        match_id,
        report=report.id,
        kind=kind,
        size=report.size,
    )
    return report


def file_size(size: int) -> str:
    """A size in bytes as people read it in the page's language: 840 kB, 4.2 MB (4,2 MB)."""
    if size >= 100_000:
        return f"{format_number(size / 1_000_000, decimals=1)} MB"
    return f"{format_number(max(size / 1000, 1), decimals=0)} kB"


def download_report(*, session: Session, actor: User, report_id: int) -> TwinningReport:
    """A report with its bytes, for the pair and coordinators; the download is audited."""
    report = session.get(TwinningReport, report_id)
    if report is None:
        raise LookupError(_("no report with id {id}").format(id=report_id))
    require_follower(session, actor, _match(session, report.match_id))
    audit.record(
        session, actor, "follow_up.report_downloaded", "twinning_match", report.match_id,
        report=report.id,
    )  # fmt: skip
    return report


def has_final_report(session: Session, match_id: int) -> bool:
    """Whether the pair uploaded a final report."""
    return (
        session.scalar(
            select(TwinningReport.id)
            .where(TwinningReport.match_id == match_id, TwinningReport.kind == "final")
            .limit(1)
        )
        is not None
    )


# --- what pages show -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReportEntry:
    """A report without its bytes."""

    id: int
    kind: str
    filename: str
    content_type: str
    size: int
    uploaded_at: datetime


@dataclass(frozen=True)
class TwinningSummary:
    """A twinning as the follow-up pages name it."""

    id: int
    status: str
    practice_id: int
    practice: str
    adopter: str
    originator: str
    call_id: int | None
    next_milestone: Milestone | None
    late: int
    planned: bool


@dataclass(frozen=True)
class FollowUp:
    """Everything about following one twinning."""

    twinning: TwinningSummary
    milestones: list[Milestone]
    sessions: list[AssistanceSession]
    reports: list[ReportEntry]
    case: LessonsCase | None
    today: date

    def late(self, milestone: Milestone) -> bool:
        return is_late(milestone, self.today)


def _summaries(
    session: Session,
    today: date,
    *,
    match_ids: list[int] | None = None,
    organisation: int | None = None,
) -> list[TwinningSummary]:
    query = (
        twinning.with_both_sides(
            sa_select(
                TwinningMatch.id,
                TwinningMatch.status,
                Practice.id,
                Practice.title,
                twinning.ADOPTER.name,
                twinning.ORIGINATOR.name,
                CallAward.call_id,
            )
        )
        .outerjoin(CallAward, CallAward.match_id == TwinningMatch.id)
        .where(col(TwinningMatch.status).in_(taxonomy.TWINNING_STATUSES))
        .order_by(TwinningMatch.id)
    )
    if match_ids is not None:
        query = query.where(col(TwinningMatch.id).in_(match_ids))
    if organisation is not None:
        query = query.where(
            (TwinningNeed.organisation_id == organisation)
            | (Practice.owner_organisation_id == organisation)
        )
    rows = session.execute(query).all()
    plans: dict[int, list[Milestone]] = {}
    for milestone in session.exec(
        select(Milestone)
        .where(col(Milestone.match_id).in_([row[0] for row in rows]))
        .order_by(Milestone.due_on, Milestone.id)
    ):
        plans.setdefault(milestone.match_id, []).append(milestone)
    summaries = []
    for match_id, status, practice_id, title, adopter_name, originator_name, call_id in rows:
        plan = plans.get(match_id, [])
        open_ones = [m for m in plan if m.done_on is None]
        summaries.append(
            TwinningSummary(
                id=match_id,
                status=status,
                practice_id=practice_id,
                practice=title,
                adopter=adopter_name,
                originator=originator_name,
                call_id=call_id,
                next_milestone=open_ones[0] if open_ones else None,
                late=sum(is_late(m, today) for m in plan),
                planned=bool(plan),
            )
        )
    return summaries


def dashboard(*, session: Session, actor: User, today: date | None = None) -> list[TwinningSummary]:
    """Every twinning under way with its next milestone (coordinators): those with late
    milestones first, then by the next due date, those without a plan last."""
    require_role(actor, *COORDINATORS)
    today = today or date.today()
    summaries = [s for s in _summaries(session, today) if s.status in UNDER_WAY]
    return sorted(
        summaries,
        key=lambda s: (
            s.late == 0,
            s.next_milestone is None,
            s.next_milestone.due_on if s.next_milestone else date.max,
            s.id,
        ),
    )


def own_twinnings(
    *, session: Session, actor: User, today: date | None = None
) -> list[TwinningSummary]:
    """The twinnings (agreed, in transfer, completed) of the actor's organisation."""
    require_role(actor, "owner", *COORDINATORS)
    organisation = organisations.acting_organisation(session, actor)
    if organisation is None:
        return []
    return _summaries(session, today or date.today(), organisation=organisation)


def follow_up(
    *, session: Session, actor: User, match_id: int, today: date | None = None
) -> FollowUp:
    """One twinning's milestones, sessions, reports and case, for the pair and coordinators."""
    match = _match(session, match_id)
    require_follower(session, actor, match)
    today = today or date.today()
    found = _summaries(session, today, match_ids=[match_id])
    if not found:
        raise LookupError(
            _("twinning {id} is not agreed: there is nothing to follow yet").format(id=match_id)
        )
    reports = session.execute(
        sa_select(
            TwinningReport.id,
            TwinningReport.kind,
            TwinningReport.filename,
            TwinningReport.content_type,
            TwinningReport.size,
            TwinningReport.uploaded_at,
        )
        .where(TwinningReport.match_id == match_id)
        .order_by(TwinningReport.id)
    ).all()
    return FollowUp(
        twinning=found[0],
        milestones=_milestones(session, match_id),
        sessions=list(
            session.exec(
                select(AssistanceSession)
                .where(AssistanceSession.match_id == match_id)
                .order_by(AssistanceSession.held_on, AssistanceSession.id)
            ).all()
        ),
        reports=[ReportEntry(*row) for row in reports],
        case=session.exec(select(LessonsCase).where(LessonsCase.match_id == match_id)).first(),
        today=today,
    )
