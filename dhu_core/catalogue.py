"""The catalogue (RADAR): full-text search of published practices, with filters and facet counts.

Facet counts are *disjunctive*: each facet is counted over the practices that match every
other filter but not the facet's own one, so a visitor who ticked "App" still sees how many
policies there are and can widen the choice (values within a facet are OR, facets are AND).
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import (
    CTE,
    ColumnElement,
    Engine,
    Select,
    false,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy import column as sql_column
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session

from dhu_core import db, facet_index, freshness, geo, taxonomy
from dhu_core import params as url
from dhu_core.config import DATA_DIR
from dhu_core.facet_index import DHI_CODE, FACETS, FRESHNESS, FacetIndex, Hits
from dhu_core.models import (
    LISTED,
    FieldError,
    Practice,
    PracticeCountry,
    PracticePublic,
    PracticeTag,
)
from dhu_core.practices import load_public

SORTS = ("relevance", "newest", "oldest", "title", "maturity")
#: Ten cards fill a phone's screen about six times; twenty made the page 5,000–7,600 px long.
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
#: Far beyond any real catalogue, and small enough that the row offset fits any database.
MAX_PAGE = 1_000_000
#: Longer search text from a URL is cut to this many characters.
MAX_TEXT = 200
#: The last word of a search also matches longer words from this length on ("tele" finds
#: "telehealth"); one or two letters would match most of the catalogue.
MIN_PREFIX = 3

#: The full-text index of migration 0008 (FTS5 on SQLite, a tsvector table on PostgreSQL), see
#: `dhu_core.search_index`.
_FTS5 = table("practice_search", sql_column("rowid"))
_TSVECTOR = table("practice_search", sql_column("practice_id"), sql_column("document"))
#: bm25 weights of the FTS5 columns: title, summary, description, organisation, terms (the
#: labels of the practice's code lists).
_BM25 = "bm25(practice_search, 10.0, 4.0, 1.0, 2.0, 2.0)"
#: PostgreSQL's text search configuration of migration 0008: English stems (and accents folded
#: where the `unaccent` extension is there; migration 0016 folds the common ones everywhere).
_CONFIGURATION = "practice_search_english"
_WORD = re.compile(r"[^\W_]+")
#: Words too common to look for: PostgreSQL's `english` configuration drops the same English
#: ones; the articles and prepositions of the other interface languages go too, since the index
#: holds the code lists' labels in every language ("dossier du patient" needs no "du").
STOP_WORDS = frozenset(
    word
    for name in ("english_stop_words.txt", "interface_stop_words.txt")
    for word in (DATA_DIR / name).read_text(encoding="utf-8").split()
)


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
    #: "current" (confirmed within DHU_FRESHNESS_REMINDER_MONTHS) or "outdated" ("may be
    #: outdated"); None for both.
    freshness: str | None = None
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
        if self.freshness is not None:
            params["freshness"] = self.freshness
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
        fresh = url.last(params.get("freshness")).casefold()
        return cls(
            text=" ".join(url.strings(params.get("q")))[:MAX_TEXT],
            **lists,
            transferable={"yes": True, "no": False}.get(
                url.last(params.get("transferable")).casefold()
            ),
            freshness=fresh if fresh in FRESHNESS else None,
            sort=sort if sort in SORTS else "relevance",
            page=_int(params.get("page"), default=1, least=1, most=MAX_PAGE),
            page_size=_int(
                params.get("size"), default=DEFAULT_PAGE_SIZE, least=1, most=MAX_PAGE_SIZE
            ),
        )

    @classmethod
    def from_params_strictly(cls, params: Mapping[str, str | list[str]]) -> "CatalogueQuery":
        """The query from URL query parameters of a machine (a feed reader, an API client):
        FieldError on the first unknown parameter or value, where `from_params` drops them."""
        for name, raw in params.items():
            if name not in PARAMS:
                raise FieldError(name, f"unknown parameter '{name}' (use: {', '.join(PARAMS)})")
            if name in _LIST_PARAMS:
                for value in url.values(raw):
                    try:
                        _LIST_PARAMS[name][1](value)
                    except ValueError as error:
                        raise FieldError(name, str(error)) from None
            elif name in _CHOICES and url.last(raw).casefold() not in _CHOICES[name]:
                choices = ", ".join(_CHOICES[name])
                raise FieldError(name, f"unknown {name} '{url.last(raw)}' (use one of: {choices})")
            elif name in ("page", "size") and not url.last(raw).isdecimal():
                raise FieldError(name, f"{name} is a whole number from 1")
        return cls.from_params(params)


@dataclass(frozen=True)
class CataloguePage:
    """One page of a catalogue search: how many match, the page's practices, facet counts."""

    total: int
    practices: list[PracticePublic]
    #: Facet name (type, maturity, country, domain, dhi, standard, language, transferable) ->
    #: value -> number of matching practices, largest first; values counting none are absent.
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    #: The page shown: the one asked for, or the last one when it asked for more.
    page: int = 1
    #: How many pages the result fills (1 when nothing matches).
    pages: int = 1


def search(
    query: CatalogueQuery, *, engine: Engine | None = None, now: datetime | None = None
) -> CataloguePage:
    """One page of the listed practices matching `query`, with the total and facet counts.

    A page past the end shows the last page (`CataloguePage.page` says which). Freshness is
    judged as of `now` (default: the present).
    """
    engine = engine or db.get_engine()
    dialect = engine.dialect.name
    page_size = min(max(query.page_size, 1), MAX_PAGE_SIZE)
    outdated_before = freshness.outdated_before(now)
    with db.read_scope(engine) as session:
        index = facet_index.current(session, outdated_before)
        words = _words(query.text)
        hits = index.hits(words, lambda: _scored_hits(session, index, words, dialect))
        matched, facets = _matched_and_facets(query, index, hits)
        total = index.size if matched is None else len(matched)
        pages = max(1, -(-total // page_size))
        page = min(max(query.page, 1), pages)
        offset = (page - 1) * page_size
        if hits is not None and query.sort == "relevance":
            ids = index.by_relevance(matched, hits)[offset : offset + page_size].tolist()
        else:
            ordered = _ordered(query, dialect, outdated_before).offset(offset).limit(page_size)
            ids = list(session.exec(ordered).scalars())
        return CataloguePage(
            total=total,
            practices=load_public(session, ids),
            facets=facets,
            page=page,
            pages=pages,
        )


def matching_ids(
    query: CatalogueQuery,
    *,
    engine: Engine | None = None,
    now: datetime | None = None,
    limit: int | None = None,
) -> list[int]:
    """Ids of the listed practices matching `query` in its sort order (paging ignored): all,
    or the first `limit`. Straight from SQL, without the facet index that `search` keeps."""
    engine = engine or db.get_engine()
    ordered = _ordered(query, engine.dialect.name, freshness.outdated_before(now)).limit(limit)
    with db.read_scope(engine) as session:
        return list(session.exec(ordered).scalars())


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
#: URL parameters of one value from a fixed choice -> the values it takes.
_CHOICES = {"transferable": ("yes", "no"), "freshness": FRESHNESS, "sort": SORTS}
#: Every URL parameter of a catalogue view.
PARAMS = ("q", *_LIST_PARAMS, *_CHOICES, "page", "size")


def _int(raw: object, *, default: int, least: int, most: int) -> int:
    try:
        return min(max(int(url.last(raw)), least), most)
    except ValueError:
        return default


# --- SQL -----------------------------------------------------------------------------------


def _words(text: str) -> list[str] | None:
    """The words to look for (casefolded, each once, common words left out); None for a search
    without words."""
    words = list(dict.fromkeys(_WORD.findall(text.casefold())))
    return [word for word in words if word not in STOP_WORDS] if words else None


def _hits(words: list[str], dialect: str, *, scored: bool = False) -> CTE:
    """Ids of the practices that hold every word (by its stem) in any of their indexed fields,
    and with `scored` a `score` (best lowest)."""
    if dialect == "sqlite":
        # Each word is quoted as an FTS5 phrase, so nothing a user types is query syntax.
        phrases = _all_of(words, quote='"', conjunction=" AND ", either="{0} OR {0}*")
        statement = select(_FTS5.c.rowid.label("id"))
        condition = literal_column("practice_search").op("MATCH")(phrases)
        score = literal_column(_BM25)
    else:
        # Words hold only letters and digits, so quoting them leaves no tsquery syntax.
        terms = _all_of(words, quote="'", conjunction=" & ", either="{0} | {0}:*")
        # Folded as the index is (migration 0016): "Kraków" finds "Krakow" and back.
        tsquery = func.to_tsquery(_CONFIGURATION, func.practice_search_fold(terms))
        statement = select(_TSVECTOR.c.practice_id.label("id"))
        condition = _TSVECTOR.c.document.op("@@")(tsquery)
        score = -func.ts_rank(_TSVECTOR.c.document, tsquery)
    if scored:
        statement = statement.add_columns(score.label("score"))
    # Only common words ("the", "and"): PostgreSQL does not index them, so here too they
    # match nothing.
    statement = statement.where(condition if words else false())
    # SQLite without table statistics would otherwise drive the join from the status index and
    # run the full-text query once per published practice; materialised, it runs once.
    return statement.cte("hits").prefix_with("MATERIALIZED", dialect="sqlite")


def _all_of(words: list[str], *, quote: str, conjunction: str, either: str) -> str:
    """Every word, quoted. The last also matches as a prefix once it is long enough to be
    selective ("tele" finds "telehealth"); `either` keeps its whole-word match, which scores
    higher."""
    terms = [f"{quote}{word}{quote}" for word in words]
    if words and len(words[-1]) >= MIN_PREFIX:
        terms[-1] = "(" + either.format(terms[-1]) + ")"
    return conjunction.join(terms)


def _matching(
    query: CatalogueQuery,
    dialect: str,
    outdated_before: datetime,
    *columns,
    hits: CTE | None = None,
) -> Select:
    """SELECT `columns` of the listed practices matching `query` (text `hits` given or
    found)."""
    statement = select(*columns).select_from(Practice)
    if (words := _words(query.text)) is not None:
        hits = _hits(words, dialect) if hits is None else hits
        statement = statement.join(hits, hits.c.id == Practice.id)
    return statement.where(*_filters(query, outdated_before, per_hit=words is not None))


def _filters(
    query: CatalogueQuery, outdated_before: datetime, *, per_hit: bool
) -> list[ColumnElement[bool]]:
    """Conditions on `Practice` for every filter of `query`."""
    filters: list[ColumnElement[bool]] = [LISTED]
    if query.freshness == "outdated":
        filters.append(Practice.last_confirmed_at < outdated_before)
    elif query.freshness == "current":
        filters.append(Practice.last_confirmed_at >= outdated_before)
    if query.practice_types:
        filters.append(Practice.practice_type.in_(query.practice_types))
    if query.maturities:
        filters.append(Practice.maturity.in_(query.maturities))
    if query.transferable is not None:
        filters.append(Practice.transferable == query.transferable)
    if query.countries:
        deployed = PracticeCountry.country.in_(query.countries)
        filters.append(_linked(PracticeCountry.practice_id, deployed, per_hit=per_hit))
    for kind, codes in _chosen_tags(query).items():
        if codes:
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


def _ordered(query: CatalogueQuery, dialect: str, outdated_before: datetime) -> Select:
    """The ids of the matching practices in the query's sort order."""
    newest = (Practice.published_at.desc(), Practice.id.desc())
    if query.sort == "relevance" and (words := _words(query.text)) is not None:
        hits = _hits(words, dialect, scored=True)
        matching = _matching(query, dialect, outdated_before, Practice.id, hits=hits)
        return matching.order_by(hits.c.score, *newest)
    order = {
        "oldest": (Practice.published_at, Practice.id),
        "title": (func.lower(Practice.title), Practice.id),
        "maturity": (Practice.maturity.desc(), *newest),
    }.get(query.sort, newest)
    return _matching(query, dialect, outdated_before, Practice.id).order_by(*order)


def _scored_hits(session: Session, index: FacetIndex, words: list[str], dialect: str) -> Hits:
    """Run the full-text search once; what the page, the total and the facets start from."""
    hits = _hits(words, dialect, scored=True)
    found = session.execute(select(hits.c.id, hits.c.score)).all()
    ids = np.fromiter((row[0] for row in found), dtype=np.int64, count=len(found))
    scores = np.fromiter((row[1] for row in found), dtype=np.float64, count=len(found))
    rows, published = index.locate(ids)
    return Hits(rows=rows, scores=scores[published])


def _matched_and_facets(
    query: CatalogueQuery, index: FacetIndex, hits: Hits | None
) -> tuple[np.ndarray | None, dict[str, dict[str, int]]]:
    """The `FacetIndex` rows of the matching practices (None: all), and the counts per value of
    each facet.

    A facet with a filter of its own is counted over the practices matching every other
    filter; the others share the full match. Both run on the in-memory `FacetIndex`, from the
    text's `hits`: counting hundreds of thousands of tags in SQL takes longer than a visitor
    should wait.
    """
    chosen = [facet for facet in FACETS if _filters_on(query, facet)]
    served = {"": [facet for facet in FACETS if facet not in chosen]}
    served |= {facet: [facet] for facet in chosen}
    matched = None
    facets: dict[str, dict[str, int]] = {}
    for skip, wanted in served.items():
        rows = index.matching(_chosen_values(query, skip), None if hits is None else hits.rows)
        counts = index.counts(rows)
        if not skip:
            matched = rows
        for facet in wanted:
            facets[facet] = dict(sorted(counts[facet].items(), key=_largest_first))
    return matched, {facet: facets[facet] for facet in FACETS}


def _chosen_values(query: CatalogueQuery, skip: str) -> dict[str, list[str]]:
    """The `FacetIndex` values each filter but `skip` accepts (any of them), as `_filters`
    selects in SQL."""
    chosen = {
        "type": list(query.practice_types),
        "maturity": [str(level) for level in query.maturities],
        "transferable": {None: [], True: ["yes"], False: ["no"]}[query.transferable],
        "freshness": [query.freshness] if query.freshness else [],
        "country": list(query.countries),
    } | _chosen_tags(query)
    chosen[DHI_CODE] = chosen.pop("dhi")
    skipped = DHI_CODE if skip == "dhi" else skip
    return {facet: values for facet, values in chosen.items() if values and facet != skipped}


def _filters_on(query: CatalogueQuery, facet: str) -> bool:
    if facet == "transferable":
        return query.transferable is not None
    if facet == "freshness":
        return query.freshness is not None
    return bool(getattr(query, _LIST_PARAMS[facet][0]))


def _largest_first(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]
