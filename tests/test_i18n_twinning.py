"""The twinning, follow-up and live pages in German: headings, labels, score explanations,
dates and the services' refusals in the page's language, no English text of the catalogue left;
the same services still answer in English where nothing chose a language (the API)."""

import re
from datetime import date, timedelta

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dhu_core import db, i18n, twinning
from dhu_core.calls import follow_up
from dhu_core.models import (
    AssistanceInput,
    AuditEvent,
    FieldError,
    Milestone,
    TwinningMatch,
    User,
)
from tests.apptest import APP, sign_in
from tests.browser import settle
from tests.german import (
    catalogue,
    chart_texts,
    english_left,
    in_german,
    run_in_german,
    shown_texts,
    signed_in_in_german,
)

PROBLEM = (
    "Our hospital wants remote monitoring of heart failure patients at home, "
    "with alerts to nurses when weight or blood pressure drift."
)
#: A date as German writes it (01.12.2026), and as English would (Dec 1, 2026 / 01 Dec 2026).
GERMAN_DATE = re.compile(r"\b\d{2}\.\d{2}\.\d{4}\b")
ENGLISH_DATE = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")


def _user(name: str) -> User:
    with db.read_scope() as session:
        return session.exec(select(User).where(User.username == name)).one()


def _text(at: AppTest) -> str:
    return "\n".join(shown_texts(at))


def _tabs(at: AppTest) -> list[str]:
    return [tab.label for tab in at.tabs]


def _english_charts(at: AppTest) -> list[str]:
    """The charts' titles and tooltips still in English where the catalogue has German."""
    english = {m.id for m in catalogue("de") if isinstance(m.id, str) and m.id and m.id != m.string}
    return [text for text in chart_texts(at) if text in english]


def _state_the_need(at: AppTest) -> None:
    with i18n.language("de"):
        at.text_area(key="need_problem_statement").input(PROBLEM)
        at.selectbox(key="need_country").select("PT")
        at.multiselect(key="need_health_domains").select("cardiovascular")
        at.multiselect(key="need_languages").select("pt").select("en")
        at.button(key="FormSubmitter:need-Diesen Bedarf angeben").click().run()
    assert not at.exception


def test_twinning_for_an_owner_with_a_need_in_german(app_data):
    at = signed_in_in_german("demo-owner2", "twinning")
    assert [title.value for title in at.title] == ["Twinning"]
    assert _tabs(at) == ["Meine Bedarfe", "Bedarf angeben", "Meine Twinnings"]
    assert at.text_area(key="need_problem_statement").label == "Problembeschreibung *"
    assert at.selectbox(key="need_country").label == "Land, in dem sie übernommen wird *"
    assert at.multiselect(key="need_practice_types").label == "Gewünschte Arten von Praktiken"
    assert english_left(at) == []

    _state_the_need(at)
    assert any(s.value.startswith("Bedarf angegeben.") for s in at.success), at.success
    assert at.selectbox(key="own_need").label == "Bedarf"
    shown = _text(at)
    assert "für Twinnings offene Praktik" in shown, shown
    # The score explained in German, its share written the German way ("70 %").
    assert "ähneln der Problembeschreibung" in shown
    assert re.search(r"Bewertung \d+\u00a0%", shown), shown
    assert "Ich bin interessiert" in [button.label for button in at.button]
    assert _english_charts(at) == []
    assert {"Kriterium", "Wert", "Gewicht", "Anteil an der Bewertung"} <= set(chart_texts(at))
    assert english_left(at) == []

    # The service's refusal of the same need again, in German next to its field.
    _state_the_need(at)
    messages = [error.value for error in at.error]
    assert any("Ihre Organisation hat diesen Bedarf bereits am" in m for m in messages)
    assert english_left(at) == []


def test_twinning_for_a_coordinator_in_german(app_data):
    at = signed_in_in_german("demo-coordinator", "twinning")
    assert _tabs(at) == [
        "Bedarfe und Kandidaten",
        "Twinnings",
        "Zuteilung einer Ausschreibung",
        "Gewichte",
    ]
    labels = {element.label for element in at.multiselect}
    assert {"Land", "Organisation"} <= labels
    assert at.selectbox(key="any_need").label == "Bedarf"
    assert "In die engere Wahl nehmen" in [button.label for button in at.button]
    assert "Zu begleitendes Twinning" in {box.label for box in at.selectbox}
    assert "Verlauf" in [expander.label for expander in at.expander]
    assert {"Gesundheitsbereiche", "Ähnliches Problem"} <= {s.label for s in at.slider}
    assert at.number_input[0].label == "Twinning-Plätze der Ausschreibung"
    shown = _text(at)
    assert re.search(r"offene(r)? Bedarf(e)? passe?n?\.", shown), shown
    assert english_left(at) == []
    assert _english_charts(at) == []

    # A proposed allocation, counted and scored in German.
    with i18n.language("de"):
        next(b for b in at.button if b.label == "Zuteilung vorschlagen").click().run()
    assert not at.exception
    assert any("mit der höchsten Gesamtbewertung" in c.value for c in at.caption)
    assert english_left(at) == []


def _planned_twinning() -> int:
    """An agreed demo twinning given a work plan started 70 days ago (a late milestone), a
    technical-assistance session and a report."""
    coordinator = _user("demo-coordinator")
    with db.session_scope() as session:
        planned = set(session.exec(select(Milestone.match_id)).all())
        match = next(
            m
            for m in session.exec(select(TwinningMatch).where(TwinningMatch.status == "agreed"))
            if m.id not in planned
        )
        follow_up.start_work_plan(
            session=session,
            actor=coordinator,
            match_id=match.id,
            start=date.today() - timedelta(days=70),
        )
        follow_up.log_assistance(
            session=session,
            actor=coordinator,
            match_id=match.id,
            data=AssistanceInput(held_on=date.today(), topic="Data protection", hours=2.5),
        )
        follow_up.upload_report(
            session=session,
            actor=coordinator,
            match_id=match.id,
            kind="progress",
            filename="progress.txt",
            content=b"Progress so far.",
        )
        return match.id


def test_the_follow_up_of_a_twinning_under_way_in_german(app_data):
    signed_in_in_german("demo-coordinator", "follow_up")  # the demo data are seeded
    match_id = _planned_twinning()
    at = signed_in_in_german("demo-coordinator", "follow_up")
    assert [title.value for title in at.title] == ["Twinning-Begleitung"]
    shown = _text(at)
    assert "laufende Twinnings" in shown and "mit verspäteten Meilensteinen" in shown, shown
    assert "verspätet" in shown and "als Nächstes:" in shown
    assert english_left(at) == []

    at.query_params["twinning"] = str(match_id)
    run_in_german(at)
    assert _tabs(at) == [
        "Arbeitsplan",
        "Technische Unterstützung",
        "Berichte",
        "Gewonnene Lehren",
    ]
    shown = _text(at)
    assert "fällig am" in shown and "verspätet" in shown
    assert "Auftakt" in shown  # the milestone's name, from the code list
    assert GERMAN_DATE.search(shown) and not ENGLISH_DATE.search(shown), shown
    assert "2,5 Std." in shown
    assert {"Sitzung erfassen", "Bericht hochladen", "Fall speichern"} <= {
        button.label for button in at.button
    }
    downloads = [b.proto.label for b in at.get("download_button")]
    assert len(downloads) == 1 and GERMAN_DATE.search(downloads[0]), downloads
    assert downloads[0].startswith("Zwischenbericht: progress\\.txt (1 kB, ")
    assert [box.label for box in at.text_input if box.key.endswith("-topic")] == ["Thema *"]
    assert {"Kontext *", "Ergebnis *"} <= {area.label for area in at.text_area}
    assert "Alle Twinnings" in [link.proto.label for link in at.get("page_link")]
    assert english_left(at) == []

    # The case saved empty: each part's message and the summary in German.
    with i18n.language("de"):
        next(b for b in at.button if b.label == "Fall speichern").click().run()
    messages = [error.value for error in at.error]
    assert any(m.startswith("Bitte korrigieren Sie 6 Felder: Kontext,") for m in messages)
    assert "„Kontext“: mindestens 20 Zeichen nötig" in messages, messages
    assert english_left(at) == []


def test_a_tab_named_in_another_language_opens_in_this_one(app_data):
    signed_in_in_german("demo-coordinator", "follow_up")  # the demo data are seeded
    match_id = _planned_twinning()
    at = signed_in_in_german("demo-coordinator", "follow_up")
    at.query_params["twinning"] = str(match_id)
    at.query_params["tab"] = "reports"
    run_in_german(at)
    assert at.session_state[f"tab-{match_id}"] == "Berichte"
    # A link made when the address named the tab by its English label opens it too.
    at = signed_in_in_german("demo-coordinator", "follow_up")
    at.query_params.update(twinning=str(match_id), tab="Reports")
    run_in_german(at)
    assert at.session_state[f"tab-{match_id}"] == "Berichte"


def test_a_refusal_of_the_follow_up_service_in_german(app_data):
    signed_in_in_german("demo-owner", "follow_up")  # the demo data are seeded
    outsider = _user("demo-owner")
    with db.read_scope() as session:
        theirs = {t.id for t in follow_up.own_twinnings(session=session, actor=outsider)}
        match = next(
            m
            for m in session.exec(select(TwinningMatch).where(TwinningMatch.status == "agreed"))
            if m.id not in theirs and outsider.organisation_id not in twinning.sides(session, m)
        )
    at = signed_in_in_german("demo-owner", "follow_up")
    at.query_params["twinning"] = str(match.id)
    run_in_german(at)
    assert [w.value for w in at.warning] == [
        "Nur die beiden Organisationen dieses Twinnings und Koordinatorinnen und Koordinatoren "
        "begleiten es."
    ]
    assert english_left(at) == []


def test_the_services_answer_in_the_language_of_the_page_and_else_in_english(app_data):
    in_german("live")  # the demo data are seeded
    coordinator = _user("demo-coordinator")
    with db.read_scope() as session:
        match_id = session.exec(select(Milestone.match_id)).first()
    refusals = {}
    for code in ("de", None):
        with db.session_scope() as session, pytest.raises(FieldError) as refused:
            if code:
                with i18n.language(code):
                    follow_up.upload_report(
                        session=session, actor=coordinator, match_id=match_id,
                        kind="progress", filename="empty.txt", content=b"",
                    )  # fmt: skip
            else:
                follow_up.upload_report(
                    session=session, actor=coordinator, match_id=match_id,
                    kind="progress", filename="empty.txt", content=b"",
                )  # fmt: skip
        refusals[code] = str(refused.value)
    assert refusals == {"de": "diese Datei ist leer", None: "this file is empty"}


def test_the_live_view_in_german(app_data):
    at = in_german("live")
    assert [title.value for title in at.title] == ["Digital Health Uptake · live"]
    labels = [metric.label for metric in at.metric]
    assert labels == [
        "Veröffentlichte Praktiken",
        "Erfasste Länder",
        "Organisationen",
        "Twinnings",
        "Erfassungen in der letzten Stunde",
    ]
    assert "Neueste Praktiken" in [header.value for header in at.subheader]
    shown = _text(at)
    assert "Diese Ansicht wird alle" in shown and "Demodaten: erzeugt" in shown
    assert GERMAN_DATE.search(shown) and not ENGLISH_DATE.search(shown), shown
    [qr] = at.get("image")[0].proto.imgs
    assert qr.alt.startswith("QR-Code der Adresse des Schnellerfassungsformulars: ")
    assert qr.caption == "Scannen, um Ihre Praktik einzutragen"
    legend = next(e.proto.body for e in at.get("html") if "dhu-legend-title" in e.proto.body)
    assert "Eingesetzte Praktiken" in legend and "Keine Daten" in legend
    assert english_left(at) == []


def test_a_twinnings_history_speaks_the_readers_language():
    shortlisted = AuditEvent(
        action="twinning.status_changed",
        entity="twinning_match",
        entity_id=1,
        detail={
            "old": "suggested",
            "new": "shortlisted",
            "note": twinning.SHORTLISTED_FROM["candidates"],
        },
    )
    saved = AuditEvent(
        action="twinning.match_saved", entity="twinning_match", entity_id=1, detail={"score": 0.7}
    )
    assert twinning.describe(shortlisted) == (
        "Suggested → Shortlisted: “Shortlisted from the need's ranked candidates.”"
    )
    assert twinning.describe(saved) == "Kept as a suggestion, scored 70%"
    with i18n.language("de"):
        assert twinning.describe(shortlisted) == (
            "Vorgeschlagen → In der engeren Wahl: „Aus den geordneten Kandidaten des Bedarfs in "
            "die engere Wahl genommen.“"
        )
        assert twinning.describe(saved) == "Als Vorschlag behalten, Bewertung 70\u00a0%"


@pytest.mark.browser
def test_the_live_view_stays_in_german_when_it_refreshes(demo_server, page):
    """The board is a fragment that reruns alone every few seconds: each rerun in German."""
    url, _ = demo_server
    page.goto(url + "/live?lang=de&every=1")
    page.get_by_role("heading", name="Neueste Praktiken").wait_for(timeout=60_000)
    settle(page)
    page.wait_for_timeout(4_000)  # the board is drawn again, alone, every second
    text = page.get_by_test_id("stMain").inner_text()
    assert "Neueste Praktiken" in text and "Diese Ansicht wird alle 1 s aktualisiert." in text
    assert "Newest practices" not in text and "refreshes every" not in text


def test_a_refused_status_names_the_statuses_as_german_writes_them(app_data):
    in_german("live")  # the demo data are seeded
    coordinator = _user("demo-coordinator")
    with db.read_scope() as session:
        match_id = session.exec(
            select(TwinningMatch.id).where(TwinningMatch.status == "in-transfer")
        ).first()
    with (
        db.session_scope() as session,
        i18n.language("de"),
        pytest.raises(FieldError) as refused,
    ):
        twinning.set_match_status(
            session=session, actor=coordinator, match_id=match_id, status="agreed"
        )
    # Only the first letter made small: German nouns keep their capital.
    assert str(refused.value) == (
        "ein Twinning im Status „in Übertragung“ kann als Nächstes abgeschlossen oder abgelehnt "
        "werden, nicht vereinbart"
    )


@pytest.mark.parametrize(
    ("code", "page", "heading"),
    [
        ("fr", "twinning", "Besoins et candidats"),
        ("it", "twinning", "Bisogni e candidati"),
        ("es", "twinning", "Necesidades y candidatas"),
        ("fr", "follow_up", "Suivi des jumelages"),
        ("it", "follow_up", "Monitoraggio dei gemellaggi"),
        ("es", "follow_up", "Seguimiento de hermanamientos"),
    ],
)
def test_the_pages_run_in_the_other_languages(app_data, code, page, heading):
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), "demo-coordinator")
    at.query_params["lang"] = code
    at.switch_page(f"app_pages/{page}.py")
    with i18n.language(code):
        at.run()
    assert not at.exception and not at.error
    assert heading in [*_tabs(at), *(title.value for title in at.title)]
