"""The open-data download: every listed practice as CSV and JSON, with a data dictionary.

A file is generated at most once per data version (and licence and public address) and kept
under DHU_DATA_DIR/open-data/, so a request for unchanged data only sends the file. It is
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

from dhu_core import db, spreadsheet, taxonomy
from dhu_core.config import DATA_DIR, get_settings
from dhu_core.models import LISTED, Practice, PracticePublic, utcnow
from dhu_core.open_data import rfc3339
from dhu_core.open_data.links import Licence, practice_url
from dhu_core.practices import load_public

FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
FILE_NAME = "dhu-practices"
#: Practices read per query while a file is written.
CHUNK = 1000
#: A file of an older data version is deleted this long after it was written (a request may
#: still be sending it).
KEEP_OLD_SECONDS = 600
_DICTIONARY_FILE = DATA_DIR / "open_data_dictionary.csv"
#: One writer per format and process: two requests for new data wait for one file.
_WRITING = {fmt: threading.Lock() for fmt in FORMATS}


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


def open_data_file(
    fmt: str, *, base_url: str, licence: Licence, engine: Engine | None = None
) -> Path:
    """The open-data file of `fmt` (csv or json) for the data as they are now.

    Written when the data, the licence or the address changed since the last one; else the
    file written then.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown open-data format '{fmt}' (use one of: {', '.join(FORMATS)})")
    engine = engine or db.get_engine()
    folder = get_settings().dhu_data_dir / "open-data"
    # One snapshot: the file holds exactly the data of the version its name says.
    with db.read_scope(engine) as session:
        key = json.dumps(
            [
                engine.url.render_as_string(hide_password=True),
                db.data_version_in(session),
                licence.name,
                licence.url,
                base_url,
            ]
        )
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
        path = folder / f"{FILE_NAME}-{digest}.{fmt}"
        if path.exists():
            return path
        with _WRITING[fmt]:
            if not path.exists():
                folder.mkdir(parents=True, exist_ok=True)
                _write(path, fmt, session, base_url=base_url, licence=licence)
                _forget_old(folder, fmt, keep=path)
    return path


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
