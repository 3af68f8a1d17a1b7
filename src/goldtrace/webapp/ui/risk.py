"""The risk page for auditors and the standard body: each mine's months against its capacity (a small
chart), and the signals raised, each saying why in plain words."""

from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from goldtrace.domain import risk
from goldtrace.services import risk as risk_service
from goldtrace.webapp.request_state import db
from goldtrace.webapp.risk_api import figure_text, risk_query, signal_text
from goldtrace.webapp.risk_chart import Bar, month_name, render_chart
from goldtrace.webapp.security import login_required
from goldtrace.webapp.ui import bp
from goldtrace.webapp.ui.common import actor_of_kind
from goldtrace.webapp.ui.oversight import OVERSEERS

# The choices of the page's form (the API takes any number from 1 to risk.MAX_MONTHS).
MONTH_CHOICES = (3, 6, 12, 24, 36)


@bp.get("/risk")
@login_required
def risk_signals() -> str:
    """Every mine (of a region, if chosen) with its chart, figures by month and signals, then the
    groups of related organizations; ``?months=`` and ``?region=`` as in the API."""
    actor = actor_of_kind(*OVERSEERS)
    query = risk_query()
    session = db()
    found = risk_service.mine_risks(
        session, actor, months=query["months"], region=query.get("region")
    )
    return render_template(
        "oversight/risk.html",
        found=found,
        months=query["months"],
        region=query.get("region"),
        regions=risk_service.regions(session, actor),
        month_choices=sorted({*MONTH_CHOICES, query["months"]}),
        thresholds=risk,
        signal_text=signal_text,
        month_name=month_name,
        figure=figure_text,
        grams=risk.grams,
        days=risk.days_figure,
        mine_chart=_mine_chart,
        group_chart=_group_chart,
    )


def _mine_chart(mine: risk.MineRisk) -> Markup:
    bars = [Bar(m.month, m.fine_mg, m.capacity_mg, m.in_progress) for m in mine.months]
    return render_chart(bars, title=mine.name, ident=f"chart-{mine.mine}")


def _group_chart(group: risk.GroupRisk, index: int) -> Markup:
    bars = [Bar(m.month, m.fine_mg, m.capacity_mg, m.in_progress) for m in group.months]
    return render_chart(bars, title=group.name, ident=f"group-chart-{index}")
