"""Suggestions for needs typed in words: measured on the labelled sets of data/matching_eval."""

from dhu_core import matching_quality, need_tags
from dhu_core.bench_matching import run_quality_bench
from dhu_core.matching import MatchingIndex

#: The floors below which suggestions count as worse than this issue left them, on 300 demo
#: practices (dhu bench measures 2,000: see the README for both). The share on topic is the
#: issue's target; the labelled set's nDCG@10 stays short of its target of 0.95 (0.85 here).
FLOORS = {
    "demo_on_topic_share": 0.80,
    "labelled_ndcg_at_10": 0.82,
    "demo_ndcg_at_10": 0.82,
}


def test_suggestions_for_needs_typed_in_words_stay_on_topic(tmp_path):
    figures = run_quality_bench(workdir=tmp_path, practices=300)

    typed = figures["typed"]
    for name, floor in FLOORS.items():
        assert typed[name] >= floor, (name, typed[name])
    assert (
        figures["suggested_tags_accepted"]["demo_on_topic_share"] >= FLOORS["demo_on_topic_share"]
    )
    tags = figures["tags"]
    assert tags["domains_precision"] >= 0.8 and tags["domains_recall"] >= 0.7
    assert tags["dhi_categories_precision"] >= 0.7 and tags["dhi_categories_recall"] >= 0.5
    assert figures["labelled_needs"] >= 30 and figures["demo_needs"] >= 30


def test_tags_are_suggested_from_the_words_of_a_need():
    index = MatchingIndex(matching_quality.labelled_practices())

    copd = need_tags.suggest(
        "an app that helps patients with COPD do their rehabilitation exercises at home", index
    )
    assert "respiratory" in copd.health_domains
    assert "rehabilitation" in copd.health_domains
    assert "2.4" in copd.dhi_codes
    assert all(code.count(".") == 1 for code in copd.dhi_codes)  # categories, not leaves
    assert copd.confidence["health_domains"]["respiratory"] >= need_tags.MIN_SHARE
    prescriptions = need_tags.suggest(
        "Pharmacies should receive the doctor's prescription without paper", index
    )
    assert "medication" in prescriptions.health_domains
    assert "2.9" in prescriptions.dhi_codes
    assert need_tags.suggest("", index) == need_tags.SuggestedTags()
    assert need_tags.suggest("Quantum chromodynamics of gluons", index).health_domains == ()
