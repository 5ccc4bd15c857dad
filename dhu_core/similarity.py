"""How alike two texts are: the one text model behind similar practices and twinning matches.

A practice's text is its title and summary. Texts are compared by the cosine of TF-IDF vectors
over their terms (`health_terms.analyse`: word stems and health concepts in eight languages),
weighted over the indexed practices. The similarity of two practices is that cosine with both
indexed: a draft's similarity to a published practice (beside the register form) is computed
as if the draft were published, so it is the number both detail pages show once it is. A need
keeps the words that no practice uses in its vector's length, as words of one text.
"""

import math
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from scipy import sparse
from sqlalchemy import Engine, select

from dhu_core import db, health_terms
from dhu_core.models import LISTED, Practice

#: Practices scoring this or less are not similar enough to mention.
MIN_SCORE = 0.1
#: How much more a health concept weighs than a word of the same TF-IDF: a concept is what
#: two texts in different languages or words can share, and names what a text is about.
#: Measured on data/matching_eval (matching_quality).
CONCEPT_WEIGHT = 2.0


def practice_text(title: str | None, summary: str | None) -> str:
    """The text of a practice that similarity compares: its title and summary."""
    return f"{title or ''}. {summary or ''}"


class TextModel:
    """TF-IDF vectors of indexed texts, and of any other text in their vocabulary."""

    def __init__(self, texts: Sequence[str], *, by_term_dtype: type | None = np.float64) -> None:
        """`by_term_dtype`: that of `by_term`'s weights (float32 where they only pick the texts
        to score again from `matrix`, as the matching index does), or None for no `by_term`
        (the similarity index: one product with `matrix` finds the texts sharing a term)."""
        known_words: set[str] = set()

        def analyse(text: str) -> list[str]:
            found = health_terms.words(text)
            known_words.update(found)
            return health_terms.Lexicon.shipped().terms(health_terms.stems(found), found)

        self.matrix, self._column, idf = _tf_idf(texts, analyse)
        # No texts, or none with a word that is not a function word.
        self.fitted = bool(self._column)
        self.speller = health_terms.Speller(known_words)
        self._terms: dict[int, dict[int, float]] = {}
        # A term's weight beside its TF-IDF: CONCEPT_WEIGHT for concepts, 1 for words.
        self._boost = np.ones(len(self._column))
        for term, column in self._column.items():
            self._boost[column] = _boost(term)
        self._idf = idf * self._boost
        if self.fitted:
            self.matrix.data *= self._boost[self.matrix.indices]
            self.matrix = _unit_rows(self.matrix)
        # In how many texts each term is: a row has each of its terms once.
        self._df = np.bincount(self.matrix.indices, minlength=self.matrix.shape[1])
        # Unit rows of weights kept to 7 digits, more than any score shown needs: half the
        # bytes of float64 (7 MB less for the similarity index at 100,000 practices).
        self.matrix = self.matrix.astype(np.float32)
        # Terms x texts: a lookup then touches only the texts sharing a term with it.
        self.by_term = None if by_term_dtype is None else self.matrix.T.tocsr()
        if self.by_term is not None and by_term_dtype != self.by_term.dtype:
            self.by_term = sparse.csr_matrix(
                (
                    self.by_term.data.astype(by_term_dtype),
                    self.by_term.indices,
                    self.by_term.indptr,
                ),
                shape=self.by_term.shape,
            )
        # scikit-learn's smoothed idf of a term that one text has, as if that text were indexed.
        self._unseen_idf = _idf(len(texts) + 1, 1)

    def __len__(self) -> int:
        return self.matrix.shape[0]

    def rows_sharing(self, columns: Sequence[int]) -> np.ndarray:
        """The rows that hold any of the terms `columns`, in increasing order (every weight
        is positive: a row sharing a term has a positive product)."""
        wanted = np.zeros(self.matrix.shape[1])
        wanted[list(columns)] = 1.0
        return self._products_with(wanted)[0]

    def products(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """The dot product of indexed text `row` with each text sharing a term with it:
        (rows, products), the rows in increasing order."""
        start, end = self.matrix.indptr[row], self.matrix.indptr[row + 1]
        vector = np.zeros(self.matrix.shape[1])
        vector[self.matrix.indices[start:end]] = self.matrix.data[start:end]
        return self._products_with(vector)

    def _products_with(self, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows, products) of the indexed texts whose product with `vector` is not zero."""
        products = self.matrix @ vector
        rows = np.flatnonzero(products)
        return rows, products[rows]

    def terms(self, row: int) -> dict[int, float]:
        """An indexed text's vector as term -> weight (kept: the plain loops ask again)."""
        found = self._terms.get(row)
        if found is None:
            start, end = self.matrix.indptr[row], self.matrix.indptr[row + 1]
            columns, weights = self.matrix.indices[start:end], self.matrix.data[start:end]
            found = self._terms[row] = dict(zip(columns.tolist(), weights.tolist(), strict=True))
        return found

    def vectors(self, texts: Sequence[str], *, correct: bool = False) -> sparse.csr_matrix:
        """Unit-length TF-IDF rows of any texts; unknown terms count in the length only.

        `correct` reads misspelt words as the closest known ones: for needs, typed in a hurry;
        a practice's draft is compared as written, as it will be once published.
        """
        analyse = self.speller.analyse if correct else health_terms.analyse
        rows, columns, values = [], [], []
        for row, text in enumerate(texts):
            weights: dict[int, float] = {}
            unseen = 0.0
            for term, count in Counter(analyse(text)).items():
                column = self._column.get(term)
                if column is None:
                    unseen += ((1.0 + math.log(count)) * self._unseen_idf * _boost(term)) ** 2
                else:
                    weights[column] = (1.0 + math.log(count)) * self._idf[column]
            length = math.sqrt(sum(w * w for w in weights.values()) + unseen)
            if not length:
                continue
            rows += [row] * len(weights)
            columns += weights.keys()
            values += [w / length for w in weights.values()]
        return sparse.csr_matrix(
            (np.array(values, dtype=np.float64), (rows, columns)),
            shape=(len(texts), self.matrix.shape[1]),
        )

    def weights(self, text: str, *, correct: bool = False) -> dict[str, float]:
        """A text's unit-length vector as term -> weight, its unknown terms weighted too (as
        `vectors` counts them in the length): to compare two texts neither of which is indexed.
        """
        analyse = self.speller.analyse if correct else health_terms.analyse
        weights = {}
        for term, count in Counter(analyse(text)).items():
            column = self._column.get(term)
            idf = self._unseen_idf * _boost(term) if column is None else self._idf[column]
            weights[term] = (1.0 + math.log(count)) * float(idf)
        length = math.sqrt(sum(w * w for w in weights.values()))
        return {term: w / length for term, w in weights.items()} if length else {}

    def similarities_as_indexed(
        self, text: str, *, replacing: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The cosine of a text to each indexed text sharing a term with it, weighted as if the
        text were indexed too (in place of row `replacing`): (rows, similarities)."""
        counts = Counter(health_terms.analyse(text))
        known = {self._column[t]: c for t, c in counts.items() if t in self._column}
        if not known:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        texts, df = len(self), self._df.astype(np.float64)
        df[list(known)] += 1.0
        if replacing is None:
            texts += 1
        else:
            df[
                self.matrix.indices[
                    self.matrix.indptr[replacing] : self.matrix.indptr[replacing + 1]
                ]
            ] -= 1
        idf = _idf(texts, df) * self._boost
        unseen = sum(
            ((1.0 + math.log(c)) * _boost(t)) ** 2
            for t, c in counts.items()
            if t not in self._column
        )
        weights = np.zeros(len(idf))
        for column, count in known.items():
            weights[column] = (1.0 + math.log(count)) * idf[column]
        length = math.sqrt(float(weights @ weights) + unseen * _idf(texts, 1) ** 2)
        rows = self.rows_sharing(list(known))
        if replacing is not None:
            rows = rows[rows != replacing]
        # The indexed rows, weighted again with the idf that includes the text.
        near = self.matrix[rows]
        near.data *= (idf / self._idf)[near.indices]
        lengths = np.sqrt(np.asarray(near.multiply(near).sum(axis=1)).ravel())
        return rows, np.clip((near @ weights) / lengths / length, 0.0, 1.0)


def _boost(term: str) -> float:
    """The weight of a term beside its TF-IDF (see CONCEPT_WEIGHT)."""
    return CONCEPT_WEIGHT if term.startswith(health_terms.CONCEPT) else 1.0


def _unit_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """The rows of a matrix scaled to unit length (empty rows stay empty)."""
    lengths = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    return (
        sparse.diags(np.divide(1.0, lengths, out=np.zeros_like(lengths), where=lengths > 0))
        @ matrix
    ).tocsr()


def _idf(texts: int, df: np.ndarray | float) -> np.ndarray | float:
    """scikit-learn's smoothed idf of terms in `df` of `texts` texts."""
    return np.log((texts + 1) / (df + 1)) + 1.0


def _tf_idf(
    texts: Sequence[str], analyse: Callable[[str], list[str]]
) -> tuple[sparse.csr_matrix, dict[str, int], np.ndarray]:
    """The sublinear TF-IDF rows of `texts` (not yet of unit length), the column of each term
    (in the terms' alphabetical order) and each term's idf: what scikit-learn's
    `TfidfVectorizer(analyzer=analyse, sublinear_tf=True)` computes, without importing
    scikit-learn into every app process (33 MB resident each, measured)."""
    first_column: dict[str, int] = {}
    indptr, indices, counts = array("q", [0]), array("q"), array("d")
    for text in texts:
        for term, count in Counter(analyse(text)).items():
            indices.append(first_column.setdefault(term, len(first_column)))
            counts.append(count)
        indptr.append(len(indices))
    terms = sorted(first_column)
    column = {term: number for number, term in enumerate(terms)}
    renumbered = np.empty(len(terms), dtype=np.int64)
    renumbered[[first_column[term] for term in terms]] = np.arange(len(terms))
    matrix = sparse.csr_matrix(
        (
            np.log(np.frombuffer(counts, dtype=np.float64)) + 1.0,
            renumbered[np.frombuffer(indices, dtype=np.int64)],
            np.frombuffer(indptr, dtype=np.int64),
        ),
        shape=(len(texts), len(terms)),
    )
    matrix.sort_indices()
    idf = _idf(len(texts), np.bincount(matrix.indices, minlength=len(terms)))
    matrix.data *= idf[matrix.indices]
    return matrix, column, np.asarray(idf, dtype=np.float64)


class SimilarityIndex:
    """The published practices' texts, to find those most like a text or a practice."""

    def __init__(self, ids: list[int], texts: Sequence[str]) -> None:
        self._ids = np.asarray(ids, dtype=np.int64)
        # The rows in id order, when the ids are not given in that order (`build` gives them).
        ordered = bool(np.all(self._ids[1:] > self._ids[:-1]))
        self._by_id = None if ordered else np.argsort(self._ids, kind="stable")
        # No terms x texts copy (20 MB at 100,000 practices): a product with the matrix finds
        # the texts sharing a term in a few milliseconds.
        self.model = TextModel(texts, by_term_dtype=None)

    def __len__(self) -> int:
        return len(self._ids)

    @classmethod
    def build(cls, *, engine: Engine | None = None) -> "SimilarityIndex":
        """An index over all published practices, read in one query."""
        with (engine or db.get_engine()).connect() as conn:
            rows = conn.execute(
                select(Practice.id, Practice.title, Practice.summary)
                .where(LISTED)
                .order_by(Practice.id)
            ).all()
        return cls([i for i, _, _ in rows], [practice_text(t, s) for _, t, s in rows])

    def similar_to_text(
        self,
        title: str,
        summary: str,
        *,
        k: int = 5,
        exclude_ids: Iterable[int] = (),
        replacing: int | None = None,
    ) -> list[tuple[int, float]]:
        """The `k` practices most similar to a title and summary: (id, score 0..1), best first.

        Scored as if the text were published, in place of practice `replacing` when that one
        is (its new text, being edited); never `replacing` itself nor `exclude_ids`.
        """
        if not self.model.fitted:
            return []
        rows, scores = self.model.similarities_as_indexed(
            practice_text(title, summary), replacing=self._row(replacing)
        )
        excluded = {*exclude_ids, replacing} - {None}
        return self._nearest(rows, scores, k=k, exclude_ids=excluded)

    def similar_to_practice(self, practice_id: int, *, k: int = 5) -> list[tuple[int, float]]:
        """The `k` practices most similar to an indexed one (never itself); [] if not indexed."""
        row = self._row(practice_id)
        if row is None:
            return []
        rows, scores = self.model.products(row)
        return self._nearest(rows, scores, k=k, exclude_ids={practice_id})

    def _row(self, practice_id: int | None) -> int | None:
        """The row of an indexed practice, None when it is not indexed: found in the ids (in
        increasing order) rather than kept in a dict, which held 10 MB at 100,000 practices."""
        if practice_id is None:
            return None
        if self._by_id is None:
            row = int(np.searchsorted(self._ids, practice_id))
        else:  # the last of equal ids, as a dict of them kept
            ordered = self._ids[self._by_id]
            at = int(np.searchsorted(ordered, practice_id, side="right")) - 1
            row = int(self._by_id[at]) if at >= 0 else len(self._ids)
        return row if row < len(self._ids) and self._ids[row] == practice_id else None

    def _nearest(
        self, rows: np.ndarray, values: np.ndarray, *, k: int, exclude_ids: set[int]
    ) -> list[tuple[int, float]]:
        keep = values > MIN_SCORE
        if exclude_ids:
            keep &= ~np.isin(self._ids[rows], list(exclude_ids))
        rows, values = rows[keep], values[keep]
        if len(values) > k:
            best = np.argpartition(-values, k)[:k]
            rows, values = rows[best], values[best]
        order = np.lexsort((self._ids[rows], -values))
        return [(int(self._ids[rows[i]]), min(float(values[i]), 1.0)) for i in order]
