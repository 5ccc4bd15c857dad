"""The twinning calls in German (issue 16): a call's page for a visitor, for an adopter who
applies and for a coordinator (evaluation and award), and the evaluator's page, each opened
with `?lang=de` on the embedded demo database; a service's refusal reaches the page in German,
and the services keep English for everyone else (the API)."""

import re
from datetime import timedelta

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dhu_core import db, i18n
from dhu_core.accounts import PermissionDenied
from dhu_core.calls import calls, evaluation
from dhu_core.models import (
    Call,
    CallApplication,
    FieldError,
    StateConflict,
    User,
    utcnow,
)
from tests import call_world
from tests.apptest import APP, sign_in
from tests.call_world import OPENS, call_data
from tests.german import english_left, run_in_german

RELEVANCE = "Relevance of the practice to the need"


@pytest.fixture
def app(embedded_app) -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


def _open(at: AppTest, page: str, **params: str) -> AppTest:
    """`page` with `params`, asked for in German, run cleanly (no exception, no error)."""
    at.query_params.clear()
    at.query_params.update({"lang": "de", **params})
    at.switch_page(f"app_pages/{page}.py")
    return run_in_german(at)


def _run(at: AppTest, element) -> AppTest:
    """Click or set `element` and run the page in German, without an exception."""
    with i18n.language("de"):
        element.run()
    assert not at.exception
    return at


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label).click()


def _open_call_id() -> int:
    with db.read_scope() as session:
        return calls.list_calls(session=session, actor=None).open[0].id


def _user(name: str) -> User:
    with db.read_scope() as session:
        return session.exec(select(User).where(User.username == name)).one()


def _headings(at: AppTest) -> list[str]:
    return [h.value for h in at.subheader]


def _text(at: AppTest) -> str:
    return "\n".join(e.value for kind in ("markdown", "caption") for e in at.get(kind))


def test_a_call_page_for_a_visitor_in_german(app):
    call_id = _open_call_id()
    _open(app, "calls", call=str(call_id))
    assert _headings(app) == ["Regeln", "Bewertungskriterien"]
    shown = _text(app)
    assert "Schließt in " in shown and " UTC" in shown
    assert "- Übernehmende Organisationen in: " in shown
    assert "- Reife der Praktiken: 3 oder höher" in shown
    assert "Der Urheber jeder gewählten Praktik sagt seine Teilnahme zu" in shown
    criteria = app.dataframe[0].value
    assert list(criteria.columns) == ["Kriterium", "Gewicht", "Hinweise zur Bewertung"]
    assert RELEVANCE in list(criteria["Kriterium"])
    assert english_left(app) == []
    # An unknown call is said to be unknown, in German.
    _open(app, "calls", call="999")
    unknown = "Unter dieser Adresse gibt es keine veröffentlichte Ausschreibung."
    assert app.warning[0].value == unknown


def test_an_adopter_applies_in_german_and_reads_the_services_refusal_in_german(app):
    call_id = _open_call_id()
    sign_in(app, "demo-owner2")
    _open(app, "calls", call=str(call_id))
    assert "Bewerbung Ihrer Organisation" in _headings(app)
    assert app.selectbox(key=f"call-{call_id}-need").label == "Bedarf *"
    assert app.multiselect(key=f"call-{call_id}-practices-{_need(app, call_id)}").label == (
        "Bevorzugte Praktiken *"
    )
    assert english_left(app) == []
    app.text_area(key=f"call-{call_id}-motivation").input("Unsere Pilotstation startet im Mai.")
    _run(app, _button(app, "Bewerbung einreichen"))
    errors = [e.value for e in app.error]
    # The service's FieldError, raised in the page's thread, is in German.
    assert any(
        e.startswith("Bevorzugte Praktiken: Eine Bewerbung ist vollständig, wenn der Urheber jeder")
        for e in errors
    ), errors
    assert "Bitte korrigieren Sie 1 Feld: Bevorzugte Praktiken" in errors
    # The draft is kept: the application is shown as such, its practice waiting for an answer.
    assert "Ihre Bewerbung ist **ein Entwurf**." in _text(app)
    assert ": ausstehend" in _text(app)
    assert english_left(app) == []


def _need(at: AppTest, call_id: int) -> int:
    return at.selectbox(key=f"call-{call_id}-need").value


def test_an_originator_answers_in_german(app):
    call_id = _open_call_id()
    sign_in(app, "demo-owner")
    _open(app, "calls", call=str(call_id))
    assert "Bewerbungen, die Ihre Praktiken gewählt haben" in _headings(app)
    assert " · Antwort: ausstehend" in _text(app)
    assert english_left(app) == []
    _run(app, _button(app, "Zusagen"))
    assert app.success[0].value == "Ihre Antwort ist gespeichert: zugesagt."


def test_the_inbox_asks_for_the_answer_in_german(app):
    sign_in(app, "demo-owner")
    _open(app, "inbox")
    assert "Twinning-Ausschreibungen, die auf Ihre Antwort warten" in _headings(app)
    asked = [c.value for c in app.caption if "Seite der Ausschreibung" in c.value]
    assert asked and all(" hat " in c and " gewählt: Sagen Sie " in c for c in asked), asked


def test_a_coordinator_drafts_a_call_in_german(app):
    sign_in(app, "demo-coordinator")
    # A draft whose closing time has passed: the service refuses to publish it, in German.
    with db.session_scope() as session:
        long_ago = {
            "opens_at": OPENS - timedelta(days=400),
            "closes_at": OPENS - timedelta(days=370),
        }
        draft = calls.create_call(
            session=session, actor=_user("demo-coordinator"), data=call_data(**long_ago)
        ).id
    _open(app, "calls", call=str(draft))
    assert "Entwurf bearbeiten" in _headings(app)
    assert any(":orange-badge[Entwurf] Nur Koordinatoren" in c.value for c in app.caption)
    assert app.checkbox[0].label == "Gutachter dürfen nicht aus den Ländern der Bewerbung stammen"
    assert english_left(app) == []
    _run(app, _button(app, "Ausschreibung veröffentlichen"))
    assert app.warning[0].value == (
        "Der Schlusstermin dieser Ausschreibung ist verstrichen: Legen Sie zuerst einen späteren "
        "fest."
    )
    # A new call: the call model's messages next to the fields, the summary by German labels.
    _open(app, "calls")
    assert [e.label for e in app.expander] == ["Neue Ausschreibung entwerfen"]
    assert app.text_input[0].label == "Titel *"
    assert app.text_area[0].label == "Beschreibung *"
    assert english_left(app) == []
    app.text_input[0].input("Aufruf")
    app.text_area[0].input("Zu kurz.")
    _run(app, next(b for b in app.button if b.label == "Entwurf speichern").click())
    errors = [e.value for e in app.error]
    assert "Beschreibung: Beschreiben Sie die Ausschreibung in mindestens 20 Zeichen" in errors, (
        errors
    )
    assert "Bitte korrigieren Sie 1 Feld: Beschreibung" in errors, errors
    assert english_left(app) == []


def test_a_coordinator_evaluates_and_awards_a_call_in_german(app):
    sign_in(app, "demo-coordinator")
    _open(app, "calls", call="1")
    headings = _headings(app)
    assert {"Regeln", "Bewerbungen", "Begutachtung"} <= set(headings), headings
    shown = _text(app)
    assert "eingereichte Bewerbungen · " in shown and "Gutachter: " in shown
    assert "(Gewicht " in shown and " · Spannweite " in shown and " · Mittelwert " in shown
    assert ":green-badge[Konsens " in shown
    assert [p.proto.label for p in app.get("page_link")][0] == "Rangliste und Vergabe"
    assert english_left(app) == []
    # The award tab of the awarded call: the outcomes, a decision each, the exports.
    _open(app, "calls", call="1", tab="award")
    assert app.header[0].value.startswith("Vergabe: ")
    assert app.success[0].value.startswith("Vergeben am ")
    outcomes = app.dataframe[0].value
    assert list(outcomes.columns) == [
        "Ergebnis", "Rang", "Reserve", "Bewerber", "Praktik", "Zuschuss",
    ]  # fmt: skip
    assert set(outcomes["Ergebnis"]) <= {"Vergeben", "Reserveliste", "Nicht berücksichtigt"}
    assert "Vergeben" in set(outcomes["Ergebnis"])
    grants = [grant for grant in outcomes["Zuschuss"] if grant]
    assert grants and all(grant.endswith(" EUR") and "," not in grant for grant in grants)
    labels = [b.label for b in app.get("download_button")]
    assert "Bewertungen als XLSX" in labels and "Vergaben als CSV" in labels
    assert english_left(app) == []
    # Before the award: the ranking and the proposed award to adjust.
    call_world.reopen_the_award(1)
    _open(app, "calls", call="1", tab="award")
    assert {"Rangliste", "Vorgeschlagene Vergabe", "Exporte für die Berichterstattung"} <= set(
        _headings(app)
    )
    ranking = app.dataframe[0].value
    assert list(ranking.columns) == [
        "Rang", "Bewerber", "Konsens", "Praktiken (Passung)", "Bedarf",
    ]  # fmt: skip
    assert app.multiselect(key="award-1-reserve").label == "Reserveliste, in Reihenfolge"
    # The matching scores are percentages written the German way.
    assert all("\u00a0%)" in practices for practices in ranking["Praktiken (Passung)"])
    assert any(" Plätze, je " in caption.value for caption in app.caption)
    assert english_left(app) == []


def test_an_evaluator_scores_in_german(app):
    sign_in(app, "demo-evaluator")
    _open(app, "evaluation")
    assert [t.value for t in app.title] == ["Begutachtung"]
    assert any(" Kriterien bewertet" in c.value for c in app.caption)
    assert english_left(app) == []
    # A settled application: the scores read only.
    _open(app, "evaluation", application="1")
    settled = "Der Konsens ist festgehalten: Die Bewertungen stehen fest."
    assert settled in [info.value for info in app.info]
    assert english_left(app) == []
    call_world.reopen_the_scores(1, "demo-evaluator")
    _open(app, "evaluation", application="1")
    assert {"Der Bedarf", "Motivation", "Gewählte Praktiken", "Ihre Bewertungen"} <= set(
        _headings(app)
    )
    assert app.number_input(key="eval-1-score-0").label == f"Bewertung von {RELEVANCE} (0 bis 5)"
    assert app.text_area(key="eval-1-comment-0").label == f"Kommentar zu {RELEVANCE}"
    assert [e.label for e in app.expander] == ["Interessenkonflikt erklären"]
    assert english_left(app) == []
    app.number_input(key="eval-1-score-0").set_value(4)
    _run(app, _button(app, "Bewertungen einreichen"))
    errors = [e.value for e in app.error]
    # The scores' problems, found by the service, in German next to each criterion.
    assert f"Begründen Sie die Bewertung von „{RELEVANCE}“ in einem Kommentar" in errors, errors
    assert any(e.startswith("Bitte korrigieren Sie 3 Felder: ") for e in errors), errors
    assert english_left(app) == []
    # A conflict declared without a reason: the service's message in German.
    _run(app, _button(app, "Konflikt erklären"))
    assert "Nennen Sie den Interessenkonflikt" in [e.value for e in app.error]


def test_the_services_refuse_in_the_language_of_the_thread(embedded_app):
    AppTest.from_file(APP, default_timeout=60).run()  # seeds the demo database
    evaluator = _user("demo-evaluator")
    with db.session_scope() as session:
        # An application to the open call: nobody evaluates it.
        to_the_open_call = select(CallApplication.id).where(CallApplication.call_id != 1)
        foreign = session.exec(to_the_open_call).first()
    for language, expected in (
        ("en", "This application is not assigned to you."),
        ("de", "Diese Bewerbung ist Ihnen nicht zugewiesen."),
        ("fr", "Cette candidature ne vous est pas attribuée."),
    ):
        with (
            pytest.raises(PermissionDenied) as refused,
            i18n.language(language),
            db.read_scope() as session,
        ):
            evaluation.open_application(session=session, actor=evaluator, application_id=foreign)
        assert str(refused.value) == expected
    # The closing time in a refusal is written the way the language writes dates.
    with db.session_scope() as session:
        call = session.get(Call, 1)
        call.closes_at = utcnow() + timedelta(days=2)
        session.add(call)
    coordinator = _user("demo-coordinator")
    with i18n.language("it"), db.session_scope() as session:
        with pytest.raises(FieldError) as refused:
            evaluation.declare_conflict(
                session=session, actor=evaluator, application_id=foreign, reason=" "
            )
        assert str(refused.value) == "indicate in che cosa consiste il conflitto di interessi"
    with (
        pytest.raises(StateConflict) as refused,
        i18n.language("es"),
        db.session_scope() as session,
    ):
        evaluation.assign(
            session=session, actor=coordinator, application_id=1, evaluator_id=evaluator.id
        )
    said = str(refused.value)
    assert re.fullmatch(
        r"Esta convocatoria está abierta hasta el \d{1,2} de \w+ de \d{4} a las \d\d:\d\d UTC: "
        r"sus solicitudes se evalúan después de su cierre\.",
        said,
    ), said
