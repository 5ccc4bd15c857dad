"""Health domains, WHO DHI categories and types of practice suggested from a need's words.

Learned from the practices open for twinning: the practices whose title and summary are most
like the problem statement vote with their own tags, each vote weighing as much as the
practice is alike; a tag with at least `MIN_SHARE` of the votes is suggested. The constants
were chosen on data/matching_eval (precision and recall in `dhu bench`). DHI codes are
suggested as categories ("1.4"), which a practice meets with any of their interventions.
"""

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from dhu_core.matching import MatchingIndex, dhi_category

#: How many of the most alike practices vote.
NEIGHBOURS = 15
#: Practices less alike than this (cosine) do not vote.
MIN_SIMILARITY = 0.1
#: Practices less alike than this share of the most alike one do not vote: in a small
#: register, the few practices on a need's topic are not outvoted by the next ones.
CLOSE = 0.5
#: The share of the votes a tag needs to be suggested.
MIN_SHARE = 0.5


@dataclass(frozen=True)
class SuggestedTags:
    """Tags suggested for a problem statement, each with its share of the votes (0..1)."""

    health_domains: tuple[str, ...] = ()
    dhi_codes: tuple[str, ...] = ()
    practice_types: tuple[str, ...] = ()
    confidence: dict[str, dict[str, float]] = field(default_factory=dict)


def suggest(statement: str, index: MatchingIndex) -> SuggestedTags:
    """The tags of the practices most like a problem statement, as suggestions."""
    if not index.text.fitted or not statement.strip():
        return SuggestedTags()
    vector = index.text.vectors([statement], correct=True)
    similarity = np.asarray((index.text.matrix @ vector.T).todense()).ravel()
    count = min(NEIGHBOURS, len(similarity))
    nearest = np.argpartition(-similarity, count - 1)[:count]
    best = float(similarity[nearest].max())
    nearest = nearest[similarity[nearest] >= max(MIN_SIMILARITY, CLOSE * best)]
    if not len(nearest):
        return SuggestedTags()
    votes: dict[str, dict[str, float]] = {
        "health_domains": defaultdict(float),
        "dhi_codes": defaultdict(float),
        "practice_types": defaultdict(float),
    }
    for column in nearest.tolist():
        practice, weight = index.practice_at(column), float(similarity[column])
        for domain in set(practice.health_domains):
            votes["health_domains"][domain] += weight
        for category in {dhi_category(code) for code in practice.dhi_codes}:
            votes["dhi_codes"][category] += weight
        if practice.practice_type:
            votes["practice_types"][practice.practice_type] += weight
    total = float(similarity[nearest].sum())
    confidence = {
        kind: dict(sorted(((c, v / total) for c, v in tally.items()), key=lambda cv: -cv[1]))
        for kind, tally in votes.items()
    }
    chosen = {
        kind: tuple(code for code, share in shares.items() if share >= MIN_SHARE)
        for kind, shares in confidence.items()
    }
    return SuggestedTags(**chosen, confidence=confidence)
