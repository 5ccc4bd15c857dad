"""Builds in a Python process of their own, which hand back only what they built.

Built in the app process, an index at 100,000 practices left two to three times its own size
resident after the build: the rows read and the matrices on the way, freed but kept by the
allocator (measured with `python -m dhu_core.bench_memory`). Built in a process of its own,
that memory goes with the process.
"""

import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import dhu_core

Built = TypeVar("Built")


class BuildError(RuntimeError):
    """A build in a process of its own failed; the message ends with what that process wrote."""


#: From this many practices an index is built in a process of its own; below it, starting a
#: Python process (seconds of imports) costs more than the build, and spares little memory.
APART_FROM = 10_000
#: How much of a failed build process's error output its error repeats.
ERROR_TAIL = 4000


def built_apart(build: Callable[..., Built], *args: object) -> Built:
    """`build(*args)` run in a new Python process, its result handed back pickled.

    A new interpreter, not a fork: the app process runs threads. `build` and `args` must pickle
    (a module's function, strings); BuildError when the build fails.
    """
    job = pickle.dumps((build, args), protocol=pickle.HIGHEST_PROTOCOL)
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "dhu_core.build_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=_build_environment(),
        )
        try:
            with process.stdin:
                process.stdin.write(job)
            # Read as it comes: an array is made straight from its bytes, never two copies.
            with process.stdout:
                try:
                    # Our own child's output, through a pipe only this process holds.
                    built = pickle.load(process.stdout)  # noqa: S301
                except (EOFError, pickle.UnpicklingError):
                    built = None
        finally:
            status = process.wait()
        if status or built is None:
            errors.seek(0)
            said = errors.read().decode(errors="replace")[-ERROR_TAIL:]
            raise BuildError(f"the build process ended with status {status}: {said}")
        return built


def _build_environment() -> dict[str, str]:
    """This process's environment, with this `dhu_core` first on the path (as in a checkout
    run with PYTHONPATH)."""
    root = str(Path(dhu_core.__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root if not path else os.pathsep.join([root, path])}


def _build_here() -> None:
    """The build process: run the job pickled on stdin, write its result pickled to stdout."""
    build, args = pickle.load(sys.stdin.buffer)  # noqa: S301 (written by the parent)
    built = build(*args)
    pickle.dump(built, sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    _build_here()
