"""The lot API end to end: a chain walked over HTTP, as a client would."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from builders import Chain, bearer, certified_chain, recent
from goldtrace.services.context import Context
from goldtrace.services.verify import verify_ledger


@pytest.fixture
def chain(ledger: Session, ctx: Context) -> Chain:
    return certified_chain(ledger, ctx)


def test_a_chain_over_http(
    client: FlaskClient, ledger: Session, ctx: Context, chain: Chain
) -> None:
    mine = bearer(ledger, chain.mine)
    trader = bearer(ledger, chain.trader)
    refiner = bearer(ledger, chain.refiner)
    jeweler = bearer(ledger, chain.jeweler)
    outsider = bearer(ledger, chain.eco_mine)

    r = client.post(
        "/api/v1/lots",
        json={
            "form": "dore",
            "mass_g": "1234.567",
            "fineness": "912.5",
            "category": "fairmined",
            "produced_on": recent().isoformat(),
            "reference": "CEC-1",
        },
        headers=mine,
    )
    assert r.status_code == 201, r.get_json()
    lot = r.get_json()
    assert (lot["mass_g"], lot["fineness"], lot["fine_g"]) == ("1234.567", "912.5", "1126.542")
    assert lot["origins"] == [{"mine": chain.mine, "fine_g": "1126.542", "share": "1.0000"}]
    assert lot["head"] == lot["hash"] and isinstance(lot["seq"], int)
    lot_id = lot["id"]

    r = client.post(
        f"/api/v1/lots/{lot_id}/dispatch",
        json={"to": chain.trader, "price_usd_per_g": "86.00", "reference_price_usd_per_g": "90.00"},
        headers=mine,
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "in_transit"
    assert client.get(f"/api/v1/lots/{lot_id}", headers=outsider).status_code == 404
    seen_by_trader = client.get(f"/api/v1/lots/{lot_id}", headers=trader).get_json()
    assert seen_by_trader["sale"]["price_usd_per_g"] == "86.00"

    r = client.post(f"/api/v1/lots/{lot_id}/receive", json={"mass_g": "1234.000"}, headers=trader)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["flags"] == []
    r = client.post(f"/api/v1/lots/{lot_id}/dispatch", json={"to": chain.refiner}, headers=trader)
    assert r.status_code == 200
    assert "sale" not in client.get(f"/api/v1/lots/{lot_id}", headers=refiner).get_json()
    client.post(f"/api/v1/lots/{lot_id}/receive", json={"mass_g": "1234.000"}, headers=refiner)
    r = client.post(
        "/api/v1/transformations",
        json={
            "kind": "refine",
            "inputs": [lot_id],
            "outputs": [{"form": "grain", "mass_g": "1120.000", "fineness": "999.9"}],
        },
        headers=refiner,
    )
    assert r.status_code == 201, r.get_json()
    grain = r.get_json()["lots"][0]
    assert grain["category"] == "fairmined"
    client.post(f"/api/v1/lots/{grain['id']}/dispatch", json={"to": chain.jeweler}, headers=refiner)
    client.post(f"/api/v1/lots/{grain['id']}/receive", json={"mass_g": "1120.000"}, headers=jeweler)
    r = client.post(
        "/api/v1/transformations",
        json={
            "kind": "manufacture",
            "inputs": [grain["id"]],
            "outputs": [{"form": "jewelry_item", "mass_g": "1490.000", "fineness": "750"}],
            "alloy_mass_g": "372.000",
        },
        headers=jeweler,
    )
    assert r.status_code == 201, r.get_json()
    piece = r.get_json()["lots"][0]
    prov = client.get(f"/api/v1/lots/{piece['id']}/provenance", headers=jeweler).get_json()
    assert prov["verified"] is True
    assert prov["origins"][0]["mine"] == chain.mine
    assert prov["events"][0]["type"] == "lot.register"
    listed = client.get("/api/v1/lots?status=active", headers=jeweler).get_json()["lots"]
    assert [x["id"] for x in listed] == [piece["id"]]
    assert verify_ledger(ledger, ctx, workers=1).ok


def test_without_a_token_the_api_answers_401(client: FlaskClient, ledger: Session) -> None:
    r = client.get("/api/v1/lots")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
