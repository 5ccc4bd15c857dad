"""Scheduled work in the background of an app process, so the embedded set-up needs no cron:
the e-mail delivery step (when DHU_SMTP_URL is set) and, once an hour, the other jobs of
`dhu run-jobs` (freshness reminders and archiving, clean-ups; unless DHU_JOBS_IN_APP is off).

One daemon thread per process, started once (`start`). Several processes (app servers, a
`dhu run-jobs` next to them) may run it at the same time: each message is claimed by one step
only (see `delivery`), so none is sent twice, and every job is safe run twice at once; they
only share the work.
"""

import logging
import threading
import time

from dhu_core import db, jobs, notifications
from dhu_core.config import UnsafeSetting, get_settings
from dhu_core.notifications import delivery

log = logging.getLogger(__name__)

#: Seconds between two delivery steps of an app process, when no commit wakes it earlier (a
#: message due at once, a retry coming due).
INTERVAL = 30
#: Seconds between two passes of the other jobs (their periods are months and days).
JOBS_INTERVAL = 3600

_lock = threading.Lock()
_thread: threading.Thread | None = None


def start() -> bool:
    """Start this process's background thread if it has work: e-mail to deliver (DHU_SMTP_URL
    is set) or the other jobs (DHU_JOBS_IN_APP); True if it runs now.

    UnsafeSetting (which stops the app with its message) when DHU_SMTP_URL is malformed.

    Without a mail server there is nothing to deliver: messages wait in the outbox, and
    `dhu run-jobs` or a restart with DHU_SMTP_URL sends them.
    """
    global _thread
    settings = get_settings()
    url = settings.dhu_smtp_url
    if url:
        try:
            delivery.parse_smtp_url(url)
        except delivery.SmtpUrlError as error:
            raise UnsafeSetting(str(error)) from None
    if not url and not settings.dhu_jobs_in_app:
        return False
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(
                target=_run,
                args=(bool(url), settings.dhu_jobs_in_app),
                name="dhu-scheduled-work",
                daemon=True,
            )
            _thread.start()
    return True


def _run(deliver: bool, other_jobs: bool) -> None:
    next_jobs = time.monotonic()
    while True:
        if other_jobs and time.monotonic() >= next_jobs:
            run_jobs()
            next_jobs = time.monotonic() + JOBS_INTERVAL
        if deliver:
            try:
                report = delivery.deliver_due()
                if report.attempted or report.digests or report.recovered:
                    log.info("e-mail delivery: %s", report.summary())
            except Exception:  # noqa: BLE001 (the thread must outlive a database hiccup)
                log.exception("e-mail delivery step failed; the next one runs in %d s", INTERVAL)
        notifications.messages_due.wait(INTERVAL)
        notifications.messages_due.clear()


def run_jobs() -> list[jobs.Outcome]:
    """One pass of the jobs but the e-mail delivery, logged (a failing job is logged by
    `jobs.run_once`, and the others still run)."""
    outcomes = jobs.run_once(db.get_engine(), delivery=False)
    for outcome in outcomes:
        if outcome.ok:
            log.info("%s: %s", outcome.name, outcome.summary)
    return outcomes
