"""Running one operation in N writer processes over a common time window and counting completions.

A ``WriterPool`` spawns its processes once (not forked: the parent holds database connections) and runs
any number of windows on them, so that importing SQLAlchemy and goldtrace in eight fresh interpreters
is paid once per section, not once per measurement. For each window every worker builds its operation,
runs it once to warm up and reports ready; only then does the parent open the window a little in the
future. Each worker runs the operation until the window closes, so set-up never enters the rate.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

SETUP_TIMEOUT = 300.0
START_DELAY = 0.3


class Op(Protocol):
    """One unit of work (one transaction), repeatable, with resources to release at the end."""

    def __call__(self) -> None: ...

    def close(self) -> None: ...


# Must be a module-level function so that spawned workers can import it: (argument, worker index) -> op.
OpFactory = Callable[[Any, int], Op]


@dataclass(frozen=True)
class Window:
    """What the writers completed: ``count`` operations in ``seconds`` of wall time."""

    count: int
    seconds: float
    writers: int

    @property
    def rate(self) -> float:
        """Operations per second, all writers together."""
        return self.count / self.seconds


def _loop(op: Op, start: float, stop: float) -> tuple[int, float]:
    now = time.monotonic()
    if now < start:
        time.sleep(start - now)
    count = 0
    while time.monotonic() < stop:
        op()
        count += 1
    return count, time.monotonic()


def run_here(factory: OpFactory, arg: Any, seconds: float) -> Window:
    """Run one writer in this process for ``seconds``."""
    op = factory(arg, 0)
    try:
        op()
        start = time.monotonic()
        count, end = _loop(op, start, start + seconds)
    finally:
        op.close()
    return Window(count=count, seconds=end - start, writers=1)


def _worker(index: int, jobs: Any, ready: Any, results: Any) -> None:
    while True:
        job = jobs.get()
        if job is None:
            return
        factory, arg, seconds = job
        try:
            op = factory(arg, index)
            op()
        except BaseException:
            ready.put((index, traceback.format_exc()))
            continue
        ready.put((index, None))
        try:
            start = jobs.get()
            if start is None:  # another worker failed to set up: window cancelled
                continue
            count, end = _loop(op, start, start + seconds)
            results.put((index, count, end, None))
        except BaseException:
            results.put((index, 0, 0.0, traceback.format_exc()))
        finally:
            op.close()


class WriterPool:
    """``writers`` spawned processes that run windows on demand; use as a context manager."""

    def __init__(self, writers: int) -> None:
        mp = multiprocessing.get_context("spawn")
        self.writers = writers
        self._ready: Any = mp.Queue()
        self._results: Any = mp.Queue()
        self._jobs: list[Any] = [mp.Queue() for _ in range(writers)]
        self._procs = [
            mp.Process(
                target=_worker, args=(i, self._jobs[i], self._ready, self._results), daemon=True
            )
            for i in range(writers)
        ]
        for p in self._procs:
            p.start()

    def run(self, factory: OpFactory, arg: Any, seconds: float) -> Window:
        """Run ``factory(arg, i)()`` in every worker ``i`` for ``seconds``; return the window."""
        for jobs in self._jobs:
            jobs.put((factory, arg, seconds))
        try:
            setups = [self._ready.get(timeout=SETUP_TIMEOUT) for _ in self._procs]
            failed = [err for _, err in setups if err]
            if failed:
                for jobs in self._jobs:
                    jobs.put(None)
                raise RuntimeError(f"a benchmark worker failed to set up:\n{failed[0]}")
            start = time.monotonic() + START_DELAY
            for jobs in self._jobs:
                jobs.put(start)
            outcomes = [self._results.get(timeout=SETUP_TIMEOUT + seconds) for _ in self._procs]
        except queue.Empty:
            raise RuntimeError("a benchmark worker did not report in time") from None
        errors = [err for _, _, _, err in outcomes if err]
        if errors:
            raise RuntimeError(f"a benchmark worker failed:\n{errors[0]}")
        count = sum(n for _, n, _, _ in outcomes)
        end = max(e for _, _, e, _ in outcomes)
        return Window(count=count, seconds=end - start, writers=self.writers)

    def close(self) -> None:
        """Stop the workers (they finish the window they are in first)."""
        for jobs in self._jobs:
            jobs.put(None)
        for p in self._procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
                p.join()

    def __enter__(self) -> WriterPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
