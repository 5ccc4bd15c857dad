"""How alike two texts are: the one text model behind similar practices and twinning matches.

A practice's text is its title and summary. Texts are compared by the cosine of TF-IDF vectors
over their terms (`health_terms.analyse`: word stems and health concepts in eight languages).
A text that is not indexed (a draft, a need) keeps the words no indexed practice uses in its
length, weighted as words seen once: so a draft's similarity to a practice is the number shown
again once the draft is published, not a higher one from its known words alone.
"""

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sqlalchemy import Engine, select

from dhu_core import db, health_terms
from dhu_core.models import Practice

#: Practices scoring this or less are not similar enough to mention.
MIN_SCORE = 0.1


def practice_text(title: str | None, summary: str | None) -> str:
    """The text of a practice that similarity compares: its title and summary."""
    return f"{title or ''}. {summary or ''}"


class TextModel:
    """TF-IDF vectors of indexed texts, and of any other text in their vocabulary."""

    def __init__(self, texts: Sequence[str]) -> None:
        known_words: set[str] = set()

        def analyse(text: str) -> list[str]:
            found = health_terms.words(text)
            known_words.update(found)
            return health_terms.Lexicon.shipped().terms(
                [health_terms.stem(word) for word in found], found
            )

        self.vectorizer = TfidfVectorizer(analyzer=analyse, sublinear_tf=True)
        try:
            self.matrix = self.vectorizer.fit_transform(texts).tocsr()
            self.fitted = True
        except ValueError:  # no texts, or none with a word that is not a function word
            self.matrix = sparse.csr_matrix((len(texts), 0))
            self.fitted = False
        self.speller = health_terms.Speller(known_words)
        self._column = self.vectorizer.vocabulary_ if self.fitted else {}
        self._idf = self.vectorizer.idf_ if self.fitted else np.zeros(0)
        # scikit-learn's smoothed idf of a term in no indexed text.
        self._unseen_idf = math.log(len(texts) + 1) + 1.0

    def __len__(self) -> int:
        return self.matrix.shape[0]

    def vectors(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Unit-length TF-IDF rows of any texts; unknown terms count in the length only."""
        rows, columns, values = [], [], []
        for row, text in enumerate(texts):
            weights: dict[int, float] = {}
            unseen = 0.0
            for term, count in Counter(self.speller.analyse(text)).items():
                column = self._column.get(term)
                if column is None:
                    unseen += ((1.0 + math.log(count)) * self._unseen_idf) ** 2
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


def cosine(vector: sparse.csr_matrix, rows: sparse.csr_matrix) -> np.ndarray:
    """The similarity of one text's vector to each of `rows`, between 0 and 1."""
    return np.clip(np.asarray((rows @ vector.T).todense()).ravel(), 0.0, 1.0)


class SimilarityIndex:
    """The published practices' texts, to find those most like a text or a practice."""

    def __init__(self, ids: list[int], texts: Sequence[str]) -> None:
        self._ids = np.asarray(ids, dtype=np.int64)
        self._row = {practice_id: row for row, practice_id in enumerate(ids)}
        self.model = TextModel(texts)
        # Terms x practices: a lookup then touches only the practices sharing a term with it.
        self._by_term = self.model.matrix.T.tocsr()

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
        return cls([i for i, _, _ in rows], [practice_text(t, s) for _, t, s in rows])

    def similar_to_text(
        self, title: str, summary: str, *, k: int = 5, exclude_ids: Iterable[int] = ()
    ) -> list[tuple[int, float]]:
        """The `k` practices most similar to a title and summary: (id, score 0..1), best first."""
        if not self.model.fitted:
            return []
        vector = self.model.vectors([practice_text(title, summary)])
        return self._nearest(vector, k=k, exclude_ids=set(exclude_ids))

    def similar_to_practice(self, practice_id: int, *, k: int = 5) -> list[tuple[int, float]]:
        """The `k` practices most similar to an indexed one (never itself); [] if not indexed."""
        row = self._row.get(practice_id)
        if row is None:
            return []
        return self._nearest(self.model.matrix[row], k=k, exclude_ids={practice_id})

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
