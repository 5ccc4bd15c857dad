"""Review, administration, claims, the digest forms and the import in German: headings, labels
and the messages of the services and of the import, and a spreadsheet downloaded from a German
page; the same services still answer an API client in English."""

import csv
import io

import pytest
from sqlmodel import select
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from dhu_core import db, geo, i18n, import_file, knowledge, practices
from dhu_core.accounts import PermissionDenied
from dhu_core.models import (
    FieldError,
    Membership,
    Organisation,
    Practice,
    PracticeCreate,
    StateConflict,
    User,
)
from tests.apptest import APP, sign_in
from tests.german import english_left, in_german, run_in_german, shown_texts, signed_in_in_german
from tests.people import PASSWORD, account
from tests.test_io import csv_text, practice_row
from tests.test_practices import COMPLETE


def _click(at: AppTest, label: str) -> AppTest:
    """Click the button `label` with the test's thread drawing in German, as the page's does."""
    with i18n.language("de"):
        next(button for button in at.button if button.label == label).click().run()
    assert not at.exception
    return at


def test_the_review_page_in_german(app_data):
    at = signed_in_in_german("demo-coordinator", "review")
    assert [title.value for title in at.title] == ["Prüfung"]
    expanders = [expander.label for expander in at.expander]
    assert "Anträge auf Beitritt zu einer Organisation" in expanders
    assert any(label.startswith("Ansprüche auf Praktiken (") for label in expanders)
    assert "Kein Beitrittsantrag wartet." in [caption.value for caption in at.caption]
    assert any(caption.value.endswith("wartend, älteste zuerst.") for caption in at.caption)
    queue = at.selectbox[0]
    assert queue.label == "Wartet auf Prüfung"
    assert any(
        " · neue Praktik · " in option or " · Änderung · " in option for option in queue.options
    )
    reasons = next(box for box in at.selectbox if box.label == "Ablehnungsgrund")
    assert reasons.placeholder == "Grund wählen …"
    assert "Keine Praktik der digitalen Gesundheit" in reasons.options
    assert {"Annehmen", "Ablehnen"} <= {button.label for button in at.button}
    assert "Notiz an den Inhaber" in [area.label for area in at.text_area]
    assert english_left(at) == []
    # A refusal of the service (no reason given) is shown in German.
    _click(at, "Ablehnen")
    assert [error.value for error in at.error] == ["Wählen Sie einen der aufgeführten Gründe"]
    assert english_left(at) == []


def test_an_edit_under_review_in_german(app_data):
    in_german("home")  # the first page run seeds the demo data
    with db.session_scope() as session:
        owner = session.exec(select(User).where(User.username == "demo-owner")).one()
        published = session.exec(
            select(Practice.id).where(
                Practice.owner_organisation_id == owner.organisation_id,
                Practice.status == "published",
            )
        ).first()
        practices.submit_practice(
            session=session, practice_id=published, data=PracticeCreate(**COMPLETE), actor=owner
        )
    at = signed_in_in_german("demo-coordinator", "review")
    queue = at.selectbox[0]
    edit = next(i for i, option in enumerate(queue.options) if " · Änderung · " in option)
    with i18n.language("de"):
        queue.set_value(edit).run()
    assert any(
        c.value.startswith("Änderung einer veröffentlichten Praktik · eingereicht am ")
        for c in at.caption
    )
    assert "**Was die Änderung ändert**" in [markdown.value for markdown in at.markdown]
    changes = at.dataframe[-1].value
    assert list(changes.columns) == ["Feld", "jetzt veröffentlicht", "vorgeschlagen"]
    assert {"Titel", "Zusammenfassung"} <= set(changes["Feld"])
    assert english_left(at) == []


def test_the_administration_page_in_german(app_data):
    at = signed_in_in_german("demo-admin", "admin")
    assert [title.value for title in at.title] == ["Verwaltung"]
    headings = {header.value for header in at.subheader}
    assert {"Konten", "Konto anlegen", "Praktiken importieren", "Protokoll"} <= headings
    assert "E-Mail-Postausgang" in headings
    outbox = [c.value for c in at.caption if c.value == "Noch keine E-Mail." or ": " in c.value]
    assert outbox and ("Noch keine E-Mail." in outbox or "wartet auf Versand: " in outbox[0])
    assert any(info.value.startswith("Es ist kein Mailserver eingestellt") for info in at.info)
    assert list(at.dataframe[0].value.columns) == [
        "Benutzername",
        "Name",
        "E-Mail",
        "Rolle",
        "Organisation",
        "gesperrt",
    ]
    assert list(at.dataframe[-1].value.columns)[:3] == ["wann (UTC)", "wer", "was"]
    labels = {box.label for box in at.text_input}
    assert {"Benutzername *", "Name *", "E-Mail *", "Passwort *"} <= labels
    assert "Zu änderndes Konto" in [box.label for box in at.selectbox]
    assert "Konto erstellen" in [button.label for button in at.button]
    assert english_left(at) == []
    # The form's messages, from the data model and from the service, in German.
    _click(at, "Konto erstellen")
    errors = [error.value for error in at.error]
    assert any(error.startswith("Verwenden Sie 3 bis 60 Zeichen: Buchstaben") for error in errors)
    assert "Geben Sie Ihren Namen ein (2 bis 120 Zeichen)" in errors
    at.text_input(key="ca_username").input("demo-owner")
    at.text_input(key="ca_display_name").input("Anna Berger")
    at.text_input(key="ca_email").input("anna.berger@example.org")
    at.text_input(key="ca_password").input("Tartu rain on Tuesday")
    _click(at, "Konto erstellen")
    assert "Der Benutzername „demo-owner“ ist vergeben" in [error.value for error in at.error]
    assert english_left(at) == []


def _import_in_german(name: str, content: bytes) -> AppTest:
    at = signed_in_in_german("demo-admin", "admin")
    at.file_uploader[0].upload(name, content)
    run_in_german(at)
    return _click(at, "Importieren")


def test_an_import_reports_its_rows_and_their_problems_in_german(app_data):
    rows = [practice_row(title="Asthma-Schulprogramm"), practice_row(maturity="7"), {}]
    rows[2] = {column: "" for column in rows[0]}
    at = _import_in_german("praktiken.csv", csv_text(rows).encode())
    assert [success.value for success in at.success] == [
        "3 Zeilen gelesen, 1 Praktik importiert, 1 Zeile abgelehnt, 1 leere Zeile übersprungen."
    ]
    assert [warning.value for warning in at.warning] == ["Diese Zeilen wurden nicht importiert:"]
    problems = at.dataframe[1].value
    assert list(problems.columns) == ["Zeile", "Spalte", "Meldung"]
    assert (list(problems["Zeile"]), list(problems["Spalte"])) == ([3], ["maturity"])
    assert problems["Meldung"][0].startswith("der Reifegrad ist 1 (Konzept)")
    assert english_left(at) == []


def test_a_refused_import_file_says_why_in_german(app_data):
    """The message comes from the reader's own process, which draws in the page's language."""
    at = _import_in_german("praktiken.csv", b"Titel;Notiz\nA;B\n")
    assert [error.value for error in at.error] == [
        "praktiken.csv wurde nicht importiert: unbekannte Spalte: notiz (die Spalten sind: "
        + ", ".join(import_file.COLUMNS)
        + ")"
    ]
    # A header of the German labels is read (as a download from a German page writes it).
    at = _import_in_german("praktiken.csv", b"Titel;Zusammenfassung\nA;B\n")
    assert [error.value for error in at.error] == [
        "praktiken.csv wurde nicht importiert: fehlende Pflichtspalten: practice_type, maturity, "
        "countries, owner_organisation, owner_country"
    ]
    assert not at.success


def _orphan() -> int:
    """A published practice whose organisation has no member, so that it can be claimed."""
    members = select(Membership.organisation_id).where(Membership.status == "active")
    with db.read_scope() as session:
        return session.exec(
            select(Practice.id)
            .where(Practice.status == "published", ~Practice.owner_organisation_id.in_(members))
            .order_by(Practice.id)
        ).first()


def test_the_claim_form_in_german(app_data):
    in_german("home")  # the first page run seeds the demo data
    with db.session_scope() as session:
        account(session, "greta")
    orphan = _orphan()
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), "greta", PASSWORD)
    at.query_params["lang"] = "de"
    at.query_params["practice"] = str(orphan)
    run_in_german(at)
    at.switch_page("app_pages/radar.py")
    run_in_german(at)
    assert "Diese Praktik beanspruchen" in [p.proto.popover.label for p in at.get("popover")]
    assert any("Für **" in text and "beanspruchen Sie" in text for text in shown_texts(at))
    role = at.text_input(key=f"claim-{orphan}-role")
    assert role.label == "Ihre Rolle in der Organisation *"
    assert english_left(at) == []
    role.input("1234")
    _click(at, "Anspruch senden")
    errors = [error.value for error in at.error]
    assert any("Sagen Sie in Worten, was Sie dort tun" in message for message in errors)
    assert "Bitte korrigieren Sie 1 Feld: Ihre Rolle in der Organisation" in errors
    at.text_input(key=f"claim-{orphan}-role").input("Leitung digitale Dienste")
    _click(at, "Anspruch senden")
    assert [success.value for success in at.success] == [
        "Anspruch gesendet. Ein Koordinator prüft ihn und teilt Ihnen die Entscheidung per "
        "E-Mail mit."
    ]
    assert "Ihr Anspruch auf diese Praktik wartet auf einen Koordinator." in [
        info.value for info in at.info
    ]
    assert english_left(at) == []
    # The coordinators' card of the claim names the organisation's country in German, as the
    # card of a request to join does (it showed the country's code).
    with db.read_scope() as session:
        country = session.exec(
            select(Organisation.country)
            .join(Practice, Practice.owner_organisation_id == Organisation.id)
            .where(Practice.id == orphan)
        ).one()
    review = signed_in_in_german("demo-coordinator", "review")
    with i18n.language("de"):
        name = geo.country_name(country)
    assert any("beansprucht" in text and f"({name})" in text for text in shown_texts(review))


def test_writing_a_digest_in_german(app_data):
    at = signed_in_in_german("demo-coordinator", "knowledge")
    tabs = [tab.label for tab in at.tabs]
    assert tabs[3:] == ["Zusammenfassung schreiben", "Porträts verwalten", "Newsletter"]
    assert at.selectbox(key="kd_choice").label == "Bearbeiten"
    assert at.text_input(key="kd_title").label == "Titel *"
    assert at.multiselect(key="kd_topics").label == "Themen *"
    assert at.text_area(key="kd_body").help.startswith("Markdown: **fett**, *kursiv*")
    assert at.multiselect(key="kd_practices").label == "Verknüpfte Praktiken"
    assert at.text_area(key="ks_analysis").label == "Analyse *"
    assert {"Entwurf speichern", "Veröffentlichen", "Porträtieren"} <= {
        button.label for button in at.button
    }
    assert english_left(at) == []
    # The data model's messages under the fields, and the summary by the German labels.
    at.text_input(key="kd_title").input("KI")
    _click(at, "Entwurf speichern")
    messages = [error.value for error in at.error]
    assert "Titel: mindestens 3 Zeichen nötig" in messages
    assert any("Geben Sie mindestens ein Thema an" in m for m in messages)
    assert "Die Zusammenfassung braucht mindestens 20 Zeichen Text" in messages
    assert "Bitte korrigieren Sie 3 Felder: Titel, Themen, Text" in messages
    assert english_left(at) == []


def test_a_spreadsheet_downloaded_from_a_german_page_has_german_headers(app_data, monkeypatch):
    made = {}
    register = MediaFileManager.add_deferred

    def keep(manager, callable_, *args, **kwargs):
        file_id = register(manager, callable_, *args, **kwargs)
        made[file_id] = callable_
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", keep)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "de"
    at.query_params["q"] = "diabetes"
    run_in_german(at)
    at.switch_page("app_pages/radar.py")
    run_in_german(at)
    buttons = {button.proto.label: button.proto for button in at.get("download_button")}
    # The file is made on the click, outside the page's run (in English here): the header
    # was taken when the page was drawn.
    data = made[buttons["CSV"].deferred_file_id]()
    header = next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert header[:5] == ["Titel", "Zusammenfassung", "Art der Praktik", "Reife", "Einsatzländer"]
    assert header[-2:] == ["Zur Weitergabe bereit", "Sprache des Textes"]
    workbook = made[buttons["XLSX"].deferred_file_id]()
    [first, *_] = import_file.read_rows(io.BytesIO(workbook), format="xlsx")
    assert set(first) == set(import_file.COLUMNS)  # such a file can be imported again
    rows = list(import_file.read_rows(io.BytesIO(data), format="csv"))
    assert rows and set(rows[0]) == set(import_file.COLUMNS)
    # JSON keeps the field names of the import format.
    assert '"practice_type"' in made[buttons["JSON"].deferred_file_id]().decode()


def test_each_column_label_names_one_column_in_every_language():
    named: dict[str, str] = {}
    for code in i18n.LANGUAGES:
        with i18n.language(code):
            for column, label in zip(import_file.COLUMNS, import_file.column_labels(), strict=True):
                assert named.setdefault(label.casefold(), column) == column, (code, label)
                assert import_file.column_of(f" {label.upper()} ") == column
    assert import_file.column_of("Maturity") == "maturity"
    assert import_file.column_of("Reifegrad") == "reifegrad"


def test_a_service_refuses_in_the_page_language_and_in_english_for_the_api(app_data):
    with db.read_scope() as session:
        owner = session.exec(select(User).where(User.username == "demo-owner")).one()
        practice_id = session.exec(
            select(Practice.id).where(Practice.owner_organisation_id != owner.organisation_id)
        ).first()
    for code, expected in (
        ("de", "Dies sehen nur die Organisation der Praktik und die Koordinatoren."),
        ("en", "Only the practice's organisation and coordinators see this."),
    ):
        with (
            i18n.language(code),
            db.read_scope() as session,
            pytest.raises(PermissionDenied) as refusal,
        ):
            practices.history(session=session, actor=owner, practice_id=practice_id)
        assert str(refusal.value) == expected
    # An API request's thread is in no page's language: English.
    with db.read_scope() as session:
        coordinator = session.exec(select(User).where(User.username == "demo-coordinator")).one()
    with db.session_scope() as session, pytest.raises(FieldError) as refusal:
        practices.reject_practice(
            session=session, practice_id=practice_id, actor=coordinator, reason="", note=""
        )
    assert str(refusal.value) == "choose one of the listed reasons"


def test_a_record_changed_first_is_told_in_one_german_sentence(app_data):
    with db.read_scope() as session:
        coordinator = session.exec(select(User).where(User.username == "demo-coordinator")).one()
    [*_, digest] = knowledge.published_digests()
    for code, start, end in (
        ("de", "Diese Zusammenfassung wurde gerade von ", " veröffentlicht. Laden Sie die Seite"),
        ("en", "This digest was just published by ", ". Reload the page to see it as it is now."),
    ):
        with (
            i18n.language(code),
            db.session_scope() as session,
            pytest.raises(StateConflict) as conflict,
        ):
            knowledge.publish_digest(session=session, actor=coordinator, digest_id=digest.id)
        assert str(conflict.value).startswith(start) and end in str(conflict.value)


@pytest.mark.parametrize(
    ("code", "review", "administration"),
    [
        ("fr", "Vérification", "Administration"),
        ("it", "Revisione", "Amministrazione"),
        ("es", "Revisión", "Administración"),
    ],
)
def test_review_and_administration_in_the_other_languages(app_data, code, review, administration):
    for username, page, title, heading in (
        ("demo-coordinator", "review", review, None),
        ("demo-admin", "admin", administration, {"fr": "Importer des pratiques"}.get(code)),
    ):
        at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), username)
        at.query_params["lang"] = code
        with i18n.language(code):
            at.run()
            at.switch_page(f"app_pages/{page}.py")
            at.run()
        assert not at.exception and not at.error
        assert [element.value for element in at.title] == [title]
        if heading:
            assert heading in [element.value for element in at.subheader]
