"""The rows of an import file (CSV or XLSX), read as a stream within limits.

The columns are the contract of DESIGN.md. A file is refused whole, with a message for the
person who gave it, when it cannot be read, when its header row is wrong, or when it holds more
than an import may: the limits below are checked before any work where they can be (the file
size, the zip package of a workbook) and otherwise as the rows stream by, so that a small
hostile file can never make the reader build something large.
"""

import codecs
import csv
import functools
import io
import itertools
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from dhu_core import i18n, xlsx
from dhu_core.i18n import N_, _, format_number, ngettext
from dhu_core.spreadsheet import restore_text
from dhu_core.xlsx import MB, PackageLimits, size_text

COLUMNS = (
    "title",
    "summary",
    "practice_type",
    "maturity",
    "countries",
    "owner_organisation",
    "owner_country",
    "health_domains",
    "dhi_codes",
    "standards",
    "languages",
    "website",
    "contact_email",
    "start_year",
    "transferable",
    "text_language",
)
REQUIRED_COLUMNS = COLUMNS[:7]
#: Each column's name for people (translated with `_()`): the header of a spreadsheet that a
#: page gives for download, in the page's language. The import reads a header row of the
#: column names above or of these labels in any of the interface's languages, so that such a
#: file can be imported again.
COLUMN_LABELS = {
    "title": N_("Title"),
    "summary": N_("Summary"),
    "practice_type": N_("Type of practice"),
    "maturity": N_("Maturity"),
    "countries": N_("Countries of deployment"),
    "owner_organisation": N_("Owner organisation"),
    "owner_country": N_("Owner country"),
    "health_domains": N_("Health domains"),
    "dhi_codes": N_("WHO digital health interventions"),
    "standards": N_("Interoperability standards"),
    "languages": N_("Languages"),
    "website": N_("Website"),
    "contact_email": N_("Contact e-mail"),
    "start_year": N_("Start year"),
    "transferable": N_("Willing to transfer"),
    "text_language": N_("Written in"),
}
FORMATS = ("csv", "xlsx")

_LIST = ", ".join(COLUMNS)


class ImportFileError(ValueError):
    """The whole file cannot be imported: unreadable, too large, or its header row is wrong."""


@dataclass(frozen=True)
class ImportLimits:
    """How much an import file may hold; a file beyond any of these is refused whole."""

    #: The file as given (CSV text, or the packed workbook).
    file_bytes: int = 256 * MB
    #: Data rows, below the header; the benchmark imports 10,000, the demo data set 100,000.
    rows: int = 200_000
    #: Columns holding a value; the import has 15, the rest leaves room for empty ones.
    columns: int = 64
    #: Characters in one cell: Excel's own limit.
    cell_chars: int = 32_767
    #: Characters in all the cells read together (a shared string may be used by every cell).
    text_chars: int = 256_000_000
    package: PackageLimits = field(default_factory=PackageLimits)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "ImportLimits":
        """The limits that `dataclasses.asdict` turned into `values`."""
        return cls(**{**values, "package": PackageLimits(**values["package"])})


LIMITS = ImportLimits()


def read_rows(
    source: str | Path | IO[bytes] | IO[str],
    *,
    format: str | None = None,
    limits: ImportLimits = LIMITS,
) -> Iterator[dict[str, Any]]:
    """The data rows of a CSV or XLSX file as dicts by column; ImportFileError if refused.

    The size, the package and the header are checked at once; a limit the rows break raises
    ImportFileError while they are read, before the row that breaks it.
    """
    data = _read(source, limits.file_bytes)
    fmt = file_format(source, data) if format is None else format.lower().lstrip(".")
    check_file(data, fmt, limits)
    table = _csv_table(data, limits) if fmt == "csv" else _xlsx_table(data, limits)
    number, header = next(table, (1, None))
    if header is None:
        raise ImportFileError(
            _("the file is empty: its first row must name the columns ({columns})").format(
                columns=_LIST
            )
        )
    if number != 1:
        raise ImportFileError(
            _("the first row is empty: it must name the columns ({columns})").format(columns=_LIST)
        )
    return _data_rows(table, _check_header(header), limits)


def file_format(source: object, data: bytes | str) -> str:
    """The format of a file by the suffix of its name, else by its first bytes."""
    name = str(source) if isinstance(source, str | Path) else getattr(source, "name", "")
    suffix = Path(str(name)).suffix
    if suffix:
        return suffix.lower().lstrip(".")
    return "xlsx" if isinstance(data, bytes) and data.startswith(b"PK\x03\x04") else "csv"


def check_file(data: bytes | str, fmt: str, limits: ImportLimits = LIMITS) -> None:
    """Refuse, before any reading, a file of another format, too large, or a zip bomb."""
    if fmt not in FORMATS:
        raise ImportFileError(
            _("cannot import a .{format} file: use CSV (.csv) or Excel (.xlsx)").format(format=fmt)
        )
    if len(data) > limits.file_bytes:
        raise ImportFileError(_too_large(limits.file_bytes))
    if fmt == "xlsx":
        if isinstance(data, str):
            raise ImportFileError(_("an Excel file must be opened in binary mode"))
        try:
            xlsx.check_package(data, limits.package)
        except xlsx.WorkbookError as error:
            raise ImportFileError(str(error)) from error


def _read(source: str | Path | IO[bytes] | IO[str], limit: int) -> bytes | str:
    if isinstance(source, str | Path):
        try:
            if Path(source).stat().st_size > limit:
                raise ImportFileError(_too_large(limit))
            return Path(source).read_bytes()
        except OSError as error:
            raise ImportFileError(
                _("cannot read {file}: {reason}").format(file=source, reason=error.strerror)
            ) from error
    # One byte more than allowed tells a file too large, without reading all of it.
    return source.read(limit + 1)


def _too_large(limit: int) -> str:
    return _(
        "the file is larger than {size}, the most an import may be: split it into parts"
    ).format(size=size_text(limit))


def _csv_table(data: bytes | str, limits: ImportLimits) -> Iterator[tuple[int, list[str]]]:
    """(record number, cells) of each CSV record, the header being number 1."""
    if isinstance(data, bytes):
        _check_utf8(data)
        text: IO[str] = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    else:
        text = io.StringIO(data.removeprefix("\ufeff"), newline="")
    first_line = text.readline()
    # Spreadsheets in many European locales save CSV with semicolons.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    # An empty file has no first line to give back (csv reads "" as an empty record).
    lines = itertools.chain([first_line], text) if first_line else text
    reader = csv.reader(lines, delimiter=delimiter)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            _check_cells(record, number, limits)
            yield number, [restore_text(cell) for cell in record[: limits.columns]]
    except csv.Error as error:
        # The csv module's own field limit (131,072) is above ours, so it means a long cell.
        if "field larger than field limit" in str(error):
            raise ImportFileError(_too_long(number + 1, limits)) from error
        raise ImportFileError(
            _("the file is not valid CSV (row {row}): {reason}").format(
                row=number + 1, reason=error
            )
        ) from error


def _check_utf8(data: bytes) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(view), MB):
            decoder.decode(view[start : start + MB])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _("the file is not UTF-8 text: save it as 'CSV UTF-8' and try again")
        ) from error


def _check_cells(record: list[str], number: int, limits: ImportLimits) -> None:
    beyond = record[limits.columns :]
    if any(beyond):
        column = limits.columns + next(i for i, cell in enumerate(beyond, start=1) if cell)
        raise ImportFileError(
            _(
                "row {row} has a value in column {column}: an import file has at most {most} "
                "columns"
            ).format(row=number, column=column, most=limits.columns)
        )
    if record and max(map(len, record)) > limits.cell_chars:
        raise ImportFileError(_too_long(number, limits))


def _too_long(row: int, limits: ImportLimits) -> str:
    return _("a cell in row {row} holds more than {most} characters, the most allowed").format(
        row=row, most=format_number(limits.cell_chars)
    )


def _xlsx_table(data: bytes | str, limits: ImportLimits) -> Iterator[tuple[int, list[Any]]]:
    try:
        yield from xlsx.sheet_rows(data, columns=limits.columns, cell_chars=limits.cell_chars)
    except xlsx.WorkbookError as error:
        raise ImportFileError(str(error)) from error


def _check_header(header: Sequence[Any]) -> list[tuple[int, str]]:
    names = [column_of(str(cell)) if cell is not None else "" for cell in header]
    columns = [(i, name) for i, name in enumerate(names) if name]
    counts = Counter(name for _, name in columns)
    unknown = [name for name in counts if name not in COLUMNS]
    if unknown:
        raise ImportFileError(
            ngettext(
                "unknown column: {names} (the columns are: {columns})",
                "unknown columns: {names} (the columns are: {columns})",
                len(unknown),
            ).format(names=_names(unknown), columns=_LIST)
        )
    twice = sorted(name for name, count in counts.items() if count > 1)
    if twice:
        raise ImportFileError(_("column named more than once: {names}").format(names=_names(twice)))
    missing = [name for name in REQUIRED_COLUMNS if name not in counts]
    if missing:
        raise ImportFileError(
            ngettext(
                "missing required column: {names}",
                "missing required columns: {names}",
                len(missing),
            ).format(names=", ".join(missing))
        )
    return columns


def column_labels() -> list[str]:
    """The header of a downloaded spreadsheet: each column's label in the page's language."""
    return [_(COLUMN_LABELS[column]) for column in COLUMNS]


def column_of(name: str) -> str:
    """The column a header cell names: a column name, or a label in any interface language
    (in any letter case); else the cell's text in lower case, for the message."""
    key = " ".join(name.split()).casefold()
    if key in COLUMNS:
        return key
    return _labelled().get(key, name.strip().lower())


@functools.cache
def _labelled() -> dict[str, str]:
    labels = {}
    for code in i18n.LANGUAGES:
        with i18n.language(code):
            labels.update({_(label).casefold(): column for column, label in COLUMN_LABELS.items()})
    return labels


def _names(names: list[str], shown: int = 10) -> str:
    """Names for a message: at most `shown` of them, each cut to 40 characters."""
    listed = ", ".join(name if len(name) <= 40 else name[:39] + "…" for name in names[:shown])
    if len(names) <= shown:
        return listed
    return _("{names} and {count} more").format(names=listed, count=len(names) - shown)


def _data_rows(
    table: Iterator[tuple[int, list[Any]]], columns: list[tuple[int, str]], limits: ImportLimits
) -> Iterator[dict[str, Any]]:
    empty = dict.fromkeys(name for _, name in columns)
    expected = 2
    text = 0
    for number, cells in table:
        if number > limits.rows + 1:
            raise ImportFileError(
                _(
                    "the file has more than {most} data rows, the most an import may have: "
                    "split it into parts"
                ).format(most=format_number(limits.rows))
            )
        # A workbook leaves out the rows without any value; they still count.
        for _missing in range(expected, number):
            yield dict(empty)
        row = {name: cells[i] if i < len(cells) else None for i, name in columns}
        text += sum(len(value) for value in row.values() if isinstance(value, str))
        if text > limits.text_chars:
            raise ImportFileError(
                _(
                    "the file holds more than {most} characters of text, the most an import "
                    "may: split it into parts"
                ).format(most=format_number(limits.text_chars))
            )
        yield row
        expected = number + 1
