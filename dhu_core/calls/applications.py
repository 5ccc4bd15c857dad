"""Applications to a call: an adopter organisation applies with one of its needs and the
practices it prefers; the originator of each practice confirms or declines taking part.

A draft keeps whatever was saved; it is submitted once every chosen practice is confirmed (an
application has both sides) and the call's rules hold. Every change first locks the call's row
and then compares the server's clock with the closing time inside the same transaction, so a
submission that commits is one that started before the call closed, however many arrive at
the last second; after the closing time nothing is submitted, saved or answered.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from dhu_core import audit, db, notifications, organisations
from dhu_core.accounts import PermissionDenied, require_role
from dhu_core.calls import calls, eligibility
from dhu_core.i18n import _
from dhu_core.models import (
    LISTED,
    ApplicationDraft,
    Call,
    CallApplication,
    CallApplicationPractice,
    FieldError,
    Organisation,
    Practice,
    StateConflict,
    TwinningNeed,
    User,
    in_utc,
    is_listed,
    utcnow,
)

PENDING, CONFIRMED, DECLINED = "pending", "confirmed", "declined"
ANSWERS = {True: CONFIRMED, False: DECLINED}


def _open_call(session: Session, call_id: int, moment: datetime) -> Call:
    """The call, locked, when it takes changes at `moment`; StateConflict after it closes."""
    call = db.get_for_update(session, Call, call_id)
    if call is None or call.status != "published":
        raise LookupError(_("no published call with id {id}").format(id=call_id))
    closes = in_utc(call.closes_at)
    if moment >= closes:
        raise StateConflict(
            _(
                "This call closed on {moment} UTC: applications can no longer be submitted or "
                "changed."
            ).format(moment=calls.moment_text(closes))
        )
    if moment < in_utc(call.opens_at):
        raise StateConflict(
            _("This call opens on {moment} UTC.").format(
                moment=calls.moment_text(in_utc(call.opens_at))
            )
        )
    return call


def _adopter(session: Session, actor: User) -> int:
    """The organisation the actor applies for; PermissionDenied without one."""
    require_role(actor)
    organisation_id = organisations.acting_organisation(session, actor)
    if organisation_id is None:
        raise PermissionDenied(_("Only a member of an organisation applies for it."))
    return organisation_id


def save_application(
    *,
    session: Session,
    actor: User,
    call_id: int,
    data: ApplicationDraft,
    now: datetime | None = None,
) -> CallApplication:
    """Save the actor's organisation's application as a draft (created at the first save).

    Originators of newly chosen practices are asked to confirm; answers already given for
    practices still chosen are kept. A submitted application saved again is a draft again.
    """
    moment = now or utcnow()
    call = _open_call(session, call_id, moment)
    organisation_id = _adopter(session, actor)
    need = session.get(TwinningNeed, data.need_id)
    if need is None or need.organisation_id != organisation_id or need.status != "open":
        raise FieldError("need_id", _("choose one of your organisation's open needs"))
    chosen = _chosen_practices(session, data.practice_ids, organisation_id)
    application = session.exec(
        select(CallApplication).where(
            CallApplication.call_id == call.id, CallApplication.organisation_id == organisation_id
        )
    ).first()
    if application is None:
        application = CallApplication(
            call_id=call.id, organisation_id=organisation_id, need_id=need.id,
            created_by_id=actor.id, created_at=moment,
        )  # fmt: skip
    reopened = application.status == "submitted"
    application.need_id, application.motivation = need.id, data.motivation
    application.status, application.submitted_at, application.updated_at = "draft", None, moment
    session.add(application)
    session.flush()
    kept = {row.practice_id: row for row in _practice_rows(session, application.id)}
    for practice_id, row in kept.items():
        if practice_id not in chosen:
            session.delete(row)
    asked = [p for p in chosen.values() if p.id not in kept]
    session.add_all(
        CallApplicationPractice(
            application_id=application.id, practice_id=p.id, organisation_id=p.owner_organisation_id
        )
        for p in asked
    )
    audit.record(
        session, actor, "call.application_saved", "call_application", application.id,
        call=call.id, need=need.id, practices=list(chosen), reopened=reopened,
    )  # fmt: skip
    adopter = session.get(Organisation, organisation_id).name
    for practice in asked:
        notifications.enqueue(
            session,
            kind="call-confirmation",
            to=notifications.organisation_members(session, practice.owner_organisation_id),
            context={
                "call_id": call.id,
                "call_title": call.title,
                "adopter": adopter,
                "practice_title": practice.title,
                "closes": f"{in_utc(call.closes_at):%d %B %Y %H:%M} UTC",
                "closes_at": in_utc(call.closes_at).isoformat(),
            },
            dedupe_key=f"call-confirmation:{application.id}:{practice.id}",
        )
    return application


def _chosen_practices(
    session: Session, practice_ids: list[int], organisation_id: int
) -> dict[int, Practice]:
    """The chosen practices by id, in the order chosen: listed ones of other organisations."""
    if not practice_ids:
        return {}
    found = {
        p.id: p
        for p in session.exec(
            select(Practice).where(col(Practice.id).in_(practice_ids), LISTED)
        ).all()
    }
    if len(found) < len(practice_ids):
        raise FieldError("practice_ids", _("choose practices from the catalogue"))
    if any(p.owner_organisation_id == organisation_id for p in found.values()):
        raise FieldError("practice_ids", _("choose practices of other organisations than yours"))
    return {practice_id: found[practice_id] for practice_id in practice_ids}


def _practice_rows(session: Session, application_id: int) -> list[CallApplicationPractice]:
    return list(
        session.exec(
            select(CallApplicationPractice).where(
                CallApplicationPractice.application_id == application_id
            )
        ).all()
    )


def submit_application(
    *, session: Session, actor: User, application_id: int, now: datetime | None = None
) -> CallApplication:
    """Submit an application of the actor's organisation before the call closes.

    Ineligible (messages by field) when the call's rules do not hold; FieldError on
    `practice_ids` while an originator has not confirmed.
    """
    moment = now or utcnow()
    found = session.get(CallApplication, application_id)
    if found is None:
        raise LookupError(_("no application with id {id}").format(id=application_id))
    # The call first, always in this order: its lock is what orders the last-second submissions.
    call = _open_call(session, found.call_id, moment)
    application = db.get_for_update(session, CallApplication, application_id)
    organisations.require_member(
        session, actor, application.organisation_id,
        _("Only a member of the applying organisation submits its application."),
    )  # fmt: skip
    if application.status == "submitted":
        raise audit.conflict(
            session, "call_application", application.id, "This application", "submitted"
        )
    rows = _practice_rows(session, application.id)
    chosen = [session.get(Practice, row.practice_id) for row in rows]
    if gone := [p.title for p in chosen if not is_listed(p.status)]:
        raise FieldError(
            "practice_ids",
            _("These practices are no longer in the catalogue: {titles}.").format(
                titles=", ".join(gone)
            ),
        )
    adopter = session.get(Organisation, application.organisation_id)
    problems = eligibility.problems(
        call,
        adopter_country=adopter.country,
        practices=[eligibility.Candidate(p.title, p.practice_type, p.maturity) for p in chosen],
    )
    if problems:
        raise eligibility.Ineligible(problems)
    waiting = [p.title for p, row in zip(chosen, rows, strict=True) if row.status != CONFIRMED]
    if waiting:
        raise FieldError(
            "practice_ids",
            _(
                "An application is complete when the originator of every chosen practice has "
                "confirmed; waiting for or declined: {titles}."
            ).format(titles=", ".join(waiting)),
        )
    application.status, application.submitted_at, application.updated_at = (
        "submitted", moment, moment,
    )  # fmt: skip
    session.add(application)
    audit.record(
        session, actor, "call.application_submitted", "call_application", application.id,
        call=call.id,
    )  # fmt: skip
    return application


def answer(
    *,
    session: Session,
    actor: User,
    application_id: int,
    practice_id: int,
    confirm: bool,
    now: datetime | None = None,
) -> CallApplicationPractice:
    """The originator organisation of a chosen practice confirms or declines taking part
    (one of its members), while the application is a draft and the call open."""
    moment = now or utcnow()
    found = session.get(CallApplication, application_id)
    if found is None:
        raise LookupError(_("no application with id {id}").format(id=application_id))
    _open_call(session, found.call_id, moment)
    application = db.get_for_update(session, CallApplication, application_id)
    row = session.get(CallApplicationPractice, (application_id, practice_id))
    if row is None:
        raise LookupError(_("this practice is not chosen in this application"))
    organisations.require_member(
        session, actor, row.organisation_id,
        _("Only a member of the practice's organisation answers for it."),
    )  # fmt: skip
    if application.status != "draft":
        raise StateConflict(_("This application was submitted: its practices are settled."))
    row.status, row.decided_by_id, row.decided_at = ANSWERS[confirm], actor.id, moment
    session.add(row)
    audit.record(
        session, actor, f"call.practice_{row.status}", "call_application", application.id,
        practice=practice_id,
    )  # fmt: skip
    return row


# --- what pages show ---------------------------------------------------------------------


@dataclass(frozen=True)
class ChosenPractice:
    """A practice of an application and its originator's answer."""

    practice_id: int
    title: str
    originator: str
    status: str


@dataclass(frozen=True)
class ApplicationView:
    """An application as its organisation (or a coordinator) sees it."""

    id: int
    call_id: int
    organisation: str
    need_id: int
    motivation: str
    status: str
    submitted_at: datetime | None
    practices: list[ChosenPractice]

    @property
    def complete(self) -> bool:
        """Both sides are in: every chosen practice's originator confirmed."""
        return bool(self.practices) and all(p.status == CONFIRMED for p in self.practices)


def application_view(session: Session, application: CallApplication) -> ApplicationView:
    rows = session.execute(
        select(CallApplicationPractice, Practice.title, Organisation.name)
        .join(Practice, Practice.id == CallApplicationPractice.practice_id)
        .join(Organisation, Organisation.id == CallApplicationPractice.organisation_id)
        .where(CallApplicationPractice.application_id == application.id)
        .order_by(col(Practice.title))
    ).all()
    return ApplicationView(
        id=application.id,
        call_id=application.call_id,
        organisation=session.get(Organisation, application.organisation_id).name,
        need_id=application.need_id,
        motivation=application.motivation,
        status=application.status,
        submitted_at=application.submitted_at and in_utc(application.submitted_at),
        practices=[ChosenPractice(r.practice_id, t, o, r.status) for r, t, o in rows],
    )


def own_application(*, session: Session, actor: User, call_id: int) -> ApplicationView | None:
    """The application of the actor's organisation to the call, if it has one."""
    require_role(actor)
    organisation_id = organisations.acting_organisation(session, actor)
    application = session.exec(
        select(CallApplication).where(
            CallApplication.call_id == call_id, CallApplication.organisation_id == organisation_id
        )
    ).first()
    return None if application is None else application_view(session, application)


def call_applications(*, session: Session, actor: User, call_id: int) -> list[ApplicationView]:
    """Every application to a call, submitted first (coordinators and administrators)."""
    require_role(actor, *calls.COORDINATORS)
    found = session.exec(
        select(CallApplication)
        .where(CallApplication.call_id == call_id)
        .order_by(col(CallApplication.status).desc(), col(CallApplication.id))
    ).all()
    return [application_view(session, application) for application in found]


@dataclass(frozen=True)
class ConfirmationRequest:
    """An application that chose a practice of the viewer's organisation, and its answer."""

    call_id: int
    call_title: str
    application_id: int
    practice_id: int
    practice: str
    adopter: str
    adopter_country: str
    motivation: str
    status: str


def confirmation_requests(
    *, session: Session, actor: User, call_id: int
) -> list[ConfirmationRequest]:
    """The draft applications to a call that chose practices of the actor's organisation."""
    return _requests(session, actor, CallApplication.call_id == call_id)


def waiting_answers(
    *, session: Session, actor: User, now: datetime | None = None
) -> list[ConfirmationRequest]:
    """What the actor's organisation has not answered yet in calls open at `now` (its inbox)."""
    return _requests(
        session,
        actor,
        CallApplicationPractice.status == PENDING,
        Call.status == "published",
        col(Call.closes_at) > (now or utcnow()),
    )


def _requests(session: Session, actor: User, *conditions) -> list[ConfirmationRequest]:
    require_role(actor)
    organisation_id = organisations.acting_organisation(session, actor)
    if organisation_id is None:
        return []
    rows = session.execute(
        select(CallApplicationPractice, CallApplication, Call.title, Practice.title, Organisation)
        .join(CallApplication, CallApplication.id == CallApplicationPractice.application_id)
        .join(Call, Call.id == CallApplication.call_id)
        .join(Practice, Practice.id == CallApplicationPractice.practice_id)
        .join(Organisation, Organisation.id == CallApplication.organisation_id)
        .where(
            CallApplication.status == "draft",
            CallApplicationPractice.organisation_id == organisation_id,
            *conditions,
        )
        .order_by(col(Call.closes_at), col(CallApplication.id), col(Practice.title))
    ).all()
    return [
        ConfirmationRequest(
            application.call_id,
            call_title,
            row.application_id,
            row.practice_id,
            title,
            adopter.name,
            adopter.country,
            application.motivation,
            row.status,
        )  # fmt: skip
        for row, application, call_title, title, adopter in rows
    ]
