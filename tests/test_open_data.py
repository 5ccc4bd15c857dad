"""Atom feeds, open-data files and the newsletter: listed data only, no personal data, valid
Atom, user text escaped (SQLite and PostgreSQL)."""

import csv
import io
import json
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from defusedxml import ElementTree as defused
from sqlalchemy import update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from dhu_core import accounts, db, knowledge, practices
from dhu_core.accounts import PermissionDenied
from dhu_core.config import DATA_DIR, get_settings
from dhu_core.models import (
    DigestInput,
    Organisation,
    Practice,
    PracticeCreate,
    PracticeDraft,
    SpotlightInput,
    utcnow,
)
from dhu_core.open_data import download, newsletter
from dhu_core.open_data.routes import routes
from dhu_core.spreadsheet import restore_text

try:
    from lxml import etree as lxml
except ImportError:  # the strict parse and the checks of `_atom` stand alone
    lxml = None

ATOM = "{http://www.w3.org/2005/Atom}"
PUBLIC_URL = "https://dhu.example.org"
#: A title that breaks XML, HTML and CDATA sections if it is not escaped.
HOSTILE = 'Tele <script>alert("x")</script> & care ]]> <b>now</b>'
#: Control characters XML 1.0 cannot hold (PostgreSQL holds all but NUL), stored by an older
#: import.
CONTROL = "\x01\x08\x0b\x1b"
FEEDS = ("practices", "digests", "spotlights")
DOWNLOADS = ("practices.csv", "practices.json", "data-dictionary.csv", "data-dictionary.json")


@pytest.fixture
def client(engine, tmp_path, monkeypatch) -> TestClient:
    """The open-data routes on the test database, with their files in a temporary folder."""
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("DHU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DHU_PUBLIC_URL", PUBLIC_URL)
    get_settings.cache_clear()
    yield TestClient(Starlette(routes=routes()))
    get_settings.cache_clear()


@pytest.fixture
def world(engine) -> dict:
    """Two listed practices (one with a hostile title and control characters), a draft, a
    submitted, a rejected and an archived one; a spotlight and a digest, each also in a hidden
    state."""
    with db.session_scope(engine) as session:
        clinic = Organisation(name="Tallinn Clinic", country="EE")
        session.add(clinic)
        session.flush()
        owner = accounts.create_user(
            session=session,
            username="owner-anna",
            password="Tartu rain on Tuesday",
            role="owner",
            email="anna.private@mail.example.com",
            display_name="Anna Private",
            organisation_id=clinic.id,
        )
        coordinator = accounts.create_user(
            session=session,
            username="coord-carl",
            password="Tartu rain on Tuesday",
            role="coordinator",
            email="carl.private@mail.example.com",
            display_name="Carl Private",
        )
    people = {"owner": owner, "coordinator": coordinator}

    def submit(title: str, **changes):
        data = PracticeCreate(
            title=title,
            summary=changes.pop("summary", "Patients send their readings; nurses call back."),
            practice_type="service",
            maturity=4,
            countries=changes.pop("countries", ["EE"]),
            health_domains=["cardiovascular"],
            contact_email="secret-contact@mail.example.com",
            description="How it works, step by step.",
            evidence="Fewer admissions in a two-year trial.",
            **changes,
        )
        with db.session_scope(engine) as session:
            return practices.submit_practice(session=session, data=data, actor=owner).id

    def approve(practice_id: int) -> int:
        with db.session_scope(engine) as session:
            practices.approve_practice(session=session, practice_id=practice_id, actor=coordinator)
        return practice_id

    listed = approve(submit("Heart telemonitoring"))
    hostile = approve(
        submit(HOSTILE, countries=["FI"], summary='=HYPERLINK("https://evil.example") & more')
    )
    archived = approve(submit("Archived teledermatology"))
    rejected = submit("Rejected hospital app")
    submit("Submitted patient portal")  # waiting for review
    with db.session_scope(engine) as session:
        practices.save_draft(
            session=session, data=PracticeDraft(title="Draft symptom checker"), actor=owner
        )
        practices.reject_practice(
            session=session, practice_id=rejected, actor=coordinator, reason="Other"
        )
        for practice_id in (listed, archived):
            knowledge.feature_practice(
                session=session,
                actor=coordinator,
                data=SpotlightInput(
                    practice_id=practice_id,
                    analysis=f"Why **{practice_id}** works: routine use in three regions.",
                ),
            )
        digest = knowledge.save_digest(
            session=session,
            actor=coordinator,
            data=DigestInput(
                title="EHDS <explained> & more",
                topics=["ehds"],
                body="The European Health Data Space, <script>alert(1)</script> explained.",
                practice_ids=[listed],
            ),
        )
        knowledge.publish_digest(session=session, actor=coordinator, digest_id=digest.id)
        knowledge.save_digest(
            session=session,
            actor=coordinator,
            data=DigestInput(
                title="Unpublished digest draft",
                topics=["ehds"],
                body="Not ready for anybody to read yet, still a draft.",
            ),
        )
        # What validation refuses today, an older import may have stored.
        session.execute(
            update(Practice).where(Practice.id == hostile).values(title=HOSTILE + CONTROL)
        )
        session.execute(update(Practice).where(Practice.id == archived).values(status="archived"))
    return {**people, "listed": listed, "hostile": hostile, "digest": digest.id}


HIDDEN = (
    "Draft symptom checker",
    "Submitted patient portal",
    "Rejected hospital app",
    "Archived teledermatology",
)
PERSONAL = ("secret-contact", "anna.private", "Anna Private", "carl.private", "Carl Private")


def _everything(client: TestClient) -> dict[str, str]:
    bodies = {f: client.get(f"/api/v1/feeds/{f}.atom") for f in FEEDS}
    bodies |= {f: client.get(f"/api/v1/open-data/{f}") for f in DOWNLOADS}
    for name, response in bodies.items():
        assert response.status_code == 200, (name, response.text)
    return {name: response.text for name, response in bodies.items()}


def test_hidden_practices_and_personal_data_appear_in_no_feed_or_download(client, world):
    bodies = _everything(client)

    for name, body in bodies.items():
        for text in HIDDEN + PERSONAL + ("Unpublished digest draft", "contact_email"):
            assert text not in body, (name, text)
        assert "@" not in body, name  # no e-mail address of any kind
    assert "Heart telemonitoring" in bodies["practices"]
    assert "Heart telemonitoring" in bodies["spotlights"]
    assert "Heart telemonitoring" in bodies["practices.csv"]
    assert "EHDS" in bodies["digests"]
    exported = json.loads(bodies["practices.json"])["practices"]
    assert [p["id"] for p in exported] == [world["listed"], world["hostile"]]


def _atom(body: bytes) -> ET.Element:
    """The feed parsed strictly, checked for what RFC 4287 requires, and validated against its
    RELAX NG grammar where lxml is installed (the test extra installs it)."""
    root = defused.fromstring(body)
    assert root.tag == f"{ATOM}feed"
    for element in (root, *root.iter(f"{ATOM}entry")):
        for required in ("id", "title", "updated"):
            assert len(element.findall(f"{ATOM}{required}")) == 1, (element.tag, required)
        for moment in (*element.findall(f"{ATOM}updated"), *element.findall(f"{ATOM}published")):
            datetime.strptime(moment.text, "%Y-%m-%dT%H:%M:%SZ")  # RFC 3339, in UTC
    for entry in root.iter(f"{ATOM}entry"):
        assert entry.find(f"{ATOM}link[@rel='alternate']") is not None  # it has no src content
    # A feed without an author needs one in every entry (the RFC's Schematron rule).
    assert root.find(f"{ATOM}author/{ATOM}name") is not None
    if lxml is not None:
        schema = lxml.RelaxNG(lxml.parse(str(DATA_DIR / "atom.rng")))
        assert schema.validate(lxml.fromstring(body)), schema.error_log
    return root


@pytest.mark.skipif(lxml is None, reason="lxml (test extra) validates with RELAX NG")
def test_the_atom_schema_tells_a_broken_feed():
    schema = lxml.RelaxNG(lxml.parse(str(DATA_DIR / "atom.rng")))
    feed = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>t</title>{}'
        "<author><name>n</name></author></feed>"
    )
    assert schema.validate(lxml.fromstring(feed.format("<updated>2026-11-30T10:00:00Z</updated>")))
    assert not schema.validate(lxml.fromstring(feed.format("")))
    assert not schema.validate(lxml.fromstring(feed.format("<updated>yesterday</updated>")))


def test_every_feed_is_valid_atom_with_links_to_the_app(client, world):
    for name in FEEDS:
        response = client.get(f"/api/v1/feeds/{name}.atom")
        assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
        assert 'rel="license"' in response.headers["link"]
        root = _atom(response.content)
        links = [e.find(f"{ATOM}link").get("href") for e in root.iter(f"{ATOM}entry")]
        ids = [e.findtext(f"{ATOM}id") for e in root.iter(f"{ATOM}entry")]
        assert len(set(ids)) == len(ids) > 0, name
        if name == "digests":
            assert links == [f"{PUBLIC_URL}/knowledge?digest={world['digest']}"]
        else:
            assert all(link.startswith(f"{PUBLIC_URL}/radar?practice=") for link in links)
    [spotlight] = _atom(client.get("/api/v1/feeds/spotlights.atom").content).iter(f"{ATOM}entry")
    assert "<strong>" in spotlight.findtext(f"{ATOM}content")  # the analysis, rendered
    assert spotlight.findtext(f"{ATOM}id").endswith("#spotlight")


def test_an_empty_feed_is_valid_with_a_fixed_time(client, world):
    root = _atom(client.get("/api/v1/feeds/practices.atom?country=PT").content)
    assert root.findall(f"{ATOM}entry") == []
    assert root.findtext(f"{ATOM}updated") == "1970-01-01T00:00:00Z"


def _rows(data: bytes) -> list[dict[str, str]]:
    """The rows of a CSV file the platform wrote (UTF-8 with a byte-order mark)."""
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_user_text_round_trips_as_text(client, world):
    response = client.get("/api/v1/feeds/practices.atom")
    assert b"<script>" not in response.content
    root = _atom(response.content)
    titles = [e.findtext(f"{ATOM}title") for e in root.iter(f"{ATOM}entry")]
    assert HOSTILE in titles  # the control characters removed, all else as stored
    digest = _atom(client.get("/api/v1/feeds/digests.atom").content).find(f"{ATOM}entry")
    assert digest.findtext(f"{ATOM}title") == "EHDS <explained> & more"
    assert "<script>" not in digest.findtext(f"{ATOM}content")  # sanitised Markdown

    rows = _rows(client.get("/api/v1/open-data/practices.csv").content)
    hostile = next(row for row in rows if row["id"] == str(world["hostile"]))
    assert hostile["summary"].startswith("'=HYPERLINK")  # a spreadsheet shows it as text
    assert restore_text(hostile["summary"]) == '=HYPERLINK("https://evil.example") & more'
    assert hostile["title"] == HOSTILE + CONTROL


def test_the_practices_feed_takes_the_catalogue_filters_newest_first(client, world):
    def titles(search: str) -> list[str]:
        root = _atom(client.get(f"/api/v1/feeds/practices.atom{search}").content)
        return [e.findtext(f"{ATOM}title") for e in root.iter(f"{ATOM}entry")]

    assert titles("") == [HOSTILE, "Heart telemonitoring"]
    assert titles("?country=EE") == ["Heart telemonitoring"]
    assert titles("?q=heart+telemonitor") == ["Heart telemonitoring"]
    assert titles("?country=fi&domain=cardiovascular&sort=title&page=3") == [HOSTILE]
    root = _atom(client.get("/api/v1/feeds/practices.atom?country=EE").content)
    assert root.findtext(f"{ATOM}id") == f"{PUBLIC_URL}/api/v1/feeds/practices.atom?country=EE"

    for search, field in (("?country=ZZ", "country"), ("?colour=red", "colour")):
        response = client.get(f"/api/v1/feeds/practices.atom{search}")
        assert response.status_code == 400
        assert response.json()["error"]["field"] == field
    assert client.get("/api/v1/feeds/digests.atom?x=1").status_code == 400


def test_the_open_data_files_carry_licence_labels_and_dictionary(client, world, monkeypatch):
    monkeypatch.setenv("DHU_DATA_LICENCE", "Licence ouverte 2.0 – Étalab")
    monkeypatch.setenv("DHU_DATA_LICENCE_URL", "https://www.etalab.gouv.fr/licence-ouverte")
    get_settings.cache_clear()

    response = client.get("/api/v1/open-data/practices.csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == "attachment; filename=dhu-practices.csv"
    assert response.headers["link"] == (
        '<https://www.etalab.gouv.fr/licence-ouverte>; rel="license"; '
        "title*=UTF-8''Licence%20ouverte%202.0%20%E2%80%93%20%C3%89talab"
    )
    rows = _rows(response.content)
    assert tuple(rows[0]) == download.COLUMNS
    heart = rows[0]
    assert heart["url"] == f"{PUBLIC_URL}/radar?practice={world['listed']}"
    assert (heart["practice_type"], heart["practice_type_label"]) == (
        "service",
        "Complex solution or service",
    )
    assert (heart["maturity"], heart["maturity_label"]) == ("4", "Scaled")
    assert heart["health_domain_labels"] == "Cardiovascular"
    assert heart["evidence"] == "Fewer admissions in a two-year trial."

    document = client.get("/api/v1/open-data/practices.json").json()
    assert document["licence"] == {
        "name": "Licence ouverte 2.0 – Étalab",
        "url": "https://www.etalab.gouv.fr/licence-ouverte",
    }
    assert document["source"] == f"{PUBLIC_URL}/radar"
    assert [c["column"] for c in document["data_dictionary"]] == list(download.COLUMNS)
    assert set(document["practices"][0]) == set(download.COLUMNS)
    assert document["practices"][0]["health_domains"] == ["cardiovascular"]

    dictionary = client.get("/api/v1/open-data/data-dictionary.csv").content.decode("utf-8-sig")
    assert [r["column"] for r in csv.DictReader(io.StringIO(dictionary))] == list(download.COLUMNS)
    assert (
        client.get("/api/v1/open-data/data-dictionary.json").json() == (document["data_dictionary"])
    )


def test_a_file_is_written_once_per_data_version(client, world, engine, monkeypatch):
    written = []
    write = download._write
    monkeypatch.setattr(
        download, "_write", lambda path, *a, **k: (written.append(path.name), write(path, *a, **k))
    )
    monkeypatch.setattr(download, "_STARTED", {})
    with ThreadPoolExecutor(max_workers=3) as pool:  # three readers at once: one file
        answers = list(pool.map(client.get, ["/api/v1/open-data/practices.csv"] * 3))
    first = answers[0].content
    assert [a.content for a in answers] == [first] * 3
    assert client.get("/api/v1/open-data/practices.csv").content == first
    assert len(written) == 1

    with db.session_scope(engine) as session:
        session.execute(
            update(Practice).where(Practice.id == world["listed"]).values(title="Renamed")
        )
        db.bump_data_version(session)
    # The change is not waited for: the last file is sent while the new one is written.
    assert client.get("/api/v1/open-data/practices.csv").content == first
    _wait_for_writers()
    changed = client.get("/api/v1/open-data/practices.csv").text
    assert "Renamed" in changed
    assert len(written) == 2
    folder = get_settings().dhu_data_dir / "open-data"
    assert sorted(p.name for p in folder.iterdir()) == sorted(written)  # no temporary left


def test_a_file_written_by_another_request_meanwhile_starts_no_refresh(
    client, world, engine, monkeypatch
):
    """A request that misses the file of this version, and finds it written by another request
    an instant later, starts no new file: that would hold back the one after a change."""
    monkeypatch.setattr(download, "_STARTED", {})
    client.get("/api/v1/open-data/practices.csv")
    version = db.data_version(engine, scopes=download.SCOPES)
    newest = download._Snapshot.newest
    folder = get_settings().dhu_data_dir / "open-data"
    current = next(folder.glob(f"*-{version}.csv"))
    moved = current.with_name(current.name + ".hidden")
    current.rename(moved)  # as if another request were still writing it

    def written_meanwhile(snapshot):
        if moved.exists():
            moved.rename(current)
        return newest(snapshot)

    monkeypatch.setattr(download._Snapshot, "newest", written_meanwhile)
    assert client.get("/api/v1/open-data/practices.csv").status_code == 200
    assert download._STARTED == {}

    with db.session_scope(engine) as session:
        session.execute(
            update(Practice).where(Practice.id == world["listed"]).values(title="Renamed")
        )
        db.bump_data_version(session)
    client.get("/api/v1/open-data/practices.csv")
    _wait_for_writers()
    assert "Renamed" in client.get("/api/v1/open-data/practices.csv").text


def test_a_burst_of_changes_starts_one_new_file_a_minute(client, world, engine, monkeypatch):
    written = []
    write = download._write
    monkeypatch.setattr(
        download, "_write", lambda path, *a, **k: (written.append(path.name), write(path, *a, **k))
    )
    monkeypatch.setattr(download, "_STARTED", {})
    client.get("/api/v1/open-data/practices.json")
    for _ in range(3):
        with db.session_scope(engine) as session:
            db.bump_data_version(session)
        client.get("/api/v1/open-data/practices.json")
        _wait_for_writers()
    assert len(written) == 2


def test_the_host_a_request_names_never_goes_into_a_file(client, world, monkeypatch):
    monkeypatch.delenv("DHU_PUBLIC_URL")
    get_settings.cache_clear()
    answer = client.get("/api/v1/open-data/practices.csv", headers={"Host": "attacker-host.test"})
    assert "attacker-host" not in answer.text
    assert f"/radar?practice={world['listed']}" in answer.text
    other = client.get("/api/v1/open-data/practices.csv", headers={"Host": "other.example"})
    assert other.content == answer.content  # the same file, not one per Host


def _wait_for_writers() -> None:
    for lock in download._WRITING.values():
        with lock:
            pass


# --- the newsletter ------------------------------------------------------------------------


def test_the_newsletter_reports_the_period_escaped_with_absolute_links(engine, world):
    today = utcnow().date()
    letter = newsletter.compose(
        actor=world["coordinator"], since=today, until=today, engine=engine, base_url=PUBLIC_URL
    )

    assert letter.counts == {"practices": 2, "digests": 1, "spotlights": 1}
    for text in (letter.html, letter.markdown):
        assert "<script>" not in text
        for hidden in (*HIDDEN, *PERSONAL, "Unpublished digest draft"):
            assert hidden not in text
        assert f"{PUBLIC_URL}/radar?practice={world['listed']}" in text
        assert f"{PUBLIC_URL}/knowledge?digest={world['digest']}" in text
    assert "Tele &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; care ]]&gt;" in letter.html
    assert 'Tele \\<script\\>alert\\(\\"x\\"\\)' in letter.markdown
    assert 'style="' in letter.html and "<style" not in letter.html  # inline styles only

    earlier = newsletter.compose(
        actor=world["coordinator"],
        since=today - timedelta(days=30),
        until=today - timedelta(days=1),
        engine=engine,
    )
    assert earlier.counts == {"practices": 0, "digests": 0, "spotlights": 0}
    assert "Nothing new was published in this period." in earlier.markdown


def test_a_member_may_not_compose_the_newsletter(engine, world):
    today = utcnow().date()
    with pytest.raises(PermissionDenied):
        newsletter.compose(actor=world["owner"], since=today, until=today, engine=engine)
