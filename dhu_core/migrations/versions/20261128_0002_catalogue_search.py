"""catalogue full-text search

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 09:00:00.000000

The table `practice_search` indexes the title, summary, description and owner organisation name
of every practice. Triggers keep it in step with `practice` and `organisation`, so every write
path (ORM, core bulk inserts of the demo data, imports) is covered without extra code.
SQLite: an FTS5 table. PostgreSQL: a weighted `tsvector` per practice with a GIN index (a
generated column cannot read the organisation's name from another table).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UPGRADE = (
    """
    CREATE VIRTUAL TABLE practice_search USING fts5(
        title, summary, description, organisation,
        tokenize = 'unicode61 remove_diacritics 2',
        prefix = '3'
    )
    """,
    """
    CREATE TRIGGER practice_search_insert AFTER INSERT ON practice BEGIN
        INSERT INTO practice_search (rowid, title, summary, description, organisation)
        VALUES (
            new.id, new.title, new.summary, new.description,
            (SELECT name FROM organisation WHERE id = new.owner_organisation_id)
        );
    END
    """,
    """
    CREATE TRIGGER practice_search_update
    AFTER UPDATE OF title, summary, description, owner_organisation_id ON practice BEGIN
        DELETE FROM practice_search WHERE rowid = old.id;
        INSERT INTO practice_search (rowid, title, summary, description, organisation)
        VALUES (
            new.id, new.title, new.summary, new.description,
            (SELECT name FROM organisation WHERE id = new.owner_organisation_id)
        );
    END
    """,
    """
    CREATE TRIGGER practice_search_delete AFTER DELETE ON practice BEGIN
        DELETE FROM practice_search WHERE rowid = old.id;
    END
    """,
    """
    CREATE TRIGGER practice_search_organisation AFTER UPDATE OF name ON organisation BEGIN
        UPDATE practice_search SET organisation = new.name
        WHERE rowid IN (SELECT id FROM practice WHERE owner_organisation_id = new.id);
    END
    """,
    """
    INSERT INTO practice_search (rowid, title, summary, description, organisation)
    SELECT p.id, p.title, p.summary, p.description, o.name
    FROM practice AS p JOIN organisation AS o ON o.id = p.owner_organisation_id
    """,
)

SQLITE_DOWNGRADE = (
    "DROP TRIGGER practice_search_organisation",
    "DROP TRIGGER practice_search_delete",
    "DROP TRIGGER practice_search_update",
    "DROP TRIGGER practice_search_insert",
    "DROP TABLE practice_search",
)

POSTGRESQL_UPGRADE = (
    """
    CREATE FUNCTION practice_search_document(
        title text, summary text, description text, organisation text
    ) RETURNS tsvector LANGUAGE sql IMMUTABLE AS $$
        SELECT setweight(to_tsvector('simple', coalesce(title, '')), 'A')
            || setweight(to_tsvector('simple', coalesce(summary, '')), 'B')
            || setweight(to_tsvector('simple', coalesce(organisation, '')), 'C')
            || setweight(to_tsvector('simple', coalesce(description, '')), 'D')
    $$
    """,
    """
    CREATE TABLE practice_search (
        practice_id integer PRIMARY KEY REFERENCES practice (id) ON DELETE CASCADE,
        document tsvector NOT NULL
    )
    """,
    "CREATE INDEX ix_practice_search_document ON practice_search USING gin (document)",
    """
    CREATE FUNCTION practice_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO practice_search (practice_id, document)
        SELECT NEW.id, practice_search_document(NEW.title, NEW.summary, NEW.description, o.name)
        FROM organisation AS o WHERE o.id = NEW.owner_organisation_id
        ON CONFLICT (practice_id) DO UPDATE SET document = EXCLUDED.document;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER practice_search_refresh
    AFTER INSERT OR UPDATE OF title, summary, description, owner_organisation_id ON practice
    FOR EACH ROW EXECUTE FUNCTION practice_search_refresh()
    """,
    """
    CREATE FUNCTION practice_search_organisation() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE practice_search AS s
        SET document = practice_search_document(p.title, p.summary, p.description, NEW.name)
        FROM practice AS p
        WHERE p.id = s.practice_id AND p.owner_organisation_id = NEW.id;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER practice_search_organisation
    AFTER UPDATE OF name ON organisation
    FOR EACH ROW EXECUTE FUNCTION practice_search_organisation()
    """,
    """
    INSERT INTO practice_search (practice_id, document)
    SELECT p.id, practice_search_document(p.title, p.summary, p.description, o.name)
    FROM practice AS p JOIN organisation AS o ON o.id = p.owner_organisation_id
    """,
)

POSTGRESQL_DOWNGRADE = (
    "DROP TRIGGER practice_search_organisation ON organisation",
    "DROP FUNCTION practice_search_organisation()",
    "DROP TRIGGER practice_search_refresh ON practice",
    "DROP FUNCTION practice_search_refresh()",
    "DROP TABLE practice_search",
    "DROP FUNCTION practice_search_document(text, text, text, text)",
)


def upgrade() -> None:
    statements = {"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRESQL_UPGRADE}
    for statement in statements[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    statements = {"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRESQL_DOWNGRADE}
    for statement in statements[op.get_bind().dialect.name]:
        op.execute(statement)
