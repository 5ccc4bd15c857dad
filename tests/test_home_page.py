"""AppTest of the home page on a freshly started embedded database (demo data)."""

import sqlite3

from streamlit.testing.v1 import AppTest

from dhu_core.changes import SCOPES
from tests.apptest import APP


def _count(path, sql: str) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchone()[0]


def test_home_figures_equal_the_counts_in_the_database(embedded_app):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception

    database = embedded_app / "dhu.sqlite3"
    expected = {
        "Published practices": _count(
            database, "SELECT count(*) FROM practice WHERE status = 'published'"
        ),
        "Countries covered": _count(
            database,
            "SELECT count(DISTINCT pc.country) FROM practice_country pc "
            "JOIN practice p ON p.id = pc.practice_id WHERE p.status = 'published'",
        ),
        # Only organisations with a published practice: not those with drafts or none.
        "Organisations": _count(
            database,
            "SELECT count(DISTINCT p.owner_organisation_id) FROM practice p "
            "JOIN organisation o ON o.id = p.owner_organisation_id "
            "WHERE p.status = 'published' AND o.name != 'Workshop captures'",
        ),
        "Twinnings": _count(
            database,
            "SELECT count(*) FROM twinning_match m JOIN practice p ON p.id = m.practice_id "
            "WHERE m.status IN ('agreed', 'in-transfer', 'completed') AND p.status = 'published'",
        ),
    }
    shown = {metric.label: int(metric.value.replace(",", "")) for metric in at.metric}
    assert shown == expected
    assert all(value > 0 for value in expected.values())


def test_home_shows_the_demo_banner_and_newest_practices(embedded_app):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert any("Demo data" in info.value for info in at.info)
    newest = _newest_title(embedded_app / "dhu.sqlite3")
    links = [link.proto.label.replace("\\", "") for link in at.get("page_link")]
    assert any(newest in label for label in links)


def test_a_new_practice_shows_on_the_next_rerun(embedded_app):
    at = AppTest.from_file(APP, default_timeout=60).run()
    before = _metric(at, "Published practices")
    database = embedded_app / "dhu.sqlite3"
    with sqlite3.connect(database) as conn:
        conn.execute(
            "UPDATE practice SET status = 'published' WHERE id = "
            "(SELECT min(id) FROM practice WHERE status != 'published')"
        )
        conn.executemany("INSERT INTO data_change (scope) VALUES (?)", [(s,) for s in SCOPES])
    at.run()
    assert _metric(at, "Published practices") == before + 1


def _metric(at: AppTest, label: str) -> int:
    return next(int(m.value.replace(",", "")) for m in at.metric if m.label == label)


def _newest_title(path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT title FROM practice WHERE status = 'published' "
            "ORDER BY published_at DESC, id DESC LIMIT 1"
        ).fetchone()[0]
