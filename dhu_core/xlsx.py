"""The first worksheet of an Excel workbook, streamed within limits and trusting nothing in it.

openpyxl's read-only worksheet pads each row to the declared dimension (or to the row's last
cell) and yields every missing row, so one cell at XFD1048576 makes it build a million rows of
16,384 cells, while a dimension declared too small silently drops the rows below it. So openpyxl
only opens the package here (content types, workbook, sheet list and shared strings, all parsed
through defusedxml), and the worksheet's XML is streamed cell by cell: its declared dimension is
never read, a value beyond the column limit or a text over the size limit stops the reading at
once, and every element is dropped as soon as it has been read.
"""

import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from dhu_core.i18n import _, format_number

MB = 1 << 20
#: openpyxl's `SHEET_MAIN_NS`: openpyxl (~12 MB) is imported when a workbook is read, not with
#: every app process.
SHEET_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

_ROW, _CELL, _VALUE, _INLINE, _TEXT, _RUN = (
    f"{{{SHEET_MAIN_NS}}}{tag}" for tag in ("row", "c", "v", "is", "t", "r")
)
_COORDINATE = re.compile(r"([A-Za-z]{1,3})[0-9]+")
#: Parts smaller than this are too small to matter, whatever their compression ratio.
_RATIO_FROM_BYTES = MB


def size_text(size: int) -> str:
    """A size in bytes for people: in MB from one MB on."""
    if size >= MB:
        return _("{size} MB").format(size=format_number(round(size / MB)))
    return _("{size} bytes").format(size=format_number(size))


class WorkbookError(ValueError):
    """An Excel file that cannot be read, or must not be: damaged, hostile or too large."""


@dataclass(frozen=True)
class PackageLimits:
    """How large the zip package of a workbook may be, checked before anything is unpacked."""

    #: Files in the package (an import workbook has about ten).
    parts: int = 1_000
    #: All parts together, unpacked.
    unpacked_bytes: int = 1536 * MB
    #: Each worksheet and the shared strings, unpacked (streamed, so they may be large).
    data_part_bytes: int = 1024 * MB
    #: Each other part, unpacked; openpyxl parses the XML ones whole.
    other_part_bytes: int = 16 * MB
    #: Unpacked size over packed size; a zip bomb reaches about 1,000.
    ratio: int = 100


def check_package(data: bytes, limits: PackageLimits) -> None:
    """Refuse a workbook whose zip package is not one, or would unpack to too much."""
    parts = _archive(data).infolist()
    if len(parts) > limits.parts:
        raise WorkbookError(
            _("the workbook has {count} parts, more than the {most} allowed").format(
                count=format_number(len(parts)), most=format_number(limits.parts)
            )
        )
    unpacked = sum(part.file_size for part in parts)
    if unpacked > limits.unpacked_bytes:
        raise WorkbookError(
            _("the workbook would unpack to {size}, more than the {most} allowed").format(
                size=size_text(unpacked), most=size_text(limits.unpacked_bytes)
            )
        )
    for part in parts:
        name = part.filename.lower()
        data_part = name.startswith("xl/worksheets/") or name.endswith("sharedstrings.xml")
        allowed = limits.data_part_bytes if data_part else limits.other_part_bytes
        if part.file_size > allowed:
            raise WorkbookError(
                _(
                    "the workbook's part {part} would unpack to {size}, more than the {most} "
                    "allowed"
                ).format(
                    part=part.filename, size=size_text(part.file_size), most=size_text(allowed)
                )
            )
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size >= _RATIO_FROM_BYTES and ratio > limits.ratio:
            raise WorkbookError(
                _(
                    "the workbook's part {part} is compressed {ratio} to 1, as in a zip bomb (at "
                    "most {most} to 1 is allowed)"
                ).format(
                    part=part.filename,
                    ratio=format_number(round(ratio)),
                    most=format_number(limits.ratio),
                )
            )


def sheet_rows(data: bytes, *, columns: int, cell_chars: int) -> Iterator[tuple[int, list[Any]]]:
    """(row number, values) of each row of the first worksheet that holds a value, in order.

    A row's values run from column A to its last value, None where a cell is empty.
    """
    import openpyxl

    if not openpyxl.DEFUSEDXML:
        # openpyxl parses the package with the standard library's XML parser otherwise.
        raise WorkbookError(
            _(
                "Excel files cannot be read safely: defusedxml is missing or "
                "OPENPYXL_DEFUSEDXML turns it off"
            )
        )
    archive, sheet, strings = _open(data)
    with _reading(_("its worksheet {name}").format(name=sheet)), archive.open(sheet) as source:
        yield from _stream(source, strings, columns=columns, cell_chars=cell_chars)


def _archive(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, OSError) as error:
        raise WorkbookError(
            _(
                "the file is not an Excel workbook (.xlsx): it is not a zip package (a "
                "workbook with a password must be saved without one)"
            )
        ) from error


def _open(data: bytes) -> tuple[zipfile.ZipFile, str, list[str]]:
    """The package, the path of its first worksheet and its shared strings."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.utils.exceptions import InvalidFileException

    with _reading(_("one of its parts")):
        try:
            reader = ExcelReader(BytesIO(data), read_only=True, data_only=True)
            reader.read_manifest()
            reader.read_workbook()
        except (InvalidFileException, KeyError, OSError) as error:
            raise WorkbookError(
                _("the file is not an Excel workbook (.xlsx): its workbook part is missing")
            ) from error
        sheets = [
            rel.target
            for _, rel in reader.parser.find_sheets()
            if "chartsheet" not in rel.Type and rel.target in reader.valid_files
        ]
        if not sheets:
            raise WorkbookError(_("the workbook has no worksheet"))
        reader.read_strings()
    return reader.archive, sheets[0], reader.shared_strings


@contextmanager
def _reading(part: str) -> Iterator[None]:
    """Turn what a damaged or hostile package raises while `part` is read into a WorkbookError."""
    try:
        yield
    except WorkbookError:
        raise
    except DefusedXmlException as error:
        raise WorkbookError(
            _(
                "the workbook is refused: {part} declares XML entities, which no spreadsheet "
                "program writes and which 'XML external entity' and 'billion laughs' attacks use"
            ).format(part=part)
        ) from error
    except ParseError as error:
        raise WorkbookError(
            _("the workbook is damaged: {part} is not well-formed XML ({error})").format(
                part=part, error=error
            )
        ) from error
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
        raise WorkbookError(
            _("the workbook is damaged or encrypted: {error}").format(error=error)
        ) from error
    except (TypeError, ValueError, AttributeError, LookupError) as error:
        # What openpyxl's typed descriptors raise on content that breaks the file format.
        raise WorkbookError(
            _("the workbook is damaged: {part} breaks the format ({error})").format(
                part=part, error=error
            )
        ) from error


def _stream(
    source: IO[bytes], strings: list[str], *, columns: int, cell_chars: int
) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl.utils.cell import get_column_letter

    open_elements: list[Element] = []
    in_cell = False
    number = column = 0
    values: list[Any] = []
    for event, element in iterparse(source, events=("start", "end")):
        if event == "start":
            open_elements.append(element)
            if element.tag == _ROW:
                number = _row_number(element, number)
                column, values = 0, []
            elif element.tag == _CELL:
                in_cell = True
            continue
        open_elements.pop()
        if element.tag == _CELL:
            in_cell = False
            if not open_elements or open_elements[-1].tag != _ROW:
                raise WorkbookError(_("the workbook is damaged: a cell lies outside any row"))
            column = _column(element, column)
            value = _value(element, strings, number, column, cell_chars)
            if value is not None:
                if column > columns:
                    raise WorkbookError(
                        _(
                            "cell {cell} has a value beyond column {letter}: an import file has "
                            "at most {most} columns"
                        ).format(
                            cell=_name(element, number, column),
                            letter=get_column_letter(columns),
                            most=columns,
                        )
                    )
                values.extend([None] * (column - len(values)))
                values[column - 1] = value
        elif element.tag == _ROW and values:
            yield number, values
        # A cell's own elements are read when the cell ends; everything else goes at once,
        # so that memory does not grow with the size of the sheet.
        if open_elements and not in_cell:
            open_elements[-1].remove(element)


def _row_number(row: Element, previous: int) -> int:
    given = row.get("r")
    if given is None:
        return previous + 1
    if not (given.isascii() and given.isdigit() and len(given) <= 10):
        raise WorkbookError(
            _("the workbook is damaged: '{value}' is not a row number").format(value=given[:20])
        )
    if int(given) <= previous:
        raise WorkbookError(
            _(
                "the workbook is damaged: its rows are out of order (row {row} after {previous})"
            ).format(row=given, previous=previous)
        )
    return int(given)


def _column(cell: Element, previous: int) -> int:
    given = cell.get("r")
    if given is None:
        return previous + 1
    match = _COORDINATE.fullmatch(given)
    if match is None:
        raise WorkbookError(
            _("the workbook is damaged: '{value}' is not a cell reference").format(value=given[:20])
        )
    from openpyxl.utils.cell import column_index_from_string

    return column_index_from_string(match[1].upper())


def _name(cell: Element, number: int, column: int) -> str:
    return cell.get("r") or _("in row {row}, column {column}").format(row=number, column=column)


def _value(cell: Element, strings: list[str], number: int, column: int, cell_chars: int) -> Any:
    """The cell's value as openpyxl reads it with data_only (a formula's cached result)."""
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find(_INLINE)
        parts = [] if inline is None else [inline, *inline.findall(_RUN)]
        text = "".join(part.findtext(_TEXT) or "" for part in parts)
    else:
        text = cell.findtext(_VALUE) or ""
    if kind == "s" and text:
        index = int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else -1
        if not 0 <= index < len(strings):
            raise WorkbookError(_damaged(cell, number, column, text))
        text = strings[index]
    if len(text) > cell_chars:
        name = _name(cell, number, column)
        raise WorkbookError(
            _("cell {cell} holds more than {most} characters, the most allowed").format(
                cell=name, most=format_number(cell_chars)
            )
        )
    if not text:
        return None
    if kind == "b":
        return text == "1"
    if kind == "n":
        try:
            return float(text) if any(c in text for c in ".Ee") else int(text)
        except ValueError:
            raise WorkbookError(_damaged(cell, number, column, text)) from None
    # "s", "inlineStr", "str" (a formula's text), "e" (an error such as #N/A), "d" (a date)
    return text


def _damaged(cell: Element, number: int, column: int, text: str) -> str:
    return _("the workbook is damaged: cell {cell} holds '{value}'").format(
        cell=_name(cell, number, column), value=text[:20]
    )
