"""Many writer processes on one log: gap-free entries, one root, consistent checkpoints, verify clean."""

from __future__ import annotations

import multiprocessing

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from builders import TEST_SECRET
from goldtrace.config import Settings
from goldtrace.db import migrate
from goldtrace.db.models import Checkpoint, Event
from goldtrace.db.session import make_engine
from goldtrace.domain.organizations import OrgProfile
from goldtrace.ledger import merkle, note
from goldtrace.services import organizations, transparency
from goldtrace.services.context import Context
from goldtrace.services.verify import verify_ledger

WRITERS = 16
EVENTS_EACH = 200


def _context(url: str) -> Context:
    return Context(
        Settings(database_url=url, secret_key=TEST_SECRET, log_origin="goldtrace.test/log")
    )


def write_events(url: str, org_id: str, count: int) -> None:
    """One writer process: ``count`` key rotations, each in its own transaction."""
    ctx = _context(url)
    engine = make_engine(url)
    for _ in range(count):
        with Session(engine) as session, session.begin():
            organizations.rotate_key(session, ctx, org_id=org_id)
    engine.dispose()


def cut_checkpoints(url: str, rounds: int) -> None:
    """A checkpointer process racing the writers."""
    ctx = _context(url)
    engine = make_engine(url)
    for _ in range(rounds):
        with Session(engine) as session, session.begin():
            transparency.cut_checkpoint(session, ctx)
    engine.dispose()


@pytest.mark.slow
def test_sixteen_writers_end_with_a_gap_free_log_and_one_root(fresh_database_url: str) -> None:
    url = fresh_database_url
    migrate.upgrade(url)
    ctx = _context(url)
    engine = make_engine(url)
    mines = [f"mine-{i:02d}" for i in range(WRITERS)]
    with Session(engine) as session, session.begin():
        body = organizations.bootstrap(session, ctx)
        for mine in mines:
            profile = OrgProfile(
                id=mine, name=mine, kind="mine", miners=5, capacity_mg_month=500_000
            )
            organizations.register_org(session, ctx, actor=body.id, profile=profile)
    start_size = 1 + WRITERS

    spawn = multiprocessing.get_context("spawn")
    procs = [spawn.Process(target=write_events, args=(url, m, EVENTS_EACH)) for m in mines]
    procs += [spawn.Process(target=cut_checkpoints, args=(url, 40)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=600)
    assert [p.exitcode for p in procs] == [0] * len(procs)

    with Session(engine) as session, session.begin():
        size = start_size + WRITERS * EVENTS_EACH
        seqs = list(session.execute(select(Event.seq).order_by(Event.seq)).scalars())
        assert seqs == list(range(size))
        leaves = list(session.execute(select(Event.leaf).order_by(Event.seq)).scalars())
        hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
        assert transparency.head(session).root == merkle.root(hashes)
        verifier = transparency.log_verifier(session, ctx)
        checkpoints = list(session.execute(select(Checkpoint)).scalars())
        assert checkpoints, "the checkpointers signed nothing"
        for cp in checkpoints:
            signed, _ = note.open_checkpoint(cp.note, verifier, origin=ctx.origin)
            assert signed.root == merkle.root(hashes[: signed.size])
        distinct = session.execute(select(func.count(func.distinct(Checkpoint.size)))).scalar_one()
        assert distinct == len(checkpoints)
        report = verify_ledger(session, ctx)
        assert report.ok, report.first
        assert report.size == size
    engine.dispose()
