"""Per-request access to the database session and the service context, opened lazily on ``g``."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from goldtrace.services.context import Context


def db() -> Session:
    """Return this request's session, opening it on first use (closed on teardown)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["goldtrace"]["sessions"]()
    session: Session = g.db_session
    return session


def ctx() -> Context:
    """Return the application's service context."""
    context: Context = current_app.extensions["goldtrace"]["ctx"]
    return context
