"""Benchmark of the uptake map: the aggregation against a hand-written floor, and the page."""

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from dhu_core import db, demo, uptake
from dhu_core.config import PROJECT_ROOT

#: `uptake.country_uptake` without filters, written by hand as one SQL query: the floor.
FLOOR_SQL = """
SELECT country, sum(deployed), sum(mature), sum(adopted), sum(originated), sum(twinnings)
FROM (
    SELECT pc.country AS country, count(*) AS deployed,
           sum(CASE WHEN p.maturity >= 3 THEN 1 ELSE 0 END) AS mature,
           sum(CASE WHEN o.country != pc.country THEN 1 ELSE 0 END) AS adopted,
           0 AS originated, 0 AS twinnings
    FROM practice p
    JOIN practice_country pc ON pc.practice_id = p.id
    JOIN organisation o ON o.id = p.owner_organisation_id
    WHERE p.status = 'published'
    GROUP BY pc.country
    UNION ALL
    SELECT o.country, 0, 0, 0, count(*), 0
    FROM practice p JOIN organisation o ON o.id = p.owner_organisation_id
    WHERE p.status = 'published'
    GROUP BY o.country
    UNION ALL
    SELECT n.country, 0, 0, 0, 0, count(*)
    FROM twinning_match m
    JOIN twinning_need n ON n.id = m.need_id
    JOIN practice p ON p.id = m.practice_id
    WHERE m.status IN ('agreed', 'in-transfer', 'completed') AND p.status = 'published'
    GROUP BY n.country
    UNION ALL
    SELECT o.country, 0, 0, 0, 0, count(*)
    FROM twinning_match m
    JOIN twinning_need n ON n.id = m.need_id
    JOIN practice p ON p.id = m.practice_id
    JOIN organisation o ON o.id = p.owner_organisation_id
    WHERE m.status IN ('agreed', 'in-transfer', 'completed') AND p.status = 'published'
      AND o.country != n.country
    GROUP BY o.country
)
GROUP BY country
"""


def run_uptake_bench(
    *, sizes: tuple[int, ...] = (1_000, 10_000, 100_000), workdir: Path, repeats: int = 7
) -> list[dict]:
    """Per size: seed a new SQLite file, time the aggregation, its floor and the /map page."""
    rows = []
    for size in sizes:
        path = Path(workdir) / f"uptake-{size}.sqlite3"
        path.unlink(missing_ok=True)
        engine = db.get_engine(f"sqlite:///{path}")
        db.upgrade(engine)
        seeded = demo.seed_demo(engine=engine, practices=size)
        aggregation = _median(
            lambda engine=engine: uptake.country_uptake(uptake.UptakeFilters(), engine=engine),
            repeats,
        )
        with sqlite3.connect(path) as conn:
            floor = _median(lambda conn=conn: conn.execute(FLOOR_SQL).fetchall(), repeats)
            _check_floor(conn, uptake.country_uptake(uptake.UptakeFilters(), engine=engine))
        engine.dispose()
        page = _page_runs(path, workdir, repeats=3)
        rows.append(
            {
                "practices": size,
                "seed_s": seeded.seconds,
                "aggregation_ms": round(aggregation * 1000, 1),
                "floor_ms": round(floor * 1000, 1),
                "ratio": round(aggregation / floor, 2),
                "page_cold_s": round(statistics.median(page["cold"]), 3),
                "page_cached_s": round(statistics.median(page["cached"]), 3),
            }
        )
    return rows


def _median(action: Callable[[], object], repeats: int) -> float:
    action()  # the first run warms the database's page cache
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _check_floor(conn: sqlite3.Connection, table: pd.DataFrame) -> None:
    columns = ["deployed", "mature", "adopted", "originated", "twinnings"]
    counted = table.set_index("country")[columns]
    for country, *sums in conn.execute(FLOOR_SQL):
        if country in counted.index and list(sums) != counted.loc[country].tolist():
            raise RuntimeError(f"the floor query and country_uptake differ for {country}")


def _page_runs(path: Path, workdir: Path, *, repeats: int) -> dict[str, list[float]]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "DHU_DATA_DIR": str(workdir)}
    app = str(PROJECT_ROOT / "main.py")
    done = subprocess.run(
        # A process of its own: "cold" then means cold, and this module stays free of Streamlit.
        [sys.executable, "-m", "dhu_core.ui.page_timing", app, "app_pages/map.py", str(repeats)],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
