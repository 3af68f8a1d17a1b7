"""The OpenAPI 3.1 document of the JSON API, generated from the marshmallow schemas (apispec)."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, jsonify

from goldtrace import __version__
from goldtrace.webapp import certificates_api, flags_api, risk_api, schemas

bp = Blueprint("openapi", __name__)

_JSON = "application/json"


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {_JSON: {"schema": schema}}}


def _ok(schema: str, status: str = "200", description: str = "done") -> dict[str, Any]:
    return {
        status: {"description": description, "content": {_JSON: {"schema": schema}}},
        "default": {"description": "error", "content": {_JSON: {"schema": "ErrorOut"}}},
    }


def _param(name: str, where: str = "path", kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "schema": {"type": kind}}


# (path, method, summary, request schema, response schema, status, parameters)
_OPERATIONS: list[tuple[str, str, str, str | None, str, str, list[dict[str, Any]]]] = [
    (
        "/api/v1/flags",
        "get",
        "Flags for auditors and the standard body",
        None,
        "FlagsOut",
        "200",
        [
            _param("status", "query"),
            _param("severity", "query"),
            _param("org", "query"),
            _param("since", "query"),
            _param("limit", "query", "integer"),
        ],
    ),
    (
        "/api/v1/flags/{flag_id}/review",
        "post",
        "An auditor or the standard body reviews a flag (a ledger event)",
        "FlagReview",
        "FlagOut",
        "200",
        [_param("flag_id", kind="integer")],
    ),
    ("/api/v1/lots", "post", "A mine registers a lot", "LotCreate", "WriteOut", "201", []),
    (
        "/api/v1/lots",
        "get",
        "Lots the caller holds or is sent",
        None,
        "LotOut",
        "200",
        [_param("holder", "query"), _param("status", "query"), _param("form", "query")],
    ),
    ("/api/v1/lots/{lot_id}", "get", "One lot", None, "LotOut", "200", [_param("lot_id")]),
    (
        "/api/v1/lots/{lot_id}/dispatch",
        "post",
        "The holder dispatches a lot",
        "Dispatch",
        "WriteOut",
        "200",
        [_param("lot_id")],
    ),
    (
        "/api/v1/lots/{lot_id}/receive",
        "post",
        "The named recipient receives a lot",
        "Receive",
        "WriteOut",
        "200",
        [_param("lot_id")],
    ),
    (
        "/api/v1/lots/{lot_id}/assay",
        "post",
        "The holder records an assay",
        "Assay",
        "WriteOut",
        "200",
        [_param("lot_id")],
    ),
    (
        "/api/v1/transformations",
        "post",
        "The holder of all inputs transforms them",
        "Transformation",
        "WriteOut",
        "201",
        [],
    ),
    (
        "/api/v1/events/{seq}/void",
        "post",
        "Void an event nothing builds on yet",
        "Void",
        "WriteOut",
        "200",
        [_param("seq", kind="integer")],
    ),
    (
        "/api/v1/lots/{lot_id}/provenance",
        "get",
        "Origins and the verified ancestry graph",
        None,
        "WriteOut",
        "200",
        [_param("lot_id")],
    ),
]

_OPERATIONS += [
    (
        "/api/v1/premiums/obligations",
        "get",
        "Premium obligations the caller is party to, with ageing",
        None,
        "ObligationOut",
        "200",
        [_param("committee", "query"), _param("buyer", "query")],
    ),
    (
        "/api/v1/premiums/payments",
        "post",
        "A buyer pays premium",
        "PaymentIn",
        "WriteOut",
        "201",
        [],
    ),
    (
        "/api/v1/premiums/payments/{seq}/void",
        "post",
        "Void a payment recorded by mistake",
        "Void",
        "WriteOut",
        "200",
        [_param("seq", kind="integer")],
    ),
    (
        "/api/v1/premiums/committees/{org_id}/investments",
        "post",
        "The committee records an investment of the premium",
        "InvestmentIn",
        "WriteOut",
        "201",
        [_param("org_id")],
    ),
]

_OPERATIONS += [
    (
        "/api/v1/certificates",
        "post",
        "The holder of a piece or bar issues a Verifiable Credential for it",
        "IssueRequest",
        "WriteOut",
        "201",
        [],
    ),
    (
        "/api/v1/certificates/{cert_id}/revoke",
        "post",
        "The issuer or the standard body revokes a certificate",
        "RevokeRequest",
        "WriteOut",
        "200",
        [_param("cert_id")],
    ),
]

_OPERATIONS += [
    (
        "/api/v1/risk/mines",
        "get",
        "Risk signals per mine and month, with the reason of each (auditors and the standard body)",
        None,
        "RiskOut",
        "200",
        [_param("months", "query", "integer"), _param("region", "query")],
    ),
]

_PUBLIC: list[tuple[str, str, list[dict[str, Any]]]] = [
    (
        "/api/v1/certificates/{cert_id}",
        "A certificate's public verification result and status: valid, revoked, lot_consumed"
        " or lot_voided (no prices)",
        [_param("cert_id")],
    ),
    (
        "/api/v1/certificates/{cert_id}/bundle",
        "The offline proof bundle: credential, events, proofs, checkpoint, keys",
        [_param("cert_id")],
    ),
    (
        "/api/v1/premiums/committees/{org_id}",
        "A committee's balances, ageing and statement (?from=&to=)",
        [_param("org_id"), _param("from", "query"), _param("to", "query")],
    ),
    (
        "/api/v1/premiums/flows",
        "Premium flows: buyers to committees to investment categories (?year=)",
        [_param("year", "query", "integer")],
    ),
    ("/api/v1/log/key", "The log's verifier key (text/plain)", []),
    ("/api/v1/log/checkpoint", "The latest signed checkpoint (text/plain)", []),
    (
        "/api/v1/log/entries",
        "Raw leaves start <= seq < end, base64 (at most 1000)",
        [_param("start", "query", "integer"), _param("end", "query", "integer")],
    ),
    (
        "/api/v1/log/proof/inclusion",
        "RFC 9162 audit path of an entry",
        [_param("seq", "query", "integer"), _param("size", "query", "integer")],
    ),
    (
        "/api/v1/log/proof/consistency",
        "RFC 9162 consistency proof between two tree sizes",
        [_param("first", "query", "integer"), _param("second", "query", "integer")],
    ),
    (
        "/api/v1/events/{seq}",
        "An event body as stored, with hash, signature and leaf",
        [_param("seq", kind="integer")],
    ),
    (
        "/api/v1/events",
        "Events start <= seq < end (at most 1000), each as /api/v1/events/{seq} serves it",
        [_param("start", "query", "integer"), _param("end", "query", "integer")],
    ),
]


def build_spec() -> dict[str, Any]:
    """Return the OpenAPI document as a dict."""
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="goldtrace",
        version=__version__,
        openapi_version="3.1.0",
        plugins=[plugin],
        info={
            "description": "Chain of custody for Fairmined gold: every step a signed ledger event."
        },
    )
    for field_class in (schemas.Mass, schemas.Fineness, schemas.Price, schemas.Money):
        plugin.map_to_openapi_type(field_class, "string", None)
    plugin.map_to_openapi_type(schemas.Day, "string", "date")
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for name, schema in (
        ("IssueRequest", certificates_api.IssueRequest),
        ("RevokeRequest", certificates_api.RevokeRequest),
        ("FlagReview", flags_api.ReviewRequest),
        ("RiskSignalOut", risk_api.SignalOut),
        ("RiskMonthOut", risk_api.RiskMonthOut),
        ("RiskMineOut", risk_api.RiskMineOut),
        ("RiskGroupOut", risk_api.RiskGroupOut),
        ("RiskOut", risk_api.RiskOut),
    ):
        spec.components.schema(name, schema=schema)
    for name in (
        "LotCreate",
        "Dispatch",
        "Receive",
        "Assay",
        "Output",
        "Transformation",
        "Void",
        "Origin",
        "LotOut",
        "WriteOut",
        "ErrorOut",
        "PaymentIn",
        "InvestmentIn",
        "ObligationOut",
        "CommitteeOut",
        "FlagOut",
        "FlagsOut",
    ):
        spec.components.schema(name, schema=getattr(schemas, name))
    paths: dict[str, dict[str, Any]] = {}
    for path, method, summary, request, response, status, params in _OPERATIONS:
        operation: dict[str, Any] = {
            "summary": summary,
            "parameters": params,
            "responses": _ok(response, status),
            "security": [{"bearer": []}],
        }
        if request is not None:
            operation["requestBody"] = _body(request)
        paths.setdefault(path, {})[method] = operation
    for path, summary, params in _PUBLIC:
        paths.setdefault(path, {})["get"] = {
            "summary": summary,
            "parameters": params,
            "responses": {"200": {"description": "public, no login"}},
        }
    paths["/api/v1/log/cosignatures"] = {
        "post": {
            "summary": "A registered witness posts its cosignature of a signed checkpoint",
            "requestBody": {
                "required": True,
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            "responses": {
                "200": {"description": "stored; the cosignature is the authentication"},
                "400": {"description": "malformed cosigned note"},
                "403": {"description": "unknown witness or bad cosignature"},
                "404": {"description": "the log signed no checkpoint with this text"},
            },
        }
    }
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@bp.get("/api/openapi.json")
def document() -> Response:
    """The OpenAPI document."""
    return jsonify(build_spec())
