"""The JSON API for lot operations (``/api/v1``), bearer-token authenticated.

Views parse, call one service and commit: the transaction belongs to them, never to the services.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request
from marshmallow import Schema

from goldtrace.db.models import Lot
from goldtrace.domain import quantities as q
from goldtrace.domain.flags import Flag
from goldtrace.domain.lots import OutputSpec
from goldtrace.errors import InvalidInput
from goldtrace.ledger.canonical import parse_strict
from goldtrace.services import lots
from goldtrace.services.lots import Written
from goldtrace.services.provenance import provenance
from goldtrace.webapp import schemas
from goldtrace.webapp.auth import current_actor
from goldtrace.webapp.request_state import ctx, db

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def body(schema: Schema) -> dict[str, Any]:
    """The request's JSON body, strictly parsed and validated against ``schema``."""
    raw = request.get_data(cache=False)
    if not raw:
        raise InvalidInput("the request needs a JSON body", code="invalid_json")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the body is not UTF-8", code="invalid_json") from None
    return schemas.load(schema, parse_strict(text))


def lot_json(lot: Lot) -> dict[str, Any]:
    """The public JSON of a lot (never prices). Shares are of the lot's fine gold: what no mine
    registered is stated as ``unattributed_g`` and never rescaled into a mine's share."""
    origins: dict[str, int] = json.loads(lot.origins)
    fine = q.fine_mg(lot.mass_mg, lot.fineness)
    unattributed = fine - sum(origins.values())
    return {
        "id": lot.id,
        "form": lot.form,
        "mass_g": q.format_mass(lot.mass_mg),
        "fineness": q.format_fineness(lot.fineness),
        "fine_g": q.format_mass(q.fine_mg(lot.mass_mg, lot.fineness)),
        "category": lot.category,
        "holder": lot.holder_id,
        "status": lot.status,
        "in_transit_to": lot.in_transit_to,
        "mine": lot.mine_id,
        "produced_on": lot.produced_on.isoformat() if lot.produced_on else None,
        "reference": lot.reference,
        "origins": [
            {
                "mine": mine,
                "fine_g": q.format_mass(mg),
                "share": f"{mg / fine:.4f}" if fine else "0",
            }
            for mine, mg in sorted(origins.items(), key=lambda item: -item[1])
        ],
        "unattributed_g": q.format_mass(unattributed),
        "unattributed_share": f"{unattributed / fine:.4f}" if fine else "0",
        "head": lot.head.hex(),
        "created_seq": lot.created_seq,
        "updated_seq": lot.updated_seq,
    }


def flag_json(flag: Flag) -> dict[str, Any]:
    """A flag a write raised, as its answer states it."""
    return {
        "kind": flag.kind,
        "severity": flag.severity,
        "lot": flag.lot,
        "detail": flag.detail,
        "figures": dict(flag.figures),
    }


def _written(written: Written, status: int = 200) -> tuple[Response, int]:
    db().commit()
    payload: dict[str, Any] = {
        "seq": written.seq,
        "hash": written.hash.hex(),
        "flags": [flag_json(f) for f in written.flags],
    }
    if len(written.lots) == 1:
        payload = {**lot_json(written.lots[0]), **payload}
    payload["lots"] = [lot_json(lot) for lot in written.lots]
    return jsonify(payload), status


@bp.post("/lots")
def register() -> tuple[Response, int]:
    """A mine registers a production lot."""
    actor = current_actor()
    data = body(schemas.LotCreate())
    written = lots.register_lot(
        db(),
        ctx(),
        actor=actor.org_id,
        form=data["form"],
        mass_mg=data["mass_g"],
        fineness=data["fineness"],
        category=data["category"],
        produced_on=data["produced_on"],
        reference=data.get("reference"),
        picker=data.get("picker"),
    )
    return _written(written, 201)


@bp.get("/lots/<lot_id>")
def show(lot_id: str) -> Response:
    """One lot, if the caller may see it; the sale terms only to seller, buyer and overseers."""
    actor = current_actor()
    session = db()
    lot = lots.visible_lot(session, actor, lot_id)
    payload = lot_json(lot)
    terms = lots.sale_terms_for(session, actor, lot_id)
    if terms is not None:
        payload["sale"] = {
            "seller": terms.seller_id,
            "buyer": terms.buyer_id,
            "price_usd_per_g": q.format_price(terms.price_microusd_per_g),
            "reference_price_usd_per_g": q.format_price(terms.reference_microusd_per_g),
        }
    return jsonify(payload)


@bp.get("/lots")
def index() -> Response:
    """Lots the caller's organization holds or is sent (everything for auditors)."""
    actor = current_actor()
    found = lots.list_lots(
        db(),
        actor,
        holder=request.args.get("holder") or None,
        status=request.args.get("status") or None,
        form=request.args.get("form") or None,
    )
    return jsonify({"lots": [lot_json(lot) for lot in found]})


@bp.post("/lots/<lot_id>/dispatch")
def dispatch(lot_id: str) -> tuple[Response, int]:
    """The holder sends a lot; a mine's first sale states price and reference price."""
    actor = current_actor()
    data = body(schemas.Dispatch())
    written = lots.dispatch_lot(
        db(),
        ctx(),
        actor=actor.org_id,
        lot_id=lot_id,
        to=data["to"],
        price=data.get("price_usd_per_g"),
        reference_price=data.get("reference_price_usd_per_g"),
    )
    return _written(written)


@bp.post("/lots/<lot_id>/receive")
def receive(lot_id: str) -> tuple[Response, int]:
    """The named recipient receives a lot with its weighed mass."""
    actor = current_actor()
    data = body(schemas.Receive())
    written = lots.receive_lot(
        db(),
        ctx(),
        actor=actor.org_id,
        lot_id=lot_id,
        mass_mg=data["mass_g"],
        fineness=data.get("fineness"),
    )
    return _written(written)


@bp.post("/lots/<lot_id>/assay")
def assay(lot_id: str) -> tuple[Response, int]:
    """The holder records an assay."""
    actor = current_actor()
    data = body(schemas.Assay())
    written = lots.assay_lot(
        db(),
        ctx(),
        actor=actor.org_id,
        lot_id=lot_id,
        fineness=data["fineness"],
        lab=data.get("lab"),
    )
    return _written(written)


@bp.post("/transformations")
def transformation() -> tuple[Response, int]:
    """The holder of all inputs transforms them into new lots."""
    actor = current_actor()
    data = body(schemas.Transformation())
    outputs = [
        OutputSpec(
            id="",
            form=o["form"],
            mass_mg=o["mass_g"],
            fineness=o["fineness"],
            category=o.get("category"),
            reference=o.get("reference"),
        )
        for o in data["outputs"]
    ]
    written = lots.transform(
        db(),
        ctx(),
        actor=actor.org_id,
        kind=data["kind"],
        inputs=data["inputs"],
        outputs=outputs,
        alloy_mass_mg=data.get("alloy_mass_g", 0),
    )
    db().commit()
    return (
        jsonify(
            {
                "seq": written.seq,
                "hash": written.hash.hex(),
                "lots": [lot_json(lot) for lot in written.lots],
                "flags": [flag_json(f) for f in written.flags],
            }
        ),
        201,
    )


@bp.post("/events/<int:seq>/void")
def void(seq: int) -> tuple[Response, int]:
    """The author of an event, or the standard body, voids it while nothing builds on it."""
    actor = current_actor()
    data = body(schemas.Void())
    written = lots.void_event(db(), ctx(), actor=actor.org_id, seq=seq, reason=data["reason"])
    return _written(written)


@bp.get("/lots/<lot_id>/provenance")
def lot_provenance(lot_id: str) -> Response:
    """Origins, the ancestry graph with hashes, and whether every link verifies."""
    actor = current_actor()
    lots.visible_lot(db(), actor, lot_id)
    return jsonify(provenance(db(), lot_id))
