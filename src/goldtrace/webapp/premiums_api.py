"""The premium API (``/api/v1/premiums``): obligations, payments, committee balances and flows.

Committee balances and flows are public, like the transparency page; obligations and payments need a
token (buyers, the committee's mine, auditors and the standard body).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from goldtrace.db.models import Obligation
from goldtrace.domain.instants import parse_date
from goldtrace.domain.quantities import format_mass, format_money
from goldtrace.errors import InvalidInput
from goldtrace.services import premiums
from goldtrace.services.organizations import get_org
from goldtrace.webapp import schemas
from goldtrace.webapp.api import body
from goldtrace.webapp.auth import current_actor
from goldtrace.webapp.request_state import ctx, db

bp = Blueprint("premiums_api", __name__, url_prefix="/api/v1/premiums")


def obligation_json(ob: Obligation) -> dict[str, Any]:
    """The JSON of an obligation."""
    return {
        "id": ob.id,
        "committee": ob.committee_id,
        "buyer": ob.buyer_id,
        "lot": ob.lot_id,
        "category": ob.category,
        "fine_g": format_mass(ob.fine_mg),
        "rate_usd_per_kg": format_money(ob.cents_per_kg),
        "amount_usd": format_money(ob.amount_cents),
        "paid_usd": format_money(ob.paid_cents),
        "outstanding_usd": format_money(ob.amount_cents - ob.paid_cents),
        "sold_on": ob.sold_on.isoformat(),
    }


def _today() -> date:
    return datetime.now(UTC).date()


@bp.get("/obligations")
def obligations() -> Response:
    """Obligations the caller is party to (all of them for auditors and the standard body)."""
    actor = current_actor()
    rows = premiums.obligations_for(
        db(),
        actor,
        committee=request.args.get("committee") or None,
        buyer=request.args.get("buyer") or None,
    )
    return jsonify(
        {
            "obligations": [obligation_json(ob) for ob in rows],
            "ageing_usd": {k: format_money(v) for k, v in premiums.ageing(rows, _today()).items()},
        }
    )


@bp.post("/payments")
def pay() -> tuple[Response, int]:
    """A buyer pays premium to a committee."""
    actor = current_actor()
    data = body(schemas.PaymentIn())
    session = db()
    payment = premiums.pay(
        session,
        ctx(),
        actor=actor.org_id,
        committee=data["committee"],
        amount_cents=data["amount_usd"],
        paid_on=data["paid_on"],
        method=data.get("method"),
        reference=data.get("reference"),
        obligations=data.get("obligations"),
    )
    event = premiums.event_of(session, payment.seq)
    allocations = premiums.allocations_of(session, payment.seq)
    session.commit()
    return (
        jsonify(
            {
                "seq": payment.seq,
                "hash": event.hash.hex(),
                "committee": payment.committee_id,
                "buyer": payment.buyer_id,
                "amount_usd": format_money(payment.amount_cents),
                "paid_on": payment.paid_on.isoformat(),
                "allocations": [
                    {"obligation": oid, "amount_usd": format_money(cents)}
                    for oid, cents in allocations
                ],
            }
        ),
        201,
    )


@bp.post("/payments/<int:seq>/void")
def void_payment(seq: int) -> Response:
    """The payer (or the standard body) voids a payment recorded by mistake."""
    actor = current_actor()
    data = body(schemas.Void())
    session = db()
    rec = premiums.void_payment(session, ctx(), actor=actor.org_id, seq=seq, reason=data["reason"])
    session.commit()
    return jsonify({"seq": rec.seq, "hash": rec.hash.hex(), "voided": seq})


@bp.get("/committees/<org_id>")
def committee(org_id: str) -> Response:
    """A committee's balances, ageing and statement (public: no prices)."""
    session = db()
    mine = get_org(session, org_id)
    if mine.kind != "mine":
        raise InvalidInput(f"{org_id} is not a mine: committees belong to mines", code="not_a_mine")
    totals = premiums.committee_totals(session, org_id)
    today = _today()
    start = _date_arg("from", date(today.year, 1, 1))
    end = _date_arg("to", today)
    st = premiums.statement(session, org_id, start=start, end=end)
    return jsonify(
        {
            "committee": org_id,
            "name": mine.committee or mine.name,
            "owed_usd": format_money(totals.owed_cents),
            "received_usd": format_money(totals.received_cents),
            "outstanding_usd": format_money(totals.outstanding_cents),
            "invested_usd": format_money(totals.invested_cents),
            "balance_usd": format_money(totals.balance_cents),
            "ageing_usd": {
                k: format_money(v)
                for k, v in premiums.ageing(
                    premiums.committee_obligations(session, org_id), today
                ).items()
            },
            "statement": {
                "from": start.isoformat(),
                "to": end.isoformat(),
                "opening_usd": format_money(st.opening_cents),
                "received_usd": format_money(st.received_cents),
                "invested_usd": {k: format_money(v) for k, v in st.invested_by_category.items()},
                "closing_usd": format_money(st.closing_cents),
            },
        }
    )


def _date_arg(name: str, default: date) -> date:
    raw = request.args.get(name)
    return default if raw is None else parse_date(raw, name)


@bp.post("/committees/<org_id>/investments")
def invest(org_id: str) -> tuple[Response, int]:
    """The committee (its mine's users) records an investment of the premium."""
    actor = current_actor()
    data = body(schemas.InvestmentIn())
    session = db()
    row = premiums.invest(
        session,
        ctx(),
        actor=actor.org_id,
        committee=org_id,
        amount_cents=data["amount_usd"],
        spent_on=data["spent_on"],
        category=data["category"],
        description=data["description"],
        receipt_sha256=data.get("receipt_sha256"),
    )
    event = premiums.event_of(session, row.seq)
    session.commit()
    return (
        jsonify(
            {
                "seq": row.seq,
                "hash": event.hash.hex(),
                "committee": org_id,
                "amount_usd": format_money(row.amount_cents),
                "spent_on": row.spent_on.isoformat(),
                "category": row.category,
                "description": row.description,
                "receipt_sha256": row.receipt_sha256,
            }
        ),
        201,
    )


@bp.get("/flows")
def flows() -> Response:
    """Buyers -> committees -> investment categories, with amounts (public), for a year or overall."""
    raw = request.args.get("year")
    if raw is not None and not (raw.isdigit() and len(raw) == 4):
        raise InvalidInput("year must be four digits", fields={"year": "bad"})
    year = int(raw) if raw is not None else None
    rows = premiums.flows(db(), year=year)
    return jsonify(
        {
            "year": year,
            "flows": [
                {"source": f.source, "target": f.target, "amount_usd": format_money(f.cents)}
                for f in rows
            ],
        }
    )
