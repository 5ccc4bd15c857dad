"""The terms of a text: folding, stems, function words and the health lexicon."""

import csv
import threading

import pytest

from dhu_core import health_terms
from dhu_core.health_terms import TERMS_FILE, analyse, fold

LANGUAGES = {"en", "de", "fr", "it", "es", "pt", "pl", "sv"}
#: Concepts that only join British and American spellings of one English word.
SPELLINGS = {"behaviour", "centre", "programme"}


def test_texts_are_folded_and_cut_into_words():
    assert fold("Übungen für Płuca, São Paulo, Straße") == "ubungen fur pluca, sao paulo, strasse"
    assert health_terms.words("e-Rezept: 2 Apotheken!") == ["e", "rezept", "2", "apotheken"]


def test_words_become_stems_and_function_words_go():
    assert analyse("prescriptions for the prescription") == ["#prescription", "#prescription"]
    assert analyse("Les exercices pour les patients") == ["#exercise", "#patient"]
    assert analyse("monitoring") == analyse("monitored")
    assert analyse("AED") == ["#cardiac-arrest", "#cardiovascular", "#emergency"]  # not "a"


def test_one_concept_in_eight_languages():
    english = set(analyse("electronic prescription"))
    for term in (
        "ePrescription",
        "E-Rezept",
        "ordonnance numérique",
        "ricetta elettronica",
        "receta electrónica",
        "receita sem papel",
        "e-recepta",
        "e-recept",
    ):
        assert set(analyse(term)) == english, term
    assert "#respiratory" in analyse("COPD") and "#respiratory" in analyse("pulmonary")
    assert analyse("chronic obstructive pulmonary disease") == analyse("BPCO") == analyse("KOL")


def test_the_longest_term_wins():
    assert analyse("pulmonary rehabilitation")[0] == "#pulmonary-rehabilitation"
    assert analyse("heart attack")[0] == "#myocardial-infarction"


def test_an_exact_term_is_that_word_only_not_its_stem():
    # "medical" and "medication" share the stem "medic"; only the second is a medicine.
    assert "#medication" in analyse("medication") and "#medication" in analyse("medications")
    assert "#medication" not in analyse("medical")
    assert "#hearing" in analyse("audition") and "#hearing" not in analyse("audit")
    lexicon = health_terms.Lexicon([("medication", "=medication"), ("list", "medication list")])
    terms = lexicon.terms(health_terms.stems(["medication", "list"]), ["medication", "list"])
    assert terms == ["#list"]  # a longer term still wins over an exact one-word term
    assert lexicon.terms(["medic"], ["medical"]) == ["medic"]


def test_the_lexicon_file_is_well_formed():
    with open(TERMS_FILE, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) > 1000
    assert {row["language"] for row in rows} == LANGUAGES
    languages_of: dict[str, set[str]] = {}
    for row in rows:
        for concept in row["concepts"].split(";"):
            languages_of.setdefault(concept, set()).add(row["language"])
    assert 150 <= len(languages_of) <= 300
    assert {c for c, found in languages_of.items() if found != LANGUAGES} == SPELLINGS
    for row in rows:
        concepts = row["concepts"].split(";")
        assert all(c and c == c.strip().lower() for c in concepts), row
        assert health_terms.words(row["term"]), row
    entries = [(row["concepts"], row["language"], fold(row["term"])) for row in rows]
    assert len(entries) == len(set(entries))


@pytest.mark.parametrize(
    ("concept", "english", "others"),
    [
        ("online", "results online", ["résultats en ligne", "w internecie", "på nätet"]),
        (
            "reimbursement",
            "reimbursement",
            ["Erstattung", "remboursement", "rimborso", "reembolso", "refundacja", "ersättning"],
        ),
        ("insurer", "health insurer", ["Krankenkasse", "assurance maladie", "NFZ", "mutua"]),
        ("citizen", "citizens", ["Bürgerinnen und Bürger", "cittadini", "cidadãos", "invånare"]),
        ("appointment", "appointments", ["Arzttermine", "rendez-vous", "appuntamento", "wizyty"]),
        (
            "video-consultation",
            "video consultation",
            ["Videosprechstunde", "consultation vidéo", "videoconsulta", "wideokonsultacja"],
        ),
        ("waiting-list", "waiting times", ["Wartezeiten", "tempi d'attesa", "kolejki", "väntetid"]),
        (
            "referral",
            "electronic referral",
            ["Überweisung", "impegnativa", "e-skierowanie", "e-remiss"],
        ),
        ("registry", "cancer registry", ["Krebsregister", "registro tumori", "kvalitetsregister"]),
        (
            "evaluation",
            "evaluation",
            ["Evaluierung", "évaluation", "valutazione", "evaluación", "ocena", "utvärdering"],
        ),
        ("notification", "notifications", ["Benachrichtigungen", "notifiche", "powiadomienia"]),
        ("test-results", "test results", ["Befunde", "résultats d'examens", "referti", "provsvar"]),
        ("portal", "citizen portal", ["espace numérique de santé", "área do cidadão", "portale"]),
        ("discharge", "discharge letter", ["Entlassbrief", "lettre de liaison", "karta wypisowa"]),
        (
            "medical-device",
            "software as a medical device",
            [
                "Medizinprodukt",
                "dispositif médical numérique",
                "dispositivo medico",
                "wyrób medyczny",
            ],
        ),
        ("data-protection", "data protection", ["Datenschutz", "RGPD", "RODO", "dataskydd"]),
        ("care-pathway", "care pathway", ["parcours de soins", "PDTA", "vårdförlopp"]),
        ("chronic-disease", "chronic diseases", ["chronisch Kranke", "malattie croniche"]),
        ("home-care", "home care", ["häusliche Pflege", "soins à domicile", "hemtjänst"]),
        ("kidney", "dialysis", ["Dialyse", "diálisis", "dializa", "dialys"]),
        (
            "newborn",
            "newborn babies",
            ["Neugeborene", "nouveau-nés", "neonati", "recién nacidos", "noworodki", "nyfödda"],
        ),
        ("epilepsy", "epilepsy", ["Epilepsie", "epilessia", "epilepsia", "padaczka"]),
        ("ambulance", "ambulance", ["Rettungsdienst", "ambulanza", "ambulancia", "ambulans"]),
    ],
)
def test_service_words_meet_across_languages(concept, english, others):
    assert f"#{concept}" in analyse(english)
    for other in others:
        assert f"#{concept}" in analyse(other), other


def test_inflected_and_compound_forms_are_terms():
    assert "#ehr" in analyse("in der elektronischen Patientenakte")
    assert "#video-consultation" in analyse("zwei Videosprechstunden")
    assert "#medication-list" in analyse("i läkemedelslistan")
    assert "#health-app" in analyse("digitalen Gesundheitsanwendungen")


@pytest.mark.parametrize(
    ("compound", "concepts", "other_part"),
    [
        ("Schlaganfallnetzwerk", {"#stroke", "#neurology"}, "netzwerk"),
        ("Schlaganfallexperten", {"#stroke"}, health_terms.stem("experten")),
        ("Krankenhausinformationssystem", {"#hospital"}, health_terms.stem("informationssystem")),
        ("Diabetesschulung", {"#diabetes", "#training"}, None),
        ("Jugendpsychiatrie", {"#mental-health"}, "jugend"),
        ("sjukhusvård", {"#hospital"}, "vard"),
    ],
)
def test_a_german_or_swedish_compound_is_read_as_its_parts(compound, concepts, other_part):
    terms = analyse(compound)
    assert concepts <= set(terms), terms
    if other_part:
        assert other_part in terms
    assert compound.lower() not in terms


@pytest.mark.parametrize("word", ["trainieren", "signieren", "informationssystem", "organisation"])
def test_a_word_that_only_ends_like_a_short_term_is_no_compound(word):
    assert analyse(word) == [health_terms.stem(fold(word))]


def test_an_english_need_meets_a_german_compound_title():
    from dhu_core.similarity import TextModel

    model = TextModel(["Schlaganfallnetzwerk", "Herzinsuffizienz zu Hause", "Impfregister"])
    need = model.vectors(["a telestroke network to a stroke centre"])
    assert (need @ model.matrix.T).toarray()[0].argmax() == 0
    assert (need @ model.matrix.T).toarray()[0, 0] > 0


@pytest.mark.parametrize(
    "word",
    # Universal words of the domain, in several languages ...
    ["health", "digital", "service", "care", "data", "solution", "Gesundheit", "santé"]
    + ["salute", "saúde", "zdrowie", "hälsa", "numérique", "cyfrowy", "Dienst", "tjänst"]
    # ... and everyday words whose stems a term of another language would otherwise share
    # ("format" ~ "formation", "access" ~ "accessible", "terminal" ~ "Termin", "sucht" ~ "Sucht").
    + ["access", "format", "code", "specific", "document", "host", "terminal", "interpret"]
    + ["government", "sucht", "comune", "remission", "elevated", "genom"],
)
def test_frequent_words_stay_words(word):
    assert not any(term.startswith("#") for term in analyse(word)), word


def test_misspelt_words_are_read_as_known_ones():
    speller = health_terms.Speller(["rehabilitation", "telemonitoring"])
    assert speller.analyse("rehabilitaton") == analyse("rehabilitation")
    assert speller.analyse("telemonitorng") == analyse("telemonitoring")
    assert speller.analyse("Tartu") == analyse("Tartu")  # short or unlike anything: kept


def test_threads_stem_at_the_same_time(monkeypatch):
    """Pages and the indexes built in the background stem at once (a shared Snowball stemmer
    broke mid-word)."""
    monkeypatch.setattr(health_terms, "_STEMS", {})
    words = [f"{stem}{ending}" for stem in ("telemonitor", "rehabilit", "vaccin", "prescrib")
             for ending in ("ing", "ation", "ations", "ed", "ers", "ingly")] * 200  # fmt: skip
    expected = {word: health_terms.snowballstemmer.stemmer("english").stemWord(word)
                for word in words}  # fmt: skip
    errors: list[BaseException] = []

    def stem_all() -> None:
        try:
            for word in words:
                health_terms._STEMS.pop(word, None)
                assert health_terms.stem(word) == expected[word]
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=stem_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
