"""What each write transaction changed, by scope, and the version of each scope.

A *scope* is a part of the data that cached reads show: the published catalogue, the twinning
needs and matches, the knowledge community's digests and cases, drafts, accounts… A write
transaction notes the scopes of the rows it wrote (`note_objects`, `note_statement`) and, just
before it commits, appends one row per scope to the change log `data_change` (`record`). A
cached read is keyed by the version of the scopes it shows (`version`), so a draft saved or a
message sent leaves the catalogue's caches, and its indexes, as they are.

Appending rows takes no lock that other writers wait for, unlike one counter row updated by
every write. Two writers' ids can commit out of order on PostgreSQL, though (the later id
first), so a version is not just the newest id: it also counts the rows within `WINDOW` ids of
it, which a late commit increases. Old rows are pruned now and then, never within the window.

A catalogue row also says which practices' facet values the transaction changed (`practices`),
so that each process patches its facet index with just those (`dhu_core.facet_index`, which
reads the rows it has not taken up yet with `rows_since`). Catalogue rows are kept `KEPT` ids
back for it, far beyond the window.
"""

import random
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import (
    Connection,
    Delete,
    Executable,
    Insert,
    Update,
    func,
    inspect,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter

from dhu_core.models import (
    VISIBLE_STATUSES,
    DataChange,
    Organisation,
    Practice,
    PracticeCountry,
    PracticeTag,
    User,
)

#: Listed and archived practices, their tags and deployments, organisations as shown with
#: them, and the catalogue's search index: what the catalogue, the map and suggestions show.
CATALOGUE = "catalogue"
#: Practices nobody sees yet: drafts, quick captures, submissions, edits waiting for review.
DRAFTS = "drafts"
#: Twinning needs and matches (the map draws twinnings; suggestions and needs boards).
TWINNING = "twinning"
#: Digests and lessons-learned cases.
KNOWLEDGE = "knowledge"
#: Twinning calls, their applications, evaluations and awards, and twinnings' follow-up.
CALLS = "calls"
#: Organisations, their names and countries (a new one shows nowhere public yet).
ORGANISATIONS = "organisations"
#: Accounts (their names, roles, whether they are enabled) and memberships.
ACCOUNTS = "accounts"
#: Signing in: throttles, rate limits, spent tokens, an account's last sign-in and password.
SIGN_IN = "sign_in"
#: Expressions of interest, e-mails waiting in the outbox and what each person wants sent.
INBOX = "inbox"
#: The audit trail.
AUDIT = "audit"

SCOPES = (
    CATALOGUE,
    DRAFTS,
    TWINNING,
    KNOWLEDGE,
    CALLS,
    ORGANISATIONS,
    ACCOUNTS,
    SIGN_IN,
    INBOX,
    AUDIT,
)

#: The scopes of a table's rows. A practice's rows (and its tags' and deployments') are in the
#: catalogue or the drafts by its status (see `note_objects`); a statement that writes them in
#: bulk may touch either. A table missing here changes every scope.
TABLE_SCOPES: dict[str, tuple[str, ...]] = {
    "practice": (CATALOGUE, DRAFTS),
    "practice_country": (CATALOGUE, DRAFTS),
    "practice_tag": (CATALOGUE, DRAFTS),
    "practice_view_day": (CATALOGUE,),
    "practice_revision": (DRAFTS,),
    "practice_claim": (DRAFTS,),
    "practice_search": (CATALOGUE,),
    "practice_search_label": (CATALOGUE,),
    "practice_search_stale": (CATALOGUE,),
    "organisation": (ORGANISATIONS, CATALOGUE),
    "account": (ACCOUNTS,),
    "membership": (ACCOUNTS,),
    "login_throttle": (SIGN_IN,),
    "rate_event": (SIGN_IN,),
    "spent_token": (SIGN_IN,),
    "notification_preference": (INBOX,),
    "twinning_need": (TWINNING,),
    "need_tag": (TWINNING,),
    "twinning_match": (TWINNING,),
    "weight_profile": (TWINNING,),
    "twinning_call": (CALLS,),
    "call_application": (CALLS,),
    "call_application_practice": (CALLS,),
    "call_assignment": (CALLS,),
    "call_conflict": (CALLS,),
    "call_score": (CALLS,),
    "call_consensus": (CALLS,),
    "call_award": (CALLS,),
    "twinning_milestone": (CALLS,),
    "twinning_assistance": (CALLS,),
    "twinning_report": (CALLS,),
    "lessons_case": (KNOWLEDGE,),
    "digest": (KNOWLEDGE,),
    "digest_topic": (KNOWLEDGE,),
    "digest_practice": (KNOWLEDGE,),
    "interest": (INBOX,),
    "outbox_message": (INBOX,),
    "audit_event": (AUDIT,),
}
#: The rows of a practice, in the catalogue while it is listed or archived, else in the drafts.
PRACTICE_ROWS = frozenset({"practice_country", "practice_tag"})
#: Tables whose rows go into the catalogue's full-text index (see `dhu_core.search_index`).
SEARCH_TABLES = frozenset(
    {"practice", "practice_country", "practice_tag", "organisation", "practice_search_label"}
)

#: What signing in, out or failing to changes on an account (no page shows these).
SIGN_IN_FIELDS = frozenset(
    {"last_login_at", "failed_logins", "locked_until", "sessions_valid_after", "password_hash"}
)

#: The columns of a practice that its facets show (see `dhu_core.facet_index`).
FACET_COLUMNS = frozenset(
    {"status", "practice_type", "maturity", "transferable", "published_at", "last_confirmed_at"}
)
#: A transaction that changed the facet values of more practices than this notes "not known
#: which" on its catalogue row: the facet index is built again rather than patched.
MOST_PRACTICES = 500

#: How many ids late a commit may be and still change the versions (see the module's text).
WINDOW = 1024
#: How many ids back the rows of a scope are kept when more than `WINDOW`: the catalogue's,
#: which a process whose facet index is older reads to bring it up to date.
KEPT = {CATALOGUE: 2**20}
#: One write transaction in this many prunes the change log of its scopes.
PRUNE_ONE_IN = 64

_SCOPES = "dhu_scopes"
_TABLES = "dhu_tables"
_PRACTICES = "dhu_practices"
_FACETED = "dhu_faceted"
_LOG = DataChange.__table__


def note_scopes(session: Session, scopes: Iterable[str]) -> None:
    """Mark `scopes` as changed by this transaction."""
    session.info.setdefault(_SCOPES, set()).update(scopes)


def note_faceted(session: Session, practices: Iterable[int] | None) -> None:
    """Mark the facet values of `practices` as changed by this transaction (None: of practices
    not known, which makes every process build its facet index again)."""
    noted = session.info.get(_FACETED, set())
    session.info[_FACETED] = None if practices is None or noted is None else noted | {*practices}


def note_statement(session: Session, statement: Executable) -> None:
    """Note an INSERT, UPDATE or DELETE statement run through the session."""
    table = getattr(getattr(statement, "table", None), "name", "")
    session.info.setdefault(_TABLES, set()).add(table)
    note_faceted(session, _faceted_by(statement, table))
    of_practices = _named(statement, "practice_id") if table in PRACTICE_ROWS else None
    if of_practices is not None:
        session.info.setdefault(_PRACTICES, set()).update(of_practices)
    elif table == "organisation" and isinstance(statement, Insert):
        # A new organisation owns no listed practice yet (a quick capture's holding
        # organisation is created so, on its country's first capture).
        note_scopes(session, (ORGANISATIONS,))
    else:
        note_scopes(session, TABLE_SCOPES.get(table, SCOPES))


def _faceted_by(statement: Executable, table: str) -> list[int] | None:
    """The practices whose facet values a statement on `table` changes, when it says so plainly
    (`WHERE id = 1`, `WHERE practice_id IN (1, 2)`); none for an UPDATE of practices that sets
    no column their facets show (a reminder's time); else None (not known)."""
    if table in PRACTICE_ROWS:
        return _named(statement, "practice_id")
    if table != "practice":
        return [] if table in TABLE_SCOPES else None
    if isinstance(statement, Update):
        values = getattr(statement, "_values", None) or {}
        if values and not {getattr(key, "key", key) for key in values} & FACET_COLUMNS:
            return []
    return _named(statement, "id") if isinstance(statement, Update | Delete) else None


def _named(statement: Executable, key: str) -> list[int] | None:
    """The values a statement's WHERE clause holds the column `key` to, when that is all it
    says (`WHERE key = 1` or `key IN (1, 2)`); else None."""
    where = getattr(statement, "whereclause", None)
    if not isinstance(where, BinaryExpression) or getattr(where.left, "key", "") != key:
        return None
    if not isinstance(where.right, BindParameter) or where.right.value is None:
        return None
    if where.operator is operators.eq:
        return [where.right.value]
    if where.operator is operators.in_op:
        return list(where.right.value)
    return None


def note_objects(session: Session) -> None:
    """Note the rows this flush writes (call it in `after_flush`, while they are still listed
    as new, changed and deleted)."""
    practices = session.info.setdefault(_PRACTICES, set())
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(instance), "__tablename__", None) or ""
        session.info.setdefault(_TABLES, set()).add(table)
        if isinstance(instance, Practice):
            note_scopes(session, _practice_scopes(instance, new=instance in session.new))
            if instance not in session.dirty or _facets_changed(instance):
                note_faceted(session, [instance.id])
        elif isinstance(instance, PracticeTag | PracticeCountry):
            practices.add(instance.practice_id)
            note_faceted(session, [instance.practice_id])
        elif isinstance(instance, Organisation) and instance in session.new:
            note_scopes(session, (ORGANISATIONS,))
        elif isinstance(instance, User) and instance in session.dirty and _signed_in(instance):
            note_scopes(session, (SIGN_IN,))
        else:
            note_scopes(session, TABLE_SCOPES.get(table, SCOPES))
            if table not in TABLE_SCOPES:
                note_faceted(session, None)


def _practice_scopes(practice: Practice, *, new: bool) -> set[str]:
    """The catalogue if the practice is listed or archived before or after this flush, the
    drafts if it is not; both when its status before is not known (it was not loaded)."""
    history = inspect(practice).attrs.status.history
    statuses = [*history.added, *history.unchanged, *history.deleted]
    if not statuses or (history.added and not history.deleted and not new):
        return {CATALOGUE, DRAFTS}
    return {_scope_of(status) for status in statuses}


def _facets_changed(practice: Practice) -> bool:
    """True when this flush changes a column of the practice that its facets show."""
    attributes = inspect(practice).attrs
    return any(attributes[name].history.has_changes() for name in FACET_COLUMNS)


def _signed_in(account: User) -> bool:
    """True when the account changed only as signing in, out or failing to changes it."""
    changed = {attr.key for attr in inspect(account).attrs if attr.history.has_changes()}
    return changed <= SIGN_IN_FIELDS


def _scope_of(status: str | None) -> str:
    return CATALOGUE if status in VISIBLE_STATUSES else DRAFTS


def wrote_search_tables(session: Session) -> bool:
    """True when this transaction wrote a table that the catalogue's full-text index reads."""
    return bool(session.info.get(_TABLES, set()) & SEARCH_TABLES)


def record(session: Session) -> None:
    """Append this transaction's scopes to the change log (call it just before commit)."""
    _resolve_practices(session)
    scopes = sorted(session.info.pop(_SCOPES, set()))
    faceted = session.info.pop(_FACETED, set())
    session.info.pop(_TABLES, None)
    if not scopes:
        return
    practices = None
    if faceted is not None and len(faceted) <= MOST_PRACTICES:
        practices = " ".join(str(practice_id) for practice_id in sorted(faceted))
    rows = [
        {"scope": scope, "practices": practices if scope == CATALOGUE else None} for scope in scopes
    ]
    # Through the connection: the session's own hooks must not take the log for data.
    connection = session.connection()
    ids = connection.execute(_LOG.insert().returning(_LOG.c.id), rows).scalars().all()
    if random.random() < 1 / PRUNE_ONE_IN:  # noqa: S311 (not for security)
        _prune(connection, scopes, min(ids))


def _prune(connection: Connection, scopes: list[str], newest: int) -> None:
    """Delete the rows of `scopes` more than `WINDOW` ids (or their `KEPT` ids) older than
    `newest`."""
    for kept in {KEPT.get(scope, WINDOW) for scope in scopes}:
        pruned = [scope for scope in scopes if KEPT.get(scope, WINDOW) == kept]
        older = _LOG.c.id <= newest - kept
        connection.execute(_LOG.delete().where(_LOG.c.scope.in_(pruned), older))


def _resolve_practices(session: Session) -> None:
    """The scopes of the practices whose tags or deployments were written, by their status."""
    ids = session.info.pop(_PRACTICES, set())
    if not ids:
        return
    # Shared locks: the status read decides the scopes only if it cannot change before commit.
    listed = select(Practice.id, Practice.status).where(Practice.id.in_(ids))
    listed = listed.with_for_update(read=True)
    found = dict(session.execute(listed).all())
    note_scopes(session, {_scope_of(status) for status in found.values()})
    if ids - found.keys():  # deleted since, or with their practice: be safe
        note_scopes(session, (CATALOGUE, DRAFTS))


def version(connection: Connection | Session, scopes: Iterable[str] | None = None) -> int:
    """A number that grows whenever a transaction that wrote one of `scopes` (default: any)
    commits: the newest id of theirs in the change log times `WINDOW`, plus how many of their
    rows lie within `WINDOW` ids of it."""
    scopes = tuple(scopes or SCOPES)
    ids, scope = _LOG.c.id, _LOG.c.scope
    # The newest id of each scope, each read off the index, rather than one scan of them all.
    each = union_all(*(select(func.max(ids).label("id")).where(scope == s) for s in scopes))
    newest = select(func.max(each.subquery().c.id)).scalar_subquery()
    top, within = connection.execute(
        select(func.max(ids), func.count()).where(scope.in_(scopes), ids > newest - WINDOW)
    ).one()
    return (top or 0) * WINDOW + within


@dataclass(frozen=True)
class Seen:
    """How far a reader has taken up the rows of one scope: the newest id, and the ids within
    `WINDOW` of it (a late commit may still add a row below the newest)."""

    top: int
    ids: frozenset[int]


def rows_since(
    connection: Connection | Session, scope: str, seen: Seen | None
) -> tuple[list[str | None], Seen] | None:
    """The `practices` of the rows of `scope` that `seen` has not taken up (with None, those
    within `WINDOW` of the newest), and what is seen with them; None when rows it has not taken
    up may have been pruned since."""
    ids = _LOG.c.id
    in_scope = _LOG.c.scope == scope
    if seen is None:
        floor = select(func.max(ids)).where(in_scope).scalar_subquery() - WINDOW
    else:
        floor = seen.top - WINDOW
    # One statement, so that a prune it sees comes with the newer row of its transaction.
    rows = connection.execute(select(ids, _LOG.c.practices).where(in_scope, ids > floor)).all()
    before = seen or Seen(top=0, ids=frozenset())
    top = max([row.id for row in rows], default=before.top)
    if seen is not None and top - seen.top > KEPT.get(scope, WINDOW) - WINDOW:
        return None
    new = [row.practices for row in rows if row.id not in before.ids]
    within = {row.id for row in rows} | before.ids
    return new, Seen(top, frozenset(i for i in within if i > top - WINDOW))
