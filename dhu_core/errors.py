"""Unexpected failures: logged on the server with an id that the visitor can quote."""

import logging
import secrets

LOG = logging.getLogger("dhu")


def log_failure(error: BaseException) -> str:
    """Log `error` with its traceback under a new short id, and return the id."""
    reference = secrets.token_hex(4)
    LOG.error("failure %s", reference, exc_info=(type(error), error, error.__traceback__))
    return reference
