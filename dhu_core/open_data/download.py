"""The open-data download: every listed practice as CSV and JSON, with a data dictionary.

A file is generated at most once per data version (and licence and public address) and kept
under DHU_DATA_DIR/open-data/, so a request for unchanged data only sends the file; after a
change the last file is sent while the new one is written in the background. It is
written in chunks of practices to a temporary file and renamed into place, so a reader never
sees half a file, whatever the size of the catalogue.
"""

import csv
import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine, select
from sqlmodel import Session

from dhu_core import changes, db, spreadsheet, taxonomy
from dhu_core.config import DATA_DIR, get_settings
from dhu_core.errors import log_failure
from dhu_core.models import LISTED, Practice, PracticePublic, utcnow
from dhu_core.open_data import rfc3339
from dhu_core.open_data.links import Licence, practice_url
from dhu_core.practices import load_public

FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
FILE_NAME = "dhu-practices"
#: What the files hold: the listed practices (a new file is written when these change).
SCOPES = (changes.CATALOGUE,)
#: Practices read per query while a file is written.
CHUNK = 1000
#: A file of an older data version is deleted this long after it was written (a request may
#: still be sending it).
KEEP_OLD_SECONDS = 600
_DICTIONARY_FILE = DATA_DIR / "open_data_dictionary.csv"
#: One writer per format and process: two requests for new data wait for one file.
_WRITING = {fmt: threading.Lock() for fmt in FORMATS}
#: A new file is started at most this often (seconds): writes come in bursts, and at 100,000
#: practices a file takes some 20 s to write.
REFRESH_SECONDS = 60
#: When the last new file of each format was started (time.monotonic()).
_STARTED: dict[str, float] = {}


@dataclass(frozen=True)
class Column:
    """One column of the open data, as the data dictionary describes it."""

    column: str
    type: str
    description: str


def _read_dictionary() -> tuple[Column, ...]:
    with open(_DICTIONARY_FILE, encoding="utf-8", newline="") as f:
        return tuple(Column(**row) for row in csv.DictReader(f))


DATA_DICTIONARY = _read_dictionary()
COLUMNS = tuple(column.column for column in DATA_DICTIONARY)


def data_dictionary_csv() -> bytes:
    """The data dictionary as a CSV file: column, type, description."""
    rows = ([c.column, c.type, c.description] for c in DATA_DICTIONARY)
    return spreadsheet.csv_bytes(("column", "type", "description"), rows)


def data_dictionary_json() -> bytes:
    """The data dictionary as a JSON array of {column, type, description}."""
    return _json([asdict(column) for column in DATA_DICTIONARY], indent=1).encode("utf-8")


def open_data_file(fmt: str, *, licence: Licence, engine: Engine | None = None) -> Path:
    """The open-data file of `fmt` (csv or json): that of the data as they are now, or while it
    is being written, the newest one written before.

    Only the very first request, with no file at all, waits for one. After a change a request
    starts a new file in the background (at most one per format, and one per
    `REFRESH_SECONDS`) and is answered with the last one: a visitor never waits for a rebuild.
    Links in the files are absolute under DHU_PUBLIC_URL, else paths on this site: the address
    a request names (its Host header) never goes into a file that others are sent.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown open-data format '{fmt}' (use one of: {', '.join(FORMATS)})")
    engine = engine or db.get_engine()
    settings = get_settings()
    snapshot = _Snapshot(
        fmt=fmt,
        folder=settings.dhu_data_dir / "open-data",
        base_url=(settings.dhu_public_url or "").rstrip("/"),
        licence=licence,
        engine=engine,
    )
    version = db.data_version(engine, scopes=SCOPES)
    if (path := snapshot.path(version)).exists():
        return path
    if (previous := snapshot.newest()) is None:
        with _WRITING[fmt]:
            return snapshot.path(version) if snapshot.path(version).exists() else snapshot.write()
    if _version_of(previous) < version:
        # Not when another request has just written the file of this version: a refresh
        # started for nothing would hold back the next one by REFRESH_SECONDS.
        snapshot.refresh_in_background()
    return previous


@dataclass(frozen=True)
class _Snapshot:
    """The open-data files of one format, licence, address and database."""

    fmt: str
    folder: Path
    base_url: str
    licence: Licence
    engine: Engine

    @property
    def _prefix(self) -> str:
        settings = [
            self.engine.url.render_as_string(hide_password=True),
            self.licence.name,
            self.licence.url,
            self.base_url,
        ]
        return f"{FILE_NAME}-{hashlib.sha256(json.dumps(settings).encode()).hexdigest()[:16]}"

    def path(self, version: int) -> Path:
        """The file of the data at `version`."""
        return self.folder / f"{self._prefix}-{version}.{self.fmt}"

    def newest(self) -> Path | None:
        """The file of the newest data written so far, if any."""
        written = [(_version_of(p), p) for p in self.folder.glob(f"{self._prefix}-*.{self.fmt}")]
        return max(written)[1] if written else None

    def write(self) -> Path:
        """Write the file of the data as they are now, in one snapshot, and return it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with db.read_scope(self.engine) as session:
            path = self.path(db.data_version_in(session, scopes=SCOPES))
            if not path.exists():
                _write(path, self.fmt, session, base_url=self.base_url, licence=self.licence)
        _forget_old(self.folder, self.fmt, keep=path)
        return path

    def refresh_in_background(self) -> None:
        """Start writing the newest file unless one is being written or was started lately."""
        now = time.monotonic()
        if now - _STARTED.get(self.fmt, -REFRESH_SECONDS) < REFRESH_SECONDS:
            return
        if not _WRITING[self.fmt].acquire(blocking=False):
            return
        _STARTED[self.fmt] = now
        threading.Thread(target=self._refresh, name=f"open-data-{self.fmt}", daemon=True).start()

    def _refresh(self) -> None:
        try:
            self.write()
        except Exception as error:  # noqa: BLE001 (the last file is still served)
            log_failure(error)
        finally:
            _WRITING[self.fmt].release()


def _version_of(path: Path) -> int:
    return int(path.stem.rsplit("-", 1)[1])


def _write(path: Path, fmt: str, session: Session, *, base_url: str, licence: Licence) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        # The byte-order mark makes spreadsheet programs read the CSV file as UTF-8.
        encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
        with open(temporary, "w", encoding=encoding, newline="") as file:
            records = _records(session, base_url)
            if fmt == "csv":
                spreadsheet.write_csv(COLUMNS, (_csv_row(r) for r in records), file)
            else:
                _write_json(file, records, base_url=base_url, licence=licence)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _forget_old(folder: Path, fmt: str, *, keep: Path) -> None:
    """Delete the files of older data, once no request can still be sending them."""
    old = time.time() - KEEP_OLD_SECONDS
    for path in [*folder.glob(f"{FILE_NAME}-*.{fmt}"), *folder.glob(f".{FILE_NAME}-*.tmp")]:
        if path != keep and path.stat().st_mtime < old:
            path.unlink(missing_ok=True)


def _records(session: Session, base_url: str) -> Iterator[dict[str, Any]]:
    """Every listed practice as a record of the open-data columns, by id, read in chunks."""
    ids = list(session.execute(select(Practice.id).where(LISTED).order_by(Practice.id)).scalars())
    for start in range(0, len(ids), CHUNK):
        for practice in load_public(session, ids[start : start + CHUNK]):
            yield _record(practice, base_url)


def _record(p: PracticePublic, base_url: str) -> dict[str, Any]:
    """A practice in the open-data columns; personal data (the contact address) is not one."""
    return {
        "id": p.id,
        "url": practice_url(base_url, p.id),
        "title": p.title,
        "text_language": p.text_language,
        "summary": p.summary,
        "description": p.description,
        "practice_type": p.practice_type,
        "practice_type_label": p.practice_type and taxonomy.PRACTICE_TYPES.label(p.practice_type),
        "maturity": p.maturity,
        "maturity_label": p.maturity and taxonomy.MATURITY_LEVELS.label(p.maturity),
        "start_year": p.start_year,
        "evidence": p.evidence,
        "licence": p.licence,
        "transferable": p.transferable,
        "support_offered": p.support_offered,
        "transfer_capacity": p.transfer_capacity,
        "website": p.website,
        "owner_organisation": p.owner_organisation,
        "owner_country": p.owner_country,
        "countries": p.countries,
        "health_domains": p.health_domains,
        "health_domain_labels": [taxonomy.HEALTH_DOMAINS.label(c) for c in p.health_domains],
        "dhi_codes": p.dhi_codes,
        "dhi_labels": [taxonomy.DHI_CODES.label(c) for c in p.dhi_codes],
        "standards": p.standards,
        "standard_labels": [taxonomy.STANDARDS.label(c) for c in p.standards],
        "languages": p.languages,
        "language_labels": [taxonomy.LANGUAGES.label(c) for c in p.languages],
        "published_at": p.published_at and rfc3339(p.published_at),
        "last_confirmed_at": p.last_confirmed_at and rfc3339(p.last_confirmed_at),
    }


def _csv_row(record: dict[str, Any]) -> list[Any]:
    """A record as CSV cells: lists joined by ';', yes/no for booleans, None empty."""
    cells = []
    for column in COLUMNS:
        value = record[column]
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, list):
            value = ";".join(value)
        cells.append("" if value is None else value)
    return cells


def _write_json(
    file: TextIO, records: Iterator[dict[str, Any]], *, base_url: str, licence: Licence
) -> None:
    """The JSON file: licence, time, source and data dictionary, then the practices, written
    one by one so that the catalogue is never held in memory whole."""
    head = {
        "licence": {"name": licence.name, "url": licence.url},
        "generated_at": rfc3339(utcnow()),
        "source": f"{base_url}/radar",
        "data_dictionary": [asdict(column) for column in DATA_DICTIONARY],
    }
    file.write("{\n")
    for name, value in head.items():
        file.write(f"{_json(name)}: {_json(value)},\n")
    file.write('"practices": [')
    for number, record in enumerate(records):
        file.write(("," if number else "") + "\n" + _json(record))
    file.write("\n]}\n")


def _json(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)
