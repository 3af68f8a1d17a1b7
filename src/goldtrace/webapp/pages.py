"""Server-rendered pages."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from goldtrace.db.models import Organization
from goldtrace.services import transparency
from goldtrace.webapp.request_state import db

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> str:
    """The public landing page: ledger size, latest checkpoint, links to the proofs."""
    session = db()
    count = session.execute(select(func.count()).select_from(Organization)).scalar_one()
    return render_template(
        "home.html",
        size=transparency.head(session).size,
        organizations=count,
        checkpoint=transparency.latest_checkpoint(session),
    )
