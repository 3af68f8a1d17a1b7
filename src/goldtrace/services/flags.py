"""Flags: listing them for auditors and the standard body, and their review as a ledger event."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from goldtrace.db.models import Event, Flag
from goldtrace.domain.actors import Actor
from goldtrace.domain.book import check_review
from goldtrace.domain.flags import SEVERITIES
from goldtrace.domain.instants import parse_instant
from goldtrace.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from goldtrace.services.context import Context
from goldtrace.services.log import Draft, append, lock_head

STATUSES = ("open", "reviewed", "all")


@dataclass(frozen=True)
class FlagQuery:
    """Filters of a flag listing; every field optional."""

    status: str = "open"
    severity: str | None = None
    org: str | None = None
    since: str | None = None  # an RFC 3339 instant: flags of events at or after it
    limit: int = 500

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise InvalidInput(
                f"status must be one of {', '.join(STATUSES)}", fields={"status": "unknown"}
            )
        if self.severity is not None and self.severity not in SEVERITIES:
            raise InvalidInput(
                f"severity must be one of {', '.join(SEVERITIES)}", fields={"severity": "unknown"}
            )
        if self.since is not None:
            parse_instant(self.since)
        if not 1 <= self.limit <= 5000:
            raise InvalidInput("limit must be 1 to 5000", fields={"limit": "out of range"})


def _require_overseer(actor: Actor) -> None:
    if not actor.sees_everything:
        raise PermissionDenied(
            "only auditors and the standard body see and review flags", code="forbidden"
        )


def list_flags(session: Session, actor: Actor, query: FlagQuery) -> list[tuple[Flag, str]]:
    """Flags matching ``query``, newest first, each with the instant of the event that raised it."""
    _require_overseer(actor)
    stmt = (
        select(Flag, Event.occurred_at)
        .join(Event, Event.seq == Flag.seq)
        .order_by(Flag.seq.desc(), Flag.id.desc())
        .limit(query.limit)
    )
    if query.status != "all":
        stmt = stmt.where(Flag.reviewed.is_(query.status == "reviewed"))
    if query.severity is not None:
        stmt = stmt.where(Flag.severity == query.severity)
    if query.org is not None:
        stmt = stmt.where(Flag.org_id == query.org)
    if query.since is not None:
        stmt = stmt.where(Event.occurred_at >= query.since)
    return [(flag, at) for flag, at in session.execute(stmt).all()]


def as_json(flag: Flag, occurred_at: str) -> dict[str, Any]:
    """A flag as the API states it."""
    data: dict[str, Any] = {
        "id": flag.id,
        "seq": flag.seq,
        "kind": flag.kind,
        "severity": flag.severity,
        "lot": flag.lot_id,
        "org": flag.org_id,
        "occurred_at": occurred_at,
        "detail": flag.detail,
        "figures": json.loads(flag.figures or "{}"),
        "status": "reviewed" if flag.reviewed else "open",
    }
    if flag.reviewed:
        data["review"] = {
            "seq": flag.review_seq,
            "reviewer": flag.reviewer,
            "outcome": flag.review_outcome,
            "note": flag.review_note,
        }
    return data


def review_flag(
    session: Session,
    ctx: Context,
    *,
    actor: Actor,
    flag_id: int,
    outcome: str,
    note: str,
) -> Flag:
    """An auditor or the standard body reviews a flag: a ``flag.review`` ledger event naming the
    reviewer (the user), the outcome (cleared or confirmed) and what was found."""
    _require_overseer(actor)
    lock_head(session)
    flag = session.get(Flag, flag_id, populate_existing=True)
    if flag is None:
        raise NotFound(f"there is no flag {flag_id}", code="unknown_flag")
    if flag.reviewed:
        raise Conflict(f"flag {flag_id} was already reviewed", code="already_reviewed")
    note = note.strip()
    check_review(outcome=outcome, reviewer=actor.email, note=note)
    rec = append(
        session,
        ctx,
        Draft(
            type="flag.review",
            actor=actor.org_id,
            fields={
                "flag_seq": flag.seq,
                "kind": flag.kind,
                "reviewer": actor.email,
                "outcome": outcome,
                "note": note,
            },
        ),
    )
    flag.reviewed = True
    flag.review_seq, flag.reviewer = rec.seq, actor.email
    flag.review_outcome, flag.review_note = outcome, note
    session.flush()
    return flag


def occurred_at(session: Session, flag: Flag) -> str:
    """The instant of the event that raised ``flag``."""
    event = session.get(Event, flag.seq)
    assert event is not None
    return event.occurred_at
