"""The benchmark of how soon a second process finds a publication (both databases)."""

from sqlmodel import select

from dhu_core import bench_writes, db
from dhu_core.models import Organisation, Practice


def test_a_second_process_finds_each_publication(engine):
    with db.session_scope(engine) as session:
        session.add(Organisation(name="Tartu Clinic", country="EE"))

    figures = bench_writes.run_visibility_bench(engine=engine, rounds=2)

    assert figures["publication found by another process's search"]["n"] == 2
    assert figures["not found within 60 s"] == 0
    with db.session_scope(engine) as session:
        assert session.exec(select(Practice)).all() == []
