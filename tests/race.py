"""Races on a real database: two processes released together by a barrier.

Each of two worker processes opens its own engine and runs the service function it is given
the moment both have reached the barrier; the outcome of each call comes back to the test,
which then checks that the final state is valid and audited once per applied change.
"""

import multiprocessing
import queue
import sys
import time
import traceback
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

#: Refusals a page shows as a message; anything else that escapes a service is a defect.
CLEAR_REFUSALS = ("StateConflict", "FieldError", "PermissionDenied", "ValueError", "LookupError")


@dataclass(frozen=True)
class Outcome:
    """What one racer's call did: applied, refused with a message, or failed."""

    kind: str  # "applied", "refused" or "failed"
    error: str = ""
    message: str = ""

    @property
    def applied(self) -> bool:
        return self.kind == "applied"


class Racers:
    """Two worker processes that start named actions at the same moment, trial after trial."""

    def __init__(self, url: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._barrier = context.Barrier(2)
        self._tasks = [context.Queue(), context.Queue()]
        self._results = [context.Queue(), context.Queue()]
        self._workers = [
            context.Process(
                target=_work, args=(url, self._barrier, self._tasks[i], self._results[i])
            )
            for i in range(2)
        ]
        with plain_main():
            for worker in self._workers:
                worker.start()

    def race(self, first: tuple[str, dict], second: tuple[str, dict]) -> tuple[Outcome, Outcome]:
        """Run `first` in one process and `second` in the other, released together."""
        for tasks, task in zip(self._tasks, (first, second), strict=True):
            tasks.put(task)
        return self._result(0), self._result(1)

    def _result(self, number: int) -> Outcome:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                return self._results[number].get(timeout=1)
            except queue.Empty:
                worker = self._workers[number]
                if not worker.is_alive():
                    raise RuntimeError(f"racer {number} died (exit {worker.exitcode})") from None
        raise TimeoutError(f"racer {number} gave no result within 120 s")

    def close(self) -> None:
        for tasks in self._tasks:
            tasks.put(None)
        for worker in self._workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()


@contextmanager
def plain_main() -> Iterator[None]:
    """Start processes without re-running the `__main__` that a page test left behind.

    AppTest runs each page as `__main__`, and a spawned process runs the parent's `__main__`
    again before anything else; an empty module there gives it nothing to run.
    """
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


@contextmanager
def racers(url: str) -> Iterator[Racers]:
    """Two racing worker processes on the database at `url`."""
    pair = Racers(url)
    try:
        yield pair
    finally:
        pair.close()


def _work(url: str, barrier, tasks, results) -> None:
    from dhu_core import db
    from tests import race_actions

    engine = db.get_engine(url)
    while (task := tasks.get()) is not None:
        name, arguments = task
        action: Callable[..., Any] = getattr(race_actions, name)
        barrier.wait(timeout=60)
        try:
            action(engine, **arguments)
        except Exception as error:  # noqa: BLE001 (every outcome is reported to the test)
            kind = "refused" if type(error).__name__ in CLEAR_REFUSALS else "failed"
            detail = str(error) if kind == "refused" else traceback.format_exc(limit=3)
            results.put(Outcome(kind, type(error).__name__, detail))
        else:
            results.put(Outcome("applied"))
    engine.dispose()
