"""Engines, sessions, migrations and data versions: the one place that opens the database."""

import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine, event, func, inspect, make_url, select, text, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel, create_engine

from dhu_core import changes, search_index
from dhu_core.config import get_settings
from dhu_core.models import AppState, DataChange

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
T = TypeVar("T")


def get_engine(url: str | None = None) -> Engine:
    """The engine for `url` (default: the configured database), created once per process."""
    return _engine(url or get_settings().sqlalchemy_url)


@cache
def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # No file for an in-memory database: "sqlite://" or "sqlite:///:memory:".
        if parsed.database and parsed.database != ":memory:":
            _private_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    settings = get_settings()
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=settings.dhu_db_pool_size,
        max_overflow=settings.dhu_db_max_overflow,
    )


def _private_file(path: Path) -> None:
    """Create the database file readable by its owner only (it holds password hashes and
    e-mail addresses), in a folder of its own that others cannot list; SQLite gives its -wal
    and -shm files the database file's permissions."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(descriptor)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # pysqlite opens a transaction only at the first write, so the reads before it would not
    # be isolated; SQLAlchemy's documented fix: take over BEGIN (see _sqlite_begin).
    # https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection) -> None:
    # A transaction that reads before it writes must hold the write lock from its start: with a
    # deferred BEGIN, SQLite cannot upgrade it once another writer has committed, and fails at
    # once with "database is locked" instead of waiting for the busy timeout.
    # https://www.sqlite.org/lang_transaction.html#deferred_immediate_and_exclusive_transactions
    writes = connection.get_execution_options().get(_WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


#: The databases each thread has a write transaction open on (see session_scope).
_writing = threading.local()
#: Execution option of the engines behind write transactions (see _sqlite_begin).
_WRITE = "dhu_write"
_READ_ONLY = "dhu_read_only"
_BOOKKEEPING = "dhu_bookkeeping"


@contextmanager
def session_scope(engine: Engine | None = None, *, bookkeeping: bool = False) -> Iterator[Session]:
    """One write transaction: committed when the block ends, rolled back on any exception.

    On SQLite it starts with BEGIN IMMEDIATE, so writers queue for the busy timeout, and what
    the transaction reads stays true until it commits; on PostgreSQL, lock the rows a decision
    depends on with `get_for_update`. A `bookkeeping` transaction writes only what no cached
    read shows (a page's view counter), so it leaves the data version, and every cache, as is.
    """
    engine = engine or get_engine()
    database = engine.url.render_as_string()
    open_here = _writing.__dict__.setdefault("databases", set())
    if database in open_here:
        # On SQLite the inner transaction would wait for the outer one's write lock for the
        # whole busy timeout and fail; on PostgreSQL it could wait for a row the outer holds.
        raise NestedWriteTransaction(
            "a write transaction was opened inside another one in the same thread; "
            "pass the open session on instead"
        )
    open_here.add(database)
    try:
        bind = engine.execution_options(**{_WRITE: True})
        with Session(bind, expire_on_commit=False) as session, session.begin():
            session.info[_BOOKKEEPING] = bookkeeping
            yield session
    finally:
        open_here.discard(database)


class NestedWriteTransaction(RuntimeError):
    """A write transaction was opened while the same thread had one open on that database."""


@contextmanager
def read_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One read-only transaction (a consistent snapshot); any write in it is a programming error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session, session.begin():
        session.info[_READ_ONLY] = True
        yield session


class ReadOnlyTransaction(RuntimeError):
    """A write was attempted in a transaction opened with `read_scope`."""


def get_for_update(session: Session, model: type[T], key: Any) -> T | None:
    """The row of `model` with primary key `key`, locked until the transaction ends.

    PostgreSQL takes a row lock (SELECT … FOR UPDATE), so a concurrent read-check-write of the
    same row waits and then sees the committed state; SQLite's write transactions hold the
    database's write lock from their start, which serialises them already.
    """
    return session.get(model, key, with_for_update=True, populate_existing=True)


def lock_name(session: Session, name: str) -> None:
    """Hold a lock named `name` until the transaction ends (for rows that do not exist yet).

    PostgreSQL takes a transaction-level advisory lock; on SQLite the write transaction holds
    the database's write lock already.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(name, 0))))


@event.listens_for(OrmSession, "before_flush")
def _refuse_writes_when_read_only(session: OrmSession, _context, _instances) -> None:
    if session.info.get(_READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise ReadOnlyTransaction("this transaction was opened read-only (db.read_scope)")


@event.listens_for(OrmSession, "after_flush")
def _note_write(session: OrmSession, _flush_context) -> None:
    if session.new or session.dirty or session.deleted:
        session.info["wrote"] = True
        changes.note_objects(session)


@event.listens_for(OrmSession, "do_orm_execute")
def _note_statement_write(state) -> None:
    # Bulk INSERT/UPDATE/DELETE statements bypass the unit of work that after_flush sees.
    if state.is_insert or state.is_update or state.is_delete:
        if state.session.info.get(_READ_ONLY):
            raise ReadOnlyTransaction("this transaction was opened read-only (db.read_scope)")
        state.session.info["wrote"] = True
        changes.note_statement(state.session, state.statement)


@event.listens_for(OrmSession, "before_commit")
def _record_changes(session: OrmSession) -> None:
    session.flush()  # commit flushes after this hook; flush first so every change is seen
    if session.info.pop("wrote", False) and not session.info.get(_BOOKKEEPING):
        if changes.wrote_search_tables(session):
            search_index.refresh(session)
        changes.record(session)


def checkpoint(engine: Engine) -> None:
    """On SQLite, copy the write-ahead log into the database file and empty it.

    SQLite checkpoints by itself only in steps of 1,000 pages and never shrinks the log, so one
    large transaction (seeding the demo data) would leave a log of its size beside the file.
    """
    if engine.dialect.name != "sqlite":
        return
    connection = engine.raw_connection()
    try:
        # Outside any transaction (the pragmas hook leaves pysqlite in autocommit mode): a
        # checkpoint cannot empty the log while its own connection reads.
        cursor = connection.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        connection.close()


def bump_data_version(session: OrmSession) -> None:
    """Mark every scope as changed by this transaction (after writes no hook sees, such as
    a migration's or a bulk load's), so every cached read is refreshed."""
    session.info["wrote"] = True
    changes.note_scopes(session, changes.SCOPES)
    changes.note_faceted(session, None)


def data_version(engine: Engine | None = None, *, scopes: Iterable[str] | None = None) -> int:
    """A number that grows with every committed write to one of `scopes` (default: any);
    part of the key of every cached read of them (see `dhu_core.changes`)."""
    with (engine or get_engine()).connect() as conn:
        return changes.version(conn, scopes)


def data_version_in(session: OrmSession, *, scopes: Iterable[str] | None = None) -> int:
    """The version of `scopes` (default: all) as seen inside `session`'s transaction."""
    return changes.version(session, scopes)


def is_demo(engine: Engine | None = None) -> bool:
    """True when the database holds the generated demo data set."""
    with (engine or get_engine()).connect() as conn:
        return bool(conn.execute(select(AppState.demo)).scalar_one())


def alembic_config(engine: Engine) -> "Config":
    """An Alembic configuration bound to `engine` (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def include_in_schema(name: str | None, type_: str, parent_names: dict) -> bool:
    """Whether Alembic compares a database object with the models (autogenerate and tests).

    Migrations 0002 and 0008 create the catalogue's full-text index, `practice_search`, outside
    the models (an FTS5 table and its shadow tables on SQLite, a tsvector table on PostgreSQL),
    with its label and queue tables `practice_search_label` and `practice_search_stale`.
    """
    return not (name or "").startswith("practice_search")


def upgrade(engine: Engine | None = None) -> None:
    """Migrate the database to the newest schema; existing rows are kept.

    The catalogue's index then takes up any label the code lists changed since.
    """
    engine = engine or get_engine()
    if not is_at_head(engine):
        # Loaded only to migrate: Alembic and its templates hold 10 MB more in every process
        # that stays up afterwards (each app process checks its database when it starts).
        from alembic import command

        command.upgrade(alembic_config(engine), "head")
    with session_scope(engine) as session:
        search_index.sync_labels(session)


def is_at_head(engine: Engine | None = None) -> bool:
    """True when the database has every migration applied."""
    engine = engine or get_engine()
    with engine.connect() as conn:
        return applied_revisions(conn) == {newest_revision()}


def newest_revision() -> str:
    """The revision of the newest migration, read from the migrations' file names without
    loading Alembic: `versions/YYYYMMDD_NNNN_what.py` holds revision "NNNN", the one before it
    "NNNN - 1" (tests/test_db.py checks every file against Alembic's own reading)."""
    return max(path.name.split("_")[1] for path in (MIGRATIONS_DIR / "versions").glob("*_*.py"))


def applied_revisions(connection: Any) -> set[str]:
    """The revisions Alembic recorded in the database (none in a database never migrated)."""
    if not inspect(connection).has_table("alembic_version"):
        return set()
    return set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def delete_all_rows(session: OrmSession) -> None:
    """Empty every table (children first) and reset the application state; one transaction.

    The change log stays: versions must keep growing, or caches would answer from before.
    """
    for table in reversed(SQLModel.metadata.sorted_tables):
        if table.name not in (AppState.__tablename__, DataChange.__tablename__):
            session.execute(table.delete())
    session.execute(update(AppState).values(demo=False))
    bump_data_version(session)
