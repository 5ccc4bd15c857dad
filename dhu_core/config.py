"""Settings read from the environment."""

import os
import re
import secrets
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dhu_core import clients, strength

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"


class Settings(BaseSettings):
    """Runtime settings; every field can be set by an environment variable of the same name."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: str | None = None
    dhu_data_dir: Path = DATA_DIR
    #: PostgreSQL connections each app process keeps open, and may open beyond them at busy
    #: moments: processes x (pool size + overflow) must stay below the server's max_connections.
    dhu_db_pool_size: int = Field(default=5, ge=1, le=1000)
    dhu_db_max_overflow: int = Field(default=10, ge=0, le=1000)
    dhu_cookie_key: str | None = None
    #: Where the audience reaches this app (the quick-capture QR code points here); unset: the
    #: address each browser used to open the app (see `public_url`).
    dhu_public_url: str | None = None
    #: Reverse proxies whose X-Forwarded-For names the client: addresses or networks, with commas.
    dhu_trusted_proxies: str = ""
    #: Quick captures one client address may send in 10 minutes: a workshop audience often
    #: shares one address (the venue's Wi-Fi), so set it to the audience's size.
    dhu_captures_per_address: int = Field(default=20, ge=1, le=10_000)
    #: Serve a database with enabled demo accounts on a network address anyway (a workshop).
    dhu_allow_demo_accounts_on_network: bool = False
    #: The mail server for notifications: `smtp://user:pass@host:587` (STARTTLS),
    #: `smtps://user:pass@host:465` (TLS from the start), `smtp://localhost:25` (no sign-in).
    #: Unset: messages wait in the outbox, listed on the admin page, until it is set.
    dhu_smtp_url: str | None = None
    #: The sender of notifications (default: `DHU Platform <noreply@` the public host `>`).
    dhu_mail_from: str | None = None
    #: Attempts to send one message before it is marked failed (shown to administrators).
    dhu_mail_max_attempts: int = 8
    #: uvicorn's own list of hosts whose X-Forwarded-For it believes (read here, never changed).
    forwarded_allow_ips: str = clients.SERVER_DEFAULT_TRUSTED
    #: Months without confirmation after which a practice "may be outdated" and its
    #: organisation is reminded.
    dhu_freshness_reminder_months: int = Field(default=12, ge=1, le=120)
    #: Months without confirmation after which a reminded practice is archived.
    dhu_freshness_archive_months: int = Field(default=18, ge=2, le=240)
    #: The app runs the scheduled jobs of `dhu run-jobs` (freshness reminders and archiving,
    #: clean-ups) in the background of each process, once an hour; off where cron or a
    #: systemd timer runs `dhu run-jobs` instead. E-mail is delivered whenever DHU_SMTP_URL is
    #: set, either way.
    dhu_jobs_in_app: bool = True
    #: Who runs this installation, named on About, the privacy notice and the accessibility
    #: statement; unset, they say "the operator of this installation".
    dhu_operator_name: str | None = None
    #: How to reach the operator: an e-mail address or a web address (validated).
    dhu_operator_contact: str | None = None
    #: Markdown files whose text replaces the default privacy notice and accessibility statement.
    dhu_privacy_notice_file: Path | None = None
    dhu_accessibility_statement_file: Path | None = None
    #: The licence of the open data (feeds, the open-data files), and the address of its text.
    dhu_data_licence: str = "CC BY 4.0"
    dhu_data_licence_url: str = "https://creativecommons.org/licenses/by/4.0/"

    @field_validator(
        "dhu_operator_name",
        "dhu_operator_contact",
        "dhu_privacy_notice_file",
        "dhu_accessibility_statement_file",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # An empty variable (DHU_OPERATOR_NAME= in a unit file) means "not set", not "".
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("dhu_operator_contact")
    @classmethod
    def _contact(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not operator_contact_link(value):
            raise ValueError(
                "give an e-mail address (privacy@example.org) or a web address starting with "
                "https:// or http://, without spaces, quotes or angle brackets"
            )
        return value

    #: The largest report (PDF or plain text) the pair of a twinning may upload, in bytes.
    dhu_report_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    #: Requests a minute that one client may make to the API (/api/v1/), on average.
    dhu_api_rate_limit: int = Field(default=120, ge=1, le=1_000_000)
    #: Requests one client may make to the API at once, before the average counts.
    dhu_api_rate_burst: int = Field(default=30, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _archive_after_reminder(self) -> "Settings":
        if self.dhu_freshness_archive_months <= self.dhu_freshness_reminder_months:
            raise ValueError(
                "DHU_FRESHNESS_ARCHIVE_MONTHS must be more than DHU_FRESHNESS_REMINDER_MONTHS "
                f"({self.dhu_freshness_archive_months} is not more than "
                f"{self.dhu_freshness_reminder_months}): owners need time to answer the reminder"
            )
        return self

    @property
    def embedded(self) -> bool:
        """True when no DATABASE_URL is given and the embedded SQLite file is used."""
        return not self.database_url

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{self.dhu_data_dir / 'dhu.sqlite3'}"


def public_url(settings: Settings, reached: str) -> str:
    """The app's address for links and QR codes: DHU_PUBLIC_URL, else `reached`, the address
    the browser asking used, with its port (which the app does not know otherwise)."""
    return (settings.dhu_public_url or reached).rstrip("/")


#: Links in e-mails when DHU_PUBLIC_URL is unset (a message has no browser to ask).
LOCAL_URL = "http://localhost:8501"


def mail_url(settings: Settings) -> str:
    """The app's address for links in e-mails: DHU_PUBLIC_URL, else the local default."""
    return (settings.dhu_public_url or LOCAL_URL).rstrip("/")


_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&*+/=?^_{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
#: Characters that would end a Markdown link or an HTML attribute early.
_UNSAFE_IN_LINKS = re.compile(r"[\s<>\"'`\\]")


def operator_contact_link(contact: str) -> str | None:
    """The link target of DHU_OPERATOR_CONTACT (`mailto:` for an e-mail address), or None when
    it is neither an e-mail address nor an http(s) address."""
    if _EMAIL.fullmatch(contact):
        return f"mailto:{contact}"
    parts = urlsplit(contact)
    web = parts.scheme in ("http", "https") and parts.hostname
    if web and not _UNSAFE_IN_LINKS.search(contact):
        return contact
    return None


def normalise_database_url(url: str) -> str:
    """Accept the common `postgres://` and `postgresql://` spellings and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def settings_problems(error: ValidationError) -> str:
    """What is wrong in the environment, one sentence per variable, without the values given."""
    return " ".join(
        f"{'.'.join(map(str, problem['loc'])).upper() or 'Settings'}: "
        f"{problem['msg'].removeprefix('Value error, ')}."
        for problem in error.errors()
    )


@cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()


MIN_KEY_LENGTH = 32
#: About 83 bits by zxcvbn's estimate: a signed cookie lets anyone try keys offline, fast.
#: Random keys of 32 characters score 28 and more (hex) or 30 and more (URL-safe base64).
MIN_KEY_GUESSES_LOG10 = 25
#: A random key of 32 characters has far more; this refuses "abab…" and the like.
MIN_KEY_DISTINCT = 8


class UnsafeSetting(RuntimeError):
    """A setting would make the platform unsafe; the message says how to fix it."""


def trusted_proxies(settings: Settings) -> clients.Trusted:
    """The reverse proxies of DHU_TRUSTED_PROXIES; UnsafeSetting on an entry that is no address."""
    try:
        return clients.parse_trusted(settings.dhu_trusted_proxies, strict=True)
    except ValueError as error:
        raise UnsafeSetting(
            f"DHU_TRUSTED_PROXIES: {error}. Give the proxies' IP addresses or networks, "
            "separated by commas, e.g. 127.0.0.1 or 10.0.0.0/24."
        ) from None


def server_trusted(settings: Settings) -> clients.Trusted:
    """The hosts uvicorn takes X-Forwarded-For from (FORWARDED_ALLOW_IPS, loopback by default)."""
    return clients.parse_trusted(settings.forwarded_allow_ips)


def cookie_key(settings: Settings) -> str:
    """The login-cookie signing key: DHU_COOKIE_KEY, else a random key kept in a private file."""
    if settings.dhu_cookie_key is not None:
        key = settings.dhu_cookie_key.strip()
        source = "DHU_COOKIE_KEY"
    else:
        key = _key_file(settings.dhu_data_dir / ".cookie_key")
        source = str(settings.dhu_data_dir / ".cookie_key")
    problem = key_problem(key)
    if problem:
        raise UnsafeSetting(
            f"The cookie signing key from {source} is too weak ({problem}). Use at "
            f"least {MIN_KEY_LENGTH} random characters, for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
        )
    return key


@lru_cache(maxsize=8)
def key_problem(key: str) -> str | None:
    """Why `key` is too easy to guess to sign cookies with, or None when it is random enough.

    Kept per key: zxcvbn takes ~30 ms (and a child process, see `strength`), and every signed
    link (an unsubscribe link in each e-mail) checks the key it is signed with.
    """
    if len(key) < MIN_KEY_LENGTH:
        return f"shorter than {MIN_KEY_LENGTH} characters"
    if len(set(key)) < MIN_KEY_DISTINCT:
        return f"fewer than {MIN_KEY_DISTINCT} different characters"
    if strength.guesses_log10_apart(key) < MIN_KEY_GUESSES_LOG10:
        return "words, repeats or patterns that are easy to guess"
    return None


def _key_file(path: Path) -> str:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)  # only its owner may read the key
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(descriptor, "w", encoding="utf-8") as f:
        key = secrets.token_urlsafe(48)
        f.write(key)
    return key
