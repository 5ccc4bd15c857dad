"""Issue 15 (memory): the signed-in roles' pages load what they show, not whole tables."""

import os
import subprocess
import sys

import pytest
from sqlalchemy import event
from streamlit.testing.v1 import AppTest

from dhu_core import db, practices, twinning
from dhu_core.models import TwinningMatch, TwinningNeed
from dhu_core.text import md_escape
from tests.apptest import APP, sign_in
from tests.browser import ROOT
from tests.test_twinning import new_match
from tests.test_twinning import team as team  # a fixture


@pytest.fixture
def loaded(monkeypatch) -> list[int]:
    """The ids of every practice loaded in full (with its tags and countries) from now on."""
    ids: list[int] = []
    real = practices.load_public

    def counting(session, practice_ids, *args, **kwargs):
        ids.extend(practice_ids)
        return real(session, practice_ids, *args, **kwargs)

    monkeypatch.setattr(practices, "load_public", counting)
    return ids


def test_the_review_page_loads_the_chosen_practice_not_the_whole_queue(embedded_app, loaded):
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), "demo-coordinator")
    loaded.clear()
    at.switch_page("app_pages/review.py").run()
    assert not at.exception

    [queue] = [s for s in at.selectbox if s.label == "Waiting for review"]
    assert len(queue.options) > 1
    assert len(loaded) == 1  # the chosen practice, however long the queue
    title = queue.options[queue.index].split(" · ")[0]
    assert md_escape(title) in [h.value for h in at.main.header]  # its details, under its title


def test_the_list_of_twinnings_reads_columns_not_the_matches_records(engine, team):
    """A coordinator's twinning page lists every match: at 100,000 practices, 3,760 match
    records with their decoded breakdowns held ~15 MB in each of its runs."""
    match_id = new_match(engine, team)
    records: list[TwinningMatch] = []

    def record(match: TwinningMatch, _context: object) -> None:
        records.append(match)

    event.listen(TwinningMatch, "load", record)
    try:
        with db.read_scope(engine) as session:
            [entry] = twinning.twinning_matches(session=session, actor=team["coordinator"])
    finally:
        event.remove(TwinningMatch, "load", record)
    assert (entry.id, entry.status, entry.score) == (match_id, "suggested", 0.8)
    assert records == []


def test_the_coordinators_twinning_page_loads_the_chosen_need_only(embedded_app):
    """At 100,000 practices the 2,000 open needs were loaded with their codes on every run of
    a coordinator's twinning page (~10 MB at its peak) for the labels of one list."""
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), "demo-coordinator")
    needs: list[int] = []

    def record(need: TwinningNeed, _context: object) -> None:
        needs.append(need.id)

    event.listen(TwinningNeed, "load", record)
    try:
        at.switch_page("app_pages/twinning.py").run()
    finally:
        event.remove(TwinningNeed, "load", record)
    assert not at.exception

    [choice] = [s for s in at.selectbox if s.label == "Need"]
    assert len(choice.options) > 1
    assert len(set(needs)) == 1  # the chosen one, with its statement and its candidates
    assert at.query_params["need"] == str(needs[0])


def test_an_app_process_starts_without_openpyxl():
    """openpyxl (~12 MB resident) is imported when a workbook is read or written, not with
    every app process."""
    started = subprocess.run(
        [sys.executable, "-c", "import sys, app; print('openpyxl' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert started.stdout.strip().splitlines()[-1] == "False"


def test_an_app_process_signs_in_and_draws_charts_without_libraries_it_does_not_need(tmp_path):
    """Each held MB in every app process: Altair and its JSON-schema validation ~23 (the charts
    are Vega-Lite specifications written as dicts), streamlit-authenticator with PyJWT,
    cryptography and requests ~14 (the platform's own sign-in form and signed cookie),
    zxcvbn's word lists ~11 (imported when a password is judged, not to sign in)."""
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "from tests.apptest import sign_in\n"
        "at = sign_in(AppTest.from_file('main.py', default_timeout=120).run(), 'demo-admin')\n"
        "for page in ('app_pages/live.py', 'app_pages/map.py'):\n"
        "    at.switch_page(page).run()\n"
        "    assert not at.exception, at.exception\n"
        "print(len(at.get('vega_lite_chart')), any('Signed in as' in c.value for c in "
        "at.sidebar.caption))\n"
        "print(sorted({name.split('.')[0] for name in sys.modules} & set(sys.argv[1:])))\n"
    )
    unwanted = ["altair", "streamlit_authenticator", "jwt", "cryptography", "requests", "zxcvbn"]
    environment = {**os.environ, "DHU_DATA_DIR": str(tmp_path)}
    environment.pop("DATABASE_URL", None)
    drawn = subprocess.run(
        [sys.executable, "-c", script, *unwanted],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=environment,
    )
    charts_and_signed_in, imported = drawn.stdout.splitlines()[-2:]
    assert charts_and_signed_in.split()[1] == "True"
    assert int(charts_and_signed_in.split()[0]) > 0  # the map page draws its charts
    assert imported == "[]"
