"""The certificates API: issue, read, revoke, bundle."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from builders import Chain, bearer, certified_chain
from certificate_builders import make_piece
from goldtrace.ledger import bundle_verifier as bv
from goldtrace.services.context import Context


@pytest.fixture
def chain(ledger: Session, ctx: Context) -> Chain:
    return certified_chain(ledger, ctx)


@pytest.fixture
def api(app: Flask) -> FlaskClient:
    return app.test_client()


def test_issue_read_revoke_and_bundle(
    api: FlaskClient, ledger: Session, ctx: Context, chain: Chain
) -> None:
    ring = make_piece(ledger, ctx, chain)
    jeweler = bearer(ledger, chain.jeweler)
    ledger.commit()
    res = api.post(
        "/api/v1/certificates", json={"lot": ring, "description": "Anillo"}, headers=jeweler
    )
    assert res.status_code == 201, res.json
    data = res.json
    assert data is not None
    cert_id = data["id"]
    assert data["verify_url"].endswith(f"/v/{cert_id}")
    assert data["credential"]["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    shown = api.get(f"/api/v1/certificates/{cert_id}").json
    assert shown is not None and shown["verdict"] == "valid"
    bundle = api.get(f"/api/v1/certificates/{cert_id}/bundle")
    assert bv.verify_bundle(json.loads(bundle.data)).ok
    res = api.post(
        f"/api/v1/certificates/{cert_id}/revoke", json={"reason": "returned"}, headers=jeweler
    )
    assert res.status_code == 200 and res.json is not None
    assert res.json["verdict"] == "revoked"
    later = json.loads(api.get(f"/api/v1/certificates/{cert_id}/bundle").data)
    assert bv.verify_bundle(later).codes == {"revoked"}


def test_refusals(api: FlaskClient, ledger: Session, ctx: Context, chain: Chain) -> None:
    ring = make_piece(ledger, ctx, chain)
    refiner = bearer(ledger, chain.refiner)
    ledger.commit()
    assert api.post("/api/v1/certificates", json={"lot": ring}).status_code == 401
    res = api.post("/api/v1/certificates", json={"lot": ring}, headers=refiner)
    assert res.status_code == 403
    assert api.post("/api/v1/certificates", json={}, headers=refiner).status_code == 400
    assert api.get("/api/v1/certificates/GTC-NONE-XXXX").status_code == 404
