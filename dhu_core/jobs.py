"""Scheduled work: what `dhu run-jobs` (cron, a systemd timer) runs, one pass at a time.

A job is a function `job(engine, now) -> str` that does the work that is due at `now` and says
what it did in a line. Jobs must be safe when two passes run at once (the outbox's claims, the
row locks of the changes they make); `dhu run-jobs` runs them in the order registered.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from dhu_core.models import utcnow

log = logging.getLogger(__name__)

Job = Callable[[Engine, datetime], str]

_registry: dict[str, Job] = {}


def register(name: str, job: Job) -> Job:
    """Add `job` to every pass under `name`, before the e-mail delivery (again: replaces it)."""
    _registry[name] = job
    return job


def registered() -> dict[str, Job]:
    """The jobs of a pass, in order; the e-mail delivery goes last, so that the messages the
    other jobs write go out in the same pass."""
    # Imported here: `dhu_core.notifications` imports the models, which import nothing of this.
    from dhu_core import freshness
    from dhu_core.notifications import delivery

    built_in: dict[str, Job] = {
        "freshness reminders and archiving": freshness.job,
        "forget old e-mail": delivery.forget_sent,
    }
    return {**built_in, **_registry, DELIVERY: delivery.job}


@dataclass(frozen=True)
class Outcome:
    """What one job did in a pass, or why it failed."""

    name: str
    summary: str
    ok: bool


#: The name of the e-mail delivery among the jobs (always the last).
DELIVERY = "deliver e-mail"


def run_once(
    engine: Engine, *, now: datetime | None = None, delivery: bool = True
) -> list[Outcome]:
    """Run every job once (but the e-mail delivery when `delivery` is False); a job that
    fails is reported and the others still run."""
    moment = now or utcnow()
    outcomes = []
    for name, job in registered().items():
        if name == DELIVERY and not delivery:
            continue
        try:
            outcomes.append(Outcome(name, job(engine, moment), True))
        except Exception as error:  # noqa: BLE001 (one broken job must not stop the others)
            log.exception("job %s failed", name)
            outcomes.append(Outcome(name, f"failed: {type(error).__name__}: {error}", False))
    return outcomes
