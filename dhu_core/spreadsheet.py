"""Every CSV and XLSX file the platform writes, through one writer that keeps formulas inert.

A spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage return as a formula
(CSV injection, see OWASP's "CSV Injection" page). In CSV such a text gets a leading apostrophe,
as OWASP advises, and `restore_text` takes it off again on import; a text that already starts
with apostrophes before such a character gets one more, so every text comes back. In XLSX every
text is a string cell, never a formula, and a formula-like one is also marked as text (the
"quote prefix" Excel sets when one types an apostrophe first), so that editing the cell in a
spreadsheet does not turn it into a formula either; its value stays exactly the text.
"""

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

if TYPE_CHECKING:
    import pandas as pd

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: The control characters openpyxl refuses in a cell (its own `ILLEGAL_CHARACTERS_RE`, here so
#: that openpyxl is imported only when a workbook is read or written).
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")

Rows = Iterable[Sequence[Any]]


def defuse_formula(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, with a leading ' so it stays text."""
    return "'" + value if isinstance(value, str) and _FORMULA.match(value) else value


def restore_text(text: str) -> str:
    """The text a CSV cell held before `defuse_formula` (what the import reads)."""
    return text[1:] if text.startswith("'") and _FORMULA.match(text) else text


def write_csv(columns: Sequence[str], rows: Rows, file: TextIO) -> None:
    """Write a header and rows as CSV, formula-like text defused (open `file` with newline="")."""
    writer = csv.writer(file)
    writer.writerow([defuse_formula(column) for column in columns])
    writer.writerows([defuse_formula(value) for value in row] for row in rows)


def csv_bytes(columns: Sequence[str], rows: Rows) -> bytes:
    """A header and rows as the bytes of a CSV file: UTF-8 with a byte-order mark."""
    text = io.StringIO(newline="")
    write_csv(columns, rows, text)
    # The byte-order mark makes spreadsheet programs read the file as UTF-8.
    return text.getvalue().encode("utf-8-sig")


def write_xlsx(
    columns: Sequence[str], rows: Rows, file: str | Path | BinaryIO, *, sheet: str
) -> None:
    """Write a header and rows as an Excel workbook of one sheet; texts are never formulas."""
    import openpyxl  # imported when a workbook is written: ~12 MB in every app process else

    workbook = openpyxl.Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    worksheet.append([_xlsx_cell(worksheet, column) for column in columns])
    for row in rows:
        worksheet.append([_xlsx_cell(worksheet, value) for value in row])
    workbook.save(file)


def xlsx_bytes(columns: Sequence[str], rows: Rows, *, sheet: str) -> bytes:
    """A header and rows as the bytes of an Excel workbook of one sheet."""
    buffer = io.BytesIO()
    write_xlsx(columns, rows, buffer, sheet=sheet)
    return buffer.getvalue()


def file_bytes(fmt: str, columns: Sequence[str], rows: Rows, *, sheet: str) -> bytes:
    """A header and rows as the bytes of a `csv` or `xlsx` file (ValueError for another)."""
    if fmt == "csv":
        return csv_bytes(columns, rows)
    if fmt == "xlsx":
        return xlsx_bytes(columns, rows, sheet=sheet)
    raise ValueError(f"unknown export format '{fmt}' (use csv or xlsx)")


def frame_csv_bytes(frame: "pd.DataFrame") -> bytes:
    """A table as CSV for a download: missing values empty, formula-like text defused."""
    values = frame.astype(object).where(frame.notna(), None)
    return csv_bytes([str(c) for c in frame.columns], values.itertuples(index=False, name=None))


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    from openpyxl.cell import WriteOnlyCell

    # openpyxl refuses control characters, which the entry forms do not filter out.
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    # openpyxl would otherwise store a text starting with "=" as a formula.
    cell.data_type = "s"
    if _FORMULA.match(value):
        cell.quotePrefix = True
    return cell
