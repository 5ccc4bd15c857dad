"""Uptake figures: what the platform holds, counted in the database."""

from dataclasses import dataclass

from sqlalchemy import Engine, distinct, func, select

from dhu_core import db, taxonomy
from dhu_core.models import Organisation, Practice, PracticeCountry, TwinningMatch


@dataclass(frozen=True)
class HeadlineFigures:
    """The figures on the home page."""

    published_practices: int
    countries_covered: int
    organisations: int
    twinnings: int


def headline_figures(engine: Engine | None = None) -> HeadlineFigures:
    """Published practices, countries with a published practice, organisations, twinnings."""
    published = Practice.status == "published"
    with (engine or db.get_engine()).connect() as conn:
        practices = conn.execute(select(func.count()).where(published)).scalar_one()
        countries = conn.execute(
            select(func.count(distinct(PracticeCountry.country)))
            .join(Practice, Practice.id == PracticeCountry.practice_id)
            .where(published)
        ).scalar_one()
        organisations = conn.execute(select(func.count()).select_from(Organisation)).scalar_one()
        twinnings = conn.execute(
            select(func.count()).where(TwinningMatch.status.in_(taxonomy.TWINNING_STATUSES))
        ).scalar_one()
    return HeadlineFigures(practices, countries, organisations, twinnings)
