"""Small deterministic builders for tests (no mocks: real services on the real database)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from goldtrace.domain.organizations import OrgProfile
from goldtrace.services import organizations
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
