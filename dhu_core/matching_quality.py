"""How good twinning suggestions are for needs typed in words: the measures of `dhu bench`.

Hand-labelled sets in `data/matching_eval/` (see its README):

- the labelled set: real-world-like practices in eight languages (`practices.csv`) and needs
  graded against them (`needs.json`). It is ranked together with generated demo practices as
  distractors; nDCG@10 is computed on the ranking of the graded set's practices (the demo
  practices, which are not graded, are taken out of the list first).
- the held-out set (`heldout/`, same files, measured the same way): written apart from the
  text model and the labelled set, which the model was developed on, so that its figure says
  how the matching does on words it was not tuned to.
- the second held-out set (`heldout-2/`): written on 2 December 2026 apart from the text model,
  its lexicon and the other sets, after the first held-out set's topics had been used to choose
  concepts for the lexicon; `dhu bench` reports it as `fresh_heldout_ndcg_at_10`.
- needs for the demo data (`demo_needs.toml`): the share of the ten best demo practices that
  are on the need's topic, and nDCG@10 by the graded titles the demo practices come from.

Needs are ranked as typed, with nothing but the problem statement and the country; the
inferred tags are measured against the coordinators' ones (precision and recall).
"""

import csv
import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from sklearn.metrics import ndcg_score

from dhu_core import demo, need_tags
from dhu_core.config import DATA_DIR
from dhu_core.matching import MatchingIndex, NeedProfile, PracticeProfile, dhi_category

EVAL_DIR = DATA_DIR / "matching_eval"
#: The needs quoted in the issue (the first two of demo_needs.toml).
ISSUE_NEEDS = ("copd-rehab-app", "eprescription")
#: Each graded set's practices and organisations have ids in a range of this size of their own.
ID_RANGE = 10_000_000
K = 10


@dataclass(frozen=True)
class GradedSet:
    """Practices (`practices.csv`) and needs graded against them (`needs.json`) in a folder."""

    directory: Path
    #: Ids of its practices and organisations start here, far above the demo ones.
    first_id: int

    def __contains__(self, practice_id: object) -> bool:
        return isinstance(practice_id, int) and 0 <= practice_id - self.first_id < ID_RANGE


#: The set the text model was developed on.
LABELLED = GradedSet(EVAL_DIR, ID_RANGE)
#: The set written apart from it, to measure how the matching generalises.
HELDOUT = GradedSet(EVAL_DIR / "heldout", 2 * ID_RANGE)
#: The set written apart from the model, the lexicon and both sets above, once the first
#: held-out set's topics had informed the lexicon.
FRESH_HELDOUT = GradedSet(EVAL_DIR / "heldout-2", 3 * ID_RANGE)
#: The graded sets, by the name their figures go under.
GRADED_SETS = {"labelled": LABELLED, "heldout": HELDOUT, "fresh_heldout": FRESH_HELDOUT}


@dataclass(frozen=True)
class LabelledNeed:
    """A need typed in words, with what a coordinator would tag it with and want to see."""

    key: str
    need: NeedProfile
    domains: tuple[str, ...]
    dhi_categories: tuple[str, ...]
    practice_types: tuple[str, ...]
    #: Grade (3 best) of practices by id (labelled set) or by generated title (demo data).
    grades: dict[int | str, int] = field(default_factory=dict)
    #: The demo data's topics that are on topic for the need.
    topics: tuple[str, ...] = ()


def labelled_practices(graded: GradedSet = LABELLED) -> list[PracticeProfile]:
    """The practices of a graded set, with ids from its `first_id` on."""
    rows = practice_rows(graded)
    organisations: dict[tuple[str, str], int] = {}
    practices = []
    for number, row in enumerate(rows):
        owner = (row["owner_organisation"], row["owner_country"])
        organisation_id = organisations.setdefault(owner, graded.first_id + len(organisations))
        practices.append(
            PracticeProfile(
                id=graded.first_id + number,
                organisation_id=organisation_id,
                country=row["owner_country"],
                title=row["title"],
                summary=row["summary"],
                practice_type=row["practice_type"],
                maturity=int(row["maturity"]),
                transferable={"yes": True, "no": False}.get(row["transferable"]),
                transfer_capacity=2,
                health_domains=_codes(row["health_domains"]),
                dhi_codes=_codes(row["dhi_codes"]),
                standards=_codes(row["standards"]),
                languages=_codes(row["languages"]),
                organisation=row["owner_organisation"],
            )
        )
    return practices


def practice_rows(graded: GradedSet) -> list[dict[str, str]]:
    """The rows of a graded set's `practices.csv`, by column (`key` and the import columns)."""
    with open(graded.directory / "practices.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _codes(cell: str) -> tuple[str, ...]:
    return tuple(code for code in cell.split(";") if code)


def need_entries(graded: GradedSet) -> list[dict]:
    """The needs of a graded set as written in its `needs.json`, grading practices by key."""
    with open(graded.directory / "needs.json", encoding="utf-8") as f:
        return json.load(f)


def labelled_needs(graded: GradedSet = LABELLED) -> list[LabelledNeed]:
    """The needs of a graded set, graded against its `labelled_practices`."""
    id_of = {row["key"]: graded.first_id + n for n, row in enumerate(practice_rows(graded))}
    entries = need_entries(graded)
    return [
        LabelledNeed(
            key=entry["key"],
            need=_typed(number, entry["statement"], entry["country"]),
            domains=tuple(entry["topic"]["health_domains"]),
            dhi_categories=tuple(entry["topic"]["dhi_categories"]),
            practice_types=tuple(entry["topic"]["practice_types"]),
            grades={id_of[key]: grade for key, grade in entry["relevant"].items()},
        )
        for number, entry in enumerate(entries)
    ]


def demo_needs() -> list[LabelledNeed]:
    """The needs for the demo data, graded by the titles demo practices are generated from."""
    with open(EVAL_DIR / "demo_needs.toml", "rb") as f:
        entries = tomllib.load(f)["need"]
    return [
        LabelledNeed(
            key=entry["key"],
            need=_typed(number, entry["statement"], entry["country"]),
            domains=tuple(entry["domains"]),
            dhi_categories=tuple(entry["dhi"]),
            practice_types=tuple(entry["types"]),
            grades=dict(entry["demo"]),
            topics=tuple(entry["topics"]),
        )
        for number, entry in enumerate(entries)
    ]


def _typed(number: int, statement: str, country: str) -> NeedProfile:
    """A need as typed: its words and its country, of an organisation owning no practice."""
    return NeedProfile(
        id=-(number + 1), organisation_id=-1, country=country, problem_statement=statement
    )


def with_suggested_tags(labelled: LabelledNeed, index: MatchingIndex) -> LabelledNeed:
    """The need with every tag suggested from its words accepted."""
    suggested = need_tags.suggest(labelled.need.problem_statement, index)
    return replace(
        labelled,
        need=replace(
            labelled.need,
            health_domains=suggested.health_domains,
            dhi_codes=suggested.dhi_codes,
            practice_types=suggested.practice_types,
        ),
    )


# --- the measures ------------------------------------------------------------------------


def ndcg(ranked_grades: Sequence[int], k: int = K) -> float:
    """nDCG@k (gain = grade) of a ranking, given the grade of every item in ranked order."""
    if not any(ranked_grades):
        return 0.0
    order = np.arange(len(ranked_grades), 0, -1)
    return float(ndcg_score([list(ranked_grades)], [order], k=k))


def tag_precision_recall(
    suggested: Sequence[Sequence[str]], labelled: Sequence[Sequence[str]]
) -> tuple[float, float]:
    """Precision and recall of suggested tags over all needs (micro-averaged)."""
    hits = sum(len(set(s) & set(t)) for s, t in zip(suggested, labelled, strict=True))
    offered = sum(len(set(s)) for s in suggested)
    wanted = sum(len(set(t)) for t in labelled)
    return (hits / offered if offered else 0.0), (hits / wanted if wanted else 0.0)


def measure(demo_practices: Sequence[PracticeProfile]) -> dict[str, object]:
    """The quality figures: nDCG@10 on each graded set (with the demo practices as
    distractors), on-topic share and nDCG@10 on the demo data, and inferred tags' precision and
    recall; needs as typed, and again with every suggested tag accepted."""
    figures: dict[str, object] = {}
    indexes = {
        name: MatchingIndex([*labelled_practices(graded), *demo_practices])
        for name, graded in GRADED_SETS.items()
    }
    needs = {name: labelled_needs(graded) for name, graded in GRADED_SETS.items()}
    demo_index = MatchingIndex(demo_practices)
    for_demo = demo_needs()
    for variant, accept in (("typed", False), ("suggested_tags_accepted", True)):
        figures[variant] = {
            **{
                f"{name}_ndcg_at_10": _labelled_ndcg(
                    indexes[name], _as_ranked(needs[name], indexes[name], accept), graded
                )
                for name, graded in GRADED_SETS.items()
            },
            **_demo_figures(demo_index, _as_ranked(for_demo, demo_index, accept)),
        }
    # The labelled set's tags are measured together with the demo needs'.
    figures["tags"] = _tag_figures(indexes["labelled"], [*needs["labelled"], *for_demo])
    for name in [name for name in GRADED_SETS if name != "labelled"]:
        figures[f"{name}_tags"] = _tag_figures(indexes[name], needs[name])
    for name, graded in GRADED_SETS.items():
        figures[f"{name}_practices"] = sum(int(i) in graded for i in indexes[name].ids)
        figures[f"{name}_needs"] = len(needs[name])
    figures |= {"demo_practices_open": len(demo_index), "demo_needs": len(for_demo)}
    return figures


def _as_ranked(
    needs: Sequence[LabelledNeed], index: MatchingIndex, accept: bool
) -> list[LabelledNeed]:
    """The needs as typed, or with every tag suggested from their words accepted."""
    return [with_suggested_tags(n, index) if accept else n for n in needs]


def _labelled_ndcg(index: MatchingIndex, needs: Sequence[LabelledNeed], graded: GradedSet) -> float:
    """Mean nDCG@10 of a graded set's needs over the ranking of its practices."""
    ranked = index.top_k([n.need for n in needs], k=len(index))
    scores = []
    for labelled, found in zip(needs, ranked, strict=True):
        grades = [labelled.grades.get(c.practice_id, 0) for c in found if c.practice_id in graded]
        scores.append(ndcg(grades))
    return round(float(np.mean(scores)), 4)


def _demo_figures(index: MatchingIndex, needs: Sequence[LabelledNeed]) -> dict[str, object]:
    """The share of the ten best demo practices that are on topic (of as many as there are,
    when fewer than ten are), and nDCG@10 by the titles they are generated from."""
    ranked = index.top_k([n.need for n in needs], k=len(index))
    on_topic, possible, scores = {}, 0, []
    for labelled, found in zip(needs, ranked, strict=True):
        origins = [demo.generated_from(index.practice(c.practice_id).title) for c in found]
        topical = [o is not None and o[0] in labelled.topics for o in origins]
        on_topic[labelled.key] = sum(topical[:K])
        possible += min(K, sum(topical))
        scores.append(ndcg([labelled.grades.get(o[1], 0) if o else 0 for o in origins]))
    return {
        "demo_on_topic_share": round(sum(on_topic.values()) / possible, 4),
        "demo_ndcg_at_10": round(float(np.mean(scores)), 4),
        "issue_needs_on_topic_of_10": {key: on_topic[key] for key in ISSUE_NEEDS},
    }


def _tag_figures(index: MatchingIndex, needs: Sequence[LabelledNeed]) -> dict[str, float]:
    """Precision and recall of the domains, DHI categories and types suggested from the words."""
    suggested = [need_tags.suggest(n.need.problem_statement, index) for n in needs]
    figures = {}
    for kind, got, wanted in (
        ("domains", [s.health_domains for s in suggested], [n.domains for n in needs]),
        (
            "dhi_categories",
            [{dhi_category(c) for c in s.dhi_codes} for s in suggested],
            [n.dhi_categories for n in needs],
        ),
        ("types", [s.practice_types for s in suggested], [n.practice_types for n in needs]),
    ):
        precision, recall = tag_precision_recall(got, wanted)
        figures[f"{kind}_precision"] = round(precision, 4)
        figures[f"{kind}_recall"] = round(recall, 4)
    return figures
