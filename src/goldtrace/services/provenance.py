"""Where a lot's gold came from: its origins and its whole ancestry as a graph of verified events."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Select, String, bindparam, select
from sqlalchemy.orm import Session, aliased

from goldtrace.db.models import Event, Lot, LotEvent, Obligation, Organization, OrgKey, Voided
from goldtrace.domain.quantities import fine_mg, format_fineness, format_mass
from goldtrace.ledger.keys import verify_event_signature
from goldtrace.ledger.verifier import StoredEvent
from goldtrace.services.lots import get_lot


class AncestorLot(NamedTuple):
    """The columns of a lot that provenance and certificates read."""

    id: str
    form: str
    mass_mg: int
    fineness: int
    category: str
    reference: str | None
    holder_id: str
    status: str
    created_seq: int
    origins: str


_LOTS = select(*(getattr(Lot, name) for name in AncestorLot._fields)).where(
    Lot.id.in_(bindparam("ids", expanding=True))
)
_EVENTS = select(*(getattr(Event, f.name) for f in fields(StoredEvent))).where(
    Event.seq.in_(bindparam("seqs", expanding=True))
)

_KEYS = select(OrgKey.kid, OrgKey.public_key).where(
    OrgKey.kid.in_(bindparam("kids", expanding=True))
)


@dataclass
class Ancestry:
    """Every lot and event a lot descends from, with what checking them found.

    Plain rows rather than ORM objects: a piece's ancestry holds hundreds of them, read on every
    public request, and nothing here changes them.
    """

    lots: dict[str, AncestorLot] = field(default_factory=dict)
    events: dict[int, StoredEvent] = field(default_factory=dict)
    bodies: dict[int, dict[str, Any]] = field(default_factory=dict)
    roles: dict[int, dict[str, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _ancestor_links() -> Select[int, str, str]:
    """The links of the lot ``:lot_id`` and, recursively, of every input of a transformation that
    output one of them: every (seq, lot, role) of the lot's ancestry. Built once; the statement
    cache then reuses its compiled form."""
    output, source = aliased(LotEvent), aliased(LotEvent)
    lots = select(bindparam("lot_id", type_=String).label("lot_id")).cte(
        "ancestor_lots", recursive=True
    )
    lots = lots.union(
        select(source.lot_id)
        .join(output, output.seq == source.seq)
        .join(lots, output.lot_id == lots.c.lot_id)
        .where(output.role == "output", source.role == "input")
    )
    return select(LotEvent.seq, LotEvent.lot_id, LotEvent.role).where(
        LotEvent.lot_id.in_(select(lots.c.lot_id))
    )


_ANCESTOR_LINKS = _ancestor_links()


def ancestry(session: Session, lot_id: str) -> Ancestry:
    """Collect the lot, every lot its gold came through, and every event that touched them.

    The whole walk back through transformations is one recursive query, however many generations
    the gold went through; the events, lots and keys are then one query each.
    """
    result = Ancestry()
    links = session.execute(_ANCESTOR_LINKS, {"lot_id": lot_id}).all()
    for seq, lot, role in links:
        result.roles.setdefault(seq, {})[lot] = role
    ids = sorted({lot for _, lot, _ in links} | {lot_id})
    rows = session.execute(_LOTS, {"ids": ids})
    result.lots = {row[0]: AncestorLot(*row) for row in rows}
    if lot_id not in result.lots:
        get_lot(session, lot_id)  # raises NotFound
    if result.roles:
        found = session.execute(_EVENTS, {"seqs": sorted(result.roles)})
        result.events = {row[0]: StoredEvent(*row) for row in found}
    result.bodies = {seq: json.loads(ev.body) for seq, ev in result.events.items()}
    _check(session, result)
    return result


@lru_cache(maxsize=65_536)
def _signature_ok(public_key: bytes, event_hash: bytes, sig: bytes) -> bool:
    # The answer depends only on these three values, so it can be remembered; the body-hash and
    # prev checks, which read the stored bytes, still run on every request.
    return verify_event_signature(public_key, event_hash, sig)


def _check(session: Session, result: Ancestry) -> None:
    kids = {ev.kid for ev in result.events.values()}
    keys: dict[str, bytes] = {
        kid: key for kid, key in session.execute(_KEYS, {"kids": sorted(kids)})
    }
    by_hash = {ev.hash.hex(): ev.seq for ev in result.events.values()}
    for seq, ev in sorted(result.events.items()):
        if hashlib.sha256(ev.body).digest() != ev.hash:
            result.problems.append(f"event {seq}: body does not match its hash")
        public = keys.get(ev.kid)
        if public is None or not _signature_ok(public, ev.hash, ev.sig):
            result.problems.append(f"event {seq}: signature does not verify")
        for link in result.bodies[seq].get("prev", []):
            if link not in by_hash:
                result.problems.append(f"event {seq}: prev {link[:12]}… is not in the ancestry")
            elif by_hash[link] >= seq:
                result.problems.append(f"event {seq}: prev points forward")


def provenance(session: Session, lot_id: str) -> dict[str, Any]:
    """The provenance document of a lot: origins with shares, the event graph, and whether it verifies."""
    found = ancestry(session, lot_id)
    lot = found.lots[lot_id]
    origins: dict[str, int] = json.loads(lot.origins)
    # Shares are of the lot's fine gold: gold no mine registered stays unattributed, never rescaled.
    total = fine_mg(lot.mass_mg, lot.fineness)
    unattributed = total - sum(origins.values())
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
        body = found.bodies[seq]
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
                "share": _share(mg, total),
            }
            for mine, mg in sorted(origins.items(), key=lambda item: -item[1])
        ],
        "unattributed_g": format_mass(unattributed),
        "unattributed_share": _share(unattributed, total),
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


def _share(mg: int, total: int) -> str:
    if total <= 0:
        return "0.0000"
    return str((Decimal(mg) / total).quantize(Decimal("0.0001"), ROUND_HALF_UP))


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
