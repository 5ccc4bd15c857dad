"""The catalogue (RADAR): full-text search of published practices, with filters and facet counts.

Facet counts are *disjunctive*: each facet is counted over the practices that match every
other filter but not the facet's own one, so a visitor who ticked "App" still sees how many
policies there are and can widen the choice (values within a facet are OR, facets are AND).
"""

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import (
    CTE,
    ColumnElement,
    Engine,
    Select,
    String,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    table,
    union_all,
)
from sqlalchemy import column as sql_column
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session

from dhu_core import db, geo, taxonomy
from dhu_core.models import Practice, PracticeCountry, PracticePublic, PracticeTag
from dhu_core.practices import load_public

#: Facet names, as in the URL parameters (the DHI facet counts groups 1.0 to 4.0).
FACETS = ("type", "maturity", "country", "domain", "dhi", "standard", "language", "transferable")
SORTS = ("relevance", "newest", "oldest", "title", "maturity")
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
#: Far beyond any real catalogue, and small enough that the row offset fits any database.
MAX_PAGE = 1_000_000
#: Longer search text from a URL is cut to this many characters.
MAX_TEXT = 200
#: The last word of a search also matches longer words from this length on ("tele" finds
#: "telehealth"); one or two letters would match most of the catalogue.
MIN_PREFIX = 3

#: The full-text index of migration 0002 (FTS5 on SQLite, a tsvector table on PostgreSQL).
_FTS5 = table("practice_search", sql_column("rowid"))
_TSVECTOR = table("practice_search", sql_column("practice_id"), sql_column("document"))
#: bm25 weights of the FTS5 columns: title, summary, description, organisation.
_BM25 = "bm25(practice_search, 10.0, 4.0, 1.0, 2.0)"
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, kw_only=True)
class CatalogueQuery:
    """What a visitor looks for: words, filters (OR within one, AND between them), order, page."""

    text: str = ""
    practice_types: tuple[str, ...] = ()
    maturities: tuple[int, ...] = ()
    countries: tuple[str, ...] = ()
    health_domains: tuple[str, ...] = ()
    dhi_codes: tuple[str, ...] = ()
    standards: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    transferable: bool | None = None
    #: "relevance" orders by text match, and falls back to "newest" when there is no text.
    sort: str = "relevance"
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    def to_params(self) -> dict[str, str | list[str]]:
        """The query as URL query parameters (lists as repeated keys), defaults left out."""
        params: dict[str, str | list[str]] = {}
        if self.text:
            params["q"] = self.text
        for name, (attribute, _) in _LIST_PARAMS.items():
            if values := getattr(self, attribute):
                params[name] = [str(value) for value in values]
        if self.transferable is not None:
            params["transferable"] = "yes" if self.transferable else "no"
        if self.sort != "relevance":
            params["sort"] = self.sort
        if self.page != 1:
            params["page"] = str(self.page)
        if self.page_size != DEFAULT_PAGE_SIZE:
            params["size"] = str(self.page_size)
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, str | list[str]]) -> "CatalogueQuery":
        """The query from URL query parameters; unknown codes and malformed values are ignored."""
        lists = {
            attribute: tuple(dict.fromkeys(_known(_values(params.get(name)), parse)))
            for name, (attribute, parse) in _LIST_PARAMS.items()
        }
        sort = _last(params.get("sort"))
        return cls(
            text=" ".join(_strings(params.get("q")))[:MAX_TEXT],
            **lists,
            transferable={"yes": True, "no": False}.get(_last(params.get("transferable"))),
            sort=sort if sort in SORTS else "relevance",
            page=_int(params.get("page"), default=1, least=1, most=MAX_PAGE),
            page_size=_int(
                params.get("size"), default=DEFAULT_PAGE_SIZE, least=1, most=MAX_PAGE_SIZE
            ),
        )


@dataclass(frozen=True)
class CataloguePage:
    """One page of a catalogue search: how many match, the page's practices, facet counts."""

    total: int
    practices: list[PracticePublic]
    #: Facet name (type, maturity, country, domain, dhi, standard, language, transferable) ->
    #: value -> number of matching practices, largest first; values counting none are absent.
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


def search(query: CatalogueQuery, *, engine: Engine | None = None) -> CataloguePage:
    """One page of the published practices matching `query`, with the total and facet counts."""
    engine = engine or db.get_engine()
    dialect = engine.dialect.name
    page_size = min(max(query.page_size, 1), MAX_PAGE_SIZE)
    offset = (min(max(query.page, 1), MAX_PAGE) - 1) * page_size
    with db.session_scope(engine) as session:
        ordered = _ordered(query, dialect).offset(offset).limit(page_size)
        ids = list(session.exec(ordered).scalars())
        total, facets = _total_and_facets(session, query, dialect)
        return CataloguePage(total=total, practices=load_public(session, ids), facets=facets)


def matching_ids(query: CatalogueQuery, *, engine: Engine | None = None) -> list[int]:
    """Ids of all published practices matching `query`, in its sort order (paging ignored)."""
    engine = engine or db.get_engine()
    with db.session_scope(engine) as session:
        return list(session.exec(_ordered(query, engine.dialect.name)).scalars())


# --- URL parameters ------------------------------------------------------------------------


def _code(code_list: taxonomy.CodeList) -> Callable[[str], str | int]:
    return code_list.normalise


def _dhi(value: str) -> str:
    try:
        return taxonomy.DHI_CODES.normalise(value)
    except ValueError:
        return taxonomy.DHI_GROUPS.normalise(value)


#: URL parameter of each list filter -> (attribute of the query, parser of one value).
_LIST_PARAMS: dict[str, tuple[str, Callable[[str], str | int]]] = {
    "type": ("practice_types", _code(taxonomy.PRACTICE_TYPES)),
    "maturity": ("maturities", _code(taxonomy.MATURITY_LEVELS)),
    "country": ("countries", geo.normalise_country),
    "domain": ("health_domains", _code(taxonomy.HEALTH_DOMAINS)),
    "dhi": ("dhi_codes", _dhi),
    "standard": ("standards", _code(taxonomy.STANDARDS)),
    "language": ("languages", _code(taxonomy.LANGUAGES)),
}


def _strings(raw: object) -> list[str]:
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list | tuple):
        return [item for item in raw if isinstance(item, str)]
    return []


def _values(raw: object) -> list[str]:
    """Every value of a list parameter, given as repeated keys, comma-separated, or both."""
    return [part.strip() for item in _strings(raw) for part in item.split(",") if part.strip()]


def _last(raw: object) -> str:
    strings = _strings(raw)
    return strings[-1].strip().casefold() if strings else ""


def _known(values: list[str], parse: Callable[[str], str | int]) -> list:
    known = []
    for value in values:
        try:
            known.append(parse(value))
        except ValueError:
            continue
    return known


def _int(raw: object, *, default: int, least: int, most: int) -> int:
    try:
        return min(max(int(_last(raw)), least), most)
    except ValueError:
        return default


# --- SQL -----------------------------------------------------------------------------------

#: Facets counted from a column of the practice; the others come from its deployments and tags.
_PRACTICE_FACETS = {
    "type": Practice.practice_type,
    "maturity": Practice.maturity,
    "transferable": Practice.transferable,
}
_TAG_FACETS = ("domain", "dhi", "standard", "language")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _hits(words: list[str], dialect: str, *, scored: bool = False) -> CTE:
    """Ids of the practices whose text holds every word, and with `scored` a `score` (best
    lowest). The last word also matches as a prefix once it is long enough to be selective."""
    prefix = len(words[-1]) >= MIN_PREFIX
    if dialect == "sqlite":
        # Each word is quoted as an FTS5 phrase, so nothing a user types is query syntax.
        phrases = " ".join(f'"{word}"' for word in words) + ("*" if prefix else "")
        statement = select(_FTS5.c.rowid.label("id"))
        condition = literal_column("practice_search").op("MATCH")(phrases)
        score = literal_column(_BM25)
    else:
        # Words hold only letters and digits, so quoting them leaves no tsquery syntax.
        terms = " & ".join(f"'{word}'" for word in words) + (":*" if prefix else "")
        tsquery = func.to_tsquery("simple", terms)
        statement = select(_TSVECTOR.c.practice_id.label("id"))
        condition = _TSVECTOR.c.document.op("@@")(tsquery)
        score = -func.ts_rank(_TSVECTOR.c.document, tsquery)
    if scored:
        statement = statement.add_columns(score.label("score"))
    # SQLite without table statistics would otherwise drive the join from the status index and
    # run the full-text query once per published practice; materialised, it runs once.
    return statement.where(condition).cte("hits").prefix_with("MATERIALIZED", dialect="sqlite")


def _matching(
    query: CatalogueQuery, dialect: str, *columns, skip: str = "", hits: CTE | None = None
) -> Select:
    """SELECT `columns` of the published practices matching `query`, bar the filter `skip`."""
    statement = select(*columns).select_from(Practice)
    if words := _words(query.text):
        hits = _hits(words, dialect) if hits is None else hits
        statement = statement.join(hits, hits.c.id == Practice.id)
    return statement.where(*_filters(query, skip, per_hit=bool(words)))


def _filters(query: CatalogueQuery, skip: str, *, per_hit: bool) -> list[ColumnElement[bool]]:
    """Conditions on `Practice` for every filter of `query` but `skip`."""
    filters: list[ColumnElement[bool]] = [Practice.status == "published"]
    if query.practice_types and skip != "type":
        filters.append(Practice.practice_type.in_(query.practice_types))
    if query.maturities and skip != "maturity":
        filters.append(Practice.maturity.in_(query.maturities))
    if query.transferable is not None and skip != "transferable":
        filters.append(Practice.transferable == query.transferable)
    if query.countries and skip != "country":
        deployed = PracticeCountry.country.in_(query.countries)
        filters.append(_linked(PracticeCountry.practice_id, deployed, per_hit=per_hit))
    for kind, codes in _chosen_tags(query).items():
        if codes and skip != kind:
            tagged = (PracticeTag.kind == kind) & PracticeTag.code.in_(codes)
            filters.append(_linked(PracticeTag.practice_id, tagged, per_hit=per_hit))
    return filters


def _linked(
    practice_id: InstrumentedAttribute, condition: ColumnElement[bool], *, per_hit: bool
) -> ColumnElement[bool]:
    """The practice has a deployment or tag meeting `condition`.

    With text hits to start from, checked `per_hit` through the link table's primary key;
    else the matching links are collected once through their (country or kind, code) index.
    """
    if per_hit:
        return select(practice_id).where(practice_id == Practice.id, condition).exists()
    return Practice.id.in_(select(practice_id).where(condition))


def _chosen_tags(query: CatalogueQuery) -> dict[str, list[str]]:
    """The codes chosen per tag kind; a DHI group or category stands for all codes under it."""
    under = [
        code
        for chosen in query.dhi_codes
        for code in taxonomy.DHI_CODES
        if code.startswith(_dhi_prefix(chosen))
    ]
    return {
        "domain": list(query.health_domains),
        "dhi": [*query.dhi_codes, *under],
        "standard": list(query.standards),
        "language": list(query.languages),
    }


def _dhi_prefix(code: str) -> str:
    """What the codes under a DHI group (1.0 -> "1.") or category (1.4 -> "1.4.") start with."""
    return code.split(".")[0] + "." if code in taxonomy.DHI_GROUPS else code + "."


def _ordered(query: CatalogueQuery, dialect: str) -> Select:
    """The ids of the matching practices in the query's sort order."""
    newest = (Practice.published_at.desc(), Practice.id.desc())
    if query.sort == "relevance" and (words := _words(query.text)):
        hits = _hits(words, dialect, scored=True)
        return _matching(query, dialect, Practice.id, hits=hits).order_by(hits.c.score, *newest)
    order = {
        "oldest": (Practice.published_at, Practice.id),
        "title": (func.lower(Practice.title), Practice.id),
        "maturity": (Practice.maturity.desc(), *newest),
    }.get(query.sort, newest)
    return _matching(query, dialect, Practice.id).order_by(*order)


def _total_and_facets(
    session: Session, query: CatalogueQuery, dialect: str
) -> tuple[int, dict[str, dict[str, int]]]:
    """How many practices match, and the counts per value of each facet, in one statement.

    A facet with a filter of its own is counted over the practices matching every other
    filter; the others share the full match. Each such set of practices is computed once
    (materialised) and counted by table: the practice's columns, its deployments, its tags.
    """
    chosen = [facet for facet in FACETS if _filters_on(query, facet)]
    served = {"": [facet for facet in FACETS if facet not in chosen]}
    served |= {facet: [facet] for facet in chosen}
    words = _words(query.text)
    hits = _hits(words, dialect) if words else None
    counts = [
        count
        for skip, wanted in served.items()
        for count in _counts(query, dialect, wanted, skip=skip, hits=hits)
    ]
    total = 0
    facets: dict[str, Counter[str]] = {facet: Counter() for facet in FACETS}
    for skip, facet, value, n in session.exec(union_all(*counts)):
        if facet == "total":
            total = n
        elif facet in served[skip] and value is not None:
            facets[facet][f"{value}.0" if facet == "dhi" else value] += n
    return total, {
        facet: dict(sorted(values.items(), key=_largest_first)) for facet, values in facets.items()
    }


def _filters_on(query: CatalogueQuery, facet: str) -> bool:
    if facet == "transferable":
        return query.transferable is not None
    return bool(getattr(query, _LIST_PARAMS[facet][0]))


def _counts(
    query: CatalogueQuery, dialect: str, facets: list[str], *, skip: str, hits: CTE | None
) -> list[Select]:
    """SELECTs of (skip, facet, value, count) for `facets`, over the practices matching every
    filter but `skip`; the full match (no `skip`) also gives the ("", "total", NULL, count)."""
    own = [facet for facet in facets if facet in _PRACTICE_FACETS]
    columns = [_PRACTICE_FACETS[facet].label(facet) for facet in own]
    matching = _matching(query, dialect, Practice.id, *columns, skip=skip, hits=hits)
    practices = matching.cte(f"matching_{skip or 'all'}")
    practices = practices.prefix_with("MATERIALIZED", dialect="sqlite")
    counts = []
    if not skip:
        total = select(_name(skip), _name("total"), null(), func.count()).select_from(practices)
        counts.append(total)
    for facet in own:
        column = practices.c[facet]
        if facet == "transferable":
            value = case((column.is_(True), "yes"), (column.is_(False), "no"))
        else:
            value = cast(column, String)
        counts.append(select(_name(skip), _name(facet), value, func.count()).group_by(column))
    # Deployments and tags are read through their primary key, for the practices in the set:
    # the planner has no other index to prefer (without table statistics, SQLite would pick
    # the country or kind index and read every deployment or tag of the catalogue).
    in_set = select(practices.c.id)
    if "country" in facets:
        counts.append(
            select(_name(skip), _name("country"), PracticeCountry.country, func.count())
            .where(PracticeCountry.practice_id.in_(in_set))
            .group_by(PracticeCountry.country)
        )
    if any(facet in _TAG_FACETS for facet in facets):
        # Tags of all kinds at once (a condition on the kind would offer the kind index).
        # DHI codes are counted by group, 1.0 to 4.0: the first character of a code names it.
        value = case(
            (PracticeTag.kind == "dhi", func.substr(PracticeTag.code, 1, 1)),
            else_=PracticeTag.code,
        )
        tagged = func.count(PracticeTag.practice_id.distinct())
        counts.append(
            select(_name(skip), PracticeTag.kind, value, tagged)
            .where(PracticeTag.practice_id.in_(in_set))
            .group_by(PracticeTag.kind, value)
        )
    return counts


def _name(name: str) -> ColumnElement[str]:
    return literal(name, String)


def _largest_first(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]
