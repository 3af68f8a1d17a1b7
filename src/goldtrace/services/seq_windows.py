"""Reading the event table in windows of consecutive seqs: every query a primary-key range scan.

Paging with "the next N rows after seq X" (``WHERE seq > X AND <filter> ORDER BY seq LIMIT N``) leaves
the plan to the database's estimate of how selective the filter is. On PostgreSQL, with statistics
that do not yet know a freshly loaded ledger, a filter on the type or the actor was estimated at a
handful of rows: every page bitmap-scanned and sorted the whole rest of the table, so an export read
the ledger about PAGES/2 times over. A window of seqs bounds what each query reads, whatever the
planner thinks: the log's seqs are gap-free from 0.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from goldtrace.db.models import Event


def seq_windows(session: Session, size: int) -> Iterator[tuple[int, int]]:
    """Yield inclusive (first, last) ranges of ``size`` seqs, in order, that cover every event
    logged when the iteration starts (events appended later are not read)."""
    top = session.execute(select(func.max(Event.seq))).scalar_one_or_none()
    if top is None:
        return
    for first in range(0, top + 1, size):
        yield first, min(first + size - 1, top)
