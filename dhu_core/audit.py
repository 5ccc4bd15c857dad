"""The audit trail: who did what, when, on which record."""

from typing import Any

from sqlmodel import Session, col, select

from dhu_core.i18n import _
from dhu_core.models import AuditEvent, StateConflict, User


def record(
    session: Session,
    actor: User,
    action: str,
    entity: str | None = None,
    entity_id: int | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add an audit event to the current transaction; `actor` is always named.

    People not signed in act as `accounts.visitor()`, the command line and jobs as
    `accounts.system_actor(name)`; neither is an account, so only the name is kept.
    """
    if actor is None:
        raise ValueError("an audited change needs its actor: a user, a visitor or the system")
    event = AuditEvent(
        actor_id=actor.id,
        actor_name=actor.username,
        action=action,
        entity=entity,
        entity_id=entity_id,
        detail=detail,
    )
    session.add(event)
    return event


def history(session: Session, entity: str, entity_id: int) -> list[AuditEvent]:
    """The events of one record, oldest first (a practice's or a twinning's history)."""
    return list(
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
            .order_by(col(AuditEvent.id))
        ).all()
    )


def conflict(
    session: Session,
    entity: str,
    entity_id: int,
    what: str = "",
    now: str = "",
    *,
    said: str | None = None,
) -> StateConflict:
    """The refusal when someone changed a record first: `what` "was just" `now` "by" whom, or
    `said`, a whole sentence translated with `_()` where `{who}` stands for whom (a sentence
    put together from parts could not be translated).

    Call it after locking the record, so that the change it names is the one that won.
    """
    last = session.exec(
        select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
        .order_by(col(AuditEvent.id).desc())
        .limit(1)
    ).first()
    if said is not None:
        who = last.actor_name if last is not None and last.actor_name else _("someone else")
        return StateConflict(said.format(who=who))
    who = last.actor_name if last is not None and last.actor_name else "someone else"
    return StateConflict(f"{what} was just {now} by {who}. Reload the page to see it as it is now.")
