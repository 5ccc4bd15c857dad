"""Import and export of practices: rows of the import columns in, CSV, JSON and XLSX out.

The columns are the contract of DESIGN.md: lists separated by `;`, countries as ISO 3166-1
alpha-2 codes, code lists as codes (import also accepts labels, in any letter case). Files are
read by `import_file` and written by `spreadsheet`.
"""

import io
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, delete, func, insert, select
from sqlmodel import Session

from dhu_core import audit, db, import_worker, spreadsheet, taxonomy
from dhu_core.accounts import SYSTEM, require_role, system_actor
from dhu_core.i18n import _, format_number, ngettext
from dhu_core.import_file import COLUMNS, REQUIRED_COLUMNS, read_rows
from dhu_core.models import (
    LISTED,
    LISTED_STATUS,
    PRACTICE_TAG_FIELDS,
    Organisation,
    OrganisationCreate,
    Practice,
    PracticeCountry,
    PracticeCreate,
    PracticeTag,
    User,
    field_errors,
    utcnow,
)
from dhu_core.organisations import CAPTURE_ORGANISATION
from dhu_core.practices import load_public
from dhu_core.spreadsheet import ILLEGAL_CHARACTERS_RE

LIST_COLUMNS = ("countries", *PRACTICE_TAG_FIELDS.values())
PRACTICE_COLUMNS = tuple(c for c in COLUMNS if c not in ("owner_organisation", "owner_country"))
#: Columns of the organisation a row names, by the OrganisationCreate field each fills.
OWNER_COLUMNS = {"name": "owner_organisation", "country": "owner_country"}
FORMATS = ("csv", "json", "xlsx")
CHUNK_ROWS = 2000
#: How many rows are validated between two progress reports.
PROGRESS_EVERY = 500
#: How many row problems a report lists; it counts all of them.
MAX_ERRORS = 1_000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RowError:
    """One problem in one cell: the row as a spreadsheet numbers it (header = 1) and column."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("row {row}, column {column}: {message}").format(
            row=self.row, column=self.column, message=self.message
        )


@dataclass
class ImportReport:
    """What an import read and stored, which rows it rejected, and why.

    `rejected` counts rows (a row with several bad cells once) and `problems` every problem;
    `errors` lists the first MAX_ERRORS problems, by row and column.
    """

    rows_read: int = 0
    imported: int = 0
    rejected: int = 0
    blank: int = 0
    problems: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return not self.rejected

    @property
    def unlisted(self) -> int:
        """How many problems are counted but not in `errors`."""
        return self.problems - len(self.errors)

    def summary(self) -> str:
        """One sentence for people: rows read, imported, rejected and blank."""
        parts = [
            _count(
                ngettext("Read {count} row", "Read {count} rows", self.rows_read), self.rows_read
            ),
            _count(
                ngettext("imported {count} practice", "imported {count} practices", self.imported),
                self.imported,
            ),
        ]
        if self.rejected:
            parts.append(
                _count(
                    ngettext("rejected {count} row", "rejected {count} rows", self.rejected),
                    self.rejected,
                )
            )
        if self.blank:
            parts.append(
                _count(
                    ngettext("skipped {count} blank row", "skipped {count} blank rows", self.blank),
                    self.blank,
                )
            )
        return ", ".join(parts) + "."


def _count(text: str, number: int) -> str:
    return text.format(count=format_number(number))


@dataclass
class _Problems:
    """Row problems as they are found, in row order: all counted, the first MAX_ERRORS kept."""

    kept: list[RowError] = field(default_factory=list)
    count: int = 0
    rows: int = 0

    def add(self, errors: list[RowError]) -> None:
        self.rows += 1
        self.count += len(errors)
        if len(self.kept) < MAX_ERRORS:
            self.kept.extend(errors)


@dataclass
class _Row:
    number: int
    practice: PracticeCreate
    owner: OrganisationCreate

    @property
    def owner_key(self) -> tuple[str, str]:
        return self.owner.name.casefold(), self.owner.country


# --- importing ---------------------------------------------------------------------------


def import_practices(
    rows: Iterable[dict[str, Any]],
    *,
    actor: User,
    engine: Engine | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Store the valid rows as published practices in one transaction; report the others.

    Blank rows are skipped. A row whose title, owner organisation and owner country (in any
    letter case) repeat an earlier row or a practice already stored is rejected as a duplicate.
    `progress(done, total)` counts steps: each row is checked, then (when valid) stored.
    """
    require_role(actor, "admin", SYSTEM)
    rows = list(rows)
    steps = 2 * len(rows)
    done = len(rows)

    def stored(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress(done, steps)

    report = ImportReport(rows_read=len(rows))
    invalid, duplicates = _Problems(), _Problems()
    valid: list[_Row] = []
    for index, row in enumerate(rows):
        cells = {column: _cell_text(row.get(column)) for column in COLUMNS}
        if not any(cells.values()):
            report.blank += 1
        elif isinstance(checked := _validate(index + 2, cells), _Row):
            valid.append(checked)
        else:
            invalid.add(checked)
        if progress and (index + 1) % PROGRESS_EVERY == 0:
            progress(index + 1, steps)
    with db.session_scope(engine) as session:
        owners = _existing_owners(session, {row.owner.country for row in valid})
        accepted = _without_duplicates(session, valid, owners, duplicates)
        _store(session, accepted, owners, actor, stored)
        report.imported = len(accepted)
        report.rejected = invalid.rows + duplicates.rows
        # An ORM write, so the commit also bumps the data version and caches refresh.
        audit.record(
            session, actor, "practice.imported", imported=report.imported, rejected=report.rejected
        )
    report.problems = invalid.count + duplicates.count
    # Each list holds the first problems of its own pass, so together they hold the first ones.
    found = sorted(invalid.kept + duplicates.kept, key=lambda e: (e.row, COLUMNS.index(e.column)))
    report.errors = found[:MAX_ERRORS]
    if progress:
        progress(steps, steps)
    return report


def import_upload(
    data: bytes,
    *,
    name: str,
    actor: User,
    engine: Engine | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import an uploaded file: read by a child process within limits, then stored as above."""
    # Checked first, so that nobody else can make the server start a reader.
    require_role(actor, "admin", SYSTEM)
    rows = import_worker.read_rows_isolated(data, name=name)
    return import_practices(rows, actor=actor, engine=engine, progress=progress)


def _cell_text(value: Any) -> str:
    """A cell as the text a CSV file would hold, whatever the source gave (XLSX, JSON, dict)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple | set):
        return ";".join(_cell_text(item) for item in value)
    return str(value).strip()


def _validate(number: int, cells: dict[str, str]) -> _Row | list[RowError]:
    empty = _("required, but empty")
    messages = {column: empty for column in REQUIRED_COLUMNS if not cells[column]}
    # PostgreSQL text cannot hold NUL, and an XLSX export could not hold the other ones.
    for column, text in cells.items():
        if ILLEGAL_CHARACTERS_RE.search(text):
            messages.setdefault(column, _("contains a control character; remove it"))
    practice = owner = None
    try:
        practice = PracticeCreate.model_validate({c: cells[c] for c in PRACTICE_COLUMNS})
    except ValidationError as error:
        for name, message in field_errors(error).items():
            messages.setdefault(name, message)
    try:
        owner = OrganisationCreate.model_validate(
            {name: cells[column] for name, column in OWNER_COLUMNS.items()}
        )
    except ValidationError as error:
        for name, message in field_errors(error).items():
            messages.setdefault(OWNER_COLUMNS[name], message)
    if owner is not None and owner.name.casefold() == CAPTURE_ORGANISATION.casefold():
        messages.setdefault(
            "owner_organisation",
            _("this name is kept for workshop captures; name the real owner"),
        )
    if messages or practice is None or owner is None:
        return [RowError(number, column, message) for column, message in messages.items()]
    return _Row(number, practice, owner)


def _existing_owners(session: Session, countries: set[str]) -> dict[tuple[str, str], int]:
    """Organisations of these countries by (case-folded name, country); the oldest wins."""
    found = session.execute(
        select(Organisation.id, Organisation.name, Organisation.country)
        .where(Organisation.country.in_(sorted(countries)))
        .order_by(Organisation.id.desc())
    )
    return {(name.casefold(), country): org_id for org_id, name, country in found}


def _without_duplicates(
    session: Session,
    rows: list[_Row],
    owners: dict[tuple[str, str], int],
    problems: _Problems,
) -> list[_Row]:
    owner_ids = sorted({owners[row.owner_key] for row in rows if row.owner_key in owners})
    existing = set()
    for chunk in _chunks(owner_ids, 1000):
        existing.update(
            (title.casefold(), org_id)
            for title, org_id in session.execute(
                select(Practice.title, Practice.owner_organisation_id).where(
                    Practice.owner_organisation_id.in_(chunk)
                )
            )
        )
    first_row: dict[tuple[str, tuple[str, str]], int] = {}
    accepted = []
    for row in rows:
        key = (row.practice.title.casefold(), row.owner_key)
        if key in first_row:
            message = _("duplicate of row {row} (same title and owner organisation)").format(
                row=first_row[key]
            )
            problems.add([RowError(row.number, "title", message)])
        elif (key[0], owners.get(row.owner_key)) in existing:
            message = _("this organisation already has a practice with this title")
            problems.add([RowError(row.number, "title", message)])
        else:
            first_row[key] = row.number
            accepted.append(row)
    return accepted


def _store(
    session: Session,
    rows: list[_Row],
    owners: dict[tuple[str, str], int],
    actor: User,
    stored: Callable[[int], None],
) -> None:
    now = utcnow()
    new_owners = {row.owner_key: row.owner for row in rows if row.owner_key not in owners}
    owner_rows = [
        {**owner.model_dump(), "organisation_type": "other", "created_at": now}
        for owner in new_owners.values()
    ]
    owners.update(zip(new_owners, _insert_with_ids(session, Organisation, owner_rows), strict=True))
    practice_ids = _reserve_ids(session, Practice, len(rows))
    for chunk in _chunks(range(len(rows)), CHUNK_ROWS):
        practices, countries, tags = [], [], []
        for index in chunk:
            row, practice_id = rows[index], practice_ids[index]
            practices.append(
                {
                    **row.practice.model_dump(exclude=set(LIST_COLUMNS)),
                    "id": practice_id,
                    "owner_organisation_id": owners[row.owner_key],
                    "created_by_id": actor.id,
                    "status": LISTED_STATUS,
                    "rejection_reason": None,
                    "featured": False,
                    "featured_analysis": None,
                    "created_at": now,
                    "updated_at": now,
                    "published_at": now,
                    "last_confirmed_at": now,
                }
            )
            countries.extend(
                {"practice_id": practice_id, "country": country, "region": None, "scale": None}
                for country in row.practice.countries
            )
            tags.extend(
                {"practice_id": practice_id, "kind": kind, "code": code}
                for kind, name in PRACTICE_TAG_FIELDS.items()
                for code in getattr(row.practice, name)
            )
        for model, table_rows in ((Practice, practices), (PracticeCountry, countries)):
            session.execute(insert(model.__table__), table_rows)
        if tags:
            session.execute(insert(PracticeTag.__table__), tags)
        stored(len(chunk))


def _insert_with_ids(session: Session, model: type, rows: list[dict]) -> list[int]:
    """Insert rows with new ids and return the ids, in the order of `rows`."""
    ids = _reserve_ids(session, model, len(rows))
    for chunk in _chunks(
        [{**row, "id": id_} for row, id_ in zip(rows, ids, strict=True)], CHUNK_ROWS
    ):
        session.execute(insert(model.__table__), chunk)
    return ids


def _reserve_ids(session: Session, model: type, count: int) -> list[int]:
    """New primary keys for `count` rows of `model`, before the rows are inserted.

    Plain executemany with known ids is three times faster on PostgreSQL than an insert that
    returns the ids (psycopg parses the long multi-row statement that needs).
    """
    table = model.__table__
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        # Taken from the table's own sequence, so later inserts never collide with them.
        sequence = func.pg_get_serial_sequence(table.name, "id")
        series = func.generate_series(1, count)
        return list(session.execute(select(func.nextval(sequence)).select_from(series)).scalars())
    # SQLite itself gives a new row the highest id plus one. Should another process insert
    # between this read and our insert, ours fails on the primary key instead of mixing rows.
    highest = session.execute(select(func.max(table.c.id))).scalar() or 0
    return list(range(highest + 1, highest + count + 1))


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- exporting ---------------------------------------------------------------------------


def export_practices(
    ids: Sequence[int] | None = None, *, engine: Engine | None = None
) -> list[dict[str, Any]]:
    """Published practices as rows of the import columns: those of `ids` in order, or all."""
    published = select(Practice.id).where(LISTED)
    with db.read_scope(engine) as session:
        if ids is None:
            chosen = list(session.execute(published.order_by(Practice.id)).scalars())
        else:
            wanted = list(dict.fromkeys(ids))
            found: set[int] = set()
            for chunk in _chunks(wanted, 1000):
                found.update(session.execute(published.where(Practice.id.in_(chunk))).scalars())
            chosen = [practice_id for practice_id in wanted if practice_id in found]
        practices = [p for chunk in _chunks(chosen, 1000) for p in load_public(session, chunk)]
    return [{column: getattr(p, column) for column in COLUMNS} for p in practices]


def export_bytes(
    rows: Iterable[dict[str, Any]], fmt: str, *, header: Sequence[str] = COLUMNS
) -> bytes:
    """Rows as the bytes of a CSV, JSON or XLSX file, for a download button or the CLI.

    A spreadsheet's `header` is the column names, or for people the labels of a page's language
    (`import_file.column_labels()`), which the import reads back too; JSON keeps the names.
    """
    if fmt == "csv":
        return spreadsheet.csv_bytes(header, _cells(rows))
    if fmt == "xlsx":
        return spreadsheet.xlsx_bytes(header, _cells(rows), sheet="practices")
    if fmt == "json":
        # Lists stay JSON arrays.
        objects = [{column: row.get(column) for column in COLUMNS} for row in rows]
        return (json.dumps(objects, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    raise ValueError(f"unknown export format '{fmt}' (use one of: {', '.join(FORMATS)})")


def _cells(rows: Iterable[dict[str, Any]]) -> Iterator[list[Any]]:
    """Rows as spreadsheet cells: lists joined by ';', yes/no for booleans, None empty."""
    for row in rows:
        yield [_cell(row.get(column)) for column in COLUMNS]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ";".join(str(item) for item in value)
    return value


# --- benchmark ---------------------------------------------------------------------------


def run_import_bench(*, engine: Engine, rows: int = 10_000) -> dict[str, Any]:
    """Import `rows` generated practices from a CSV file, time it, then delete them again."""
    run = uuid.uuid4().hex[:8]
    countries = ("DE", "FR", "IT", "ES", "PL", "NL", "SE", "EE", "PT", "XK")
    domains = list(taxonomy.HEALTH_DOMAINS)
    dhi = list(taxonomy.DHI_CODES)
    generated = [
        {
            "title": f"Benchmark practice {n}",
            "summary": f"A generated practice number {n} that measures how fast imports are.",
            "practice_type": list(taxonomy.PRACTICE_TYPES)[n % 6],
            "maturity": n % 5 + 1,
            "countries": countries[n % 10 : n % 10 + 1 + n % 3],
            "owner_organisation": f"Benchmark organisation {run} {n % 500}",
            "owner_country": countries[n % 10],
            "health_domains": [domains[n % 20], domains[(n + 7) % 20]],
            "dhi_codes": [dhi[n % len(dhi)]],
            "standards": ["fhir", "snomed-ct"][: n % 3],
            "languages": ["en", "de"][: 1 + n % 2],
            "website": f"https://example.org/practice/{n}",
            "contact_email": f"contact{n}@example.org",
            "start_year": 2010 + n % 15,
            "transferable": (True, False, None)[n % 3],
        }
        for n in range(rows)
    ]
    data = export_bytes(generated, "csv")
    started = time.perf_counter()
    report = import_practices(
        read_rows(io.BytesIO(data), format="csv"), engine=engine, actor=system_actor("bench")
    )
    seconds = time.perf_counter() - started
    with db.session_scope(engine) as session:
        bench_owners = select(Organisation.id).where(
            Organisation.name.like(f"Benchmark organisation {run} %")
        )
        session.execute(delete(Practice).where(Practice.owner_organisation_id.in_(bench_owners)))
        session.execute(delete(Organisation).where(Organisation.id.in_(bench_owners)))
        db.bump_data_version(session)
    return {
        "backend": engine.dialect.name,
        "rows": rows,
        "imported": report.imported,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
    }
