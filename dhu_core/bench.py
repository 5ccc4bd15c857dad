"""Benchmarks of the catalogue search, the similarity index and the freshness pass, for
`dhu bench`.

Both run on a database that already holds data (such as `dhu demo --practices 100000`).
"""

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select

from dhu_core import freshness
from dhu_core.catalogue import CatalogueQuery, search
from dhu_core.models import LISTED, OutboxMessage, Practice
from dhu_core.similarity import SimilarityIndex

#: Searches a visitor makes: a common word, a facet combination, text with facets, words found
#: by their stem or in the code lists' labels (a standard, a maturity level, a country).
CATALOGUE_QUERIES: dict[str, CatalogueQuery] = {
    "text 'diabetes'": CatalogueQuery(text="diabetes"),
    "type=app & country=DE": CatalogueQuery(practice_types=("app",), countries=("DE",)),
    "text 'diabetes' & maturity=3,4": CatalogueQuery(text="diabetes", maturities=(3, 4)),
    "text 'diabetes' & type=app & country=DE": CatalogueQuery(
        text="diabetes", practice_types=("app",), countries=("DE",)
    ),
    "text 'mental health' & domain & language=en": CatalogueQuery(
        text="mental health", health_domains=("mental-health",), languages=("en",)
    ),
    "text 'telemonitoring heart' & transferable": CatalogueQuery(
        text="telemonitoring heart", transferable=True
    ),
    "prefix 'tele'": CatalogueQuery(text="tele"),
    "no filter (first visit)": CatalogueQuery(),
    "text 'COPD rehabilitation'": CatalogueQuery(text="COPD rehabilitation"),
    "text 'scales' (stem, maturity label)": CatalogueQuery(text="scales"),
    "text 'FHIR' (standard label)": CatalogueQuery(text="FHIR"),
    "text 'telemonitoring Estonia' (country label)": CatalogueQuery(text="telemonitoring Estonia"),
}


def run_catalogue_bench(*, engine: Engine, repeats: int = 20) -> dict:
    """Time `search` (page, total and facet counts) on each of `CATALOGUE_QUERIES`."""
    per_query = {}
    every = []
    for name, query in CATALOGUE_QUERIES.items():
        total = search(query, engine=engine).total  # the first run warms the caches
        times = [_time(lambda query=query: search(query, engine=engine)) for _ in range(repeats)]
        per_query[name] = {"total": total, **timing_figures(times)}
        every += times
    return {
        "practices": _published(engine),
        "repeats": repeats,
        **timing_figures(every),
        "queries": per_query,
    }


def run_similarity_bench(*, engine: Engine, lookups: int = 200) -> dict:
    """Build the similarity index, then time lookups by text and by practice."""
    started = time.perf_counter()
    index = SimilarityIndex.build(engine=engine)
    build_seconds = time.perf_counter() - started
    with engine.connect() as conn:
        samples = conn.execute(
            select(Practice.id, Practice.title, Practice.summary)
            .where(LISTED)
            .order_by(Practice.id)
            .limit(lookups)
        ).all()
    by_text = [
        _time(lambda title=title, summary=summary: index.similar_to_text(title, summary))
        for _, title, summary in samples
    ]
    by_practice = [
        _time(lambda practice_id=practice_id: index.similar_to_practice(practice_id))
        for practice_id, _, _ in samples
    ]
    return {
        "practices": len(index),
        "build_s": round(build_seconds, 2),
        "by_text": timing_figures(by_text),
        "by_practice": timing_figures(by_practice),
    }


def run_freshness_bench(*, engine: Engine) -> dict:
    """Time freshness passes (reminders, then archiving, each one UPDATE) over the database as
    seeded, and with the clock moved: the first pass, the same pass again (nothing left to do),
    and a pass seven months later, when the first reminders have run out. Changes the data."""
    started = _now_of(engine)
    moments = {
        "first pass": started,
        "the same pass again": started,
        "seven months later": freshness.months_before(started, -7) + timedelta(days=1),
    }
    passes = {}
    for name, now in moments.items():
        began = time.perf_counter()
        result = freshness.run_pass(engine=engine, now=now)
        passes[name] = {
            "seconds": round(time.perf_counter() - began, 2),
            "reminded": len(result.reminded),
            "archived": len(result.archived),
        }
    with engine.connect() as conn:
        reminders = conn.execute(
            select(func.count()).where(OutboxMessage.kind == freshness.REMINDER)
        ).scalar_one()
    return {"practices": _count(engine), "passes": passes, "reminder_emails": reminders}


def _now_of(engine: Engine) -> datetime:
    """The newest confirmation in the database, a day later: "now" for generated data."""
    with engine.connect() as conn:
        newest = conn.execute(select(func.max(Practice.last_confirmed_at))).scalar_one()
    return newest.replace(tzinfo=newest.tzinfo or UTC) + timedelta(days=1)


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Practice)).scalar_one()


def _published(engine: Engine) -> int:
    with engine.connect() as conn:
        statement = select(func.count()).where(LISTED)
        return conn.execute(statement).scalar_one()


def _time(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def timing_figures(milliseconds: list[float]) -> dict:
    """n, p50 and p95 (nearest rank) of timings in milliseconds."""
    ordered = sorted(milliseconds)

    def percentile(share: float) -> float:
        return round(ordered[max(math.ceil(share * len(ordered)) - 1, 0)], 1) if ordered else 0.0

    return {"n": len(ordered), "p50_ms": percentile(0.5), "p95_ms": percentile(0.95)}
