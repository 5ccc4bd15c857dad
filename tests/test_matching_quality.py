"""Suggestions for needs typed in words: measured on the labelled sets of data/matching_eval."""

import pytest

from dhu_core import accounts, geo, io, matching_quality, need_tags, taxonomy
from dhu_core.bench_matching import run_quality_bench
from dhu_core.matching import MatchingIndex
from dhu_core.matching_quality import (
    FRESH_HELDOUT,
    GRADED_SETS,
    HELDOUT,
    labelled_needs,
    labelled_practices,
)

#: The floors below which suggestions count as worse than this issue left them, on 300 demo
#: practices (dhu bench measures 2,000: see the README for both). The share on topic is the
#: issue's target; the labelled set's nDCG@10 stays short of its target of 0.95 (0.92 here).
#: The held-out set's figure has no floor: it measures how the matching generalises, and a
#: floor would invite tuning to it.
FLOORS = {
    "demo_on_topic_share": 0.80,
    "labelled_ndcg_at_10": 0.89,
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
    assert figures["heldout_needs"] >= 32 and figures["heldout_practices"] >= 120
    assert figures["fresh_heldout_needs"] >= 32 and figures["fresh_heldout_practices"] >= 120
    for variant in ("typed", "suggested_tags_accepted"):
        assert 0 <= figures[variant]["heldout_ndcg_at_10"] <= 1
        assert 0 <= figures[variant]["fresh_heldout_ndcg_at_10"] <= 1


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


@pytest.mark.parametrize("graded", GRADED_SETS.values(), ids=GRADED_SETS.keys())
def test_a_graded_set_follows_its_grading_rules(graded):
    rows = matching_quality.practice_rows(graded)
    practices = {row["key"]: row for row in rows}
    needs = matching_quality.need_entries(graded)
    assert len(practices) == len(rows)
    assert len({need["key"] for need in needs}) == len(needs)
    for need in needs:
        key, relevant, topic = need["key"], need["relevant"], need["topic"]
        assert need["statement"].strip() and need["country"] in geo.countries(), key
        assert set(topic["health_domains"]) <= set(taxonomy.HEALTH_DOMAINS), key
        assert set(topic["dhi_categories"]) <= set(taxonomy.DHI_CODES), key
        assert set(topic["practice_types"]) <= set(taxonomy.PRACTICE_TYPES), key
        assert set(relevant) <= practices.keys(), key
        assert set(relevant.values()) <= {1, 2, 3} and 3 in relevant.values(), key
        for graded_key, grade in relevant.items():
            practice = practices[graded_key]
            # Only practices that can be suggested are graded.
            assert practice["transferable"] == "yes", (key, graded_key)
            assert int(practice["maturity"]) >= 2, (key, graded_key)
            if practice["owner_country"] == need["country"]:
                assert grade < 3, (key, graded_key)
        abroad = [k for k in relevant if practices[k]["owner_country"] != need["country"]]
        assert len(abroad) >= 3, key
        assert not any(
            title in need["statement"].casefold()
            for title in (row["title"].casefold() for row in rows)
        ), key


@pytest.mark.parametrize("graded", GRADED_SETS.values(), ids=GRADED_SETS.keys())
def test_a_graded_set_imports_as_it_is(graded, engine):
    rows = matching_quality.practice_rows(graded)

    report = io.import_practices(rows, actor=accounts.system_actor("test"), engine=engine)

    assert (report.imported, report.errors) == (len(rows), [])
    assert all(".example.org" in row["website"] for row in rows if row["website"])
    assert all(
        row["contact_email"].endswith(".example.org") for row in rows if row["contact_email"]
    )


def test_every_graded_set_has_ids_of_its_own():
    for graded in GRADED_SETS.values():
        practices = labelled_practices(graded)
        ids = {p.id for p in practices} | {p.organisation_id for p in practices}
        for other in GRADED_SETS.values():
            assert all((i in other) == (other is graded) for i in ids)
        assert all(set(need.grades) <= {p.id for p in practices} for need in labelled_needs(graded))
    assert len(labelled_needs(HELDOUT)) >= 32 and len(labelled_practices(HELDOUT)) >= 120
    assert (
        len(labelled_needs(FRESH_HELDOUT)) >= 32 and len(labelled_practices(FRESH_HELDOUT)) >= 120
    )
