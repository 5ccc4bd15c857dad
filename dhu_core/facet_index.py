"""The catalogue's facet index: the facet values of every listed practice as a 0/1 matrix
(practice × value), kept in memory by each process and brought up to date from the change log.

A transaction that changes the catalogue notes on its change-log row the practices whose facet
values it changed (see `dhu_core.changes`). The first search after it reads the catalogue rows
its process has not taken up yet, reads those practices again, and swaps in an index patched
with them while searches already running finish on the old one. A row that does not say which
practices (a bulk statement; more than `changes.MOST_PRACTICES`), more than `MOST_PATCHED`
practices in all, or rows pruned away since make it read every practice, as the first search
of a process does. From one day to the next, practices confirmed too long ago become "may be
outdated": their freshness follows from the confirmation times the index keeps.
"""

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from scipy import sparse
from sqlalchemy import ColumnElement, func, select
from sqlmodel import Session

from dhu_core import build_process, changes, db, taxonomy
from dhu_core.models import LISTED, Practice, PracticeCountry, PracticeTag

#: Facet names, as in the URL parameters (the DHI facet counts groups 1.0 to 4.0).
FACETS = (
    "type",
    "maturity",
    "country",
    "domain",
    "dhi",
    "standard",
    "language",
    "transferable",
    "freshness",
)
#: Values of the freshness facet: confirmed within the reminder period, or "may be outdated".
FRESHNESS = ("current", "outdated")
#: Facets that come from a practice's tags (the others from its columns and deployments).
TAG_FACETS = ("domain", "dhi", "standard", "language")
#: The index keeps a practice's DHI codes too, for filters on a category or intervention (the
#: "dhi" facet counts groups only).
DHI_CODE = "dhi-code"
#: How many searches' text hits each facet index keeps (at most ~0.3 MB each at 100,000
#: practices).
KEPT_HITS = 32
#: More practices changed than this since an index was built: reading them all again is about
#: as quick as patching.
MOST_PATCHED = 2000
#: The time of a practice never published or confirmed, as a number: before any other.
NEVER = -(2**62)

#: The freshness columns come first in every index, whether or not a practice has them.
_FRESHNESS_COLUMNS = tuple(("freshness", value) for value in FRESHNESS)
#: A listing's keys hold the practice's id in their low bits (ids are 32-bit integers).
_ID_BITS = 32
_ID_MASK = (1 << _ID_BITS) - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: The values of every matrix (see `_ones`).
_ONES = np.ones(0, dtype=np.float32)


@dataclass(frozen=True)
class Hits:
    """The listed practices that hold the search words: their rows in the `FacetIndex`, and
    their scores (best lowest)."""

    rows: np.ndarray
    scores: np.ndarray


@dataclass(frozen=True)
class Listing:
    """The facet values of listed practices as read from the database (freshness aside, which
    depends on the day): what a `FacetIndex` is made of, and patched."""

    #: The practices, in id order.
    ids: np.ndarray
    #: When each was published and last confirmed (microseconds; `NEVER` if it was not).
    published: np.ndarray
    confirmed: np.ndarray
    #: Every (facet, value) any practice has or had; the freshness ones first.
    columns: tuple[tuple[str, str], ...]
    #: One key per value a practice has, `column << 32 | practice id`, in order: by column,
    #: then by practice, as the matrix is laid out (see `_matrix`).
    keys: np.ndarray

    def patched(self, changed: np.ndarray, fresh: "Listing") -> "Listing":
        """This listing with the practices `changed` as `fresh` has them (absent there: no
        longer listed)."""
        columns = dict(zip(self.columns, range(len(self.columns)), strict=True))
        for column in fresh.columns:
            columns.setdefault(column, len(columns))
        remap = np.array([columns[column] for column in fresh.columns], dtype=np.int64)
        added = np.sort(remap[fresh.keys >> _ID_BITS] << _ID_BITS | fresh.keys & _ID_MASK)
        gone = np.zeros(max(self.ids.max(initial=0), changed.max()) + 1, dtype=bool)
        gone[changed] = True
        keys = self.keys[~gone[self.keys & _ID_MASK]]
        kept = ~gone[self.ids]
        ids = np.concatenate([self.ids[kept], fresh.ids])
        order = np.argsort(ids, kind="stable")
        return Listing(
            ids=ids[order],
            published=np.concatenate([self.published[kept], fresh.published])[order],
            confirmed=np.concatenate([self.confirmed[kept], fresh.confirmed])[order],
            columns=tuple(columns),
            keys=np.insert(keys, np.searchsorted(keys, added), added),
        )


def read_listing(session: Session, *conditions: ColumnElement[bool]) -> Listing:
    """The facet values of the listed practices that meet `conditions` (three queries)."""
    columns = {column: i for i, column in enumerate(_FRESHNESS_COLUMNS)}
    owners: list[int] = []
    values: list[int] = []

    def holds(practice_id: int, facet: str, value: str) -> None:
        owners.append(practice_id)
        values.append(columns.setdefault((facet, value), len(columns)))

    listed = (LISTED, *conditions)
    rows = session.execute(
        select(
            Practice.id,
            Practice.practice_type,
            Practice.maturity,
            Practice.transferable,
            Practice.published_at,
            Practice.last_confirmed_at,
        )
        .where(*listed)
        .order_by(Practice.id)
    ).all()
    for row in rows:
        if row.practice_type:
            holds(row.id, "type", row.practice_type)
        if row.maturity is not None:
            holds(row.id, "maturity", str(row.maturity))
        if row.transferable is not None:
            holds(row.id, "transferable", "yes" if row.transferable else "no")
    countries = select(PracticeCountry.practice_id, PracticeCountry.country).join(
        Practice, Practice.id == PracticeCountry.practice_id
    )
    for practice_id, country in session.execute(countries.where(*listed)):
        holds(practice_id, "country", country)
    tags = select(PracticeTag.practice_id, PracticeTag.kind, PracticeTag.code).join(
        Practice, Practice.id == PracticeTag.practice_id
    )
    for practice_id, kind, code in session.execute(tags.where(*listed)):
        if kind == "dhi":
            holds(practice_id, "dhi", taxonomy.dhi_group(code))
            holds(practice_id, DHI_CODE, code)
        elif kind in TAG_FACETS:
            holds(practice_id, kind, code)
    keys = np.array(values, dtype=np.int64) << _ID_BITS | np.array(owners, dtype=np.int64)
    return Listing(
        ids=np.array([row.id for row in rows], dtype=np.int64),
        published=np.array([microseconds(row.published_at) for row in rows], dtype=np.int64),
        confirmed=np.array([microseconds(row.last_confirmed_at) for row in rows], dtype=np.int64),
        columns=tuple(columns),
        keys=np.unique(keys),  # once each: two DHI codes of one group make one "dhi" value
    )


class FacetIndex:
    """The facet values of every listed practice as a 0/1 matrix (practice × value), with its
    DHI codes (for filters) and publication time (for the order).

    Counting a set of practices is then one sparse matrix-vector product. An index is never
    changed once made: a newer one is made from it (see `current`).
    """

    def __init__(
        self,
        listing: Listing,
        outdated_before: datetime,
        seen: changes.Seen,
        *,
        matrix: sparse.csc_matrix | None = None,
    ) -> None:
        self.listing = listing
        self.ids = listing.ids
        self.size = len(listing.ids)
        #: When each practice was published (microseconds), to order equally relevant ones.
        self.published = listing.published
        self.columns = listing.columns
        self._column = {column: i for i, column in enumerate(self.columns)}
        #: Practices confirmed before this may be outdated.
        self.outdated_before = outdated_before
        #: The catalogue's rows of the change log that the index has taken up.
        self.seen = seen
        self.matrix = _matrix(listing, outdated_before) if matrix is None else matrix
        #: The text hits of the last searches: paging through a search, or changing its
        #: filters, does not run its full-text query again (~40 ms for a common word at
        #: 100,000 practices). Kept as long as the index, so until the catalogue changes.
        self._hits: OrderedDict[tuple[str, ...], Hits] = OrderedDict()
        self._hits_lock = threading.Lock()

    @classmethod
    def build(cls, session: Session, outdated_before: datetime) -> "FacetIndex":
        """Read the facet values of every listed practice; those confirmed before
        `outdated_before` may be outdated."""
        # The log first: a practice changed after it is read again at the next patch.
        _, seen = changes.rows_since(session, changes.CATALOGUE, None)
        return cls(read_listing(session), outdated_before, seen)

    def brought_up_to_date(self, session: Session, outdated_before: datetime) -> "FacetIndex":
        """An index of the catalogue as `session` sees it now: this one patched with the
        practices changed since, or built again when the log does not say which."""
        since = changes.rows_since(session, changes.CATALOGUE, self.seen)
        changed = None if since is None else _changed(since[0])
        if changed is None:
            return _built(session, outdated_before)
        notes, seen = since
        if not notes and outdated_before == self.outdated_before:
            return self
        if not changed.size and outdated_before == self.outdated_before:
            # The text of some practice may have changed: the hits go, the matrix stays.
            return FacetIndex(self.listing, outdated_before, seen, matrix=self.matrix)
        listing = self.listing
        if changed.size:
            in_changed = Practice.id.in_(changed.tolist())
            listing = listing.patched(changed, read_listing(session, in_changed))
        return FacetIndex(listing, outdated_before, seen)

    def hits(self, words: list[str] | None, search: Callable[[], Hits]) -> Hits | None:
        """The hits of `words` (None without words): those of a recent search of the same
        words, else `search()`, then kept (the last `KEPT_HITS`)."""
        if words is None:
            return None
        key = tuple(words)
        with self._hits_lock:
            if (kept := self._hits.get(key)) is not None:
                self._hits.move_to_end(key)
                return kept
        found = search()
        with self._hits_lock:
            self._hits[key] = found
            while len(self._hits) > KEPT_HITS:
                self._hits.popitem(last=False)
        return found

    def locate(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows of the listed practices among `ids`, and which of `ids` they are."""
        if not self.size:
            return ids[:0], np.zeros(len(ids), dtype=bool)
        rows = np.searchsorted(self.ids, ids).clip(0, self.size - 1)
        found = self.ids[rows] == ids
        return rows[found], found

    def counts(self, rows: np.ndarray | None) -> dict[str, Counter[str]]:
        """Facet -> value -> how many of the practices at `rows` (None: all) have it."""
        if rows is None:
            weights = np.ones(self.size)
        else:
            weights = np.zeros(self.size)
            weights[rows] = 1.0
        totals = self.matrix.T @ weights if self.size else np.zeros(len(self.columns))
        counts: dict[str, Counter[str]] = {facet: Counter() for facet in FACETS}
        for (facet, value), n in zip(self.columns, totals, strict=True):
            if n and facet in counts:
                counts[facet][value] = int(n)
        return counts

    def matching(self, chosen: dict[str, list[str]], rows: np.ndarray | None) -> np.ndarray | None:
        """Of the practices at `rows` (None: all), the rows of those with one of the `chosen`
        values of every facet; None when nothing is chosen and `rows` is None."""
        if not chosen:
            return rows
        keep = np.ones(self.size, dtype=bool)
        for facet, values in chosen.items():
            columns = [self._column.get((facet, value)) for value in values]
            wanted = [column for column in columns if column is not None]
            keep &= np.asarray(self.matrix[:, wanted].sum(axis=1)).ravel() > 0
        rows = np.arange(self.size) if rows is None else rows
        return rows[keep[rows]]

    def by_relevance(self, rows: np.ndarray | None, hits: Hits) -> np.ndarray:
        """The ids of the practices at `rows` (None: all hits) by score, then newest first,
        as the catalogue sorts them in SQL."""
        score = np.full(self.size, np.inf)
        score[hits.rows] = hits.scores
        rows = hits.rows if rows is None else rows
        order = np.lexsort((-self.ids[rows], -self.published[rows], score[rows]))
        return self.ids[rows[order]]


def _matrix(listing: Listing, outdated_before: datetime) -> sparse.csc_matrix:
    """The practices × values 0/1 matrix of `listing`, freshness as of `outdated_before`.

    Laid out straight from the keys' order (column by column, rows in order), as a sort of
    a million entries would take longer than the rest of a search.
    """
    size = len(listing.ids)
    row_of = np.zeros(int(listing.ids.max(initial=0)) + 1, dtype=np.int32)
    row_of[listing.ids] = np.arange(size, dtype=np.int32)
    current = listing.confirmed >= microseconds(outdated_before)
    fresh = np.flatnonzero(current).astype(np.int32)
    outdated = np.flatnonzero(~current & (listing.confirmed != NEVER)).astype(np.int32)
    columns = np.arange(len(_FRESHNESS_COLUMNS), len(listing.columns) + 1) << _ID_BITS
    starts = np.searchsorted(listing.keys, columns) + len(fresh) + len(outdated)
    rows = np.concatenate([fresh, outdated, row_of[listing.keys & _ID_MASK]])
    starts = np.concatenate([[0, len(fresh)], starts]).astype(np.int32)
    return sparse.csc_matrix((_ones(len(rows)), rows, starts), shape=(size, len(listing.columns)))


def _ones(count: int) -> np.ndarray:
    """`count` ones, read-only: a view of one array that every matrix shares (making 8 MB of
    them anew took longer than the rest of a patch on a busy machine). In float32, which counts
    exactly up to 16 million practices, in half the memory of float64."""
    global _ONES
    if len(_ONES) < count:
        _ONES = np.ones(count + count // 8, dtype=np.float32)
        _ONES.flags.writeable = False
    return _ONES[:count]


def _changed(notes: Iterable[str | None]) -> np.ndarray | None:
    """The practices the change-log rows' `notes` name, in id order; None when one does not
    say or they are too many to patch."""
    changed: set[int] = set()
    for note in notes:
        if note is None:
            return None
        changed.update(int(practice_id) for practice_id in note.split())
    if len(changed) > MOST_PATCHED:
        return None
    return np.array(sorted(changed), dtype=np.int64)


#: The facet index of each database (by URL), and the catalogue's version it was checked at.
_CURRENT: dict[str, tuple[int, FacetIndex]] = {}
#: Held while the index of a database is brought up to date (by one thread at a time).
_UPDATING: dict[str, threading.Lock] = {}


def current(session: Session, outdated_before: datetime) -> FacetIndex:
    """The facet index of the catalogue as `session` sees it, with practices confirmed before
    `outdated_before` as "may be outdated" (one kept per process and database)."""
    database = str(session.get_bind().url)
    version = db.data_version_in(session, scopes=[changes.CATALOGUE])
    if (index := _kept(database, version, outdated_before)) is not None:
        return index
    with _UPDATING.setdefault(database, threading.Lock()):
        # Another thread may have brought it up to date while this one waited.
        if (index := _kept(database, version, outdated_before)) is not None:
            return index
        _, older = _CURRENT.get(database, (0, None))
        if older is None:
            index = _built(session, outdated_before)
        else:
            index = older.brought_up_to_date(session, outdated_before)
        _CURRENT[database] = (version, index)
        return index


def _built(session: Session, outdated_before: datetime) -> FacetIndex:
    """A new index of every listed practice; read in a process of its own from
    `build_process.APART_FROM` practices (at 100,000, reading it here left 60 MB more resident
    than the index holds, and took 230 MB at its peak); it then reads the database as it is
    when it starts, no older."""
    listed = session.execute(select(func.count()).select_from(Practice).where(LISTED)).scalar_one()
    if listed < build_process.APART_FROM:
        return FacetIndex.build(session, outdated_before)
    url = session.get_bind().url.render_as_string(hide_password=False)
    listing, seen = build_process.built_apart(listing_of, url)
    return FacetIndex(listing, outdated_before, seen)


def listing_of(url: str) -> tuple[Listing, changes.Seen]:
    """The listing of every listed practice of the database at `url`, and the catalogue's
    rows of the change log it takes up (for `build_process.built_apart`)."""
    with db.read_scope(db.get_engine(url)) as session:
        # The log first, as `FacetIndex.build` reads it.
        _, seen = changes.rows_since(session, changes.CATALOGUE, None)
        return read_listing(session), seen


def _kept(database: str, version: int, outdated_before: datetime) -> FacetIndex | None:
    """The kept index when it is as new as `version` (or newer) and of the same day."""
    checked, index = _CURRENT.get(database, (0, None))
    if index is not None and checked >= version and index.outdated_before == outdated_before:
        return index
    return None


def microseconds(moment: datetime | None) -> int:
    """A time as a sortable number (`NEVER` for none); a naive time is taken as UTC."""
    if moment is None:
        return NEVER
    return (moment.replace(tzinfo=moment.tzinfo or UTC) - _EPOCH) // timedelta(microseconds=1)
