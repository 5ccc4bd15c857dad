"""Whether the database can answer: prepared once per process, before the first request."""

import logging
import threading

from dhu_core import bootstrap
from dhu_core.config import get_settings

LOG = logging.getLogger("dhu")
_LOCK = threading.Lock()
_ready = False


def ensure() -> bool:
    """Migrate and seed a new embedded database, or check that a DATABASE_URL one is migrated,
    once; False while a DATABASE_URL database still lacks migrations (`dhu init-db`)."""
    global _ready
    if _ready:
        return True
    # One at a time: two first requests must not both seed a new embedded database.
    with _LOCK:
        if not _ready:
            try:
                bootstrap.prepare_database(get_settings())
            except bootstrap.DatabaseNotReady as error:
                LOG.warning("API: %s", error)
                return False
            _ready = True
    return True
