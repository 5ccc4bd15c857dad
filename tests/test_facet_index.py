"""The catalogue's facet index is patched with the practices each change names, and the patched
index always equals one built afresh (both databases)."""

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, delete, insert, update
from sqlmodel import select

from dhu_core import build_process, changes, db, facet_index, freshness
from dhu_core.catalogue import CatalogueQuery, search
from dhu_core.facet_index import FacetIndex
from dhu_core.models import DataChange, Organisation, Practice, PracticeCountry, PracticeTag

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
#: The facet index's own read of the database, before a test counts its calls.
READ_LISTING = facet_index.read_listing


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """What the facet index reads: "all" practices, or "some" of them by id."""
    done: list[str] = []

    def counted(session, *conditions):
        done.append("some" if conditions else "all")
        return READ_LISTING(session, *conditions)

    monkeypatch.setattr(facet_index, "read_listing", counted)
    return done


@pytest.fixture
def owner(engine) -> int:
    with db.session_scope(engine) as session:
        organisation = Organisation(name="Tartu Clinic", country="EE")
        session.add(organisation)
        session.flush()
        return organisation.id


def add(engine, owner: int, *, status: str = "published", **fields) -> int:
    """A practice with a deployment and a few tags; its id."""
    with db.session_scope(engine) as session:
        practice = Practice(
            title=fields.pop("title", "Asthma telecoaching"),
            summary="Nurses coach patients with asthma by video.",
            owner_organisation_id=owner,
            status=status,
            practice_type=fields.pop("practice_type", "service"),
            maturity=fields.pop("maturity", 3),
            transferable=fields.pop("transferable", True),
            published_at=NOW - timedelta(days=30) if status == "published" else None,
            last_confirmed_at=fields.pop("last_confirmed_at", NOW - timedelta(days=30)),
            **fields,
        )
        session.add(practice)
        session.flush()
        session.add(PracticeCountry(practice_id=practice.id, country="EE"))
        session.add_all(
            PracticeTag(practice_id=practice.id, kind=kind, code=code)
            for kind, code in (("domain", "respiratory"), ("dhi", "1.4.1"), ("dhi", "1.4.2"))
        )
        return practice.id


def write(engine, change) -> None:
    """Run `change(session)` in one write transaction."""
    with db.session_scope(engine) as session:
        change(session)


def change_practice(engine, practice_id: int, **values) -> None:
    def change(session):
        practice = session.get(Practice, practice_id)
        for name, value in values.items():
            setattr(practice, name, value)

    write(engine, change)


def kept(engine, now: datetime = NOW) -> FacetIndex:
    """The process's facet index as the next search finds it."""
    with db.read_scope(engine) as session:
        return facet_index.current(session, freshness.outdated_before(now))


def fresh(engine, now: datetime = NOW) -> FacetIndex:
    """A facet index built from every listed practice."""
    with db.read_scope(engine) as session:
        empty = changes.Seen(top=0, ids=frozenset())
        return FacetIndex(READ_LISTING(session), freshness.outdated_before(now), empty)


def contents(index: FacetIndex) -> tuple:
    """What an index holds, however it was put together."""
    matrix = index.matrix.tocoo()
    assert set(matrix.data) <= {1.0}
    values = {
        (int(index.ids[row]), *index.columns[column])
        for row, column in zip(matrix.row, matrix.col, strict=True)
    }
    return index.ids.tolist(), index.published.tolist(), values


def assert_up_to_date(engine, now: datetime = NOW) -> FacetIndex:
    index = kept(engine, now)
    assert contents(index) == contents(fresh(engine, now))
    return index


def catalogue_notes(engine, count: int) -> list[str | None]:
    """The `practices` of the newest `count` catalogue rows of the change log, oldest first."""
    log = DataChange.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            select(log.c.practices)
            .where(log.c.scope == changes.CATALOGUE)
            .order_by(log.c.id.desc())
            .limit(count)
        )
        return list(rows.scalars())[::-1]


def test_each_catalogue_change_names_the_practices_whose_facets_it_changed(engine, owner):
    listed = add(engine, owner)
    change_practice(engine, listed, maturity=4)
    change_practice(engine, listed, title="Asthma coaching by video")
    write(engine, lambda s: s.add(PracticeTag(practice_id=listed, kind="standard", code="fhir")))
    write(
        engine,
        lambda s: s.execute(delete(PracticeCountry).where(PracticeCountry.practice_id == listed)),
    )
    write(engine, lambda s: s.execute(update(Practice).values(freshness_reminded_at=NOW)))
    write(engine, lambda s: s.execute(update(Practice).values(maturity=2)))
    assert catalogue_notes(engine, 7) == [
        str(listed),
        str(listed),
        "",
        *[str(listed)] * 2,
        "",
        None,
    ]


def test_a_change_of_too_many_practices_names_none(engine, owner):
    with db.session_scope(engine) as session:
        session.add_all(
            Practice(title=f"Practice {n}", owner_organisation_id=owner, status="published")
            for n in range(changes.MOST_PRACTICES + 1)
        )
    assert catalogue_notes(engine, 1) == [None]


def test_a_publication_patches_the_index(engine, owner, reads):
    add(engine, owner)
    before = kept(engine)
    draft = add(engine, owner, status="submitted", practice_type="app")
    assert kept(engine) is before
    change_practice(engine, draft, status="published", published_at=NOW)
    after = assert_up_to_date(engine)
    assert draft in after.ids
    assert reads == ["all", "some"]
    found = search(CatalogueQuery(text="asthma", practice_types=("app",)), engine=engine, now=NOW)
    assert [p.id for p in found.practices] == [draft]


@pytest.mark.parametrize(
    "edit",
    [
        dict(maturity=5, practice_type="app", transferable=False),
        dict(transferable=None, maturity=None),
        dict(last_confirmed_at=NOW - timedelta(days=3000)),
        dict(published_at=NOW - timedelta(days=1)),
        dict(status="archived"),
        dict(status="draft"),
    ],
)
def test_an_edit_of_facet_values_patches_the_index(engine, owner, reads, edit):
    practice_id = add(engine, owner)
    add(engine, owner, practice_type="policy")
    kept(engine)
    change_practice(engine, practice_id, **edit)
    assert_up_to_date(engine)
    assert reads == ["all", "some"]


def test_tags_and_deployments_patch_the_index(engine, owner, reads):
    practice_id = add(engine, owner)
    kept(engine)
    write(engine, lambda s: s.add(PracticeTag(practice_id=practice_id, kind="dhi", code="2.2.1")))
    assert_up_to_date(engine)
    write(engine, lambda s: s.add(PracticeCountry(practice_id=practice_id, country="LV")))
    assert_up_to_date(engine)
    write(
        engine,
        lambda s: s.execute(delete(PracticeTag).where(PracticeTag.practice_id == practice_id)),
    )
    assert_up_to_date(engine)
    assert reads == ["all", "some", "some", "some"]


def test_a_deleted_practice_leaves_the_index(engine, owner, reads):
    practice_id = add(engine, owner)
    other = add(engine, owner)
    kept(engine)
    write(engine, lambda s: s.delete(s.get(Practice, practice_id)))
    assert assert_up_to_date(engine).ids.tolist() == [other]
    assert reads == ["all", "some"]


def test_a_change_of_no_facet_keeps_the_matrix_but_not_the_text_hits(engine, owner, reads):
    practice_id = add(engine, owner)
    query = CatalogueQuery(text="inhaler")
    assert search(query, engine=engine, now=NOW).total == 0
    before = kept(engine)
    change_practice(engine, practice_id, title="Inhaler coaching")
    write(engine, lambda s: s.execute(update(Practice).values(freshness_reminded_at=NOW)))
    assert search(query, engine=engine, now=NOW).total == 1
    after = assert_up_to_date(engine)
    assert after is not before and after.matrix is before.matrix
    assert reads == ["all"]


def test_the_next_day_makes_practices_outdated_without_a_read(engine, owner, reads):
    confirmed = freshness.outdated_before(NOW)
    add(engine, owner, last_confirmed_at=confirmed + timedelta(hours=1))
    add(engine, owner, last_confirmed_at=None)
    today = kept(engine)
    assert today.counts(None)["freshness"] == {"current": 1}
    tomorrow = NOW + timedelta(days=1)
    assert freshness.outdated_before(tomorrow) > confirmed + timedelta(hours=1)
    index = assert_up_to_date(engine, tomorrow)
    assert index.counts(None)["freshness"] == {"outdated": 1}
    assert reads == ["all"]


def test_a_bulk_statement_naming_no_practice_builds_the_index_again(engine, owner, reads):
    add(engine, owner)
    kept(engine)
    write(engine, lambda s: s.execute(update(Practice).values(maturity=1)))
    assert assert_up_to_date(engine).counts(None)["maturity"] == {"1": 1}
    assert reads == ["all", "all"]


def test_a_large_catalogue_is_read_again_in_a_process_of_its_own(engine, owner, reads, monkeypatch):
    """From `APART_FROM` practices, a full read runs in a build process (this one reads
    nothing) and gives the index a read here gives."""
    monkeypatch.setattr(build_process, "APART_FROM", 2)
    add(engine, owner)
    kept(engine)
    assert reads == ["all"]  # one practice: read here
    add(engine, owner, title="Stroke rehabilitation", maturity=4)
    write(engine, lambda s: s.execute(update(Practice).values(transferable=False)))
    index = assert_up_to_date(engine)
    assert reads == ["all"]  # read in the build process
    assert index.counts(None)["transferable"] == {"no": 2}
    assert index.seen == fresh_log(engine)


def fresh_log(engine) -> changes.Seen:
    with db.read_scope(engine) as session:
        return changes.rows_since(session, changes.CATALOGUE, None)[1]


def test_history_pruned_away_builds_the_index_again(engine, owner, reads, monkeypatch):
    practice_id = add(engine, owner)
    kept(engine)
    monkeypatch.setattr(changes, "KEPT", {changes.CATALOGUE: changes.WINDOW + 2})
    with engine.begin() as conn:  # other writes take ids meanwhile
        conn.execute(insert(DataChange.__table__), [{"scope": changes.AUDIT}] * 3)
    change_practice(engine, practice_id, maturity=5)
    assert_up_to_date(engine)
    assert reads == ["all", "all"]


def test_catalogue_rows_are_kept_far_back_for_the_facet_index(engine, owner, monkeypatch):
    practice_id = add(engine, owner)
    with engine.begin() as conn:
        conn.execute(insert(DataChange.__table__), [{"scope": changes.AUDIT}] * changes.WINDOW)
    monkeypatch.setattr(changes.random, "random", lambda: 0.0)  # prune at this write
    change_practice(engine, practice_id, maturity=5)
    assert len(catalogue_notes(engine, 100)) > 2  # older than the window, still there


def test_one_thread_brings_the_index_up_to_date_while_the_others_wait(engine, owner, monkeypatch):
    practice_id = add(engine, owner)
    kept(engine)
    change_practice(engine, practice_id, maturity=5)
    real = FacetIndex.brought_up_to_date
    calls = []

    def slow(index, session, outdated_before):
        calls.append(1)
        time.sleep(0.2)
        return real(index, session, outdated_before)

    monkeypatch.setattr(FacetIndex, "brought_up_to_date", slow)
    found = []
    threads = [threading.Thread(target=lambda: found.append(kept(engine))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [1]
    assert len({id(index) for index in found}) == 1
    assert contents(found[0]) == contents(fresh(engine))


def test_a_late_commit_of_an_earlier_change_is_taken_up(engine, owner, reads):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers take ids and commit one at a time")
    early, late = add(engine, owner), add(engine, owner)
    kept(engine)
    other = create_engine(engine.url)
    try:
        with other.connect() as conn:
            # A transaction takes its log id, then commits after a later one is seen.
            conn.execute(update(Practice).where(Practice.id == late).values(maturity=1))
            conn.execute(
                insert(DataChange.__table__).values(scope=changes.CATALOGUE, practices=str(late))
            )
            change_practice(engine, early, maturity=5)
            assert_up_to_date(engine)
            conn.commit()
        index = assert_up_to_date(engine)
        assert index.counts(None)["maturity"] == {"1": 1, "5": 1}
    finally:
        other.dispose()
    assert reads == ["all", "some", "some"]


#: Writes a test may make: (what, which practice, a value).
WRITES = st.tuples(
    st.sampled_from(
        [
            "add",
            "publish",
            "archive",
            "unpublish",
            "delete",
            "maturity",
            "type",
            "confirm",
            "title",
            "tag",
            "untag",
            "deploy",
            "reminders",
            "bulk",
            "next day",
        ]
    ),
    st.integers(0, 20),
    st.sampled_from(["1.4.1", "2.2.1", "3.1.1", "4.1.1"]),
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(writes=st.lists(WRITES, min_size=1, max_size=8))
def test_the_patched_index_equals_one_built_afresh(engine, owner, writes):
    now = NOW
    for what, number, code in writes:
        with db.session_scope(engine) as session:
            ids = sorted(session.exec(select(Practice.id)).all())
            practice = session.get(Practice, ids[number % len(ids)]) if ids else None
            if what == "add" or practice is None:
                session.add(
                    Practice(
                        title=f"Practice {number}",
                        owner_organisation_id=owner,
                        status="published" if number % 2 else "submitted",
                        practice_type="app",
                        maturity=number % 5 + 1,
                        published_at=now,
                        last_confirmed_at=now - timedelta(days=number * 20),
                    )
                )
            elif what in ("publish", "archive", "unpublish"):
                practice.status = {"publish": "published", "archive": "archived"}.get(what, "draft")
            elif what == "delete":
                session.delete(practice)
            elif what == "maturity":
                practice.maturity = number % 5 + 1
            elif what == "type":
                practice.practice_type = ["app", "policy", "service"][number % 3]
            elif what == "confirm":
                practice.last_confirmed_at = now - timedelta(days=number * 20)
            elif what == "title":
                practice.title = f"Renamed {number}"
            elif what == "tag":
                session.merge(PracticeTag(practice_id=practice.id, kind="dhi", code=code))
            elif what == "untag":
                session.execute(delete(PracticeTag).where(PracticeTag.practice_id == practice.id))
            elif what == "deploy":
                session.merge(PracticeCountry(practice_id=practice.id, country="LV"))
            elif what == "reminders":
                session.execute(update(Practice).values(freshness_reminded_at=now))
            elif what == "bulk":
                session.execute(update(Practice).where(Practice.maturity == 3).values(maturity=4))
            else:
                now += timedelta(days=number)
        assert_up_to_date(engine, now)


#: A second process that keeps its facet index: for each line read, the ids a search for
#: "asthma" finds, and how often it has read every listed practice.
SEARCHER = """
import sys
from dhu_core import db, facet_index
from dhu_core.catalogue import CatalogueQuery, search

read, full = facet_index.read_listing, []


def counted(session, *conditions):
    full.extend([] if conditions else [1])
    return read(session, *conditions)


facet_index.read_listing = counted
engine = db.get_engine(sys.argv[1])
for _ in sys.stdin:
    found = search(CatalogueQuery(text="asthma"), engine=engine).practices
    print(len(full), *[p.id for p in found], flush=True)
"""


def test_another_process_patches_its_index_and_finds_a_publication_at_once(engine, owner):
    first = add(engine, owner)
    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, "-c", SEARCHER, url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    ) as searcher:

        def searched() -> tuple[int, set[int]]:
            """How often the searcher read every practice, and what it found."""
            searcher.stdin.write("\n")
            searcher.stdin.flush()
            full, *found = (int(number) for number in searcher.stdout.readline().split())
            return full, set(found)

        try:
            assert searched() == (1, {first})
            second = add(engine, owner, status="submitted")
            assert searched() == (1, {first})
            change_practice(engine, second, status="published", published_at=NOW)
            assert searched() == (1, {first, second})
        finally:
            searcher.stdin.close()
            searcher.wait(timeout=60)


def test_the_matrix_holds_its_ones_in_four_bytes(engine, owner):
    """float32 counts exactly up to 16 million practices in half the bytes of float64 (4.4 MB
    less at 100,000 practices); a patched index keeps them so."""
    add(engine, owner)
    built = kept(engine)
    assert built.matrix.dtype == np.float32
    change_practice(engine, add(engine, owner, status="submitted"), status="published")
    patched = assert_up_to_date(engine)
    assert patched is not built and patched.matrix.dtype == np.float32
