"""Browser: two app processes on one PostgreSQL database behind nginx, started by `dhu serve`.

A coordinator publishes a practice on one process and a visitor sees it on a page of the other;
the coordinator's process is then killed mid-session, and the coordinator's page goes on with
the other process, still signed in.
"""

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dhu_core import db, practices
from dhu_core.models import Organisation, PracticeCreate
from tests.browser import ROOT, STARTUP_SECONDS, free_port, settle, sign_in
from tests.conftest import _pg_database
from tests.people import PASSWORD, account

pytestmark = pytest.mark.browser
TITLE = "Telemonitoring handed over between processes"
#: The header nginx adds naming the app process that answered (deploy/nginx-dhu.conf).
UPSTREAM = "x-dhu-upstream"


@dataclass
class Cluster:
    url: str
    #: The process id of the app process on each local address ("127.0.0.1:port").
    pids: dict[str, int]
    practice_id: int


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, chromium) -> Iterator[Cluster]:
    """`dhu serve --workers 2` on a new PostgreSQL database holding a practice waiting for
    review, a coordinator and the practice's owner."""
    if not Path("/usr/sbin/nginx").exists():
        message = "/usr/sbin/nginx is missing: apt-get install nginx"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    for database_url in _pg_database():
        engine = db.get_engine(database_url)
        db.upgrade(engine)
        practice_id = _waiting_practice(engine)
        engine.dispose()
        log = tmp_path_factory.mktemp("serve") / "serve.log"
        port, first = free_port(), _consecutive_free_ports(2)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DHU_COOKIE_KEY": secrets.token_urlsafe(48),
            "PYTHONPATH": str(ROOT),
        }
        command = [sys.executable, "-m", "dhu_core.cli", "serve", "--workers", "2"]
        command += ["--port", str(port), "--worker-port", str(first)]
        with open(log, "w") as out:
            serving = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
            try:
                pids = _wait_until_serving(serving, log)
                yield Cluster(f"http://127.0.0.1:{port}", pids, practice_id)
            finally:
                serving.terminate()  # dhu serve stops its app processes and nginx
                serving.wait(timeout=60)
        assert "Stopped." in log.read_text()
        for pid in pids.values():
            assert not _running(pid)


def _waiting_practice(engine) -> int:
    with db.session_scope(engine) as session:
        organisation = Organisation(name="Tartu Heart Clinic", country="EE")
        session.add(organisation)
        session.flush()
        owner = account(session, "owner", organisation_id=organisation.id)
        account(session, "coordinator", role="coordinator")
        data = PracticeCreate(
            title=TITLE,
            summary="Nurses follow heart patients at home with a tablet and a scale.",
            practice_type="service",
            maturity=3,
            countries=["EE"],
        )
        return practices.submit_practice(session=session, data=data, actor=owner).id


def _consecutive_free_ports(count: int) -> int:
    """The first of `count` consecutive free ports."""
    while True:
        first = free_port()
        try:
            for port in range(first + 1, first + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first


def _wait_until_serving(serving: subprocess.Popen, log: Path) -> dict[str, int]:
    deadline = time.monotonic() + 2 * STARTUP_SECONDS
    while time.monotonic() < deadline:
        text = log.read_text()
        if "Serving;" in text:
            found = re.findall(r"app process \d+: pid (\d+), http://([\d.:]+)", text)
            return {address: int(pid) for pid, address in found}
        if serving.poll() is not None:
            raise RuntimeError(f"dhu serve ended:\n{text}")
        time.sleep(0.3)
    raise RuntimeError(f"dhu serve did not start:\n{log.read_text()}")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _route_to(url: str, address: str) -> str:
    """A route cookie value that nginx sends to the app process on `address`."""
    for attempt in range(1000):
        route = f"visitor-{attempt}"
        headers = {"Cookie": f"dhu_route={route}"}
        request = urllib.request.Request(f"{url}/_stcore/health", headers=headers)  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            if response.headers[UPSTREAM] == address:
                return route
    raise AssertionError(f"no route cookie leads to {address}")


def _served_by(page, url: str) -> str:
    """Open `url` in `page`; the address of the app process that served it (the last one nginx
    tried: a stopped process, tried again after its 10 s out, is listed before it)."""
    response = page.goto(url)
    assert response.ok, response.status
    return response.headers[UPSTREAM].split(", ")[-1]


def test_a_publication_on_one_process_shows_on_the_other_and_a_killed_process_hands_over(
    cluster, chromium
):
    coordinator = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = coordinator.new_page()
    first = _served_by(page, cluster.url + "/")
    assert first in cluster.pids
    (other,) = set(cluster.pids) - {first}
    assert "dhu_route" in {cookie["name"] for cookie in coordinator.cookies()}

    sign_in(page, cluster.url, "coordinator", PASSWORD)
    assert _served_by(page, cluster.url + "/review") == first  # the route cookie holds
    settle(page)
    page.get_by_label("Waiting for review", exact=True).click()
    page.get_by_role("option").filter(has_text=TITLE).click()
    settle(page)
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Approved:").wait_for(timeout=30_000)

    visitor = chromium.new_context(viewport={"width": 1400, "height": 1000})
    route = _route_to(cluster.url, other)
    visitor.add_cookies([{"name": "dhu_route", "value": route, "url": cluster.url}])
    reader = visitor.new_page()
    practice_url = f"{cluster.url}/radar?practice={cluster.practice_id}"
    assert _served_by(reader, practice_url) == other
    reader.get_by_role("heading", name=TITLE).wait_for(timeout=60_000)
    visitor.close()

    # Killed mid-session: the page reconnects its WebSocket through nginx, to the other process,
    # which runs the next page the user opens (the page on screen is not run again by itself).
    with page.expect_websocket(timeout=120_000) as reconnected:
        os.kill(cluster.pids[first], signal.SIGKILL)
    assert reconnected.value.url.endswith("/_stcore/stream")
    with reconnected.value.expect_event("framereceived", timeout=120_000):
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="RADAR").click()
    page.get_by_role("textbox", name="Search").wait_for(timeout=120_000)
    expect(page.get_by_text("Signed in as coordinator")).to_be_visible(timeout=60_000)
    assert _served_by(page, practice_url) == other
    page.get_by_role("heading", name=TITLE).wait_for(timeout=60_000)
    expect(page.get_by_text("Signed in as coordinator")).to_be_visible(timeout=60_000)
    coordinator.close()
