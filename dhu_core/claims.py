"""Claims: taking charge of a practice whose organisation has no member account.

Imported practices, and captures a coordinator completed with a new organisation, belong to an
organisation nobody acts for. Somebody of that organisation signs in (or registers), states
their role there and claims the practice; a coordinator approves the claim, and the claimant
becomes a member of the organisation (and so edits all its practices and needs), or rejects it.
Either decision is final and audited. A claim from an e-mail address at the organisation's web
domain is flagged as likely genuine; a coordinator still decides.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList
from sqlalchemy import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from dhu_core import audit, db, notifications, organisations, practices, ratelimits
from dhu_core.accounts import OwnerRegistration, PermissionDenied, require_role
from dhu_core.i18n import N_, _, format_number
from dhu_core.models import (
    ClaimCreate,
    FieldError,
    Membership,
    Organisation,
    Practice,
    PracticeClaim,
    PracticePublic,
    StateConflict,
    User,
    utcnow,
)

COORDINATORS = organisations.COORDINATORS
MAX_NOTE = 2000
#: How a claim ends, and what its audit event is called.
DECISIONS = {True: "approved", False: "rejected"}
_CLAIM_NEWS = {
    "approved": N_(
        "This claim was just approved by {who}. Reload the page to see it as it is now."
    ),
    "rejected": N_(
        "This claim was just rejected by {who}. Reload the page to see it as it is now."
    ),
}


# --- the organisation's web domain -------------------------------------------------------


@cache
def _suffixes() -> PublicSuffixList:
    # The package ships the Public Suffix List; nothing is fetched.
    return PublicSuffixList()


def registrable_domain(host: str | None) -> str | None:
    """The domain someone registered for `host` (`www.clinic.example.co.uk` ->
    `example.co.uk`); None for a public suffix alone (`co.uk`, `github.io`) or no host."""
    name = (host or "").strip().rstrip(".").lower()
    if not name or "." not in name:
        return None
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return _suffixes().privatesuffix(name)


def domain_matches(email: str, *websites: str | None) -> bool:
    """Whether the e-mail address is at the web domain of one of the `websites`.

    Subdomains on either side count (`anna@mail.example.org` and `https://www.example.org`);
    a look-alike does not (`example.org.evil.com`, `evil-example.org`), nor a shared hosting
    domain (`someone.github.io` for an address at `github.io`).
    """
    address = str(email or "").strip()
    if "@" not in address:
        return False
    own = registrable_domain(address.rsplit("@", 1)[1])
    if own is None:
        return False
    for website in websites:
        try:
            host = urlsplit(str(website or "").strip()).hostname
        except ValueError:
            continue
        if registrable_domain(host) == own:
            return True
    return False


# --- claiming ----------------------------------------------------------------------------


def is_claimable(session: Session, practice: Practice) -> bool:
    """A published practice of an organisation that nobody acts for (and that can be joined)."""
    organisation = session.get(Organisation, practice.owner_organisation_id)
    return (
        practice.status == "published"
        and organisation.name != organisations.CAPTURE_ORGANISATION
        and not organisations.has_members(session, organisation.id)
    )


@dataclass(frozen=True)
class ClaimState:
    """What a practice's detail view offers: a claim button, or the viewer's open claim."""

    claimable: bool
    own_open_claim: bool


def claim_state(
    *, practice_id: int, viewer: User | None, engine: Engine | None = None
) -> ClaimState:
    """Whether the practice can be claimed, and whether the viewer claimed it already."""
    with db.read_scope(engine) as session:
        practice = session.get(Practice, practice_id)
        if practice is None or not is_claimable(session, practice):
            return ClaimState(False, False)
        own = viewer is not None and _open_claim(session, practice_id, viewer.id) is not None
        return ClaimState(True, own)


def claimable_practice(
    practice_id: object, *, engine: Engine | None = None
) -> PracticePublic | None:
    """The practice a link names (`?claim=ID`) when it can be claimed, else None."""
    try:
        number = int(str(practice_id))
    except ValueError:
        return None
    if not 0 < number < 2**31:
        return None
    with db.read_scope(engine) as session:
        practice = session.get(Practice, number)
        if practice is None or not is_claimable(session, practice):
            return None
        return practices.load_public(session, [number])[0]


def make_claim(
    *, session: Session, account: User, data: ClaimCreate, now: datetime | None = None
) -> PracticeClaim:
    """The signed-in account claims a practice without members; FieldError on `role` when it
    cannot (a claim of theirs waits already, their account acts for another organisation)."""
    require_role(account)
    # The practice is locked: two claims by one account at once find each other.
    practice = db.get_for_update(session, Practice, data.practice_id)
    if practice is None or practice.status != "published":
        raise LookupError(_("no published practice with id {id}").format(id=data.practice_id))
    if not is_claimable(session, practice):
        held = session.get(Organisation, practice.owner_organisation_id)
        if held.name == organisations.CAPTURE_ORGANISATION:
            raise StateConflict(
                _(
                    "This workshop capture waits for a coordinator to name its organisation; "
                    "it can be claimed after that."
                )
            )
        raise StateConflict(
            _("This practice's organisation has members by now: ask one of them to invite you.")
        )
    account = session.get(User, account.id)
    if organisations.acting_organisation(session, account) is not None:
        raise FieldError(
            "role",
            _(
                "your account acts for another organisation; a practice is claimed from an "
                "account of its own organisation"
            ),
        )
    if _open_claim(session, practice.id, account.id) is not None:
        raise FieldError("role", _("your claim of this practice is waiting for a coordinator"))
    organisation = session.get(Organisation, practice.owner_organisation_id)
    claim = PracticeClaim(
        practice_id=practice.id,
        organisation_id=organisation.id,
        account_id=account.id,
        role=data.role,
        domain_matches=domain_matches(account.email, organisation.website, practice.website),
        created_at=now or utcnow(),
    )
    session.add(claim)
    session.flush()
    audit.record(
        session, account, "claim.made", "claim", claim.id,
        practice=practice.id, organisation=organisation.id, domain_matches=claim.domain_matches,
    )  # fmt: skip
    return claim


def sign_up_and_claim(
    *,
    data: OwnerRegistration,
    claim: ClaimCreate,
    client: str,
    engine: Engine | None = None,
    now: datetime | None = None,
) -> PracticeClaim:
    """Register an account without an organisation and claim a practice with it, at once."""
    with db.session_scope(engine) as session:
        ratelimits.use(session, organisations.SIGN_UP_LIMIT, client, now=now)
    with db.session_scope(engine) as session:
        user = organisations.register_owner(session=session, data=data, now=now).user
        return make_claim(session=session, account=user, data=claim, now=now)


def _open_claim(session: Session, practice_id: int, account_id: int) -> PracticeClaim | None:
    return session.exec(
        select(PracticeClaim).where(
            PracticeClaim.practice_id == practice_id,
            PracticeClaim.account_id == account_id,
            PracticeClaim.status == "open",
        )
    ).first()


# --- deciding ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimView:
    """An open claim as the coordinators' review page lists it."""

    id: int
    practice_id: int
    practice: str
    organisation: str
    country: str
    website: str | None
    claimant: str
    username: str
    email: str
    role: str
    domain_matches: bool
    created_at: datetime


def open_claims(*, session: Session, actor: User) -> list[ClaimView]:
    """Claims waiting for a decision, those at the organisation's domain first, then oldest
    first (coordinators and administrators)."""
    require_role(actor, *COORDINATORS)
    claimant = aliased(User)
    rows = session.execute(
        select(PracticeClaim, Practice, Organisation, claimant)
        .join(Practice, Practice.id == PracticeClaim.practice_id)
        .join(Organisation, Organisation.id == PracticeClaim.organisation_id)
        .join(claimant, claimant.id == PracticeClaim.account_id)
        .where(PracticeClaim.status == "open")
        .order_by(
            col(PracticeClaim.domain_matches).desc(),
            col(PracticeClaim.created_at),
            col(PracticeClaim.id),
        )
    ).all()
    return [
        ClaimView(
            id=claim.id,
            practice_id=practice.id,
            practice=practice.title,
            organisation=organisation.name,
            country=organisation.country,
            website=organisation.website or practice.website,
            claimant=user.display_name,
            username=user.username,
            email=user.email,
            role=claim.role,
            domain_matches=claim.domain_matches,
            created_at=claim.created_at,
        )
        for claim, practice, organisation, user in rows
    ]


def decide_claim(
    *, session: Session, actor: User, claim_id: int, approve: bool, note: str = ""
) -> PracticeClaim:
    """Approve a claim (the claimant becomes a member of the organisation) or reject it
    (coordinators, administrators), and e-mail the claimant. A claim is decided once:
    StateConflict says by whom."""
    require_role(actor, *COORDINATORS)
    note = " ".join(str(note or "").split())
    if len(note) > MAX_NOTE:
        raise FieldError(
            "note",
            _("write a note of at most {most} characters").format(most=format_number(MAX_NOTE)),
        )
    claim = db.get_for_update(session, PracticeClaim, claim_id)
    if claim is None:
        raise LookupError(_("no claim with id {id}").format(id=claim_id))
    if claim.status != "open":
        raise audit.conflict(session, "claim", claim.id, said=_(_CLAIM_NEWS[claim.status]))
    if claim.account_id == actor.id:
        raise PermissionDenied(_("Another coordinator decides your own claim."))
    if approve:
        _make_member(session, actor, claim)
    claim.status = DECISIONS[approve]
    claim.decided_by_id, claim.decided_at = actor.id, utcnow()
    claim.decision_note = note or None
    session.add(claim)
    audit.record(
        session, actor, f"claim.{claim.status}", "claim", claim.id,
        practice=claim.practice_id, account=claim.account_id, note=note,
    )  # fmt: skip
    if approve:
        audit.record(
            session, actor, "practice.claimed", "practice", claim.practice_id,
            account=claim.account_id, organisation=claim.organisation_id, claim=claim.id,
        )  # fmt: skip
    notifications.enqueue(
        session,
        kind="claim-decided",
        to=[session.get(User, claim.account_id)],
        context={
            "approved": approve,
            "practice_id": claim.practice_id,
            "practice_title": session.get(Practice, claim.practice_id).title,
            "organisation": session.get(Organisation, claim.organisation_id).name,
            "reason": note,
        },
    )
    return claim


def _make_member(session: Session, actor: User, claim: PracticeClaim) -> None:
    """The claimant joins the claimed practice's organisation; their requests to join end."""
    account = db.get_for_update(session, User, claim.account_id)
    if account.disabled:
        raise StateConflict(_("The claimant's account is disabled: reject the claim."))
    if organisations.acting_organisation(session, account) is not None:
        raise StateConflict(
            _("The claimant acts for another organisation by now: reject the claim.")
        )
    moment = utcnow()
    for request in session.exec(
        select(Membership).where(
            Membership.account_id == account.id, Membership.status == "pending"
        )
    ):
        request.status, request.decided_by_id, request.decided_at = "cancelled", actor.id, moment
        session.add(request)
    membership = Membership(
        organisation_id=claim.organisation_id,
        account_id=account.id,
        status="active",
        decided_by_id=actor.id,
        decided_at=moment,
    )
    account.organisation_id = claim.organisation_id
    session.add_all([membership, account])
    session.flush()
    audit.record(
        session, actor, "membership.claimed", "membership", membership.id,
        account=account.id, organisation=claim.organisation_id, claim=claim.id,
    )  # fmt: skip
