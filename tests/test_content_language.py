"""Content stays in the language it was written in (issue 16): each practice and digest records
its language, and a reader of another interface language sees a badge that says which it is."""

import sqlite3

import pytest
from streamlit.testing.v1 import AppTest

from dhu_core import i18n
from dhu_core.models import DigestCreate, PracticeDraft
from tests.apptest import APP, sign_in
from tests.german import run_in_german, signed_in_in_german


def test_the_language_is_a_code_given_as_a_code_or_a_name():
    assert PracticeDraft(title="Telemonitoring", text_language="German").text_language == "de"
    assert PracticeDraft(title="Telemonitoring", text_language="fr").text_language == "fr"
    assert PracticeDraft(title="Telemonitoring").text_language == "en"
    assert DigestCreate(title="EHDS", body="x" * 30, language="it").language == "it"
    with pytest.raises(ValueError, match="choose the language the text is written in"):
        PracticeDraft(title="Telemonitoring", text_language="Elvish")


def _badges(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if "badge[" in m.value and "translate" in m.value]


def _practice_page(at: AppTest, practice_id: int) -> AppTest:
    at.switch_page("app_pages/radar.py")
    at.query_params["practice"] = str(practice_id)
    return at


def test_a_practice_written_in_another_language_says_so(embedded_app):
    at = AppTest.from_file(APP, default_timeout=60).run()
    with sqlite3.connect(embedded_app / "dhu.sqlite3") as connection:
        connection.execute("UPDATE practice SET text_language = 'fr' WHERE id = 1")
        connection.execute("UPDATE practice SET text_language = 'de' WHERE id = 2")
    _practice_page(at, 1).run()
    assert any("Written in French" in badge for badge in _badges(at)), _badges(at)
    # In German, a French practice says so in German, and a German one shows no badge.
    at.query_params["lang"] = "de"
    run_in_german(at)
    assert any("Sprache: Französisch" in badge for badge in _badges(at)), _badges(at)
    at.query_params["practice"] = "2"
    run_in_german(at)
    assert _badges(at) == []


def test_an_english_practice_shows_no_badge_in_english(embedded_app):
    at = _practice_page(AppTest.from_file(APP, default_timeout=60).run(), 1).run()
    assert not at.exception and _badges(at) == []


def test_a_practice_typed_in_german_is_taken_to_be_written_in_german(app_data):
    at = signed_in_in_german("demo-owner", "register")
    assert at.selectbox(key="pf_text_language").value == "de"
    assert at.selectbox(key="pf_text_language").label == "Sprache des Textes"


def test_the_register_form_offers_the_language_in_english_too(embedded_app):
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), "demo-owner")
    at.switch_page("app_pages/register.py").run()
    box = at.selectbox(key="pf_text_language")
    assert box.value == "en" and box.label == "Written in"
    with i18n.language("en"):
        assert "German" in box.options


def test_a_digest_written_in_another_language_says_so(embedded_app):
    at = AppTest.from_file(APP, default_timeout=60).run()
    with sqlite3.connect(embedded_app / "dhu.sqlite3") as connection:
        digest = connection.execute("SELECT min(id) FROM digest WHERE status = 'published'")
        digest_id = digest.fetchone()[0]
        connection.execute("UPDATE digest SET language = 'it' WHERE id = ?", (digest_id,))
    at.switch_page("app_pages/knowledge.py")
    at.query_params["digest"] = str(digest_id)
    at.run()
    assert not at.exception
    assert any("Written in Italian" in badge for badge in _badges(at)), _badges(at)
