"""Public transparency endpoints: anyone can fetch the log key, checkpoints, leaves and proofs."""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, Response, jsonify, request

from goldtrace.db.models import Event
from goldtrace.errors import InvalidInput, NotFound
from goldtrace.ledger import note
from goldtrace.services import event_feed, witnesses
from goldtrace.services import transparency as log
from goldtrace.webapp.request_state import ctx, db

bp = Blueprint("transparency", __name__, url_prefix="/api/v1")


def _int_arg(name: str, default: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None:
        if default is None:
            raise InvalidInput(f"query parameter {name} is required", fields={name: "missing"})
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise InvalidInput(
            f"{name} must be a non-negative integer", fields={name: "not an integer"}
        )
    return int(raw)


def _text(body: str) -> Response:
    return Response(body, mimetype="text/plain", content_type="text/plain; charset=utf-8")


@bp.get("/log/key")
def log_key() -> Response:
    """The log's verifier key, ``<origin>+<key id hex>+<base64(0x01 || key)>``."""
    return _text(log.log_verifier(db(), ctx()).vkey() + "\n")


@bp.get("/log/checkpoint")
def checkpoint() -> Response:
    """The latest signed checkpoint, exactly as signed."""
    latest = log.latest_checkpoint(db())
    if latest is None:
        raise NotFound("no checkpoint has been signed yet", code="no_checkpoint")
    # Witnesses' cosignatures travel with the log's own signature, as C2SP notes allow.
    lines = witnesses.cosignatures_for(db(), latest.size)
    return _text(note.add_signature_lines(latest.note, lines))


@bp.get("/log/entries")
def entries() -> Response:
    """Raw leaves ``start <= seq < end`` (at most 1000), base64."""
    start = _int_arg("start")
    end = _int_arg("end", start + log.MAX_ENTRIES_PER_PAGE)
    rows = log.entries(db(), start, end)
    return jsonify(
        {"entries": [{"seq": seq, "leaf": base64.b64encode(leaf).decode()} for seq, leaf in rows]}
    )


@bp.get("/log/proof/inclusion")
def inclusion() -> Response:
    """RFC 9162 audit path of entry ``seq`` in the tree of ``size`` entries (default: current size)."""
    session = db()
    seq = _int_arg("seq")
    size = _int_arg("size", log.head(session).size)
    hashes = log.inclusion_proof(session, seq, size)
    return jsonify({"seq": seq, "size": size, "hashes": [h.hex() for h in hashes]})


@bp.get("/log/proof/consistency")
def consistency() -> Response:
    """RFC 9162 consistency proof between tree sizes ``first`` and ``second`` (default: current)."""
    session = db()
    first = _int_arg("first")
    second = _int_arg("second", log.head(session).size)
    hashes = log.consistency_proof(session, first, second)
    return jsonify({"first": first, "second": second, "hashes": [h.hex() for h in hashes]})


def _event_json(row: Event) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "hash": row.hash.hex(),
        "body": row.body.decode("utf-8"),
        "sig": base64.b64encode(row.sig).decode(),
        "kid": row.kid,
        "leaf": base64.b64encode(row.leaf).decode(),
    }


@bp.get("/events/<int:seq>")
def event(seq: int) -> Response:
    """An event body as stored, with its hash, signature and key id."""
    return jsonify(_event_json(log.event(db(), seq)))


@bp.get("/events")
def events() -> Response:
    """Events ``start <= seq < end`` (at most 1000), each as ``/events/<seq>`` serves it."""
    start = _int_arg("start")
    end = _int_arg("end", start + log.MAX_ENTRIES_PER_PAGE)
    return jsonify(
        {"events": [_event_json(row) for row in event_feed.event_range(db(), start, end)]}
    )
