"""The people's pages: one blueprint, a module per area (accounts, dashboards, lots, oversight)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

bp = Blueprint("ui", __name__)


@dataclass(frozen=True)
class NavItem:
    url: str
    label: str


# (endpoint, label, who sees it): "member" = mines, traders, refiners and jewelers.
_NAV: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("ui.lots", _l("Inventory"), ("member",)),
    ("ui.lot_register", _l("Register a lot"), ("mine",)),
    ("ui.transform", _l("Transform"), ("trader", "refiner", "jeweler")),
    ("ui.premiums_owed", _l("What I owe"), ("trader", "refiner", "jeweler")),
    ("ui.premium_committee", _l("Premium committee"), ("mine",)),
    ("certificate_check.check", _l("Check a certificate"), ("trader", "refiner", "jeweler")),
    ("ui.organizations", _l("Organizations"), ("auditor", "standard_body")),
    ("ui.ledger", _l("Ledger"), ("auditor", "standard_body")),
    ("ui.flags", _l("Flags"), ("auditor", "standard_body")),
    ("ui.risk_signals", _l("Risk signals"), ("auditor", "standard_body")),
    ("ui.reports", _l("Reports"), ("auditor", "standard_body", "member")),
    ("ui.admin", _l("Administration"), ("standard_body",)),
)


@bp.app_context_processor
def _navigation() -> dict[str, Any]:
    def nav_items() -> list[NavItem]:
        if not current_user.is_authenticated:
            return []
        kind = current_user.actor.org_kind
        groups = {kind, "member"} if kind in ("mine", "trader", "refiner", "jeweler") else {kind}
        return [
            NavItem(url_for(endpoint), str(label))
            for endpoint, label, who in _NAV
            if groups & set(who) and endpoint in current_app.view_functions
        ]

    return {"nav_items": nav_items}


# Importing the modules attaches their routes to ``bp``.
from goldtrace.webapp.ui import (  # noqa: E402, F401
    accounts,
    admin,
    dashboard,
    lots,
    oversight,
    premiums,
    reports,
    risk,
    transform,
)
