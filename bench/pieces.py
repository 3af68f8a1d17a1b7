"""Pieces of jewelry with 100 ancestor lots in a large ledger, and the provenance query on them.

Two pieces are made through the services (real registrations, first sales, merges, refining and
manufacture; nothing is written directly):

- ``wide``: 90 lots registered and sold to the refiner, merged in 8 bars of 11-12 lots, the bars merged
  into one ingot, refined into grain, sent to the jeweler and manufactured: 90 + 8 + 1 + 1 = 100
  ancestor lots, 5 generations, 283 events.
- ``deep``: 50 lots registered and sold, merged one after the other (each merge takes the previous
  bar and one more lot), refined, sent and manufactured: 50 + 49 + 1 = 100 ancestor lots, 52
  generations (the ancestry is one recursive query, however deep), 203 events.

Their operations are spread over the ledger, which is padded between them to its full size with
batches of valid events through ``append_many`` (``ledgers.ValidLedger``: organization registrations
and key rotations), so the ancestry's events are scattered among ``events`` others.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session

import chains
import timing
from appends import bench_context
from chains import Chain
from goldtrace.db.session import make_engine
from goldtrace.services.context import Context
from goldtrace.services.provenance import provenance
from goldtrace.webapp import create_app
from ledgers import ValidLedger
from scratch import Database

WIDE_GROUPS = (11, 11, 11, 11, 11, 11, 12, 12)  # 90 lots in 8 bars
DEEP_LOTS = 50
DEEP_STAGE = 10  # lots per building stage of the deep piece
PAD_CHUNK = 10_000


@dataclass
class Piece:
    """A manufactured piece and what its provenance holds."""

    shape: str
    lot: str = ""
    ancestors: int = 0
    events: int = 0
    generations: int = 0


@dataclass
class PieceLedger:
    """A ledger of ``size`` events holding the two pieces; and the seconds it took to build."""

    db: Database
    size: int
    pieces: list[Piece]
    headers: dict[str, dict[str, str]]
    chain: Chain
    build_seconds: float
    pad_seconds: float
    service_events: int = 0
    notes: list[str] = field(default_factory=list)


class _Builder:
    def __init__(self, db: Database, *, orgs: int, batch: int) -> None:
        self.ledger = ValidLedger(db, orgs=orgs, batch=batch)
        self.engine: Engine = make_engine(db.url)
        self.ctx: Context = bench_context(db)
        self.pad_seconds = 0.0
        self.lots = 0
        with Session(self.engine) as s, s.begin():
            self.chain = chains.build_chain(s, self.ctx)
            self.headers = chains.bearer_headers(s, self.chain)

    def pad_to(self, size: int) -> None:
        current = self.ledger.size()
        while current < size:
            n = min(PAD_CHUNK, size - current)
            self.pad_seconds += self.ledger.extend(n)
            current += n

    def sold_lots(self, count: int) -> list[str]:
        """Register ``count`` lots and sell each to the refiner (one transaction per lot)."""
        ids = []
        for _ in range(count):
            self.lots += 1
            with Session(self.engine) as s, s.begin():
                lot = chains.register(s, self.ctx, self.chain, self.lots)
                chains.sell(s, self.ctx, self.chain, lot)
            ids.append(lot)
        return ids

    def merge(self, inputs: list[str]) -> str:
        with Session(self.engine) as s, s.begin():
            return chains.merge(s, self.ctx, self.chain.refiner, inputs)

    def finish(self, lot: str) -> str:
        """Refine ``lot``, send the grain to the jeweler and make the piece; return its id."""
        chain = self.chain
        with Session(self.engine) as s, s.begin():
            grain = chains.refine(s, self.ctx, chain.refiner, lot)
        with Session(self.engine) as s, s.begin():
            chains.move(s, self.ctx, grain, chain.refiner, chain.jeweler)
        with Session(self.engine) as s, s.begin():
            return chains.manufacture(s, self.ctx, chain.jeweler, grain)

    def close(self) -> None:
        self.ledger.close()
        self.engine.dispose()


def _wide_stages(b: _Builder, piece: Piece) -> list[Callable[[], None]]:
    bars: list[str] = []

    def group(size: int) -> Callable[[], None]:
        return lambda: bars.append(b.merge(b.sold_lots(size)))

    def final() -> None:
        piece.lot = b.finish(b.merge(bars))

    return [group(n) for n in WIDE_GROUPS] + [final]


def _deep_stages(b: _Builder, piece: Piece) -> list[Callable[[], None]]:
    bar: list[str] = []

    def stage() -> None:
        for lot in b.sold_lots(DEEP_STAGE):
            bar[:] = [b.merge([bar[0], lot])] if bar else [lot]

    def final() -> None:
        piece.lot = b.finish(bar[0])

    return [stage for _ in range(DEEP_LOTS // DEEP_STAGE)] + [final]


def build(db: Database, *, events: int, orgs: int, batch: int) -> PieceLedger:
    """Make both pieces in ``db`` (empty, migrated) and pad the ledger to ``events`` events."""
    start = time.perf_counter()
    b = _Builder(db, orgs=orgs, batch=batch)
    try:
        wide, deep = Piece("wide"), Piece("deep")
        a, c = _wide_stages(b, wide), _deep_stages(b, deep)
        stages = [s for pair in zip(a, c, strict=False) for s in pair] + a[len(c) :] + c[len(a) :]
        before = b.ledger.size()
        service_events = 0
        for i, stage in enumerate(stages):
            b.pad_to(before + (events - before) * i // len(stages))
            size = b.ledger.size()
            stage()
            service_events += b.ledger.size() - size
        b.pad_to(events)
        size = b.ledger.size()
        with Session(b.engine) as s:
            for piece in (wide, deep):
                _describe(s, piece)
        return PieceLedger(
            db=db,
            size=size,
            pieces=[wide, deep],
            headers=b.headers,
            chain=b.chain,
            build_seconds=time.perf_counter() - start,
            pad_seconds=b.pad_seconds,
            service_events=service_events,
        )
    finally:
        b.close()


def _describe(session: Session, piece: Piece) -> None:
    """Count the piece's ancestor lots, events and generations; check its provenance verifies."""
    doc = provenance(session, piece.lot)
    if not doc["verified"]:
        raise RuntimeError(
            f"the {piece.shape} piece's provenance does not verify: {doc['problems']}"
        )
    piece.ancestors = len(doc["lots"]) - 1
    piece.events = len(doc["events"])
    parents: dict[str, list[str]] = {}
    for ev in doc["events"]:
        roles = ev["lots"]
        outputs = [lot for lot, role in roles.items() if role == "output"]
        inputs = [lot for lot, role in roles.items() if role == "input"]
        for out in outputs:
            parents[out] = inputs
    depth: dict[str, int] = {}

    def generation(lot: str) -> int:
        if lot not in depth:
            depth[lot] = 1 + max((generation(p) for p in parents.get(lot, [])), default=0)
        return depth[lot]

    piece.generations = max(generation(lot["id"]) for lot in doc["lots"])
    if piece.ancestors != 100:
        raise RuntimeError(f"the {piece.shape} piece has {piece.ancestors} ancestor lots, not 100")


@dataclass
class QueryTimes:
    """Seconds per provenance of each piece: the service call and the whole HTTP request."""

    service: dict[str, list[float]]
    http: dict[str, list[float]]


def measure(ledger: PieceLedger, *, samples: int, budget: float) -> QueryTimes:
    """Time ``provenance(session, piece)`` in a new session per call (as a request has), and
    ``GET /api/v1/lots/{piece}/provenance`` through the in-process app with the jeweler's token;
    at most ``samples`` calls or ``budget`` seconds of each kind per piece."""
    engine = make_engine(ledger.db.url)
    app = create_app(bench_context(ledger.db).settings)
    client = app.test_client()
    headers = ledger.headers[ledger.chain.jeweler]
    service: dict[str, list[float]] = {}
    http: dict[str, list[float]] = {}

    def query(lot: str) -> None:
        with Session(engine) as s:
            provenance(s, lot)

    def request(lot: str) -> None:
        response = client.get(f"/api/v1/lots/{lot}/provenance", headers=headers)
        if response.status_code != 200 or not response.get_json()["verified"]:
            raise RuntimeError(f"provenance of {lot} answered {response.status_code}")

    try:
        for piece in ledger.pieces:
            query(piece.lot)  # warm the pool, the statement caches and the page cache
            request(piece.lot)
            service[piece.shape] = timing.latencies(query, [piece.lot] * samples, budget=budget)
            http[piece.shape] = timing.latencies(request, [piece.lot] * samples, budget=budget)
    finally:
        engine.dispose()
        app.extensions["goldtrace"]["sessions"].kw["bind"].dispose()
    return QueryTimes(service, http)
