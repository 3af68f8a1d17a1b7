"""The certificates API (``/api/v1/certificates``): issue and revoke (bearer token); read and download
the offline proof bundle (public, like the verification page)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify
from marshmallow import Schema, fields, validate

from goldtrace.services import certificates
from goldtrace.webapp.api import body
from goldtrace.webapp.auth import current_actor
from goldtrace.webapp.request_state import ctx, db
from goldtrace.webapp.verify_page import public_view

bp = Blueprint("certificates_api", __name__, url_prefix="/api/v1/certificates")


class IssueRequest(Schema):
    lot = fields.String(required=True, validate=validate.Length(min=1, max=32))
    description = fields.String(validate=validate.Length(max=500))


class RevokeRequest(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


@bp.post("")
def issue() -> tuple[Response, int]:
    """The holder of a finished piece (jeweler) or of a bar (refiner) issues a certificate."""
    actor = current_actor()
    data = body(IssueRequest())
    row = certificates.issue(
        db(), ctx(), actor=actor.org_id, lot_id=data["lot"], description=data.get("description")
    )
    db().commit()
    return jsonify(
        {
            "id": row.id,
            "credential": certificates.credential_of(row),
            "verify_url": certificates.verify_url(ctx(), row.id),
        }
    ), 201


@bp.post("/<cert_id>/revoke")
def revoke(cert_id: str) -> Response:
    """The issuer or the standard body revokes a certificate."""
    actor = current_actor()
    data = body(RevokeRequest())
    certificates.revoke(db(), ctx(), actor=actor.org_id, cert_id=cert_id, reason=data["reason"])
    db().commit()
    return jsonify(public_view(cert_id))


@bp.get("/<cert_id>")
def show(cert_id: str) -> Response:
    """What the public verification page shows, as JSON (no login); cached like the page."""
    return jsonify(public_view(cert_id))


@bp.get("/<cert_id>/bundle")
def bundle(cert_id: str) -> Response:
    """The offline proof bundle, as a JSON file to download (no login)."""
    doc = certificates.bundle(db(), ctx(), cert_id)
    db().commit()  # the bundle may have cut a checkpoint covering its newest event
    response = Response(json.dumps(doc, ensure_ascii=False, indent=1), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{cert_id}.bundle.json"'
    return response
