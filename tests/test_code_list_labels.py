"""Code lists and country names in the interface's languages (data/code_list_labels.csv, and
Babel's CLDR data for languages and countries); imports keep reading codes and English labels."""

import csv
import subprocess
import sys

import pycountry
import pytest

from dhu_core import geo, i18n, taxonomy
from dhu_core.config import DATA_DIR

TRANSLATED = [code for code in i18n.LANGUAGES if code != i18n.DEFAULT]
CODE_LISTS = [value for value in vars(taxonomy).values() if isinstance(value, taxonomy.CodeList)]


def test_labels_and_definitions_follow_the_page_language():
    with i18n.language("de"):
        assert taxonomy.PRACTICE_TYPES.label("framework") == "Bewertungsrahmen"
        assert taxonomy.MATURITY_LEVELS.label(3) == "Eingeführt"
        assert taxonomy.MATURITY_LEVELS.definition(5) == "Im Regelbetrieb in mehr als einem Land."
        assert taxonomy.HEALTH_DOMAINS.label("mental-health") == "Psychische Gesundheit"
        assert taxonomy.DHI_CODES.label("4.4.1") == "Datenaustausch zwischen Systemen"
        assert taxonomy.DHI_GROUPS.label("2.0") == "Gesundheitsfachkräfte"
        assert taxonomy.ROLES.label("coordinator") == "Koordinator"
        assert taxonomy.PRACTICE_STATUSES.label("published") == "Veröffentlicht"
        assert taxonomy.LANGUAGES.label("fr") == "Französisch"
        assert list(taxonomy.PRACTICE_TYPES.shown_labels())[0] == "policy"
        assert taxonomy.PRACTICE_TYPES.label("unknown") == "unknown"
    with i18n.language("fr"):
        assert taxonomy.LANGUAGES.label("de") == "Allemand"
    assert taxonomy.MATURITY_LEVELS.label(3) == "Deployed"
    assert taxonomy.PRACTICE_TYPES.labels["framework"] == "Assessment framework"


@pytest.mark.parametrize("code_list", CODE_LISTS, ids=lambda code_list: code_list.name)
@pytest.mark.parametrize("language", TRANSLATED)
def test_every_code_has_a_label_in_every_language(code_list, language):
    labels = code_list.translations.get(language, {})
    missing = [code for code in code_list if not labels.get(code, "").strip()]
    assert missing == [], (code_list.name, language, missing)
    definitions = code_list.translated_definitions.get(language, {})
    for code in code_list.definitions:
        assert definitions.get(code, "").strip(), (code_list.name, language, code)


def test_the_labels_file_speaks_of_known_codes_in_english_as_the_lists_do():
    by_name = {code_list.name: code_list for code_list in CODE_LISTS}
    with open(DATA_DIR / "code_list_labels.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            name = row["list"].removesuffix(" definition")
            code_list = by_name[name]
            code = int(row["code"]) if name == "maturity level" else row["code"]
            english = code_list.definitions if row["list"] != name else code_list.labels
            assert english[code] == row["en"], row


def test_codes_and_english_labels_are_still_accepted_in_any_language():
    with i18n.language("de"):
        assert taxonomy.PRACTICE_TYPES.normalise("Assessment framework") == "framework"
        assert taxonomy.MATURITY_LEVELS.normalise("scaled") == 4
        assert taxonomy.ROLES.normalise("owner") == "owner"
        assert geo.normalise_country("Germany") == "DE"


def test_country_names_follow_the_page_language():
    with i18n.language("de"):
        assert geo.country_name("DE") == "Deutschland"
        assert geo.country_name("XK") == "Kosovo"
        names = list(geo.shown_country_names().values())
        # Sorted as the language reads: Österreich among the O's.
        assert names.index("Norwegen") < names.index("Österreich") < names.index("Polen")
    with i18n.language("it"):
        assert geo.country_name("CH") == "Svizzera"
    assert geo.country_name("DE") == "Germany"
    for language in TRANSLATED:
        with i18n.language(language):
            assert set(geo.shown_country_names()) == set(geo.country_names())


def test_the_languages_are_those_of_iso_639_1_named_in_english_by_default():
    iso = {language.alpha_2 for language in pycountry.languages if hasattr(language, "alpha_2")}
    assert set(taxonomy.LANGUAGES) == iso
    assert list(taxonomy.LANGUAGES)[:3] == taxonomy.EUROPEAN_LANGUAGES[:3]
    assert taxonomy.LANGUAGES.label("el") == "Greek"
    assert taxonomy.LANGUAGES.normalise("greek") == "el"


def test_a_process_loads_language_names_only_in_the_languages_it_shows():
    # pycountry's 7,900 languages hold 6.6 MB, and Babel's data 1.6 MB per locale.
    shown = (
        "import pycountry\n"
        "from babel import localedata\n"
        "from dhu_core import i18n, taxonomy\n"
        "english = taxonomy.LANGUAGES.label('de')\n"
        "with i18n.language('fr'):\n"
        "    french = taxonomy.LANGUAGES.label('de')\n"
        "print(english, french, pycountry.languages._is_loaded, sorted(localedata._cache))\n"
    )
    ran = subprocess.run([sys.executable, "-c", shown], capture_output=True, text=True, check=True)
    english, french, listed, locales = ran.stdout.split(" ", 3)
    assert (english, french, listed) == ("German", "Allemand", "False")
    assert "de" not in locales and "it" not in locales and "es" not in locales
