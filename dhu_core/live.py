"""Live workshops: the presenter view's data, the quick-capture QR code and form, demo resets.

An audience scans the QR code and registers a practice in a few seconds. A capture belongs to no
public organisation: it waits as a draft of an internal holding organisation of its country
(CAPTURE_ORGANISATION), which is never listed, never counted and never a published owner. A
coordinator completes it with its real owner, chosen from the list or registered there and
then, and publishes it. The presenter view refreshes itself, so each publication shows up on
the big screen.
"""

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import segno
from sqlalchemy import Engine, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from dhu_core import audit, db, demo, demo_logins, i18n, organisations, practices, ratelimits
from dhu_core.accounts import require_role, system_actor
from dhu_core.config import get_settings
from dhu_core.i18n import _, ngettext
from dhu_core.models import (
    AuditEvent,
    CaptureCreate,
    CaptureOwner,
    FieldError,
    Organisation,
    Practice,
    PracticeCountry,
    PracticeCreate,
    PracticeDraft,
    User,
    utcnow,
)

DEFAULT_EVERY = 5
MIN_EVERY, MAX_EVERY = 1, 300
CAPTURE_ORGANISATION = organisations.CAPTURE_ORGANISATION
CAPTURE_LIMIT = 3
CAPTURE_WINDOW = timedelta(minutes=10)
COORDINATORS = ("coordinator", "admin")

Clock = Callable[[], datetime]


def refresh_seconds(value: str | None) -> int:
    """The refresh interval from `?every=N`: whole seconds within limits, else the default."""
    try:
        seconds = int(str(value))
    except ValueError:
        return DEFAULT_EVERY
    return min(max(seconds, MIN_EVERY), MAX_EVERY)


def capture_url(public_url: str) -> str:
    """The quick-capture form's address under the app's public address (`config.public_url`)."""
    return public_url.rstrip("/") + "/capture"


def qr_code(payload: str) -> segno.QRCode:
    """A QR code (never a Micro QR, which phones do not read) encoding exactly `payload`."""
    return segno.make_qr(payload, error="m")


def qr_png(payload: str, *, scale: int = 10) -> bytes:
    """The QR code of `payload` as a PNG image, drawn locally."""
    buffer = io.BytesIO()
    qr_code(payload).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


# --- the presenter view ------------------------------------------------------------------


def captures_since(since: datetime, *, engine: Engine | None = None) -> int:
    """How many quick captures arrived since `since`."""
    with db.read_scope(engine) as session:
        return session.exec(
            select(func.count())
            .select_from(Practice)
            .join(Organisation, col(Organisation.id) == Practice.owner_organisation_id)
            .where(Organisation.name == CAPTURE_ORGANISATION, Practice.created_at >= since)
        ).one()


# --- quick capture -----------------------------------------------------------------------


CAPTURES_PER_EMAIL = ratelimits.Limit("capture-email", uses=CAPTURE_LIMIT, window=CAPTURE_WINDOW)


def captures_per_address() -> ratelimits.Limit:
    """The limit per client address: a workshop audience often shares one address (the venue's
    Wi-Fi), so it is higher than the one per browser session and per e-mail address, and set by
    DHU_CAPTURES_PER_ADDRESS for the audience expected."""
    uses = get_settings().dhu_captures_per_address
    return ratelimits.Limit("capture-address", uses=uses, window=CAPTURE_WINDOW)


class CaptureLimit(Exception):
    """Too many quick captures lately from this browser, address or e-mail; `wait` says how long."""

    def __init__(self, wait: timedelta) -> None:
        minutes = max(1, round(wait.total_seconds() / 60))
        # Raised while a page is drawn: in that page's language.
        super().__init__(
            ngettext(
                "Many practices were sent from here or with this e-mail address in the last "
                "{window} minutes. Please wait about {count} minute before sending another one; "
                "what you typed stays here.",
                "Many practices were sent from here or with this e-mail address in the last "
                "{window} minutes. Please wait about {count} minutes before sending another "
                "one; what you typed stays here.",
                minutes,
            ).format(window=CAPTURE_WINDOW.seconds // 60, count=minutes)
        )
        self.wait = wait


def capture_wait(earlier: Sequence[datetime], now: datetime) -> timedelta | None:
    """How long a session that sent captures at `earlier` must wait; None: it may send now."""
    recent = sorted(moment for moment in earlier if now - moment < CAPTURE_WINDOW)
    if len(recent) < CAPTURE_LIMIT:
        return None
    return recent[-CAPTURE_LIMIT] + CAPTURE_WINDOW - now


def capture_practice(
    *,
    session: Session,
    data: CaptureCreate,
    actor: User,
    client: str,
    earlier: Sequence[datetime] = (),
    now: Clock = utcnow,
) -> Practice:
    """Keep a quick capture as a draft of the country's holding organisation (never public).

    `earlier` are the times this browser session sent captures before; CaptureLimit when this
    session, the `client` address or the contact e-mail address sent too many lately.
    """
    require_role(actor)
    moment = now()
    wait = capture_wait(earlier, moment)
    if wait is not None:
        raise CaptureLimit(wait)
    limits = ((captures_per_address(), client), (CAPTURES_PER_EMAIL, data.contact_email))
    for limit, key in limits:
        try:
            ratelimits.use(session, limit, key, now=moment)
        except ratelimits.RateLimited as limited:
            raise CaptureLimit(limited.wait) from None
    organisation_id = _capture_organisation(session, data.country)
    practice = Practice(
        title=data.title,
        # Typed into the page in its language: the capture is taken to be written in it.
        text_language=i18n.current(),
        practice_type=data.practice_type,
        contact_email=data.contact_email,
        owner_organisation_id=organisation_id,
        status="draft",
    )
    session.add(practice)
    session.flush()
    session.add(PracticeCountry(practice_id=practice.id, country=data.country))
    audit.record(session, actor, "practice.captured", "practice", practice.id)
    return practice


def _capture_organisation(session: Session, country: str) -> int:
    """The id of the country's capture organisation, created on first use."""
    # Insert first: the transaction then holds SQLite's write lock from its start, so captures
    # sent at the same moment wait for each other instead of failing on a stale read.
    dialect = {"sqlite": sqlite, "postgresql": postgresql}[session.get_bind().dialect.name]
    session.execute(
        dialect.insert(Organisation)
        .values(
            name=CAPTURE_ORGANISATION,
            country=country,
            organisation_type="other",
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["name", "country"])
    )
    return session.exec(
        select(Organisation.id).where(
            Organisation.name == CAPTURE_ORGANISATION, Organisation.country == country
        )
    ).one()


@dataclass(frozen=True)
class Capture:
    """A quick capture waiting for a coordinator."""

    id: int
    title: str
    country: str
    practice_type: str | None
    contact_email: str | None
    created_at: datetime


def open_captures(*, session: Session, actor: User) -> list[Capture]:
    """Quick captures still in draft, oldest first (coordinators)."""
    require_role(actor, *COORDINATORS)
    return _captures(session, "draft")


def published_captures(*, session: Session, actor: User) -> list[Capture]:
    """Captures published before they had to get an owner, still held by the holding
    organisation, oldest first (coordinators): they wait for `assign_capture_owner`."""
    require_role(actor, *COORDINATORS)
    return _captures(session, "published")


def _captures(session: Session, status: str) -> list[Capture]:
    rows = session.exec(
        select(Practice, Organisation.country)
        .join(Organisation, col(Organisation.id) == Practice.owner_organisation_id)
        .where(Organisation.name == CAPTURE_ORGANISATION, Practice.status == status)
        .order_by(col(Practice.created_at), col(Practice.id))
    ).all()
    return [
        Capture(p.id, p.title, country, p.practice_type, p.contact_email, p.created_at)
        for p, country in rows
    ]


def assign_capture_owner(
    *, session: Session, actor: User, practice_id: int, owner: CaptureOwner
) -> Practice:
    """Give a published capture of the holding organisation its real owner (coordinators)."""
    require_role(actor, *COORDINATORS)
    practice = db.get_for_update(session, Practice, practice_id)
    if practice is None or practice.status != "published":
        raise LookupError(_("no published capture with id {id}").format(id=practice_id))
    if session.get(Organisation, practice.owner_organisation_id).name != CAPTURE_ORGANISATION:
        raise audit.conflict(session, "practice", practice.id, "This capture", "given its owner")
    practice.owner_organisation_id = _owner(session, actor, owner)
    practice.updated_at = utcnow()
    session.add(practice)
    audit.record(
        session, actor, "practice.capture_owner_assigned", "practice", practice.id,
        organisation=practice.owner_organisation_id,
    )  # fmt: skip
    return practice


def capture_form(*, session: Session, actor: User, practice_id: int) -> PracticeDraft:
    """What the completion form starts from: the capture as typed."""
    _open_capture(session, actor, practice_id, lock=False)
    return PracticeDraft.model_validate(
        practices.load_public(session, [practice_id])[0].model_dump()
    )


def complete_capture(
    *,
    session: Session,
    actor: User,
    practice_id: int,
    data: PracticeCreate,
    owner: CaptureOwner,
) -> Practice:
    """Complete a quick capture with its owner, chosen or registered now, and publish it
    (coordinators). FieldError on `organisation_id` or `organisation_name` for a wrong owner."""
    practice = _open_capture(session, actor, practice_id)
    practice.owner_organisation_id = _owner(session, actor, owner)
    practices._apply(session, practice, data, status="submitted")
    audit.record(
        session, actor, "practice.capture_completed", "practice", practice.id,
        organisation=practice.owner_organisation_id,
    )  # fmt: skip
    return practices.approve_practice(session=session, practice_id=practice.id, actor=actor)


def _owner(session: Session, actor: User, owner: CaptureOwner) -> int:
    """The id of the capture's owner: an organisation people act for, or a new one."""
    new = owner.new_organisation()
    if new is not None:
        organisation = organisations.create_organisation(session=session, data=new)
        audit.record(session, actor, "organisation.created", "organisation", organisation.id)
        return organisation.id
    organisation = session.get(Organisation, owner.organisation_id)
    if organisation is None or organisation.name == CAPTURE_ORGANISATION:
        raise FieldError("organisation_id", _("choose an organisation of the list"))
    return organisation.id


def discard_capture(*, session: Session, actor: User, practice_id: int) -> Practice:
    """Set aside a quick capture that is no practice (coordinators); it stays in the audit."""
    practice = _open_capture(session, actor, practice_id)
    practice.status = "rejected"
    practice.rejection_reason = "Discarded workshop capture"
    practice.updated_at = utcnow()
    session.add(practice)
    audit.record(session, actor, "practice.capture_discarded", "practice", practice.id)
    return practice


def _open_capture(
    session: Session, actor: User, practice_id: int, *, lock: bool = True
) -> Practice:
    require_role(actor, *COORDINATORS)
    get = db.get_for_update if lock else Session.get
    practice = get(session, Practice, practice_id)
    if practice is None or not _was_captured(session, practice):
        raise LookupError(_("no quick capture with id {id}").format(id=practice_id))
    if practice.status != "draft":
        raise audit.conflict(
            session,
            "practice",
            practice.id,
            "This capture",
            "published" if practice.status == "published" else "discarded",
        )
    return practice


def _was_captured(session: Session, practice: Practice) -> bool:
    """True for a capture: held by the holding organisation, or completed since (its owner is
    then a real organisation, and the completion in the audit trail tells)."""
    if session.get(Organisation, practice.owner_organisation_id).name == CAPTURE_ORGANISATION:
        return True
    completed = select(AuditEvent.id).where(
        AuditEvent.action == "practice.capture_completed",
        AuditEvent.entity == "practice",
        AuditEvent.entity_id == practice.id,
    )
    return session.exec(completed).first() is not None


# --- between workshops -------------------------------------------------------------------


def reset_demo_data(*, actor: User, engine: Engine | None = None) -> demo.DemoSummary:
    """Replace the demo data with a fresh set of the same size (administrators, demo only).

    The demo accounts get new passwords, printed on the console and kept as at the first start.
    """
    require_role(actor, "admin")
    engine = engine or db.get_engine()
    with db.read_scope(engine) as session:
        seeded = session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "demo.seed")
            .order_by(col(AuditEvent.id).desc())
        ).first()
    size = dict(seeded.detail) if seeded else {}
    summary = demo.reset_demo(
        engine=engine,
        practices=int(size.get("practices", demo.DEFAULT_PRACTICES)),
        seed=int(size.get("seed", 2026)),
    )
    with db.session_scope(engine) as session:
        # The actor's account was replaced with the rest, so name it instead of linking it.
        audit.record(session, system_actor("demo-reset"), "demo.reset", by=actor.username)
    demo_logins.hand_out(
        summary.logins,
        database_url=engine.url.render_as_string(hide_password=False),
        settings=get_settings(),
        echo=demo_logins.to_console,
    )
    return summary
