"""Reading an uploaded import file in a child process, so that a hostile file harms only that.

The limits of `import_file` bound what a file may hold, but reading it still means parsing
what a stranger wrote. The app server therefore checks the size and the zip package itself
(cheap, and refused at once), then has a child process with its own memory and time limits
read the rows: whatever the file costs, it costs the child, and a child that runs out of memory
or time is ended while the server goes on. The child sends the rows back as JSON lines, so that
nothing it sends can run code in the server.
"""

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import warnings
from dataclasses import asdict
from io import BytesIO
from pathlib import Path
from typing import Any

from dhu_core import i18n, import_file
from dhu_core.i18n import _, format_number
from dhu_core.import_file import ImportFileError, ImportLimits
from dhu_core.xlsx import MB

#: The largest upload; .streamlit/config.toml sets the same server.maxUploadSize.
UPLOAD_BYTES = 20 * MB
UPLOAD_LIMITS = ImportLimits(file_bytes=UPLOAD_BYTES)
#: The child's address space: the interpreter with openpyxl takes about 160 MB of it, and
#: reading streams, so what remains is for the shared strings of a workbook.
MEMORY_BYTES = 1024 * MB
#: The child's time; a workbook of 200,000 rows (17 MB) takes about 30 s.
SECONDS = 120

_MODULE = "dhu_core.import_worker"
_REFUSED = 3
_OUT_OF_MEMORY = 4


def read_rows_isolated(
    data: bytes,
    *,
    name: str,
    limits: ImportLimits = UPLOAD_LIMITS,
    memory_bytes: int = MEMORY_BYTES,
    seconds: float = SECONDS,
) -> list[dict[str, Any]]:
    """The data rows of an uploaded file, read by a child process within memory and time."""
    fmt = import_file.file_format(name, data)
    import_file.check_file(data, fmt, limits)
    arguments = [fmt, json.dumps(asdict(limits)), str(memory_bytes), str(int(seconds) + 1)]
    # The child writes the message of a refused file in the page's language.
    arguments.append(i18n.current())
    # The rows go through a temporary file, so that the server holds them only once, parsed.
    with tempfile.TemporaryFile() as rows:
        try:
            done = subprocess.run(
                [sys.executable, "-m", _MODULE, *arguments],
                input=data,
                stdout=rows,
                stderr=subprocess.PIPE,
                timeout=seconds,
                env=_environment(),
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ImportFileError(_took_too_long(seconds)) from None
        _check(done.returncode, done.stderr, memory_bytes, seconds)
        rows.seek(0)
        return [json.loads(line) for line in rows]


def _check(status: int, message: bytes, memory_bytes: int, seconds: float) -> None:
    """Raise ImportFileError unless the child ended well."""
    if status == _REFUSED:
        raise ImportFileError(message.decode("utf-8", "replace"))
    if status in (_OUT_OF_MEMORY, -signal.SIGKILL, -signal.SIGSEGV):
        raise ImportFileError(
            _(
                "reading the file needs more than {size} MB of memory, the most an import may "
                "take: split it into parts"
            ).format(size=format_number(round(memory_bytes / MB)))
        )
    if status == -signal.SIGXCPU:
        raise ImportFileError(_took_too_long(seconds))
    if status != 0:
        raise ImportFileError(
            _("the file could not be read (the reader ended with {status})").format(status=status)
        )


def _took_too_long(seconds: float) -> str:
    return (
        _("reading the file took more than {seconds} s, the most allowed: split it into parts")
    ).format(seconds=format_number(round(seconds)))


def _environment() -> dict[str, str]:
    """The server's environment, with this dhu_core first on the path and one maths thread."""
    root = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    # openpyxl imports NumPy, whose maths library reserves address space for each thread.
    return {**os.environ, "PYTHONPATH": path, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def main() -> None:
    """The child: read an import file from standard input and write its rows as JSON lines."""
    fmt, limits, memory_bytes, seconds, language = sys.argv[1:6]
    i18n.use(language)
    resource.setrlimit(resource.RLIMIT_AS, (int(memory_bytes), int(memory_bytes)))
    resource.setrlimit(resource.RLIMIT_CPU, (int(seconds), int(seconds)))
    # Standard error carries only the message of a refused file.
    warnings.simplefilter("ignore")
    out = sys.stdout.buffer
    try:
        data = sys.stdin.buffer.read()
        rows = import_file.read_rows(
            BytesIO(data), format=fmt, limits=ImportLimits.from_dict(json.loads(limits))
        )
        for row in rows:
            out.write(json.dumps(row).encode("ascii") + b"\n")
    except ImportFileError as error:
        sys.stderr.write(str(error))
        sys.exit(_REFUSED)
    except MemoryError:
        sys.exit(_OUT_OF_MEMORY)
    out.flush()


if __name__ == "__main__":
    main()
