"""The catalogue's full-text index: what a practice's entry holds, and keeping it current.

Migration 0008 builds `practice_search`: per practice its title, summary, description, owner
organisation and *terms*, the labels of its type, maturity level, health domains, WHO DHI
interventions, standards, languages and deployment countries (so "FHIR" or "Estonia" find it),
in each interface language ("Estland", "dossier patient"). The labels come from the code lists
and Babel's country names through the table `practice_search_label`.

Database triggers on practices, their tags and deployments and organisations only queue the
practice (table `practice_search_stale`); each write transaction rebuilds the queued entries
once, just before it commits (`refresh`, called by `dhu_core.db`). Every write path is covered,
and a bulk insert of 100,000 practices with their 700,000 tags rebuilds each entry once instead
of once per tag.
"""

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, column, delete, exists, insert, select, table, text, update
from sqlalchemy.orm import Session

from dhu_core import geo, i18n, taxonomy

LABELS = table("practice_search_label", column("kind"), column("code"), column("terms"))
STALE = table("practice_search_stale", column("practice_id"))
_PRACTICE = table("practice", column("id"))
_WORD = re.compile(r"[^\W_]+")

#: Rebuild the queued entries, then empty the queue. The practices' own rows are read through
#: the view `practice_search_source` of migration 0008, which puts an entry together.
_REFRESH = {
    "sqlite": (
        """
        DELETE FROM practice_search WHERE rowid IN (SELECT practice_id FROM practice_search_stale)
        """,
        """
        INSERT INTO practice_search (rowid, title, summary, description, organisation, terms)
        SELECT id, title, summary, description, organisation, terms FROM practice_search_source
        WHERE id IN (SELECT practice_id FROM practice_search_stale)
        """,
        "DELETE FROM practice_search_stale",
    ),
    # A deleted practice's entry goes with it (ON DELETE CASCADE); concurrent writers of one
    # practice queue it one after the other (its queue row's unique key), and the later one
    # rebuilds from what the earlier committed.
    "postgresql": (
        """
        WITH stale AS (DELETE FROM practice_search_stale RETURNING practice_id)
        INSERT INTO practice_search (practice_id, document)
        SELECT source.id, source.document FROM practice_search_source AS source
        JOIN stale ON stale.practice_id = source.id
        ON CONFLICT (practice_id) DO UPDATE SET document = EXCLUDED.document
        """,
    ),
}


def refresh(connection: Connection | Session) -> None:
    """Rebuild the index entries of the practices written since the last refresh."""
    bind = connection.connection() if isinstance(connection, Session) else connection
    # A database before migration 0008 (while it is being brought up to date) has no queue.
    if not bind.dialect.has_table(bind, STALE.name):
        return
    if not connection.execute(select(exists().select_from(STALE))).scalar():
        return
    for statement in _REFRESH[bind.dialect.name]:
        connection.execute(text(statement))


def rebuild_all(connection: Connection | Session) -> None:
    """Queue every practice and rebuild the whole index."""
    connection.execute(delete(STALE))
    connection.execute(insert(STALE).from_select(["practice_id"], select(_PRACTICE.c.id)))
    refresh(connection)


def label_rows() -> list[dict[str, str]]:
    """The indexed words of every code a practice can carry: kind, code and terms.

    The terms hold the code's label in each interface language, so that a French visitor's
    "dossier patient" finds a practice written in English about patient records, and "Estland"
    or "Alemania" the practices deployed there.
    """
    return [
        *_coded("type", taxonomy.PRACTICE_TYPES),
        *(
            {
                "kind": "maturity",
                "code": str(level),
                "terms": _terms(taxonomy.MATURITY_LEVELS, level),
            }
            for level in taxonomy.MATURITY_LEVELS
        ),
        *_coded("domain", taxonomy.HEALTH_DOMAINS),
        *({"kind": "dhi", "code": code, "terms": _dhi_terms(code)} for code in taxonomy.DHI_CODES),
        *_coded("standard", taxonomy.STANDARDS),
        # Two-letter codes of languages and countries stay out: "it", "no" and "be" are words.
        *(
            {"kind": "language", "code": code, "terms": _terms(taxonomy.LANGUAGES, code)}
            for code in taxonomy.LANGUAGES
        ),
        *(
            {"kind": "country", "code": code, "terms": _in_every_language(geo.country_name, code)}
            for code in geo.country_names()
        ),
    ]


def sync_labels(connection: Connection | Session) -> bool:
    """Bring `practice_search_label` in line with the code lists; on a change, re-index.

    True when a label changed (then every entry is rebuilt: code lists change rarely).
    """
    wanted = {(row["kind"], row["code"]): row["terms"] for row in label_rows()}
    held = {
        (kind, code): terms
        for kind, code, terms in connection.execute(
            select(LABELS.c.kind, LABELS.c.code, LABELS.c.terms)
        )
    }
    if held == wanted:
        return False
    for kind, code in held.keys() - wanted.keys():
        connection.execute(delete(LABELS).where(LABELS.c.kind == kind, LABELS.c.code == code))
    if new := [
        {"kind": kind, "code": code, "terms": terms}
        for (kind, code), terms in wanted.items()
        if (kind, code) not in held
    ]:
        connection.execute(insert(LABELS), new)
    for (kind, code), terms in wanted.items():
        if (kind, code) in held and held[(kind, code)] != terms:
            connection.execute(
                update(LABELS)
                .where(LABELS.c.kind == kind, LABELS.c.code == code)
                .values(terms=terms)
            )
    rebuild_all(connection)
    return True


def _coded(kind: str, code_list: taxonomy.CodeList) -> list[dict[str, str]]:
    """Label rows whose code is a word of its own (`fhir`, `hl7v2`), added when the labels lack
    it."""
    rows = []
    for code in code_list:
        terms = _terms(code_list, code)
        rows.append(
            {
                "kind": kind,
                "code": code,
                "terms": terms if _within(code, terms) else f"{terms} {code}",
            }
        )
    return rows


def _within(code: str, label: str) -> bool:
    return set(_WORD.findall(code.casefold())) <= set(_WORD.findall(label.casefold()))


def _terms(code_list: taxonomy.CodeList, code) -> str:
    """The label of `code` in every interface language."""
    return _in_every_language(code_list.label, code)


def _dhi_terms(code: str) -> str:
    """An intervention's labels and its category's (1.4.1 also says "Personal health
    tracking")."""
    category = ".".join(code.split(".")[:2])
    terms = _terms(taxonomy.DHI_CODES, code)
    if category != code and category in taxonomy.DHI_CODES:
        terms += " " + _terms(taxonomy.DHI_CODES, category)
    return terms


def _in_every_language(label: Callable[[Any], str], code) -> str:
    """`label(code)` in each interface language, each different wording once (English first)."""
    wordings = []
    for language in i18n.LANGUAGES:
        with i18n.language(language):
            wordings.append(label(code))
    return " ".join(dict.fromkeys(wordings))
