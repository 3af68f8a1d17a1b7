"""The demo ledger: organizations of the first fully Peruvian Fairmined chain (DOMAIN.md), built
through the same services as real use, never by writing rows."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from goldtrace.db.models import Organization
from goldtrace.domain.organizations import OrgProfile
from goldtrace.services import organizations, transparency
from goldtrace.services.context import Context

ORGANIZATIONS = (
    OrgProfile(
        id="cecomip",
        name="Central de Cooperativas Minero Metalúrgicas de Puno (CECOMIP)",
        kind="mine",
        region="Puno",
        miners=120,
        capacity_mg_month=9_000_000,
    ),
    OrgProfile(
        id="oro-puno",
        name="Minera Oro Puno",
        kind="mine",
        region="Puno",
        miners=60,
        capacity_mg_month=5_000_000,
    ),
    OrgProfile(
        id="cruz-pata",
        name="Cruz Pata Chaquiminas",
        kind="mine",
        region="Puno",
        miners=45,
        capacity_mg_month=4_000_000,
    ),
    OrgProfile(
        id="macdesa",
        name="Minera Aurífera Cuatro de Enero (MACDESA)",
        kind="mine",
        region="Arequipa",
        miners=420,
        capacity_mg_month=22_000_000,
    ),
    OrgProfile(
        id="andes-trading",
        name="Andes Gold Trading S.A.C. (fictional)",
        kind="trader",
        region="Lima",
    ),
    OrgProfile(
        id="refineria-sur", name="Refinería del Sur S.A. (fictional)", kind="refiner", region="Lima"
    ),
    OrgProfile(
        id="divinas",
        name="Asociación Divinas en Brillo de Oro",
        kind="jeweler",
        region="Puno",
    ),
)


def is_loaded(session: Session) -> bool:
    """Return True when organizations beyond the standard body exist."""
    count = session.execute(select(func.count()).select_from(Organization)).scalar_one()
    return count > 1


def load(session: Session, ctx: Context) -> list[str]:
    """Register the demo organizations, rotate one key, cut a checkpoint; return lines to print."""
    standard_body = organizations.bootstrap(session, ctx)
    for profile in ORGANIZATIONS:
        organizations.register_org(session, ctx, actor=standard_body.id, profile=profile)
    organizations.rotate_key(session, ctx, org_id="cecomip")
    checkpoint = transparency.cut_checkpoint(session, ctx)
    return [
        f"demo loaded: {len(ORGANIZATIONS)} organizations, {checkpoint.size} events",
        "latest checkpoint:",
        checkpoint.note.rstrip("\n"),
    ]
