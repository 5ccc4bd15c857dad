"""catalogue search folds accents on PostgreSQL without the unaccent extension too

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01

Migration 0008 folds accents on PostgreSQL only where the `unaccent` extension could be created
(SQLite's FTS5 tokenizer folds them itself): elsewhere "Krakow" did not find "Kraków". The index
now folds every text it holds, and the catalogue every search, through `practice_search_fold`,
a plain SQL function that maps the accented Latin letters (Latin-1 and Latin Extended-A and -B:
ó, ł, ş, ř, ...) to their base letter; `unaccent`, where there, still folds the rest.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

from dhu_core import search_index

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Each letter of ACCENTED becomes the letter at the same place in PLAIN.
ACCENTED = (
    "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöøùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĐđĒēĔĕĖėĘ"
    "ęĚěĜĝĞğĠġĢģĤĥĦħĨĩĪīĬĭĮįİıĴĵĶķĹĺĻļĽľĿŀŁłŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŦŧŨũŪūŬŭŮůŰ"
    "űŲųŴŵŶŷŸŹźŻżŽžƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚ"
    "țȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳ"
)
PLAIN = (
    "AAAAAACEEEEIIIINOOOOOOUUUUYaaaaaaceeeeiiiinoooooouuuuyyAaAaAaCcCcCcCcDdDdEeEeEeE"
    "eEeGgGgGgGgHhHhIiIiIiIiIiJjKkLlLlLlLlLlNnNnNnOoOoOoRrRrRrSsSsSsSsTtTtTtUuUuUuUuU"
    "uUuWwYyYZzZzZzOoUuAaIiOoUuUuUuUuUuAaAaGgKkOoOojGgNnAaAaAaEeEeIiIiOoOoRrRrUuUuSsT"
    "tHhAaEeOoOoOoOoYy"
)

FOLD = f"""
    CREATE FUNCTION practice_search_fold(value text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT translate(value, '{ACCENTED}', '{PLAIN}') $$
"""

#: Searches cached by the catalogue's version (see migration 0015) must see the new index.
CATALOGUE_CHANGED = "INSERT INTO data_change (scope) VALUES ('catalogue')"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FOLD)
    op.execute(_view(folded=True))
    search_index.rebuild_all(op.get_bind())
    op.execute(CATALOGUE_CHANGED)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_view(folded=False))
    op.execute("DROP FUNCTION practice_search_fold(text)")
    search_index.rebuild_all(op.get_bind())
    op.execute(CATALOGUE_CHANGED)


def _view(*, folded: bool) -> str:
    """Migration 0008's `practice_search_source`, its texts `folded` or as they are."""
    earlier = _revision_0008()

    def vector(value: str, weight: str) -> str:
        text = f"coalesce({value}, '')"
        if folded:
            text = f"practice_search_fold({text})"
        return f"setweight(to_tsvector('{earlier.CONFIGURATION}', {text}), '{weight}')"

    return f"""
    CREATE OR REPLACE VIEW practice_search_source AS
    SELECT p.id AS id,
        {vector("p.title", "A")}
        || {vector("p.summary", "B")}
        || {vector("o.name", "C")}
        || {vector(earlier.LABELS, "C")}
        || {vector("p.description", "D")} AS document
    FROM practice AS p LEFT JOIN organisation AS o ON o.id = p.owner_organisation_id
    """  # noqa: S608 (constants of these migrations, no input)


def _revision_0008():
    """Migration 0008, whose view of the index's texts this one folds."""
    path = Path(__file__).with_name("20261130_0008_catalogue_search_terms.py")
    spec = importlib.util.spec_from_file_location("catalogue_search_terms_0008", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
