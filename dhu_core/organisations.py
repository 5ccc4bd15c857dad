"""Organisations and who acts for them: join requests, invitations and members.

An account acts for at most one organisation, the one of its active membership (mirrored in
`User.organisation_id`, which every permission check reads). A new account may create a new
organisation; joining an existing one takes an invitation from one of its members or the
approval of a member or a coordinator. Until then the account sees nothing of it that is not
public. Practices and needs belong to the organisation, never to one person.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from dhu_core import audit, db, geo, i18n, notifications, ratelimits, tokens
from dhu_core.accounts import OwnerRegistration, PermissionDenied, create_user, require_role
from dhu_core.i18n import _
from dhu_core.models import (
    EMAIL_RE,
    FieldError,
    Membership,
    Organisation,
    OrganisationCreate,
    Practice,
    StateConflict,
    User,
    utcnow,
)
from dhu_core.notifications import events

#: The organisation that holds the quick captures of a workshop: nobody can join it.
CAPTURE_ORGANISATION = "Workshop captures"
COORDINATORS = ("coordinator", "admin")
SIGNED_IN = ("owner", "coordinator", "admin")
INVITATION_DAYS = 7
INVITATION = "invitation"


def acting_organisation(session: Session, actor: User) -> int | None:
    """The organisation the actor is an active member of, read now from the memberships.

    Every change to an organisation's practices and needs asks this rather than the account
    object it was given, which may have been loaded before the member left.
    """
    require_role(actor)
    return session.scalar(
        select(Membership.organisation_id).where(
            Membership.account_id == actor.id, Membership.status == "active"
        )
    )


def require_member(session: Session, actor: User, organisation_id: int, refusal: str) -> None:
    """PermissionDenied(`refusal`) unless the actor is an active member of the organisation."""
    if acting_organisation(session, actor) != organisation_id:
        raise PermissionDenied(refusal)


def has_members(session: Session, organisation_id: int) -> bool:
    """Whether an enabled account acts for the organisation (is an active member of it)."""
    return (
        session.scalar(
            select(Membership.id)
            .join(User, User.id == Membership.account_id)
            .where(
                Membership.organisation_id == organisation_id,
                Membership.status == "active",
                col(User.disabled).is_(False),
            )
            .limit(1)
        )
        is not None
    )


def organisation_choices(*, engine: Engine | None = None) -> dict[int, str]:
    """Every organisation people can act for, as id -> "Name (CC)", sorted by name."""
    with db.read_scope(engine) as session:
        rows = session.execute(
            select(Organisation.id, Organisation.name, Organisation.country)
            .where(Organisation.name != CAPTURE_ORGANISATION)
            .order_by(Organisation.name, Organisation.country)
        ).all()
    return {row.id: f"{row.name} ({row.country})" for row in rows}


def create_organisation(*, session: Session, data: OrganisationCreate) -> Organisation:
    """A new organisation; FieldError when one of that name exists in that country."""
    db.lock_name(session, "organisation")
    existing = session.exec(
        select(Organisation).where(
            func.lower(Organisation.name) == data.name.lower(),
            Organisation.country == data.country,
        )
    ).first()
    if existing is not None or data.name.casefold() == CAPTURE_ORGANISATION.casefold():
        raise FieldError(
            "organisation_name",
            _(
                "an organisation of this name is registered in {country} already: choose it in "
                "the list to ask to join it"
            ).format(country=geo.country_name(data.country)),
        )
    organisation = Organisation.model_validate(data)
    session.add(organisation)
    session.flush()
    return organisation


# --- signing up --------------------------------------------------------------------------

#: Sign-ups from one client address: enough for a team registering together, too few to find
#: out which usernames and e-mail addresses exist (the form has to say when one is taken).
SIGN_UP_LIMIT = ratelimits.Limit("sign-up", uses=10, window=timedelta(hours=1))


@dataclass(frozen=True)
class Registration:
    """A new account and where it stands: a member at once, or waiting for approval."""

    user: User
    organisation: str
    status: str  # "active", "pending", or "claiming" (no organisation until a claim is approved)


def sign_up(
    *,
    data: OwnerRegistration,
    client: str,
    engine: Engine | None = None,
    now: datetime | None = None,
) -> Registration:
    """Self-registration of a practice owner; RateLimited after too many from one client.

    The attempt is counted in a transaction of its own, so that a refused registration (a
    name already taken) still counts.
    """
    with db.session_scope(engine) as session:
        ratelimits.use(session, SIGN_UP_LIMIT, client, now=now)
    with db.session_scope(engine) as session:
        return register_owner(session=session, data=data, now=now)


def register_owner(
    *, session: Session, data: OwnerRegistration, now: datetime | None = None
) -> Registration:
    """A new practice owner with a new organisation, a request to join one, an invitation, or
    none yet (`claiming`: the caller makes the claim)."""
    if data.invitation:
        try:
            view = invitation(session=session, token=data.invitation, now=now)
        except tokens.InvalidToken as error:
            raise FieldError("invitation", str(error)) from None
    organisation = None
    if data.organisation_name:
        organisation = create_organisation(
            session=session,
            data=OrganisationCreate(
                name=data.organisation_name,
                organisation_type=data.organisation_type,
                country=data.organisation_country,
            ),
        )
    user = create_user(
        session=session,
        username=data.username,
        password=data.password,
        role="owner",
        email=data.email,
        display_name=data.display_name,
        organisation_id=organisation.id if organisation else None,
        # The language of the sign-up page: the new account's e-mails are written in it.
        language=i18n.current(),
    )
    audit.record(session, user, "account.registered", "account", user.id)
    if data.invitation:
        accept_invitation(session=session, account=user, token=data.invitation, now=now)
        registration = Registration(user, view.organisation, "active")
    elif organisation is not None:
        audit.record(session, user, "organisation.created", "organisation", organisation.id)
        registration = Registration(user, organisation.name, "active")
    elif data.claiming:
        registration = Registration(user, "", "claiming")
    else:
        request_to_join(session=session, account=user, organisation_id=data.organisation_id)
        name = session.get(Organisation, data.organisation_id).name
        registration = Registration(user, name, "pending")
    events.account_registered(
        session,
        user,
        organisation=registration.organisation,
        pending=registration.status == "pending",
    )
    return registration


# --- asking to join ----------------------------------------------------------------------


def request_to_join(*, session: Session, account: User, organisation_id: int) -> Membership:
    """Ask to join an organisation; a member or a coordinator decides."""
    require_role(account)
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or organisation.name == CAPTURE_ORGANISATION:
        raise FieldError("organisation_id", _("choose an organisation from the list"))
    account = db.get_for_update(session, User, account.id)
    if account.organisation_id is not None:
        raise FieldError("organisation_id", _("your account acts for an organisation already"))
    pending = session.exec(
        select(Membership).where(
            Membership.account_id == account.id, Membership.status == "pending"
        )
    ).first()
    if pending is not None:
        raise FieldError("organisation_id", _("your request to join an organisation is waiting"))
    membership = Membership(
        organisation_id=organisation_id, account_id=account.id, status="pending"
    )
    session.add(membership)
    session.flush()
    audit.record(
        session, account, "membership.requested", "membership", membership.id,
        organisation=organisation_id,
    )  # fmt: skip
    return membership


@dataclass(frozen=True)
class JoinRequest:
    """Somebody asking to join an organisation, as the deciders see it."""

    id: int
    organisation_id: int
    organisation: str
    country: str
    username: str
    display_name: str
    email: str
    created_at: datetime


def join_requests(*, session: Session, actor: User) -> list[JoinRequest]:
    """Pending requests the actor may decide: to their organisation; for coordinators, all."""
    require_role(actor, *SIGNED_IN)
    query = (
        select(Membership, Organisation, User)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .join(User, User.id == Membership.account_id)
        .where(Membership.status == "pending")
        .order_by(col(Membership.created_at), col(Membership.id))
    )
    if actor.role not in COORDINATORS:
        if actor.organisation_id is None:
            return []
        query = query.where(Membership.organisation_id == actor.organisation_id)
    return [
        JoinRequest(
            id=m.id,
            organisation_id=o.id,
            organisation=o.name,
            country=o.country,
            username=u.username,
            display_name=u.display_name,
            email=u.email,
            created_at=m.created_at,
        )
        for m, o, u in session.execute(query).all()
    ]


def decide_request(
    *, session: Session, actor: User, membership_id: int, approve: bool
) -> Membership:
    """Approve or decline a request to join: a member of that organisation or a coordinator."""
    require_role(actor, *SIGNED_IN)
    membership = db.get_for_update(session, Membership, membership_id)
    if membership is None or membership.status == "invited":
        raise LookupError(_("no request to join with id {id}").format(id=membership_id))
    if actor.role not in COORDINATORS and actor.organisation_id != membership.organisation_id:
        raise PermissionDenied(_("Only members of the organisation and coordinators decide this."))
    if membership.status != "pending":
        raise audit.conflict(
            session, "membership", membership.id, "This request", membership.status
        )
    account = db.get_for_update(session, User, membership.account_id)
    if approve and account.organisation_id is not None:
        raise StateConflict(_("This person acts for another organisation by now."))
    membership.status = "active" if approve else "declined"
    membership.decided_by_id, membership.decided_at = actor.id, utcnow()
    if approve:
        account.organisation_id = membership.organisation_id
    session.add_all([membership, account])
    action = "membership.approved" if approve else "membership.declined"
    audit.record(
        session, actor, action, "membership", membership.id,
        account=account.id, organisation=membership.organisation_id,
    )  # fmt: skip
    return membership


# --- invitations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Invitation:
    """A new invitation and the token of its link (shown once, to the member who made it)."""

    membership: Membership
    token: str


def invite(*, session: Session, actor: User, email: str, now: datetime | None = None) -> Invitation:
    """A member invites a colleague to their organisation: a signed link valid for 7 days,
    e-mailed to the colleague (through the outbox, with this transaction)."""
    require_role(actor, *SIGNED_IN)
    if actor.organisation_id is None:
        raise PermissionDenied(_("Only members of an organisation invite colleagues to it."))
    address = " ".join(str(email or "").split()).lower()
    if len(address) > 254 or not EMAIL_RE.match(address):
        raise FieldError("email", _("enter an e-mail address such as name@example.org"))
    moment = now or utcnow()
    membership = Membership(
        organisation_id=actor.organisation_id,
        status="invited",
        email=address,
        invited_by_id=actor.id,
        created_at=moment,
        expires_at=moment + timedelta(days=INVITATION_DAYS),
    )
    session.add(membership)
    session.flush()
    audit.record(
        session, actor, "membership.invited", "membership", membership.id,
        organisation=actor.organisation_id,
    )  # fmt: skip
    token = tokens.make(INVITATION, membership.id, membership.expires_at)
    notifications.enqueue(
        session,
        kind="invitation",
        to=[address],
        context={
            "inviter": actor.display_name,
            "organisation": session.get(Organisation, actor.organisation_id).name,
            "expires": f"{membership.expires_at:%d %B %Y}",
            "expires_on": membership.expires_at.date().isoformat(),
            "token": token,
        },
        now=moment,
        # Whoever is invited has no account yet: the inviter's language is the best guess.
        language=i18n.current(),
    )
    return Invitation(membership, token)


@dataclass(frozen=True)
class InvitationView:
    """What an invitation link offers, shown before it is accepted."""

    organisation: str
    country: str
    invited_by: str
    expires_at: datetime


def invitation(*, session: Session, token: str, now: datetime | None = None) -> InvitationView:
    """The open invitation a token names; InvalidToken when forged, expired or used."""
    membership = _open_invitation(session, token, now=now, lock=False)
    organisation = session.get(Organisation, membership.organisation_id)
    inviter = session.get(User, membership.invited_by_id) if membership.invited_by_id else None
    return InvitationView(
        organisation=organisation.name,
        country=organisation.country,
        invited_by=inviter.display_name if inviter else _("a coordinator"),
        expires_at=membership.expires_at,
    )


def accept_invitation(
    *, session: Session, account: User, token: str, now: datetime | None = None
) -> Membership:
    """The signed-in (or just registered) account joins through an invitation; once only."""
    require_role(account)
    membership = _open_invitation(session, token, now=now, lock=True)
    account = db.get_for_update(session, User, account.id)
    if account.organisation_id is not None:
        raise FieldError("invitation", _("your account acts for an organisation already"))
    membership.account_id, membership.status = account.id, "active"
    membership.decided_at = now or utcnow()
    account.organisation_id = membership.organisation_id
    session.add_all([membership, account])
    audit.record(
        session, account, "membership.accepted", "membership", membership.id,
        organisation=membership.organisation_id,
    )  # fmt: skip
    return membership


def _open_invitation(
    session: Session, token: str, *, now: datetime | None, lock: bool
) -> Membership:
    moment = now or utcnow()
    membership_id = tokens.read(INVITATION, token, now=moment)
    get = db.get_for_update if lock else Session.get
    membership = get(session, Membership, membership_id)
    if membership is None or membership.status != "invited":
        raise tokens.InvalidToken(_("this invitation was used or withdrawn; ask for a new one"))
    if membership.expires_at is None or membership.expires_at < moment:
        raise tokens.InvalidToken(_("this invitation has expired; ask for a new one"))
    return membership


def withdraw_invitation(*, session: Session, actor: User, membership_id: int) -> Membership:
    """A member withdraws an invitation of their organisation that nobody has accepted."""
    require_role(actor, *SIGNED_IN)
    membership = db.get_for_update(session, Membership, membership_id)
    if membership is None or membership.organisation_id != actor.organisation_id:
        raise PermissionDenied(_("Only members of the organisation withdraw its invitations."))
    if membership.status != "invited":
        raise audit.conflict(session, "membership", membership.id, "This invitation", "used")
    membership.status, membership.decided_by_id = "cancelled", actor.id
    membership.decided_at = utcnow()
    session.add(membership)
    audit.record(session, actor, "membership.withdrawn", "membership", membership.id)
    return membership


# --- members -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """A member or an open invitation of an organisation, as its members see it."""

    membership_id: int
    account_id: int | None
    name: str
    email: str
    status: str
    since: datetime
    expires_at: datetime | None


def members(*, session: Session, actor: User, now: datetime | None = None) -> list[Member]:
    """The actor's organisation's members and open invitations (members only)."""
    require_role(actor, *SIGNED_IN)
    if actor.organisation_id is None:
        return []
    account = aliased(User)
    rows = session.execute(
        select(Membership, account)
        .outerjoin(account, account.id == Membership.account_id)
        .where(
            Membership.organisation_id == actor.organisation_id,
            or_(
                Membership.status == "active",
                (Membership.status == "invited") & (Membership.expires_at >= (now or utcnow())),
            ),
        )
        .order_by(col(Membership.status), col(Membership.created_at))
    ).all()
    return [
        Member(
            membership_id=m.id,
            account_id=m.account_id,
            name=user.display_name if user else "",
            email=user.email if user else m.email or "",
            status=m.status,
            since=m.decided_at or m.created_at,
            expires_at=m.expires_at if m.status == "invited" else None,
        )
        for m, user in rows
    ]


def pending_request(*, session: Session, account: User) -> JoinRequest | None:
    """The account's own request to join that is waiting, if any."""
    require_role(account)
    row = session.execute(
        select(Membership, Organisation)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.account_id == account.id, Membership.status == "pending")
    ).first()
    if row is None:
        return None
    membership, organisation = row
    return JoinRequest(
        id=membership.id,
        organisation_id=organisation.id,
        organisation=organisation.name,
        country=organisation.country,
        username=account.username,
        display_name=account.display_name,
        email=account.email,
        created_at=membership.created_at,
    )


# --- leaving -----------------------------------------------------------------------------


def leave(*, session: Session, actor: User, successor_id: int | None) -> Membership:
    """A member leaves the organisation, handing over to another member (`successor_id`, an
    account id): practices whose contact address was the leaver's get the successor's.

    The last member cannot leave (a disabled account does not count as a member): the
    organisation's practices and needs would have nobody to keep them. The organisation's
    active memberships are locked, in id order, so that two last members leaving at the same
    moment leave one of them.
    """
    require_role(actor, *SIGNED_IN)
    organisation_id = acting_organisation(session, actor)
    if organisation_id is None:
        raise StateConflict(_("Your account acts for no organisation (any more)."))
    active = session.scalars(
        select(Membership)
        .where(Membership.organisation_id == organisation_id, Membership.status == "active")
        .order_by(col(Membership.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    own = next((m for m in active if m.account_id == actor.id), None)
    if own is None:
        raise StateConflict(_("You have just left the organisation (in another window)."))
    others = {
        m.account_id: m
        for m in active
        if m is not own and not session.get(User, m.account_id).disabled
    }
    if not others:
        raise FieldError(
            "successor",
            _(
                "you are the last member: invite a colleague first; you can leave once they "
                "have accepted"
            ),
        )
    if successor_id not in others:
        raise FieldError("successor", _("choose the member who takes over from you"))
    account = db.get_for_update(session, User, actor.id)
    successor = session.get(User, successor_id)
    handed_over = session.scalars(
        select(Practice).where(
            Practice.owner_organisation_id == organisation_id,
            func.lower(Practice.contact_email) == account.email.lower(),
        )
    ).all()
    for practice in handed_over:
        practice.contact_email = successor.email
        session.add(practice)
    own.status, own.decided_by_id, own.decided_at = "left", actor.id, utcnow()
    account.organisation_id = None
    session.add_all([own, account])
    audit.record(
        session, actor, "membership.left", "membership", own.id,
        organisation=organisation_id, successor=successor_id,
        contact_handed_over=[p.id for p in handed_over],
    )  # fmt: skip
    return own
