"""The memory benchmark: what each index holds, and an app process toured by every role."""

import dataclasses

import numpy as np
import pytest
from scipy import sparse

from dhu_core import bench_memory, db, demo


def test_deep_size_counts_arrays_and_what_objects_refer_to():
    class Holder:
        def __init__(self) -> None:
            self.matrix = sparse.csr_matrix(np.eye(100))
            self.values = np.zeros(1000)
            self.again = self.values  # counted once

    assert bench_memory.deep_size(Holder()) >= 100 * 8 + 1000 * 8
    assert bench_memory.deep_size(Holder()) < 100 * 8 + 1000 * 8 + 3_000


def test_deep_size_counts_what_objects_with_slots_refer_to():
    @dataclasses.dataclass(slots=True)
    class Slotted:
        text: str

    text = "x" * 10_000
    assert bench_memory.deep_size(Slotted(text)) >= len(text)


def test_each_index_has_a_size(engine):
    demo.seed_demo(engine=engine, practices=200)
    sizes = bench_memory.run_index_sizes(engine=engine)
    assert set(sizes) == {"facet index (catalogue)", "similarity index", "matching index"}
    assert all(float(size.removesuffix(" MB")) > 0 for size in sizes.values())


@pytest.mark.browser
def test_the_tour_visits_every_page_of_a_visitor_and_a_role(tmp_path, chromium):
    path = tmp_path / "tour.sqlite3"
    engine = db.get_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    seeded = demo.seed_demo(engine=engine, practices=300)
    engine.dispose()

    figures = bench_memory.run_memory_bench(
        database=path, logins=seeded.logins, workdir=tmp_path / "memory", roles=["coordinator"]
    )

    tours = {key: value for key, value in figures.items() if key.startswith("after the")}
    assert [key.split("'")[0] for key in tours] == ["after the visitor", "after the coordinator"]
    # A visitor's navigation has the public pages; a coordinator's has more.
    pages = {key.split("'s ")[0]: int(key.split("'s ")[1].split()[0]) for key in tours}
    assert pages["after the visitor"] >= 6
    assert pages["after the coordinator"] > pages["after the visitor"]
    assert all(value.endswith(" MB") for value in figures.values())
    last = int(list(tours.values())[-1].removesuffix(" MB"))
    anonymous = int(figures["of it anonymous (heap, arrays)"].removesuffix(" MB"))
    proportional = int(figures["proportional set size (PSS)"].removesuffix(" MB"))
    assert 0 < anonymous < last
    assert anonymous < proportional <= last + 5
