"""The one place where goldtrace exceptions become HTTP responses: ``{"error": {code, message, fields}}``."""

from __future__ import annotations

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from goldtrace import errors

STATUS: dict[type[errors.GoldtraceError], int] = {
    errors.PayloadTooLarge: 413,
    errors.InvalidInput: 400,
    errors.Unauthenticated: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.RuleViolation: 422,
    errors.ProofError: 422,
    errors.IntegrityFault: 500,
    errors.ConfigurationError: 500,
}


def status_for(exc: errors.GoldtraceError) -> int:
    """Return the HTTP status of an exception: that of its nearest mapped class."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_response(status: int, code: str, message: str, fields: dict[str, str]) -> Response:
    """Return the JSON error body every API error uses."""
    response = jsonify({"error": {"code": code, "message": message, "fields": fields}})
    response.status_code = status
    return response


def register(app: Flask) -> None:
    """Install the handlers on ``app``."""

    @app.errorhandler(errors.GoldtraceError)
    def _goldtrace(exc: errors.GoldtraceError) -> Response:
        return error_response(status_for(exc), exc.code, exc.message, exc.fields)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name, {})
