"""Opaque paging cursors: where a page starts, signed so that an altered cursor is refused."""

import base64
import binascii
import hmac

from dhu_core import tokens
from dhu_core.params import InvalidParameter

_PURPOSE = "api-cursor"
#: Enough of the signature to make guessing a valid cursor pointless; cursors stay short.
_SIGNATURE_LENGTH = 16
#: Beyond any catalogue, and small enough for any database's row offset.
MAX_OFFSET = 100_000_000


def make(offset: int) -> str:
    """The cursor of the page that starts after `offset` results."""
    payload = str(offset)
    signed = f"{payload}.{tokens.signature(_PURPOSE, payload)[:_SIGNATURE_LENGTH]}"
    return base64.urlsafe_b64encode(signed.encode()).decode().rstrip("=")


def read(cursor: str) -> int:
    """The offset a cursor made by `make` names; InvalidParameter for any other text."""
    refused = InvalidParameter("cursor", "this cursor is not valid; use next_cursor as given")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload, signature = base64.urlsafe_b64decode(padded).decode("ascii").split(".")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise refused from None
    expected = tokens.signature(_PURPOSE, payload)[:_SIGNATURE_LENGTH]
    if not (payload.isdigit() and hmac.compare_digest(signature, expected)):
        raise refused
    offset = int(payload)
    if offset > MAX_OFFSET:
        raise refused
    return offset
