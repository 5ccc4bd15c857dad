"""The delivery step in the background of an app process, so the embedded set-up needs no cron.

One daemon thread per process, started once (`start`). Several processes (app servers, a
`dhu run-jobs` next to them) may run it at the same time: each message is claimed by one step
only (see `delivery`), so none is sent twice; they only share the work.
"""

import logging
import threading

from dhu_core import notifications
from dhu_core.config import UnsafeSetting, get_settings
from dhu_core.notifications import delivery

log = logging.getLogger(__name__)

#: Seconds between two delivery steps of an app process, when no commit wakes it earlier (a
#: message due at once, a retry coming due).
INTERVAL = 30

_lock = threading.Lock()
_thread: threading.Thread | None = None


def start() -> bool:
    """Start this process's delivery thread if DHU_SMTP_URL is set; True if it runs now.

    UnsafeSetting (which stops the app with its message) when DHU_SMTP_URL is malformed.

    Without a mail server there is nothing to deliver: messages wait in the outbox, and
    `dhu run-jobs` or a restart with DHU_SMTP_URL sends them.
    """
    global _thread
    url = get_settings().dhu_smtp_url
    if not url:
        return False
    try:
        delivery.parse_smtp_url(url)
    except delivery.SmtpUrlError as error:
        raise UnsafeSetting(str(error)) from None
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, name="dhu-email-delivery", daemon=True)
            _thread.start()
    return True


def _run() -> None:
    while True:
        try:
            report = delivery.deliver_due()
            if report.attempted or report.digests or report.recovered:
                log.info("e-mail delivery: %s", report.summary())
        except Exception:  # noqa: BLE001 (the thread must outlive a database or server hiccup)
            log.exception("e-mail delivery step failed; the next one runs in %d s", INTERVAL)
        notifications.messages_due.wait(INTERVAL)
        notifications.messages_due.clear()
