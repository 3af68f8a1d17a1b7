"""The risk API (``GET /api/v1/risk/mines``) for auditors and the standard body, and the words of the
risk signals in the reader's language (shared with the risk page).

Quantities are decimal strings, as everywhere in the API; each signal carries its plain-words
message (Spanish by default) and the figures it is made of.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from babel.numbers import format_decimal
from flask import Blueprint, Response, jsonify, request
from flask_babel import get_locale
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from goldtrace.domain import risk
from goldtrace.services import risk as risk_service
from goldtrace.webapp import schemas
from goldtrace.webapp.auth import current_actor
from goldtrace.webapp.request_state import db
from goldtrace.webapp.risk_chart import month_name

bp = Blueprint("risk_api", __name__, url_prefix="/api/v1/risk")

MONTHS_MESSAGE = f"must be a whole number of months from 1 to {risk.MAX_MONTHS}"


class RiskQuery(Schema):
    """The query of a risk report: how many months up to this one, and optionally one region."""

    months = fields.Integer(
        load_default=risk.DEFAULT_MONTHS,
        validate=validate.Range(min=1, max=risk.MAX_MONTHS, error=MONTHS_MESSAGE),
        error_messages={"invalid": MONTHS_MESSAGE},
    )
    region = fields.String(validate=validate.Length(min=1, max=100))


def risk_query() -> dict[str, Any]:
    """The request's query string parsed by RiskQuery (empty values count as absent)."""
    args = {name: value for name, value in request.args.items() if value != ""}
    return schemas.load(RiskQuery(), args)


def figure_text(value: int | str | Decimal | risk.Month) -> str:
    """A figure of a signal in the reader's language: a month by name, numbers with its marks."""
    locale = str(get_locale())
    if isinstance(value, risk.Month):
        return month_name(value)
    if isinstance(value, Decimal):
        places = -int(value.as_tuple().exponent)
        pattern = "#,##0" + ("." + "0" * places if places > 0 else "")
        return str(format_decimal(value, format=pattern, locale=locale))
    if isinstance(value, int):
        return str(format_decimal(value, format="#,##0", locale=locale))
    return value


def signal_text(signal: risk.Signal) -> str:
    """Why the signal is raised, in plain words in the reader's language."""
    figures = {name: figure_text(value) for name, value in signal.figures.items()}
    return str(_(signal.text, **figures))


def _plain(value: int | str | Decimal | risk.Month) -> int | str:
    return value if isinstance(value, int | str) else str(value)


def _grams(mg: int | Fraction | None) -> str | None:
    return None if mg is None else str(risk.grams(mg))


def _days(value: Fraction | None) -> str | None:
    return None if value is None else str(risk.days_figure(value))


def signal_json(signal: risk.Signal) -> dict[str, Any]:
    """A signal as the API states it."""
    return {
        "kind": signal.kind,
        "message": signal_text(signal),
        "figures": {name: _plain(value) for name, value in signal.figures.items()},
    }


def month_json(m: risk.MonthFigures) -> dict[str, Any]:
    """One mine's month as the API states it."""
    return {
        "month": str(m.month),
        "in_progress": m.in_progress,
        "lots": m.lots,
        "fine_g": _grams(m.fine_mg),
        "capacity_g": _grams(m.capacity_mg),
        "share_pct": m.share_pct,
        "certified": m.certified,
        "g_per_miner_day": _grams(m.per_miner_day),
        "region_median_g_per_miner_day": _grams(m.peer_median),
        "region_peers": m.peers,
        "lag_days_median": _days(m.lag_median),
        "lag_days_max": m.lag_max,
    }


def mine_json(m: risk.MineRisk) -> dict[str, Any]:
    """A mine's risk figures and signals as the API states them."""
    return {
        "mine": m.mine,
        "name": m.name,
        "region": m.region,
        "certified": m.certified,
        "groups": list(m.groups),
        "signals": [signal_json(s) for s in m.signals],
        "current_streak": m.current_streak,
        "longest_streak": m.longest_streak,
        "lag_days": {"median": _days(m.lag_median), "max": m.lag_max},
        "pickers_at_ceiling": [
            {
                "person": p.person,
                "name": p.name,
                "first": str(p.first),
                "last": str(p.last),
                "months": p.months,
                "fine_g": _grams(p.fine_mg),
            }
            for p in m.pickers
        ],
        "months": [month_json(month) for month in m.months],
    }


def group_json(g: risk.GroupRisk) -> dict[str, Any]:
    """A group's combined figures and signals as the API states them."""
    return {
        "group": g.name,
        "members": list(g.members),
        "mines": list(g.mines),
        "signals": [signal_json(s) for s in g.signals],
        "current_streak": g.current_streak,
        "longest_streak": g.longest_streak,
        "months": [
            {
                "month": str(month.month),
                "fine_g": _grams(month.fine_mg),
                "capacity_g": _grams(month.capacity_mg),
                "share_pct": month.share_pct,
            }
            for month in g.months
        ],
    }


THRESHOLDS: dict[str, int | str] = {
    "high_use_pct": risk.HIGH_USE_PCT,
    "capacity_streak_months": risk.CAPACITY_STREAK_MONTHS,
    "peer_ratio": str(risk.PEER_RATIO),
    "min_peers": risk.MIN_PEERS,
    "late_median_days": risk.LATE_MEDIAN_DAYS,
    "picker_ceiling_pct": risk.PICKER_CEILING_PCT,
    "picker_streak_months": risk.PICKER_STREAK_MONTHS,
    "group_streak_months": risk.GROUP_STREAK_MONTHS,
}


@bp.get("/mines")
def mines() -> Response:
    """Every mine's figures by month and the signals raised, for auditors and the standard body."""
    actor = current_actor()
    query = risk_query()
    found = risk_service.mine_risks(db(), actor, months=query["months"], region=query.get("region"))
    return jsonify(
        {
            "months": [str(m) for m in found.months],
            "region": found.region,
            "thresholds": THRESHOLDS,
            "mines": [mine_json(m) for m in found.mines],
            "groups": [group_json(g) for g in found.groups],
        }
    )


class SignalOut(Schema):
    kind = fields.String()
    message = fields.String()
    figures = fields.Dict()


class RiskMonthOut(Schema):
    month = fields.String()
    in_progress = fields.Boolean()
    lots = fields.Integer()
    fine_g = fields.String()
    capacity_g = fields.String(allow_none=True)
    share_pct = fields.Integer(allow_none=True)
    certified = fields.Boolean()
    g_per_miner_day = fields.String(allow_none=True)
    region_median_g_per_miner_day = fields.String(allow_none=True)
    region_peers = fields.Integer()
    lag_days_median = fields.String(allow_none=True)
    lag_days_max = fields.Integer(allow_none=True)


class RiskMineOut(Schema):
    mine = fields.String()
    name = fields.String()
    region = fields.String(allow_none=True)
    certified = fields.Boolean()
    groups = fields.List(fields.String())
    signals = fields.List(fields.Nested(SignalOut))
    current_streak = fields.Integer()
    longest_streak = fields.Integer()
    lag_days = fields.Dict()
    pickers_at_ceiling = fields.List(fields.Dict())
    months = fields.List(fields.Nested(RiskMonthOut))


class RiskGroupOut(Schema):
    group = fields.String()
    members = fields.List(fields.String())
    mines = fields.List(fields.String())
    signals = fields.List(fields.Nested(SignalOut))
    current_streak = fields.Integer()
    longest_streak = fields.Integer()
    months = fields.List(fields.Dict())


class RiskOut(Schema):
    months = fields.List(fields.String())
    region = fields.String(allow_none=True)
    thresholds = fields.Dict()
    mines = fields.List(fields.Nested(RiskMineOut))
    groups = fields.List(fields.Nested(RiskGroupOut))
