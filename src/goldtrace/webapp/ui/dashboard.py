"""The page each person lands on after logging in, by what their organization does."""

from __future__ import annotations

from flask import render_template

from goldtrace.services import dashboards
from goldtrace.webapp.request_state import db
from goldtrace.webapp.security import login_required, ui_actor
from goldtrace.webapp.ui import bp


@bp.get("/dashboard")
@login_required
def dashboard() -> str:
    """Lots on hand, in transit and sold; for a mine also the capacity used in the last 30 days."""
    actor = ui_actor()
    return render_template("dashboard.html", actor=actor, summary=dashboards.summary(db(), actor))
