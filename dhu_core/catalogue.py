"""The catalogue (RADAR): full-text search of published practices, with filters and facet counts.

Facet counts are *disjunctive*: each facet is counted over the practices that match every
other filter but not the facet's own one, so a visitor who ticked "App" still sees how many
policies there are and can widen the choice (values within a facet are OR, facets are AND).
"""

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sqlalchemy import (
    CTE,
    ColumnElement,
    Engine,
    Select,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy import column as sql_column
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session

from dhu_core import db, geo, taxonomy
from dhu_core import params as url
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
            attribute: tuple(dict.fromkeys(url.known(url.values(params.get(name)), parse)))
            for name, (attribute, parse) in _LIST_PARAMS.items()
        }
        sort = url.last(params.get("sort")).casefold()
        return cls(
            text=" ".join(url.strings(params.get("q")))[:MAX_TEXT],
            **lists,
            transferable={"yes": True, "no": False}.get(
                url.last(params.get("transferable")).casefold()
            ),
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
    with db.read_scope(engine) as session:
        ordered = _ordered(query, dialect).offset(offset).limit(page_size)
        ids = list(session.exec(ordered).scalars())
        total, facets = _total_and_facets(session, query, dialect)
        return CataloguePage(total=total, practices=load_public(session, ids), facets=facets)


def matching_ids(query: CatalogueQuery, *, engine: Engine | None = None) -> list[int]:
    """Ids of all published practices matching `query`, in its sort order (paging ignored)."""
    engine = engine or db.get_engine()
    with db.read_scope(engine) as session:
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


def _int(raw: object, *, default: int, least: int, most: int) -> int:
    try:
        return min(max(int(url.last(raw)), least), most)
    except ValueError:
        return default


# --- SQL -----------------------------------------------------------------------------------

#: Facets that come from a practice's tags (the others from its columns and deployments).
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
    """How many practices match, and the counts per value of each facet.

    A facet with a filter of its own is counted over the practices matching every other
    filter; the others share the full match. SQL finds each set of practices (text and
    filters); the counting runs on the in-memory `FacetIndex`, because counting hundreds of
    thousands of tags in SQL takes longer than a visitor should wait.
    """
    index = _facet_index(session)
    words = _words(query.text)
    hits = _hits(words, dialect) if words else None
    chosen = [facet for facet in FACETS if _filters_on(query, facet)]
    served = {"": [facet for facet in FACETS if facet not in chosen]}
    served |= {facet: [facet] for facet in chosen}
    total = 0
    facets: dict[str, dict[str, int]] = {}
    for skip, wanted in served.items():
        if not words and all(facet in (skip,) for facet in chosen):
            ids = None  # every published practice: no SQL needed
        else:
            statement = _matching(query, dialect, Practice.id, skip=skip, hits=hits)
            ids = session.exec(statement).scalars().all()
        counts = index.counts(ids)
        if not skip:
            total = index.size if ids is None else len(ids)
        for facet in wanted:
            facets[facet] = dict(sorted(counts[facet].items(), key=_largest_first))
    return total, {facet: facets[facet] for facet in FACETS}


def _filters_on(query: CatalogueQuery, facet: str) -> bool:
    if facet == "transferable":
        return query.transferable is not None
    return bool(getattr(query, _LIST_PARAMS[facet][0]))


class FacetIndex:
    """The facet values of every published practice as a 0/1 matrix (practice × value).

    Counting a set of practices is then one sparse matrix-vector product. Built once per data
    version (see `_facet_index`): every write changes the version, and the next search
    rebuilds it.
    """

    def __init__(self, ids: np.ndarray, pairs: list[tuple[int, str, str]]) -> None:
        self.ids = ids
        self.size = len(ids)
        self.columns = sorted({(facet, value) for _, facet, value in pairs})
        column_of = {column: i for i, column in enumerate(self.columns)}
        rows = np.searchsorted(ids, np.fromiter((p for p, _, _ in pairs), dtype=np.int64))
        cols = np.fromiter((column_of[(f, v)] for _, f, v in pairs), dtype=np.int64)
        matrix = sparse.csr_matrix(
            (np.ones(len(pairs)), (rows, cols)), shape=(self.size, len(self.columns))
        )
        self.matrix = (matrix > 0).astype(np.float64).tocsc()  # a DHI group counts once

    @classmethod
    def build(cls, session: Session) -> "FacetIndex":
        """Read the facet values of the published practices (three queries)."""
        published = Practice.status == "published"
        rows = session.exec(
            select(Practice.id, Practice.practice_type, Practice.maturity, Practice.transferable)
            .where(published)
            .order_by(Practice.id)
        ).all()
        pairs = [(i, "type", t) for i, t, _, _ in rows if t]
        pairs += [(i, "maturity", str(m)) for i, _, m, _ in rows if m is not None]
        pairs += [(i, "transferable", "yes" if f else "no") for i, _, _, f in rows if f is not None]
        countries = select(PracticeCountry.practice_id, PracticeCountry.country).join(
            Practice, Practice.id == PracticeCountry.practice_id
        )
        pairs += [(i, "country", c) for i, c in session.exec(countries.where(published))]
        tags = select(PracticeTag.practice_id, PracticeTag.kind, PracticeTag.code).join(
            Practice, Practice.id == PracticeTag.practice_id
        )
        pairs += [
            (i, kind, code.split(".")[0] + ".0" if kind == "dhi" else code)
            for i, kind, code in session.exec(tags.where(published))
            if kind in _TAG_FACETS
        ]
        return cls(np.array([row[0] for row in rows], dtype=np.int64), pairs)

    def counts(self, ids: list[int] | None) -> dict[str, Counter[str]]:
        """Facet -> value -> how many of the practices `ids` (None: all) have it."""
        if ids is None:
            weights = np.ones(self.size)
        else:
            wanted = np.asarray(ids, dtype=np.int64)
            positions = np.searchsorted(self.ids, wanted).clip(0, max(self.size - 1, 0))
            known = positions[self.ids[positions] == wanted] if self.size else positions[:0]
            weights = np.zeros(self.size)
            weights[known] = 1.0
        totals = self.matrix.T @ weights if self.size else np.zeros(len(self.columns))
        counts: dict[str, Counter[str]] = {facet: Counter() for facet in FACETS}
        for (facet, value), n in zip(self.columns, totals, strict=True):
            if n:
                counts[facet][value] = int(n)
        return counts


_FACET_INDEXES: dict[tuple[str, int], FacetIndex] = {}


def _facet_index(session: Session) -> FacetIndex:
    """The facet index of this database at its current data version (one kept per process)."""
    key = (str(session.get_bind().url), db.data_version_in(session))
    index = _FACET_INDEXES.get(key)
    if index is None:
        index = FacetIndex.build(session)
        _FACET_INDEXES.clear()
        _FACET_INDEXES[key] = index
    return index


def _largest_first(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]
