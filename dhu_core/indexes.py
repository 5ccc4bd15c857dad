"""Indexes over the whole catalogue (similar practices, twinning matches) kept up to date in the
background, so that no visitor waits for one to be built after a write.

A `BackgroundIndex` holds the newest index it has built with the data version it was built for.
Asked for a newer version, it answers at once with the index it has and builds the new one in
a daemon thread, then swaps it in; until then the previous one keeps serving. Only the first
request of a process, before any index exists, waits for one. What an index older than the
data could get wrong is checked against the database where it matters (see
`dhu_core.ui.cached` and `dhu_core.twinning`).

The app builds each index of a large catalogue in a Python process of its own
(`dhu_core.build_process`), which hands back only the finished index: what a build reads and
computes on the way goes with that process instead of staying in the app process's heap.
"""

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import func, select

from dhu_core import build_process, db, matching, similarity
from dhu_core.models import Practice

log = logging.getLogger(__name__)

Index = TypeVar("Index")

#: One build at a time in a process: a publication makes both indexes stale at once, and two
#: builds side by side would hold both old and both new indexes (and their working memory) at
#: once, for no gain on the GIL.
_ONE_BUILD_AT_A_TIME = threading.Lock()


class BackgroundIndex(Generic[Index]):
    """The newest built index of one kind in this process, rebuilt in the background.

    At most one build runs at a time; a version asked for during a build is built right after
    it. A failed build is logged and tried again at the next request for a newer version; the
    index built before keeps serving.
    """

    def __init__(self, build: Callable[[], Index], *, name: str) -> None:
        self._build = build
        self.name = name
        self._changed = threading.Condition()
        self._index: Index | None = None
        self._version: int | None = None
        self._wanted: int | None = None
        self._building = False
        self._error: BaseException | None = None
        self.builds = 0

    @property
    def version(self) -> int | None:
        """The data version of the index being served (None before the first one is built)."""
        return self._version

    @property
    def ready(self) -> bool:
        """True when an index is there to serve at once."""
        return self._index is not None

    def refresh(self, version: int) -> None:
        """Start building `version` in the background unless it is built or being built."""
        with self._changed:
            self._ask(version)

    def get(self, version: int, *, current: bool = False) -> Index:
        """The newest built index; a build of `version` starts when it is newer.

        Waits only while there is no index at all, or, with `current`, until the index of
        `version` (or a newer one) is built: for writes that keep what the index computes.
        Raises the build's error when the build waited for fails.
        """
        with self._changed:
            self._ask(version)
            while not self._serves(version, current):
                if not self._building:
                    raise RuntimeError(f"the {self.name} could not be built") from self._error
                self._changed.wait()
            return self._index

    def _serves(self, version: int, current: bool) -> bool:
        if self._index is None:
            return False
        return not current or self._version >= version

    def _ask(self, version: int) -> None:
        """Want `version` built (versions only grow: an older one asks for nothing)."""
        if self._wanted is not None and version <= self._wanted:
            if self._building or self._version == self._wanted:
                return
        else:
            self._wanted = version
        if not self._building:
            self._building = True
            threading.Thread(target=self._run, name=f"build-{self.name}", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._changed:
                target = self._wanted
            try:
                with _ONE_BUILD_AT_A_TIME:
                    index = self._build()
            except Exception as error:
                log.exception("building the %s for data version %s failed", self.name, target)
                with self._changed:
                    self._error, self._building = error, False
                    self._changed.notify_all()
                return
            with self._changed:
                self._index, self._version, self._error = index, target, None
                self.builds += 1
                self._changed.notify_all()
                if self._wanted == target:
                    self._building = False
                    return


def built(index_of: Callable[[str], Index], url: str) -> Index:
    """`index_of(url)`: in a process of its own from `build_process.APART_FROM` practices, else
    in this one."""
    with db.read_scope(db.get_engine(url)) as session:
        practices = session.execute(select(func.count()).select_from(Practice)).scalar_one()
    if practices < build_process.APART_FROM:
        return index_of(url)
    return build_process.built_apart(index_of, url)


def similarity_index(url: str) -> similarity.SimilarityIndex:
    """The similarity index of the database at `url` (for `build_process.built_apart`)."""
    return similarity.SimilarityIndex.build(engine=db.get_engine(url))


def matching_index(url: str) -> matching.MatchingIndex:
    """The matching index of the database at `url` (for `build_process.built_apart`)."""
    return matching.MatchingIndex.build(db.get_engine(url))
