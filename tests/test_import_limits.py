"""Hostile and oversized import files are refused with a message, fast and in little memory."""

import io
import time
import tracemalloc
import zipfile

import pytest

from dhu_core.import_file import LIMITS, ImportFileError, ImportLimits, read_rows
from dhu_core.xlsx import MB, PackageLimits
from tests.xlsx_package import (
    MAIN,
    WORKBOOK,
    WORKBOOK_WITHOUT_SHEETS,
    header_row,
    inline_row,
    package,
    sheet,
)

#: One data row of the import columns, as a workbook's cells give it.
VALUES = [
    "Heart failure telemonitoring",
    "Patients send weight and blood pressure daily; nurses act on alerts.",
    "service",
    "4",
    "EE;LV",
    "Tartu University Hospital",
    "EE",
]
XXE = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    + "]>"
)


def read_all(data: bytes, fmt: str = "xlsx", **limits) -> list[dict]:
    return list(read_rows(io.BytesIO(data), format=fmt, limits=ImportLimits(**limits)))


def refused(data: bytes, fmt: str = "xlsx", **limits) -> str:
    """The message a file is refused with; it must come within two seconds."""
    started = time.perf_counter()
    with pytest.raises(ImportFileError) as caught:
        read_all(data, fmt, **limits)
    assert time.perf_counter() - started < 2
    return str(caught.value)


def csv_bytes(header: str, lines: list[str]) -> bytes:
    return "\n".join([header, *lines, ""]).encode()


HEADER = ",".join(["title", "summary", "practice_type", "maturity", "countries"])
REQUIRED = HEADER + ",owner_organisation,owner_country"


# --- the declared dimension is not trusted -------------------------------------------------


def test_one_cell_at_xfd1048576_is_refused_at_once_in_little_memory():
    far_cell = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    data = package(sheet(header_row() + far_cell, dimension="A1:XFD1048576"))
    assert len(data) < 5_000

    tracemalloc.start()
    try:
        message = refused(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert message == (
        "cell XFD1048576 has a value beyond column BL: an import file has at most 64 columns"
    )
    assert peak < 5 * MB


def test_a_value_in_the_last_row_of_a_sheet_is_beyond_the_row_limit():
    far_row = inline_row(1048576, ["x"])

    message = refused(package(sheet(header_row() + far_row, dimension="A1:O1048576")))

    assert message.startswith("the file has more than 200,000 data rows")


def test_rows_beyond_the_declared_dimension_are_read():
    rows = "".join(inline_row(n, [f"Practice {n}", *VALUES[1:]]) for n in range(2, 6))

    read = read_all(package(sheet(header_row() + rows, dimension="A1:O2")))

    assert [row["title"] for row in read] == [f"Practice {n}" for n in range(2, 6)]


def test_rows_left_out_of_a_sheet_count_as_blank_rows_and_keep_the_numbering():
    rows = inline_row(2, VALUES) + inline_row(5, ["Last", *VALUES[1:]])

    read = read_all(package(sheet(header_row() + rows)))

    assert [row["title"] for row in read] == ["Heart failure telemonitoring", None, None, "Last"]


def test_empty_cells_far_to_the_right_are_ignored():
    row = inline_row(2, VALUES)[: -len("</row>")] + '<c r="XFD2" s="1"/></row>'

    [read] = read_all(package(sheet(header_row() + row)))

    assert read["title"] == "Heart failure telemonitoring"


def test_rows_out_of_order_are_a_damaged_workbook():
    rows = inline_row(3, VALUES) + inline_row(2, VALUES)

    assert "rows are out of order (row 2 after 3)" in refused(package(sheet(header_row() + rows)))


# --- hostile and broken workbooks ----------------------------------------------------------


def test_an_external_entity_in_the_worksheet_is_refused():
    cell = '<row r="2"><c r="A2" t="inlineStr"><is><t>&xxe;</t></is></c></row>'

    message = refused(package(sheet(header_row() + cell, prolog=XXE)))

    assert "declares XML entities" in message
    assert "root:" not in message


@pytest.mark.parametrize("where", ["worksheet", "shared strings", "workbook"])
def test_billion_laughs_are_refused_wherever_they_are(where):
    declared = f'<?xml version="1.0"?>{LAUGHS}'
    laughing_sheet = sheet(header_row() + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>')
    parts = {
        "worksheet": dict(sheet_xml=sheet(header_row(), prolog=LAUGHS)),
        "shared strings": dict(
            sheet_xml=laughing_sheet,
            shared_strings=f'{declared}<sst xmlns="{MAIN}"><si><t>&lol9;</t></si></sst>',
        ),
        "workbook": dict(
            sheet_xml=sheet(header_row()),
            workbook=WORKBOOK.replace('<?xml version="1.0" encoding="UTF-8"?>', declared),
        ),
    }

    message = refused(package(**parts[where]))

    assert message.startswith("the workbook is refused: ") and "declares XML entities" in message


def test_malformed_xml_is_a_damaged_workbook():
    broken = sheet(header_row()).replace("</sheetData>", "<row>")

    message = refused(package(broken))

    assert message.startswith(
        "the workbook is damaged: its worksheet xl/worksheets/sheet1.xml is not well-formed XML"
    )


def test_a_workbook_without_sheets_is_refused():
    assert refused(package(sheet(header_row()), workbook=WORKBOOK_WITHOUT_SHEETS)) == (
        "the workbook has no worksheet"
    )


def test_a_zip_without_a_workbook_part_is_not_a_workbook():
    message = refused(package(sheet(header_row()), leave_out=("xl/workbook.xml",)))

    assert message == "the file is not an Excel workbook (.xlsx): its workbook part is missing"


def test_a_text_file_named_xlsx_is_not_a_workbook():
    assert refused(b"title,summary\n").startswith(
        "the file is not an Excel workbook (.xlsx): it is not a zip package"
    )


def test_a_bad_shared_string_index_is_a_damaged_workbook():
    bad = sheet(header_row() + '<row r="2"><c r="A2" t="s"><v>7</v></c></row>')

    assert refused(package(bad)) == "the workbook is damaged: cell A2 holds '7'"


# --- zip bombs and package size ------------------------------------------------------------


def zip_bomb(megabytes: int) -> bytes:
    """A workbook whose worksheet unpacks to `megabytes` MB, nearly all of it blanks."""
    start, end = sheet(header_row()).split("<sheetData>")
    buffer = io.BytesIO(package("", leave_out=("xl/worksheets/sheet1.xml",)))
    with (
        zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/worksheets/sheet1.xml", "w") as part,
    ):
        part.write(start.encode() + b"<sheetData>")
        blanks = b" " * MB
        for _ in range(megabytes):
            part.write(blanks)
        part.write(end.encode())
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_before_anything_is_unpacked():
    data = zip_bomb(50)
    assert len(data) < 200_000

    message = refused(data)

    assert message.startswith("the workbook's part xl/worksheets/sheet1.xml is compressed ")
    assert message.endswith("to 1, as in a zip bomb (at most 100 to 1 is allowed)")


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (PackageLimits(parts=5), "the workbook has 6 parts, more than the 5 allowed"),
        (
            PackageLimits(unpacked_bytes=2 * MB, ratio=10_000),
            "the workbook would unpack to 3 MB, more than the 2 MB allowed",
        ),
        (
            PackageLimits(data_part_bytes=2 * MB, ratio=10_000),
            "the workbook's part xl/worksheets/sheet1.xml would unpack to 3 MB, more than the "
            "2 MB allowed",
        ),
        (
            PackageLimits(other_part_bytes=500),
            "the workbook's part [Content_Types].xml would unpack to 686 bytes, more than the "
            "500 bytes allowed",
        ),
    ],
)
def test_the_size_of_the_package_is_limited(limits, message):
    assert refused(zip_bomb(3), package=limits) == message


# --- limits on rows, columns and cells ------------------------------------------------------


def test_the_two_hundred_thousand_and_first_data_row_is_refused():
    assert LIMITS.rows == 200_000
    blank_rows = [",,,,,,"] * 200_001
    started = time.perf_counter()

    with pytest.raises(ImportFileError, match="^the file has more than 200,000 data rows"):
        for _ in read_rows(io.BytesIO(csv_bytes(REQUIRED, blank_rows)), format="csv"):
            pass

    assert time.perf_counter() - started < 10
    assert len(read_all(csv_bytes(REQUIRED, blank_rows[:200_000]), "csv")) == 200_000


def test_eighty_thousand_duplicated_columns_are_refused_in_well_under_a_second():
    data = (",".join(["title"] * 80_000) + "\n").encode()

    message = refused(data, "csv")

    assert message == "row 1 has a value in column 65: an import file has at most 64 columns"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_header_check_is_linear(fmt):
    # A sheet has at most 16,384 columns (XFD).
    names = ["title"] * (80_000 if fmt == "csv" else 16_384)
    data = (
        (",".join(names) + "\n").encode() if fmt == "csv" else package(sheet(inline_row(1, names)))
    )
    started = time.perf_counter()

    with pytest.raises(ImportFileError, match="^column named more than once: title$"):
        read_all(data, fmt, columns=80_000)

    assert time.perf_counter() - started < 1


def test_a_value_beyond_the_column_limit_is_refused_and_empty_cells_there_are_not():
    allowed = csv_bytes(REQUIRED, [",".join(VALUES) + "," * 100])
    assert read_all(allowed, "csv")[0]["title"] == VALUES[0]

    too_wide = csv_bytes(REQUIRED, [",".join(VALUES) + "," * 60 + "x"])
    assert refused(too_wide, "csv") == (
        "row 2 has a value in column 67: an import file has at most 64 columns"
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_cell_of_more_than_32767_characters_is_refused(fmt):
    def file(title: str) -> bytes:
        if fmt == "csv":
            return csv_bytes(REQUIRED, [",".join([title, *VALUES[1:]])])
        return package(sheet(header_row() + inline_row(2, [title, *VALUES[1:]])))

    assert read_all(file("x" * 32_767), fmt)[0]["title"] == "x" * 32_767
    message = refused(file("x" * 32_768), fmt)
    assert (
        message
        == {
            "csv": "a cell in row 2 holds more than 32,767 characters, the most allowed",
            "xlsx": "cell A2 holds more than 32,767 characters, the most allowed",
        }[fmt]
    )


def test_a_csv_cell_beyond_the_csv_modules_own_limit_gets_the_same_message():
    message = refused(csv_bytes(REQUIRED, ["x" * 200_000 + ",s"]), "csv")

    assert message == "a cell in row 2 holds more than 32,767 characters, the most allowed"


def test_a_long_shared_string_in_every_cell_stops_at_the_text_limit():
    strings = f'<sst xmlns="{MAIN}"><si><t>{"x" * 30_000}</t></si></sst>'
    cells = "".join(f'<c r="{letter}{{n}}" t="s"><v>0</v></c>' for letter in "ABCDEFG")
    rows = "".join(f'<row r="{n}">{cells.format(n=n)}</row>' for n in range(2, 1_002))
    data = package(sheet(header_row() + rows), shared_strings=strings)
    assert len(data) < 100_000

    message = refused(data, text_chars=10_000_000)

    assert message.startswith("the file holds more than 10,000,000 characters of text")


def test_a_file_larger_than_the_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "large.csv"
    path.write_bytes(csv_bytes(REQUIRED, [",".join(VALUES)] * 100))

    with pytest.raises(ImportFileError, match="^the file is larger than 1,000 bytes"):
        read_rows(path, limits=ImportLimits(file_bytes=1_000))


def test_workbooks_are_read_through_defusedxml_even_with_lxml_installed():
    pytest.importorskip("lxml")  # installed with the test extra, for the Atom feeds' schema
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML and not openpyxl.xml.LXML
