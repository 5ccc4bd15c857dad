"""catalogue search by word stems, over the labels of a practice's code lists too

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

The index of 0002 matched words letter for letter, over title, summary, description and
organisation only. Its entries now also hold *terms*: the labels of the practice's type,
maturity level, health domains, WHO DHI interventions, standards, languages and deployment
countries, from `practice_search_label` (filled from the code lists, see
`dhu_core.search_index`). Words are matched by their English stem: FTS5's porter tokenizer on
SQLite, a copy of the `english` configuration on PostgreSQL that also folds accents where the
`unaccent` extension can be created (Kraków = Krakow; SQLite folds them itself).

Triggers on practices, tags, deployments and organisations only queue the practice in
`practice_search_stale`; each write transaction rebuilds the queued entries before it commits
(`dhu_core.search_index.refresh`). Rebuilding an entry from inside a trigger on every tag would
make loading 100,000 practices with their 700,000 tags about 40 times slower.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op
from sqlalchemy.exc import DBAPIError

from dhu_core import search_index

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The labels of one practice (`p`): type, maturity, tags and deployment countries.
TERMS = """
    SELECT l.terms FROM practice_search_label AS l
    WHERE l.kind = 'type' AND l.code = p.practice_type
    UNION ALL
    SELECT l.terms FROM practice_search_label AS l
    WHERE l.kind = 'maturity' AND l.code = CAST(p.maturity AS TEXT)
    UNION ALL
    SELECT l.terms FROM practice_tag AS t
    JOIN practice_search_label AS l ON l.kind = t.kind AND l.code = t.code
    WHERE t.practice_id = p.id
    UNION ALL
    SELECT l.terms FROM practice_country AS c
    JOIN practice_search_label AS l ON l.kind = 'country' AND l.code = c.country
    WHERE c.practice_id = p.id
"""

TABLES = (
    """
    CREATE TABLE practice_search_label (
        kind TEXT NOT NULL,
        code TEXT NOT NULL,
        terms TEXT NOT NULL,
        PRIMARY KEY (kind, code)
    )
    """,
    "CREATE TABLE practice_search_stale (practice_id INTEGER NOT NULL PRIMARY KEY)",
)

SQLITE_QUEUE = """
    INSERT INTO practice_search_stale (practice_id) SELECT {id}
    WHERE NOT EXISTS (SELECT 1 FROM practice_search_stale WHERE practice_id = {id});
"""

SQLITE_UPGRADE = (
    *TABLES,
    """
    CREATE VIRTUAL TABLE practice_search USING fts5(
        title, summary, description, organisation, terms,
        tokenize = 'porter unicode61 remove_diacritics 2',
        prefix = '3'
    )
    """,
    f"""
    CREATE VIEW practice_search_source AS
    SELECT p.id AS id, p.title AS title, p.summary AS summary, p.description AS description,
        o.name AS organisation,
        (SELECT group_concat(labels.terms, ' ') FROM ({TERMS}) AS labels) AS terms
    FROM practice AS p LEFT JOIN organisation AS o ON o.id = p.owner_organisation_id
    """,  # noqa: S608 (constants of this module, no input)
    f"""
    CREATE TRIGGER practice_search_practice_insert AFTER INSERT ON practice BEGIN
        {SQLITE_QUEUE.format(id="new.id")}
    END
    """,
    f"""
    CREATE TRIGGER practice_search_practice_update
    AFTER UPDATE OF title, summary, description, owner_organisation_id, practice_type, maturity
    ON practice BEGIN
        {SQLITE_QUEUE.format(id="new.id")}
    END
    """,
    f"""
    CREATE TRIGGER practice_search_practice_delete AFTER DELETE ON practice BEGIN
        {SQLITE_QUEUE.format(id="old.id")}
    END
    """,
    *(
        statement
        for link in ("tag", "country")
        for statement in (
            f"""
            CREATE TRIGGER practice_search_{link}_insert AFTER INSERT ON practice_{link} BEGIN
                {SQLITE_QUEUE.format(id="new.practice_id")}
            END
            """,
            f"""
            CREATE TRIGGER practice_search_{link}_update AFTER UPDATE ON practice_{link} BEGIN
                {SQLITE_QUEUE.format(id="old.practice_id")}
                {SQLITE_QUEUE.format(id="new.practice_id")}
            END
            """,
            f"""
            CREATE TRIGGER practice_search_{link}_delete AFTER DELETE ON practice_{link} BEGIN
                {SQLITE_QUEUE.format(id="old.practice_id")}
            END
            """,
        )
    ),
    """
    CREATE TRIGGER practice_search_organisation AFTER UPDATE OF name ON organisation BEGIN
        INSERT INTO practice_search_stale (practice_id)
        SELECT id FROM practice WHERE owner_organisation_id = new.id
        AND id NOT IN (SELECT practice_id FROM practice_search_stale);
    END
    """,
)

SQLITE_DOWNGRADE = (
    *(
        f"DROP TRIGGER practice_search_{name}"
        for name in (
            "practice_insert",
            "practice_update",
            "practice_delete",
            "tag_insert",
            "tag_update",
            "tag_delete",
            "country_insert",
            "country_update",
            "country_delete",
            "organisation",
        )
    ),
    "DROP VIEW practice_search_source",
    "DROP TABLE practice_search",
    "DROP TABLE practice_search_stale",
    "DROP TABLE practice_search_label",
)

CONFIGURATION = "practice_search_english"
#: Searches cached by the data version (and the catalogue's facet index) must see the new index.
BUMP_DATA_VERSION = "UPDATE app_state SET data_version = data_version + 1"


LABELS = f"(SELECT string_agg(labels.terms, ' ') FROM ({TERMS}) AS labels)"  # noqa: S608


def _vector(value: str, weight: str) -> str:
    return f"setweight(to_tsvector('{CONFIGURATION}', coalesce({value}, '')), '{weight}')"


POSTGRESQL_UPGRADE = (
    *TABLES,
    """
    CREATE TABLE practice_search (
        practice_id integer PRIMARY KEY REFERENCES practice (id) ON DELETE CASCADE,
        document tsvector NOT NULL
    )
    """,
    "CREATE INDEX ix_practice_search_document ON practice_search USING gin (document)",
    f"""
    CREATE VIEW practice_search_source AS
    SELECT p.id AS id,
        {_vector("p.title", "A")}
        || {_vector("p.summary", "B")}
        || {_vector("o.name", "C")}
        || {_vector(LABELS, "C")}
        || {_vector("p.description", "D")} AS document
    FROM practice AS p LEFT JOIN organisation AS o ON o.id = p.owner_organisation_id
    """,  # noqa: S608 (constants of this module, no input)
    """
    CREATE FUNCTION practice_search_queue_practice() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO practice_search_stale VALUES (NEW.id) ON CONFLICT DO NOTHING;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER practice_search_practice
    AFTER INSERT OR UPDATE OF
        title, summary, description, owner_organisation_id, practice_type, maturity
    ON practice FOR EACH ROW EXECUTE FUNCTION practice_search_queue_practice()
    """,
    """
    CREATE FUNCTION practice_search_queue_link() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            INSERT INTO practice_search_stale VALUES (OLD.practice_id) ON CONFLICT DO NOTHING;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            INSERT INTO practice_search_stale VALUES (NEW.practice_id) ON CONFLICT DO NOTHING;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    *(
        f"""
        CREATE TRIGGER practice_search_{link}
        AFTER INSERT OR UPDATE OR DELETE ON practice_{link}
        FOR EACH ROW EXECUTE FUNCTION practice_search_queue_link()
        """
        for link in ("tag", "country")
    ),
    """
    CREATE FUNCTION practice_search_queue_organisation() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO practice_search_stale
        SELECT id FROM practice WHERE owner_organisation_id = NEW.id
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER practice_search_organisation AFTER UPDATE OF name ON organisation
    FOR EACH ROW EXECUTE FUNCTION practice_search_queue_organisation()
    """,
)

POSTGRESQL_DOWNGRADE = (
    "DROP TRIGGER practice_search_organisation ON organisation",
    "DROP FUNCTION practice_search_queue_organisation()",
    "DROP TRIGGER practice_search_country ON practice_country",
    "DROP TRIGGER practice_search_tag ON practice_tag",
    "DROP FUNCTION practice_search_queue_link()",
    "DROP TRIGGER practice_search_practice ON practice",
    "DROP FUNCTION practice_search_queue_practice()",
    "DROP VIEW practice_search_source",
    "DROP TABLE practice_search",
    "DROP TABLE practice_search_stale",
    "DROP TABLE practice_search_label",
    f"DROP TEXT SEARCH CONFIGURATION {CONFIGURATION}",
)


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    _revision_0002().downgrade()
    if dialect == "postgresql":
        _create_configuration()
    for statement in {"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRESQL_UPGRADE}[dialect]:
        op.execute(statement)
    search_index.sync_labels(bind)
    op.execute(BUMP_DATA_VERSION)


def downgrade() -> None:
    statements = {"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRESQL_DOWNGRADE}
    for statement in statements[op.get_bind().dialect.name]:
        op.execute(statement)
    _revision_0002().upgrade()
    op.execute(BUMP_DATA_VERSION)


def _create_configuration() -> None:
    """English stems; accents folded too when the `unaccent` extension is there or may be
    created (a trusted extension since PostgreSQL 13, but a role may lack the right)."""
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
        folding = True
    except DBAPIError:
        folding = False
    op.execute(f"CREATE TEXT SEARCH CONFIGURATION {CONFIGURATION} (COPY = english)")
    if folding:
        op.execute(
            f"ALTER TEXT SEARCH CONFIGURATION {CONFIGURATION} "
            "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem"
        )


def _revision_0002():
    """Migration 0002, whose index this one replaces (and gives back on downgrade)."""
    path = Path(__file__).with_name("20261128_0002_catalogue_search.py")
    spec = importlib.util.spec_from_file_location("catalogue_search_0002", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
