"""Witness cosignatures: ``POST /api/v1/log/cosignatures``.

Body (``text/plain``): a cosigned checkpoint in signed-note form, i.e. the checkpoint text exactly as
the log signed it (origin, size, base64 root), a blank line, then one or more C2SP tlog-cosignature
lines by the witness (the log's own line may be left out). The valid cosignature by a registered
witness key is the authentication: no session, token or CSRF token. 200 with
``{"size": n, "accepted": [witness names]}``; 400 for a malformed body, 403 for an unknown witness or a
bad signature, 404 if the log signed no checkpoint with this text.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from goldtrace.errors import InvalidInput, PayloadTooLarge
from goldtrace.services import witnesses
from goldtrace.webapp.request_state import db

bp = Blueprint("witness_api", __name__, url_prefix="/api/v1")


@bp.post("/log/cosignatures")
def cosignatures() -> Response:
    """Store a witness's cosignature of a signed checkpoint."""
    if (request.content_length or 0) > witnesses.MAX_SUBMISSION:
        raise PayloadTooLarge("the cosigned note is too large")
    raw = request.get_data(cache=False)
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the body is not UTF-8", code="malformed_note") from exc
    session = db()
    rows = witnesses.submit(session, body)
    session.commit()
    return jsonify({"size": rows[0].checkpoint_size, "accepted": [r.witness_name for r in rows]})
