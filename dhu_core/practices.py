"""Practices: reading them for the catalogue and the home page."""

from sqlalchemy import Engine
from sqlmodel import select

from dhu_core import db
from dhu_core.models import PRACTICE_TAG_FIELDS as TAG_FIELDS
from dhu_core.models import Organisation, Practice, PracticeCountry, PracticePublic, PracticeTag


def newest_practices(*, limit: int = 5, engine: Engine | None = None) -> list[PracticePublic]:
    """The most recently published practices, newest first."""
    with db.session_scope(engine) as session:
        ids = session.exec(
            select(Practice.id)
            .where(Practice.status == "published")
            .order_by(Practice.published_at.desc(), Practice.id.desc())
            .limit(limit)
        ).all()
        return _public(session, list(ids))


def _public(session, ids: list[int]) -> list[PracticePublic]:
    """Practices with their organisation, deployments and tags, in the order of `ids`."""
    if not ids:
        return []
    rows = session.exec(
        select(Practice, Organisation.name, Organisation.country)
        .join(Organisation, Organisation.id == Practice.owner_organisation_id)
        .where(Practice.id.in_(ids))
    ).all()
    countries: dict[int, list[str]] = {i: [] for i in ids}
    for practice_id, country in session.exec(
        select(PracticeCountry.practice_id, PracticeCountry.country)
        .where(PracticeCountry.practice_id.in_(ids))
        .order_by(PracticeCountry.country)
    ):
        countries[practice_id].append(country)
    tags: dict[int, dict[str, list[str]]] = {i: {} for i in ids}
    for practice_id, kind, code in session.exec(
        select(PracticeTag.practice_id, PracticeTag.kind, PracticeTag.code)
        .where(PracticeTag.practice_id.in_(ids))
        .order_by(PracticeTag.code)
    ):
        tags[practice_id].setdefault(kind, []).append(code)
    by_id = {
        practice.id: PracticePublic.model_validate(
            practice,
            update={
                "owner_organisation": org_name,
                "owner_country": org_country,
                "countries": countries[practice.id],
                **{field: tags[practice.id].get(kind, []) for kind, field in TAG_FIELDS.items()},
            },
        )
        for practice, org_name, org_country in rows
    }
    return [by_id[i] for i in ids if i in by_id]
