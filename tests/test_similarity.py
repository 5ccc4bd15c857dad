"""Similar practices: the TF-IDF index over titles and summaries of published practices."""

import subprocess
import sys

import numpy as np
import pytest
from sqlmodel import select

from dhu_core import bench, db, demo, health_terms, similarity
from dhu_core.models import Organisation, Practice
from dhu_core.similarity import MIN_SCORE, SimilarityIndex, practice_text

PRACTICES = {
    "Diabetes coach app": "A mobile app that coaches people with type 2 diabetes towards better "
    "glucose control through daily tips and blood sugar tracking.",
    "Heart failure telemonitoring": "Daily weight and blood pressure readings from home reach "
    "the hospital heart team, which calls patients before their condition gets worse.",
    "Electronic prescriptions": "Doctors prescribe medicines electronically and any pharmacy in "
    "the country dispenses them from the national prescription record.",
    "Online mental health support": "Young people chat with trained volunteers and counsellors "
    "when they feel low or anxious, day and night.",
    "Diabetes prevention programme": "General practitioners invite people at risk of type 2 "
    "diabetes to a lifestyle programme on food and exercise.",
}


@pytest.fixture
def ids(engine) -> dict[str, int]:
    """Five published practices and one draft: practice id by title."""
    with db.session_scope(engine) as session:
        org = Organisation(name="Tartu University Hospital", country="EE")
        session.add(org)
        session.flush()
        practices = [
            Practice(
                title=title,
                summary=summary,
                practice_type="app",
                maturity=3,
                owner_organisation_id=org.id,
                status="published",
            )
            for title, summary in PRACTICES.items()
        ]
        practices.append(
            Practice(
                title="Diabetes coach app copy",
                summary=PRACTICES["Diabetes coach app"],
                practice_type="app",
                maturity=1,
                owner_organisation_id=org.id,
                status="draft",
            )
        )
        session.add_all(practices)
        session.flush()
        return {practice.title: practice.id for practice in practices}


def test_a_near_copy_finds_the_original_first(engine, ids):
    index = SimilarityIndex.build(engine=engine)

    found = index.similar_to_text(
        "Diabetes coaching app",
        "Mobile app coaching people with type 2 diabetes to better glucose control with daily "
        "tips and tracking of blood sugar.",
    )

    assert found[0][0] == ids["Diabetes coach app"]
    assert found[0][1] > 0.5
    assert ids["Diabetes coach app copy"] not in dict(found)  # drafts are not indexed


def test_a_practice_is_not_similar_to_itself(engine, ids):
    index = SimilarityIndex.build(engine=engine)

    found = index.similar_to_practice(ids["Diabetes coach app"])

    assert ids["Diabetes coach app"] not in dict(found)
    assert found[0][0] == ids["Diabetes prevention programme"]


def test_scores_lie_between_the_threshold_and_one_best_first(engine, ids):
    index = SimilarityIndex.build(engine=engine)

    for title, summary in PRACTICES.items():
        found = index.similar_to_text(title, summary, k=10)
        scores = [score for _, score in found]
        assert scores == sorted(scores, reverse=True)
        assert all(MIN_SCORE < score <= 1.0 for score in scores)
        assert found[0] == (ids[title], pytest.approx(1.0, abs=1e-5))


def test_k_and_excluded_ids_limit_the_answer(engine, ids):
    index = SimilarityIndex.build(engine=engine)
    title, summary = "Diabetes coach app", PRACTICES["Diabetes coach app"]

    assert len(index.similar_to_text(title, summary, k=1)) == 1
    found = index.similar_to_text(title, summary, exclude_ids=[ids[title]])
    assert ids[title] not in dict(found)
    assert found[0][0] == ids["Diabetes prevention programme"]


def test_unrelated_text_and_unknown_practices_find_nothing(engine, ids):
    index = SimilarityIndex.build(engine=engine)

    assert index.similar_to_text("Quantum chromodynamics", "Gluons and quarks.") == []
    assert index.similar_to_text("", "") == []
    assert index.similar_to_practice(ids["Diabetes coach app copy"]) == []
    assert index.similar_to_practice(999_999) == []


def test_an_empty_index_answers_nothing(engine):
    index = SimilarityIndex.build(engine=engine)

    assert len(index) == 0
    assert index.similar_to_text("Diabetes coach app", PRACTICES["Diabetes coach app"]) == []
    assert index.similar_to_practice(1) == []


def test_practices_of_only_stop_words_make_an_empty_index(engine):
    with db.session_scope(engine) as session:
        org = Organisation(name="Tartu University Hospital", country="EE")
        session.add(org)
        session.flush()
        session.add(
            Practice(
                title="The one",
                summary="It is what it is, and so on.",
                practice_type="app",
                maturity=1,
                owner_organisation_id=org.id,
                status="published",
            )
        )

    assert SimilarityIndex.build(engine=engine).similar_to_text("The one", "it is") == []


def test_demo_practices_have_similar_ones(engine):
    demo.seed_demo(engine=engine, practices=60)
    index = SimilarityIndex.build(engine=engine)

    assert 0 < len(index) < 60
    with db.session_scope(engine) as session:
        published = session.exec(select(Practice.id).where(Practice.status == "published")).all()
    for practice_id in published:
        found = index.similar_to_practice(practice_id, k=3)
        assert len(found) <= 3
        assert practice_id not in dict(found)


def test_the_benchmark_times_lookups(engine):
    demo.seed_demo(engine=engine, practices=60)

    figures = bench.run_similarity_bench(engine=engine, lookups=10)

    assert figures["build_s"] >= 0
    assert figures["by_text"]["n"] == figures["by_practice"]["n"] == 10
    assert 0 < figures["by_text"]["p50_ms"] <= figures["by_text"]["p95_ms"]


def publish(engine, practices: dict[str, str], status: str = "published") -> dict[str, int]:
    """Practices of a new organisation, by title: their ids."""
    with db.session_scope(engine) as session:
        org = Organisation(name=f"Owner of {next(iter(practices))}", country="DE")
        session.add(org)
        session.flush()
        rows = [
            Practice(
                title=title,
                summary=summary,
                practice_type="service",
                maturity=3,
                owner_organisation_id=org.id,
                status=status,
            )
            for title, summary in practices.items()
        ]
        session.add_all(rows)
        session.flush()
        return {row.title: row.id for row in rows}


def test_practices_in_other_words_and_languages_are_found(engine):
    ids = publish(
        engine,
        {
            **PRACTICES,
            "E-Rezept: Verordnungen ohne Papier": "Ärzte stellen Rezepte elektronisch aus, jede "
            "Apotheke löst sie ein.",
            "Ricetta elettronica dematerializzata": "Il medico invia la prescrizione e il "
            "paziente ritira i farmaci in farmacia.",
            "Lungensport zu Hause": "Atemübungen für Menschen mit chronisch obstruktiver "
            "Lungenerkrankung.",
            "Réhabilitation respiratoire à domicile": "Exercices guidés pour les patients BPCO.",
            "Hearing test on a smartphone": "People check their hearing at home with an app.",
        },
    )
    index = SimilarityIndex.build(engine=engine)

    prescriptions = index.similar_to_text(
        "Electronic prescribing", "Pharmacies receive the doctor's prescriptions without paper."
    )
    assert {i for i, _ in prescriptions[:3]} == {
        ids["E-Rezept: Verordnungen ohne Papier"],
        ids["Ricetta elettronica dematerializzata"],
        ids["Electronic prescriptions"],
    }
    copd = index.similar_to_text("COPD rehabilitation", "Exercises at home for pulmonary patients.")
    assert {i for i, _ in copd[:2]} == {
        ids["Lungensport zu Hause"],
        ids["Réhabilitation respiratoire à domicile"],
    }


def test_the_form_and_the_detail_page_show_one_similarity(engine):
    """One percentage for two practices: beside the register form while one is a draft (as if
    it were published), on both detail pages once it is, and on the form when it is edited."""
    demo.seed_demo(engine=engine, practices=300)
    ids = publish(engine, PRACTICES)
    draft = (
        "Diabetes coach app for Saaremaa",
        "A Saaremaa coaching app for islanders with type 2 diabetes: Kuressaare nurses follow "
        "glucose readings and send daily tips.",
    )
    form = dict(SimilarityIndex.build(engine=engine).similar_to_text(*draft, k=10))
    other = ids["Diabetes coach app"]

    new_id = publish(engine, dict([draft]))[draft[0]]
    index = SimilarityIndex.build(engine=engine)
    detail = dict(index.similar_to_practice(other, k=10))[new_id]
    assert detail == pytest.approx(form[other], abs=1e-6)
    assert dict(index.similar_to_practice(new_id, k=10))[other] == pytest.approx(detail, abs=1e-6)
    edited = dict(index.similar_to_text(*draft, k=10, replacing=new_id))
    assert edited[other] == pytest.approx(detail, abs=1e-6)
    assert new_id not in edited


def test_the_text_model_weighs_terms_as_scikit_learn_does():
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

    texts = [practice_text(title, summary) for title, summary in PRACTICES.items()]
    texts += ["", "the and of", "Diabetes diabetes DIABETES app", "Télésurveillance cardiaque"]
    matrix, column, idf = similarity._tf_idf(texts, health_terms.analyse)
    reference = TfidfVectorizer(analyzer=health_terms.analyse, sublinear_tf=True, norm=None)
    expected = reference.fit_transform(texts).tocsr()

    assert column == reference.vocabulary_
    assert np.allclose(idf, reference.idf_)
    assert abs(matrix - expected).max() < 1e-12
    assert health_terms.stop_word_set() >= ENGLISH_STOP_WORDS


def test_texts_of_function_words_only_make_no_terms():
    matrix, column, idf = similarity._tf_idf(["the and of", ""], health_terms.analyse)
    assert matrix.shape == (2, 0) and column == {} and len(idf) == 0


def test_app_pages_do_not_import_scikit_learn():
    """Its import alone holds ~33 MB more in every app process (see the README)."""
    modules = ["dhu_core.ui.cached", "dhu_core.twinning", "dhu_core.need_tags", "dhu_core.calls"]
    code = (
        f"import sys; import {', '.join(modules)}; "
        "print(any(m.startswith('sklearn') for m in sys.modules))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False"


def test_the_index_keeps_little_beside_its_text_model():
    """Its rows are found among the ids: a dict of id -> row held ~110 bytes per practice
    (10 MB at 100,000 practices, `bench_memory.deep_size`)."""
    from dhu_core.bench_memory import deep_size

    count = 5000
    index = SimilarityIndex(list(range(1, count + 1)), ["heart failure telemonitoring"] * count)
    assert deep_size(index) - deep_size(index.model) < 16 * count
    [(found, score)] = index.similar_to_practice(1, k=1)
    assert found != 1 and score == pytest.approx(1.0)
    assert index.similar_to_practice(count + 1) == []


def test_a_row_is_found_for_ids_given_in_any_order():
    texts = ["heart failure telemonitoring", "heart failure telemonitoring at home", "cancer"]
    index = SimilarityIndex([7, 3, 5], texts)
    assert [i for i, _ in index.similar_to_practice(3)] == [7]
    assert [i for i, _ in index.similar_to_practice(7)] == [3]
    assert index.similar_to_practice(4) == []


def test_app_pages_do_not_import_the_optimiser():
    """SciPy's optimiser holds ~26 MB in every app process; only a call's allocation uses it."""
    modules = [
        "dhu_core.ui.cached",
        "dhu_core.twinning",
        "dhu_core.calls.award",
        "dhu_core.matching",
    ]
    code = (
        f"import sys; import {', '.join(modules)}; "
        "print(any(m.startswith('scipy.optimize') for m in sys.modules))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False"


def test_the_index_holds_its_matrix_once():
    """No terms x texts copy beside the texts x terms matrix (it held 20.7 MB of the index's
    43.6 MB at 100,000 practices): a product with the matrix finds the texts sharing a term."""
    from scipy import sparse

    from dhu_core.bench_memory import deep_size

    words = ["heart", "failure", "diabetes", "asthma", "pharmacy", "vaccination", "dialysis"]
    texts = [f"monitoring of {words[n % 7]} and {words[n // 7 % 7]} at home" for n in range(2000)]
    index = SimilarityIndex(list(range(1, 2001)), texts)
    matrix = index.model.matrix
    held = matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes
    arrays = {
        name: value
        for name, value in vars(index.model).items()
        if isinstance(value, np.ndarray) or sparse.issparse(value)
    }
    assert deep_size(arrays) < held * 1.2
    [(found, score)] = index.similar_to_practice(1, k=1)
    assert found != 1 and 0.5 < score <= 1.0


def test_the_weights_are_held_in_four_bytes_and_score_as_in_eight():
    """float32 weights (7 MB less at 100,000 practices) give the cosines to 6 digits."""
    texts = [f"remote monitoring of {w} at home" for w in ("heart failure", "asthma", "COPD")]
    index = SimilarityIndex([1, 2, 3], texts)
    assert index.model.matrix.dtype == np.float32
    exact = index.model.vectors(texts).toarray()
    for found, score in index.similar_to_practice(1, k=2):
        assert score == pytest.approx(float(exact[0] @ exact[found - 1]), abs=1e-6)


def test_similar_practices_match_cosines_computed_apart():
    """The products of one row with every other equal the cosines of the texts' vectors."""
    texts = [
        "remote monitoring of heart failure at home",
        "heart failure telemonitoring programme",
        "electronic prescriptions in pharmacies",
        "home monitoring of blood pressure",
        "diabetes app for children",
    ]
    index = SimilarityIndex([10, 20, 30, 40, 50], texts)
    matrix = index.model.matrix.toarray()
    cosines = matrix @ matrix[0]
    expected = sorted(
        ((pid, cosines[row]) for row, pid in enumerate([10, 20, 30, 40, 50]) if row),
        key=lambda pair: -pair[1],
    )
    expected = [(pid, score) for pid, score in expected if score > similarity.MIN_SCORE]
    found = index.similar_to_practice(10, k=4)
    assert [pid for pid, _ in found] == [pid for pid, _ in expected]
    assert [score for _, score in found] == pytest.approx([score for _, score in expected])
