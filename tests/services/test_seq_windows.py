"""Exports read the event table in windows of seqs that cover every event exactly once."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from builders import ledger_with_events
from goldtrace.db.models import Event
from goldtrace.services.context import Context
from goldtrace.services.seq_windows import seq_windows


def test_an_empty_event_table_has_no_window(session: Session) -> None:
    assert list(seq_windows(session, 10)) == []


def test_the_windows_cover_every_seq_once_in_order(ledger: Session, ctx: Context) -> None:
    ledger_with_events(ledger, ctx, 25)
    top = ledger.execute(select(func.max(Event.seq))).scalar_one()
    windows = list(seq_windows(ledger, 7))
    covered = [seq for first, last in windows for seq in range(first, last + 1)]
    assert covered == list(range(top + 1))
    assert all(last - first + 1 <= 7 for first, last in windows)
    assert list(seq_windows(ledger, top + 1)) == [(0, top)]
