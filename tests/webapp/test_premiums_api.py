"""The premium API in the exact shapes of the acceptance tests, and its refusals.

A mine's first sale obliges the buyer; the buyer pays over HTTP, the committee invests over HTTP, and
the flows come back per year. Every bad request is a 4xx with a JSON message and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from builders import Chain, bearer, certified_chain, register, sell
from goldtrace.services import premiums
from goldtrace.services.context import Context
from goldtrace.services.transparency import head

OBLIGATION_KEYS = {"id", "committee", "lot", "fine_g", "rate_usd_per_kg", "amount_usd", "paid_usd"}
SUMMARY_KEYS = {"owed_usd", "received_usd", "outstanding_usd", "invested_usd", "balance_usd"}
RECEIPT = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@dataclass(frozen=True)
class Sold:
    """A chain where the mine sold one 1000 g lot at 900 per mille to the trader (USD 3600.00 of
    premium) and one 500 g lot at 900 to the jeweler (USD 1800.00)."""

    chain: Chain
    trader_lot: str
    jeweler_lot: str
    trader: dict[str, str]
    jeweler: dict[str, str]
    mine: dict[str, str]
    eco_mine: dict[str, str]
    obligations: dict[str, int]  # obligation id by lot


@pytest.fixture
def sold(ledger: Session, ctx: Context) -> Sold:
    chain = certified_chain(ledger, ctx)
    trader_lot = register(ledger, ctx, chain.mine)
    jeweler_lot = register(ledger, ctx, chain.mine, mass_mg=500_000)
    sell(ledger, ctx, trader_lot, chain.mine, chain.trader)
    sell(ledger, ctx, jeweler_lot, chain.mine, chain.jeweler)
    return Sold(
        chain,
        trader_lot,
        jeweler_lot,
        trader=bearer(ledger, chain.trader),
        jeweler=bearer(ledger, chain.jeweler),
        mine=bearer(ledger, chain.mine),
        eco_mine=bearer(ledger, chain.eco_mine),
        obligations={ob.lot_id: ob.id for ob in premiums.committee_obligations(ledger, chain.mine)},
    )


def obligation_of(client: FlaskClient, headers: dict[str, str], lot: str) -> dict[str, Any]:
    r = client.get("/api/v1/premiums/obligations", headers=headers)
    assert r.status_code == 200, r.get_json()
    return next(ob for ob in r.get_json()["obligations"] if ob["lot"] == lot)


def test_a_payment_in_the_acceptance_shape(client: FlaskClient, sold: Sold) -> None:
    r = client.post(
        "/api/v1/premiums/payments",
        json={"committee": sold.chain.mine, "amount_usd": "100.00", "paid_on": "2026-11-25"},
        headers=sold.trader,
    )
    assert r.status_code == 201, r.get_json()
    payment = r.get_json()
    assert (payment["committee"], payment["buyer"]) == (sold.chain.mine, sold.chain.trader)
    assert (payment["amount_usd"], payment["paid_on"]) == ("100.00", "2026-11-25")
    ob = obligation_of(client, sold.trader, sold.trader_lot)
    assert payment["allocations"] == [{"obligation": ob["id"], "amount_usd": "100.00"}]


def test_obligations_have_the_acceptance_fields(client: FlaskClient, sold: Sold) -> None:
    client.post(
        "/api/v1/premiums/payments",
        json={"committee": sold.chain.mine, "amount_usd": "100.00", "paid_on": "2026-11-25"},
        headers=sold.trader,
    )
    r = client.get("/api/v1/premiums/obligations", headers=sold.trader)
    assert r.status_code == 200
    items = r.get_json()["obligations"]
    assert len(items) == 1, "a buyer sees only its own obligations"
    ob = items[0]
    assert set(ob) >= OBLIGATION_KEYS
    assert isinstance(ob["id"], int)
    assert (ob["committee"], ob["lot"]) == (sold.chain.mine, sold.trader_lot)
    assert (ob["fine_g"], ob["rate_usd_per_kg"]) == ("900.000", "4000.00")
    assert (ob["amount_usd"], ob["paid_usd"]) == ("3600.00", "100.00")
    mine_view = client.get("/api/v1/premiums/obligations", headers=sold.mine).get_json()
    assert {o["lot"] for o in mine_view["obligations"]} == {sold.trader_lot, sold.jeweler_lot}


def test_a_committee_summary_has_the_acceptance_fields(client: FlaskClient, sold: Sold) -> None:
    client.post(
        "/api/v1/premiums/payments",
        json={"committee": sold.chain.mine, "amount_usd": "1000.00", "paid_on": "2026-11-25"},
        headers=sold.trader,
    )
    r = client.get(f"/api/v1/premiums/committees/{sold.chain.mine}")
    assert r.status_code == 200, r.get_json()
    summary = r.get_json()
    assert set(summary) >= SUMMARY_KEYS
    assert {k: summary[k] for k in SUMMARY_KEYS} == {
        "owed_usd": "5400.00",
        "received_usd": "1000.00",
        "outstanding_usd": "4400.00",
        "invested_usd": "0.00",
        "balance_usd": "1000.00",
    }


def test_an_investment_in_the_acceptance_shape(client: FlaskClient, sold: Sold) -> None:
    client.post(
        "/api/v1/premiums/payments",
        json={"committee": sold.chain.mine, "amount_usd": "1000.00", "paid_on": "2026-11-25"},
        headers=sold.trader,
    )
    r = client.post(
        f"/api/v1/premiums/committees/{sold.chain.mine}/investments",
        json={
            "amount_usd": "250.50",
            "spent_on": "2026-11-26",
            "category": "workers_welfare",
            "description": "Equipos de protección personal",
            "receipt_sha256": RECEIPT,
        },
        headers=sold.mine,
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["receipt_sha256"] == RECEIPT
    r = client.post(
        f"/api/v1/premiums/committees/{sold.chain.mine}/investments",
        json={
            "amount_usd": "49.50",
            "spent_on": "2026-11-27",
            "category": "community",
            "description": "Campaña médica",
        },
        headers=sold.mine,
    )
    assert r.status_code == 201, r.get_json()
    summary = client.get(f"/api/v1/premiums/committees/{sold.chain.mine}").get_json()
    assert (summary["invested_usd"], summary["balance_usd"]) == ("300.00", "700.00")


def test_flows_for_a_year(client: FlaskClient, sold: Sold) -> None:
    mine = sold.chain.mine
    client.post(
        "/api/v1/premiums/payments",
        json={"committee": mine, "amount_usd": "1000.00", "paid_on": "2026-11-25"},
        headers=sold.trader,
    )
    client.post(
        "/api/v1/premiums/payments",
        json={"committee": mine, "amount_usd": "800.00", "paid_on": "2027-01-05"},
        headers=sold.jeweler,
    )
    client.post(
        f"/api/v1/premiums/committees/{mine}/investments",
        json={
            "amount_usd": "300.00",
            "spent_on": "2026-12-01",
            "category": "community",
            "description": "Comedor",
        },
        headers=sold.mine,
    )
    r = client.get("/api/v1/premiums/flows?year=2026")
    assert r.status_code == 200
    assert r.get_json() == {
        "year": 2026,
        "flows": [
            {"source": mine, "target": "category:community", "amount_usd": "300.00"},
            {"source": sold.chain.trader, "target": mine, "amount_usd": "1000.00"},
        ],
    }
    overall = client.get("/api/v1/premiums/flows").get_json()["flows"]
    assert {"source": sold.chain.jeweler, "target": mine, "amount_usd": "800.00"} in overall
    assert client.get("/api/v1/premiums/flows?year=26").status_code == 400


# --- bad input: 4xx, a clear message, nothing written -------------------------------------------

Request = Callable[[FlaskClient, Sold], Any]


def pay(body: dict[str, Any], who: str = "trader") -> Request:
    def send(client: FlaskClient, sold: Sold) -> Any:
        filled = {k: v(sold) if callable(v) else v for k, v in body.items()}
        return client.post("/api/v1/premiums/payments", json=filled, headers=getattr(sold, who))

    return send


def invest(body: dict[str, Any], committee: str = "mine", who: str = "mine") -> Request:
    def send(client: FlaskClient, sold: Sold) -> Any:
        org = getattr(sold.chain, committee)
        full = {"spent_on": "2026-11-26", "category": "community", "description": "Comedor"}
        return client.post(
            f"/api/v1/premiums/committees/{org}/investments",
            json=full | body,
            headers=getattr(sold, who),
        )

    return send


def mine_id(sold: Sold) -> str:
    return sold.chain.mine


def jeweler_obligation(sold: Sold) -> list[int]:
    return [sold.obligations[sold.jeweler_lot]]


def trader_obligation(sold: Sold) -> list[int]:
    return [sold.obligations[sold.trader_lot]]


def paying(amount: Any, **extra: Any) -> Request:
    """The trader pays the mine's committee ``amount`` on 2026-11-25 (``extra`` overrides)."""
    return pay({"committee": mine_id, "amount_usd": amount, "paid_on": "2026-11-25"} | extra)


BAD = [
    ("negative amount", paying("-5.00"), 400, "amount_usd"),
    ("zero amount", paying("0.00"), 400, "amount_usd"),
    ("three decimals", paying("100.001"), 400, "decimals"),
    ("a JSON number", paying(100), 400, "decimal string"),
    ("a JSON float", paying(100.5), 400, "100.5"),
    ("a bad date", paying("1.00", paid_on="25/11/2026"), 400, "date"),
    ("no committee", pay({"amount_usd": "1.00", "paid_on": "2026-11-25"}), 400, "committee"),
    ("a committee that is no mine", paying("1.00", committee="refiner"), 400, "mine"),
    ("an unknown obligation", paying("1.00", obligations=[999_999]), 400, "obligation"),
    ("another buyer's obligation", paying("1.00", obligations=jeweler_obligation), 403, "another buyer"),
    ("an overpayment", paying("3600.01"), 422, "exceeds"),
    ("overpaying a chosen obligation", paying("3600.01", obligations=trader_obligation), 422, "exceeds"),
    ("a negative investment", invest({"amount_usd": "-1.00"}), 400, "amount_usd"),
    ("an investment with three decimals", invest({"amount_usd": "1.001"}), 400, "decimals"),
    ("an investment as a JSON number", invest({"amount_usd": 1}), 400, "decimal string"),
    ("investing beyond the balance", invest({"amount_usd": "100.01"}), 422, "100.00 USD"),
    ("investing for another mine", invest({"amount_usd": "1.00"}, committee="eco_mine"), 403, "committee"),
    ("investing as a buyer", invest({"amount_usd": "1.00"}, who="trader"), 403, "committee"),
    ("an unknown category", invest({"amount_usd": "1.00", "category": "parties"}), 400, "category"),
    ("a bad receipt hash", invest({"amount_usd": "1.00", "receipt_sha256": "ABC"}), 400, "receipt"),
    ("an empty description", invest({"amount_usd": "1.00", "description": ""}), 400, "description"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "send", "status", "said"), BAD, ids=[c[0] for c in BAD])
def test_bad_input_is_refused_and_writes_nothing(
    client: FlaskClient,
    ledger: Session,
    ctx: Context,
    sold: Sold,
    case: str,
    send: Request,
    status: int,
    said: str,
) -> None:
    # The committee has received USD 100.00 to invest.
    premiums.pay(
        ledger,
        ctx,
        actor=sold.chain.jeweler,
        committee=sold.chain.mine,
        amount_cents=10_000,
        paid_on=date(2026, 11, 20),
    )
    size = head(ledger).size
    before = premiums.committee_totals(ledger, sold.chain.mine)

    r = send(client, sold)

    assert r.status_code == status, (case, r.get_json())
    error = r.get_json()["error"]
    assert said.lower() in (error["message"] + " " + " ".join(error["fields"])).lower(), error
    ledger.expire_all()
    assert head(ledger).size == size
    assert premiums.committee_totals(ledger, sold.chain.mine) == before


def test_writing_needs_a_token(client: FlaskClient, ledger: Session, sold: Sold) -> None:
    size = head(ledger).size
    r = client.post(
        "/api/v1/premiums/payments",
        json={"committee": sold.chain.mine, "amount_usd": "100.00", "paid_on": "2026-11-25"},
    )
    assert r.status_code == 401
    assert client.get("/api/v1/premiums/obligations").status_code == 401
    assert head(ledger).size == size
