"""The domain: SQLModel tables, and the input models that validate what users give.

One family per entity, as in the FastAPI template: `XBase` (shared fields) → `XCreate` /
`XUpdate` (validated input) → `X(table=True)` → `XPublic` (what leaves the core).
"""

import re
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ConfigDict, ValidationError, ValidationInfo, field_validator
from sqlalchemy import JSON, BigInteger, Column, Index, Integer, LargeBinary, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlmodel import Field, SQLModel

from dhu_core import geo, taxonomy
from dhu_core.i18n import DEFAULT, N_, _, current, format_number

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*\.[^\s]+$", re.IGNORECASE)
FIRST_YEAR = 1980


def utcnow() -> datetime:
    """Now, in UTC (SQLModel stores aware datetimes and returns them in UTC)."""
    return datetime.now(UTC)


def in_utc(moment: datetime) -> datetime:
    """A stored time in UTC: SQLite gives times back without their zone."""
    return moment.replace(tzinfo=moment.tzinfo or UTC)


class FieldError(ValueError):
    """A problem with one field that only the database can see (a name already taken…)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class StateConflict(Exception):
    """Someone else changed the record first; the message says what it is now and who did it."""


def field_errors(error: ValidationError | FieldError) -> dict[str, str]:
    """One plain message per field, for display next to that field."""
    if isinstance(error, FieldError):
        return {error.field: str(error)}
    messages: dict[str, str] = {}
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "form"
        message = item["msg"].removeprefix("Value error, ")
        messages.setdefault(name, message)
    return messages


# Control characters (other than tab and line breaks) cannot be stored by PostgreSQL or XLSX.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(text: str) -> str:
    if CONTROL_RE.search(text):
        raise ValueError(_("remove the invisible control characters from this text"))
    return text


def _text(value: Any, name: str, min_len: int, max_len: int) -> str:
    """`value` as one line of `min_len` to `max_len` characters; `name` (marked with `N_`) names
    the field in the messages, in the page's language."""
    text = _clean(" ".join(str(value or "").split()))
    if len(text) < min_len:
        raise ValueError(
            _("{name} needs at least {count} characters").format(name=_(name), count=min_len)
        )
    if len(text) > max_len:
        raise ValueError(
            _("{name} can have at most {most} characters (it has {count})").format(
                name=_(name), most=max_len, count=len(text)
            )
        )
    return text


def text_language(value: Any) -> str:
    """The ISO 639-1 code of the language a text is written in, given as a code or an English
    name; English when none is given."""
    if _optional(value) is None:
        return "en"
    try:
        return taxonomy.LANGUAGES.normalise(value)
    except ValueError:
        raise ValueError(_("choose the language the text is written in")) from None


def _optional(value: Any) -> str | None:
    text = _clean(str(value).strip()) if value is not None else ""
    return text or None


def _items(values: Any) -> list:
    """A list field's items, from a list or a `;`-separated text."""
    if values is None or values == "":
        return []
    if isinstance(values, str):
        return values.split(";")
    if isinstance(values, list | tuple | set | frozenset):
        return list(values)
    raise ValueError(_("give a list of codes"))


def _code_list(values: Any, code_list: taxonomy.CodeList) -> list[str]:
    codes = [code_list.normalise(v) for v in _items(values) if str(v).strip()]
    return list(dict.fromkeys(codes))


def _required(value: Any, message: str) -> Any:
    if value is None or value == []:
        raise ValueError(message)
    return value


#: The code list of each list field of the input models (a need's wanted types too).
FIELD_CODE_LISTS = {
    "practice_types": taxonomy.PRACTICE_TYPES,
    "health_domains": taxonomy.HEALTH_DOMAINS,
    "dhi_codes": taxonomy.DHI_CODES,
    "standards": taxonomy.STANDARDS,
    "languages": taxonomy.LANGUAGES,
}


def _codes_of_field(cls: type, v: Any, info: ValidationInfo) -> list[str]:
    """Validator of a list field: its codes, normalised, from the field's code list."""
    return _code_list(v, FIELD_CODE_LISTS[info.field_name])


def _email(value: Any) -> str | None:
    text = _optional(value)
    if text is not None and (len(text) > 254 or not EMAIL_RE.match(text)):
        raise ValueError(_("enter an e-mail address such as name@example.org"))
    return text


def _url(value: Any) -> str | None:
    text = _optional(value)
    if text is not None and (len(text) > 500 or not URL_RE.match(text)):
        raise ValueError(_("enter a web address starting with https:// or http://"))
    return text


# --- application state -------------------------------------------------------------------


class AppState(SQLModel, table=True):
    """One row: whether the data are demo data."""

    __tablename__ = "app_state"

    id: int = Field(default=1, primary_key=True)
    demo: bool = Field(default=False)


class DataChange(SQLModel, table=True):
    """One scope of data that one write transaction changed (see `dhu_core.changes`): an
    append-only log whose newest ids make the versions that cached reads are keyed by."""

    __tablename__ = "data_change"
    __table_args__ = (
        Index("ix_data_change_scope_id", "scope", "id"),
        # An id is never used twice, even after rows are pruned (SQLite would reuse them).
        {"sqlite_autoincrement": True},
    )

    #: 64 bits: the log starts at the clock's microseconds (see migration 0015).
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    )
    scope: str = Field(max_length=20)
    #: On a catalogue row, the ids of the practices whose facet values the transaction changed
    #: (space-separated; empty when none did); None when it is not known which (see
    #: `dhu_core.facet_index`).
    practices: str | None = Field(default=None, sa_type=Text)


# --- organisations -----------------------------------------------------------------------


class OrganisationBase(SQLModel):
    name: str = Field(max_length=200)
    organisation_type: str = Field(default="other", max_length=40)
    country: str = Field(max_length=2, index=True)
    city: str | None = Field(default=None, max_length=120)
    website: str | None = Field(default=None, max_length=500)


class OrganisationCreate(OrganisationBase):
    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, v: Any) -> str:
        return _text(v, N_("name"), 2, 200)

    @field_validator("organisation_type", mode="before")
    @classmethod
    def _type(cls, v: Any) -> str:
        return taxonomy.ORGANISATION_TYPES.normalise(v or "other")

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, v: Any) -> str:
        return geo.normalise_country(v)

    @field_validator("city", mode="before")
    @classmethod
    def _city(cls, v: Any) -> str | None:
        return _optional(v)

    @field_validator("website", mode="before")
    @classmethod
    def _website(cls, v: Any) -> str | None:
        return _url(v)


class Organisation(OrganisationBase, table=True):
    __table_args__ = (UniqueConstraint("name", "country", name="uq_organisation_name_country"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)


class OrganisationPublic(OrganisationBase):
    id: int


# --- accounts ----------------------------------------------------------------------------


class UserBase(SQLModel):
    username: str = Field(max_length=60, unique=True, index=True)
    display_name: str = Field(max_length=120)
    email: str = Field(max_length=254, unique=True)
    role: str = Field(default="owner", max_length=20)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")


class User(UserBase, table=True):
    """An account. Passwords are kept only as bcrypt hashes."""

    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=100)
    disabled: bool = Field(default=False)
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = Field(default=None)
    #: Set on logout, password change and disabling: sessions and cookies older stop working.
    sessions_valid_after: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = Field(default=None)
    #: The interface language the account chose last (its e-mails are written in it).
    language: str = Field(default="en", max_length=5)


class UserPublic(UserBase):
    id: int
    disabled: bool


class LoginThrottle(SQLModel, table=True):
    """Recent failed sign-ins for one username from one client address, and its lock.

    The row with client "*" counts the username's failures from every address together.
    """

    __tablename__ = "login_throttle"

    username: str = Field(max_length=60, primary_key=True)
    client: str = Field(max_length=64, primary_key=True)
    failures: int = Field(default=0)
    last_failed_at: datetime | None = Field(default=None)
    locked_until: datetime | None = Field(default=None)


class Membership(SQLModel, table=True):
    """An account's place in an organisation: asked for, invited, active, or ended.

    An account acts for at most one organisation, the one of its active membership (mirrored
    in `User.organisation_id`). Joining an existing organisation takes an invitation from one
    of its members or a coordinator's approval; until then the account sees nothing private.
    """

    __tablename__ = "membership"
    __table_args__ = (Index("ix_membership_organisation_status", "organisation_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")
    #: Empty for an invitation that nobody has accepted yet.
    account_id: int | None = Field(
        default=None, foreign_key="account.id", index=True, ondelete="CASCADE"
    )
    #: pending (asked to join), invited, active, declined, cancelled or left.
    status: str = Field(max_length=20)
    #: The address an invitation was made out to, as the inviting member typed it.
    email: str | None = Field(default=None, max_length=254)
    invited_by_id: int | None = Field(default=None, foreign_key="account.id")
    decided_by_id: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = Field(default=None)
    expires_at: datetime | None = Field(default=None)


class RateEvent(SQLModel, table=True):
    """One use of a rate-limited action (sign-up, quick capture) by one key (a client, an
    e-mail address), kept as a keyed hash so that no address is stored in clear."""

    __tablename__ = "rate_event"
    __table_args__ = (Index("ix_rate_event_bucket_key_at", "bucket", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    bucket: str = Field(max_length=40)
    key: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, index=True)


class PracticeClaim(SQLModel, table=True):
    """Somebody's claim to act for the organisation of a practice that has no member account.

    A coordinator approves it (the claimant becomes a member) or rejects it; either is final.
    """

    __tablename__ = "practice_claim"
    __table_args__ = (
        # One open claim per account and practice; a decided one may be followed by a new one.
        Index(
            "uq_practice_claim_open",
            "practice_id",
            "account_id",
            unique=True,
            sqlite_where=sql_text("status = 'open'"),
            postgresql_where=sql_text("status = 'open'"),
        ),
        Index("ix_practice_claim_status_created", "status", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", ondelete="CASCADE")
    #: The practice's organisation when the claim was made: the one the claimant joins.
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    #: What the claimant says they do in the organisation, as typed (validated by ClaimCreate).
    role: str = Field(max_length=200)
    #: The claimant's e-mail address is at the organisation's web domain: likely genuine.
    domain_matches: bool = Field(default=False)
    #: open, approved or rejected.
    status: str = Field(default="open", max_length=20)
    created_at: datetime = Field(default_factory=utcnow)
    decided_by_id: int | None = Field(default=None, foreign_key="account.id")
    decided_at: datetime | None = Field(default=None)
    decision_note: str | None = Field(default=None, sa_type=Text)


class ClaimCreate(SQLModel):
    """A claim as the claimant makes it: which practice, and their role in its organisation."""

    practice_id: int
    role: str

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, v: Any) -> str:
        text = _text(v, N_("your role"), 3, 200)
        if not re.search(r"[^\W\d_]", text):
            raise ValueError(
                _("say in words what you do there, such as 'head of digital services'")
            )
        return text


# --- practices ---------------------------------------------------------------------------


class PracticeBase(SQLModel):
    title: str = Field(max_length=200)
    #: The language its title and texts are written in (ISO 639-1): content stays in it, and a
    #: reader of another interface language sees a badge that says which it is.
    text_language: str = Field(default="en", max_length=5)
    summary: str = Field(default="", max_length=500)
    description: str | None = Field(default=None, sa_type=Text)
    #: Empty only in drafts: a practice is submitted, and so published, only when complete.
    practice_type: str | None = Field(default=None, max_length=20)
    maturity: int | None = Field(default=None, ge=1, le=5)
    start_year: int | None = Field(default=None)
    evidence: str | None = Field(default=None, sa_type=Text)
    licence: str | None = Field(default=None, max_length=200)
    transferable: bool | None = Field(default=None)
    support_offered: str | None = Field(default=None, sa_type=Text)
    #: How many twinnings the originator can support at the same time.
    transfer_capacity: int = Field(default=1, ge=0, le=50)
    website: str | None = Field(default=None, max_length=500)
    contact_email: str | None = Field(default=None, max_length=254)


class PracticeDraft(PracticeBase):
    """A practice as typed so far: only the title is required; whatever is given is checked."""

    countries: list[str] = []
    health_domains: list[str] = []
    dhi_codes: list[str] = []
    standards: list[str] = []
    languages: list[str] = []

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, v: Any) -> str:
        return _text(v, N_("title"), 3, 200)

    @field_validator("summary", mode="before")
    @classmethod
    def _summary(cls, v: Any) -> str:
        return _text(v, N_("summary"), 10, 500) if _optional(v) else ""

    @field_validator("text_language", mode="before")
    @classmethod
    def _text_language(cls, v: Any) -> str:
        return text_language(v)

    @field_validator("description", "evidence", "support_offered", "licence", mode="before")
    @classmethod
    def _free_text(cls, v: Any) -> str | None:
        text = _optional(v)
        if text is not None and len(text) > 20_000:
            raise ValueError(_("this text can have at most 20,000 characters"))
        return text

    @field_validator("practice_type", mode="before")
    @classmethod
    def _type(cls, v: Any) -> str | None:
        return taxonomy.PRACTICE_TYPES.normalise(v) if _optional(v) else None

    @field_validator("maturity", mode="before")
    @classmethod
    def _maturity(cls, v: Any) -> int | None:
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if _optional(v) is None:
            return None
        try:
            return taxonomy.MATURITY_LEVELS.normalise(v)
        except ValueError:
            raise ValueError(
                _(
                    "the maturity level is 1 (concept), 2 (pilot), 3 (deployed), 4 (scaled) "
                    "or 5 (cross-border), not '{value}'"
                ).format(value=v)
            ) from None

    @field_validator("start_year", mode="before")
    @classmethod
    def _start_year(cls, v: Any) -> int | None:
        if v is None or str(v).strip() == "":
            return None
        try:
            number = float(str(v).strip())
            if not number.is_integer():
                raise ValueError
            year = int(number)
        except (ValueError, OverflowError):
            raise ValueError(_("enter the start year as four digits, such as 2021")) from None
        if not FIRST_YEAR <= year <= utcnow().year:
            raise ValueError(
                _("the start year must lie between {first} and {last}").format(
                    first=FIRST_YEAR, last=utcnow().year
                )
            )
        return year

    @field_validator("transferable", mode="before")
    @classmethod
    def _transferable(cls, v: Any) -> bool | None:
        if v is None or isinstance(v, bool):
            return v
        text = str(v).strip().casefold()
        if text in ("", "unknown"):
            return None
        if text in ("yes", "y", "true", "1"):
            return True
        if text in ("no", "n", "false", "0"):
            return False
        raise ValueError(_("answer yes, no, or leave it empty"))

    @field_validator("website", mode="before")
    @classmethod
    def _website(cls, v: Any) -> str | None:
        return _url(v)

    @field_validator("contact_email", mode="before")
    @classmethod
    def _contact_email(cls, v: Any) -> str | None:
        return _email(v)

    @field_validator("countries", mode="before")
    @classmethod
    def _countries(cls, v: Any) -> list[str]:
        return list(dict.fromkeys(geo.normalise_country(c) for c in _items(v) if str(c).strip()))

    _code_lists = field_validator(
        "health_domains", "dhi_codes", "standards", "languages", mode="before"
    )(_codes_of_field)


class PracticeCreate(PracticeDraft):
    """A complete practice, ready for review (or an import row): the required fields given."""

    # Missing fields then get the validators' plain messages rather than "Field required".
    model_config = ConfigDict(validate_default=True)

    summary: str = Field(default="", max_length=500)
    practice_type: str = Field(default=None, max_length=20)
    maturity: int = Field(default=None, ge=1, le=5)

    @field_validator("summary", mode="before")
    @classmethod
    def _summary(cls, v: Any) -> str:
        return _text(v, N_("summary"), 10, 500)

    @field_validator("practice_type", mode="before")
    @classmethod
    def _type(cls, v: Any) -> str:
        return _required(PracticeDraft._type(v), _("choose the type of practice"))

    @field_validator("maturity", mode="before")
    @classmethod
    def _maturity(cls, v: Any) -> int:
        return _required(PracticeDraft._maturity(v), _("choose the maturity level"))

    @field_validator("countries", mode="before")
    @classmethod
    def _countries(cls, v: Any) -> list[str]:
        return _required(
            PracticeDraft._countries(v), _("name at least one country where it is deployed")
        )


class PracticeUpdate(PracticeCreate):
    """An edit of a practice going to review: the whole, complete form."""


class Practice(PracticeBase, table=True):
    __table_args__ = (
        Index("ix_practice_status_maturity", "status", "maturity"),
        Index("ix_practice_status_type", "status", "practice_type"),
        Index("ix_practice_created_at", "created_at"),
        # The catalogue's default order (newest first) reads the page straight off this index.
        Index("ix_practice_status_published", "status", "published_at", "id"),
        # The freshness pass finds the practices due for a reminder or archiving on this index.
        Index("ix_practice_status_confirmed", "status", "last_confirmed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_organisation_id: int = Field(foreign_key="organisation.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="account.id")
    status: str = Field(default="draft", max_length=20)
    rejection_reason: str | None = Field(default=None, sa_type=Text)
    featured: bool = Field(default=False)
    featured_analysis: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    published_at: datetime | None = Field(default=None)
    #: When the practice was last known to be current: its publication, an approved edit, or
    #: its organisation or a coordinator confirming it (see `dhu_core.freshness`).
    last_confirmed_at: datetime | None = Field(default=None)
    #: When its organisation was last reminded to confirm it (a reminder older than the last
    #: confirmation is spent).
    freshness_reminded_at: datetime | None = Field(default=None)
    #: When it was archived for want of confirmation; empty while it is listed.
    archived_at: datetime | None = Field(default=None)


#: The status of a *listed* practice, one found in the catalogue, counted on the uptake map,
#: suggested for twinning, shown as similar and exported. The one definition every query of
#: published practices uses: drafts and submitted practices are not listed yet, archived ones
#: (not confirmed for too long) no longer, until their owner confirms them again.
LISTED_STATUS = "published"
#: `LISTED_STATUS` as a condition on `Practice`, for queries.
LISTED = Practice.status == LISTED_STATUS
#: Statuses whose practices open by their address (`/radar?practice=ID`): an archived one
#: opens with a notice that it is archived.
VISIBLE_STATUSES = (LISTED_STATUS, "archived")


def is_listed(status: str | None) -> bool:
    """True for the status of a listed practice (see `LISTED_STATUS`)."""
    return status == LISTED_STATUS


class PracticeViewDay(SQLModel, table=True):
    """How often a practice's detail page was opened on one day (UTC) by people outside its
    organisation: one counter row per practice and day, not one row per view."""

    __tablename__ = "practice_view_day"

    practice_id: int = Field(foreign_key="practice.id", primary_key=True, ondelete="CASCADE")
    day: date = Field(primary_key=True)
    views: int = Field(default=0)


class PracticeRevision(SQLModel, table=True):
    """An owner's edit of a published practice, waiting for review; the practice stays as is."""

    __tablename__ = "practice_revision"

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True, ondelete="CASCADE")
    #: The complete edited form (PracticeUpdate as JSON).
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    status: str = Field(default="pending", max_length=20, index=True)
    submitted_by_id: int | None = Field(default=None, foreign_key="account.id")
    submitted_at: datetime = Field(default_factory=utcnow)
    decided_by_id: int | None = Field(default=None, foreign_key="account.id")
    decided_at: datetime | None = Field(default=None)
    rejection_reason: str | None = Field(default=None, sa_type=Text)


class PracticeCountry(SQLModel, table=True):
    """A deployment of a practice in a country, optionally in a region and at a scale."""

    __tablename__ = "practice_country"
    __table_args__ = (Index("ix_practice_country_country", "country", "practice_id"),)

    practice_id: int = Field(foreign_key="practice.id", primary_key=True, ondelete="CASCADE")
    country: str = Field(max_length=2, primary_key=True)
    region: str | None = Field(default=None, max_length=120)
    scale: str | None = Field(default=None, max_length=40)


class PracticeTag(SQLModel, table=True):
    """One code of a practice's code lists: kind is domain, dhi, standard or language."""

    __tablename__ = "practice_tag"
    __table_args__ = (Index("ix_practice_tag_kind_code", "kind", "code", "practice_id"),)

    practice_id: int = Field(foreign_key="practice.id", primary_key=True, ondelete="CASCADE")
    kind: str = Field(max_length=12, primary_key=True)
    code: str = Field(max_length=20, primary_key=True)


#: The list fields of a practice's input models (deployments and tags).
PRACTICE_LIST_FIELDS = ("countries", "health_domains", "dhi_codes", "standards", "languages")

#: The tag kinds of a practice and the input field each comes from.
PRACTICE_TAG_FIELDS = {
    "domain": "health_domains",
    "dhi": "dhi_codes",
    "standard": "standards",
    "language": "languages",
}


class PracticePublic(PracticeBase):
    """A practice as the catalogue shows it, with its organisation and code lists."""

    id: int
    status: str
    owner_organisation_id: int
    owner_organisation: str
    owner_country: str
    countries: list[str] = []
    health_domains: list[str] = []
    dhi_codes: list[str] = []
    standards: list[str] = []
    languages: list[str] = []
    featured: bool = False
    featured_analysis: str | None = None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None
    last_confirmed_at: datetime | None = None
    archived_at: datetime | None = None


# --- twinning ----------------------------------------------------------------------------


class TwinningNeedBase(SQLModel):
    problem_statement: str = Field(sa_type=Text)
    country: str = Field(max_length=2)
    twinning_type: str = Field(default="knowledge-exchange", max_length=30)
    timeline: str | None = Field(default=None, max_length=200)


class TwinningNeedCreate(TwinningNeedBase):
    practice_types: list[str] = []
    health_domains: list[str] = []
    dhi_codes: list[str] = []
    languages: list[str] = []
    standards: list[str] = []

    @field_validator("problem_statement", mode="before")
    @classmethod
    def _problem(cls, v: Any) -> str:
        return _text(v, N_("problem statement"), 20, 5000)

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, v: Any) -> str:
        return geo.normalise_country(_required(_optional(v), _("choose the country")))

    @field_validator("twinning_type", mode="before")
    @classmethod
    def _twinning_type(cls, v: Any) -> str:
        return taxonomy.TWINNING_TYPES.normalise(v)

    @field_validator("timeline", mode="before")
    @classmethod
    def _timeline(cls, v: Any) -> str | None:
        return _optional(v)

    _code_lists = field_validator(
        "practice_types", "health_domains", "dhi_codes", "standards", "languages", mode="before"
    )(_codes_of_field)


class TwinningNeed(TwinningNeedBase, table=True):
    """What an adopter institution wants to take up."""

    __tablename__ = "twinning_need"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="account.id")
    status: str = Field(default="open", max_length=20)
    created_at: datetime = Field(default_factory=utcnow)


class NeedTag(SQLModel, table=True):
    """One code of a need: kind is type, domain, dhi, language or standard."""

    __tablename__ = "need_tag"

    need_id: int = Field(foreign_key="twinning_need.id", primary_key=True, ondelete="CASCADE")
    kind: str = Field(max_length=12, primary_key=True)
    code: str = Field(max_length=20, primary_key=True)


#: The tag kinds of a need and the input field each comes from.
NEED_TAG_FIELDS = {
    "type": "practice_types",
    "domain": "health_domains",
    "dhi": "dhi_codes",
    "language": "languages",
    "standard": "standards",
}


class TwinningMatch(SQLModel, table=True):
    """A need paired with a practice: score, per-criterion breakdown and twinning status."""

    __tablename__ = "twinning_match"
    __table_args__ = (UniqueConstraint("need_id", "practice_id", name="uq_match_need_practice"),)

    id: int | None = Field(default=None, primary_key=True)
    need_id: int = Field(foreign_key="twinning_need.id", index=True, ondelete="CASCADE")
    practice_id: int = Field(foreign_key="practice.id", index=True, ondelete="CASCADE")
    score: float = Field(default=0.0)
    breakdown: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON))
    status: str = Field(default="suggested", max_length=20, index=True)
    notes: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


# --- twinning calls ----------------------------------------------------------------------

#: The one currency grants are given in, for now.
CALL_CURRENCY = "EUR"


class CallCriterion(SQLModel):
    """One evaluation criterion of a call: what is judged, its weight, and how to score it."""

    name: str
    weight: float
    guidance: str = ""

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, v: Any) -> str:
        return _text(v, N_("criterion"), 3, 200)

    @field_validator("weight")
    @classmethod
    def _weight(cls, v: float) -> float:
        if not 0 < v <= 100:
            raise ValueError(_("give each criterion a weight above 0 and at most 100"))
        return v

    @field_validator("guidance", mode="before")
    @classmethod
    def _guidance(cls, v: Any) -> str:
        return _clean(str(v or "").replace("\r\n", "\n").strip())[:2000]


class CallBase(SQLModel):
    title: str = Field(max_length=200)
    description: str = Field(sa_type=Text)
    min_maturity: int | None = Field(default=None, ge=1, le=5)
    places: int = Field(ge=1, le=500)
    grant_per_place: int = Field(ge=0, le=10_000_000)
    currency: str = Field(default=CALL_CURRENCY, max_length=3)
    opens_at: datetime
    closes_at: datetime
    #: True when nobody may evaluate an application from their own country.
    exclude_same_country: bool = Field(default=False)


class CallCreate(CallBase):
    """A call as a coordinator writes it: its rules, places, grant, dates and criteria."""

    countries: list[str] = []
    practice_types: list[str] = []
    criteria: list[CallCriterion] = []

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, v: Any) -> str:
        return _text(v, N_("title"), 5, 200)

    @field_validator("description", mode="before")
    @classmethod
    def _description(cls, v: Any) -> str:
        text = _clean(str(v or "").replace("\r\n", "\n").strip())
        if len(text) < 20:
            raise ValueError(_("describe the call in at least 20 characters"))
        if len(text) > 20_000:
            raise ValueError(
                _("the description can have at most {most} characters ({count})").format(
                    most=format_number(20_000), count=format_number(len(text))
                )
            )
        return text

    @field_validator("countries", mode="before")
    @classmethod
    def _countries(cls, v: Any) -> list[str]:
        return list(dict.fromkeys(geo.normalise_country(c) for c in _items(v) if str(c).strip()))

    @field_validator("practice_types", mode="before")
    @classmethod
    def _practice_types(cls, v: Any) -> list[str]:
        return _code_list(v, taxonomy.PRACTICE_TYPES)

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, v: Any) -> str:
        if str(v or CALL_CURRENCY).upper() != CALL_CURRENCY:
            raise ValueError(_("grants are given in {currency}").format(currency=CALL_CURRENCY))
        return CALL_CURRENCY

    @field_validator("opens_at", "closes_at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError(_("give the time in UTC"))
        return v.astimezone(UTC)

    @field_validator("closes_at")
    @classmethod
    def _after_opening(cls, v: datetime, info: ValidationInfo) -> datetime:
        opens = info.data.get("opens_at")
        if opens is not None and v <= opens:
            raise ValueError(_("the call closes after it opens"))
        return v

    @field_validator("criteria")
    @classmethod
    def _criteria(cls, v: list[CallCriterion]) -> list[CallCriterion]:
        if not v:
            raise ValueError(_("give at least one evaluation criterion"))
        if len(v) > 20:
            raise ValueError(_("give at most 20 evaluation criteria"))
        if len({c.name.casefold() for c in v}) < len(v):
            raise ValueError(_("give each criterion a different name"))
        return v


class Call(CallBase, table=True):
    """A twinning call: a draft until a coordinator publishes it, then public.

    Rules and criteria are kept as JSON lists: they are read with the call, never queried.
    """

    __tablename__ = "twinning_call"

    id: int | None = Field(default=None, primary_key=True)
    countries: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    practice_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    criteria: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    status: str = Field(default="draft", max_length=20, index=True)
    created_by_id: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    published_at: datetime | None = Field(default=None)
    awarded_at: datetime | None = Field(default=None)


class CallPublic(CallBase):
    """A call as pages show it, with its times in UTC."""

    id: int
    status: str
    countries: list[str] = []
    practice_types: list[str] = []
    criteria: list[CallCriterion] = []
    published_at: datetime | None = None
    awarded_at: datetime | None = None

    @field_validator("opens_at", "closes_at", "published_at", "awarded_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        return None if v is None else in_utc(v)


class CallApplication(SQLModel, table=True):
    """An adopter organisation's application to a call with one of its needs: a draft (kept
    as typed) or submitted, one per organisation and call."""

    __tablename__ = "call_application"
    __table_args__ = (
        UniqueConstraint("call_id", "organisation_id", name="uq_call_application_organisation"),
    )

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="twinning_call.id", index=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")
    need_id: int = Field(foreign_key="twinning_need.id", ondelete="CASCADE")
    motivation: str = Field(default="", sa_type=Text)
    status: str = Field(default="draft", max_length=20)
    created_by_id: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = Field(default=None)


class CallApplicationPractice(SQLModel, table=True):
    """A practice an application prefers, and its originator's answer: pending, confirmed or
    declined."""

    __tablename__ = "call_application_practice"

    application_id: int = Field(
        foreign_key="call_application.id", primary_key=True, ondelete="CASCADE"
    )
    practice_id: int = Field(foreign_key="practice.id", primary_key=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    status: str = Field(default="pending", max_length=20)
    decided_by_id: int | None = Field(default=None, foreign_key="account.id")
    decided_at: datetime | None = Field(default=None)


class ApplicationDraft(SQLModel):
    """An application as typed: the need, the preferred practices and a motivation."""

    need_id: int
    practice_ids: list[int] = []
    motivation: str = ""

    @field_validator("practice_ids")
    @classmethod
    def _practices(cls, v: list[int]) -> list[int]:
        ids = list(dict.fromkeys(v))
        if len(ids) > 5:
            raise ValueError(_("choose at most 5 practices"))
        return ids

    @field_validator("motivation", mode="before")
    @classmethod
    def _motivation(cls, v: Any) -> str:
        text = _clean(str(v or "").replace("\r\n", "\n").strip())
        if len(text) > 5000:
            raise ValueError(
                _("the motivation can have at most {most} characters ({count})").format(
                    most=format_number(5000), count=format_number(len(text))
                )
            )
        return text


# --- evaluating and awarding a call ------------------------------------------------------

#: The lowest and highest score an evaluator gives a criterion.
SCORE_RANGE = (0, 5)
#: An application's outcome once its call is awarded.
AWARD_OUTCOMES = ("awarded", "reserve", "not-awarded")


class CallAssignment(SQLModel, table=True):
    """An application given to an evaluator: `assigned` until the evaluator submits every
    criterion's score, then `submitted`."""

    __tablename__ = "call_assignment"

    application_id: int = Field(
        foreign_key="call_application.id", primary_key=True, ondelete="CASCADE"
    )
    evaluator_id: int = Field(foreign_key="account.id", primary_key=True, ondelete="CASCADE")
    status: str = Field(default="assigned", max_length=20)
    assigned_by_id: int | None = Field(default=None, foreign_key="account.id")
    assigned_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = Field(default=None)


class CallConflict(SQLModel, table=True):
    """A conflict of interest an evaluator declares on an application: they never see or
    score it."""

    __tablename__ = "call_conflict"

    application_id: int = Field(
        foreign_key="call_application.id", primary_key=True, ondelete="CASCADE"
    )
    evaluator_id: int = Field(foreign_key="account.id", primary_key=True, ondelete="CASCADE")
    reason: str = Field(default="", sa_type=Text)
    declared_at: datetime = Field(default_factory=utcnow)


class CallScore(SQLModel, table=True):
    """One evaluator's score of one criterion of an application, with a comment."""

    __tablename__ = "call_score"

    application_id: int = Field(
        foreign_key="call_application.id", primary_key=True, ondelete="CASCADE"
    )
    evaluator_id: int = Field(foreign_key="account.id", primary_key=True, ondelete="CASCADE")
    criterion: str = Field(primary_key=True, max_length=200)
    score: int
    comment: str = Field(default="", sa_type=Text)
    updated_at: datetime = Field(default_factory=utcnow)


class CallConsensus(SQLModel, table=True):
    """The agreed score of an application: per criterion `{name: {"score", "comment"}}`, the
    weighted total on a 0-100 scale, and a version compared on every change."""

    __tablename__ = "call_consensus"

    application_id: int = Field(
        foreign_key="call_application.id", primary_key=True, ondelete="CASCADE"
    )
    scores: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    total: float = Field(default=0.0)
    comment: str = Field(default="", sa_type=Text)
    decided_by_id: int | None = Field(default=None, foreign_key="account.id")
    decided_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1)


class CallAward(SQLModel, table=True):
    """An application's outcome once its call is awarded: `awarded` with the twinning it
    started (a `TwinningMatch`), `reserve` with its place on the reserve list, or
    `not-awarded`."""

    __tablename__ = "call_award"

    application_id: int = Field(
        foreign_key="call_application.id", primary_key=True, ondelete="CASCADE"
    )
    call_id: int = Field(foreign_key="twinning_call.id", index=True, ondelete="CASCADE")
    outcome: str = Field(max_length=20)
    rank: int | None = Field(default=None)
    reserve_position: int | None = Field(default=None)
    practice_id: int | None = Field(default=None, foreign_key="practice.id", ondelete="SET NULL")
    match_id: int | None = Field(
        default=None, foreign_key="twinning_match.id", index=True, ondelete="SET NULL"
    )
    grant: int = Field(default=0)
    decided_by_id: int | None = Field(default=None, foreign_key="account.id")
    decided_at: datetime = Field(default_factory=utcnow)


# --- following a twinning ----------------------------------------------------------------


class Milestone(SQLModel, table=True):
    """A milestone of a twinning's work plan: when it is due, when the pair did it, and a
    version compared on every change."""

    __tablename__ = "twinning_milestone"
    __table_args__ = (UniqueConstraint("match_id", "kind", name="uq_milestone_match_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="twinning_match.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)
    due_on: date
    done_on: date | None = Field(default=None)
    note: str = Field(default="", sa_type=Text)
    version: int = Field(default=1)
    updated_at: datetime = Field(default_factory=utcnow)


def _long_text(value: Any, name: str, min_len: int, max_len: int) -> str:
    """Free text with its paragraphs kept, between `min_len` and `max_len` characters; `name`
    names the field in the messages, in the page's language."""
    text = _clean(str(value or "").replace("\r\n", "\n").strip())
    if len(text) < min_len:
        raise ValueError(
            _("{name} needs at least {count} characters").format(name=_(name), count=min_len)
        )
    if len(text) > max_len:
        raise ValueError(
            _("{name} can have at most {most} characters (it has {count})").format(
                name=_(name), most=format_number(max_len), count=format_number(len(text))
            )
        )
    return text


class AssistanceBase(SQLModel):
    held_on: date
    topic: str = Field(max_length=200)
    hours: float = Field(gt=0, le=100)
    notes: str = Field(default="", sa_type=Text)


class AssistanceInput(AssistanceBase):
    """A technical-assistance session as a coordinator logs it."""

    @field_validator("topic", mode="before")
    @classmethod
    def _topic(cls, v: Any) -> str:
        return _text(v, N_("the topic"), 3, 200)

    @field_validator("notes", mode="before")
    @classmethod
    def _notes(cls, v: Any) -> str:
        return _long_text(v, N_("the notes"), 0, 5000)


class AssistanceSession(AssistanceBase, table=True):
    """A technical-assistance session a coordinator held with the pair of a twinning."""

    __tablename__ = "twinning_assistance"

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="twinning_match.id", index=True, ondelete="CASCADE")
    logged_by_id: int | None = Field(default=None, foreign_key="account.id")
    logged_at: datetime = Field(default_factory=utcnow)


class TwinningReport(SQLModel, table=True):
    """A progress or final report of a twinning, PDF or plain text, kept in the database: it
    is written in the transaction of its audit event, backed up with the rest, and read by
    every process behind a load balancer, which a file under one server's data folder is not."""

    __tablename__ = "twinning_report"

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="twinning_match.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)
    filename: str = Field(max_length=120)
    content_type: str = Field(max_length=40)
    size: int
    content: bytes = Field(sa_type=LargeBinary)
    uploaded_by_id: int | None = Field(default=None, foreign_key="account.id")
    uploaded_at: datetime = Field(default_factory=utcnow)


#: The parts of a lessons-learned case, with the labels pages give them, in order.
LESSONS_PARTS = {
    "context": N_("Context"),
    "transferred": N_("What was transferred"),
    "adapted": N_("What had to be adapted"),
    "barriers": N_("Barriers"),
    "costs": N_("Costs"),
    "outcome": N_("Outcome"),
}
LESSONS_LIMITS = (20, 5000)


class LessonsBase(SQLModel):
    context: str = Field(sa_type=Text)
    transferred: str = Field(sa_type=Text)
    adapted: str = Field(sa_type=Text)
    barriers: str = Field(sa_type=Text)
    costs: str = Field(sa_type=Text)
    outcome: str = Field(sa_type=Text)


class LessonsInput(LessonsBase):
    """A lessons-learned case as the pair or a coordinator writes it."""

    @field_validator(*LESSONS_PARTS, mode="before")
    @classmethod
    def _part(cls, v: Any, info: ValidationInfo) -> str:
        # The part's heading in the language's quotes; in small letters in English ("“context”
        # needs …").
        name = _(LESSONS_PARTS[info.field_name])
        name = name.lower() if current() == DEFAULT else name
        return _long_text(v, _("“{name}”").format(name=name), *LESSONS_LIMITS)


class LessonsCase(LessonsBase, table=True):
    """The lessons learned from a twinning: a draft until a coordinator publishes it to the
    knowledge community."""

    __tablename__ = "lessons_case"

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="twinning_match.id", unique=True, ondelete="CASCADE")
    status: str = Field(default="draft", max_length=20)
    written_by_id: int | None = Field(default=None, foreign_key="account.id")
    updated_at: datetime = Field(default_factory=utcnow)
    published_at: datetime | None = Field(default=None)
    published_by_id: int | None = Field(default=None, foreign_key="account.id")
    version: int = Field(default=1)


# --- knowledge ---------------------------------------------------------------------------


class DigestBase(SQLModel):
    title: str = Field(max_length=200)
    body: str = Field(sa_type=Text)
    #: The language it is written in (ISO 639-1), as for a practice's `text_language`.
    language: str = Field(default="en", max_length=5)


class DigestCreate(DigestBase):
    topics: list[str] = []
    practice_ids: list[int] = []

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, v: Any) -> str:
        return _text(v, N_("title"), 3, 200)

    @field_validator("body", mode="before")
    @classmethod
    def _body(cls, v: Any) -> str:
        text = str(v or "").strip()
        if len(text) < 20:
            raise ValueError(_("the digest needs at least 20 characters of text"))
        return text

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, v: Any) -> str:
        return text_language(v)

    @field_validator("topics", mode="before")
    @classmethod
    def _topics(cls, v: Any) -> list[str]:
        if isinstance(v, str):
            v = v.split(";")
        return list(dict.fromkeys(str(t).strip().lower() for t in v or [] if str(t).strip()))


class Digest(DigestBase, table=True):
    """A plain-language summary on a priority topic, in Markdown."""

    id: int | None = Field(default=None, primary_key=True)
    author_id: int | None = Field(default=None, foreign_key="account.id")
    status: str = Field(default="draft", max_length=20)
    created_at: datetime = Field(default_factory=utcnow)
    published_at: datetime | None = Field(default=None)


class DigestTopic(SQLModel, table=True):
    __tablename__ = "digest_topic"

    digest_id: int = Field(foreign_key="digest.id", primary_key=True, ondelete="CASCADE")
    topic: str = Field(max_length=60, primary_key=True, index=True)


class DigestPractice(SQLModel, table=True):
    __tablename__ = "digest_practice"

    digest_id: int = Field(foreign_key="digest.id", primary_key=True, ondelete="CASCADE")
    practice_id: int = Field(foreign_key="practice.id", primary_key=True, ondelete="CASCADE")


# --- e-mail notifications ----------------------------------------------------------------


class OutboxMessage(SQLModel, table=True):
    """An e-mail to send, written in the same transaction as the change it reports.

    status: `pending` (to send at `due_at`), `weekly` (held for the recipient's weekly digest),
    `sending` (claimed by a delivery step), `sent`, `digested` (sent within digest
    `digest_id`), `failed` (given up after the last attempt) or `unknown` (a delivery step
    stopped between claiming it and recording the outcome; never sent again on its own).
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_status_due", "status", "due_at"),
        UniqueConstraint("dedupe_key", "recipient", name="uq_outbox_message_dedupe"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    #: The e-mail address, as it was when the message was written.
    recipient: str = Field(max_length=254, index=True)
    account_id: int | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    subject: str = Field(max_length=300)
    #: What the message templates of `kind` are filled with (JSON: names, ids, reasons).
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    #: The language the message is written in: its recipient's, when it was written.
    language: str = Field(default="en", max_length=5)
    #: The same key and recipient make one message only (a reminder job run twice a day).
    dedupe_key: str | None = Field(default=None, max_length=200)
    status: str = Field(default="pending", max_length=20)
    due_at: datetime = Field(default_factory=utcnow)
    attempts: int = Field(default=0)
    #: The delivery step that claimed it (one id per batch) and when; see delivery.recover.
    claim: str | None = Field(default=None, max_length=32, index=True)
    claimed_at: datetime | None = Field(default=None)
    last_error: str | None = Field(default=None, sa_type=Text)
    sent_at: datetime | None = Field(default=None)
    digest_id: int | None = Field(default=None, foreign_key="outbox_message.id")
    created_at: datetime = Field(default_factory=utcnow)


class NotificationPreference(SQLModel, table=True):
    """How an e-mail address wants one kind of message: immediately, weekly or never.

    Keyed by the address (lower case), so that people without an account (an invited
    colleague) can unsubscribe too; no row means the kind's default, immediately.
    """

    __tablename__ = "notification_preference"

    address: str = Field(max_length=254, primary_key=True)
    kind: str = Field(max_length=40, primary_key=True)
    choice: str = Field(max_length=20)
    updated_at: datetime = Field(default_factory=utcnow)


class SpentToken(SQLModel, table=True):
    """A single-use link token that was used (a hash of it), refused if it comes again."""

    __tablename__ = "spent_token"

    digest: str = Field(max_length=64, primary_key=True)
    purpose: str = Field(max_length=40)
    spent_at: datetime = Field(default_factory=utcnow)
    #: After this the token is refused as expired anyway, and the row may go.
    expires_at: datetime = Field(index=True)


# --- audit -------------------------------------------------------------------------------


class AuditEvent(SQLModel, table=True):
    """Who did what, when, to which record. Also the history of practices and twinnings."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="account.id")
    actor_name: str | None = Field(default=None, max_length=60)
    action: str = Field(max_length=60)
    entity: str | None = Field(default=None, max_length=40)
    entity_id: int | None = Field(default=None)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


# --- knowledge community and live workshops ----------------------------------------------

MAX_DIGEST_TOPICS = 8
MAX_DIGEST_PRACTICES = 20


class DigestInput(DigestCreate):
    """A digest as a coordinator writes it: DigestCreate with limits on topics, body and links."""

    @field_validator("topics")
    @classmethod
    def _topic_limits(cls, v: list[str]) -> list[str]:
        topics = list(dict.fromkeys("-".join(_clean(topic).split()) for topic in v))
        if not topics:
            raise ValueError(_("give at least one topic, such as ehds or trustworthy-ai"))
        if len(topics) > MAX_DIGEST_TOPICS:
            raise ValueError(_("give at most {count} topics").format(count=MAX_DIGEST_TOPICS))
        for topic in topics:
            if not 2 <= len(topic) <= 60:
                raise ValueError(
                    _("a topic has 2 to 60 characters ('{topic}' has not)").format(topic=topic[:60])
                )
        return topics

    @field_validator("body")
    @classmethod
    def _body_limit(cls, v: str) -> str:
        if len(v) > 50_000:
            raise ValueError(
                _("the digest can have at most {most} characters").format(
                    most=format_number(50_000)
                )
            )
        return _clean(v.replace("\r\n", "\n"))

    @field_validator("practice_ids")
    @classmethod
    def _practice_limit(cls, v: list[int]) -> list[int]:
        ids = list(dict.fromkeys(v))
        if len(ids) > MAX_DIGEST_PRACTICES:
            raise ValueError(_("link at most {count} practices").format(count=MAX_DIGEST_PRACTICES))
        return ids


class SpotlightInput(SQLModel):
    """A coordinator's analysis of a mature practice: why mature, evidence, what transfer takes."""

    practice_id: int
    analysis: str

    @field_validator("analysis", mode="before")
    @classmethod
    def _analysis(cls, v: Any) -> str:
        text = _clean(str(v or "").replace("\r\n", "\n").strip())
        if len(text) < 40:
            raise ValueError(
                _(
                    "write at least 40 characters: why it is mature, the evidence, and what "
                    "transferring it takes"
                )
            )
        if len(text) > 5000:
            raise ValueError(
                _("the analysis can have at most {most} characters (it has {count})").format(
                    most=format_number(5000), count=format_number(len(text))
                )
            )
        return text


class Interest(SQLModel, table=True):
    """An expression of interest in a twinning need or a practice, sent to its organisation."""

    __tablename__ = "interest"

    id: int | None = Field(default=None, primary_key=True)
    from_user_id: int = Field(foreign_key="account.id", index=True)
    from_organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    to_organisation_id: int = Field(foreign_key="organisation.id", index=True)
    need_id: int | None = Field(default=None, foreign_key="twinning_need.id", ondelete="CASCADE")
    practice_id: int | None = Field(default=None, foreign_key="practice.id", ondelete="CASCADE")
    text: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = Field(default=None)


class InterestCreate(SQLModel):
    """An expression of interest as typed: about a need or a practice, with a short message."""

    need_id: int | None = None
    practice_id: int | None = None
    text: str

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, v: Any) -> str:
        text = _clean(str(v or "").replace("\r\n", "\n").strip())
        if len(text) < 10:
            raise ValueError(_("say in a sentence or two what you are interested in"))
        if len(text) > 2000:
            raise ValueError(
                _("the message can have at most {most} characters (it has {count})").format(
                    most=format_number(2000), count=format_number(len(text))
                )
            )
        return text


class CaptureCreate(SQLModel):
    """A practice registered in seconds at a workshop; a coordinator completes it later."""

    title: str
    country: str
    practice_type: str
    contact_email: str

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, v: Any) -> str:
        return _text(v, N_("title"), 3, 200)

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, v: Any) -> str:
        return geo.normalise_country(_required(_optional(v), _("choose the country")))

    @field_validator("practice_type", mode="before")
    @classmethod
    def _type(cls, v: Any) -> str:
        return taxonomy.PRACTICE_TYPES.normalise(
            _required(_optional(v), _("choose the type of practice"))
        )

    @field_validator("contact_email", mode="before")
    @classmethod
    def _contact_email(cls, v: Any) -> str:
        return _required(_email(v), _("enter an e-mail address so that we can follow up"))


class CaptureOwner(SQLModel):
    """The organisation that owns a completed quick capture: one of the list, or a `new` one."""

    model_config = ConfigDict(validate_default=True)

    new: bool = False
    organisation_id: int | None = None
    organisation_name: str | None = None
    organisation_type: str = "other"
    organisation_country: str | None = None

    @field_validator("organisation_id")
    @classmethod
    def _organisation_id(cls, v: int | None, info: ValidationInfo) -> int | None:
        if info.data.get("new"):
            return None
        return _required(v, _("choose the organisation that owns the practice"))

    @field_validator("organisation_name", mode="before")
    @classmethod
    def _organisation_name(cls, v: Any, info: ValidationInfo) -> str | None:
        if not info.data.get("new"):
            return None
        return _text(_required(_optional(v), _("name the new organisation")), N_("name"), 2, 200)

    @field_validator("organisation_type", mode="before")
    @classmethod
    def _organisation_type(cls, v: Any) -> str:
        return taxonomy.ORGANISATION_TYPES.normalise(v or "other")

    @field_validator("organisation_country", mode="before")
    @classmethod
    def _organisation_country(cls, v: Any, info: ValidationInfo) -> str | None:
        if not info.data.get("new"):
            return None
        return geo.normalise_country(
            _required(_optional(v), _("choose the new organisation's country"))
        )

    def new_organisation(self) -> OrganisationCreate | None:
        """The organisation to register, when it is a new one."""
        if not self.new:
            return None
        return OrganisationCreate(
            name=self.organisation_name,
            organisation_type=self.organisation_type,
            country=self.organisation_country,
        )


# --- twinning weight profiles ------------------------------------------------------------


class WeightProfile(SQLModel, table=True):
    """A named set of matching weights (criterion -> weight) that coordinators keep and reuse."""

    __tablename__ = "weight_profile"
    __table_args__ = (UniqueConstraint("name", name="uq_weight_profile_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60)
    weights: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON))
    updated_by_id: int | None = Field(default=None, foreign_key="account.id")
    updated_at: datetime = Field(default_factory=utcnow)
