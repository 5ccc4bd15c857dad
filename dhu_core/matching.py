"""Twinning matchmaking: which practices fit an adopter's need, why, and which pairs to make.

Every score is the weighted mean of explainable criteria, each between 0 and 1. A criterion on
what the need asks for (domains, DHI codes, types, languages, standards) that the need leaves
empty is left out of that need's mean, rather than counted as met. The ranking runs on matrices
(multi-hot codes, TF-IDF text) so that a thousand needs are ranked against a hundred thousand
practices in seconds; `rank_loop` is the plain reference it is tested against.
"""

import hashlib
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from babel.lists import format_list
from scipy import sparse
from sqlalchemy import Engine, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from dhu_core import db, geo, i18n, taxonomy
from dhu_core.i18n import N_, _, ngettext
from dhu_core.models import (
    LISTED,
    NEED_TAG_FIELDS,
    PRACTICE_TAG_FIELDS,
    NeedTag,
    Organisation,
    Practice,
    PracticeTag,
    TwinningMatch,
    TwinningNeed,
    is_listed,
)
from dhu_core.similarity import TextModel, practice_text

#: The criteria of a match, in the order they are shown, with their labels.
CRITERIA: dict[str, str] = {
    "domain": N_("Health domains"),
    "dhi": N_("WHO DHI codes"),
    "type": N_("Type of practice"),
    "maturity": N_("Maturity"),
    "language": N_("Shared language"),
    "standard": N_("Compatible standards"),
    "text": N_("Similar problem"),
    "cross_border": N_("Cross-border transfer"),
    "capacity": N_("Originator's free capacity"),
}
DEFAULT_WEIGHTS: dict[str, float] = {
    "domain": 3.0,
    "dhi": 2.0,
    "type": 1.0,
    "maturity": 1.0,
    "language": 2.0,
    "standard": 1.0,
    # The words are what every need has and the best evidence of what it is about; measured
    # on data/matching_eval (see matching_quality): with 2, maturity and capacity outweighed
    # them for needs typed in words only.
    "text": 6.0,
    "cross_border": 1.0,
    "capacity": 1.0,
}
#: The criteria on what a need asks for, with the field that asks: left out when it is empty.
ASKED: dict[str, str] = {
    "domain": "health_domains",
    "dhi": "dhi_codes",
    "type": "practice_types",
    "language": "languages",
    "standard": "standards",
}
MAX_WEIGHT = 10.0
MIN_MATURITY = 2
#: Statuses of a match in which the originator is busy with the adopter.
ACTIVE_STATUSES = ("agreed", "in-transfer")
#: Free places beyond this count as fully free.
FULL_CAPACITY = 2
#: Scores are ranked rounded to this many decimals, so that equal scores computed in a
#: different order tie, and ties go to the older practice (lower id) in both implementations.
RANK_DECIMALS = 9
#: The cosine similarity from which a practice's text counts as fully describing the need's
#: problem: two descriptions of one problem rarely share more of their terms than this
#: (their shared concepts weigh double, see similarity.CONCEPT_WEIGHT). Measured on
#: data/matching_eval, with CONCEPT_WEIGHT: 0.5 ranks 0.01 nDCG@10 lower.
TEXT_FULL = 0.7
#: Columns per chunk whose maxima bound a row's k-th best score from below.
CHUNK = 64
#: Score cells computed at once (needs in a block × practices): 4 MB of float32, which stay
#: in the processor's cache from one step to the next (measured: 15 % faster than 16 MB).
BLOCK_CELLS = 1_000_000
#: Blocks of needs scored side by side (numpy lets go of the interpreter in most of the work).
THREADS = 2
#: Well beyond how far a score summed in float32 may lie from the same sum in float64 (and
#: from the rounding of RANK_DECIMALS): a pair this close to a need's k-th best float32 score
#: or above is scored again in float64, and ranked on that.
FLOAT32_MARGIN = 1e-4


@dataclass(frozen=True, slots=True)
class NeedProfile:
    """A twinning need as the matcher reads it, with what lists of needs show."""

    id: int | None
    organisation_id: int
    country: str
    problem_statement: str
    practice_types: tuple[str, ...] = ()
    health_domains: tuple[str, ...] = ()
    dhi_codes: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    standards: tuple[str, ...] = ()
    organisation: str = ""
    twinning_type: str = "knowledge-exchange"
    timeline: str | None = None
    status: str = "open"
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PracticeProfile:
    """A practice as the matcher reads it: codes, owner, and the originator's free capacity."""

    id: int
    organisation_id: int
    country: str
    title: str
    summary: str = ""
    practice_type: str | None = None
    maturity: int | None = None
    status: str = "published"
    transferable: bool | None = True
    transfer_capacity: int = 1
    active_twinnings: int = 0
    health_domains: tuple[str, ...] = ()
    dhi_codes: tuple[str, ...] = ()
    standards: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    organisation: str = ""

    @property
    def text(self) -> str:
        """What the text similarity compares with a need's problem statement."""
        return practice_text(self.title, self.summary)

    @property
    def free_capacity(self) -> int:
        """How many more twinnings the originator can support now."""
        return max(self.transfer_capacity - self.active_twinnings, 0)


@dataclass(frozen=True)
class Candidate:
    """A practice suggested for a need: its score and the value of every criterion that counts
    for the need (those on what it does not ask for are not there)."""

    practice_id: int
    score: float
    breakdown: dict[str, float]


def is_open_for_twinning(practice: PracticeProfile) -> bool:
    """The hard filters that do not depend on the need: published, transferable, piloted."""
    return (
        is_listed(practice.status)
        and practice.transferable is True
        and (practice.maturity or 0) >= MIN_MATURITY
    )


def clean_weights(weights: Mapping[str, float] | None = None) -> dict[str, float]:
    """Every criterion's weight (missing ones are 0); ValueError on unknown or invalid ones."""
    if weights is None:
        return dict(DEFAULT_WEIGHTS)
    unknown = set(weights) - set(CRITERIA)
    if unknown:
        raise ValueError(f"unknown criteria: {', '.join(sorted(unknown))}")
    cleaned = {name: float(weights.get(name, 0.0)) for name in CRITERIA}
    for name, weight in cleaned.items():
        if not 0.0 <= weight <= MAX_WEIGHT:
            raise ValueError(
                f"the weight of {CRITERIA[name].lower()} must lie between 0 and {MAX_WEIGHT:g}"
            )
    if not sum(cleaned.values()):
        raise ValueError("give at least one criterion a weight above 0")
    return cleaned


# --- the criteria, one pair at a time ----------------------------------------------------


def dhi_category(code: str) -> str:
    """The DHI category (`1.4`) of an intervention (`1.4.2`); a category is its own."""
    return ".".join(code.split(".")[:2])


def dhi_credit(code: str, practice_codes: Iterable[str]) -> float:
    """How far a practice covers one DHI code a need asks for: 1, 0.5 (same category) or 0."""
    codes = set(practice_codes)
    category = dhi_category(code)
    in_category = any(dhi_category(c) == category for c in codes)
    if code in codes or (code == category and in_category) or category in codes:
        return 1.0
    return 0.5 if in_category else 0.0


def counted(need: NeedProfile) -> list[str]:
    """The criteria that count for a need: all but those on what it does not ask for."""
    return [name for name in CRITERIA if name not in ASKED or getattr(need, ASKED[name])]


def criteria(need: NeedProfile, practice: PracticeProfile, similarity: float) -> dict[str, float]:
    """The value of each criterion that counts for the need, for one practice (`similarity`:
    the cosine of their texts)."""
    values = {}
    if need.health_domains:
        values["domain"] = _share(need.health_domains, practice.health_domains)
    if need.dhi_codes:
        wanted = set(need.dhi_codes)
        values["dhi"] = sum(dhi_credit(code, practice.dhi_codes) for code in wanted) / len(wanted)
    if need.practice_types:
        values["type"] = float(practice.practice_type in need.practice_types)
    values["maturity"] = min(max(((practice.maturity or 0) - MIN_MATURITY) / 3, 0.0), 1.0)
    if need.languages:
        values["language"] = float(bool(set(need.languages) & set(practice.languages)))
    if need.standards:
        values["standard"] = _share(need.standards, practice.standards)
    values["text"] = text_value(similarity)
    # Transfers across borders are the platform's mission; at home they still count half.
    values["cross_border"] = 1.0 if practice.country != need.country else 0.5
    values["capacity"] = min(practice.free_capacity, FULL_CAPACITY) / FULL_CAPACITY
    return values


def text_value(similarity: float) -> float:
    """The "similar problem" criterion of a cosine similarity: as alike as two descriptions of
    one problem (`TEXT_FULL` or more) is 1."""
    return min(max(similarity / TEXT_FULL, 0.0), 1.0)


def _share(wanted: Sequence[str], offered: Sequence[str]) -> float:
    """The share of the wanted codes that are offered."""
    want = set(wanted)
    return len(want & set(offered)) / len(want)


def weighted_score(breakdown: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """The weighted mean of the criteria in `breakdown`: sum of w_i c_i over the sum of w_i
    (0 when none of them has a weight)."""
    total = sum(weights[name] for name in breakdown)
    if not total:
        return 0.0
    return sum(weights[name] * value for name, value in breakdown.items()) / total


# --- the plain reference -----------------------------------------------------------------


def rank_loop(
    need: NeedProfile,
    candidates: Sequence[PracticeProfile],
    weights: Mapping[str, float] | None = None,
    k: int = 10,
    *,
    text: TextModel | None = None,
) -> list[Candidate]:
    """The best `k` practices for a need, one pair at a time: the reference for `top_k`.

    `text`, when given, is the text model of the practices open for twinning, in id order.
    """
    weights = clean_weights(weights)
    open_practices = sorted((p for p in candidates if is_open_for_twinning(p)), key=lambda p: p.id)
    text = text or TextModel([p.text for p in open_practices])
    if len(text) != len(open_practices):
        raise ValueError("the text model is not that of these practices")
    statement = text.vectors([need.problem_statement], correct=True)
    need_vector = dict(zip(statement.indices.tolist(), statement.data.tolist(), strict=True))
    scored = []
    for row, practice in enumerate(open_practices):
        if practice.organisation_id == need.organisation_id:
            continue
        practice_vector = text.terms(row)
        similarity = sum(w * practice_vector.get(t, 0.0) for t, w in need_vector.items())
        breakdown = criteria(need, practice, similarity)
        score = weighted_score(breakdown, weights)
        scored.append((-_rank_key(score), practice.id, Candidate(practice.id, score, breakdown)))
    scored.sort(key=lambda item: item[:2])
    return [candidate for *_, candidate in scored[:k]]


def _rank_key(scores: float | np.ndarray) -> np.ndarray:
    """Scores as whole numbers of their last ranked decimal (see RANK_DECIMALS)."""
    return np.rint(np.multiply(scores, 10**RANK_DECIMALS))


def rank(
    need: NeedProfile,
    candidates: Sequence[PracticeProfile],
    weights: Mapping[str, float] | None = None,
    k: int = 10,
) -> list[Candidate]:
    """The best `k` practices for one need among `candidates`, best first."""
    return MatchingIndex(candidates).top_k([need], weights, k)[0]


# --- the vectorised ranking --------------------------------------------------------------

#: Criteria on code lists, where a practice has several codes: one column per code.
_CODE_CRITERIA = ("domain", "dhi", "standard")
#: Criteria on what a practice has one of: type, set of languages, country, maturity and
#: free capacity, together its profile.
_PROFILE_CRITERIA = ("type", "language", "maturity", "capacity", "cross_border")


class _Columns:
    """Groups of consecutive columns, each with a column per key."""

    def __init__(self, groups: Mapping[str, Sequence]) -> None:
        self.index: dict[str, dict] = {}
        self.groups: dict[str, list[int]] = {}
        self.width = 0
        for group, keys in groups.items():
            self.index[group] = {key: self.width + i for i, key in enumerate(keys)}
            self.groups[group] = list(range(self.width, self.width + len(keys)))
            self.width += len(keys)


def _code_set(practice: PracticeProfile) -> tuple:
    return (
        frozenset(practice.health_domains),
        frozenset(practice.dhi_codes),
        frozenset(practice.standards),
    )


def _profile(practice: PracticeProfile) -> tuple:
    return (
        practice.practice_type,
        frozenset(practice.languages),
        practice.country,
        (practice.maturity or MIN_MATURITY) - MIN_MATURITY,
        min(practice.free_capacity, FULL_CAPACITY),
    )


class _Layout:
    """The columns of the matrices that score practices against needs.

    Practices have two matrices: one row per distinct set of codes (for DHI: the credit for
    every code a need could ask for), one row per distinct profile. Practices alike share a
    row, scored once per need: a hundred thousand practices have a few thousand of each.
    A need's rows are built so that, summed over a criterion's columns, their product with a
    practice's rows is the criterion's value (0 for a criterion the need does not ask about,
    whose weight then does not count either). `code_set_of` and `profile_of` give each
    practice's row of `code_rows` and `profile_rows`.
    """

    def __init__(self, practices: Sequence[PracticeProfile]) -> None:
        dhi = set(taxonomy.DHI_CODES) | {c for p in practices for c in p.dhi_codes}
        self.codes = _Columns(
            {
                "domain": list(taxonomy.HEALTH_DOMAINS),
                "dhi": sorted(dhi),
                "standard": list(taxonomy.STANDARDS),
            }
        )
        code_sets, self.code_set_of = _distinct(_code_set(p) for p in practices)
        profiles, self.profile_of = _distinct(_profile(p) for p in practices)
        self.profile = _Columns(
            {
                "type": list(taxonomy.PRACTICE_TYPES),
                "language": sorted({key[1] for key in profiles}, key=sorted),
                "country": sorted({key[2] for key in profiles}),
                "maturity": ["steps above pilot"],
                "capacity": ["free places"],
                "one": [1],
            }
        )
        self.dhi_by_category: dict[str, list[str]] = defaultdict(list)
        for code in sorted(dhi):
            self.dhi_by_category[dhi_category(code)].append(code)
        self.language_sets_with: dict[str, list[int]] = defaultdict(list)
        for languages, column in self.profile.index["language"].items():
            for language in languages:
                self.language_sets_with[language].append(column)
        self.code_rows = self._code_matrix(code_sets)
        self.profile_rows = sparse.csr_matrix(self._profile_matrix(profiles))

    def columns(self, name: str) -> list[int]:
        """The columns (of the codes or of the profiles) that add up to a criterion."""
        if name in _CODE_CRITERIA:
            return self.codes.groups[name]
        if name == "cross_border":
            return self.profile.groups["country"] + self.profile.groups["one"]
        return self.profile.groups[name]

    def column_weights(
        self, part: _Columns, names: Sequence[str], weights: Mapping[str, float]
    ) -> np.ndarray:
        """Each column's criterion weight."""
        column_weights = np.zeros(part.width)
        for name in names:
            column_weights[self.columns(name)] = weights[name]
        return column_weights

    def _code_matrix(self, code_sets: Sequence[tuple]) -> sparse.csr_matrix:
        """One row per set of codes: ones and halves only, so float32 holds them exactly."""
        rows: list[int] = []
        columns: list[int] = []
        values: list[float] = []
        index = self.codes.index
        for row, (domains, dhi_codes, standards) in enumerate(code_sets):
            cells: dict[int, float] = {}
            for group, codes in (("domain", domains), ("standard", standards)):
                cells.update({index[group][c]: 1.0 for c in codes if c in index[group]})
            for code, credit in self._dhi_credits(dhi_codes).items():
                cells[index["dhi"][code]] = credit
            rows += [row] * len(cells)
            columns += cells.keys()
            values += cells.values()
        return sparse.csr_matrix(
            (np.array(values, dtype=np.float32), (rows, columns)),
            shape=(len(code_sets), self.codes.width),
        )

    def _dhi_credits(self, practice_codes: Iterable[str]) -> dict[str, float]:
        """The practice's credit for each DHI code a need could ask for (zeros left out)."""
        reachable = {
            code
            for own in practice_codes
            for code in self.dhi_by_category.get(dhi_category(own), ())
        }
        credits = {code: dhi_credit(code, practice_codes) for code in reachable}
        return {code: credit for code, credit in credits.items() if credit}

    def _profile_matrix(self, profiles: Sequence[tuple]) -> np.ndarray:
        """One row per profile."""
        matrix = np.zeros((len(profiles), self.profile.width))
        index = self.profile.index
        for row, (practice_type, languages, country, steps, free) in enumerate(profiles):
            if practice_type in index["type"]:
                matrix[row, index["type"][practice_type]] = 1.0
            matrix[row, index["language"][languages]] = 1.0
            matrix[row, index["country"][country]] = 1.0
            matrix[row, self.profile.groups["maturity"]] = steps
            matrix[row, self.profile.groups["capacity"]] = free
            matrix[row, self.profile.groups["one"]] = 1.0
        return matrix

    def need_codes(self, needs: Sequence[NeedProfile]) -> np.ndarray:
        """One row per need, the counterpart of `code_rows`."""
        matrix = np.zeros((len(needs), self.codes.width))
        index = self.codes.index
        for row, need in enumerate(needs):
            for group, codes in (
                ("domain", need.health_domains),
                ("dhi", need.dhi_codes),
                ("standard", need.standards),
            ):
                wanted = set(codes)
                for code in wanted & index[group].keys():
                    matrix[row, index[group][code]] = 1.0 / len(wanted)
        return matrix

    def need_profiles(self, needs: Sequence[NeedProfile]) -> np.ndarray:
        """One row per need, the counterpart of `profile_rows`."""
        matrix = np.zeros((len(needs), self.profile.width))
        index, groups = self.profile.index, self.profile.groups
        for row, need in enumerate(needs):
            wanted = set(need.practice_types) & index["type"].keys()
            matrix[row, [index["type"][t] for t in wanted]] = 1.0
            for language in set(need.languages):
                matrix[row, self.language_sets_with.get(language, [])] = 1.0
            if need.country in index["country"]:
                # Cross-border is 1, minus a half when the practice is from the same country.
                matrix[row, index["country"][need.country]] = -0.5
        matrix[:, groups["maturity"]] = 1 / 3
        matrix[:, groups["capacity"]] = 1 / FULL_CAPACITY
        matrix[:, groups["one"]] = 1.0
        return matrix


def _products(needs: np.ndarray, rows: sparse.csr_matrix) -> np.ndarray:
    """Each need's row times each of `rows`, through the sparse rows."""
    # Not a dense product: multithreaded BLAS would keep spinning on every core meanwhile.
    return (rows @ needs.T).T


def _text_products(statements: sparse.csr_matrix, by_term: sparse.csr_matrix) -> np.ndarray:
    """Each statement's row times the practices' texts, added up term by term into a dense
    block: a need has a few terms, and no sparse result has to be built and then unpacked."""
    products = np.zeros((statements.shape[0], by_term.shape[1]), dtype=by_term.dtype)
    starts, ends = by_term.indptr[:-1], by_term.indptr[1:]
    for row in range(statements.shape[0]):
        target = products[row]
        for start in range(statements.indptr[row], statements.indptr[row + 1]):
            term, weight = statements.indices[start], statements.data[start]
            found = slice(starts[term], ends[term])
            # Since numpy 1.25, several times faster than `target[indices] += ...`.
            np.add.at(target, by_term.indices[found], weight * by_term.data[found])
    return products


def _contenders(scores: np.ndarray, k: int, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the columns of finite score within `margin` of its k-th best score or above
    (and maybe a few more), as (rows, columns): found through the maxima of chunks of `CHUNK`
    columns, the k-th best of which bounds the k-th best score from below."""
    count = scores.shape[1]
    starts = np.arange(0, count, CHUNK)
    if len(starts) < k:
        threshold = np.partition(scores, count - k, axis=1)[:, count - k] - margin
        rows, columns = np.nonzero(scores >= threshold[:, None])
    else:
        maxima = np.maximum.reduceat(scores, starts, axis=1)
        threshold = np.partition(maxima, len(starts) - k, axis=1)[:, len(starts) - k] - margin
        # Only the chunks whose maximum reaches the threshold hold columns that do.
        rows, chunks = np.nonzero(maxima >= threshold[:, None])
        rows = np.repeat(rows, CHUNK)
        columns = (chunks[:, None] * CHUNK + np.arange(CHUNK)).ravel()
        inside = columns < count
        rows, columns = rows[inside], columns[inside]
        reached = scores[rows, columns] >= threshold[rows]
        rows, columns = rows[reached], columns[reached]
    finite = np.isfinite(scores[rows, columns])
    return rows[finite], columns[finite]


def _inverse(totals: Sequence[float]) -> np.ndarray:
    """1 / total, and 0 for a total of 0 (a need none of whose criteria has a weight)."""
    totals = np.asarray(totals, dtype=np.float64)
    return np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)


def _distinct(keys: Iterable[tuple]) -> tuple[list[tuple], np.ndarray]:
    """The distinct keys in order of appearance, and the position of each key among them."""
    row_of: dict[tuple, int] = {}
    rows = [row_of.setdefault(key, len(row_of)) for key in keys]
    return list(row_of), np.array(rows, dtype=np.intp)


class _Coded:
    """A column of values that repeat: each distinct value once, and each row's number."""

    def __init__(self, values: Iterable[Hashable]) -> None:
        self.values, codes = _distinct(values)
        self.codes = codes.astype(np.min_scalar_type(max(len(self.values) - 1, 0)))

    def __getitem__(self, row: int) -> Hashable:
        return self.values[self.codes[row]]


class _Texts:
    """Short texts in one block of UTF-8, and where each ends."""

    def __init__(self, texts: Iterable[str]) -> None:
        encoded = [text.encode() for text in texts]
        self.block = b"".join(encoded)
        self.ends = np.cumsum([len(text) for text in encoded], dtype=np.int64)

    def __getitem__(self, row: int) -> str:
        return self.block[self.ends[row - 1] if row else 0 : self.ends[row]].decode()


def text_fingerprint(text: str) -> int:
    """Eight bytes of a text's BLAKE2 digest: whether a text changed, in any process (`hash`
    differs from one process to the next, and an index may be built in another one)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


#: The fields of a practice's profile that the index keeps as coded columns.
_CODED_FIELDS = (
    "country",
    "practice_type",
    "status",
    "organisation",
    "health_domains",
    "dhi_codes",
    "standards",
    "languages",
)


class _PracticeTable:
    """The indexed practices as columns, a row per practice in id order, rather than a profile
    per practice: those, with their strings, held 64 of the 97 MB of an index of 47,000
    practices (`bench_memory.deep_size`)."""

    def __init__(self, practices: Sequence[PracticeProfile]) -> None:
        self.ids = np.array([p.id for p in practices], dtype=np.int64)
        self.organisation_ids = np.array([p.organisation_id for p in practices], dtype=np.int64)
        self.maturities = np.array([p.maturity for p in practices], dtype=np.int8)
        self.capacities = np.array([p.transfer_capacity for p in practices], dtype=np.int32)
        self.active = np.array([p.active_twinnings for p in practices], dtype=np.int32)
        self.titles = _Texts(p.title for p in practices)
        # Only whether the text changed since is asked (see `MatchingIndex.candidate`).
        self.fingerprints = np.array([text_fingerprint(p.text) for p in practices], np.uint64)
        self.coded = {name: _Coded(getattr(p, name) for p in practices) for name in _CODED_FIELDS}
        # The rows of each organisation's practices, one organisation after the other.
        order = np.argsort(self.organisation_ids, kind="stable")
        self.organisations, starts = np.unique(self.organisation_ids[order], return_index=True)
        self.by_organisation = order.astype(np.int32)
        self.organisation_bounds = np.append(starts, len(order)).astype(np.int32)

    def __len__(self) -> int:
        return len(self.ids)

    def row(self, practice_id: int) -> int | None:
        """The row of the practice with this id, None when there is none."""
        row = int(np.searchsorted(self.ids, practice_id))
        return row if row < len(self.ids) and self.ids[row] == practice_id else None

    def profile(self, row: int) -> PracticeProfile:
        """The practice's profile, without its summary (not kept)."""
        return PracticeProfile(
            id=int(self.ids[row]),
            organisation_id=int(self.organisation_ids[row]),
            title=self.titles[row],
            maturity=int(self.maturities[row]),
            transferable=True,
            transfer_capacity=int(self.capacities[row]),
            active_twinnings=int(self.active[row]),
            **{name: column[row] for name, column in self.coded.items()},
        )

    def free_capacity(self, rows: int | slice = slice(None)) -> np.ndarray:
        """The practices' free capacity (see `PracticeProfile.free_capacity`)."""
        return np.maximum(self.capacities[rows] - self.active[rows], 0)

    def rows_of(self, organisation_id: int) -> np.ndarray | None:
        """The rows of an organisation's practices; None when it has none."""
        at = int(np.searchsorted(self.organisations, organisation_id))
        if at == len(self.organisations) or self.organisations[at] != organisation_id:
            return None
        return self.by_organisation[self.organisation_bounds[at] : self.organisation_bounds[at + 1]]


class MatchingIndex:
    """The practices open for twinning as matrices, ready to rank against many needs at once.

    A practice is in a column of its own (in id order), of the text model's rows too.
    """

    def __init__(self, practices: Sequence[PracticeProfile]) -> None:
        indexed = sorted((p for p in practices if is_open_for_twinning(p)), key=lambda p: p.id)
        # Its terms x texts weights only pick the pairs to score again (see `_Scoring`): kept in
        # float32 once rather than in float64 and copied to float32 by every ranking.
        self.text = TextModel([p.text for p in indexed], by_term_dtype=np.float32)
        self._layout = _Layout(indexed)
        self._table = _PracticeTable(indexed)
        self._full = np.flatnonzero(self._table.free_capacity() == 0)

    @classmethod
    def build(cls, source: Session | Engine) -> "MatchingIndex":
        """Load every practice open for twinning once, from a session or an engine."""
        if isinstance(source, Engine):
            with db.read_scope(source) as session:
                return cls(load_practices(session))
        return cls(load_practices(source))

    def __len__(self) -> int:
        return len(self._table)

    @property
    def ids(self) -> np.ndarray:
        """The ids of the indexed practices, in column order (increasing)."""
        return self._table.ids

    @property
    def practices(self) -> list[PracticeProfile]:
        """Every indexed practice's profile in column order, made on each call (see
        `practice`)."""
        return [self._table.profile(column) for column in range(len(self))]

    def practice(self, practice_id: int) -> PracticeProfile:
        """The indexed practice with this id (KeyError when it is not open for twinning),
        without its summary: the index keeps its text's fingerprint only."""
        column = self._table.row(practice_id)
        if column is None:
            raise KeyError(practice_id)
        return self._table.profile(column)

    def free_capacity(self, practice_id: int) -> int:
        """`practice(practice_id).free_capacity`, without making the profile."""
        column = self._table.row(practice_id)
        if column is None:
            raise KeyError(practice_id)
        return int(self._table.free_capacity(column))

    def practice_at(self, column: int) -> PracticeProfile:
        """The practice in a column (a row of the text model), as `practice` gives it."""
        return self._table.profile(column)

    def candidate(
        self,
        need: NeedProfile,
        practice_id: int,
        weights: Mapping[str, float] | None = None,
        *,
        practice: PracticeProfile | None = None,
    ) -> Candidate | None:
        """The score of one practice for a need; None when the filters exclude the pair.

        `practice`, the practice's profile read now, is scored as it is rather than as it was
        when the index was built: opened or closed for twinning, its capacity, its text if
        it was published since (weighted over the indexed practices).
        """
        if practice is not None:
            return self._candidate_now(need, practice, clean_weights(weights))
        column = self._table.row(practice_id)
        if column is None or self._table.organisation_ids[column] == need.organisation_id:
            return None
        described = self._describe([need])
        weights = clean_weights(weights)
        return self._candidates(
            [need], described, weights, np.zeros(1, np.intp), np.array([column])
        )[0][0]

    def _candidate_now(
        self, need: NeedProfile, practice: PracticeProfile, weights: dict[str, float]
    ) -> Candidate | None:
        if not is_open_for_twinning(practice) or practice.organisation_id == need.organisation_id:
            return None
        column = self._table.row(practice.id)
        fingerprint = text_fingerprint(practice.text)
        if column is not None and int(self._table.fingerprints[column]) == fingerprint:
            statement = self.text.vectors([need.problem_statement], correct=True)
            similarity = float(statement.multiply(self.text.matrix[column]).sum())
        else:  # published or edited since the index was built
            wanted = self.text.weights(need.problem_statement, correct=True)
            offered = self.text.weights(practice.text)
            similarity = sum(w * offered.get(term, 0.0) for term, w in wanted.items())
        breakdown = criteria(need, practice, similarity)
        return Candidate(practice.id, weighted_score(breakdown, weights), breakdown)

    def top_k(
        self,
        needs: Sequence[NeedProfile],
        weights: Mapping[str, float] | None = None,
        k: int = 10,
        *,
        available_only: bool = False,
    ) -> list[list[Candidate]]:
        """The best `k` practices for each need, best first (ties: the lower practice id).

        `available_only` leaves out practices whose originator has no free capacity.
        """
        weights = clean_weights(weights)
        if not needs or not len(self) or k <= 0:
            return [[] for _ in needs]
        described = self._describe(needs)
        scoring = _Scoring(self, needs, described, weights, available_only)
        block = max(1, BLOCK_CELLS // len(self))
        blocks = [slice(start, start + block) for start in range(0, len(needs), block)]
        if len(blocks) == 1:
            chosen = [scoring.best(blocks[0], k)]
        else:
            # numpy lets go of the interpreter in the bulk of the work: blocks run side by side.
            with ThreadPoolExecutor(max_workers=THREADS) as pool:
                chosen = list(pool.map(lambda rows: scoring.best(rows, k), blocks))
        rows = np.concatenate([rows for rows, _ in chosen])
        columns = np.concatenate([columns for _, columns in chosen])
        return self._candidates(needs, described, weights, rows, columns)

    def _describe(self, needs: Sequence[NeedProfile]) -> tuple:
        """The needs' rows of codes and of profiles, and their problem statements' TF-IDF."""
        return (
            self._layout.need_codes(needs),
            self._layout.need_profiles(needs),
            self.text.vectors([need.problem_statement for need in needs], correct=True),
        )

    def _candidates(
        self,
        needs: Sequence[NeedProfile],
        described: tuple,
        weights: dict[str, float],
        rows: np.ndarray,
        columns: np.ndarray,
    ) -> list[list[Candidate]]:
        """The chosen pairs (need row, practice column; each need's best first) with their
        breakdown and score, computed for those pairs only."""
        need_codes, need_profiles, statements = described
        results: list[list[Candidate]] = [[] for _ in range(len(need_codes))]
        if not len(rows):
            return results
        layout = self._layout
        code_products = need_codes[rows] * layout.code_rows[layout.code_set_of[columns]].toarray()
        profile_products = (
            need_profiles[rows] * layout.profile_rows[layout.profile_of[columns]].toarray()
        )
        values = {
            name: (code_products if name in _CODE_CRITERIA else profile_products)[
                :, layout.columns(name)
            ].sum(axis=1)
            for name in CRITERIA
            if name != "text"
        }
        similarity = statements[rows].multiply(self.text.matrix[columns]).sum(axis=1)
        values["text"] = np.asarray(similarity).ravel() / TEXT_FULL
        values = {name: np.clip(values[name], 0.0, 1.0) for name in CRITERIA}
        for pair, (row, column) in enumerate(zip(rows.tolist(), columns.tolist(), strict=True)):
            breakdown = {name: float(values[name][pair]) for name in counted(needs[row])}
            score = weighted_score(breakdown, weights)
            results[row].append(Candidate(int(self._table.ids[column]), score, breakdown))
        return results


class _Scoring:
    """Needs scored against every indexed practice, a block of needs at a time.

    A block's scores are summed in float32, half the memory to go through; they only pick the
    pairs that may be among a need's `k` best. Those are scored again in float64, as in
    `rank_loop`, and ranked on that.
    """

    def __init__(
        self,
        index: "MatchingIndex",
        needs: Sequence[NeedProfile],
        described: tuple,
        weights: dict[str, float],
        available_only: bool,
    ) -> None:
        layout = index._layout
        need_codes, need_profiles, statements = described
        # Each need's criteria weigh by their share of the weights that count for that need.
        shares = _inverse([sum(weights[n] for n in counted(need)) for need in needs])[:, None]
        codes = need_codes * layout.column_weights(layout.codes, _CODE_CRITERIA, weights) * shares
        used = np.flatnonzero(codes.any(axis=0))
        self.codes, self.code_rows = codes[:, used], layout.code_rows[:, used].astype(np.float64)
        self.profiles = need_profiles * shares
        self.profiles *= layout.column_weights(layout.profile, _PROFILE_CRITERIA, weights)
        self.profile_rows = layout.profile_rows
        self.profile_of, self.code_set_of = layout.profile_of, layout.code_set_of
        self.with_text = bool(weights["text"]) and index.text.fitted
        self.text_shares = weights["text"] * shares.ravel()
        self.statements = (sparse.diags(self.text_shares / TEXT_FULL) @ statements).tocsr()
        self.texts = index.text.matrix
        if self.with_text:
            self.statements32 = self.statements.astype(np.float32)
            by_term = index.text.by_term
            self.by_term32 = by_term
            if by_term.dtype != np.float32:  # a text model made for another use
                self.by_term32 = sparse.csr_matrix(
                    (by_term.data.astype(np.float32), by_term.indices, by_term.indptr),
                    shape=by_term.shape,
                )
        self.own = [index._table.rows_of(need.organisation_id) for need in needs]
        self.full = index._full if available_only else np.zeros(0, dtype=np.intp)
        self.width = len(index)

    def best(self, rows: slice, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The pairs of the block's needs with their `k` best finite scores: (need rows,
        practice columns), each need's best first, ties by column."""
        profile_scores = _products(self.profiles[rows], self.profile_rows)
        code_scores = _products(self.codes[rows], self.code_rows)
        scores = np.take(profile_scores.astype(np.float32), self.profile_of, axis=1)
        scores += np.take(code_scores.astype(np.float32), self.code_set_of, axis=1)
        caps = self.text_shares[rows]
        if self.with_text:
            text = _text_products(self.statements32[rows], self.by_term32)
            scores += np.minimum(text, caps.astype(np.float32)[:, None], out=text)
        for offset, own in enumerate(self.own[rows]):
            if own is not None:
                scores[offset, own] = -np.inf
        if len(self.full):
            scores[:, self.full] = -np.inf
        need_rows, columns = _contenders(scores, min(k, self.width), FLOAT32_MARGIN)
        exact = profile_scores[need_rows, self.profile_of[columns]]
        exact += code_scores[need_rows, self.code_set_of[columns]]
        if self.with_text:
            similarity = self.statements[rows][need_rows].multiply(self.texts[columns]).sum(axis=1)
            exact += np.minimum(np.asarray(similarity).ravel(), caps[need_rows])
        order = np.lexsort((columns, -_rank_key(exact), need_rows))
        need_rows, columns = need_rows[order], columns[order]
        place = np.arange(len(need_rows)) - np.searchsorted(need_rows, need_rows)
        return need_rows[place < k] + rows.start, columns[place < k]


# --- explanations ------------------------------------------------------------------------


def explain(candidate: Candidate, need: NeedProfile, practice: PracticeProfile) -> list[str]:
    """One plain sentence per criterion, in the page's language: why this practice scores as it
    does for this need, and which criteria the need says nothing about (they are left out of
    its score)."""
    maturity = taxonomy.MATURITY_LEVELS.label(practice.maturity)
    return [
        _explain_domains(need.health_domains, practice.health_domains),
        _explain_dhi(need.dhi_codes, practice.dhi_codes),
        _explain_type(need.practice_types, practice.practice_type),
        _("maturity {level} of 5: {label}").format(
            level=practice.maturity,
            label=maturity.lower() if i18n.current() == i18n.DEFAULT else maturity,
        ),
        _explain_languages(need.languages, practice.languages),
        _explain_standards(need.standards, practice.standards),
        _explain_text(candidate.breakdown["text"]),
        (
            _("a transfer from {origin} to {destination}").format(
                origin=geo.country_name(practice.country),
                destination=geo.country_name(need.country),
            )
            if practice.country != need.country
            else _("from the same country ({country})").format(
                country=geo.country_name(need.country)
            )
        ),
        _explain_capacity(practice.free_capacity),
    ]


def _listing(code_list: taxonomy.CodeList, codes: Iterable[str]) -> str:
    """The codes' labels as a list in the page's language ("A, B and C", "A, B et C")."""
    labels = [str(code_list.label(code)) for code in codes]
    return format_list(labels, locale=i18n.current()) if labels else ""


def _explain_domains(wanted: Sequence[str], offered: Sequence[str]) -> str:
    if not wanted:
        return _("no health domain asked for: left out of the score")
    shared = [code for code in wanted if code in offered]
    if not shared:
        return _("shares no health domain asked for")
    listed = _listing(taxonomy.HEALTH_DOMAINS, shared)
    if len(wanted) == 1:
        return _("shares the health domain: {domains}").format(domains=listed)
    return ngettext(
        "shares {count} of {asked} health domains: {domains}",
        "shares {count} of {asked} health domains: {domains}",
        len(shared),
    ).format(count=len(shared), asked=len(wanted), domains=listed)


def _explain_dhi(wanted: Sequence[str], offered: Sequence[str]) -> str:
    if not wanted:
        return _("no WHO DHI code asked for: left out of the score")
    credits = [dhi_credit(code, offered) for code in wanted]
    full, half = credits.count(1.0), credits.count(0.5)
    text = (
        ngettext(
            "covers {count} of {asked} WHO DHI codes",
            "covers {count} of {asked} WHO DHI codes",
            full,
        ).format(count=full, asked=len(wanted))
        if full
        else _("covers no WHO DHI code")
    )
    if half:
        text += "; " + ngettext(
            "{count} only through a related code of the same category",
            "{count} only through a related code of the same category",
            half,
        ).format(count=half)
    return text


def _explain_type(wanted: Sequence[str], practice_type: str | None) -> str:
    label = taxonomy.PRACTICE_TYPES.label(practice_type or "")
    if not wanted:
        return _("no type of practice asked for: left out of the score (this is: {type})").format(
            type=label
        )
    if practice_type in wanted:
        return _("a type asked for: {type}").format(type=label)
    return _("not a type asked for ({asked}); this is: {type}").format(
        asked=_listing(taxonomy.PRACTICE_TYPES, wanted), type=label
    )


def _explain_languages(wanted: Sequence[str], offered: Sequence[str]) -> str:
    stated = _listing(taxonomy.LANGUAGES, offered) or _("no stated language")
    if not wanted:
        return _("no language asked for: left out of the score (it is in {languages})").format(
            languages=stated
        )
    shared = [code for code in offered if code in wanted]
    if shared:
        return _("in {languages}").format(languages=_listing(taxonomy.LANGUAGES, shared))
    return _("in none of the languages asked for (it is in {languages})").format(
        languages=_listing(taxonomy.LANGUAGES, offered)
    )


def _explain_standards(wanted: Sequence[str], offered: Sequence[str]) -> str:
    if not wanted:
        return _("no standards in place were given: left out of the score")
    shared = [code for code in wanted if code in offered]
    if shared:
        return _("both use {standards}").format(standards=_listing(taxonomy.STANDARDS, shared))
    uses = _listing(taxonomy.STANDARDS, offered)
    if uses:
        return _("uses none of the standards in place (it uses {standards})").format(standards=uses)
    return _("uses none of the standards in place")


def _explain_text(value: float) -> str:
    share = i18n.format_percent(value)
    if value >= 0.6:
        return _("its title and summary closely resemble the problem statement ({share})").format(
            share=share
        )
    if value >= 0.2:
        return _("its title and summary partly resemble the problem statement ({share})").format(
            share=share
        )
    return _("its title and summary hardly resemble the problem statement ({share})").format(
        share=share
    )


def _explain_capacity(free: int) -> str:
    if not free:
        return _("the originator has no free capacity for another twinning now")
    return ngettext(
        "the originator can take {count} more twinning",
        "the originator can take {count} more twinnings",
        free,
    ).format(count=free)


def breakdown_rows(
    candidate: Candidate, weights: Mapping[str, float] | None = None
) -> list[dict[str, object]]:
    """One row per criterion that counts for the need (label, value, weight, share of the
    score), for a bar chart; the criteria left out of the need's score have none."""
    weights = clean_weights(weights)
    names = [name for name in CRITERIA if name in candidate.breakdown]
    total = sum(weights[name] for name in names)
    return [
        {
            "criterion": _(CRITERIA[name]),
            "value": candidate.breakdown[name],
            "weight": weights[name],
            "contribution": weights[name] * candidate.breakdown[name] / total if total else 0.0,
        }
        for name in names
    ]


# --- allocation of a call ----------------------------------------------------------------


def allocate(
    scores: Mapping[tuple[int, int], float],
    capacities: Mapping[int, int],
    places: int | None = None,
) -> list[tuple[int, int]]:
    """The (need, practice) pairs of highest total score: each need at most once, each practice
    at most its capacity (none when not in `capacities`), at most `places` pairs in all.
    """
    # Imported here: SciPy's optimiser holds 26 MB in a process, which only a call's
    # allocation needs (measured with `python -m dhu_core.bench_memory`).
    from scipy.optimize import Bounds, LinearConstraint, milp

    pairs = [
        (pair, score)
        for pair, score in scores.items()
        if score > 0 and capacities.get(pair[1], 0) > 0
    ]
    if not pairs or places == 0:
        return []
    need_row = {n: i for i, n in enumerate(sorted({need for (need, _), _ in pairs}))}
    practice_row = {
        p: len(need_row) + i for i, p in enumerate(sorted({practice for (_, practice), _ in pairs}))
    }
    limit_row = len(need_row) + len(practice_row)
    rows, columns = [], []
    for column, ((need, practice), _score) in enumerate(pairs):
        rows += [need_row[need], practice_row[practice], limit_row]
        columns += [column] * 3
    matrix = sparse.csr_matrix(
        (np.ones(len(rows)), (rows, columns)), shape=(limit_row + 1, len(pairs))
    )
    upper = np.array(
        [1] * len(need_row)
        + [capacities[p] for p in practice_row]
        + [len(pairs) if places is None else places],
        dtype=float,
    )
    result = milp(
        c=-np.array([score for _, score in pairs]),
        constraints=LinearConstraint(matrix, -np.inf, upper),
        integrality=np.ones(len(pairs)),
        bounds=Bounds(0, 1),
    )
    if not result.success:
        raise RuntimeError(f"the allocation could not be solved: {result.message}")
    chosen = [(pair, score) for (pair, score), x in zip(pairs, result.x, strict=True) if x > 0.5]
    return [pair for pair, _ in sorted(chosen, key=lambda item: (-item[1], item[0]))]


def allocate_call(
    index: MatchingIndex,
    needs: Sequence[NeedProfile],
    places: int,
    weights: Mapping[str, float] | None = None,
) -> list[tuple[NeedProfile, Candidate]]:
    """The best allocation of a call with `places` twinnings among `needs`, each practice
    within its originator's free capacity.
    """
    # A need's best allocated practice is among its min(needs, places) best ones with free
    # capacity: were those all full, it would take as many other allocated needs to fill them.
    ranked = index.top_k(needs, weights, min(len(needs), places), available_only=True)
    candidates = {(row, c.practice_id): c for row, found in enumerate(ranked) for c in found}
    capacities = {p: index.free_capacity(p) for _, p in candidates}
    pairs = allocate({pair: c.score for pair, c in candidates.items()}, capacities, places)
    return [(needs[row], candidates[row, practice_id]) for row, practice_id in pairs]


# --- loading -----------------------------------------------------------------------------


#: `is_open_for_twinning` as conditions on `Practice`, for queries.
OPEN_FOR_TWINNING = (LISTED, Practice.transferable.is_(True), Practice.maturity >= MIN_MATURITY)


def open_practice_ids(session: Session, practice_ids: Iterable[int]) -> set[int]:
    """The practices among `practice_ids` open for twinning now, read from the database: an
    index may be older than the data."""
    return set(
        session.exec(
            select(Practice.id).where(col(Practice.id).in_(list(practice_ids)), *OPEN_FOR_TWINNING)
        ).all()
    )


def load_practices(
    session: Session, practice_ids: Sequence[int] | None = None, *, open_only: bool = True
) -> list[PracticeProfile]:
    """Practices with their codes and active twinnings: by default all open for twinning."""
    conditions = list(OPEN_FOR_TWINNING) if open_only else []
    if practice_ids is not None:
        conditions.append(col(Practice.id).in_(practice_ids))
    # Plain columns rather than ORM objects: a hundred thousand practices load in a second.
    rows = session.execute(
        sa_select(
            Practice.id,
            Practice.owner_organisation_id,
            Practice.title,
            Practice.summary,
            Practice.practice_type,
            Practice.maturity,
            Practice.status,
            Practice.transferable,
            Practice.transfer_capacity,
            Organisation.name,
            Organisation.country,
        )
        .join(Organisation, Organisation.id == Practice.owner_organisation_id)
        .where(*conditions)
        .order_by(Practice.id)
    ).all()
    tags: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for practice_id, kind, code in session.exec(
        select(PracticeTag.practice_id, PracticeTag.kind, PracticeTag.code)
        .join(Practice, Practice.id == PracticeTag.practice_id)
        .where(*conditions)
        .order_by(PracticeTag.practice_id, PracticeTag.code)
    ):
        tags[practice_id][kind].append(code)
    active = dict(
        session.exec(
            select(TwinningMatch.practice_id, func.count())
            .where(col(TwinningMatch.status).in_(ACTIVE_STATUSES))
            .group_by(TwinningMatch.practice_id)
        ).all()
    )
    return [
        PracticeProfile(
            id=row.id,
            organisation_id=row.owner_organisation_id,
            country=row.country,
            title=row.title,
            summary=row.summary,
            practice_type=row.practice_type,
            maturity=row.maturity,
            status=row.status,
            transferable=row.transferable,
            transfer_capacity=row.transfer_capacity,
            active_twinnings=active.get(row.id, 0),
            organisation=row.name,
            **{field: tuple(tags[row.id][kind]) for kind, field in PRACTICE_TAG_FIELDS.items()},
        )
        for row in rows
    ]


def load_needs(
    session: Session,
    need_ids: Sequence[int] | None = None,
    *,
    organisation_id: int | None = None,
    status: str | None = None,
) -> list[NeedProfile]:
    """Needs with their codes and organisation: the given ones (in that order), or all, newest
    first, optionally only one organisation's or only those in one status.
    """
    query = select(TwinningNeed, Organisation.name).join(
        Organisation, Organisation.id == TwinningNeed.organisation_id
    )
    if need_ids is not None:
        query = query.where(col(TwinningNeed.id).in_(need_ids))
    if organisation_id is not None:
        query = query.where(TwinningNeed.organisation_id == organisation_id)
    if status is not None:
        query = query.where(TwinningNeed.status == status)
    rows = session.exec(query.order_by(col(TwinningNeed.created_at).desc(), col(TwinningNeed.id)))
    needs = {need.id: (need, name) for need, name in rows}
    tags: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for need_id, kind, code in session.exec(
        select(NeedTag.need_id, NeedTag.kind, NeedTag.code)
        .where(col(NeedTag.need_id).in_(list(needs)))
        .order_by(NeedTag.need_id, NeedTag.code)
    ):
        tags[need_id][kind].append(code)
    order = [i for i in need_ids if i in needs] if need_ids is not None else list(needs)
    return [
        NeedProfile(
            id=need.id,
            organisation_id=need.organisation_id,
            country=need.country,
            problem_statement=need.problem_statement,
            organisation=name,
            twinning_type=need.twinning_type,
            timeline=need.timeline,
            status=need.status,
            created_at=need.created_at,
            **{field: tuple(tags[need.id][kind]) for kind, field in NEED_TAG_FIELDS.items()},
        )
        for need, name in (needs[i] for i in order)
    ]
