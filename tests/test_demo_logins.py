"""Demo passwords: drawn at seeding, printed, kept privately, shown only on the server's machine."""

import stat

import pytest
import streamlit
from alembic import command
from click.testing import CliRunner
from sqlalchemy import update
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dhu_core import accounts, db, demo, demo_logins
from dhu_core.bootstrap import prepare_database
from dhu_core.cli import main
from dhu_core.config import Settings, UnsafeSetting, get_settings
from dhu_core.models import AppState, User
from tests.apptest import APP, password_of
from tests.conftest import _pg_database
from tests.old_schema import insert_as_stored

PRACTICES = 40
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 (what the refusal is about)


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_hand_out_keeps_the_embedded_databases_passwords_private(tmp_path):
    settings = Settings(dhu_data_dir=tmp_path, database_url=None)
    login = demo_logins.DemoLogin("demo-admin", "admin", "abcde-fghjk-mnpqr", "$2b$hash")
    printed = []
    demo_logins.hand_out(
        [login], database_url=settings.sqlalchemy_url, settings=settings, echo=printed.append
    )
    assert "demo-admin" in printed[0] and "abcde-fghjk-mnpqr" in printed[0]
    assert stat.S_IMODE(demo_logins.path(settings).stat().st_mode) == 0o600
    assert demo_logins.read(settings) == [login]


def test_passwords_of_another_database_are_printed_but_not_kept(tmp_path):
    settings = Settings(dhu_data_dir=tmp_path, database_url=None)
    login = demo_logins.DemoLogin("demo-admin", "admin", "abcde-fghjk-mnpqr", "$2b$hash")
    printed = []
    demo_logins.hand_out(
        [login], database_url="postgresql+psycopg://db/dhu", settings=settings, echo=printed.append
    )
    assert "abcde-fghjk-mnpqr" in printed[0] and "not stored" in printed[0]
    assert not demo_logins.path(settings).exists()


def test_the_first_start_prints_and_keeps_passwords_that_work(embedded_app, capsys):
    settings = get_settings()
    prepare_database(settings)
    printed = capsys.readouterr().err
    logins = demo_logins.shown(settings=settings)
    assert [login.username for login in logins] == list(demo.DEMO_USERNAMES)
    for login in logins:
        assert f"{login.username}" in printed and login.password in printed
        user = accounts.authenticate(username=login.username, password=login.password, client="t")
        assert user.role == login.role


def test_only_logins_that_still_work_are_shown(embedded_app):
    settings = get_settings()
    prepare_database(settings)
    with db.session_scope() as session:
        users = {u.username: u for u in session.exec(select(User))}
        admin = users["demo-admin"]
        accounts.set_disabled(
            session=session, actor=admin, user_id=users["demo-owner2"].id, disabled=True
        )
        accounts.change_password(
            session=session,
            actor=users["demo-owner"],
            current=password_of("demo-owner"),
            new="Kadri walks to the clinic",
        )
    shown = [login.username for login in demo_logins.shown(settings=settings)]
    assert shown == ["demo-coordinator", "demo-admin", "demo-evaluator", "demo-evaluator2"]


def test_seeding_with_the_command_prints_the_passwords(engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", _url(engine))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["demo", "--practices", str(PRACTICES)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    with db.session_scope(engine) as session:
        hashes = {u.username: u.password_hash for u in session.exec(select(User))}
    lines = [line.split() for line in result.output.splitlines() if line.startswith("  demo-")]
    assert {words[0] for words in lines} == set(demo.DEMO_USERNAMES)
    for username, password, _ in lines:
        assert accounts.check_password(password, hashes[username])


# --- refusing to serve demo accounts to the network ------------------------------------------


@pytest.mark.parametrize("address", ["127.0.0.1", "localhost", "::1", "127.0.1.1"])
def test_demo_accounts_may_be_served_on_this_machine(address):
    demo_logins.check_exposure(server_address=address, enabled=["demo-admin"], settings=Settings())


@pytest.mark.parametrize(
    "address", [None, "", ALL_INTERFACES, "::", "192.0.2.10", "unix:///run/dhu"]
)
def test_demo_accounts_on_a_network_address_are_refused_unless_allowed(address, monkeypatch):
    with pytest.raises(UnsafeSetting, match="DHU_ALLOW_DEMO_ACCOUNTS_ON_NETWORK=yes"):
        demo_logins.check_exposure(
            server_address=address, enabled=["demo-admin"], settings=Settings()
        )
    demo_logins.check_exposure(server_address=address, enabled=[], settings=Settings())
    monkeypatch.setenv("DHU_ALLOW_DEMO_ACCOUNTS_ON_NETWORK", "yes")
    demo_logins.check_exposure(server_address=address, enabled=["demo-admin"], settings=Settings())


@pytest.fixture
def served_on(monkeypatch):
    """Set Streamlit's server.address for the AppTest runs of a test, as `--server.address`."""
    before = streamlit.config.get_option("server.address")

    def serve(address):
        streamlit.config.set_option("server.address", address)

    yield serve
    streamlit.config.set_option("server.address", before)


def test_every_page_stops_on_a_network_address_while_demo_accounts_are_enabled(
    embedded_app, served_on, monkeypatch
):
    served_on(ALL_INTERFACES)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert len(at.error) == 1 and "DHU_ALLOW_DEMO_ACCOUNTS_ON_NETWORK" in at.error[0].value
    assert not at.metric and not at.title

    monkeypatch.setenv("DHU_ALLOW_DEMO_ACCOUNTS_ON_NETWORK", "yes")
    get_settings.cache_clear()
    assert not AppTest.from_file(APP, default_timeout=60).run().error


def test_disabling_the_demo_accounts_lets_the_server_listen_on_the_network(embedded_app, served_on):
    prepare_database(get_settings())
    with db.session_scope() as session:
        for user in session.exec(select(User).where(User.username.in_(demo.DEMO_USERNAMES))):
            user.disabled = True
            session.add(user)
    served_on(ALL_INTERFACES)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.error and not at.exception


# --- who sees them on the sign-in page ---------------------------------------------------


class _Handshake:
    """What Streamlit's WebSocket handler records of a browser's connection."""

    def __init__(self, remote_ip: str, headers: list[tuple[str, str]]) -> None:
        self.remote_ip = remote_ip
        self.headers = headers
        self.cookies = {}


def _sign_in_page(monkeypatch, remote_ip: str, headers: list[tuple[str, str]]) -> AppTest:
    handshake = _Handshake(remote_ip, [("Host", "localhost:8501"), *headers])
    monkeypatch.setattr("streamlit.runtime.context._get_client_context", lambda: handshake)
    at = AppTest.from_file(APP, default_timeout=60).run()
    return at.switch_page("app_pages/sign_in.py").run()


def test_the_sign_in_page_shows_demo_passwords_to_a_browser_on_this_machine(
    embedded_app, monkeypatch
):
    at = _sign_in_page(monkeypatch, "127.0.0.1", [])
    shown = at.table[0].value
    assert list(shown["username"]) == list(demo.DEMO_USERNAMES)
    assert list(shown["password"]) == [password_of(name) for name in demo.DEMO_USERNAMES]


@pytest.mark.parametrize(
    ("remote_ip", "headers"),
    [
        ("198.51.100.7", []),
        ("10.0.0.5", []),
        ("127.0.0.1", [("X-Forwarded-For", "198.51.100.7")]),
        ("127.0.0.1", [("X-Forwarded-For", "127.0.0.1")]),
        ("127.0.0.1", [("X-Real-IP", "198.51.100.7")]),
        ("127.0.0.1", [("Forwarded", "for=198.51.100.7")]),
    ],
)
def test_the_sign_in_page_hides_them_from_anyone_else(
    embedded_app, monkeypatch, remote_ip, headers
):
    at = _sign_in_page(monkeypatch, remote_ip, headers)
    assert not at.exception
    assert not at.table
    text = " ".join(c.value for c in at.caption)
    assert "printed on the server's console" in text
    for name in demo.DEMO_USERNAMES:
        assert password_of(name) not in str(at)


# --- databases seeded by earlier versions ----------------------------------------------------

OLD = {"demo-admin": "Admin-demo-2026!", "demo-owner": "Owner-demo-2026!"}


def _database_at_0006(engine, *, is_demo: bool, passwords: dict[str, str]) -> None:
    """A database as earlier versions left it: accounts with the passwords they published."""
    command.upgrade(db.alembic_config(engine), "0006")
    # Written as that schema was, without today's change log (migration 0015 creates it).
    with db.session_scope(engine, bookkeeping=True) as session:
        session.execute(update(AppState).values(demo=is_demo))
        for username, password in passwords.items():
            account = User(
                username=username,
                display_name=username,
                email=f"{username}@example.org",
                role="admin" if "admin" in username else "owner",
                password_hash=accounts.hash_password(password),
            )
            insert_as_stored(session.connection(), account)


def _hashes(engine) -> dict[str, User]:
    with db.session_scope(engine) as session:
        return {user.username: user for user in session.exec(select(User))}


def test_the_upgrade_replaces_published_demo_passwords_of_a_demo_database(embedded_app, capsys):
    settings = get_settings()
    engine = db.get_engine(settings.sqlalchemy_url)
    # Alice copied a published password: in a demo database every account is checked.
    passwords = {**OLD, "alice": OLD["demo-admin"], "bob": "Kadri walks to the clinic"}
    _database_at_0006(engine, is_demo=True, passwords=passwords)

    db.upgrade(engine)

    printed = capsys.readouterr().err
    kept = {login.username: login for login in demo_logins.read(settings)}
    assert set(kept) == {"demo-admin", "demo-owner", "alice"}
    users = _hashes(engine)
    for username, login in kept.items():
        assert login.password in printed
        assert accounts.check_password(login.password, users[username].password_hash)
        assert not accounts.check_password(passwords[username], users[username].password_hash)
        assert users[username].sessions_valid_after is not None  # old sessions end
    assert accounts.check_password(passwords["bob"], users["bob"].password_hash)
    assert users["bob"].sessions_valid_after is None
    assert stat.S_IMODE(demo_logins.path(settings).stat().st_mode) == 0o600


def test_the_upgrade_replaces_them_in_a_shared_database_and_prints_them(
    tmp_path, monkeypatch, capsys
):
    url = next(postgres := _pg_database())
    monkeypatch.setenv("DHU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    engine = db.get_engine(url)
    try:
        _database_at_0006(engine, is_demo=False, passwords={**OLD, "carol": "Tartu rain on Tues"})
        db.upgrade(engine)
        users = _hashes(engine)
    finally:
        engine.dispose()
        postgres.close()
        get_settings.cache_clear()
    printed = capsys.readouterr().err
    for username, old in OLD.items():
        assert not accounts.check_password(old, users[username].password_hash)
        new = printed.split(f"  {username} ")[1].split()[0]
        assert accounts.check_password(new, users[username].password_hash)
    assert accounts.check_password("Tartu rain on Tues", users["carol"].password_hash)
    assert not demo_logins.path(get_settings()).exists()
