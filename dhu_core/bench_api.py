"""Benchmark of the JSON API over HTTP: `uvicorn --factory dhu_core.api:asgi` on a database of
generated data, each address asked once (the answer made) and again (the answer kept), and a
conditional request answered 304."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from sqlalchemy import Engine

from dhu_core.bench import timing_figures
from dhu_core.config import PROJECT_ROOT

#: What API clients ask for: the first page, a search with facets, a long page, one practice,
#: the figures per country, the digests and the code lists.
REQUESTS = {
    "practices, first page": "/api/v1/practices",
    "practices, text, type and facets": "/api/v1/practices?q=diabetes&type=app&facets=true",
    "practices, 100 a page": "/api/v1/practices?limit=100",
    "one practice": "/api/v1/practices/{id}",
    "countries": "/api/v1/countries",
    "digests": "/api/v1/digests",
    "code lists": "/api/v1/code-lists",
}


def run_api_bench(*, engine: Engine, workdir: Path, repeats: int = 20) -> dict:
    """Time each of `REQUESTS` and a 304 over HTTP against a server of the API on `engine`."""
    env = {
        **os.environ,
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "DHU_DATA_DIR": str(workdir),
        "DHU_API_RATE_LIMIT": "1000000",
        "DHU_API_RATE_BURST": "1000000",
    }
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "dhu_core.api:asgi"]
    command += ["--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(base, server)
        # Builds the catalogue's facet index too, which the first search of a process does.
        first = json.loads(_get(base + "/api/v1/practices?limit=1")[1])["data"][0]["id"]
        figures = {}
        for name, path in REQUESTS.items():
            address = base + path.format(id=first)
            # The first answer is made; the same request again gets the answer kept for its
            # entity tag.
            made = _timed(address)
            figures[name] = {"first_ms": round(made, 1)} | timing_figures(
                [_timed(address) for _ in range(repeats)]
            )
        longest = base + REQUESTS["practices, 100 a page"]
        tag = {"If-None-Match": _get(longest)[0]}
        figures["304 for 100 a page"] = timing_figures(
            [_timed(longest, tag, expect=304) for _ in range(repeats)]
        )
        return figures
    finally:
        server.terminate()
        server.wait(timeout=10)


def _get(address: str, headers: dict | None = None, expect: int = 200) -> tuple[str, bytes]:
    """The ETag and body of a GET; RuntimeError for another status than `expect`."""
    request = urllib.request.Request(address, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            status, tag, body = response.status, response.headers["ETag"], response.read()
    except urllib.error.HTTPError as error:
        status, tag, body = error.code, error.headers["ETag"], b""
    if status != expect:
        raise RuntimeError(f"{address} answered {status}, not {expect}")
    return tag, body


def _timed(address: str, headers: dict | None = None, expect: int = 200) -> float:
    started = time.perf_counter()
    _get(address, headers, expect)
    return (time.perf_counter() - started) * 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_answering(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the API server exited early")
        try:
            _get(base + "/api/v1/code-lists")
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the API server did not answer within 60 s")
