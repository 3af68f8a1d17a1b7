"""Two processes race for one lot: exactly one wins, the other is refused, and the ledger stays clean.

Each race is repeated ROUNDS times on a fresh database. Two long-lived worker processes (spawned, so
nothing is shared but the database) meet at a barrier before every round (on PostgreSQL inside their
transactions, after each has loaded the lot, so a stale read would show), then try the same operation on
the same lot:

- dispatch race: the trader holding a lot sends it, one worker to the refiner, the other to the
  jeweler; the loser must see the lot in transit (``in_transit``);
- transformation race: the refiner holding a lot melts it in one worker and splits it in the other;
  the loser must see the lot consumed (``lot_consumed``).

Afterwards every lot is in exactly the state its winner left it in, only the winners' events and output
lots exist, and ``verify_ledger`` is clean.
"""

from __future__ import annotations

import multiprocessing
import queue
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from builders import TEST_SECRET, certified_chain, move, register, sell
from goldtrace.config import Settings
from goldtrace.db import migrate
from goldtrace.db.models import Event, Lot, LotEvent
from goldtrace.db.session import make_engine
from goldtrace.domain.lots import OutputSpec
from goldtrace.errors import GoldtraceError
from goldtrace.services import lots, organizations
from goldtrace.services.context import Context
from goldtrace.services.verify import verify_ledger

ROUNDS = 5
TIMEOUT = 120
# Worker name -> (recipient of its dispatch, its transformation of a 1 kg lot at 900 per mille).
PLANS: dict[str, tuple[str, str, list[OutputSpec]]] = {
    "A": ("refiner", "melt", [OutputSpec(id="", form="bar", mass_mg=999_000, fineness=9_000)]),
    "B": (
        "jeweler",
        "split",
        [OutputSpec(id="", form="grain", mass_mg=500_000, fineness=9_000)] * 2,
    ),
}
LOSERS = {"dispatch": "in_transit", "transform": "lot_consumed"}


def _context(url: str) -> Context:
    return Context(
        Settings(database_url=url, secret_key=TEST_SECRET, log_origin="goldtrace.test/log")
    )


def race(
    url: str,
    name: str,
    rounds: list[tuple[str, str]],
    barrier: Any,
    results: Any,
) -> None:
    """One worker: for each (operation, lot) round, meet the other worker, then try it.

    Reports (round, worker, "won", seq, output ids) or (round, worker, "refused", code, []); anything
    else breaks the barrier so that the other worker stops too, and fails the process.
    """
    ctx = _context(url)
    engine = make_engine(url)
    recipient, kind, outputs = PLANS[name]
    # On PostgreSQL each worker first loads the lot in its own transaction, so that the service must
    # re-read it after taking the log head lock. (On SQLite a transaction holds the database write lock
    # from its start, so the workers can only meet before beginning.)
    preload = make_url(url).get_backend_name() == "postgresql"
    try:
        with engine.connect():  # open the pool's connection before the start signal
            pass
        for number, (operation, lot_id) in enumerate(rounds):
            if not preload:
                barrier.wait(timeout=TIMEOUT)
            try:
                with Session(engine) as session, session.begin():
                    if preload:
                        lots.get_lot(session, lot_id)
                        barrier.wait(timeout=TIMEOUT)
                    if operation == "dispatch":
                        written = lots.dispatch_lot(
                            session, ctx, actor="trader", lot_id=lot_id, to=recipient
                        )
                    else:
                        written = lots.transform(
                            session,
                            ctx,
                            actor="refiner",
                            kind=kind,
                            inputs=[lot_id],
                            outputs=outputs,
                        )
                    created = [lot.id for lot in written.lots] if operation == "transform" else []
                results.put((number, name, "won", written.seq, created))
            except GoldtraceError as exc:
                results.put((number, name, "refused", exc.code, []))
    except BaseException:
        barrier.abort()
        raise
    finally:
        engine.dispose()


def _collect(results: Any, count: int, procs: list[Any]) -> list[tuple[Any, ...]]:
    """Read ``count`` reports, failing early if a worker died."""
    got: list[tuple[Any, ...]] = []
    while len(got) < count:
        try:
            got.append(results.get(timeout=1))
        except queue.Empty:
            dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            assert not dead, f"a worker failed (exit codes {dead}) after {len(got)} reports"
            assert any(p.is_alive() for p in procs), f"workers ended after {len(got)} reports"
    return got


@pytest.mark.slow
def test_racing_dispatches_and_transformations_have_exactly_one_winner(
    fresh_database_url: str,
) -> None:
    url = fresh_database_url
    migrate.upgrade(url)
    ctx = _context(url)
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        organizations.bootstrap(session, ctx)
        chain = certified_chain(session, ctx)
        to_dispatch, to_transform = [], []
        for _ in range(ROUNDS):
            lot = register(session, ctx, chain.mine, mass_mg=1_000_000, fineness=9_000)
            sell(session, ctx, lot, chain.mine, chain.trader)
            to_dispatch.append(lot)
            lot = register(session, ctx, chain.mine, mass_mg=1_000_000, fineness=9_000)
            sell(session, ctx, lot, chain.mine, chain.trader)
            move(session, ctx, lot, chain.trader, chain.refiner)
            to_transform.append(lot)
        start_size = session.execute(select(func.count()).select_from(Event)).scalar_one()
        start_lots = session.execute(select(func.count()).select_from(Lot)).scalar_one()
    rounds = [("dispatch", lot) for lot in to_dispatch] + [
        ("transform", lot) for lot in to_transform
    ]

    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(2)
    results = spawn.Queue()
    procs = [
        spawn.Process(target=race, args=(url, name, rounds, barrier, results)) for name in PLANS
    ]
    for p in procs:
        p.start()
    try:
        reports = _collect(results, 2 * len(rounds), procs)
    finally:
        for p in procs:
            p.join(timeout=TIMEOUT)
            if p.is_alive():
                p.kill()
                p.join()
    assert [p.exitcode for p in procs] == [0, 0]

    winners: dict[int, tuple[str, int, list[str]]] = {}
    for number in range(len(rounds)):
        operation, _ = rounds[number]
        both = sorted(r[1:] for r in reports if r[0] == number)
        assert sorted(r[1] for r in both) == ["refused", "won"], (number, both)
        (loser,) = [r for r in both if r[1] == "refused"]
        (winner,) = [r for r in both if r[1] == "won"]
        assert loser[2] == LOSERS[operation], (number, loser)
        winners[number] = (winner[0], winner[2], winner[3])

    with Session(engine) as session, session.begin():
        for number, (operation, lot_id) in enumerate(rounds):
            name, seq, created = winners[number]
            recipient, _, outputs = PLANS[name]
            lot = lots.get_lot(session, lot_id)
            assert lot.updated_seq == seq
            events = session.execute(
                select(LotEvent.seq).where(LotEvent.lot_id == lot_id).order_by(LotEvent.seq)
            ).scalars()
            # register, first sale, receipt, [dispatch, receipt,] and the one winning event.
            assert list(events)[-1] == seq
            assert session.get(Event, seq).type == f"lot.{operation}"
            if operation == "dispatch":
                assert (lot.status, lot.holder_id, lot.in_transit_to) == (
                    "in_transit",
                    "trader",
                    recipient,
                )
                assert len(created) == 0
            else:
                assert (lot.status, lot.holder_id) == ("consumed", "refiner")
                assert len(created) == len(outputs)
                made = session.execute(select(Lot).where(Lot.created_seq == seq)).scalars().all()
                assert sorted(out.id for out in made) == sorted(created)
                assert all(out.status == "active" and out.holder_id == "refiner" for out in made)
        size = session.execute(select(func.count()).select_from(Event)).scalar_one()
        assert size == start_size + len(rounds)
        outputs_made = sum(len(created) for _, _, created in winners.values())
        assert session.execute(select(func.count()).select_from(Lot)).scalar_one() == (
            start_lots + outputs_made
        )
        report = verify_ledger(session, ctx, workers=1)
        assert report.ok, report.first
        assert report.size == size
    engine.dispose()
