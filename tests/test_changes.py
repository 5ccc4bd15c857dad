"""Scoped change tracking: a write changes the versions of what it changed only (both databases).

A draft, a quick capture or a message leaves the catalogue's version, and so its caches and
facet index, as they are; a publication changes it, and another process sees it on its next
read.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, insert, text, update
from sqlmodel import SQLModel, select

from dhu_core import (
    accounts,
    catalogue,
    changes,
    db,
    exchange,
    facet_index,
    live,
    practices,
    search_index,
)
from dhu_core.accounts import visitor
from dhu_core.catalogue import CatalogueQuery
from dhu_core.models import (
    AuditEvent,
    CaptureCreate,
    DataChange,
    InterestCreate,
    Organisation,
    Practice,
    PracticeCreate,
    PracticeDraft,
    PracticeTag,
)

ROOT = Path(__file__).resolve().parent.parent
COMPLETE = dict(
    title="Asthma telecoaching",
    summary="Nurses coach patients with asthma by video after each hospital stay.",
    practice_type="service",
    maturity=3,
    countries=["EE"],
    health_domains=["respiratory"],
)


@pytest.fixture
def team(engine):
    with db.session_scope(engine) as session:
        organisation = Organisation(name="Tartu Clinic", country="EE")
        session.add(organisation)
        session.flush()

        def make(name, role):
            return accounts.create_user(
                session=session,
                username=name,
                password="Long-enough-pw-1",
                role=role,
                email=f"{name}@example.org",
                organisation_id=organisation.id,
            )

        return {"owner": make("owner", "owner"), "coordinator": make("coord", "coordinator")}


def catalogue_version(engine) -> int:
    return db.data_version(engine, scopes=[changes.CATALOGUE])


def submitted(engine, team) -> int:
    with db.session_scope(engine) as session:
        practice = practices.submit_practice(
            session=session, data=PracticeCreate(**COMPLETE), actor=team["owner"]
        )
        return practice.id


def publish(engine, team, practice_id) -> None:
    with db.session_scope(engine) as session:
        practices.approve_practice(
            session=session, practice_id=practice_id, actor=team["coordinator"]
        )


def test_a_draft_leaves_the_catalogue_as_it_is(engine, team):
    before, drafts = catalogue_version(engine), db.data_version(engine, scopes=[changes.DRAFTS])
    with db.session_scope(engine) as session:
        draft = practices.save_draft(
            session=session, data=PracticeDraft(title="Half-typed idea"), actor=team["owner"]
        )
    with db.session_scope(engine) as session:
        practices.save_draft(
            session=session,
            data=PracticeDraft(title="Half-typed idea", countries=["EE"], standards=["fhir"]),
            actor=team["owner"],
            practice_id=draft.id,
        )
    submitted(engine, team)
    assert catalogue_version(engine) == before
    assert db.data_version(engine, scopes=[changes.DRAFTS]) > drafts


def test_a_quick_capture_leaves_the_catalogue_as_it_is(engine):
    before = catalogue_version(engine)
    with db.session_scope(engine) as session:
        live.capture_practice(
            session=session,
            data=CaptureCreate(
                title="Asthma coach app", country="EE", practice_type="app", contact_email="a@b.org"
            ),
            actor=visitor(),
            client="192.0.2.1",
        )
    assert catalogue_version(engine) == before


def test_a_message_to_an_inbox_leaves_the_catalogue_as_it_is(engine, team):
    practice_id = submitted(engine, team)
    publish(engine, team, practice_id)
    with db.session_scope(engine) as session:
        stranger_org = Organisation(name="Riga Hospital", country="LV")
        session.add(stranger_org)
        session.flush()
        stranger = accounts.create_user(
            session=session,
            username="stranger",
            password="Long-enough-pw-1",
            role="owner",
            email="stranger@example.org",
            organisation_id=stranger_org.id,
        )
    before, inbox = catalogue_version(engine), db.data_version(engine, scopes=[changes.INBOX])
    with db.session_scope(engine) as session:
        exchange.express_interest(
            session=session,
            actor=stranger,
            data=InterestCreate(practice_id=practice_id, text="We would like to adopt it."),
        )
    assert catalogue_version(engine) == before
    assert db.data_version(engine, scopes=[changes.INBOX]) > inbox


def test_a_sign_in_leaves_the_accounts_as_they_are(engine, team):
    before = db.data_version(engine, scopes=[changes.ACCOUNTS])
    accounts.authenticate(
        username="owner", password="Long-enough-pw-1", client="192.0.2.1", engine=engine
    )
    assert db.data_version(engine, scopes=[changes.ACCOUNTS]) == before
    with db.session_scope(engine) as session:
        session.get(type(team["owner"]), team["owner"].id).display_name = "Renamed"
    assert db.data_version(engine, scopes=[changes.ACCOUNTS]) > before


def test_publishing_a_practice_changes_the_catalogue(engine, team):
    practice_id = submitted(engine, team)
    before = catalogue_version(engine)
    publish(engine, team, practice_id)
    published = catalogue_version(engine)
    assert published > before
    with db.session_scope(engine) as session:  # a tag of a published practice
        session.add(PracticeTag(practice_id=practice_id, kind="standard", code="fhir"))
    assert catalogue_version(engine) > published


def test_a_bulk_statement_on_practices_changes_the_catalogue(engine, team):
    practice_id = submitted(engine, team)
    before = catalogue_version(engine)
    with db.session_scope(engine) as session:
        session.execute(update(Practice).where(Practice.id == practice_id).values(maturity=4))
    assert catalogue_version(engine) > before


def kept_facet_index(engine) -> facet_index.FacetIndex:
    return facet_index._CURRENT[str(engine.url)][1]


def test_the_facet_index_outlives_a_draft_but_not_a_publication(engine, team):
    practice_id = submitted(engine, team)
    publish(engine, team, practice_id)
    catalogue.search(CatalogueQuery(), engine=engine)
    index = kept_facet_index(engine)
    with db.session_scope(engine) as session:
        practices.save_draft(
            session=session, data=PracticeDraft(title="Another idea"), actor=team["owner"]
        )
    catalogue.search(CatalogueQuery(), engine=engine)
    assert kept_facet_index(engine) is index
    publish(engine, team, submitted(engine, team))
    assert catalogue.search(CatalogueQuery(), engine=engine).total == 2
    assert kept_facet_index(engine) is not index


def test_another_process_sees_a_publication_on_its_next_read(engine, team):
    practice_id = submitted(engine, team)
    reader = _Reader(engine)
    seen = reader.read()
    assert reader.read() == seen
    publish(engine, team, practice_id)
    version, found = reader.read()
    assert version != seen[0]
    assert practice_id in found


class _Reader:
    """A second process reading the catalogue's version and what the catalogue finds."""

    SCRIPT = (
        "import sys; from dhu_core import changes, db, catalogue; "
        "e = db.get_engine(sys.argv[1]); "
        "print(db.data_version(e, scopes=[changes.CATALOGUE])); "
        "print(*[p.id for p in catalogue.search(catalogue.CatalogueQuery(text='asthma'), "
        "engine=e).practices])"
    )

    def __init__(self, engine) -> None:
        self.url = engine.url.render_as_string(hide_password=False)

    def read(self) -> tuple[int, list[int]]:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        lines = subprocess.run(
            [sys.executable, "-c", self.SCRIPT, self.url],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout.splitlines()
        return int(lines[0]), [int(i) for i in lines[1].split()]


def test_a_late_commit_of_an_earlier_id_still_changes_the_version(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers take ids and commit one at a time")
    other = create_engine(engine.url)
    try:
        with other.connect() as late:
            late.execute(insert(DataChange.__table__).values(scope=changes.CATALOGUE))
            with engine.begin() as early:  # a later id, committed first
                early.execute(insert(DataChange.__table__).values(scope=changes.CATALOGUE))
            seen = catalogue_version(engine)
            late.commit()
        assert catalogue_version(engine) > seen
    finally:
        other.dispose()


def test_pruning_the_log_keeps_every_version_growing(engine, monkeypatch):
    with engine.begin() as conn:
        conn.execute(
            insert(DataChange.__table__),
            [{"scope": changes.AUDIT}] * (changes.WINDOW + 10),
        )
    versions = [db.data_version(engine, scopes=s) for s in ([changes.AUDIT], None)]
    catalogue_before = catalogue_version(engine)
    monkeypatch.setattr(changes.random, "random", lambda: 0.0)  # prune at this write
    with db.session_scope(engine) as session:
        session.add(AuditEvent(action="test.pruned"))
    with engine.connect() as conn:
        kept = conn.execute(
            text("SELECT count(*) FROM data_change WHERE scope = :s"), {"s": changes.AUDIT}
        ).scalar_one()
    assert kept <= changes.WINDOW + 1
    after = [db.data_version(engine, scopes=s) for s in ([changes.AUDIT], None)]
    assert all(new > old for new, old in zip(after, versions, strict=True))
    assert catalogue_version(engine) == catalogue_before


def test_emptying_the_database_keeps_the_versions_growing(engine, team):
    before = db.data_version(engine)
    with db.session_scope(engine) as session:
        db.delete_all_rows(session)
    assert db.data_version(engine) > before
    assert catalogue_version(engine) > 0


def test_only_writes_to_what_the_search_index_reads_refresh_it(engine, monkeypatch):
    refreshed = []
    monkeypatch.setattr(search_index, "refresh", lambda session: refreshed.append(1))
    with db.session_scope(engine) as session:
        session.add(AuditEvent(action="test.unrelated"))
    assert refreshed == []
    with db.session_scope(engine) as session:
        session.execute(delete(Practice).where(Practice.id == -1))
    assert refreshed == [1]


def test_every_table_has_its_scopes():
    # A new table must say which cached reads it changes (else it changes every scope).
    tables = set(SQLModel.metadata.tables) - {"app_state", "data_change"}
    assert tables <= set(changes.TABLE_SCOPES)
    assert {s for scopes in changes.TABLE_SCOPES.values() for s in scopes} <= set(changes.SCOPES)


def test_the_migration_starts_every_scope():
    path = ROOT / "dhu_core/migrations/versions/20261201_0015_data_changes.py"
    spec = importlib.util.spec_from_file_location("migration_0015", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.SCOPES == changes.SCOPES


def test_a_read_only_transaction_changes_no_version(engine, team):
    before = db.data_version(engine)
    with db.read_scope(engine) as session:
        session.exec(select(Organisation)).all()
    with db.session_scope(engine) as session:
        session.exec(select(Organisation)).all()
    assert db.data_version(engine) == before
