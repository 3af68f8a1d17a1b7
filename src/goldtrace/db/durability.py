"""Early lock release for appends on PostgreSQL: commit without waiting for the disk, then wait.

Every append holds the log head's row lock until its transaction ends. With PostgreSQL's default
``synchronous_commit = on`` a transaction releases its locks only after its commit record is on disk,
so writers queue behind one disk flush each and can never share one: the log appends at most one
transaction per flush, whatever the number of writers.

A transaction that appends therefore commits with ``synchronous_commit = off``: PostgreSQL releases
its locks as soon as the commit record is in the WAL buffers, and the next writer goes on. Before the
caller's ``Session.commit()`` returns, the ``after_commit`` hook below waits for the disk: it runs a
tiny synchronous transaction that writes one WAL record (a transactional logical message, allowed to
every role at ``wal_level = replica``). PostgreSQL acknowledges that commit only once the WAL is on disk
up to it, and so up to the append's own commit, which came before it in the WAL. Writers that wait at
the same moment share one flush (group commit), because none of them holds the lock while it waits.
This is *early lock release* (DeWitt et al., 1984; Johnson et al., "Aether", VLDB 2010).

What stays: a commit the caller sees succeed is on disk, as before. A transaction that read an append
and wrote something of its own commits after it in the WAL, so a crash never keeps the later write
and loses the earlier one; recovery keeps a prefix of the log.

What changes: a reader may see an append in the instant (well under a millisecond) between its commit
and the flush. Should the server crash in that instant, the append is gone although someone read it
(never although it was acknowledged). Nothing the log signs for the world depends on that instant:
a transaction that signs a checkpoint calls :func:`commit_synchronously`, so its commit, and every
append before it, is on disk before any reader can see the checkpoint.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session, SessionTransaction

from goldtrace.errors import DurabilityUnknown

_WAIT = "goldtrace.wait_for_disk"
_SYNCHRONOUS = "goldtrace.commit_synchronously"
# One round trip: a transaction that writes one WAL record and commits synchronously.
FLUSH_WAIT = b"BEGIN; SELECT pg_logical_emit_message(true, 'goldtrace', ''); COMMIT"
_IDLE = 0  # libpq's PQTRANS_IDLE (psycopg.pq.TransactionStatus.IDLE)


def release_locks_early(session: Session, driver: Any) -> bool:
    """Mark the session's PostgreSQL transaction to wait for the disk after its commit.

    Returns True when the caller should set ``synchronous_commit`` to ``off`` for the transaction
    (``SET LOCAL``), False when it must commit synchronously because it signs a checkpoint.
    """
    if session.info.get(_SYNCHRONOUS):
        return False
    session.info[_WAIT] = driver
    return True


def commit_synchronously(session: Session) -> None:
    """Make the session's transaction release its locks only once its commit is on disk.

    For transactions that sign what the world will keep (checkpoints): no reader may see them before
    they, and the appends they cover, are durable.
    """
    session.info[_SYNCHRONOUS] = True
    session.info.pop(_WAIT, None)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO on"))


@event.listens_for(Session, "after_commit")
def _wait_for_disk(session: Session) -> None:
    driver = session.info.pop(_WAIT, None)
    if driver is None or driver.pgconn.transaction_status != _IDLE:
        # Nothing to wait for, or the session was joined to a transaction that someone else
        # owns and commits (tests roll theirs back): only a savepoint was released.
        return
    # The connection is idle between transactions; psycopg reads the transaction status from
    # libpq, and this exchange leaves it idle again.
    result = driver.pgconn.exec_(FLUSH_WAIT)
    if result.error_message:
        raise DurabilityUnknown(
            "the transaction committed, but waiting for it to reach the disk failed: "
            + result.error_message.decode("utf-8", "replace").strip()
        )


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WAIT, None)
        session.info.pop(_SYNCHRONOUS, None)
