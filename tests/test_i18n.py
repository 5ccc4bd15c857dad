"""The interface's languages: the catalogues are complete and current, and a page is drawn in the
language its address, the browser's earlier choice or the browser itself asks for."""

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from streamlit.testing.v1 import AppTest

from dhu_core import i18n
from dhu_core.calls import calls
from tests.apptest import APP
from tests.browser import ROOT
from tests.german import (
    chart_texts,
    english_left,
    html,
    in_german,
    run_in_german,
    shown_texts,
    signed_in_in_german,
)

TRANSLATED = [code for code in i18n.LANGUAGES if code != i18n.DEFAULT]
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def _template() -> dict:
    with (i18n.LOCALE_DIR / "messages.pot").open("rb") as pot:
        return {message.id: message for message in read_po(pot) if message.id}


def _catalogue(code: str):
    with i18n.catalogue_path(code).open("rb") as po_file:
        return read_po(po_file, locale=code)


def test_the_template_holds_every_text_marked_in_the_code():
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    marked = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(str(ROOT), method_map, options_map)
    }
    in_template = {key if isinstance(key, str) else key[0] for key in _template()}
    assert marked - in_template == set(), "run pybabel extract and update (README, Languages)"
    assert in_template - marked == set(), "texts no longer in the code: run pybabel extract"


def test_no_marked_text_hides_in_an_f_string():
    """pybabel does not look into f-strings: a text marked there would never be translated."""
    hidden = re.compile(r"""\{_\(\s*["']""")
    sources = [*(ROOT / "app_pages").rglob("*.py"), *(ROOT / "dhu_core").rglob("*.py")]
    assert [str(path) for path in sources if hidden.search(path.read_text("utf-8"))] == []


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_text_is_translated(code):
    catalogue = _catalogue(code)
    for key, template in _template().items():
        message = catalogue.get(key)
        assert message is not None, (code, key)
        assert not message.fuzzy, (code, key)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert len(forms) == (catalogue.num_plurals if message.pluralizable else 1), (code, key)
        for form in forms:
            assert form.strip(), (code, key)
            original = template.id if isinstance(template.id, str) else template.id[0]
            # The same placeholders and the same Markdown emphasis as the English text.
            assert sorted(PLACEHOLDER.findall(form)) == sorted(PLACEHOLDER.findall(original)), (
                code,
                key,
                form,
            )
            assert form.count("**") == original.count("**"), (code, key, form)


def test_plural_forms_follow_each_language():
    counted = ("{count} completed", "{count} completed")
    cases = {
        ("fr", 0): "0 terminé",  # French counts zero as one
        ("fr", 2): "2 terminés",
        ("it", 0): "0 conclusi",
        ("it", 1): "1 concluso",
        ("es", 1): "1 completado",
        ("es", 5): "5 completados",
        ("en", 0): "0 completed",
    }
    for (code, count), expected in cases.items():
        with i18n.language(code):
            assert i18n.ngettext(*counted, count).format(count=count) == expected


def test_the_address_wins_then_the_earlier_choice_then_the_browser():
    assert i18n.chosen(asked="fr", remembered="de", browser="it-IT") == "fr"
    assert i18n.chosen(asked=None, remembered="de", browser="it-IT") == "de"
    assert i18n.chosen(asked="xx", remembered=None, browser="es-ES") == "es"
    assert i18n.chosen(asked=None, remembered=None, browser="pt-BR") == "en"
    assert i18n.chosen(asked="DE_at", remembered=None, browser=None) == "de"
    assert i18n.chosen(asked="<script>", remembered="", browser="") == "en"


def test_numbers_and_dates_are_written_as_each_language_writes_them():
    written = {}
    for code in i18n.LANGUAGES:
        with i18n.language(code):
            written[code] = (
                i18n.format_number(12345),
                i18n.format_percent(0.7),
                i18n.format_date(date(2026, 12, 1)),
            )
    assert written["en"] == ("12,345", "70%", "Dec 1, 2026")
    assert written["de"] == ("12.345", "70\u00a0%", "01.12.2026")
    assert written["fr"][0] == "12\u202f345" and written["fr"][2] == "1 déc. 2026"
    assert written["es"][2] == "1 dic 2026"
    assert written["it"][2] == "1 dic 2026"


def test_a_thread_draws_in_its_own_language():
    with i18n.language("de"):
        assert i18n._("Uptake map") == "Verbreitungskarte"
        with i18n.language("it"):
            assert i18n._("Uptake map") == "Mappa della diffusione"
        assert i18n.current() == "de"
    assert i18n.current() == "en"
    assert i18n._("Uptake map") == "Uptake map"


def _menu_labels(at: AppTest) -> list[str]:
    return [link.label for link in at.get("page_link")]


def test_a_page_opened_with_lang_is_drawn_in_that_language(embedded_app):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "de"
    at.run()
    assert not at.exception
    assert at.title[0].value == "Digital Health Uptake"
    assert "Neueste Praktiken" in [header.value for header in at.subheader]
    assert {"Veröffentlichte Praktiken", "Erfasste Länder"} <= {m.label for m in at.metric}
    assert any("Demodaten" in info.value for info in at.info)
    assert {"Über uns", "Hilfe", "Datenschutz"} <= set(_menu_labels(at))
    assert at.sidebar.selectbox[0].value == "de"
    # Figures are written the German way.
    assert all("," not in metric.value for metric in at.metric)


def test_choosing_a_language_redraws_the_page_and_keeps_it_in_the_address(embedded_app):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert "Newest practices" in [header.value for header in at.subheader]
    at.sidebar.selectbox[0].select("fr").run()
    assert not at.exception
    assert "Pratiques les plus récentes" in [header.value for header in at.subheader]
    assert at.query_params["lang"] == "fr"
    # The choice outlives the address: the next run without ?lang= stays in French.
    at.query_params.clear()
    at.run()
    assert "Pratiques les plus récentes" in [header.value for header in at.subheader]
    assert at.query_params["lang"] == "fr"


def test_an_unknown_language_in_the_address_falls_back_to_english(embedded_app):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "xx<script>"
    at.run()
    assert not at.exception
    assert "Newest practices" in [header.value for header in at.subheader]


# --- pages in German: headings and labels translated, no English text of the catalogue left --


SITE_PAGES = {
    "about": ("Über die DHU-Plattform", "<h2>Drei Säulen</h2>", "Three pillars"),
    "help": ("Hilfe", "<h2>Glossar</h2>", "Glossary"),
    "privacy": ("Datenschutzhinweis", "<h2>Ihre Rechte</h2>", "Your rights"),
    "accessibility": ("Erklärung zur Barrierefreiheit", "<h2>Rückmeldung</h2>", "Feedback"),
    "data_api": ("Daten und API", "<h2>Die JSON-API</h2>", "The JSON API"),
}


@pytest.mark.parametrize("page", SITE_PAGES)
def test_a_site_page_in_german(app_data, page):
    heading, german, english = SITE_PAGES[page]
    at = in_german(page)
    assert [title.value for title in at.title] == [heading]
    text = "\n".join(element.proto.body for element in at.get("html"))
    assert german in text and english not in text
    assert {"Über uns", "Hilfe", "Datenschutz"} <= {
        link.proto.label for link in at.get("page_link")
    }
    assert english_left(at) == []


def test_the_check_for_english_left_finds_an_english_page(app_data):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/about.py").run()
    assert {"About the DHU Platform", "Help", "Language"} <= set(english_left(at))


def test_the_radar_catalogue_in_german(app_data):
    at = in_german("radar")
    assert [title.value for title in at.title] == ["RADAR"]
    assert [box.label for box in at.text_input] == ["Suche"]
    assert at.selectbox(key="radar_sort").label == "Sortieren nach"
    assert at.toggle(key="radar_show").label == "Filter zeigen"
    assert "Praktiken · Seite 1 von" in at.subheader[0].value
    pills = {element.proto.label for element in at.get("button_group")}
    assert {"Art", "Reife", "Einsatzland", "Zur Weitergabe bereit"} <= pills
    types = [option.content for option in at.get("button_group")[0].proto.options]
    assert any(option.startswith("Politik (") for option in types), types
    assert any("eingesetzt in" in caption.value for caption in at.caption)
    assert english_left(at) == []


def test_a_practice_in_german(app_data):
    at = in_german("radar")
    at.query_params["practice"] = "1"
    run_in_german(at)
    assert "Zurück zum Katalog" in [link.proto.label for link in at.get("page_link")]
    assert not at.warning
    shown = "\n".join(shown_texts(at))
    assert "**Reife:**" in shown and "**Gesundheitsbereiche:**" in shown
    assert "Ähnliche Praktiken" in [header.value for header in at.subheader]
    assert english_left(at) == []


def test_signing_in_in_german(app_data):
    at = in_german("sign_in")
    assert [title.value for title in at.title] == ["Anmelden"]
    assert [box.label for box in at.text_input] == ["Benutzername", "Passwort"]
    assert "Anmelden" in [button.label for button in at.get("button")]
    links = [link.proto.label for link in at.get("page_link")]
    assert {"Passwort vergessen?", "Noch kein Konto? Als Inhaber einer Praktik registrieren"} <= (
        set(links)
    )
    assert english_left(at) == []


def test_creating_an_account_in_german(app_data):
    at = in_german("sign_up")
    assert [title.value for title in at.title] == ["Konto anlegen"]
    assert at.radio[0].label == "Ihre Organisation *"
    labels = [box.label for box in at.text_input]
    assert labels[:3] == ["Benutzername *", "Ihr Name *", "E-Mail *"]
    assert at.text_input(key="su_password").help.startswith("Mindestens 12 Zeichen")
    assert english_left(at) == []
    # A failed submission names the fields to correct in German.
    submit = next(button for button in at.button if button.label == "Konto erstellen")
    with i18n.language("de"):
        submit.click().run()
    assert any("Bitte korrigieren Sie" in error.value for error in at.error)
    assert english_left(at) == []


def test_forgetting_a_password_in_german(app_data):
    at = in_german("forgot_password")
    assert [title.value for title in at.title] == ["Passwort vergessen?"]
    assert [box.label for box in at.text_input] == ["E-Mail-Adresse Ihres Kontos"]
    assert english_left(at) == []


def test_the_knowledge_community_in_german(app_data):
    at = in_german("knowledge")
    assert [title.value for title in at.title] == ["Wissensgemeinschaft"]
    tabs = [tab.label for tab in at.tabs]
    assert tabs == ["Zusammenfassungen", "Nachfrage und Angebot", "Lehren aus Twinnings"]
    assert at.selectbox(key="kn_topic").label == "Thema"
    assert at.text_input(key="kn_text").label == "Zusammenfassungen durchsuchen"
    assert any(caption.value.endswith("Zusammenfassungen") for caption in at.caption)
    assert any(info.value.startswith("Melden Sie sich an") for info in at.info)
    assert english_left(at) == []


def test_a_digest_in_german(app_data):
    at = in_german("knowledge")
    at.query_params["digest"] = "1"
    run_in_german(at)
    links = [link.proto.label for link in at.get("page_link")]
    assert {"Link zu dieser Zusammenfassung", "Alle Zusammenfassungen"} <= set(links)
    assert english_left(at) == []


def test_quick_capture_in_german(app_data):
    at = in_german("capture")
    assert [title.value for title in at.title] == ["Registrieren Sie Ihre Praktik in 30 Sekunden"]
    assert [box.label for box in at.text_input] == ["Name der Praktik *", "Ihre E-Mail *"]
    assert at.selectbox(key="qc_country").label == "Land *"
    assert at.selectbox(key="qc_country").placeholder == "Auswählen …"
    assert "Deutschland" in at.selectbox(key="qc_country").options
    assert english_left(at) == []
    # A capture sent without its fields names them in German.
    send = next(button for button in at.button if button.label == "Senden")
    with i18n.language("de"):
        send.click().run()
    messages = [error.value for error in at.error]
    assert "Wählen Sie das Land" in messages and "Titel: mindestens 3 Zeichen nötig" in messages
    assert english_left(at) == []


def test_the_twinning_calls_in_german(app_data):
    at = in_german("calls")
    assert [title.value for title in at.title] == ["Twinning-Ausschreibungen"]
    headings = [header.value for header in at.subheader]
    assert headings and set(headings) <= {
        "Offene Ausschreibungen",
        "Kommende Ausschreibungen",
        "Vergangene Ausschreibungen",
    }
    captions = [caption.value for caption in at.caption]
    assert captions and all(" UTC · " in caption for caption in captions), captions
    assert all("Plätze, je" in caption or "Platz, je" in caption for caption in captions)
    assert english_left(at) == []


def test_the_time_left_in_each_language():
    closes = datetime(2026, 12, 10, 12, tzinfo=UTC)
    left = closes - timedelta(days=3, hours=1, minutes=5)
    assert calls.time_left(closes, left) == "3 days and 1 hour"
    with i18n.language("de"):
        assert calls.time_left(closes, left) == "3 Tagen und 1 Stunde"
    with i18n.language("fr"):
        assert calls.time_left(closes, closes - timedelta(minutes=1)) == "1 minute"
    with i18n.language("es"):
        assert calls.time_left(closes, closes) == "cerrada"


def test_registering_a_practice_in_german(app_data):
    at = signed_in_in_german("demo-owner", "register")
    assert [title.value for title in at.title] == ["Praktik eintragen"]
    headings = [header.value for header in at.subheader]
    assert headings[:2] == ["1 · Worum es geht", "2 · Wo sie eingesetzt wird"]
    assert at.text_input(key="pf_title").label == "Titel *"
    assert at.multiselect(key="pf_countries").label == "Einsatzländer *"
    assert at.radio(key="pf_transferable").options == ["ja", "nein", "nicht entschieden"]
    assert english_left(at) == []
    # A failed submission names the fields to correct by their German labels.
    with i18n.language("de"):
        at.selectbox(key="register_choice").set_value(0).run()
        next(b for b in at.button if b.label == "Zur Prüfung einreichen").click().run()
    assert at.error[-1].value == (
        "Bitte korrigieren Sie 5 Felder: Titel, Zusammenfassung, Art der Praktik, Reife, "
        "Einsatzländer"
    )
    # Each field's own message, written by the data model, in German too.
    messages = [error.value for error in at.error]
    assert "Titel: mindestens 3 Zeichen nötig" in messages
    assert "Wählen Sie die Art der Praktik" in messages
    # A message that does not name its field starts with the field's label.
    assert "Einsatzländer: Nennen Sie mindestens ein Land, in dem sie eingesetzt wird" in messages
    assert english_left(at) == []


def test_my_practices_in_german(app_data):
    at = signed_in_in_german("demo-owner", "my_practices")
    assert [title.value for title in at.title] == ["Meine Praktiken"]
    labels = {metric.label for metric in at.metric}
    assert {"Aufrufe, letzte 30 Tage", "Interessensbekundungen", "Twinnings"} <= labels
    assert any(caption.value.startswith("Status: ") for caption in at.caption)
    assert any("Zuletzt bestätigt am" in caption.value for caption in at.caption)
    assert english_left(at) == []


def _uptake_map_in_german(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "de"
    run_in_german(at)
    at.switch_page("app_pages/map.py")
    at.query_params.update(params)
    return run_in_german(at)


def test_the_charts_write_numbers_as_the_language_does(app_data):
    charts = _uptake_map_in_german().get("vega_lite_chart")
    assert charts
    for chart in charts:
        locale = json.loads(chart.proto.spec)["config"]["locale"]["number"]
        assert (locale["decimal"], locale["thousands"]) == (",", ".")


def test_the_uptake_map_in_german(app_data):
    at = _uptake_map_in_german()
    assert [title.value for title in at.title] == ["Verbreitungskarte"]
    assert {box.label for box in at.multiselect} == {
        "Art der Praktik",
        "Reife",
        "Gesundheitsbereich",
        "WHO-Interventionsgruppe",
        "Standard",
    }
    assert "Politik" in at.multiselect(key="map_type").options
    assert at.slider(key="map_years").label == "Jahr der Eintragung"
    assert at.get("button_group")[0].proto.label == "Auf der Karte zeigen"
    assert {"Filter", "Die Zahlen der Karte als Tabelle"} <= {e.label for e in at.expander}
    assert at.selectbox(key="map_country").placeholder == "Land wählen"
    assert "Deutschland" in at.selectbox(key="map_country").options
    assert english_left(at) == []
    legend = html(at, "dhu-legend-title")
    assert "Legende: Eingesetzte Praktiken" in legend and "Keine Daten" in legend
    table = html(at, "<caption>")
    assert "Zahlen je Land, mit den oben gewählten Filtern" in table
    header = re.findall(r'<th scope="col">([^<]*)</th>', table)
    assert header[:3] == ["Land", "Eingesetzte Praktiken", "Je Million Einwohner"]
    assert '<th scope="row">Deutschland</th>' in table
    assert '<th scope="row">Österreich</th>' in table
    # Tooltips on the map: the country's German name and what its figure counts.
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    features = next(layer for layer in deck["layers"] if layer["id"] == "countries")["data"]
    germany = next(f for f in features["features"] if f["properties"]["iso_a2"] == "DE")
    assert germany["properties"]["title"] == "Deutschland"
    assert germany["properties"]["detail"].endswith(" eingesetzte Praktiken")
    shown = chart_texts(at)
    assert {"Praktiken nach Art", "Reife der Praktiken", "Eintragungen je Jahr"} <= set(shown)
    assert "Grenzüberschreitende Verbreitung: wer Praktiken von wem übernimmt" in shown
    english = {m.id for m in _catalogue("de") if isinstance(m.id, str) and m.id != m.string}
    assert [text for text in shown if text in english] == []


def test_a_country_on_the_uptake_map_in_german(app_data):
    at = _uptake_map_in_german(country="EE")
    assert "Estland" in [header.value for header in at.subheader]
    labels = {metric.label for metric in at.metric}
    assert {"Praktiken", "Länder mit Verbreitung", "Eingesetzte Praktiken"} <= labels
    assert any(md.value == "**In Estland eingesetzte Praktiken**" for md in at.markdown)
    assert any("in RADAR öffnen](/radar?country=EE" in md.value for md in at.markdown)
    assert {"Nach Art", "Nach Reife"} <= set(chart_texts(at))
    assert english_left(at) == []
