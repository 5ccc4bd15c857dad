"""Similar practices: a TF-IDF text index over the titles and summaries of published practices.

Used to spot a duplicate before it is registered and to suggest related practices. Vectors are
L2-normalised, so the cosine similarity of two practices is the dot product of their vectors.
"""

from collections.abc import Iterable

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sqlalchemy import Engine, select

from dhu_core import db
from dhu_core.models import Practice

#: Practices scoring this or less are not similar enough to mention.
MIN_SCORE = 0.1


class SimilarityIndex:
    """Cosine similarity of TF-IDF vectors (words and word pairs) of title and summary."""

    def __init__(
        self, ids: list[int], vectorizer: TfidfVectorizer | None, vectors: sparse.csr_matrix
    ) -> None:
        self._ids = np.asarray(ids, dtype=np.int64)
        self._row = {practice_id: row for row, practice_id in enumerate(ids)}
        self._vectorizer = vectorizer
        self._vectors = vectors
        # Terms x practices: a lookup then touches only the practices sharing a term with it.
        self._by_term = vectors.T.tocsr()

    def __len__(self) -> int:
        return len(self._ids)

    @classmethod
    def build(cls, *, engine: Engine | None = None) -> "SimilarityIndex":
        """An index over all published practices, read in one query."""
        with (engine or db.get_engine()).connect() as conn:
            rows = conn.execute(
                select(Practice.id, Practice.title, Practice.summary)
                .where(Practice.status == "published")
                .order_by(Practice.id)
            ).all()
        vectorizer = TfidfVectorizer(
            ngram_range=(1, 2),
            sublinear_tf=True,
            stop_words="english",
            strip_accents="unicode",
            dtype=np.float32,
        )
        try:
            vectors = vectorizer.fit_transform(_text(title, summary) for _, title, summary in rows)
        except ValueError:  # no practices, or none with a word that is not a stop word
            return cls([], None, sparse.csr_matrix((0, 0), dtype=np.float32))
        return cls([practice_id for practice_id, _, _ in rows], vectorizer, vectors.tocsr())

    def similar_to_text(
        self, title: str, summary: str, *, k: int = 5, exclude_ids: Iterable[int] = ()
    ) -> list[tuple[int, float]]:
        """The `k` practices most similar to a title and summary: (id, score 0..1), best first."""
        if self._vectorizer is None:
            return []
        vector = self._vectorizer.transform([_text(title, summary)])
        return self._nearest(vector, k=k, exclude_ids=set(exclude_ids))

    def similar_to_practice(self, practice_id: int, *, k: int = 5) -> list[tuple[int, float]]:
        """The `k` practices most similar to an indexed one (never itself); [] if not indexed."""
        row = self._row.get(practice_id)
        if row is None:
            return []
        return self._nearest(self._vectors[row], k=k, exclude_ids={practice_id})

    def _nearest(
        self, vector: sparse.csr_matrix, *, k: int, exclude_ids: set[int]
    ) -> list[tuple[int, float]]:
        scores = (vector @ self._by_term).tocsr()
        rows, values = scores.indices, scores.data
        keep = values > MIN_SCORE
        if exclude_ids:
            keep &= ~np.isin(self._ids[rows], list(exclude_ids))
        rows, values = rows[keep], values[keep]
        if len(values) > k:
            best = np.argpartition(-values, k)[:k]
            rows, values = rows[best], values[best]
        order = np.lexsort((self._ids[rows], -values))
        return [(int(self._ids[rows[i]]), min(float(values[i]), 1.0)) for i in order]


def _text(title: str | None, summary: str | None) -> str:
    return f"{title or ''}. {summary or ''}"
