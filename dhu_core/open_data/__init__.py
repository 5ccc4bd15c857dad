"""Open data: Atom feeds, the open-data download of the catalogue, and the newsletter digest."""

from datetime import UTC, datetime

from dhu_core.models import in_utc


def rfc3339(moment: datetime) -> str:
    """A stored time as RFC 3339 text in UTC, to the second (2026-05-04T09:30:00Z)."""
    return in_utc(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
