"""Flags for auditors and the standard body (``/api/v1/flags``): list them, and review one (a ledger
event naming the reviewer)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from marshmallow import Schema, fields, validate

from goldtrace.domain.book import REVIEW_OUTCOMES
from goldtrace.errors import InvalidInput
from goldtrace.services import flags
from goldtrace.webapp.api import body
from goldtrace.webapp.auth import current_actor
from goldtrace.webapp.request_state import ctx, db

bp = Blueprint("flags_api", __name__, url_prefix="/api/v1/flags")


class ReviewRequest(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(REVIEW_OUTCOMES))
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))


@bp.get("")
def index() -> Response:
    """Flags, newest first: ``?status=open|reviewed|all&severity=&org=&since=&limit=``."""
    actor = current_actor()
    args = request.args
    limit = args.get("limit", "500")
    if not limit.isdigit():
        raise InvalidInput("limit must be a whole number", fields={"limit": "not a number"})
    query = flags.FlagQuery(
        status=args.get("status", "open"),
        severity=args.get("severity") or None,
        org=args.get("org") or None,
        since=args.get("since") or None,
        limit=int(limit),
    )
    found = flags.list_flags(db(), actor, query)
    return jsonify({"flags": [flags.as_json(flag, at) for flag, at in found]})


@bp.post("/<int:flag_id>/review")
def review(flag_id: int) -> Response:
    """An auditor or the standard body reviews a flag: cleared or confirmed, with a note."""
    actor = current_actor()
    data = body(ReviewRequest())
    session = db()
    flag = flags.review_flag(
        session, ctx(), actor=actor, flag_id=flag_id, outcome=data["outcome"], note=data["note"]
    )
    at = flags.occurred_at(session, flag)
    session.commit()
    return jsonify(flags.as_json(flag, at))
