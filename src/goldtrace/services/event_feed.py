"""Stored events by seq range: the public feed mirrors and auditors read instead of one event a request."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from goldtrace.db.models import Event
from goldtrace.errors import InvalidInput
from goldtrace.services.transparency import MAX_ENTRIES_PER_PAGE


def event_range(session: Session, start: int, end: int) -> list[Event]:
    """Return the stored events ``start <= seq < end`` in seq order (fewer past the end of the log).

    Raises InvalidInput unless ``0 <= start < end`` and the range spans at most
    MAX_ENTRIES_PER_PAGE events, the same bound as the log's entries.
    """
    if start < 0 or end <= start:
        raise InvalidInput("need 0 <= start < end", fields={"start": "out of range"})
    if end - start > MAX_ENTRIES_PER_PAGE:
        raise InvalidInput(
            f"at most {MAX_ENTRIES_PER_PAGE} events per request", fields={"end": "too many"}
        )
    query = select(Event).where(Event.seq >= start, Event.seq < end).order_by(Event.seq)
    return list(session.execute(query).scalars())
