"""Hand-made XLSX packages, byte by byte, for the hostile files that openpyxl would not write."""

import io
import zipfile
from xml.sax.saxutils import escape

from dhu_core.import_file import COLUMNS

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>"""
PACKAGE_RELS = f"""<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="{RELS}">
<Relationship Id="rId1" Target="xl/workbook.xml"
 Type="{OFFICE_RELS}/officeDocument"/>
</Relationships>"""
WORKBOOK = f"""<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="{MAIN}" xmlns:r="{OFFICE_RELS}">
<sheets><sheet name="practices" sheetId="1" r:id="rId1"/></sheets>
</workbook>"""
WORKBOOK_WITHOUT_SHEETS = f"""<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="{MAIN}" xmlns:r="{OFFICE_RELS}"><sheets/></workbook>"""
WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="{RELS}">
<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="{OFFICE_RELS}/worksheet"/>
<Relationship Id="rId2" Target="sharedStrings.xml" Type="{OFFICE_RELS}/sharedStrings"/>
</Relationships>"""
NO_STRINGS = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}"/>'


def inline_row(number: int, values: list[str | None], first_column: int = 1) -> str:
    """A <row> of inline-string cells from `first_column` on; None leaves a cell out."""
    cells = "".join(
        f'<c r="{column_letter(first_column + i)}{number}" t="inlineStr">'
        f"<is><t>{escape(value)}</t></is></c>"
        for i, value in enumerate(values)
        if value is not None
    )
    return f'<row r="{number}">{cells}</row>'


def header_row() -> str:
    """Row 1 with the import columns."""
    return inline_row(1, list(COLUMNS))


def sheet(rows: str, dimension: str | None = None, prolog: str = "") -> str:
    """A worksheet with these <row> elements and, if given, a declared dimension."""
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}'
        f'<worksheet xmlns="{MAIN}">{declared}<sheetData>{rows}</sheetData></worksheet>'
    )


def package(
    sheet_xml: str | bytes,
    *,
    shared_strings: str | bytes = NO_STRINGS,
    workbook: str = WORKBOOK,
    leave_out: tuple[str, ...] = (),
) -> bytes:
    """The bytes of an .xlsx file with one worksheet, deflated as Excel does."""
    parts = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": PACKAGE_RELS,
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/worksheets/sheet1.xml": sheet_xml,
        "xl/sharedStrings.xml": shared_strings,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            if name not in leave_out:
                archive.writestr(name, content)
    return buffer.getvalue()


def column_letter(number: int) -> str:
    """The spreadsheet letters of a 1-based column number (1 -> A, 16384 -> XFD)."""
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters
