"""A small workshop, as `dhu bench-workshop` runs a full one: an audience sends quick captures
(over WebSockets, or from Chromium tabs) while `/live` screens refresh in Chromium; every
capture is stored and every screen counts it."""

import pytest
from sqlmodel import select

from dhu_core import db
from dhu_core.bench_workshop import run_workshop_bench
from dhu_core.models import Practice, PracticeCountry
from tests.browser import require_chromium

pytestmark = pytest.mark.browser


def _captures(folder) -> list[tuple[str, str, str, str]]:
    """The workshop's captures in the app's database: title, status, e-mail, country."""
    engine = db.get_engine(f"sqlite:///{folder / 'dhu.sqlite3'}")
    try:
        with db.read_scope(engine) as session:
            rows = session.exec(
                select(Practice, PracticeCountry)
                .join(PracticeCountry, PracticeCountry.practice_id == Practice.id)
                .where(Practice.title.startswith("Workshop practice "))
            ).all()
            return sorted((p.title, p.status, p.contact_email, c.country) for p, c in rows)
    finally:
        engine.dispose()


@pytest.mark.timeout(900)
def test_every_capture_sent_over_websockets_is_stored_and_counted_on_the_screen(tmp_path):
    require_chromium()
    figures = run_workshop_bench(
        audience=5, screens=1, seconds=20, fill_seconds=1, workdir=tmp_path
    )

    assert figures["errors"] == 0, figures["error_examples"]
    assert figures["members"] == "websocket"
    assert figures["captures_sent"] == 5
    assert figures["captures_counted_on_every_screen"] == 5
    assert figures["captures_not_counted_on_a_screen"] == 0
    assert figures["capture_form_page_time"]["n"] == 5
    assert figures["sent_to_confirmed"]["n"] == 5
    assert _captures(tmp_path) == [
        (f"Workshop practice {n}", "draft", f"member{n}@example.org", "DE") for n in range(1, 6)
    ]
    assert set(figures["processes"]) == {
        "app process 1",
        "load generator (this Python process)",
        "chromium (all its processes)",
        "playwright driver (node)",
    }


@pytest.mark.timeout(900)
def test_every_capture_sent_from_chromium_is_stored_and_counted_on_every_screen(tmp_path):
    require_chromium()
    figures = run_workshop_bench(
        audience=4, screens=2, seconds=30, members="chromium", concurrency=2, workdir=tmp_path
    )

    assert figures["errors"] == 0, figures["error_examples"]
    assert figures["members"] == "chromium"
    assert figures["captures_sent"] == 4
    assert figures["captures_counted_on_every_screen"] == 4
    assert figures["captures_not_counted_on_a_screen"] == 0
    assert figures["capture_form_page_time"]["n"] == 4
    assert len(_captures(tmp_path)) == 4
