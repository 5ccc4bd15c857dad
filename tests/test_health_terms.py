"""The terms of a text: folding, stems, function words and the health lexicon."""

import csv

from dhu_core import health_terms
from dhu_core.health_terms import TERMS_FILE, analyse, fold

LANGUAGES = {"en", "de", "fr", "it", "es", "pt", "pl", "sv"}


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


def test_the_lexicon_file_is_well_formed():
    with open(TERMS_FILE, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) > 1000
    assert {row["language"] for row in rows} == LANGUAGES
    for row in rows:
        concepts = row["concepts"].split(";")
        assert all(c and c == c.strip().lower() for c in concepts), row
        assert health_terms.words(row["term"]), row
    entries = [(row["concepts"], row["language"], fold(row["term"])) for row in rows]
    assert len(entries) == len(set(entries))


def test_misspelt_words_are_read_as_known_ones():
    speller = health_terms.Speller(["rehabilitation", "telemonitoring"])
    assert speller.analyse("rehabilitaton") == analyse("rehabilitation")
    assert speller.analyse("telemonitorng") == analyse("telemonitoring")
    assert speller.analyse("Tartu") == analyse("Tartu")  # short or unlike anything: kept
