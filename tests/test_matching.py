"""The matching engine: criteria, hard filters, weights, the vectorised ranking and allocation."""

import dataclasses
import itertools
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dhu_core import bench_memory, db, demo, matching, taxonomy
from dhu_core.bench_matching import run_matching_bench
from dhu_core.matching import (
    CRITERIA,
    DEFAULT_WEIGHTS,
    Candidate,
    MatchingIndex,
    NeedProfile,
    PracticeProfile,
    allocate,
    allocate_call,
    breakdown_rows,
    clean_weights,
    counted,
    criteria,
    dhi_credit,
    explain,
    is_open_for_twinning,
    load_needs,
    load_practices,
    rank,
    rank_loop,
)
from dhu_core.models import Organisation, Practice

# Small pools, so that random needs and practices overlap and often tie.
WORDS = [
    "heart",
    "failure",
    "monitoring",
    "diabetes",
    "app",
    "patients",
    "records",
    "portal",
    "youth",
    "pharmacy",
]
DOMAINS = ["cardiovascular", "diabetes", "telehealth", "mental-health"]
DHI = ["1.4", "1.4.1", "1.4.2", "1.4.3", "2.4.2", "2.9.1"]
STANDARDS = ["fhir", "loinc", "snomed-ct", "hl7v2"]
LANGUAGES = ["et", "en", "pt", "de"]
COUNTRIES = ["EE", "PT", "DE"]


def codes(pool, most=3):
    return st.lists(st.sampled_from(pool), max_size=most, unique=True).map(tuple)


def text(least=1, most=12):
    return st.lists(st.sampled_from(WORDS), min_size=least, max_size=most).map(" ".join)


needs = st.builds(
    NeedProfile,
    id=st.integers(1, 1000),
    organisation_id=st.integers(1, 3),
    country=st.sampled_from(COUNTRIES),
    problem_statement=text(),
    practice_types=codes(list(taxonomy.PRACTICE_TYPES), 2),
    health_domains=codes(DOMAINS),
    dhi_codes=codes(DHI),
    languages=codes(LANGUAGES, 2),
    standards=codes(STANDARDS),
)


def practices(practice_id):
    return st.builds(
        PracticeProfile,
        id=st.just(practice_id),
        organisation_id=st.integers(1, 3),
        country=st.sampled_from(COUNTRIES),
        title=text(1, 4),
        summary=text(0, 8),
        practice_type=st.sampled_from(list(taxonomy.PRACTICE_TYPES)),
        maturity=st.integers(1, 5),
        status=st.sampled_from(["published", "published", "draft"]),
        transferable=st.sampled_from([True, True, False, None]),
        transfer_capacity=st.integers(0, 3),
        active_twinnings=st.integers(0, 3),
        health_domains=codes(DOMAINS),
        dhi_codes=codes(DHI),
        standards=codes(STANDARDS),
        languages=codes(LANGUAGES, 2),
    )


practice_lists = st.integers(0, 12).flatmap(
    lambda n: st.tuples(*(practices(i + 1) for i in range(n))).map(list)
)
weight_sets = st.fixed_dictionaries(
    {name: st.sampled_from([0.0, 0.0, 0.5, 1.0, 3.0]) for name in CRITERIA}
).filter(lambda w: sum(w.values()) > 0)


NEED = NeedProfile(
    id=1,
    organisation_id=1,
    country="PT",
    problem_statement="Heart failure patients are readmitted; we want remote monitoring at home.",
    practice_types=("service",),
    health_domains=("cardiovascular", "telehealth"),
    dhi_codes=("1.4.2", "2.4.2"),
    languages=("pt", "en"),
    standards=("fhir",),
)


def perfect(practice_id=100, **changes):
    """A practice that meets every criterion of NEED."""
    fields = dict(
        id=practice_id,
        organisation_id=2,
        country="EE",
        title="Heart failure patients are readmitted",
        summary="we want remote monitoring at home",
        practice_type="service",
        maturity=5,
        transfer_capacity=3,
        health_domains=("cardiovascular", "telehealth"),
        dhi_codes=("1.4.2", "2.4.2"),
        standards=("fhir", "loinc"),
        languages=("et", "en"),
    )
    return PracticeProfile(**{**fields, **changes})


def others(count=30, seed=7):
    rng = random.Random(seed)
    return [
        PracticeProfile(
            id=i,
            organisation_id=rng.randint(2, 9),
            country=rng.choice(COUNTRIES),
            title=" ".join(rng.choices(WORDS, k=4)),
            summary=" ".join(rng.choices(WORDS, k=8)),
            practice_type=rng.choice(list(taxonomy.PRACTICE_TYPES)),
            maturity=rng.randint(1, 5),
            transfer_capacity=rng.randint(0, 3),
            health_domains=tuple(rng.sample(DOMAINS, 2)),
            dhi_codes=tuple(rng.sample(DHI, 2)),
            standards=tuple(rng.sample(STANDARDS, 1)),
            languages=tuple(rng.sample(LANGUAGES, 1)),
        )
        for i in range(1, count + 1)
    ]


# --- the criteria ------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(need=needs, practice=practices(1), similarity=st.floats(-0.5, 1.5))
def test_every_criterion_lies_between_0_and_1(need, practice, similarity):
    values = criteria(need, practice, similarity)
    assert set(values) == set(counted(need))
    assert all(0.0 <= value <= 1.0 for value in values.values())
    for candidate in rank(need, [practice], k=1):
        assert all(0.0 <= value <= 1.0 for value in candidate.breakdown.values())
        assert 0.0 <= candidate.score <= 1.0


def test_a_dhi_category_matches_its_interventions():
    assert dhi_credit("1.4", ["1.4.2"]) == 1.0
    assert dhi_credit("1.4.2", ["1.4"]) == 1.0
    assert dhi_credit("1.4.2", ["1.4.2"]) == 1.0
    assert dhi_credit("1.4.1", ["1.4.2"]) == 0.5
    assert dhi_credit("1.4.1", ["2.4.2"]) == 0.0


def test_a_practice_that_meets_every_criterion_ranks_first():
    best = perfect()
    ranked = rank(NEED, [*others(), best], k=5)
    assert ranked[0].practice_id == best.id
    assert all(value == pytest.approx(1.0) for value in ranked[0].breakdown.values())
    assert ranked[0].score == pytest.approx(1.0)


@pytest.mark.parametrize(
    "changes",
    [
        {"transferable": False},
        {"transferable": None},
        {"status": "draft"},
        {"status": "archived"},
        {"maturity": 1},
        {"organisation_id": NEED.organisation_id},
    ],
    ids=["not transferable", "transfer unknown", "draft", "archived", "concept", "own"],
)
def test_a_practice_failing_a_hard_filter_is_never_suggested(changes):
    excluded = perfect(**changes)
    everything = [*others(), excluded]
    for ranked in (
        rank(NEED, everything, k=100),
        rank_loop(NEED, everything, k=100),
        MatchingIndex(everything).top_k([NEED], k=100)[0],
    ):
        assert excluded.id not in {c.practice_id for c in ranked}
        assert len(ranked) > 5


def test_removing_the_shared_language_lowers_the_score():
    shared, foreign = perfect(1), perfect(2, languages=("de",))
    scores = {c.practice_id: c.score for c in rank(NEED, [shared, foreign], k=2)}
    assert scores[2] < scores[1]


@settings(max_examples=100, deadline=None)
@given(weights=weight_sets, criterion=st.sampled_from(list(CRITERIA)))
def test_a_weight_of_zero_removes_a_criterion_effect(weights, criterion):
    weights = {**weights, criterion: 0.0}
    if not sum(weights.values()):
        weights["text" if criterion == "domain" else "domain"] = 1.0
    a = Candidate(1, 0.0, dict.fromkeys(CRITERIA, 0.5))
    b = Candidate(2, 0.0, {**a.breakdown, criterion: 1.0})
    rows_a, rows_b = breakdown_rows(a, weights), breakdown_rows(b, weights)
    assert sum(r["contribution"] for r in rows_a) == pytest.approx(
        sum(r["contribution"] for r in rows_b)
    )


def test_a_weight_of_zero_on_language_makes_it_irrelevant_to_the_ranking():
    weights = {**DEFAULT_WEIGHTS, "language": 0.0}
    shared, foreign = perfect(1), perfect(2, languages=("de",))
    ranked = rank(NEED, [shared, foreign], weights, k=2)
    assert ranked[0].score == pytest.approx(ranked[1].score)
    assert ranked[1].breakdown["language"] == 0.0


def test_weights_are_checked():
    assert clean_weights(None) == DEFAULT_WEIGHTS
    assert clean_weights({"domain": 2})["text"] == 0.0
    for bad in ({"colour": 1}, {"domain": -1}, {"domain": 0}, {"domain": float("nan")}):
        with pytest.raises(ValueError):
            clean_weights(bad)


def test_explanations_use_plain_words():
    need = dataclasses.replace(NEED, health_domains=("cardiovascular", "telehealth", "diabetes"))
    practice = perfect(languages=("pt", "en"), standards=("fhir", "loinc"))
    candidate = rank(need, [practice], k=1)[0]
    lines = explain(candidate, need, practice)
    assert len(lines) == len(CRITERIA)
    assert "shares 2 of 3 health domains: Cardiovascular and Telehealth" in lines
    assert "both use HL7 FHIR" in lines
    assert "in Portuguese and English" in lines
    assert "a transfer from Estonia to Portugal" in lines
    assert "the originator can take 3 more twinnings" in lines


def test_breakdown_rows_add_up_to_the_score():
    candidate = rank(NEED, [perfect(languages=("de",))], k=1)[0]
    rows = breakdown_rows(candidate)
    assert [r["criterion"] for r in rows] == list(CRITERIA.values())
    assert sum(r["contribution"] for r in rows) == pytest.approx(candidate.score)


# --- the vectorised ranking equals the plain loop ----------------------------------------


def same(vectorised: list[Candidate], reference: list[Candidate]) -> None:
    assert [c.practice_id for c in vectorised] == [c.practice_id for c in reference]
    for got, expected in zip(vectorised, reference, strict=True):
        assert got.score == pytest.approx(expected.score, abs=1e-12)
        assert got.breakdown == pytest.approx(expected.breakdown, abs=1e-12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    needs=st.lists(needs, min_size=1, max_size=4),
    candidates=practice_lists,
    weights=weight_sets,
    k=st.integers(1, 8),
)
def test_top_k_equals_the_plain_loop(needs, candidates, weights, k):
    ranked = MatchingIndex(candidates).top_k(needs, weights, k)
    for need, vectorised in zip(needs, ranked, strict=True):
        same(vectorised, rank_loop(need, candidates, weights, k))


def batch_of_needs(count, seed):
    rng = random.Random(seed)
    return [
        NeedProfile(
            id=i,
            organisation_id=rng.randint(1, 9),
            country=rng.choice(COUNTRIES),
            problem_statement=" ".join(rng.choices(WORDS, k=12)),
            health_domains=tuple(rng.sample(DOMAINS, rng.randint(0, 2))),
            dhi_codes=tuple(rng.sample(DHI, rng.randint(0, 2))),
            languages=tuple(rng.sample(LANGUAGES, rng.randint(0, 2))),
        )
        for i in range(count)
    ]


def test_top_k_equals_the_plain_loop_on_a_larger_case():
    candidates = others(count=400, seed=3)
    batch = batch_of_needs(40, seed=4)
    index = MatchingIndex(candidates)
    for need, vectorised in zip(batch, index.top_k(batch, k=10), strict=True):
        same(vectorised, rank_loop(need, candidates, k=10, text=index.text))


def test_top_k_in_blocks_side_by_side_equals_the_plain_loop_with_ties(monkeypatch):
    """Blocks of a few needs, scored in threads, over practices many of which tie exactly."""
    originals = others(count=300, seed=5)
    copies = [dataclasses.replace(p, id=p.id + 1000) for p in originals[::3]]
    candidates = [*copies, *originals]
    monkeypatch.setattr(matching, "BLOCK_CELLS", 3 * len(candidates))
    batch = batch_of_needs(25, seed=6)
    index = MatchingIndex(candidates)
    for need, vectorised in zip(batch, index.top_k(batch, k=12), strict=True):
        same(vectorised, rank_loop(need, candidates, k=12, text=index.text))


def test_scores_closer_than_float32_tells_apart_rank_as_in_the_plain_loop():
    """Scores are summed in float32 to choose the contenders, then ranked in float64."""
    # One more step of maturity against one less free place: 6e-8 / 3 / 3.5 better, about
    # 6e-9, a difference float64 tells and float32 (7 digits) does not.
    weights = {"maturity": 1.5 + 6e-8, "capacity": 1.0, "text": 1.0}
    lower = perfect(1, maturity=2, transfer_capacity=2)
    higher = perfect(2, maturity=3, transfer_capacity=1)
    candidates = [lower, higher]
    index = MatchingIndex(candidates)
    for k in (1, 2):
        reference = rank_loop(NEED, candidates, weights, k)
        assert reference[0].practice_id == 2
        same(index.top_k([NEED], weights, k)[0], reference)


def test_only_practices_with_free_capacity_when_asked():
    full = perfect(1, transfer_capacity=1, active_twinnings=1)
    free = perfect(2, transfer_capacity=2, active_twinnings=1)
    index = MatchingIndex([full, free])
    assert [c.practice_id for c in index.top_k([NEED], k=5)[0]] == [2, 1]
    assert [c.practice_id for c in index.top_k([NEED], k=5, available_only=True)[0]] == [2]


def test_one_pair_scores_as_in_the_ranking():
    index = MatchingIndex(others())
    for candidate in index.top_k([NEED], k=5)[0]:
        single = index.candidate(NEED, candidate.practice_id)
        assert single.score == pytest.approx(candidate.score)
    assert index.candidate(NEED, 999) is None


def test_one_pair_is_scored_as_the_practice_is_now_when_its_profile_is_given():
    """An index may be seconds older than the data: the practice read now decides."""
    practices = others()
    index = MatchingIndex(practices)
    for candidate in index.top_k([NEED], k=5)[0]:
        profile = next(p for p in practices if p.id == candidate.practice_id)
        now = index.candidate(NEED, profile.id, practice=profile)
        assert now.score == pytest.approx(candidate.score)
        assert now.breakdown == pytest.approx(candidate.breakdown)
        busier = dataclasses.replace(profile, transfer_capacity=1, active_twinnings=1)
        assert index.candidate(NEED, profile.id, practice=busier).breakdown["capacity"] == 0
        closed = dataclasses.replace(profile, status="archived")
        assert index.candidate(NEED, profile.id, practice=closed) is None
    assert index.candidate(NEED, 999) is None
    for published_since in (perfect(999), dataclasses.replace(practices[3], id=999)):
        found = index.candidate(NEED, 999, practice=published_since)
        indexed = MatchingIndex([*practices, published_since]).candidate(NEED, 999)
        assert found.score == pytest.approx(indexed.score, abs=0.02)
        assert found.breakdown == pytest.approx(indexed.breakdown, abs=0.05)


def test_one_pair_is_scored_on_its_text_as_it_is_now_when_it_was_edited_since():
    practices = others()
    before = next(p for p in practices if is_open_for_twinning(p))
    index = MatchingIndex(practices)
    edited = dataclasses.replace(
        before,
        title="Heart failure patients are readmitted",
        summary="we want remote monitoring at home",
    )
    now = index.candidate(NEED, before.id, practice=edited).breakdown["text"]
    now_indexed = [edited if p.id == before.id else p for p in practices]
    rebuilt = MatchingIndex(now_indexed).candidate(NEED, before.id)
    assert now == pytest.approx(rebuilt.breakdown["text"], abs=0.05)
    assert now > index.candidate(NEED, before.id).breakdown["text"] + 0.2


def test_the_index_gives_each_practice_back_as_it_was_given_but_its_summary():
    practices = others(count=60)
    practices[0] = dataclasses.replace(practices[0], title="Tervis kodus – ülevaade 🫀")
    index = MatchingIndex(practices)
    indexed = sorted((p for p in practices if is_open_for_twinning(p)), key=lambda p: p.id)
    expected = [dataclasses.replace(p, summary="") for p in indexed]
    assert index.practices == expected
    assert [index.practice(p.id) for p in indexed] == expected
    assert [index.free_capacity(p.id) for p in indexed] == [p.free_capacity for p in indexed]
    assert index.ids.tolist() == [p.id for p in indexed]
    with pytest.raises(KeyError):
        index.practice(999)


def test_the_index_keeps_columns_rather_than_an_object_per_practice():
    """A profile per practice with its strings weighed about 1.4 KB at 100,000 practices."""
    practices = [
        dataclasses.replace(p, summary=" ".join([p.summary] * 10))
        for p in others(count=3000, seed=9)
    ]
    index = MatchingIndex(practices)
    beside_text = bench_memory.deep_size(index) - bench_memory.deep_size(index.text)
    assert beside_text < 250 * len(index)


def test_the_index_keeps_its_texts_by_term_once_in_float32():
    """Its terms x texts weights only pick the pairs to score again (in float64 arithmetic):
    kept in float64 as well, and copied to float32 by every ranking, they held 4 MB more at
    100,000 practices. Its texts' weights are float32 too (scores to 7 digits)."""
    index = MatchingIndex(others(count=300, seed=4))
    assert index.text.by_term.dtype == np.float32
    assert index.text.matrix.dtype == np.float32
    scoring = matching._Scoring(index, [NEED], index._describe([NEED]), DEFAULT_WEIGHTS, False)
    assert scoring.by_term32 is index.text.by_term


def test_an_empty_index_suggests_nothing():
    assert MatchingIndex([]).top_k([NEED], k=3) == [[]]
    assert rank(NEED, [perfect(status="draft")]) == []


# --- allocation --------------------------------------------------------------------------


def brute_force(scores, capacities, places):
    """The best total by trying every assignment (each need: nothing or one practice)."""
    needs = sorted({n for n, _ in scores})
    practices = sorted({p for _, p in scores})
    best = 0.0
    for choice in itertools.product([None, *practices], repeat=len(needs)):
        pairs = [(n, p) for n, p in zip(needs, choice, strict=True) if p is not None]
        if len(pairs) > places or any((n, p) not in scores for n, p in pairs):
            continue
        if any(sum(1 for _, q in pairs if q == p) > capacities[p] for p in practices):
            continue
        best = max(best, sum(scores[pair] for pair in pairs))
    return best


@pytest.mark.parametrize("seed", range(150))
def test_allocation_equals_the_brute_force_optimum(seed):
    rng = random.Random(seed)
    needs, practices = range(rng.randint(1, 5)), range(100, 100 + rng.randint(1, 5))
    scores = {
        (n, p): rng.choice([round(rng.random(), 2), 0.5, 0.5])
        for n in needs
        for p in practices
        if rng.random() < 0.8
    }
    capacities = {p: rng.randint(1, 2) for p in practices}
    places = rng.randint(1, 6)
    pairs = allocate(scores, capacities, places)
    assert len(pairs) <= places
    assert len({n for n, _ in pairs}) == len(pairs)
    assert all(sum(1 for _, q in pairs if q == p) <= capacities[p] for p in practices)
    assert sum(scores[pair] for pair in pairs) == pytest.approx(
        brute_force(scores, capacities, places)
    )


def test_allocation_leaves_out_practices_without_capacity():
    scores = {(1, 10): 0.9, (2, 10): 0.8, (2, 11): 0.1}
    assert allocate(scores, {10: 0, 11: 1}, places=5) == [(2, 11)]
    assert allocate(scores, {10: 1, 11: 1}, places=5) == [(1, 10), (2, 11)]
    assert allocate(scores, {10: 2}, places=1) == [(1, 10)]
    assert allocate({}, {}, places=3) == []


@pytest.mark.parametrize("seed", range(20))
def test_a_call_allocation_loses_nothing_by_ranking_first(seed):
    rng = random.Random(seed)
    index = MatchingIndex(others(count=rng.randint(3, 40), seed=seed))
    call = [dataclasses.replace(NEED, id=i, organisation_id=rng.randint(1, 9)) for i in range(12)]
    places = rng.randint(1, 14)
    ranked = index.top_k(call, k=len(index), available_only=True)
    every = {(row, c.practice_id): c.score for row, found in enumerate(ranked) for c in found}
    capacities = {p.id: p.free_capacity for p in index.practices}
    best = sum(every[pair] for pair in allocate(every, capacities, places))
    proposed = allocate_call(index, call, places)
    assert sum(c.score for _, c in proposed) == pytest.approx(best)
    assert len(proposed) <= places


# --- from the database -------------------------------------------------------------------


def test_index_from_the_database_applies_the_hard_filters(engine):
    demo.seed_demo(engine=engine, practices=120)
    index = MatchingIndex.build(engine)
    with db.session_scope(engine) as session:
        needs = load_needs(session)
        everything = load_practices(session, open_only=False)
        rows = session.execute(
            select(
                Practice.id,
                Practice.status,
                Practice.transferable,
                Practice.maturity,
                Practice.owner_organisation_id,
            ).join(Organisation)
        ).all()
    facts = {row.id: row for row in rows}
    assert 0 < len(index) < len(everything)
    ranked = index.top_k(needs, k=10)
    assert sum(map(len, ranked)) > 0
    for need, candidates in zip(needs, ranked, strict=True):
        for candidate in candidates:
            practice = facts[candidate.practice_id]
            assert practice.status == "published"
            assert practice.transferable is True
            assert practice.maturity >= 2
            assert practice.owner_organisation_id != need.organisation_id
    for need, candidates in list(zip(needs, ranked, strict=True))[:5]:
        same(candidates, rank_loop(need, everything, k=10))


def test_the_benchmark_runs_on_a_small_database(engine):
    demo.seed_demo(engine=engine, practices=60)
    figures = run_matching_bench(engine=engine, repeat=1)
    assert figures["practices"] == 60
    assert figures["needs"] == 1000
    assert figures["subset_same_ranking"]
    assert figures["allocation_pairs"] > 0


# --- what a need does not ask for --------------------------------------------------------


def test_a_criterion_the_need_does_not_ask_about_is_left_out_of_its_score():
    need = dataclasses.replace(NEED, health_domains=(), dhi_codes=(), standards=())
    practice = perfect(standards=())
    candidate = rank(need, [*others(), practice], k=1)[0]
    assert candidate.practice_id == practice.id
    assert set(candidate.breakdown) == set(CRITERIA) - {"domain", "dhi", "standard"}
    weights = {n: w for n, w in DEFAULT_WEIGHTS.items() if n in candidate.breakdown}
    expected = sum(w * candidate.breakdown[n] for n, w in weights.items()) / sum(weights.values())
    assert candidate.score == pytest.approx(expected)
    lines = explain(candidate, need, practice)
    assert "no health domain asked for: left out of the score" in lines
    assert "no WHO DHI code asked for: left out of the score" in lines
    assert "no standards in place were given: left out of the score" in lines
    rows = breakdown_rows(candidate)
    assert [r["criterion"] for r in rows] == [CRITERIA[n] for n in candidate.breakdown]
    assert sum(r["contribution"] for r in rows) == pytest.approx(candidate.score)


def test_a_need_in_words_only_ranks_the_practices_on_its_topic_first():
    """The issue's case: mature, free, foreign practices on other topics came before the few
    on the need's topic, because every criterion the need left empty counted as met."""
    need = NeedProfile(
        id=1,
        organisation_id=1,
        country="EE",
        problem_statement="an app that helps patients with COPD do their rehabilitation "
        "exercises at home",
    )
    on_topic = PracticeProfile(
        id=1,
        organisation_id=2,
        country="EE",
        title="Telerehabilitation programme for COPD",
        summary="Physiotherapists supervise breathing exercises of people with chronic "
        "obstructive pulmonary disease by video.",
        practice_type="service",
        maturity=3,
        transfer_capacity=1,
        active_twinnings=1,
    )
    elsewhere = [
        PracticeProfile(
            id=10 + number,
            organisation_id=3,
            country="PT",
            title=title,
            summary="An app for patients, in routine use at home and in hospitals.",
            practice_type="app",
            maturity=5,
            transfer_capacity=3,
            health_domains=("general",),
            languages=("en",),
        )
        for number, title in enumerate(
            (
                "Community first responder app for cardiac arrest",
                "Electronic insurance claims and reimbursement",
                "Smartphone hearing test",
            )
        )
    ]
    for ranked in (
        rank(need, [on_topic, *elsewhere], k=4),
        rank_loop(need, [on_topic, *elsewhere], k=4),
    ):
        assert ranked[0].practice_id == on_topic.id
