"""Uptake figures: what the platform holds, counted in the database by country and over time.

Only published practices count. Every aggregate is one GROUP BY query; the few rows it returns
are shaped into DataFrames for the map and the charts (codes, plus labels for people).
"""

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache, lru_cache
from urllib.parse import urlencode

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Engine,
    case,
    distinct,
    extract,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select

from dhu_core import db, geo, taxonomy
from dhu_core import params as url
from dhu_core.config import DATA_DIR
from dhu_core.i18n import N_
from dhu_core.models import (
    FIRST_YEAR,
    LISTED,
    Organisation,
    Practice,
    PracticeCountry,
    PracticeTag,
    TwinningMatch,
    TwinningNeed,
)
from dhu_core.organisations import CAPTURE_ORGANISATION


@dataclass(frozen=True)
class HeadlineFigures:
    """The public figures of the home page and the live view."""

    published_practices: int
    countries_covered: int
    organisations: int
    twinnings: int
    #: Of the twinnings, those completed (their lessons learned published).
    completed_twinnings: int = 0


def headline_figures(engine: Engine | None = None) -> HeadlineFigures:
    """Published practices, countries with a published practice, organisations owning one
    (the workshops' holding organisation aside), twinnings and the completed ones."""
    published = LISTED
    with (engine or db.get_engine()).connect() as conn:
        practices = conn.execute(select(func.count()).where(published)).scalar_one()
        countries = conn.execute(
            select(func.count(distinct(PracticeCountry.country)))
            .join(Practice, Practice.id == PracticeCountry.practice_id)
            .where(published)
        ).scalar_one()
        organisations = conn.execute(
            select(func.count(distinct(Practice.owner_organisation_id)))
            .join(Organisation, Organisation.id == Practice.owner_organisation_id)
            .where(published, Organisation.name != CAPTURE_ORGANISATION)
        ).scalar_one()
        twinnings, completed = conn.execute(
            select(func.count(), func.count().filter(TwinningMatch.status == "completed"))
            .select_from(TwinningMatch)
            .join(Practice, Practice.id == TwinningMatch.practice_id)
            .where(TwinningMatch.status.in_(taxonomy.TWINNING_STATUSES), published)
        ).one()
    return HeadlineFigures(practices, countries, organisations, twinnings, completed)


# --- what is counted -----------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """A figure per country that the map can show."""

    label: str
    description: str
    #: What the number counts, after the number in a tooltip ("12 practices deployed").
    unit: str
    decimals: int = 0


#: The map's metrics; each code is also the column of `country_uptake`.
METRICS: dict[str, Metric] = {
    "deployed": Metric(
        N_("Practices deployed"),
        N_("Published practices deployed in the country."),
        N_("practices deployed"),
    ),
    "per_million": Metric(
        N_("Per million inhabitants"),
        N_("Practices deployed in the country per million inhabitants (World Bank, 2024)."),
        N_("practices per million inhabitants"),
        decimals=1,
    ),
    "mature": Metric(
        N_("Mature practices"),
        N_("Practices deployed in the country at maturity 3 (deployed) or above."),
        N_("mature practices"),
    ),
    "adopted": Metric(
        N_("Adopted from abroad"),
        N_("Practices deployed in the country whose owner organisation is in another country."),
        N_("practices adopted from another country"),
    ),
    "originated": Metric(
        N_("Originating here"),
        N_("Practices whose owner organisation is in the country, wherever they are deployed."),
        N_("practices originating here"),
    ),
    "twinnings": Metric(
        N_("Twinnings"),
        N_(
            "Agreed, in-transfer and completed twinnings the country takes part in, as adopter "
            "or as originator."
        ),
        N_("twinnings"),
    ),
}

#: Eurostat indicators of digital health use in data/ehealth_indicators.csv (individuals 16-74).
INDICATORS = {
    "I_IUAPR": N_("Accessing personal health records online"),
    "I_IUMAPP": N_("Making an appointment with a practitioner via a website"),
    "I_IHIF": N_("Seeking health-related information online"),
}
INDICATOR_SOURCE = "Eurostat, isoc_ci_ac_i (CC BY 4.0)"
DEFAULT_METRIC = "deployed"
DEFAULT_INDICATOR = "I_IUAPR"
MATURE = 3


@dataclass(frozen=True, kw_only=True)
class UptakeFilters:
    """Which published practices count: any value within a filter, and every filter given."""

    practice_types: tuple[str, ...] = ()
    maturities: tuple[int, ...] = ()
    health_domains: tuple[str, ...] = ()
    #: WHO DHI groups 1.0 to 4.0: a practice counts with any code of the group.
    dhi_groups: tuple[str, ...] = ()
    standards: tuple[str, ...] = ()
    #: Years of registration (the year of created_at, UTC), both included; None: open end.
    first_year: int | None = None
    last_year: int | None = None

    def to_params(self) -> dict[str, str | list[str]]:
        """The filters as URL query parameters (lists as repeated keys), empty ones left out."""
        params: dict[str, str | list[str]] = {
            name: [str(value) for value in getattr(self, attribute)]
            for name, (attribute, _) in _LIST_PARAMS.items()
            if getattr(self, attribute)
        }
        if self.first_year is not None:
            params["from"] = str(self.first_year)
        if self.last_year is not None:
            params["to"] = str(self.last_year)
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, str | list[str]]) -> "UptakeFilters":
        """The filters from URL query parameters; unknown codes and malformed values are ignored."""
        lists = {
            attribute: tuple(dict.fromkeys(url.known(url.values(params.get(name)), parse)))
            for name, (attribute, parse) in _LIST_PARAMS.items()
        }
        return cls(**lists, first_year=_year(params.get("from")), last_year=_year(params.get("to")))


@dataclass(frozen=True, kw_only=True)
class UptakeView:
    """What the map page shows: the filters, the map's metric, a chosen country, the indicator."""

    filters: UptakeFilters = field(default_factory=UptakeFilters)
    metric: str = DEFAULT_METRIC
    country: str | None = None
    indicator: str = DEFAULT_INDICATOR

    def to_params(self) -> dict[str, str | list[str]]:
        """The view as URL query parameters, defaults left out."""
        params = self.filters.to_params()
        if self.metric != DEFAULT_METRIC:
            params["metric"] = self.metric
        if self.country:
            params["country"] = self.country
        if self.indicator != DEFAULT_INDICATOR:
            params["indicator"] = self.indicator
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, str | list[str]]) -> "UptakeView":
        """The view from URL query parameters; what is not understood keeps its default."""
        metric = url.last(params.get("metric"))
        country = url.last(params.get("country")).upper()
        indicator = url.last(params.get("indicator")).upper()
        return cls(
            filters=UptakeFilters.from_params(params),
            metric=metric if metric in METRICS else DEFAULT_METRIC,
            country=country if country in geo.countries() else None,
            indicator=indicator if indicator in INDICATORS else DEFAULT_INDICATOR,
        )


def year_span(filters: UptakeFilters, span: tuple[int, int]) -> tuple[int, int]:
    """The filters' years of registration as a (first, last) range inside `span`."""
    first, last = span
    start = min(max(filters.first_year or first, first), last)
    return start, max(min(filters.last_year or last, last), start)


def with_years(
    filters: UptakeFilters, years: tuple[int, int], span: tuple[int, int]
) -> UptakeFilters:
    """`filters` limited to `years`; an end at the edge of `span` stays open for new data."""
    return replace(
        filters,
        first_year=years[0] if years[0] > span[0] else None,
        last_year=years[1] if years[1] < span[1] else None,
    )


#: URL parameter of each list filter -> (attribute of the filters, parser of one value).
_LIST_PARAMS = {
    "type": ("practice_types", taxonomy.PRACTICE_TYPES.normalise),
    "maturity": ("maturities", taxonomy.MATURITY_LEVELS.normalise),
    "domain": ("health_domains", taxonomy.HEALTH_DOMAINS.normalise),
    "dhi": ("dhi_groups", taxonomy.DHI_GROUPS.normalise),
    "standard": ("standards", taxonomy.STANDARDS.normalise),
}
#: URL parameter of each list filter -> attribute of UptakeFilters (the same names as RADAR's).
FILTER_ATTRIBUTES = {name: attribute for name, (attribute, _) in _LIST_PARAMS.items()}


def radar_url(filters: UptakeFilters, country: str) -> str:
    """The RADAR catalogue of the practices in `country` that `filters` count (years aside)."""
    params = {k: v for k, v in filters.to_params().items() if k in FILTER_ATTRIBUTES}
    return "/radar?" + urlencode({"country": country, **params}, doseq=True)


def _year(raw: object) -> int | None:
    text = url.last(raw)
    if not re.fullmatch(r"\d{4}", text):
        return None
    return int(text) if FIRST_YEAR <= int(text) <= 2100 else None


# --- SQL -----------------------------------------------------------------------------------


def _counted(filters: UptakeFilters) -> list[ColumnElement[bool]]:
    """Conditions on Practice: published, and let through by `filters`."""
    conditions: list[ColumnElement[bool]] = [LISTED]
    if filters.practice_types:
        conditions.append(Practice.practice_type.in_(filters.practice_types))
    if filters.maturities:
        conditions.append(Practice.maturity.in_(filters.maturities))
    if filters.health_domains:
        conditions.append(_tagged("domain", PracticeTag.code.in_(filters.health_domains)))
    if filters.standards:
        conditions.append(_tagged("standard", PracticeTag.code.in_(filters.standards)))
    if filters.dhi_groups:
        # A group x.0 holds every category and intervention whose code starts with "x.".
        prefixes = [
            PracticeTag.code.startswith(group.split(".")[0] + ".", autoescape=True)
            for group in filters.dhi_groups
        ]
        conditions.append(_tagged("dhi", or_(*prefixes)))
    if filters.first_year is not None:
        conditions.append(Practice.created_at >= datetime(filters.first_year, 1, 1, tzinfo=UTC))
    if filters.last_year is not None:
        conditions.append(Practice.created_at < datetime(filters.last_year + 1, 1, 1, tzinfo=UTC))
    return conditions


def _tagged(kind: str, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return Practice.id.in_(
        select(PracticeTag.practice_id).where(PracticeTag.kind == kind, condition)
    )


def _registration_year(dialect: str) -> ColumnElement[int]:
    if dialect == "postgresql":
        # EXTRACT on a timestamptz uses the session's time zone; the filters count in UTC.
        return extract("year", func.timezone(literal_column("'UTC'"), Practice.created_at))
    return extract("year", Practice.created_at)


def _frame(engine: Engine | None, statement: Select, columns: list[str]) -> pd.DataFrame:
    with (engine or db.get_engine()).connect() as conn:
        rows = conn.execute(statement).all()
    return pd.DataFrame([tuple(row) for row in rows], columns=columns)


def _deployed_in(country: str) -> ColumnElement[bool]:
    return Practice.id.in_(
        select(PracticeCountry.practice_id).where(PracticeCountry.country == country)
    )


# --- aggregates ----------------------------------------------------------------------------

_ZERO = literal_column("0")


def country_uptake(filters: UptakeFilters, *, engine: Engine | None = None) -> pd.DataFrame:
    """One row per core country (name, population and every metric of METRICS), in one query."""
    with (engine or db.get_engine()).connect() as conn:
        counts = {country: sums for country, *sums in conn.execute(_country_counts(filters))}
    rows = []
    for code, country in geo.countries().items():
        deployed, mature, adopted, originated, twinnings = map(int, counts.get(code, [0] * 5))
        per_million = round(deployed * 1_000_000 / country.population, 3)
        rows.append(
            (code, geo.country_name(code), country.population, deployed, per_million)
            + (mature, adopted, originated, twinnings)
        )
    return pd.DataFrame(rows, columns=["country", "name", "population", *METRICS])


# The statement is built once per filters: building it costs more than running it on small data.
@lru_cache(maxsize=64)
def _country_counts(filters: UptakeFilters) -> Select:
    """Per country: deployed, mature, adopted, originated, twinnings (a union of four GROUP BYs)."""
    twinned = (
        select()
        .select_from(TwinningMatch)
        .join(TwinningNeed, TwinningNeed.id == TwinningMatch.need_id)
        .join(Practice, Practice.id == TwinningMatch.practice_id)
        .join(Organisation, Organisation.id == Practice.owner_organisation_id)
        .where(TwinningMatch.status.in_(taxonomy.TWINNING_STATUSES), *_counted(filters))
    )
    parts = [
        select(
            PracticeCountry.country.label("country"),
            func.count().label("deployed"),
            func.sum(case((Practice.maturity >= MATURE, 1), else_=0)).label("mature"),
            func.sum(case((Organisation.country != PracticeCountry.country, 1), else_=0)).label(
                "adopted"
            ),
            _ZERO.label("originated"),
            _ZERO.label("twinnings"),
        )
        .select_from(Practice)
        .join(PracticeCountry, PracticeCountry.practice_id == Practice.id)
        .join(Organisation, Organisation.id == Practice.owner_organisation_id)
        .where(*_counted(filters))
        .group_by(PracticeCountry.country),
        select(Organisation.country, _ZERO, _ZERO, _ZERO, func.count(), _ZERO)
        .select_from(Practice)
        .join(Organisation, Organisation.id == Practice.owner_organisation_id)
        .where(*_counted(filters))
        .group_by(Organisation.country),
        twinned.add_columns(
            TwinningNeed.country, _ZERO, _ZERO, _ZERO, _ZERO, func.count()
        ).group_by(TwinningNeed.country),
        # A twinning within one country counts once there, from its adopter's side.
        twinned.add_columns(Organisation.country, _ZERO, _ZERO, _ZERO, _ZERO, func.count())
        .where(Organisation.country != TwinningNeed.country)
        .group_by(Organisation.country),
    ]
    union = union_all(*parts).subquery()
    summed = ("deployed", "mature", "adopted", "originated", "twinnings")
    sums = [func.sum(union.c[name]) for name in summed]
    return select(union.c.country, *sums).group_by(union.c.country)


def cross_border_flows(filters: UptakeFilters, *, engine: Engine | None = None) -> pd.DataFrame:
    """Practices deployed outside their owner's country: origin -> deployment country, counted."""
    statement = (
        select(Organisation.country, PracticeCountry.country, func.count())
        .select_from(Practice)
        .join(PracticeCountry, PracticeCountry.practice_id == Practice.id)
        .join(Organisation, Organisation.id == Practice.owner_organisation_id)
        .where(Organisation.country != PracticeCountry.country, *_counted(filters))
        .group_by(Organisation.country, PracticeCountry.country)
    )
    flows = _frame(engine, statement, ["origin", "country", "practices"])
    flows.insert(1, "origin_name", flows["origin"].map(geo.country_name))
    flows.insert(3, "country_name", flows["country"].map(geo.country_name))
    order = ["practices", "origin", "country"]
    return flows.sort_values(order, ascending=[False, True, True], ignore_index=True)


def twinnings(filters: UptakeFilters, *, engine: Engine | None = None) -> pd.DataFrame:
    """Each twinning (agreed, in transfer, completed) of a counted practice, with both ends."""
    adopter = aliased(Organisation)
    statement = (
        select(
            TwinningMatch.id,
            TwinningMatch.status,
            Practice.id,
            Practice.title,
            Organisation.name,
            Organisation.country,
            adopter.name,
            TwinningNeed.country,
        )
        .join(TwinningNeed, TwinningNeed.id == TwinningMatch.need_id)
        .join(Practice, Practice.id == TwinningMatch.practice_id)
        .join(Organisation, Organisation.id == Practice.owner_organisation_id)
        .join(adopter, adopter.id == TwinningNeed.organisation_id)
        .where(TwinningMatch.status.in_(taxonomy.TWINNING_STATUSES), *_counted(filters))
        .order_by(TwinningMatch.id)
    )
    columns = ["twinning", "status", "practice_id", "title"]
    columns += ["originator", "origin", "adopter", "country"]
    return _frame(engine, statement, columns)


def practice_profile(
    filters: UptakeFilters, *, country: str | None = None, engine: Engine | None = None
) -> pd.DataFrame:
    """Counted practices by type, maturity and year of registration (deployed in `country`)."""
    engine = engine or db.get_engine()
    year = _registration_year(engine.dialect.name).label("year")
    conditions = _counted(filters) + ([_deployed_in(country)] if country else [])
    statement = (
        select(Practice.practice_type, Practice.maturity, year, func.count())
        .where(*conditions)
        .group_by(Practice.practice_type, Practice.maturity, year)
    )
    profile = _frame(engine, statement, ["practice_type", "maturity", "year", "practices"])
    profile["year"] = profile["year"].astype(int)
    return profile


def by_type(profile: pd.DataFrame) -> pd.DataFrame:
    """Practices per type, every type listed (from a practice profile)."""
    counts = profile.groupby("practice_type")["practices"].sum()
    codes = list(taxonomy.PRACTICE_TYPES)
    return pd.DataFrame(
        {
            "practice_type": codes,
            "type": [taxonomy.PRACTICE_TYPES.label(code) for code in codes],
            "practices": [int(counts.get(code, 0)) for code in codes],
        }
    )


def by_maturity(profile: pd.DataFrame) -> pd.DataFrame:
    """Practices per maturity level, every level listed (from a practice profile)."""
    counts = profile.groupby("maturity")["practices"].sum()
    levels = list(taxonomy.MATURITY_LEVELS)
    return pd.DataFrame(
        {
            "maturity": levels,
            "level": [f"{level} {taxonomy.MATURITY_LEVELS.label(level)}" for level in levels],
            "practices": [int(counts.get(level, 0)) for level in levels],
        }
    )


def by_year(profile: pd.DataFrame) -> pd.DataFrame:
    """Registrations per year and type (from a practice profile)."""
    years = profile.groupby(["year", "practice_type"], as_index=False)["practices"].sum()
    years.insert(2, "type", years["practice_type"].map(taxonomy.PRACTICE_TYPES.label))
    return years.sort_values(["year", "practice_type"], ignore_index=True)


def domains_by_type(filters: UptakeFilters, *, engine: Engine | None = None) -> pd.DataFrame:
    """Counted practices per health domain and type (a practice counts in each of its domains)."""
    statement = (
        select(PracticeTag.code, Practice.practice_type, func.count())
        .select_from(PracticeTag)
        .join(Practice, Practice.id == PracticeTag.practice_id)
        .where(PracticeTag.kind == "domain", *_counted(filters))
        .group_by(PracticeTag.code, Practice.practice_type)
    )
    domains = _frame(engine, statement, ["health_domain", "practice_type", "practices"])
    domains.insert(1, "domain", domains["health_domain"].map(taxonomy.HEALTH_DOMAINS.label))
    domains.insert(3, "type", domains["practice_type"].map(taxonomy.PRACTICE_TYPES.label))
    return domains.sort_values(["health_domain", "practice_type"], ignore_index=True)


def country_practices(
    filters: UptakeFilters, country: str, *, limit: int = 100, engine: Engine | None = None
) -> pd.DataFrame:
    """The counted practices deployed in `country`, most mature and newest first."""
    statement = (
        select(
            Practice.id,
            Practice.title,
            Practice.practice_type,
            Practice.maturity,
            Organisation.name,
            Organisation.country,
        )
        .join(Organisation, Organisation.id == Practice.owner_organisation_id)
        .where(_deployed_in(country), *_counted(filters))
        .order_by(Practice.maturity.desc(), Practice.published_at.desc(), Practice.id.desc())
        .limit(limit)
    )
    columns = ["practice_id", "title", "practice_type", "maturity", "organisation", "origin"]
    return _frame(engine, statement, columns)


def registration_years(*, engine: Engine | None = None) -> tuple[int, int]:
    """From the year of the first registration (of any status, found through its index) to now."""
    with (engine or db.get_engine()).connect() as conn:
        first = conn.execute(select(func.min(Practice.created_at))).scalar()
    this_year = datetime.now(UTC).year
    return (min(first.year, this_year) if first else this_year), this_year


@dataclass(frozen=True)
class Uptake:
    """Everything the map page shows for one set of filters."""

    countries: pd.DataFrame
    flows: pd.DataFrame
    twinnings: pd.DataFrame
    profile: pd.DataFrame
    domains: pd.DataFrame


def overview(filters: UptakeFilters, *, engine: Engine | None = None) -> Uptake:
    """The uptake by country, flows, twinnings, practice profile and domains for `filters`."""
    return Uptake(
        countries=country_uptake(filters, engine=engine),
        flows=cross_border_flows(filters, engine=engine),
        twinnings=twinnings(filters, engine=engine),
        profile=practice_profile(filters, engine=engine),
        domains=domains_by_type(filters, engine=engine),
    )


@dataclass(frozen=True)
class CountryDetail:
    """A country's panel: its practice profile and its practices (the first `limit`)."""

    profile: pd.DataFrame
    practices: pd.DataFrame


def country_detail(
    filters: UptakeFilters, country: str, *, limit: int = 100, engine: Engine | None = None
) -> CountryDetail:
    """The profile and the list of the practices deployed in `country`."""
    return CountryDetail(
        profile=practice_profile(filters, country=country, engine=engine),
        practices=country_practices(filters, country, limit=limit, engine=engine),
    )


# --- public indicators ---------------------------------------------------------------------


@cache
def _indicator_rows() -> tuple[tuple[str, str, int, float], ...]:
    with open(DATA_DIR / "ehealth_indicators.csv", encoding="utf-8") as f:
        return tuple(
            (row["iso_a2"], row["indicator_code"], int(row["year"]), float(row["value"]))
            for row in csv.DictReader(f)
            if row["iso_a2"] and row["value"]
        )


def ehealth_indicator(code: str, year: int | None = None) -> pd.DataFrame:
    """A shipped Eurostat indicator per country (percent of individuals) in `year`; without a
    year, the latest value of each country."""
    rows = pd.DataFrame(_indicator_rows(), columns=["country", "indicator", "year", "value"])
    rows = rows[rows["indicator"] == code].sort_values(["country", "year"])
    if year is not None:
        rows = rows[rows["year"] == year]
    latest = rows.groupby("country", as_index=False).last()
    return latest[["country", "year", "value"]].reset_index(drop=True)


@dataclass(frozen=True)
class IndicatorComparison:
    """A metric of the platform beside a public indicator of one year, one row per country."""

    metric: str
    indicator: str
    #: The indicator's latest year, the same for every country compared.
    year: int
    #: country, name, the metric, the indicator (percent) and the year, for the countries with
    #: a value that year.
    frame: pd.DataFrame
    #: Names of the countries left out: no value of the indicator in `year`.
    missing: tuple[str, ...]


def indicator_comparison(
    countries: pd.DataFrame, metric: str, indicator: str
) -> IndicatorComparison:
    """A metric of `country_uptake` beside a public indicator in its latest year.

    One common year, so that no country's old value stands beside another's new one.
    """
    year = int(ehealth_indicator(indicator)["year"].max())
    public = ehealth_indicator(indicator, year).rename(columns={"value": indicator})
    compared = countries[["country", "name", metric]].merge(public, on="country")
    columns = ["country", "name", metric, indicator, "year"]
    missing = countries.loc[~countries["country"].isin(public["country"]), "name"]
    return IndicatorComparison(
        metric=metric,
        indicator=indicator,
        year=year,
        frame=compared[columns].sort_values("country", ignore_index=True),
        missing=tuple(sorted(missing)),
    )
