"""Indexes rebuilt in the background: the holder with real threads, and the app's similar
practices and twinning suggestions right after a publication (both databases)."""

import logging
import queue
import threading
from collections.abc import Callable, Iterator

import pytest
import streamlit

from dhu_core import build_process, db, indexes, matching, similarity
from dhu_core.build_process import BuildError
from dhu_core.config import get_settings
from dhu_core.indexes import BackgroundIndex
from dhu_core.models import Organisation, Practice
from dhu_core.ui import cached

#: Seconds any step of a test may take before it counts as hanging.
PATIENCE = 10


class Builds:
    """A build function whose calls each wait for the test to let them finish."""

    def __init__(self) -> None:
        self.started: queue.Queue[tuple[int, threading.Event]] = queue.Queue()
        self.failing: set[int] = set()
        self.count = self.running = self.most_at_once = 0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            self.count += 1
            number = self.count
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        gate = threading.Event()
        self.started.put((number, gate))
        gate.wait(PATIENCE)
        with self._lock:
            self.running -= 1
        if number in self.failing:
            raise OSError(f"build {number} lost its database")
        return f"index {number}"

    def next(self) -> tuple[int, threading.Event]:
        """The number of the build that starts next, and its gate."""
        return self.started.get(timeout=PATIENCE)

    def finish_next(self) -> int:
        number, gate = self.next()
        gate.set()
        return number


class Call:
    """`function` run in a thread of its own, as a concurrent request."""

    def __init__(self, function: Callable[[], object]) -> None:
        self.result: object = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(function,), daemon=True)
        self._thread.start()

    def _run(self, function: Callable[[], object]) -> None:
        try:
            self.result = function()
        except BaseException as error:
            self.error = error

    def waiting(self) -> bool:
        """True while the call has not returned (given a moment to)."""
        self._thread.join(0.05)
        return self._thread.is_alive()

    def answer(self) -> object:
        self._thread.join(PATIENCE)
        assert not self._thread.is_alive(), "the call did not return"
        if self.error is not None:
            raise self.error
        return self.result


@pytest.fixture
def builds() -> Builds:
    return Builds()


@pytest.fixture
def held(builds) -> BackgroundIndex[str]:
    """A holder that has built its first index, "index 1", for version 1."""
    holder = BackgroundIndex(builds, name="test index")
    first = Call(lambda: holder.get(1))
    builds.finish_next()
    assert first.answer() == "index 1"
    return holder


def test_the_first_request_waits_for_the_first_index(builds):
    holder = BackgroundIndex(builds, name="test index")
    first = Call(lambda: holder.get(1))
    number, gate = builds.next()
    assert first.waiting()
    gate.set()
    assert first.answer() == "index 1"
    assert holder.version == 1 and holder.ready


def test_a_newer_version_is_answered_by_the_old_index_while_the_new_one_builds(builds, held):
    assert Call(lambda: held.get(2)).answer() == "index 1"
    number, gate = builds.next()
    assert Call(lambda: held.get(2)).answer() == "index 1"
    gate.set()
    assert held.get(2, current=True) == "index 2"
    assert held.get(2) == "index 2" and held.version == 2


def test_one_build_at_a_time_and_the_version_asked_for_during_it_is_built_after(builds, held):
    held.get(2)
    number, gate = builds.next()
    for version in (3, 4, 3):
        assert held.get(version) == "index 1"
    assert builds.started.empty()
    gate.set()
    assert builds.finish_next() == 3  # one more build, for version 4
    assert held.get(4, current=True) == "index 3"
    assert held.version == 4
    assert builds.count == 3 and builds.most_at_once == 1


def test_an_older_or_the_same_version_builds_nothing(builds, held):
    assert held.get(1) == "index 1" and held.get(0) == "index 1"
    held.refresh(1)
    assert builds.started.empty() and builds.count == 1


def test_refresh_builds_in_the_background_without_waiting(builds):
    holder = BackgroundIndex(builds, name="test index")
    holder.refresh(5)
    assert not holder.ready
    builds.finish_next()
    assert holder.get(5) == "index 1" and holder.version == 5


def test_a_failed_build_is_logged_keeps_the_old_index_and_is_tried_again(builds, held, caplog):
    builds.failing.add(2)
    with caplog.at_level(logging.ERROR, logger="dhu_core.indexes"):
        waiting = Call(lambda: held.get(2, current=True))
        builds.finish_next()
        with pytest.raises(RuntimeError, match="test index could not be built"):
            waiting.answer()
    assert "building the test index for data version 2 failed" in caplog.text
    assert held.version == 1
    assert held.get(2) == "index 1"  # the next request tries again
    builds.finish_next()
    assert held.get(2, current=True) == "index 3"


def test_a_first_build_that_fails_raises_to_the_waiting_request_and_the_next_tries_again(
    builds,
):
    builds.failing.add(1)
    holder = BackgroundIndex(builds, name="test index")
    first = Call(lambda: holder.get(1))
    builds.finish_next()
    with pytest.raises(RuntimeError):
        first.answer()
    second = Call(lambda: holder.get(1))
    builds.finish_next()
    assert second.answer() == "index 2"


# --- the app's indexes -------------------------------------------------------------------


class Builders:
    """The names of the threads that built an index; builds wait while `open` is clear."""

    def __init__(self) -> None:
        self.threads: list[str] = []
        self.open = threading.Event()
        self.open.set()


@pytest.fixture
def app_indexes(engine, monkeypatch) -> Iterator[Builders]:
    """cached's indexes on the test database, their builds (each in a process of its own)
    recorded."""
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    streamlit.cache_resource.clear()
    builders = Builders()

    def recorded(build):
        def run(*args, **kwargs):
            builders.threads.append(threading.current_thread().name)
            builders.open.wait(PATIENCE)
            return build(*args, **kwargs)

        return run

    monkeypatch.setattr(build_process, "built_apart", recorded(build_process.built_apart))
    # Every build in a process of its own, as for a large catalogue, however small this one is.
    monkeypatch.setattr(build_process, "APART_FROM", 0)
    yield builders
    builders.open.set()
    get_settings.cache_clear()
    streamlit.cache_resource.clear()


def add_practices(engine, texts: dict[str, str], *, country: str = "EE") -> dict[str, int]:
    """Published practices open for twinning, of a new organisation: id by title."""
    with db.session_scope(engine) as session:
        organisation = Organisation(name=f"Owner of {next(iter(texts))}", country=country)
        session.add(organisation)
        session.flush()
        rows = [
            Practice(
                title=title,
                summary=summary,
                practice_type="service",
                maturity=3,
                status="published",
                transferable=True,
                transfer_capacity=2,
                owner_organisation_id=organisation.id,
            )  # fmt: skip
            for title, summary in texts.items()
        ]
        session.add_all(rows)
        session.flush()
        return {row.title: row.id for row in rows}


def set_status(engine, practice_id: int, status: str) -> None:
    with db.session_scope(engine) as session:
        practice = session.get(Practice, practice_id)
        practice.status = status
        session.add(practice)


def current_indexes() -> None:
    """Wait until both indexes are those of the current data."""
    indexes = cached._indexes()
    indexes.similarity.get(cached.data_version(*cached.PRACTICES), current=True)
    indexes.matching.get(cached.data_version(*cached.UPTAKE), current=True)


TELEMONITORING = {
    "Heart failure telemonitoring": "Daily weight and blood pressure readings from home reach "
    "the hospital heart team, which calls patients before their condition gets worse.",
    "Diabetes coach app": "A mobile app that coaches people with type 2 diabetes towards better "
    "glucose control through daily tips.",
}
NEW = {
    "Heart failure nurse calls": "Nurses call heart failure patients at home each week about "
    "their weight, blood pressure and breathlessness.",
}


def test_a_publication_is_answered_at_once_and_shows_once_indexed(engine, app_indexes):
    add_practices(engine, TELEMONITORING)
    cached.start_indexes()
    current_indexes()
    built_before = len(app_indexes.threads)

    new = add_practices(engine, NEW, country="DE")["Heart failure nurse calls"]
    title, summary = "Heart failure at home", "Nurses call heart failure patients about weight"
    found = cached.similar_to_text(title, summary)
    index = cached.matching_index()

    assert new not in {i for i, _, _ in found}  # the old index answered…
    assert new not in {p.id for p in index.practices}
    current_indexes()
    builders = app_indexes.threads[built_before:]
    assert len(builders) == 2  # …and each index was built again once, in the background
    assert threading.current_thread().name not in builders
    assert new in {i for i, _, _ in cached.similar_to_text(title, summary)}
    assert new in {p.id for p in cached.matching_index().practices}


def test_a_practice_unpublished_since_the_index_is_never_shown_as_similar(engine, app_indexes):
    ids = add_practices(engine, {**TELEMONITORING, **NEW})
    cached.start_indexes()
    current_indexes()
    gone, kept = ids["Heart failure nurse calls"], ids["Heart failure telemonitoring"]
    assert gone in {i for i, _, _ in cached.similar_to_practice(kept)}

    app_indexes.open.clear()
    set_status(engine, gone, "archived")
    by_text = cached.similar_to_text("Heart failure at home", "Nurses call heart patients")
    by_practice = cached.similar_to_practice(kept)

    stale = cached._indexes().similarity
    assert stale.version < cached.data_version(*cached.PRACTICES)  # still the old index
    assert kept in {i for i, _, _ in by_text}
    assert gone not in {i for i, _, _ in by_text} | {i for i, _, _ in by_practice}


def test_two_indexes_of_a_process_are_built_one_after_the_other(builds):
    """A publication makes both indexes stale: built side by side, they would hold both old
    and both new indexes in memory at once."""
    similar = BackgroundIndex(builds, name="similarity index")
    matches = BackgroundIndex(builds, name="matching index")
    similar.refresh(1)
    matches.refresh(1)
    number, gate = builds.next()
    assert builds.started.empty() and builds.running == 1
    gate.set()
    builds.finish_next()
    assert similar.get(1, current=True) and matches.get(1, current=True)
    assert builds.most_at_once == 1


# --- builds in a process of their own ------------------------------------------------------


def database_url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_an_index_built_in_a_process_of_its_own_is_the_one_built_here(engine):
    ids = add_practices(engine, {**TELEMONITORING, **NEW})
    add_practices(engine, {"Stroke rehabilitation at home": "Video exercises after a stroke."})
    url = database_url(engine)

    similar_apart = build_process.built_apart(indexes.similarity_index, url)
    similar_here = similarity.SimilarityIndex.build(engine=engine)
    assert len(similar_apart) == len(similar_here) == 4
    assert (similar_apart.model.matrix != similar_here.model.matrix).nnz == 0
    for practice_id in ids.values():
        assert similar_apart.similar_to_practice(practice_id) == similar_here.similar_to_practice(
            practice_id
        )
    text = ("Heart failure at home", "Nurses call patients about their weight")
    assert similar_apart.similar_to_text(*text) == similar_here.similar_to_text(*text)

    matches_apart = build_process.built_apart(indexes.matching_index, url)
    matches_here = matching.MatchingIndex.build(engine)
    assert [p.id for p in matches_apart.practices] == [p.id for p in matches_here.practices]
    need = matching.NeedProfile(
        id=1,
        organisation_id=1,
        country="DE",
        problem_statement="Heart failure patients called at home about their weight",
        languages=("en",),
    )
    ranked = matches_here.top_k([need], k=4)
    assert ranked[0] and matches_apart.top_k([need], k=4) == ranked


def test_a_failed_build_apart_raises_with_what_the_process_said(tmp_path):
    missing = f"sqlite:///{tmp_path / 'empty.sqlite3'}"  # created empty: no practice table
    with pytest.raises(BuildError, match="no such table: practice") as raised:
        build_process.built_apart(indexes.similarity_index, missing)
    assert "status 1" in str(raised.value)


def test_a_failed_build_apart_is_logged_and_the_old_index_keeps_serving(engine, tmp_path, caplog):
    add_practices(engine, TELEMONITORING)
    urls = [database_url(engine)]
    holder = BackgroundIndex(
        lambda: build_process.built_apart(indexes.similarity_index, urls[-1]),
        name="similarity index",
    )
    first = holder.get(1)
    assert len(first) == 2

    urls.append(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    with (
        caplog.at_level(logging.ERROR, logger="dhu_core.indexes"),
        pytest.raises(RuntimeError, match="similarity index could not be built"),
    ):
        holder.get(2, current=True)
    assert "building the similarity index for data version 2 failed" in caplog.text
    assert "no such table: practice" in caplog.text
    assert holder.get(2) is first and holder.version == 1


def test_a_small_catalogue_is_indexed_in_the_app_process_a_large_one_apart(engine, monkeypatch):
    """Starting a Python process costs seconds of imports: worth it only for a large catalogue
    (a queue of such builds made a test run's pages wait for minutes)."""
    add_practices(engine, {"Asthma diary": "An app for asthma.", "Asthma coach": "Coaching."})
    url = engine.url.render_as_string(hide_password=False)
    apart = []
    real = build_process.built_apart
    monkeypatch.setattr(
        build_process, "built_apart", lambda *args: apart.append(args) or real(*args)
    )

    small = indexes.built(indexes.matching_index, url)
    assert apart == [] and len(small) == 2

    monkeypatch.setattr(build_process, "APART_FROM", 2)
    large = indexes.built(indexes.matching_index, url)
    assert apart == [(indexes.matching_index, url)] and len(large) == 2
