"""What a person sees first: their organization's lots and, for a mine, its capacity used."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from goldtrace.db.models import Event, Flag, Lot, Organization, SaleTerms
from goldtrace.domain import certification as certrules
from goldtrace.domain import registration
from goldtrace.domain.actors import Actor
from goldtrace.domain.instants import local_date, now_instant
from goldtrace.services import registry
from goldtrace.services.organizations import get_org


@dataclass
class Summary:
    """The dashboard's figures."""

    on_hand: list[Lot] = field(default_factory=list)
    incoming: list[Lot] = field(default_factory=list)
    outgoing: list[Lot] = field(default_factory=list)
    sold_this_month: int = 0
    sold_fine_mg: int = 0
    capacity_used_mg: int | None = None
    capacity_limit_mg: int | None = None
    organizations: int = 0
    events: int = 0
    open_flags: int = 0


def summary(session: Session, actor: Actor, *, today: date | None = None) -> Summary:
    """Return the dashboard summary for the actor's organization."""
    today = today or datetime.now(UTC).date()
    result = Summary()
    if actor.sees_everything:
        result.organizations = session.execute(
            select(func.count()).select_from(Organization)
        ).scalar_one()
        result.events = session.execute(select(func.count()).select_from(Event)).scalar_one()
        result.open_flags = session.execute(
            select(func.count()).select_from(Flag).where(Flag.reviewed.is_(False))
        ).scalar_one()
        return result
    org = actor.org_id
    mine_lots = select(Lot).order_by(Lot.updated_seq.desc())
    result.on_hand = list(
        session.execute(mine_lots.where(Lot.holder_id == org, Lot.status == "active")).scalars()
    )
    result.incoming = list(
        session.execute(
            mine_lots.where(Lot.in_transit_to == org, Lot.status == "in_transit")
        ).scalars()
    )
    result.outgoing = list(
        session.execute(mine_lots.where(Lot.holder_id == org, Lot.status == "in_transit")).scalars()
    )
    if actor.org_kind == "mine":
        month_start = today.replace(day=1).isoformat()
        sold = session.execute(
            select(Lot.mass_mg, Lot.fineness)
            .join(SaleTerms, SaleTerms.lot_id == Lot.id)
            .join(Event, Event.seq == SaleTerms.seq)
            .where(SaleTerms.seller_id == org, Event.occurred_at >= month_start)
        ).all()
        result.sold_this_month = len(sold)
        result.sold_fine_mg = sum(m * f // 10_000 for m, f in sold)
        # The capacity in force in the mine's calendar, and the fuller of its two 30-day windows
        # ending today: by production date and by registration date (both bound registrations).
        local_today = local_date(now_instant(), get_org(session, org).country)
        periods = registry.capacity_periods(session, org)
        if periods:
            result.capacity_limit_mg = registration.capacity_on(periods, local_today).limit_mg
        start = local_today - timedelta(days=certrules.WINDOW_DAYS - 1)
        used = [
            session.execute(
                select(func.coalesce(func.sum(Lot.registered_fine_mg), 0)).where(
                    Lot.mine_id == org,
                    Lot.status != "voided",
                    column >= start,
                    column <= local_today,
                )
            ).scalar_one()
            or 0
            for column in (Lot.produced_on, Lot.registered_on)
        ]
        result.capacity_used_mg = max(used)
    return result
