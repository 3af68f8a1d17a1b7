"""A certified supply chain built through the services, and the lot operations the benchmarks repeat.

Mirrors ``tests/builders.py`` (``certified_chain``, ``register``, ``sell``, ``move``): premium rates are
seeded, a certified mine and an authorized refiner and jeweler are registered by the standard body, and
every lot operation goes through ``goldtrace.services.lots`` (or the JSON API), so the rules run exactly
as in production. The mine declares a very large capacity so that thousands of benchmark lots never
meet the 30-day capacity rule; lots are produced on the 28 days before today in Peru (a registration
may not be dated later, nor more than 31 days back), and the capacity check reads daily sums, a bounded
number of rows however long the benchmark runs. The standard body records the reference price the
first sales state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from goldtrace.domain.instants import local_date, now_instant
from goldtrace.domain.lots import OutputSpec
from goldtrace.domain.organizations import OrgProfile
from goldtrace.domain.quantities import fine_mg
from goldtrace.services import accounts, lots, organizations, premiums, registry
from goldtrace.services.context import Context

FAR_PAST = date(2020, 1, 1)
FAR_FUTURE = date(2030, 12, 31)
DAYS = 28  # produced_on cycles over the DAYS days before today in Peru

LOT_MASS_MG = 10_000  # 10 g of dore at 900.0 (fine 9 g): small, so capacity never bites
LOT_FINENESS = 9_000
PRICE = 90_000_000  # micro-USD per gram of fine gold: 90.00, at the reference price
# The same reference price per troy ounce, as the standard body records it.
PRICE_CENTS_PER_OZ = 279_931
PASSWORD = "bench-password-0123"  # scratch users of a scratch database


@dataclass(frozen=True)
class Chain:
    """The organizations of the benchmark chain and, once made, the bearer headers of their users."""

    body: str = "arm"
    mine: str = "bench-mine"
    refiner: str = "bench-refiner"
    jeweler: str = "bench-jeweler"


def build_chain(session: Session, ctx: Context) -> Chain:
    """Register and certify the chain (the ledger must be bootstrapped); the caller commits."""
    chain = Chain()
    premiums.seed_rates(session, ctx)
    premiums.record_reference_price(
        session, ctx, actor=chain.body, day=FAR_PAST, cents_per_troy_oz=PRICE_CENTS_PER_OZ
    )
    organizations.register_org(
        session,
        ctx,
        actor=chain.body,
        profile=OrgProfile(
            id=chain.mine,
            name="Cooperativa Minera de Prueba",
            kind="mine",
            region="Puno",
            miners=1_000_000,
            capacity_mg_month=10**12,
        ),
    )
    registry.record_certification(
        session,
        ctx,
        actor=chain.body,
        org_id=chain.mine,
        category="fairmined",
        number="FM-BENCH",
        valid_from=FAR_PAST,
        valid_until=FAR_FUTURE,
    )
    for org, kind, role in (
        (chain.refiner, "refiner", "supplier"),
        (chain.jeweler, "jeweler", "licensee"),
    ):
        organizations.register_org(
            session, ctx, actor=chain.body, profile=OrgProfile(id=org, name=org.title(), kind=kind)
        )
        registry.record_authorization(
            session,
            ctx,
            actor=chain.body,
            org_id=org,
            role=role,
            valid_from=FAR_PAST,
            valid_until=FAR_FUTURE,
        )
    return chain


def bearer_headers(session: Session, chain: Chain) -> dict[str, dict[str, str]]:
    """Create one operator with an API token per organization; return their Authorization headers."""
    headers = {}
    for org in (chain.mine, chain.refiner, chain.jeweler):
        email = f"operator@{org}.example.org"
        accounts.add_user(session, email=email, org_id=org, role="operator", password=PASSWORD)
        _, token = accounts.create_token(session, email=email)
        headers[org] = {"Authorization": f"Bearer {token}"}
    return headers


def production_day(index: int) -> date:
    """The production date of the ``index``-th benchmark lot."""
    return local_date(now_instant(), "PE") - timedelta(days=1 + index % DAYS)


def register(session: Session, ctx: Context, chain: Chain, index: int) -> str:
    """The mine registers a 10 g dore lot; return its id."""
    return (
        lots.register_lot(
            session,
            ctx,
            actor=chain.mine,
            form="dore",
            mass_mg=LOT_MASS_MG,
            fineness=LOT_FINENESS,
            category="fairmined",
            produced_on=production_day(index),
        )
        .lots[0]
        .id
    )


def sell(session: Session, ctx: Context, chain: Chain, lot_id: str) -> None:
    """The mine's first sale to the refiner, with prices, received at the dispatched mass."""
    lots.dispatch_lot(
        session,
        ctx,
        actor=chain.mine,
        lot_id=lot_id,
        to=chain.refiner,
        price=PRICE,
        reference_price=PRICE,
    )
    receive(session, ctx, lot_id, chain.refiner)


def receive(session: Session, ctx: Context, lot_id: str, recipient: str) -> None:
    """The recipient takes the lot at its dispatched mass."""
    lot = lots.get_lot(session, lot_id)
    lots.receive_lot(session, ctx, actor=recipient, lot_id=lot_id, mass_mg=lot.mass_mg)


def merge(session: Session, ctx: Context, actor: str, inputs: list[str]) -> str:
    """Merge lots of one fineness into one bar, without loss; return its id."""
    views = [lots.get_lot(session, i) for i in inputs]
    mass = sum(v.mass_mg for v in views)
    (fineness,) = {v.fineness for v in views}
    out = OutputSpec(id="", form="bar", mass_mg=mass, fineness=fineness)
    return (
        lots.transform(session, ctx, actor=actor, kind="merge", inputs=inputs, outputs=[out])
        .lots[0]
        .id
    )


def refined(mass_mg: int, fineness: int) -> tuple[int, int]:
    """(mass, fineness) of the 999.9 grain refined from a lot, losing 0.5 % of its fine gold."""
    fine = fine_mg(mass_mg, fineness) * 995 // 1000
    return fine * 10_000 // 9_999, 9_999


def manufactured(mass_mg: int, fineness: int) -> tuple[int, int, int]:
    """(mass, fineness, alloy mass) of an 18-carat (750.0) piece made of all of a lot's fine gold."""
    mass = fine_mg(mass_mg, fineness) * 10_000 // 7_500
    return mass, 7_500, mass - mass_mg


def refine(session: Session, ctx: Context, actor: str, lot_id: str) -> str:
    """Refine one lot into grain; return its id."""
    lot = lots.get_lot(session, lot_id)
    mass, fineness = refined(lot.mass_mg, lot.fineness)
    out = OutputSpec(id="", form="grain", mass_mg=mass, fineness=fineness)
    return (
        lots.transform(session, ctx, actor=actor, kind="refine", inputs=[lot_id], outputs=[out])
        .lots[0]
        .id
    )


def manufacture(session: Session, ctx: Context, actor: str, lot_id: str) -> str:
    """Make one piece of jewelry of a lot; return its id."""
    lot = lots.get_lot(session, lot_id)
    mass, fineness, alloy = manufactured(lot.mass_mg, lot.fineness)
    out = OutputSpec(id="", form="jewelry_item", mass_mg=mass, fineness=fineness)
    return (
        lots.transform(
            session,
            ctx,
            actor=actor,
            kind="manufacture",
            inputs=[lot_id],
            outputs=[out],
            alloy_mass_mg=alloy,
        )
        .lots[0]
        .id
    )


def move(session: Session, ctx: Context, lot_id: str, sender: str, recipient: str) -> None:
    """A later dispatch (no prices) and its receipt at the same mass."""
    lots.dispatch_lot(session, ctx, actor=sender, lot_id=lot_id, to=recipient)
    receive(session, ctx, lot_id, recipient)
