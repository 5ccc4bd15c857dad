"""The store: migrations, SQLite settings, transactions and the data version."""

import stat
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text, update
from sqlmodel import SQLModel, select

from dhu_core import db
from dhu_core.models import AppState, Organisation


def test_migrated_database_matches_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_name": db.include_in_schema, "compare_type": True}
        )
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_database_is_at_head_after_upgrade(engine):
    assert db.is_at_head(engine)
    db.upgrade(engine)
    assert db.is_at_head(engine)


def test_upgrade_keeps_rows(engine):
    with db.session_scope(engine) as session:
        session.add(Organisation(name="Hospital Kept", country="AT"))
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        names = session.exec(select(Organisation.name)).all()
    assert names == ["Hospital Kept"]


def test_every_write_bumps_the_data_version(engine):
    before = db.data_version(engine)
    with db.session_scope(engine) as session:
        session.add(Organisation(name="Versioned", country="DE"))
    written = db.data_version(engine)
    assert written > before
    with db.session_scope(engine) as session:
        session.exec(select(Organisation)).all()
    assert db.data_version(engine) == written


def test_a_bulk_statement_bumps_the_data_version_too(engine):
    from sqlalchemy import insert, update

    before = db.data_version(engine)
    with db.session_scope(engine) as session:
        session.execute(insert(Organisation), [{"name": "Bulk", "country": "DE"}])
    inserted = db.data_version(engine)
    with db.session_scope(engine) as session:
        session.execute(update(Organisation).values(city="Berlin"))
    assert before < inserted < db.data_version(engine)


def test_a_failed_transaction_writes_nothing(engine):
    with pytest.raises(RuntimeError), db.session_scope(engine) as session:
        session.add(Organisation(name="Never stored", country="FR"))
        session.flush()
        raise RuntimeError("boom")
    with db.session_scope(engine) as session:
        assert session.exec(select(Organisation)).all() == []


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(sqlite_url):
    engine = db.get_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_foreign_keys_are_enforced(engine):
    from sqlalchemy.exc import IntegrityError

    from dhu_core.models import Practice

    with pytest.raises(IntegrityError), db.session_scope(engine) as session:
        session.add(
            Practice(
                title="Orphan",
                summary="no such organisation",
                practice_type="app",
                maturity=1,
                owner_organisation_id=999_999,
            )
        )


def test_a_new_embedded_database_is_readable_by_its_owner_only(tmp_path):
    folder = tmp_path / "private"
    engine = db.get_engine(f"sqlite:///{folder / 'dhu.sqlite3'}")
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        session.execute(update(AppState).values(demo=True))
    files = [folder / name for name in ("dhu.sqlite3", "dhu.sqlite3-wal", "dhu.sqlite3-shm")]
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in files if path.exists()}
    engine.dispose()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert modes == {name: 0o600 for name in modes} and "dhu.sqlite3-wal" in modes


def test_an_existing_world_readable_database_is_made_private(tmp_path):
    path = tmp_path / "old.sqlite3"
    path.write_bytes(b"")
    path.chmod(0o644)
    db.get_engine(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite+pysqlite://"])
def test_an_in_memory_database_creates_no_file(tmp_path, monkeypatch, url):
    monkeypatch.chdir(tmp_path)
    engine = db.get_engine(url)
    db.upgrade(engine)
    with db.read_scope(engine) as session:
        assert session.get(AppState, 1) is not None
    engine.dispose()
    assert list(tmp_path.iterdir()) == []


def test_a_database_file_named_with_the_driver_is_made_private(tmp_path):
    path = tmp_path / "driver.sqlite3"
    db.get_engine(f"sqlite+pysqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_write_transaction_inside_another_fails_at_once_instead_of_waiting(engine):
    with db.session_scope(engine) as session:
        session.execute(update(AppState).values(demo=False))
        with pytest.raises(db.NestedWriteTransaction), db.session_scope(engine):
            pass
        with db.read_scope(engine) as reader:
            assert reader.get(AppState, 1) is not None


def test_a_read_only_transaction_refuses_writes(engine):
    with pytest.raises(db.ReadOnlyTransaction), db.read_scope(engine) as session:
        session.get(AppState, 1).demo = True
        session.flush()


def test_the_newest_revision_read_from_file_names_is_alembics_head(tmp_path):
    engine = db.get_engine(f"sqlite:///{tmp_path / 'unused.sqlite3'}")
    scripts = ScriptDirectory.from_config(db.alembic_config(engine))
    for script in scripts.walk_revisions():
        number = int(script.revision)
        assert Path(script.path).name.split("_")[1] == script.revision == f"{number:04d}"
        assert script.down_revision == (f"{number - 1:04d}" if number > 1 else None)
    assert set(scripts.get_heads()) == {db.newest_revision()}


def test_a_process_starting_on_a_current_database_does_not_load_alembic(engine, tmp_path):
    # The app's start-up check: Alembic and its templates would stay in every process (10 MB).
    url = engine.url.render_as_string(hide_password=False)
    check = (
        "import sys\n"
        "from dhu_core import db\n"
        f"engine = db.get_engine({url!r})\n"
        "assert db.is_at_head(engine)\n"
        "db.upgrade(engine)\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in {'alembic', 'mako'}))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert ran.stdout.strip() == "[]"


def test_a_database_never_migrated_is_not_at_head(tmp_path):
    engine = db.get_engine(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    assert not db.is_at_head(engine)
    db.upgrade(engine)
    assert db.is_at_head(engine)
