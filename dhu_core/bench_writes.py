"""Benchmarks of what a write costs the others, for `dhu bench`: the first catalogue search after
a draft or a publication, how soon another process finds a publication, and many writers at
once on PostgreSQL.

The first search after a write is the one that pays for whatever the write made stale (the
catalogue's facet index); a draft changes nothing the catalogue shows, so its first search should
cost what a warm one does. Concurrent writers show whether every write transaction waits for one
row that all of them update.
"""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, create_engine, delete, func, select, text

from dhu_core import db
from dhu_core.bench import timing_figures
from dhu_core.catalogue import CatalogueQuery, search
from dhu_core.models import LISTED_STATUS, AuditEvent, Organisation, Practice, utcnow

#: The title word of the practices these benchmarks write, found by nothing else.
MARKER = "Benchwrite"
SEARCH = CatalogueQuery(text="diabetes")


def run_first_search_bench(*, engine: Engine, rounds: int = 10) -> dict:
    """Time a catalogue search warm, just after a draft is saved and just after a practice is
    published; and check each published practice is found by the very next search."""
    owner = _an_organisation(engine)
    search(SEARCH, engine=engine)
    warm = [_time(lambda: search(SEARCH, engine=engine)) for _ in range(rounds)]
    after_draft, after_publication, found = [], [], 0
    try:
        for number in range(rounds):
            practice_id = _save_draft(engine, owner, f"{MARKER} practice {number}")
            after_draft.append(_time(lambda: search(SEARCH, engine=engine)))
            _publish(engine, practice_id)
            after_publication.append(_time(lambda: search(SEARCH, engine=engine)))
            ids = {p.id for p in search(CatalogueQuery(text=MARKER), engine=engine).practices}
            found += practice_id in ids
    finally:
        with db.session_scope(engine) as session:
            session.execute(delete(Practice).where(Practice.title.startswith(MARKER)))
    return {
        "practices": search(CatalogueQuery(), engine=engine).total,
        "warm search": timing_figures(warm),
        "first search after a draft": timing_figures(after_draft),
        "first search after a publication": timing_figures(after_publication),
        "publications found by the next search": f"{found} of {rounds}",
    }


#: Seconds between two searches of the watching process, and how long it looks at most.
POLL_SECONDS = 0.005
WATCH_SECONDS = 60.0


def run_visibility_bench(*, engine: Engine, rounds: int = 10) -> dict:
    """The time from the commit of a publication until a second process (another app server)
    finds the practice by a catalogue search for its title's unique word, polling every
    `POLL_SECONDS`: p50 and p95 of `rounds` publications on the same database."""
    owner = _an_organisation(engine)
    watcher = subprocess.Popen(
        [sys.executable, "-m", __name__, engine.url.render_as_string(hide_password=False)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
        env=os.environ.copy(),
    )
    seen, missed = [], 0
    try:
        for number in range(rounds):
            word = f"{MARKER}visible{number}x{os.getpid()}"
            practice_id = _save_draft(engine, owner, f"{MARKER} {word}")
            watcher.stdin.write(f"{word} {practice_id}\n")
            assert watcher.stdout.readline().split() == ["watching", word]
            _publish(engine, practice_id)
            committed = time.time()
            answer = watcher.stdout.readline().split()
            if answer[:2] == ["found", word]:
                seen.append((float(answer[2]) - committed) * 1000)
            else:
                missed += 1
    finally:
        watcher.stdin.close()
        watcher.wait(timeout=WATCH_SECONDS)
        with db.session_scope(engine) as session:
            session.execute(delete(Practice).where(Practice.title.startswith(MARKER)))
    return {
        "publication found by another process's search": timing_figures(seen),
        "poll interval ms": POLL_SECONDS * 1000,
        "not found within 60 s": missed,
    }


def watch(url: str) -> None:
    """The second process of `run_visibility_bench`: for each "WORD ID" line read, say
    "watching WORD", search for WORD until practice ID is found, then say "found WORD TIME"
    (or "missing WORD" after `WATCH_SECONDS`)."""
    engine = db.get_engine(url)
    search(SEARCH, engine=engine)
    for line in sys.stdin:
        word, practice_id = line.split()
        query = CatalogueQuery(text=word)
        search(query, engine=engine)
        print("watching", word, flush=True)
        deadline = time.monotonic() + WATCH_SECONDS
        while time.monotonic() < deadline:
            if int(practice_id) in {p.id for p in search(query, engine=engine).practices}:
                print("found", word, repr(time.time()), flush=True)
                break
            time.sleep(POLL_SECONDS)
        else:
            print("missing", word, flush=True)


def run_concurrent_writes_bench(*, url: str, writers: int = 20, transactions: int = 50) -> dict:
    """`writers` threads each commit `transactions` small write transactions (a draft and its
    audit event) on the PostgreSQL database at `url`, all at once; writes per second, commit
    times, and how often a writer was seen waiting for a lock (sampled every 2 ms)."""
    engine = create_engine(url, pool_size=writers + 1, max_overflow=0)
    db.upgrade(engine)
    if engine.dialect.name != "postgresql":
        return {"skipped": "lock waits are sampled on PostgreSQL only"}
    owner = _an_organisation(engine, own=True)
    start = threading.Barrier(writers + 1)
    latencies: list[float] = []
    waits: list[int] = []
    done = threading.Event()

    def writer(number: int) -> None:
        start.wait()
        for step in range(transactions):
            latencies.append(
                _time(lambda step=step: _save_draft(engine, owner, f"{MARKER} {number}/{step}"))
            )

    def sampler() -> None:
        with engine.connect() as conn:
            while not done.is_set():
                waits.append(conn.execute(text(_WAITING)).scalar_one())
                conn.rollback()
                time.sleep(0.002)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    watching = threading.Thread(target=sampler)
    watching.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    done.set()
    watching.join()
    with db.session_scope(engine) as session:
        session.execute(delete(Practice).where(Practice.title.startswith(MARKER)))
    engine.dispose()
    return {
        "writers": writers,
        "transactions": len(latencies),
        "writes_per_second": round(len(latencies) / seconds, 1),
        "commit": timing_figures(latencies),
        "samples with a writer waiting for a lock": f"{sum(1 for w in waits if w)} of {len(waits)}",
        "writers waiting for a lock, mean": round(sum(waits) / max(len(waits), 1), 2),
    }


_WAITING = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'
"""


def _an_organisation(engine: Engine, *, own: bool = False) -> int:
    """Any organisation's id, or (`own`) that of this benchmark's, created on first use."""
    with db.session_scope(engine) as session:
        name = f"{MARKER} organisation"
        mine = select(Organisation.id).where(Organisation.name == name)
        found = session.execute(mine if own else select(func.min(Organisation.id))).scalar()
        if found is None:
            organisation = Organisation(name=name, country="DE")
            session.add(organisation)
            session.flush()
            return organisation.id
        return found


def _save_draft(engine: Engine, owner: int, title: str) -> int:
    """A draft practice saved as an owner does, with its audit event."""
    with db.session_scope(engine) as session:
        practice = Practice(title=title, owner_organisation_id=owner, summary="Diabetes draft.")
        session.add(practice)
        session.flush()
        session.add(
            AuditEvent(
                actor_name="bench",
                action="practice.drafted",
                entity="practice",
                entity_id=practice.id,
            )
        )
        return practice.id


def _publish(engine: Engine, practice_id: int) -> None:
    with db.session_scope(engine) as session:
        practice = db.get_for_update(session, Practice, practice_id)
        now = utcnow()
        practice.practice_type, practice.maturity = "app", 3
        practice.status, practice.published_at, practice.last_confirmed_at = (
            LISTED_STATUS,
            now,
            now,
        )


def _time(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    watch(sys.argv[1])
