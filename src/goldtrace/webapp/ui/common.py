"""What every page module shares: who may see a page, and how a refusal is shown on a form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from flask import Response, abort, flash, jsonify

from goldtrace.domain.actors import Actor
from goldtrace.errors import GoldtraceError, NotFound
from goldtrace.webapp.messages import plain
from goldtrace.webapp.request_state import db
from goldtrace.webapp.security import ui_actor

MEMBER_KINDS = ("mine", "trader", "refiner", "jeweler")


def actor_of_kind(*kinds: str) -> Actor:
    """The logged-in actor if their organization is of one of ``kinds`` (or "auditor"/"standard_body"
    roles); 403 otherwise."""
    actor = ui_actor()
    if actor.org_kind not in kinds and actor.role not in kinds:
        abort(403)
    return actor


def refused(exc: GoldtraceError) -> int:
    """Roll back, flash the refusal in plain words, and return the status to answer the form with."""
    db().rollback()
    flash(plain(exc), "error")
    return 422 if exc.code not in ("forbidden", "not_holder", "not_recipient") else 403


class _JobStatus(Protocol):
    def as_json(self) -> dict[str, Any]: ...


def job_status_json(job_id: str, lookup: Callable[[], _JobStatus]) -> tuple[Response, int]:
    """A background job's progress as JSON for web/static/verify.js, never cached; 404 when this
    process knows no such job (``lookup`` raised NotFound)."""
    try:
        status = lookup()
    except NotFound:
        return jsonify({"id": job_id, "state": "unknown"}), 404
    response = jsonify(status.as_json())
    response.headers["Cache-Control"] = "no-store"
    return response, 200
