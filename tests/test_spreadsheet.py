"""The one spreadsheet writer: no text it writes can run as a formula in a spreadsheet."""

import csv
import io

import openpyxl
import pandas as pd

from dhu_core import spreadsheet

FORMULA_LIKE = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+2",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+2",
    "\r=1+2",
    "'=1+2",
]
PLAIN = ["Plain text", "a=b", "'quoted'"]


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_cells_a_spreadsheet_would_run_get_an_apostrophe_and_come_back_on_import():
    data = spreadsheet.csv_bytes(["text", "number"], [[text, -1] for text in FORMULA_LIKE + PLAIN])

    header, *rows = csv_rows(data)

    assert header == ["text", "number"]
    assert [row[0] for row in rows] == ["'" + text for text in FORMULA_LIKE] + PLAIN
    assert {row[1] for row in rows} == {"-1"}
    assert [spreadsheet.restore_text(row[0]) for row in rows] == FORMULA_LIKE + PLAIN


def test_xlsx_texts_are_string_cells_marked_as_text_and_keep_their_value():
    data = spreadsheet.xlsx_bytes(
        ["text", "number"], [[text, -1] for text in FORMULA_LIKE + PLAIN], sheet="data"
    )

    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    cells = [sheet.cell(row=n, column=1) for n in range(2, sheet.max_row + 1)]

    assert sheet.title == "data"
    assert {cell.data_type for cell in cells} == {"s"}
    # XML reads a carriage return as a line feed, whoever wrote it.
    assert [cell.value for cell in cells] == [t.replace("\r", "\n") for t in FORMULA_LIKE + PLAIN]
    assert all(cell.quotePrefix for cell in cells[: len(FORMULA_LIKE)])
    assert not any(cell.quotePrefix for cell in cells[len(FORMULA_LIKE) :])
    assert {sheet.cell(row=n, column=2).value for n in range(2, sheet.max_row + 1)} == {-1}


def test_chart_downloads_defuse_formulas_and_leave_missing_values_empty():
    frame = pd.DataFrame(
        {"country": ["=1+2", "EE"], "practices": [-1, 3], "share": [float("nan"), 0.5]}
    )

    rows = csv_rows(spreadsheet.frame_csv_bytes(frame))

    assert rows == [["country", "practices", "share"], ["'=1+2", "-1", ""], ["EE", "3", "0.5"]]
