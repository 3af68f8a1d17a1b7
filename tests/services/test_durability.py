"""On PostgreSQL an append releases its locks before its commit is on disk, then waits for the disk.

These tests need a database of their own: the shared test session only ever releases savepoints
inside a transaction that is rolled back, and nothing there is ever committed.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from goldtrace.db.session import make_engine
from goldtrace.errors import DurabilityUnknown
from goldtrace.services import organizations, transparency
from goldtrace.services.context import Context
from goldtrace.services.verify import verify_ledger


@pytest.fixture
def fresh(trader_ledger_engine: Engine, ctx: Context) -> tuple[Engine, Context]:
    if trader_ledger_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks: its writers hold the database lock until commit")
    return trader_ledger_engine, ctx


def _setting(session: Session) -> str:
    return str(session.execute(text("SHOW synchronous_commit")).scalar_one())


def _append(session: Session, ctx: Context) -> None:
    organizations.rotate_key(session, ctx, org_id="trader")  # one event, through the log


def test_an_append_commits_early_and_returns_only_once_its_commit_is_on_disk(
    fresh: tuple[Engine, Context],
) -> None:
    engine, ctx = fresh
    for i in range(20):
        with Session(engine) as session:
            with session.begin():
                _append(session, ctx)
                assert _setting(session) == "off"  # the head lock goes with the commit record
                written = session.execute(text("SELECT pg_current_wal_insert_lsn()")).scalar_one()
            # Left alone, WAL written asynchronously reaches the disk only when the WAL writer
            # wakes (every 200 ms): twenty commits in a row would not all find it flushed.
            flushed = session.execute(
                text("SELECT pg_current_wal_flush_lsn() >= CAST(:lsn AS pg_lsn)"), {"lsn": written}
            ).scalar_one()
            assert flushed, f"append {i} returned before its commit reached the disk"
            session.rollback()
    with Session(engine) as session:
        assert transparency.head(session).size == 22
        assert verify_ledger(session, ctx, workers=1).ok


@pytest.mark.parametrize("order", ["append-then-checkpoint", "checkpoint-then-append"])
def test_a_transaction_that_signs_a_checkpoint_commits_synchronously(
    fresh: tuple[Engine, Context], order: str
) -> None:
    engine, ctx = fresh
    with Session(engine) as session, session.begin():
        if order == "append-then-checkpoint":
            _append(session, ctx)
            size = transparency.cut_checkpoint(session, ctx).size
        else:
            size = transparency.cut_checkpoint(session, ctx).size
            _append(session, ctx)
        # Nobody may read the checkpoint before it and the entries it covers are on disk.
        assert _setting(session) == "on"
    with Session(engine) as session:
        latest = transparency.latest_checkpoint(session)
        assert latest is not None and latest.size == size
        assert _setting(session) == "on"  # SET LOCAL ended with the transaction


def test_a_session_joined_to_an_outer_transaction_leaves_it_to_its_owner(
    fresh: tuple[Engine, Context],
) -> None:
    engine, ctx = fresh
    with engine.connect() as connection:
        outer = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            _append(session, ctx)
            session.commit()  # releases a savepoint; the flush wait must not commit the outer
        assert connection.in_transaction()
        outer.rollback()
    with Session(engine) as session:
        assert transparency.head(session).size == 2


def test_a_commit_whose_flush_cannot_be_awaited_says_its_durability_is_unknown(
    fresh: tuple[Engine, Context],
) -> None:
    engine, ctx = fresh
    role = f"goldtrace_no_wal_{os.getpid()}"
    with engine.connect() as admin:
        admin.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        admin.execute(text(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"'))
        # The one function the wait needs, taken away from this role in this database only.
        admin.execute(
            text(
                "REVOKE EXECUTE ON FUNCTION pg_logical_emit_message(boolean, text, text) FROM PUBLIC"
            )
        )
        admin.commit()
    limited = make_engine(engine.url.set(username=role).render_as_string(hide_password=False))
    try:
        with Session(limited) as session:
            _append(session, ctx)
            with pytest.raises(DurabilityUnknown, match="reach the disk"):
                session.commit()
        # The append itself committed: what is unknown is only whether it reached the disk.
        with Session(engine) as session:
            assert transparency.head(session).size == 3
            assert verify_ledger(session, ctx, workers=1).ok
    finally:
        limited.dispose()
        with engine.connect() as admin:
            admin.execute(text(f'DROP OWNED BY "{role}"'))
            admin.execute(text(f'DROP ROLE "{role}"'))
            admin.commit()
