"""Clocks and small statistics: rates over a time window, per-call latencies, medians and percentiles.

Every rate is measured over a fixed wall-clock window rather than a fixed count, so that a slow figure
cannot stretch the run and a fast one still gets enough samples to average out scheduler noise.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")


def rate(op: Callable[[], object], seconds: float, *, chunk: int = 64) -> float:
    """Call ``op`` repeatedly for about ``seconds``; return calls per second.

    The clock is read once per ``chunk`` calls so that reading it costs nothing next to tiny operations.
    """
    op()  # warm caches, compile statements, fault in pages
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    now = start
    while now < deadline:
        for _ in range(chunk):
            op()
        count += chunk
        now = time.perf_counter()
    return count / (now - start)


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """Return ``fn()`` and the seconds it took."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def latencies(
    op: Callable[[T], object], args: Iterable[T], *, budget: float | None = None
) -> list[float]:
    """Return the seconds each ``op(arg)`` took, in order.

    With ``budget``, stop early once the calls have taken that many seconds in all (a slow path then
    gets fewer samples instead of stretching the run).
    """
    out: list[float] = []
    spent = 0.0
    for arg in args:
        start = time.perf_counter()
        op(arg)
        out.append(time.perf_counter() - start)
        spent += out[-1]
        if budget is not None and spent > budget:
            break
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """Return the ``q`` quantile (0..1) of ``values`` by the nearest-rank method."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    """Return the median of ``values``."""
    return statistics.median(values)


def spread(values: Sequence[float]) -> float:
    """Return (max - min) / median: how much repeated rounds of one measurement disagree."""
    if len(values) < 2:
        return 0.0
    mid = statistics.median(values)
    return (max(values) - min(values)) / mid if mid else 0.0
