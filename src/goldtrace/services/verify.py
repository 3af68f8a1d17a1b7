"""`goldtrace verify`: stream the stored ledger through the verifier in bounded memory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import CursorResult, func, select
from sqlalchemy.orm import Session

from goldtrace.db.models import Checkpoint, Event, LogHead, LogKey, LogNode, Obligation
from goldtrace.db.models import SaleTerms as SaleTermsRow
from goldtrace.domain.book import Book
from goldtrace.domain.events import SaleTerms
from goldtrace.errors import ConfigurationError
from goldtrace.ledger import merkle, note
from goldtrace.ledger.verifier import (
    LedgerVerifier,
    Report,
    StoredCheckpoint,
    cyclic_gc_paused,
)
from goldtrace.services.context import Context
from goldtrace.services.log import split_frontier

PAGE = 4096
# In StoredEvent's field order, which LedgerVerifier.feed_rows takes.
_EVENT_COLUMNS = (
    Event.seq,
    Event.hash,
    Event.type,
    Event.actor,
    Event.occurred_at,
    Event.body,
    Event.kid,
    Event.sig,
    Event.leaf,
    Event.logged_at,
)


def verify_ledger(
    session: Session,
    ctx: Context,
    *,
    workers: int | None = None,
    log_key: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Check everything stored against everything else; return the report (faults, if any).

    ``log_key`` is a verifier key to trust instead of the one stored in the database; an auditor who
    pinned the log key earlier should pass it, since whoever can rewrite the database can replace it.
    """
    with cyclic_gc_paused():
        return _verify(session, ctx, workers=workers, log_key=log_key, progress=progress)


def _verify(
    session: Session,
    ctx: Context,
    *,
    workers: int | None,
    log_key: str | None,
    progress: Callable[[int, int], None] | None,
) -> Report:
    head = session.get(LogHead, 1)
    if head is None:
        raise ConfigurationError("the database has no log head: run `goldtrace init-db`")
    total = session.execute(select(func.count()).select_from(Event)).scalar_one()
    # The operator's verify sees the private sale terms, so the price rule is re-checked too.
    terms = {
        row.seq: SaleTerms(
            price=row.price_microusd_per_g, reference=row.reference_microusd_per_g, salt=row.salt
        )
        for row in session.execute(select(SaleTermsRow)).scalars()
    }
    book = Book(terms, max_age_days=ctx.settings.registration_max_age_days)
    verifier = LedgerVerifier(origin=ctx.origin, rules=book, expected_size=total, workers=workers)
    checkpoints = [
        StoredCheckpoint(size=c.size, root=c.root, note=c.note)
        for c in session.execute(select(Checkpoint).order_by(Checkpoint.size)).scalars()
    ]
    verifier.want_root_at(c.size for c in checkpoints)
    last_seq = session.execute(select(func.max(Event.seq))).scalar_one()
    # Core statements on the session's connection, plain tuples out: the ORM's per-row work would
    # cost more than the main process's whole share of the checks, and the caller's session (its
    # identity map) is left as it was. Pages keep a ledger far larger than memory streaming.
    connection = session.connection()
    start = 0
    while last_seq is not None and start <= last_seq:
        end = start + PAGE
        rows = _driver_rows(
            connection.execute(
                select(*_EVENT_COLUMNS)
                .where(Event.seq >= start, Event.seq < end)
                .order_by(Event.seq)
            )
        )
        verifier.feed_rows(rows, _finished_nodes(session, start, end - 1, last_seq + 1))
        if progress is not None:
            progress(min(end, last_seq + 1), total)
        start = end
    node_count = session.execute(select(func.count()).select_from(LogNode)).scalar_one()
    _compare_obligations(session, book, verifier)
    return verifier.finish(
        head_size=head.size,
        head_root=head.root,
        head_frontier=split_frontier(head.frontier),
        node_count=node_count,
        checkpoints=checkpoints,
        log_verifier=_log_verifier(session, ctx, log_key),
    )


def _finished_nodes(
    session: Session, first: int, last: int, size: int
) -> dict[merkle.NodeKey, bytes]:
    """Stored subtrees completed by leaves first..last: node (L, i) is completed by leaf (i+1)*2^L - 1."""
    found: dict[merkle.NodeKey, bytes] = {}
    level = 0
    while (1 << level) <= max(size, last + 1):
        low = -(-(first + 1) // (1 << level)) - 1
        high = ((last + 1) >> level) - 1
        if high >= low:
            rows = session.connection().execute(
                select(LogNode.idx, LogNode.hash).where(
                    LogNode.level == level, LogNode.idx >= low, LogNode.idx <= high
                )
            )
            found.update({(level, idx): h for idx, h in _driver_rows(rows)})
        level += 1
    return found


def _driver_rows(result: CursorResult[*tuple[Any, ...]]) -> list[Any]:
    """All rows of ``result`` as the database driver returns them (plain tuples of str, int and
    bytes for these columns): SQLAlchemy's per-row work cost a tenth of the main process's share."""
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def _log_verifier(session: Session, ctx: Context, log_key: str | None) -> note.Verifier | None:
    if log_key is not None:
        return note.Verifier.parse(log_key)
    row = session.get(LogKey, ctx.origin)
    return None if row is None else note.Verifier.from_public_key(ctx.origin, row.public_key)


def _compare_obligations(session: Session, book: Book, verifier: LedgerVerifier) -> None:
    """Every obligation row must be what the ledger says it is (amount, payments, void)."""
    # Columns, not ORM objects: the caller's identity map may hold stale copies.
    query = select(
        Obligation.id,
        Obligation.buyer_id,
        Obligation.committee_id,
        Obligation.amount_cents,
        Obligation.paid_cents,
        Obligation.voided,
    )
    rows = {oid: tuple(rest) for oid, *rest in session.execute(query)}
    for oid in sorted(rows.keys() | book.obligations.keys()):
        stored, state = rows.get(oid), book.obligations.get(oid)
        if stored is None or state is None:
            verifier.fault(
                oid, "obligation_mismatch", "an obligation is missing from the ledger or the table"
            )
            continue
        derived = (state.buyer, state.committee, state.amount_cents, state.paid_cents, state.voided)
        if stored != derived:
            verifier.fault(
                oid,
                "obligation_mismatch",
                f"obligation {oid} is {stored}, the ledger says {derived}",
            )
