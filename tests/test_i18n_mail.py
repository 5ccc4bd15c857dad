"""E-mails in their recipient's language: every kind reads in German for a German account, in
English as before for everybody else, also when a background thread sends it; an account's
language comes from its sign-up page and the sidebar's menu (migration 0018 on both databases)."""

import json
import re
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dhu_core import accounts, db, i18n, notifications, organisations
from dhu_core.config import Settings
from dhu_core.models import Organisation, OutboxMessage, User, utcnow
from dhu_core.notifications import delivery, kinds, render
from dhu_core.open_data import newsletter
from tests.apptest import APP, sign_in
from tests.german import catalogue, clear_caches
from tests.mailserver import mail_server
from tests.people import account

CONTEXTS = {
    kind: context
    for kind, context in json.loads(
        (Path(__file__).parent / "data" / "mail_contexts.json").read_text("utf-8")
    ).items()
    if not kind.startswith("_")
}
URL = "https://dhu.example.org"
UNSUBSCRIBE = f"{URL}/unsubscribe?token=t.1"
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def _render(kind: str, language: str, *, unsubscribe: bool = True) -> render.Rendered:
    items = []
    if kind == "digest":
        items = [_render("practice-approved", language, unsubscribe=False)]
    return render.render(
        kind,
        CONTEXTS[kind],
        url=URL,
        unsubscribe_url=UNSUBSCRIBE if unsubscribe else None,
        items=items,
        language=language,
    )


def _catalogue_english_in(written: str) -> list[str]:
    """The English texts of the catalogue (their parts between placeholders, of 20 characters
    or more) that German writes in its own words, still found in `written`."""
    english = []
    for message in catalogue("de"):
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not ids[0] or set(ids) & set(strings):
            continue
        for source in ids:
            english += [p.strip() for p in PLACEHOLDER.split(source) if len(p.strip()) >= 20]
    return sorted({part for part in english if part in written})


def _own_lines(rendered: render.Rendered, context: dict) -> set[str]:
    """The English message's own lines (its subject, sentences and link labels), without what
    the context filled in: a German message has none of them."""
    values = [str(value) for value in context.values()]
    lines = set()
    for line in [rendered.subject, *rendered.text.splitlines()]:
        own = line.split("http")[0].strip().rstrip(":").strip()
        if len(own) < 8 or own.startswith(("- ", "== ")) or any(own in v for v in values):
            continue
        lines.add(own)
    return lines


# --- every kind, in German ---------------------------------------------------------------


@pytest.mark.parametrize("kind", list(kinds.KINDS))
def test_every_kind_reads_in_german_for_a_german_reader(kind):
    english, german = _render(kind, "en"), _render(kind, "de")

    assert german.subject != english.subject
    written = "\n".join((german.subject, german.text, german.html))
    assert _catalogue_english_in(written) == []
    assert [line for line in _own_lines(english, CONTEXTS[kind]) if line in written] == []
    # The reader's own names stay as they were written.
    for key in ("practice_title", "call_title", "organisation", "reason"):
        value = str(CONTEXTS[kind].get(key))
        assert (value in german.text) == (value in english.text), key
    # Its links open the pages in German; the HTML says its language.
    assert '<html lang="de">' in german.html and '<html lang="en">' in english.html
    links = re.findall(r"https://dhu\.example\.org[^\s\"<>)]*", german.text)
    assert links and all(link.endswith("lang=de") for link in links), links
    assert "lang=" not in english.text


def test_dates_numbers_and_labels_are_written_the_readers_way():
    decision, status = _render("call-decision", "de"), _render("twinning-status", "de")
    reminder, closing = _render("freshness-reminder", "de"), _render("call-confirmation", "fr")

    assert "15.000 EUR" in decision.text and "82,5 von 100" in decision.text
    assert "Vergeben" in decision.subject  # the outcome's label, from the catalogue
    assert "Vereinbart" in status.text and "In der engeren Wahl" in status.text  # code list
    assert "1. März 2025" in reminder.text and "1. März 2026" in reminder.text
    assert "15 décembre 2026, 17:00 UTC" in closing.text
    # English keeps its own words and writes the same figures its own way.
    english = _render("call-decision", "en")
    assert "15,000 EUR" in english.text and "82.5 of 100" in english.text


def test_each_language_has_its_own_words_and_quotation_marks():
    subjects = {code: _render("practice-approved", code).subject for code in i18n.LANGUAGES}
    assert len(set(subjects.values())) == len(i18n.LANGUAGES)
    title = CONTEXTS["practice-approved"]["practice_title"]
    assert f"„{title}“" in _render("practice-approved", "de").text
    assert f"« {title} »" in _render("practice-approved", "fr").text
    assert f'"{title}"' in _render("practice-approved", "en").text


def test_what_a_reader_fills_in_stays_escaped_in_every_language():
    context = {**CONTEXTS["practice-rejected"], "practice_title": "<script>x</script> & co"}
    for code in i18n.LANGUAGES:
        rendered = render.render(
            "practice-rejected", context, url=URL, unsubscribe_url=None, language=code
        )
        assert "<script>" not in rendered.html
        assert "<strong>&lt;script&gt;x&lt;/script&gt; &amp; co</strong>" in rendered.html


def test_a_percent_sign_in_a_text_is_written_as_it_is():
    """Jinja's new-style gettext %-formats every text: a "%" in a translation must not break
    the message (the delivery would retry it until it gives up)."""
    template = render.environment(render.TEMPLATES).from_string(
        '{{ _("A 70 % share, {n}").format(n=1) }} {{ ngettext("%s one", "%s two", 2) }}'
    )
    assert template.render() == "A 70 % share, 1 %s two"


def test_rendering_leaves_the_threads_language_as_it_was():
    with i18n.language("it"):
        _render("invitation", "de")
        assert i18n.current() == "it"
    assert i18n.current() == i18n.DEFAULT


# --- the outbox and its delivery ----------------------------------------------------------


@pytest.fixture
def readers(engine) -> tuple[User, User]:
    """Two members of one organisation: Greta reads German, Ed English."""
    with db.session_scope(engine) as session:
        clinic = Organisation(name="Tartu Clinic", country="EE")
        session.add(clinic)
        session.flush()
        greta = account(session, "greta", "owner", clinic.id)
        ed = account(session, "ed", "owner", clinic.id)
        accounts.set_language(session=session, actor=greta, language="de")
    with db.read_scope(engine) as session:
        return session.get(User, greta.id), session.get(User, ed.id)


def _enqueue(engine, to, kind="practice-approved", **more) -> list[OutboxMessage]:
    with db.session_scope(engine) as session:
        return notifications.enqueue(session, kind=kind, to=to, context=CONTEXTS[kind], **more)


def test_each_message_is_written_in_its_recipients_language(engine, readers):
    greta, ed = readers
    messages = {m.recipient: m for m in _enqueue(engine, [greta, ed, "guest@example.org"])}

    assert {a: m.language for a, m in messages.items()} == {
        "greta@example.org": "de",
        "ed@example.org": "en",
        "guest@example.org": "en",
    }
    assert messages["greta@example.org"].subject.startswith("Veröffentlicht: ")
    assert messages["ed@example.org"].subject.startswith("Published: ")
    # A bare address (an invitation's) is written in the language the sender gives.
    (invited,) = _enqueue(engine, ["neu@example.org"], kind="invitation", language="de")
    assert invited.language == "de" and "DHU-Plattform" in invited.subject


def test_a_background_delivery_writes_in_the_recipients_language(engine, readers):
    """The delivery step runs in a thread of its own (the app's background thread, whose
    language is the default) while the thread that wrote the message drew in French."""
    greta, ed = readers
    with i18n.language("fr"):
        _enqueue(engine, [greta, ed])
    with mail_server() as (smtp, handler):
        settings = Settings(dhu_public_url=URL, dhu_smtp_url=smtp)
        step = threading.Thread(
            target=delivery.deliver_due, kwargs={"engine": engine, "settings": settings}
        )
        step.start()
        step.join(60)
    mails = {m["To"]: m for m in handler.received}
    german = mails["greta@example.org"]
    body = german.get_body(("plain",)).get_content()
    assert german["Subject"] == "Veröffentlicht: Heart failure telemonitoring"
    assert "Gute Nachricht" in body and f"{URL}/radar?practice=7&lang=de" in body
    assert "Unsubscribe" not in body and "Von diesen E-Mails abmelden" in body
    assert mails["ed@example.org"]["Subject"] == "Published: Heart failure telemonitoring"


def test_a_weekly_digest_is_written_in_its_recipients_language(engine, readers):
    greta, _ = readers
    with db.session_scope(engine) as session:
        notifications.set_preferences(
            session, actor=greta, choices={"practice-approved": notifications.WEEKLY}
        )
    _enqueue(engine, [greta])
    with db.session_scope(engine) as session:
        assert delivery.gather_digests(session, now=utcnow() + timedelta(days=8)) == 1
    with db.read_scope(engine) as session:
        digest = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "digest")).one()
        items = session.exec(
            select(OutboxMessage).where(OutboxMessage.digest_id == digest.id)
        ).all()
    email = delivery.compose(digest, Settings(dhu_public_url=URL), now=utcnow(), items=list(items))
    body = email.get_body(("plain",)).get_content()
    assert digest.language == "de" and email["Subject"].startswith("Ihre wöchentliche Übersicht")
    assert "== Veröffentlicht: Heart failure telemonitoring ==" in body
    assert "Von allen wöchentlichen E-Mails abmelden" in body


# --- where an account's language comes from ------------------------------------------------


def test_a_new_account_takes_the_language_of_its_sign_up_page(engine):
    data = accounts.OwnerRegistration(
        username="flora",
        password="Tartu rain on Tuesday",
        email="flora@example.org",
        display_name="Flora",
        organisation_name="Clinique du Lac",
        organisation_country="FR",
    )
    with i18n.language("fr"), db.session_scope(engine) as session:
        user = organisations.register_owner(session=session, data=data).user
    with db.read_scope(engine) as session:
        assert session.get(User, user.id).language == "fr"
    # Accounts made otherwise (the `dhu` command, administrators) read English.
    with db.session_scope(engine) as session:
        assert account(session, "plain").language == "en"


def test_only_a_language_of_the_platform_is_recorded(engine, readers):
    greta, _ = readers
    with db.session_scope(engine) as session:
        accounts.set_language(session=session, actor=greta, language="xx")
        accounts.set_language(session=session, actor=greta, language="es-ES")
    with db.read_scope(engine) as session:
        assert session.get(User, greta.id).language == "es"


def test_choosing_german_in_the_sidebar_makes_the_next_e_mail_german(app_data):
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), "demo-owner")
    assert not at.exception
    with db.read_scope() as session:
        owner = session.exec(select(User).where(User.username == "demo-owner")).one()
    assert owner.language == "en"

    with i18n.language("de"):
        at.sidebar.selectbox(key="dhu_language_menu").set_value("de").run()
    assert not at.exception

    with db.read_scope() as session:
        owner = session.get(User, owner.id)
    assert owner.language == "de"
    with db.session_scope() as session:
        (message,) = notifications.enqueue(
            session, kind="password-reset", to=[owner], context=CONTEXTS["password-reset"]
        )
    assert message.language == "de"
    assert message.subject == "Neues Passwort für die DHU-Plattform festlegen"
    # The account page says so, in German.
    at.switch_page("app_pages/account.py")
    with i18n.language("de"):
        at.run()
    assert any("auf Deutsch verfasst" in c.value for c in at.caption)
    clear_caches()


# --- the newsletter -----------------------------------------------------------------------


def test_the_newsletter_is_written_in_the_coordinators_language(engine):
    coordinator = User(
        id=1, username="cora", display_name="Cora", email="c@example.org", role="coordinator",
        password_hash="!",
    )  # fmt: skip
    day = date(2026, 3, 2)
    with i18n.language("de"):
        letter = newsletter.compose(
            actor=coordinator, since=day, until=day, engine=engine, base_url=URL
        )
    assert "Neues vom 2. März 2026" in letter.html and '<html lang="de">' in letter.html
    assert "In diesem Zeitraum wurde nichts Neues veröffentlicht." in letter.markdown
    assert "0 neu veröffentlichte Praktiken, 0 Zusammenfassungen und 0 Porträts." in letter.markdown
    assert f"({URL}/knowledge?lang=de)" in letter.markdown
    assert _catalogue_english_in(letter.html + letter.markdown) == []
    english = newsletter.compose(
        actor=coordinator, since=day, until=day + timedelta(days=6), engine=engine, base_url=URL,
        language="en",
    )  # fmt: skip
    assert "News from March 2, 2026 to March 8, 2026" in english.html
    assert "0 newly published practices, 0 digests and 0 spotlights." in english.markdown


# --- migration 0018 -----------------------------------------------------------------------


def test_the_migration_gives_accounts_and_messages_english_and_can_be_undone(fresh_engine):
    config = db.alembic_config(fresh_engine)
    command.upgrade(config, "0017")
    now = datetime(2026, 11, 30, tzinfo=UTC)
    with fresh_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO account (username, display_name, email, role, password_hash, "
                "disabled, failed_logins, created_at) "
                "VALUES ('old', 'Old', 'old@example.org', 'owner', '!', false, 0, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO outbox_message (kind, recipient, subject, context, status, due_at, "
                "attempts, created_at) VALUES ('digest', 'old@example.org', 'Digest', '{}', "
                "'pending', :now, 0, :now)"
            ),
            {"now": now},
        )

    db.upgrade(fresh_engine)
    with db.read_scope(fresh_engine) as session:
        assert session.exec(select(User.language)).all() == ["en"]
        assert session.exec(select(OutboxMessage.language)).all() == ["en"]
    with db.session_scope(fresh_engine) as session:
        new = account(session, "neu")
        accounts.set_language(session=session, actor=new, language="de")

    command.downgrade(config, "0017")
    with fresh_engine.connect() as conn:
        for table in ("account", "outbox_message"):
            assert "language" not in {c["name"] for c in inspect(conn).get_columns(table)}
        assert conn.execute(text("SELECT count(*) FROM account")).scalar_one() == 2
    db.upgrade(fresh_engine)
    assert db.is_at_head(fresh_engine)
