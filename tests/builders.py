"""Small deterministic builders for tests (no mocks: real services on the real database)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from goldtrace.domain.instants import local_date, now_instant
from goldtrace.domain.organizations import OrgProfile
from goldtrace.services import accounts, lots, organizations, premiums, registry
from goldtrace.services.context import Context
from goldtrace.services.transparency import head

TEST_SECRET = "test-secret-key-0123456789abcdef"


def register_mines(
    session: Session, ctx: Context, count: int, *, prefix: str = "mine"
) -> list[str]:
    """Register ``count`` mines through the standard body; return their ids."""
    body = organizations.standard_body_id(session)
    ids = []
    for i in range(count):
        profile = OrgProfile(
            id=f"{prefix}-{i:04d}",
            name=f"Cooperativa Minera {i} Ñuñoa",
            kind="mine",
            region="Puno",
            miners=10 + i,
            capacity_mg_month=1_000_000,
        )
        organizations.register_org(session, ctx, actor=body, profile=profile)
        ids.append(profile.id)
    return ids


def ledger_with_events(session: Session, ctx: Context, count: int) -> None:
    """Grow a bootstrapped ledger to exactly ``count`` events with registrations and key rotations."""
    size = head(session).size
    mines = register_mines(session, ctx, max(1, min(count - size, 50)), prefix=f"m{size}")
    size = head(session).size
    i = 0
    while size < count:
        organizations.rotate_key(session, ctx, org_id=mines[i % len(mines)])
        size += 1
        i += 1


FAR_PAST = date(2020, 1, 1)
FAR_FUTURE = date(2030, 12, 31)
# The reference price the builders record and sell at: USD 90 a gram of fine gold.
REFERENCE_CENTS_PER_OZ = 279_931
REFERENCE_MICRO = 90_000_000


def lima_today() -> date:
    """Today in Peru: the calendar a mine's production and registration dates are read in."""
    return local_date(now_instant(), "PE")


def recent(days: int = 3) -> date:
    """A production date ``days`` before today in Peru (registrations may not be dated later)."""
    return lima_today() - timedelta(days=days)


@dataclass(frozen=True)
class Chain:
    """The organizations of a small certified chain."""

    body: str = "arm"
    mine: str = "cecomip"
    eco_mine: str = "oro-puno"
    trader: str = "trader"
    refiner: str = "refiner"
    jeweler: str = "jeweler"


def certified_chain(session: Session, ctx: Context) -> Chain:
    """Two certified mines (one ecological) and an authorized trader, refiner and jeweler."""
    chain = Chain()
    premiums.seed_rates(session, ctx)
    premiums.record_reference_price(
        session, ctx, actor=chain.body, day=FAR_PAST, cents_per_troy_oz=REFERENCE_CENTS_PER_OZ
    )
    add = organizations.register_org
    add(
        session,
        ctx,
        actor=chain.body,
        profile=OrgProfile(
            id=chain.mine, name="CECOMIP", kind="mine", miners=100, capacity_mg_month=9_000_000
        ),
    )
    add(
        session,
        ctx,
        actor=chain.body,
        profile=OrgProfile(
            id=chain.eco_mine, name="Oro Puno", kind="mine", miners=50, capacity_mg_month=5_000_000
        ),
    )
    for org, kind in (
        (chain.trader, "trader"),
        (chain.refiner, "refiner"),
        (chain.jeweler, "jeweler"),
    ):
        add(session, ctx, actor=chain.body, profile=OrgProfile(id=org, name=org.title(), kind=kind))
        registry.record_authorization(
            session,
            ctx,
            actor=chain.body,
            org_id=org,
            role="licensee" if kind == "jeweler" else "supplier",
            valid_from=FAR_PAST,
            valid_until=FAR_FUTURE,
        )
    registry.record_certification(
        session,
        ctx,
        actor=chain.body,
        org_id=chain.mine,
        category="fairmined",
        number="FM-001",
        valid_from=FAR_PAST,
        valid_until=FAR_FUTURE,
    )
    registry.record_certification(
        session,
        ctx,
        actor=chain.body,
        org_id=chain.eco_mine,
        category="fairmined_ecological",
        number="FME-002",
        valid_from=FAR_PAST,
        valid_until=FAR_FUTURE,
    )
    return chain


def register(
    session: Session,
    ctx: Context,
    mine: str,
    *,
    mass_mg: int = 1_000_000,
    fineness: int = 9_000,
    category: str = "fairmined",
    day: date | None = None,
    registered_on: date | None = None,
) -> str:
    """Register a lot produced on ``day`` (default: three days ago in Peru) and return its id. The
    registration is dated now, or at noon in Lima on ``registered_on`` (a registration of the past)."""
    written = lots.register_lot(
        session,
        ctx,
        actor=mine,
        form="dore",
        mass_mg=mass_mg,
        fineness=fineness,
        category=category,
        produced_on=day or recent(),
        occurred_at=lima_noon(registered_on) if registered_on else None,
    )
    return written.lots[0].id


def lima_noon(day: date) -> str:
    """The instant of noon in Lima (UTC-5, no daylight saving) on ``day``."""
    return f"{day.isoformat()}T17:00:00.000Z"


def sell(session: Session, ctx: Context, lot_id: str, seller: str, buyer: str) -> None:
    """A mine's first sale at the reference price, received at the dispatched mass."""
    lots.dispatch_lot(
        session,
        ctx,
        actor=seller,
        lot_id=lot_id,
        to=buyer,
        price=REFERENCE_MICRO,
        reference_price=REFERENCE_MICRO,
    )
    receive(session, ctx, lot_id, buyer)


def move(session: Session, ctx: Context, lot_id: str, sender: str, recipient: str) -> None:
    """A later dispatch and its receipt at the same mass."""
    lots.dispatch_lot(session, ctx, actor=sender, lot_id=lot_id, to=recipient)
    receive(session, ctx, lot_id, recipient)


def receive(session: Session, ctx: Context, lot_id: str, recipient: str) -> None:
    lot = lots.get_lot(session, lot_id)
    lots.receive_lot(session, ctx, actor=recipient, lot_id=lot_id, mass_mg=lot.mass_mg)


def bearer(session: Session, org_id: str, role: str = "operator") -> dict[str, str]:
    """Create a user of ``org_id`` with an API token; return the Authorization header."""
    email = f"{role}.{org_id}@example.org"
    accounts.add_user(
        session, email=email, org_id=org_id, role=role, password="correct-horse-battery"
    )
    _, token = accounts.create_token(session, email=email)
    return {"Authorization": f"Bearer {token}"}


def run_cli(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``goldtrace ARGS`` as an operator would, against the database at ``url``."""
    env = {
        **os.environ,
        "GOLDTRACE_DATABASE_URL": url,
        "GOLDTRACE_SECRET_KEY": TEST_SECRET,
        "GOLDTRACE_LOG_ORIGIN": "goldtrace.test/log",
    }
    return subprocess.run(
        [sys.executable, "-m", "goldtrace", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
