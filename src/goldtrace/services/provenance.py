"""Where a lot's gold came from: its origins and its whole ancestry as a graph of verified events."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from goldtrace.db.models import Event, Lot, LotEvent, Obligation, Organization, OrgKey, Voided
from goldtrace.domain.quantities import format_fineness, format_mass
from goldtrace.ledger.keys import verify_event_signature
from goldtrace.services.lots import get_lot


@dataclass
class Ancestry:
    """Every lot and event a lot descends from, with what checking them found."""

    lots: dict[str, Lot] = field(default_factory=dict)
    events: dict[int, Event] = field(default_factory=dict)
    roles: dict[int, dict[str, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def ancestry(session: Session, lot_id: str) -> Ancestry:
    """Collect the lot, every lot its gold came through, and every event that touched them.

    Walks back through transformations breadth-first, one query per kind of row per generation.
    """
    result = Ancestry()
    result.lots[lot_id] = get_lot(session, lot_id)
    frontier = [lot_id]
    while frontier:
        links = (
            session.execute(select(LotEvent).where(LotEvent.lot_id.in_(frontier))).scalars().all()
        )
        new_seqs = {link.seq for link in links} - result.events.keys()
        for link in links:
            result.roles.setdefault(link.seq, {})[link.lot_id] = link.role
        created_by = [link.seq for link in links if link.role == "output"]
        if new_seqs:
            found = session.execute(select(Event).where(Event.seq.in_(new_seqs))).scalars()
            result.events.update({ev.seq: ev for ev in found})
        inputs = (
            session.execute(
                select(LotEvent).where(LotEvent.seq.in_(created_by), LotEvent.role == "input")
            )
            .scalars()
            .all()
            if created_by
            else []
        )
        frontier = sorted({i.lot_id for i in inputs} - result.lots.keys())
        if frontier:
            parents = session.execute(select(Lot).where(Lot.id.in_(frontier))).scalars()
            result.lots.update({lot.id: lot for lot in parents})
    _check(session, result)
    return result


@lru_cache(maxsize=65_536)
def _signature_ok(public_key: bytes, event_hash: bytes, sig: bytes) -> bool:
    # The answer depends only on these three values, so it can be remembered; the body-hash and
    # prev checks, which read the stored bytes, still run on every request.
    return verify_event_signature(public_key, event_hash, sig)


def _check(session: Session, result: Ancestry) -> None:
    kids = {ev.kid for ev in result.events.values()}
    keys = {
        k.kid: k.public_key
        for k in session.execute(select(OrgKey).where(OrgKey.kid.in_(kids))).scalars()
    }
    by_hash = {ev.hash.hex(): ev.seq for ev in result.events.values()}
    for seq, ev in sorted(result.events.items()):
        if hashlib.sha256(ev.body).digest() != ev.hash:
            result.problems.append(f"event {seq}: body does not match its hash")
        public = keys.get(ev.kid)
        if public is None or not _signature_ok(public, ev.hash, ev.sig):
            result.problems.append(f"event {seq}: signature does not verify")
        for link in json.loads(ev.body).get("prev", []):
            if link not in by_hash:
                result.problems.append(f"event {seq}: prev {link[:12]}… is not in the ancestry")
            elif by_hash[link] >= seq:
                result.problems.append(f"event {seq}: prev points forward")


def provenance(session: Session, lot_id: str) -> dict[str, Any]:
    """The provenance document of a lot: origins with shares, the event graph, and whether it verifies."""
    found = ancestry(session, lot_id)
    lot = found.lots[lot_id]
    origins: dict[str, int] = json.loads(lot.origins)
    total = sum(origins.values())
    orgs = {
        o.id: o
        for o in session.execute(
            select(Organization).where(Organization.id.in_(list(origins)))
        ).scalars()
    }
    voided = set(
        session.execute(select(Voided.seq).where(Voided.seq.in_(list(found.events)))).scalars()
    )
    by_hash = {ev.hash.hex(): ev.seq for ev in found.events.values()}
    events: list[dict[str, Any]] = []
    edges: list[dict[str, int]] = []
    for seq, ev in sorted(found.events.items()):
        body = json.loads(ev.body)
        events.append(
            {
                "seq": seq,
                "type": ev.type,
                "actor": ev.actor,
                "occurred_at": ev.occurred_at,
                "hash": ev.hash.hex(),
                "prev": body.get("prev", []),
                "lots": found.roles.get(seq, {}),
                "voided": seq in voided,
                "summary": _summary(body),
            }
        )
        edges.extend({"from": by_hash[p], "to": seq} for p in body.get("prev", []) if p in by_hash)
    return {
        "lot": lot_id,
        "origins": [
            {
                "mine": mine,
                "name": orgs[mine].name if mine in orgs else mine,
                "region": orgs[mine].region if mine in orgs else None,
                "fine_g": format_mass(mg),
                "share": str((Decimal(mg) / total).quantize(Decimal("0.0001"), ROUND_HALF_UP)),
            }
            for mine, mg in sorted(origins.items(), key=lambda item: -item[1])
        ],
        "lots": [
            {
                "id": row.id,
                "form": row.form,
                "mass_g": format_mass(row.mass_mg),
                "category": row.category,
                "reference": row.reference,
                "holder": row.holder_id,
                "status": row.status,
            }
            for row in sorted(found.lots.values(), key=lambda r: r.created_seq)
        ],
        "events": events,
        "edges": edges,
        "verified": not found.problems,
        "problems": found.problems,
    }


def _summary(body: dict[str, Any]) -> dict[str, Any]:
    """The public, price-free facts of an event for display (masses in grams)."""
    kind = body.get("type")
    if kind == "lot.register":
        lot = body.get("lot", {})
        return {
            "lot": lot.get("id"),
            "mass_g": format_mass(int(lot.get("mass_mg", 0))),
            "produced_on": lot.get("produced_on"),
        }
    if kind == "lot.dispatch":
        return {"lot": body.get("lot"), "to": body.get("to")}
    if kind == "lot.receive":
        return {"lot": body.get("lot"), "mass_g": format_mass(int(body.get("mass_mg", 0)))}
    if kind == "lot.assay":
        return {"lot": body.get("lot"), "fineness": format_fineness(int(body.get("fineness", 0)))}
    if kind == "lot.transform":
        return {
            "kind": body.get("kind"),
            "inputs": body.get("inputs"),
            "outputs": [o.get("id") for o in body.get("outputs", [])],
            "loss_g": format_mass(int(body.get("loss_mg", 0))),
        }
    if kind == "event.void":
        return {"target": body.get("target"), "reason": body.get("reason")}
    return {}


def premium_carried(session: Session, lot_id: str) -> dict[str, int]:
    """The premium (cents) a lot's gold carried to each committee, in proportion to its fine origins.

    For each origin mine: the premium of that mine's first sales in the lot's ancestry per milligram
    sold, times the milligrams of that mine's gold in the lot (rounded down).
    """
    found = ancestry(session, lot_id)
    origins: dict[str, int] = json.loads(found.lots[lot_id].origins)
    sales = session.execute(
        select(Obligation).where(
            Obligation.lot_id.in_(list(found.lots)), Obligation.voided.is_(False)
        )
    ).scalars()
    cents: dict[str, int] = {}
    fine: dict[str, int] = {}
    for ob in sales:
        cents[ob.committee_id] = cents.get(ob.committee_id, 0) + ob.amount_cents
        fine[ob.committee_id] = fine.get(ob.committee_id, 0) + ob.fine_mg
    return {mine: cents[mine] * mg // fine[mine] for mine, mg in origins.items() if fine.get(mine)}
