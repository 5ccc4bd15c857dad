"""The audit trail: who did what, when, on which record."""

from typing import Any

from sqlmodel import Session, col, select

from dhu_core.models import AuditEvent, User


def record(
    session: Session,
    actor: User | None,
    action: str,
    entity: str | None = None,
    entity_id: int | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add an audit event to the current transaction."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_name=actor.username if actor else None,
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
