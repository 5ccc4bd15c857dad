"""My account, My organisation, Join, Inbox, Set a new password and Unsubscribe in German, with
the refusals of the services behind them; the same refusals stay English outside a page."""

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dhu_core import accounts, db, exchange, i18n, notifications, organisations, tokens
from dhu_core.models import FieldError, InterestCreate, OutboxMessage, Practice, User
from tests.apptest import APP, open_app, sign_in
from tests.german import english_left, in_german, run_in_german, signed_in_in_german

PASSWORD = "Lisbon trams climb slowly"


def _user(username: str) -> User:
    with db.read_scope() as session:
        return session.exec(select(User).where(User.username == username)).one()


def _account_without_organisation(username: str) -> User:
    """A new owner account that acts for no organisation (the database seeded first)."""
    open_app()
    with db.session_scope() as session:
        return accounts.create_user(
            session=session,
            username=username,
            password=PASSWORD,
            role="owner",
            email=f"{username}@example.org",
            display_name=username.title(),
        )


def _in_german_as(username: str, page: str, **params: str) -> AppTest:
    """`page` in German for the account `username` (password PASSWORD), with `params`."""
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), username, PASSWORD)
    at.query_params["lang"] = "de"
    run_in_german(at)
    for name, value in params.items():
        at.query_params[name] = value
    at.switch_page(f"app_pages/{page}.py")
    return _run(at)


def _run(at: AppTest) -> AppTest:
    """`at` run in German, where the page may show a refusal (no exception)."""
    with i18n.language("de"):
        at.run()
    assert not at.exception
    return at


def _click(at: AppTest, label: str) -> AppTest:
    button = next(button for button in at.button if button.label == label)
    with i18n.language("de"):
        button.click().run()
    assert not at.exception
    return at


def _invitation_token(inviter: str) -> str:
    open_app()
    with db.session_scope() as session:
        made = organisations.invite(
            session=session, actor=_user(inviter), email="colleague@example.org"
        )
    return made.token


def test_my_account_in_german(app_data):
    at = signed_in_in_german("demo-owner", "account")
    assert [title.value for title in at.title] == ["Mein Konto"]
    headings = [heading.value for heading in at.subheader]
    assert headings == ["Passwort ändern", "E-Mail-Benachrichtigungen"]
    assert [box.label for box in at.text_input] == ["Aktuelles Passwort", "Neues Passwort"]
    chosen = at.selectbox(key="pref_practice-approved")
    assert chosen.label == "Eine Praktik Ihrer Organisation wurde veröffentlicht"
    assert chosen.options == ["Sofort", "In einer wöchentlichen Übersicht", "Nie"]
    assert english_left(at) == []
    # A wrong current password: the account service's refusal, in German, under its field.
    at.text_input[0].input("not my password at all")
    at.text_input[1].input(PASSWORD)
    _click(at, "Passwort ändern")
    assert [error.value for error in at.error] == ["Das aktuelle Passwort ist nicht richtig"]
    assert english_left(at) == []


def test_my_organisation_in_german_for_a_member(app_data):
    _invitation_token("demo-owner")
    asking = _account_without_organisation("nora")
    with db.session_scope() as session:
        organisations.request_to_join(
            session=session, account=asking, organisation_id=_user("demo-owner").organisation_id
        )
    at = signed_in_in_german("demo-owner", "organisation")
    assert [title.value for title in at.title] == ["Meine Organisation"]
    headings = [heading.value for heading in at.subheader]
    assert headings[:3] == ["Beitrittsanträge", "Mitglieder", "Kollegin oder Kollegen einladen"]
    assert "Organisation verlassen" in headings
    assert any(
        t.value.startswith("**Nora** (nora, ") and ") möchte **" in t.value for t in at.markdown
    )
    assert {"Annehmen", "Ablehnen", "Einladung erstellen"} <= {b.label for b in at.button}
    assert at.selectbox[0].label == "Offene Einladung"
    assert at.text_input(key="invite_email").label == "E-Mail der Kollegin oder des Kollegen *"
    (members,) = at.dataframe
    assert list(members.value.columns) == ["Name", "E-Mail", "Status", "seit"]
    assert any(status.startswith("eingeladen, bis ") for status in members.value["Status"])
    assert english_left(at) == []
    # Approving the request: the message after it, in German.
    _click(at, "Annehmen")
    assert [success.value for success in at.success] == ["Angenommen: Nora."]
    assert english_left(at) == []


def test_my_organisation_in_german_for_an_account_that_asks_to_join(app_data):
    _account_without_organisation("olga")
    at = _in_german_as("olga", "organisation")
    assert [title.value for title in at.title] == ["Meine Organisation"]
    assert at.markdown[-1].value.startswith("Ihr Konto handelt noch für keine Organisation.")
    assert at.selectbox[0].label == "Organisation, der Sie beitreten *"
    assert english_left(at) == []
    # Asking without choosing an organisation: the membership service refuses, in German.
    _click(at, "Beitritt beantragen")
    messages = [error.value for error in at.error]
    assert "Organisation, der Sie beitreten: Wählen Sie eine Organisation aus der Liste" in messages
    assert english_left(at) == []
    # Asked: the page says the request waits.
    organisation = next(iter(organisations.organisation_choices()))
    at.selectbox[0].set_value(organisation)
    _click(at, "Beitritt beantragen")
    assert at.info[-1].value.startswith("Ihr Antrag auf Beitritt zu **")
    assert english_left(at) == []


def test_joining_through_an_invitation_in_german(app_data):
    token = _invitation_token("demo-owner")
    visitor = in_german("join")
    assert [title.value for title in visitor.title] == ["Einer Organisation beitreten"]
    visitor.query_params["invitation"] = token
    run_in_german(visitor)
    assert "lädt Sie ein" in visitor.info[-1].value
    links = [link.proto.label for link in visitor.get("page_link")]
    assert "Konto mit dieser Einladung erstellen" in links
    assert english_left(visitor) == []

    _account_without_organisation("paula")
    at = _in_german_as("paula", "join", invitation=token)
    assert english_left(at) == []
    _click(at, "Der Organisation beitreten")
    assert [success.value for success in at.success] == ["Willkommen: Sie sind jetzt Mitglied."]
    # The invitation works once: opened again, the refusal is in German.
    again = _in_german_as("paula", "join", invitation=token)
    assert [error.value for error in again.error] == [
        "Diese Einladung wurde bereits verwendet oder zurückgezogen; bitten Sie um eine neue"
    ]
    assert english_left(again) == []


def test_the_inbox_in_german(app_data):
    open_app()
    reader = _user("demo-owner2")
    with db.session_scope() as session:
        practice = session.exec(
            select(Practice).where(Practice.owner_organisation_id == reader.organisation_id)
        ).first()
        exchange.express_interest(
            session=session,
            actor=_user("demo-owner"),
            data=InterestCreate(practice_id=practice.id, text="Could we reuse this in Tallinn?"),
        )
    at = signed_in_in_german("demo-owner2", "inbox")
    assert [title.value for title in at.title] == ["Posteingang"]
    assert "Von Ihnen gesendet" in [heading.value for heading in at.subheader]
    captions = [caption.value for caption in at.caption]
    assert any(caption.startswith("1 erhalten · 1 ungelesen") for caption in captions)
    assert any(caption.startswith("Betrifft: die Praktik [") for caption in captions)
    assert any(":blue-badge[Neu]" in text.value for text in at.markdown)
    assert english_left(at) == []
    _click(at, "Als gelesen markieren")
    assert any(c.value.startswith("1 erhalten · 0 ungelesen") for c in at.caption)

    sender = signed_in_in_german("demo-owner", "inbox")
    assert any(text.value.startswith("An **") and ", betrifft: die Praktik [" in text.value
               for text in sender.markdown)  # fmt: skip
    assert english_left(sender) == []


def _reset_token() -> str:
    from dhu_core import password_reset

    password_reset.request_link(email=_user("demo-owner").email, client="test-i18n-account")
    with db.read_scope() as session:
        message = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "password-reset")
            .order_by(OutboxMessage.id.desc())
        ).first()
    return message.context["token"]


def test_setting_a_new_password_in_german(app_data):
    open_app()
    forged = in_german("reset_password")
    assert [title.value for title in forged.title] == ["Neues Passwort festlegen"]
    assert forged.info[-1].value == "Öffnen Sie den vollständigen Link aus der E-Mail."
    forged.query_params["token"] = "1.2.3"
    _run(forged)
    assert [error.value for error in forged.error] == [
        "Dieser Link ist ungültig; fordern Sie einen neuen an"
    ]
    assert "Neuen Link anfordern" in [link.proto.label for link in forged.get("page_link")]
    assert english_left(forged) == []

    at = in_german("reset_password")
    at.query_params["token"] = _reset_token()
    run_in_german(at)
    assert [box.label for box in at.text_input] == ["Neues Passwort", "Neues Passwort wiederholen"]
    assert english_left(at) == []
    at.text_input(key="rp_new").input(PASSWORD)
    at.text_input(key="rp_again").input(PASSWORD + " twice")
    _click(at, "Neues Passwort festlegen")
    assert "Die beiden Passwörter stimmen nicht überein" in [error.value for error in at.error]
    assert english_left(at) == []


def test_unsubscribing_in_german(app_data):
    open_app()
    with db.session_scope() as session:
        (message,) = notifications.enqueue(
            session,
            kind="practice-approved",
            to=[_user("demo-owner")],
            context={"practice_id": 1, "practice_title": "Telemonitoring"},
        )
    at = in_german("unsubscribe")
    assert [title.value for title in at.title] == ["Abmelden"]
    at.query_params["token"] = notifications.unsubscribe_token(message)
    run_in_german(at)
    assert at.markdown[-1].value.startswith("Diese E-Mails an **")
    assert "- Eine Praktik Ihrer Organisation wurde veröffentlicht" in at.markdown[-1].value
    assert english_left(at) == []
    _click(at, "Abmelden")
    assert at.success[0].value.startswith("Erledigt: Sie erhalten diese E-Mails nicht mehr.")
    assert english_left(at) == []

    forged = in_german("unsubscribe")
    forged.query_params["token"] = "1.2.3"
    _run(forged)
    assert [error.value for error in forged.error] == [
        "Dieser Link ist ungültig; fordern Sie einen neuen an"
    ]
    assert english_left(forged) == []


def test_the_refusals_stay_english_outside_a_page(app_data):
    """The services answer in the language of the thread: a page's, or English for an API
    client or a job, whatever a page drew before."""
    open_app()
    owner = _user("demo-owner")
    for language, refusal in [
        ("de", "Ihr Konto handelt bereits für eine Organisation"),
        ("en", "your account acts for an organisation already"),
    ]:
        with (
            i18n.language(language),
            pytest.raises(FieldError) as refused,
            db.session_scope() as session,
        ):
            organisations.request_to_join(
                session=session, account=owner, organisation_id=owner.organisation_id
            )
        assert str(refused.value) == refusal
    with pytest.raises(tokens.InvalidToken, match="^this link is not valid; ask for a new one$"):
        tokens.read("invitation", "1.2.3")


def test_a_refused_sign_in_in_german(app_data):
    at = in_german("sign_in")
    at.text_input[0].input("demo-owner")
    at.text_input[1].input("not the password of this account")
    _click(at, "Anmelden")
    assert [error.value for error in at.error] == ["Benutzername oder Passwort ist nicht richtig."]
    assert english_left(at) == []


def test_a_weak_password_and_a_missing_organisation_in_german(app_data):
    at = in_german("sign_up")
    at.text_input(key="su_username").input("nora-de")
    at.text_input(key="su_display_name").input("Nora Owner")
    at.text_input(key="su_email").input("nora.sign-up@example.org")
    at.text_input(key="su_password").input("short")
    at.text_input(key="su_password_again").input("short")
    _click(at, "Konto erstellen")
    errors = [error.value for error in at.error]
    assert "Passwort: Verwenden Sie mindestens 12 Zeichen" in errors
    assert (
        "Organisation, der Sie beitreten: Wählen Sie Ihre Organisation aus der Liste oder "
        "nennen Sie eine neue"
    ) in errors
    assert english_left(at) == []
