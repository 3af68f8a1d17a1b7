"""The supply-chain cycle through the WSGI app in-process, through the services, and the bare append.

One cycle is seven writes, each its own request and transaction, as a client makes them:

    mine     POST /api/v1/lots                     register 10 g of dore
    mine     POST /api/v1/lots/{id}/dispatch       first sale to the refiner, with prices (premium owed)
    refiner  POST /api/v1/lots/{id}/receive
    refiner  POST /api/v1/transformations          refine into 999.9 grain
    refiner  POST /api/v1/lots/{grain}/dispatch    to the jeweler
    jeweler  POST /api/v1/lots/{grain}/receive
    jeweler  POST /api/v1/transformations          manufacture an 18-carat piece

``ApiCycle`` sends them with Flask's test client to ``create_app(settings)`` (its own engine and
sessions, bearer tokens of one operator per organization); ``ServiceCycle`` makes the same calls to
``goldtrace.services.lots`` directly, one ``with Session(engine) as s, s.begin()`` each, which tells
the cost of HTTP, authentication and JSON apart from that of the rules and the ORM. ``AppendOne`` is
the ledger alone: ``services.log.append_many`` of one draft per transaction, as each request appends.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import chains
from appends import bench_context, prepare_ledger
from chains import Chain
from eventrows import fake_key_json
from goldtrace.db.session import make_engine
from goldtrace.domain.quantities import format_fineness, format_mass
from goldtrace.services import lots, organizations
from goldtrace.services.log import Draft, append_many
from goldtrace.webapp import create_app
from scratch import Database

EVENTS_PER_CYCLE = 7
STEPS = (
    "register",
    "dispatch (first sale)",
    "receive",
    "refine",
    "dispatch",
    "receive",
    "manufacture",
)


@dataclass(frozen=True)
class CycleSpec:
    """A database with the benchmark chain and its users' bearer headers."""

    db: Database
    chain: Chain
    headers: dict[str, dict[str, str]]


def prepare_cycle(db: Database) -> CycleSpec:
    """Bootstrap ``db`` and build the certified chain and its API users through the services."""
    engine = make_engine(db.url)
    ctx = bench_context(db)
    try:
        with Session(engine) as s, s.begin():
            organizations.bootstrap(s, ctx)
            chain = chains.build_chain(s, ctx)
            headers = chains.bearer_headers(s, chain)
    finally:
        engine.dispose()
    return CycleSpec(db, chain, headers)


class ApiCycle:
    """One call: the seven requests of a cycle through the in-process WSGI app."""

    def __init__(self, spec: CycleSpec, index: int) -> None:
        ctx = bench_context(spec.db)
        self.app = create_app(ctx.settings)
        self.client: FlaskClient = self.app.test_client()
        self.chain = spec.chain
        self.headers = spec.headers
        self.count = index * 1_000_000
        # Seconds spent in each of the seven requests, summed over calls (for the per-step note).
        self.step_seconds = [0.0] * EVENTS_PER_CYCLE
        self.cycles = 0

    def _post(self, step: int, org: str, path: str, payload: dict[str, Any], status: int) -> Any:
        start = time.perf_counter()
        response = self.client.post(path, json=payload, headers=self.headers[org])
        self.step_seconds[step] += time.perf_counter() - start
        if response.status_code != status:
            raise RuntimeError(
                f"POST {path} answered {response.status_code}: {response.get_data()!r}"
            )
        return response.get_json()

    def __call__(self) -> None:
        chain = self.chain
        self.count += 1
        lot = self._post(
            0,
            chain.mine,
            "/api/v1/lots",
            {
                "form": "dore",
                "mass_g": format_mass(chains.LOT_MASS_MG),
                "fineness": format_fineness(chains.LOT_FINENESS),
                "category": "fairmined",
                "produced_on": chains.production_day(self.count).isoformat(),
            },
            201,
        )["id"]
        price = f"{chains.PRICE / 1_000_000:.2f}"
        self._post(
            1,
            chain.mine,
            f"/api/v1/lots/{lot}/dispatch",
            {"to": chain.refiner, "price_usd_per_g": price, "reference_price_usd_per_g": price},
            200,
        )
        mass = format_mass(chains.LOT_MASS_MG)
        self._post(2, chain.refiner, f"/api/v1/lots/{lot}/receive", {"mass_g": mass}, 200)
        grain_mass, grain_fineness = chains.refined(chains.LOT_MASS_MG, chains.LOT_FINENESS)
        grain = self._post(
            3,
            chain.refiner,
            "/api/v1/transformations",
            {
                "kind": "refine",
                "inputs": [lot],
                "outputs": [
                    {
                        "form": "grain",
                        "mass_g": format_mass(grain_mass),
                        "fineness": format_fineness(grain_fineness),
                    }
                ],
            },
            201,
        )["lots"][0]["id"]
        self._post(4, chain.refiner, f"/api/v1/lots/{grain}/dispatch", {"to": chain.jeweler}, 200)
        self._post(
            5,
            chain.jeweler,
            f"/api/v1/lots/{grain}/receive",
            {"mass_g": format_mass(grain_mass)},
            200,
        )
        piece_mass, piece_fineness, alloy = chains.manufactured(grain_mass, grain_fineness)
        self._post(
            6,
            chain.jeweler,
            "/api/v1/transformations",
            {
                "kind": "manufacture",
                "inputs": [grain],
                "outputs": [
                    {
                        "form": "jewelry_item",
                        "mass_g": format_mass(piece_mass),
                        "fineness": format_fineness(piece_fineness),
                    }
                ],
                "alloy_mass_g": format_mass(alloy),
            },
            201,
        )
        self.cycles += 1

    def close(self) -> None:
        self.app.extensions["goldtrace"]["sessions"].kw["bind"].dispose()


class ServiceCycle:
    """One call: the same seven operations through goldtrace.services.lots, one transaction each."""

    def __init__(self, spec: CycleSpec, index: int) -> None:
        self.engine: Engine = make_engine(spec.db.url)
        self.ctx = bench_context(spec.db)
        self.chain = spec.chain
        self.count = 500_000 + index * 1_000_000

    def __call__(self) -> None:
        chain, ctx, engine = self.chain, self.ctx, self.engine
        self.count += 1
        with Session(engine) as s, s.begin():
            lot = chains.register(s, ctx, chain, self.count)
        with Session(engine) as s, s.begin():
            lots.dispatch_lot(
                s,
                ctx,
                actor=chain.mine,
                lot_id=lot,
                to=chain.refiner,
                price=chains.PRICE,
                reference_price=chains.PRICE,
            )
        with Session(engine) as s, s.begin():
            chains.receive(s, ctx, lot, chain.refiner)
        with Session(engine) as s, s.begin():
            grain = chains.refine(s, ctx, chain.refiner, lot)
        with Session(engine) as s, s.begin():
            lots.dispatch_lot(s, ctx, actor=chain.refiner, lot_id=grain, to=chain.jeweler)
        with Session(engine) as s, s.begin():
            chains.receive(s, ctx, grain, chain.jeweler)
        with Session(engine) as s, s.begin():
            chains.manufacture(s, ctx, chain.jeweler, grain)

    def close(self) -> None:
        self.engine.dispose()


@dataclass(frozen=True)
class AppendSpec:
    """A bootstrapped ledger and the organizations whose custodial keys sign the appends."""

    db: Database
    orgs: tuple[str, ...]


def prepare_append(db: Database) -> AppendSpec:
    """Bootstrap ``db`` with one organization to append for."""
    return AppendSpec(db, prepare_ledger(db, 1))


class AppendOne:
    """One call: ``append_many`` of one ``key.rotate`` draft in its own transaction (no rules, no HTTP)."""

    def __init__(self, spec: AppendSpec, index: int) -> None:
        self.engine: Engine = make_engine(spec.db.url)
        self.ctx = bench_context(spec.db)
        self.actor = spec.orgs[index % len(spec.orgs)]

    def __call__(self) -> None:
        draft = Draft(type="key.rotate", actor=self.actor, fields={"key": fake_key_json()})
        with Session(self.engine) as s, s.begin():
            append_many(s, self.ctx, [draft])

    def close(self) -> None:
        self.engine.dispose()


def run_window(op: ApiCycle | ServiceCycle | AppendOne, seconds: float) -> float:
    """Call the (warm) ``op`` for about ``seconds``; return calls per second."""
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    now = start
    while now < deadline:
        op()
        count += 1
        now = time.perf_counter()
    return count / (now - start)


def api_cycle_op(spec: CycleSpec, index: int) -> ApiCycle:
    """Op factory for parallel.run_here."""
    return ApiCycle(spec, index)


def service_cycle_op(spec: CycleSpec, index: int) -> ServiceCycle:
    """Op factory for parallel.run_here."""
    return ServiceCycle(spec, index)


def append_one_op(spec: AppendSpec, index: int) -> AppendOne:
    """Op factory for parallel.run_here."""
    return AppendOne(spec, index)
