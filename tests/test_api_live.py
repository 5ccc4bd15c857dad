"""The API on live servers: `streamlit run app.py` on a new install, checked by Schemathesis
against its own OpenAPI document, and `uvicorn app:app` serving the app and the API."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.browser import ROOT, free_port, streamlit_server

#: Schemathesis sends hundreds of requests in a few seconds: no rate limit here.
UNLIMITED = {"DHU_API_RATE_LIMIT": "1000000", "DHU_API_RATE_BURST": "1000000"}


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310
        return response.status, response.read().decode()


@pytest.fixture(scope="module")
def live_api(tmp_path_factory) -> Iterator[str]:
    """`streamlit run app.py` on a new embedded database that no page has opened yet."""
    data_dir = tmp_path_factory.mktemp("api-live")
    env = {"DHU_DATA_DIR": str(data_dir), "DATABASE_URL": "", **UNLIMITED}
    with streamlit_server(env, data_dir / "streamlit.log") as url:
        yield url


def test_a_new_install_answers_with_the_demo_data_at_once(live_api):
    status, body = _get(f"{live_api}/api/v1/practices?limit=1")
    assert status == 200
    assert json.loads(body)["total"] > 0


@pytest.fixture(scope="module")
def api_schema(live_api):
    return schemathesis.openapi.from_url(f"{live_api}/api/v1/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_matches_the_openapi_document(case):
    # A cursor is opaque: only those the API made are valid, which no schema can say.
    opaque = "cursor" in (case.query or {})
    excluded = [schemathesis.checks.positive_data_acceptance] if opaque else []
    case.call_and_validate(excluded_checks=excluded)


def test_uvicorn_serves_the_app_and_the_api(live_api, tmp_path):
    port = free_port()
    env = {**os.environ, "DHU_DATA_DIR": str(tmp_path), "DATABASE_URL": "", **UNLIMITED}
    command = [sys.executable, "-m", "uvicorn", "app:app", "--port", str(port)]
    with open(tmp_path / "uvicorn.log", "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = _get(f"{url}/_stcore/health")
                break
            except OSError:
                assert process.poll() is None, (tmp_path / "uvicorn.log").read_text()
                assert time.monotonic() < deadline, "uvicorn did not answer within 60 s"
                time.sleep(0.3)
        assert status == 200
        status, page = _get(f"{url}/")
        assert status == 200 and '<div id="root">' in page
        status, body = _get(f"{url}/api/v1/practices?limit=1")
        assert status == 200 and json.loads(body)["total"] > 0
    finally:
        process.terminate()
        process.wait(timeout=10)
