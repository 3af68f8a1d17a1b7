"""Builders of mines with months of history, for the risk-signal tests (real services, no mocks).

A production date may not be older than 31 days at registration, so history over several months is
registered with past instants; the months below are those the tests build.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from builders import FAR_FUTURE, FAR_PAST
from goldtrace.domain import risk
from goldtrace.domain.organizations import OrgProfile
from goldtrace.services import lots, organizations, registry
from goldtrace.services.context import Context

JUL, AUG, SEP, OCT, NOV = (risk.Month(2026, m) for m in (7, 8, 9, 10, 11))


def add_mine(
    session: Session,
    ctx: Context,
    mine_id: str,
    *,
    region: str = "Puno",
    miners: int = 100,
    capacity_mg: int = 9_000_000,
    certified: bool = True,
    pickers: bool = False,
) -> str:
    """Register a mine through the standard body (certified Fairmined unless told); return its id."""
    profile = OrgProfile(
        id=mine_id,
        name=mine_id.replace("-", " ").title(),
        kind="mine",
        region=region,
        miners=miners,
        capacity_mg_month=capacity_mg,
        pickers=pickers,
    )
    organizations.register_org(session, ctx, actor="arm", profile=profile)
    if certified:
        registry.record_certification(
            session,
            ctx,
            actor="arm",
            org_id=mine_id,
            category="fairmined",
            number=f"FM-{mine_id}",
            valid_from=FAR_PAST,
            valid_until=FAR_FUTURE,
        )
    return mine_id


def register_in(
    session: Session,
    ctx: Context,
    mine_id: str,
    month: risk.Month,
    fine_mg: int,
    *,
    lag: int = 2,
    picker: str | None = None,
) -> str:
    """A lot of ``fine_mg`` fine gold produced on the month's 3rd day and registered ``lag`` days later."""
    registered = month.first + timedelta(days=2 + lag)
    written = lots.register_lot(
        session,
        ctx,
        actor=mine_id,
        form="dore",
        mass_mg=fine_mg,
        fineness=10_000,
        category="none" if picker else "fairmined",
        produced_on=registered - timedelta(days=lag),
        picker=picker,
        occurred_at=f"{registered.isoformat()}T15:00:00.000Z",
    )
    return written.lots[0].id
