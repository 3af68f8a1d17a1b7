"""The one place where goldtrace exceptions become HTTP responses: ``{"error": {code, message, fields}}``."""

from __future__ import annotations

from flask import (
    Flask,
    Response,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from goldtrace import errors
from goldtrace.webapp.messages import plain

HTML_BLUEPRINTS = ("ui", "pages", "i18n", "public", "verification", "certificate_check")

_HTTP_PLAIN = {
    400: _l("The request could not be understood."),
    403: _l("You may not see this page."),
    404: _l("This page does not exist."),
    405: _l("This action is not allowed here."),
    413: _l("What you sent is too large."),
    429: _l("Too many attempts. Try again later."),
    500: _l("Something went wrong on our side."),
}

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
    errors.DurabilityUnknown: 500,
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


def wants_json() -> bool:
    """API clients get JSON errors; people in a browser get a page in their language."""
    if request.path.startswith("/api/") or "Authorization" in request.headers:
        return True
    if request.blueprint is None:
        return request.accept_mimetypes.best == "application/json"
    return request.blueprint not in HTML_BLUEPRINTS


def error_page(status: int, message: str, detail: str | None = None) -> Response:
    """An HTML error page."""
    response = make_response(
        render_template("error.html", status=status, message=message, detail=detail), status
    )
    return response


def register(app: Flask) -> None:
    """Install the handlers on ``app``."""

    @app.errorhandler(errors.GoldtraceError)
    def _goldtrace(exc: errors.GoldtraceError) -> Response:
        status = status_for(exc)
        if wants_json():
            return error_response(status, exc.code, exc.message, exc.fields)
        if status == 401:
            return redirect(url_for("ui.login", next=request.full_path))  # type: ignore[return-value]
        return error_page(status, plain(exc), exc.message)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        # Our own code for an oversized body, the same whichever layer noticed it.
        code = (
            "payload_too_large"
            if exc.code == 413
            else (exc.name or "error").lower().replace(" ", "_")
        )
        if wants_json():
            return error_response(exc.code or 500, code, exc.description or exc.name, {})
        if exc.code == 401:
            return redirect(url_for("ui.login", next=request.full_path))  # type: ignore[return-value]
        return error_page(exc.code or 500, str(_HTTP_PLAIN.get(exc.code or 500, exc.name)))
