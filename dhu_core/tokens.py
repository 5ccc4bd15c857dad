"""Signed, expiring tokens for links (invitations), and keyed digests of personal data.

A token names its purpose, a record id and an expiry, signed with HMAC-SHA256 under a key
derived from the server's secret; whether it was used already is the record's business (an
invitation, once accepted, is no longer open).
"""

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from dhu_core.config import cookie_key, get_settings
from dhu_core.i18n import _
from dhu_core.models import utcnow


class InvalidToken(ValueError):
    """A token that was altered, made for another purpose, or has expired."""


def _key(purpose: str) -> bytes:
    # One secret for the deployment, a separate key for each purpose, so a token made for one
    # purpose (or the login cookie) can never pass as another.
    secret = cookie_key(get_settings()).encode()
    return hmac.new(secret, f"dhu-token:{purpose}".encode(), hashlib.sha256).digest()


def signature(purpose: str, payload: str) -> str:
    """The URL-safe HMAC of `payload` under the key of `purpose`."""
    mac = hmac.new(_key(purpose), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def make(purpose: str, subject: int, expires: datetime) -> str:
    """A URL-safe token for record `subject`, valid for `purpose` until `expires`."""
    payload = f"{subject}.{int(expires.timestamp())}"
    return f"{payload}.{signature(purpose, payload)}"


def read(purpose: str, token: str, *, now: datetime | None = None) -> int:
    """The record id a valid token names; InvalidToken when altered, foreign or expired."""
    return read_with_expiry(purpose, token, now=now)[0]


def read_with_expiry(
    purpose: str, token: str, *, now: datetime | None = None
) -> tuple[int, datetime]:
    """The record id a valid token names and when the token expires (`read`)."""
    try:
        subject, expires, given = str(token).strip().split(".")
        payload = f"{int(subject)}.{int(expires)}"
    except ValueError:
        raise InvalidToken(_("this link is not complete; copy the whole link")) from None
    if not hmac.compare_digest(given, signature(purpose, payload)):
        raise InvalidToken(_("this link is not valid; ask for a new one"))
    if int(expires) < (now or utcnow()).timestamp():
        raise InvalidToken(_("this link has expired; ask for a new one"))
    return int(subject), datetime.fromtimestamp(int(expires), UTC)


def lifetime_end(days: int, *, now: datetime | None = None) -> datetime:
    """When something made now for `days` days expires."""
    return (now or utcnow()) + timedelta(days=days)


def digest(text: str) -> str:
    """A keyed hash of personal data (a client address, an e-mail address) for counting."""
    return hmac.new(_key("digest"), text.casefold().encode(), hashlib.sha256).hexdigest()
