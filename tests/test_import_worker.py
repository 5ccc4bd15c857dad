"""Uploads are read by a child process: a hostile file ends the child, never the app server."""

import io
import resource
import subprocess
import time
import tomllib
import zipfile

import pytest

from dhu_core import import_worker
from dhu_core.import_file import ImportFileError, ImportLimits, read_rows
from dhu_core.xlsx import MB, PackageLimits
from tests.browser import ROOT
from tests.test_io import GOOD_ROWS, csv_text
from tests.xlsx_package import MAIN, header_row, inline_row, package, sheet

#: Zip bombs pass the package check with this, so that the child meets them.
NO_RATIO = ImportLimits(package=PackageLimits(ratio=1_000_000))


def with_part(name: str, chunks: list[bytes], repeat: int, end: bytes, **parts) -> bytes:
    """A workbook whose part `name` is written as chunks[0] + chunks[1] * repeat + end."""
    buffer = io.BytesIO(package(sheet(header_row()), leave_out=(name,), **parts))
    with (
        zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open(name, "w") as part,
    ):
        part.write(chunks[0])
        for _ in range(repeat):
            part.write(chunks[1])
        part.write(end)
    return buffer.getvalue()


def peak_memory() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def test_an_uploaded_file_is_read_by_a_child_as_it_would_be_here():
    data = csv_text(GOOD_ROWS).encode("utf-8-sig")

    rows = import_worker.read_rows_isolated(data, name="practices.csv")

    assert rows == list(read_rows(io.BytesIO(data), format="csv"))
    workbook = package(sheet(header_row() + inline_row(2, ["=Title", "A summary"])))
    [row] = import_worker.read_rows_isolated(workbook, name="practices.XLSX")
    assert (row["title"], row["summary"], row["countries"]) == ("=Title", "A summary", None)


def test_a_file_the_child_refuses_gives_its_message():
    hostile = package(
        sheet(header_row(), prolog='<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')
    )

    with pytest.raises(
        ImportFileError, match="^the workbook is refused: its worksheet .* entities"
    ):
        import_worker.read_rows_isolated(hostile, name="practices.xlsx")


def test_size_and_zip_bombs_are_refused_before_any_child_starts(monkeypatch):
    def no_child(*args, **kwargs):
        raise AssertionError("a child process was started")

    monkeypatch.setattr(subprocess, "run", no_child)
    with pytest.raises(ImportFileError, match="^the file is larger than 20 MB"):
        import_worker.read_rows_isolated(b"x" * (20 * MB + 1), name="large.csv")
    bomb = with_part("xl/worksheets/sheet1.xml", [b"<worksheet>", b" " * MB], 20, b"</worksheet>")
    with pytest.raises(ImportFileError, match="as in a zip bomb"):
        import_worker.read_rows_isolated(bomb, name="bomb.xlsx")
    with pytest.raises(ImportFileError, match="^cannot import a .ods file"):
        import_worker.read_rows_isolated(b"PK\x03\x04", name="sheet.ods")


def test_a_file_that_needs_too_much_memory_ends_only_the_child():
    # One shared string of 150 MB: 150 KB packed, and the child has 200 MB.
    start = f'<sst xmlns="{MAIN}"><si><t>'.encode()
    hostile = with_part("xl/sharedStrings.xml", [start, b"a" * MB], 150, b"</t></si></sst>")
    before = peak_memory()

    with pytest.raises(ImportFileError) as caught:
        import_worker.read_rows_isolated(
            hostile, name="hostile.xlsx", limits=NO_RATIO, memory_bytes=200 * MB
        )

    assert str(caught.value) == (
        "reading the file needs more than 200 MB of memory, the most an import may take: split "
        "it into parts"
    )
    assert peak_memory() - before < 50 * MB
    good = csv_text(GOOD_ROWS).encode()
    assert len(import_worker.read_rows_isolated(good, name="good.csv")) == len(GOOD_ROWS)


def test_a_file_that_takes_too_long_ends_only_the_child():
    # Ten million empty cells in one row: small in memory, as they are dropped, but slow.
    start = f'<worksheet xmlns="{MAIN}"><sheetData>{header_row()}<row>'.encode()
    slow = with_part(
        "xl/worksheets/sheet1.xml",
        [start, b"<c/>" * 1_000_000],
        10,
        b"</row></sheetData></worksheet>",
    )
    started = time.perf_counter()

    with pytest.raises(ImportFileError, match="^reading the file took more than 1 s"):
        import_worker.read_rows_isolated(slow, name="slow.xlsx", limits=NO_RATIO, seconds=1)

    assert time.perf_counter() - started < 5


def test_streamlit_refuses_uploads_above_the_limit_the_worker_checks():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))

    assert config["server"]["maxUploadSize"] * MB == import_worker.UPLOAD_BYTES
