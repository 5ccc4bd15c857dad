"""Benchmark of the public API over HTTP, side by side with datasette, for `dhu bench`.

Both serve the same SQLite file on 127.0.0.1 in processes of their own (the app as
`streamlit run app.py`), and one client times the same faceted full-text searches on each, one
request at a time over a kept-alive connection. Each request asks for a page size of its own
(20, 21, 22 …), so no answer the API keeps for an entity tag is timed: every one is a search
(after the first of each query, with the text hits the catalogue keeps for its words). The
first request of each query, the answers kept, and 304s are reported apart.

datasette (a test dependency: `pip install -e ".[test]"`) is what many would reach for to
publish a SQLite file. It searches `practice` through the full-text table of migration 0008 and
counts facets over the practice's own columns (type, maturity, transferable), while the API
also counts countries, domains, DHI groups, standards, languages and freshness.
"""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

from dhu_core.bench import timing_figures
from dhu_core.config import PROJECT_ROOT

#: The searches timed: text with filters, as the catalogue's URL parameters. Each runs with
#: facet counts, 20 practices a page.
QUERIES: dict[str, list[tuple[str, str]]] = {
    "q=diabetes": [("q", "diabetes")],
    "q=diabetes & maturity=3,4": [("q", "diabetes"), ("maturity", "3"), ("maturity", "4")],
    "q=diabetes & type=app": [("q", "diabetes"), ("type", "app")],
    "q=mental health & transferable": [("q", "mental health"), ("transferable", "yes")],
    "q=COPD rehabilitation": [("q", "COPD rehabilitation")],
    "q=telemonitoring heart": [("q", "telemonitoring heart")],
    "q=vaccination & type=service": [("q", "vaccination"), ("type", "service")],
    "q=hospital": [("q", "hospital")],
}
PAGE_SIZE = 20
#: datasette's facets, over columns of `practice` (it cannot count the link tables' values).
_DATASETTE_FACETS = ("practice_type", "maturity", "transferable")
_STARTUP_SECONDS = 120


def run_api_bench(*, database: Path, repeats: int = 10) -> dict:
    """p50 and p95 of `GET /api/v1/practices` and of datasette on the same queries and file,
    and of the API's kept answers and 304s."""
    try:
        import datasette  # noqa: F401 (only checked for: it runs as a process of its own)
    except ImportError:
        return {"skipped": "the comparison needs datasette: pip install -e '.[test]'"}
    with closing(sqlite3.connect(database)) as connection:
        # datasette opens the file immutable, which ignores the write-ahead log.
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    api: dict[str, tuple[float, list[float]]] = {}
    other: dict[str, tuple[float, list[float]]] = {}
    with _dhu_server(database) as dhu, _datasette_server(database) as compared:
        # The catalogue's facet index is built by the first search of a process.
        _timings(dhu, lambda size: f"/api/v1/practices?limit={size}", 0)
        for name, params in QUERIES.items():
            api[name] = _timings(dhu, lambda size, p=params: _api_path(p, size), repeats)
            other[name] = _timings(
                compared, lambda size, p=params: _datasette_path(p, size), repeats
            )
        again = _timings(dhu, lambda _: _api_path(QUERIES["q=diabetes"], PAGE_SIZE), repeats)[1]
        not_modified = _not_modified(dhu, _api_path(QUERIES["q=diabetes"], PAGE_SIZE), repeats)
    api_all = timing_figures([t for _, times in api.values() for t in times])
    other_all = timing_figures([t for _, times in other.values() for t in times])
    api_first = timing_figures([first for first, _ in api.values()])
    other_first = timing_figures([first for first, _ in other.values()])
    return {
        "repeats": repeats,
        "api": api_all,
        "datasette": other_all,
        "p95 datasette / api": round(other_all["p95_ms"] / api_all["p95_ms"], 1),
        # The first request of each query: its words searched for the first time.
        "api, first request of each query": api_first,
        "datasette, first request of each query": other_first,
        "p95 of first requests, datasette / api": round(
            other_first["p95_ms"] / api_first["p95_ms"], 1
        ),
        "api, the same request again (answer kept)": timing_figures(again),
        "api, conditional request (304)": timing_figures(not_modified),
        "queries": {
            name: {
                "api": {"first_ms": round(api[name][0], 1)} | timing_figures(api[name][1]),
                "datasette": {"first_ms": round(other[name][0], 1)}
                | timing_figures(other[name][1]),
            }
            for name in api
        },
    }


def _api_path(params: list[tuple[str, str]], size: int) -> str:
    query = [*params, ("limit", str(size)), ("facets", "true")]
    return "/api/v1/practices?" + urlencode(query)


def _datasette_path(params: list[tuple[str, str]], size: int) -> str:
    """The same search in datasette's table API: full-text `_search`, filters as column tests."""
    query: list[tuple[str, str]] = [("status__exact", "published"), ("_size", str(size))]
    maturities = []
    for name, value in params:
        if name == "q":
            query.append(("_search", value))
        elif name == "type":
            query.append(("practice_type__exact", value))
        elif name == "maturity":
            maturities.append(value)
        elif name == "transferable":
            query.append(("transferable__exact", "1" if value == "yes" else "0"))
    if maturities:
        query.append(("maturity__in", ",".join(maturities)))
    query += [("_facet", facet) for facet in _DATASETTE_FACETS]
    return "/bench/practice.json?" + urlencode(query)


def _timings(base: str, path_of: Callable[[int], str], repeats: int) -> tuple[float, list[float]]:
    """Milliseconds of a first GET of `path_of(page size)`, then of `repeats` more, each with a
    size of its own; each must answer 200."""
    with _connection(base) as connection:
        first = _get(connection, path_of(PAGE_SIZE + repeats + 1), 200)[0]
        return first, [_get(connection, path_of(PAGE_SIZE + n), 200)[0] for n in range(repeats)]


def _not_modified(base: str, path: str, repeats: int) -> list[float]:
    """Milliseconds of `repeats` conditional GETs of `path` with its current ETag."""
    with _connection(base) as connection:
        tag = _get(connection, path, 200)[1]
        return [_get(connection, path, 304, {"If-None-Match": tag})[0] for _ in range(repeats)]


@contextmanager
def _connection(base: str) -> Iterator[HTTPConnection]:
    host, port = base.removeprefix("http://").split(":")
    connection = HTTPConnection(host, int(port), timeout=120)
    try:
        yield connection
    finally:
        connection.close()


def _get(
    connection: HTTPConnection, path: str, expect: int, headers: dict[str, str] | None = None
) -> tuple[float, str]:
    """Milliseconds of a GET of `path` and the ETag answered; RuntimeError for another status
    than `expect`."""
    started = time.perf_counter()
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != expect:
        raise RuntimeError(f"{path} answered {response.status}: {body[:300]!r}")
    return elapsed, response.headers.get("ETag", "")


@contextmanager
def _dhu_server(database: Path) -> Iterator[str]:
    """The app (`streamlit run app.py`) on `database`, without a rate limit for the client."""
    env = {
        "DATABASE_URL": f"sqlite:///{database}",
        "DHU_DATA_DIR": str(database.parent),
        "DHU_API_RATE_LIMIT": "1000000",
        "DHU_API_RATE_BURST": "1000000",
        "DHU_JOBS_IN_APP": "false",
    }
    command = ["streamlit", "run", "app.py", "--server.headless", "true"]
    command += ["--browser.gatherUsageStats", "false", "--server.address", "127.0.0.1"]
    with _process(command, env, "--server.port", "/api/v1/code-lists") as url:
        yield url


@contextmanager
def _datasette_server(database: Path) -> Iterator[str]:
    """datasette serving `database` read-only, its time limits raised so no facet is cut, and
    no facet suggested."""
    metadata = database.with_name("datasette-metadata.json")
    table = {"fts_table": "practice_search", "fts_pk": "id"}
    metadata.write_text(json.dumps({"databases": {"bench": {"tables": {"practice": table}}}}))
    link = database.with_name("bench.db")
    link.unlink(missing_ok=True)
    link.symlink_to(database)
    command = ["datasette", "serve", "-i", str(link), "--metadata", str(metadata)]
    command += ["--setting", "sql_time_limit_ms", "60000"]
    command += ["--setting", "facet_time_limit_ms", "60000", "--host", "127.0.0.1"]
    # Like the API, it counts only the facets asked for (suggesting others costs it more).
    command += ["--setting", "suggest_facets", "off"]
    with _process(command, {}, "--port", "/bench.json") as url:
        yield url


@contextmanager
def _process(command: list[str], env: dict[str, str], port_flag: str, probe: str) -> Iterator[str]:
    """Run `python -m command` on a free port until the block ends; yield its URL once `probe`
    answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", *command, port_flag, str(port)],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + _STARTUP_SECONDS
        while True:
            try:
                with urllib.request.urlopen(url + probe, timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not start on {url}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
