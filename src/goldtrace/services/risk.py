"""Risk signals for auditors and the standard body: the facts of every mine gathered once, judged by
``domain.risk``."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from goldtrace.db.models import Lot, Organization, PickerMembership
from goldtrace.domain import risk
from goldtrace.domain.actors import Actor
from goldtrace.domain.instants import local_date, now_instant
from goldtrace.errors import PermissionDenied
from goldtrace.services import registry

# The calendar of the report's months: Peru's, where the ledger's mines are (DOMAIN.md).
REPORT_COUNTRY = "PE"


def mine_risks(
    session: Session,
    actor: Actor,
    *,
    months: int = risk.DEFAULT_MONTHS,
    region: str | None = None,
    today: date | None = None,
) -> risk.Assessment:
    """The risk signals of every mine (of ``region``, if given) and every group of related
    organizations over the ``months`` calendar months up to ``today`` (in Peru, by default).

    Raises PermissionDenied unless the actor is an auditor or the standard body, and InvalidInput
    for a number of months outside 1..36.
    """
    _require_overseer(actor)
    today = today or local_date(now_instant(), REPORT_COUNTRY)
    window = risk.months_ending(today, risk.check_months(months))
    registrations: dict[str, list[risk.Registration]] = {}
    rows = session.execute(
        select(
            Lot.mine_id, Lot.produced_on, Lot.registered_on, Lot.registered_fine_mg, Lot.picker
        ).where(
            Lot.mine_id.is_not(None),
            Lot.produced_on >= window[0].first,
            Lot.produced_on <= today,
            Lot.status != "voided",
        )
    ).all()
    for mine_id, produced_on, registered_on, fine, picker in rows:
        if mine_id is None or produced_on is None:
            continue
        registrations.setdefault(mine_id, []).append(
            risk.Registration(
                mine=mine_id,
                produced_on=produced_on,
                registered_on=registered_on or produced_on,
                fine_mg=fine or 0,
                picker=picker,
            )
        )
    mines = session.execute(
        select(Organization).where(Organization.kind == "mine").order_by(Organization.id)
    ).scalars()
    facts = [
        risk.MineFacts(
            id=org.id,
            name=org.name,
            region=org.region,
            capacity=registry.capacity_periods(session, org.id),
            certs=registry.certifications(session, org.id),
            registrations=registrations.get(org.id, ()),
        )
        for org in mines
    ]
    names = {
        person: name
        for person, name in session.execute(
            select(PickerMembership.person_id, PickerMembership.name).order_by(PickerMembership.seq)
        ).all()
    }
    return risk.assess(
        facts,
        months=window,
        today=today,
        groups=registry.groups(session),
        picker_names=names,
        region=region,
    )


def regions(session: Session, actor: Actor) -> list[str]:
    """The regions mines are registered in, in alphabetical order (for choosing one); PermissionDenied
    unless the actor is an auditor or the standard body."""
    _require_overseer(actor)
    rows = session.execute(
        select(Organization.region)
        .where(Organization.kind == "mine", Organization.region.is_not(None))
        .distinct()
        .order_by(Organization.region)
    ).scalars()
    return [r for r in rows if r]


def _require_overseer(actor: Actor) -> None:
    if not actor.sees_everything:
        raise PermissionDenied(
            "only auditors and the standard body see risk signals", code="forbidden"
        )
