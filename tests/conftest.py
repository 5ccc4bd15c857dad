"""Shared fixtures: a migrated database on SQLite and on the real PostgreSQL server."""

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine

from dhu_core import db
from dhu_core.config import normalise_database_url

#: The PostgreSQL server the suite runs against (trust auth on this machine).
PG_ADMIN_URL = os.environ.get("DHU_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = bool(os.environ.get("CI"))


def _pg_database() -> Iterator[str]:
    name = f"dhu_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        if IN_CI:
            raise
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield normalise_database_url(f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}")
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'dhu.sqlite3'}"


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    yield from _pg_database()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated_engine(request) -> Iterator[Engine]:
    """One migrated database per backend for the whole run."""
    url = request.getfixturevalue(f"{request.param}_url")
    engine = db.get_engine(url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    """A migrated, empty database (SQLite and PostgreSQL); emptied again after the test."""
    yield migrated_engine
    with db.session_scope(migrated_engine) as session:
        db.delete_all_rows(session)
