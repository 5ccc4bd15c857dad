"""Organisations: the public list people choose from."""

from sqlalchemy import Engine, select

from dhu_core import db
from dhu_core.models import Organisation


def organisation_choices(*, engine: Engine | None = None) -> dict[int, str]:
    """Every organisation as id -> "Name (CC)", sorted by name."""
    with (engine or db.get_engine()).connect() as conn:
        rows = conn.execute(
            select(Organisation.id, Organisation.name, Organisation.country).order_by(
                Organisation.name
            )
        ).all()
    return {row.id: f"{row.name} ({row.country})" for row in rows}
