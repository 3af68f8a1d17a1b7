"""The public verification page, its QR codes and the printable card."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from builders import bearer, certified_chain
from certificate_builders import make_piece
from goldtrace.services import accounts, certificates
from goldtrace.services.context import Context
from goldtrace.services.organizations import get_org
from goldtrace.webapp.verify_page import page_cache, view_cache
from web_forms import log_in


@pytest.fixture
def page(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def cert_id(ledger: Session, ctx: Context) -> str:
    chain = certified_chain(ledger, ctx)
    ring = make_piece(ledger, ctx, chain)
    row = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring, description="Anillo")
    ledger.commit()
    return row.id


def test_page_shows_verdict_first_and_mines(page: FlaskClient, cert_id: str) -> None:
    html = page.get(f"/v/{cert_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-verdict="valid"' in html
    assert html.index("data-verdict") < html.index("CECOMIP")
    assert "price" not in html.lower()


def test_qr_codes_and_card(page: FlaskClient, cert_id: str) -> None:
    svg = page.get(f"/v/{cert_id}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    png = page.get(f"/v/{cert_id}/qr.png")
    assert png.data.startswith(b"\x89PNG")
    card = page.get(f"/v/{cert_id}/card").get_data(as_text=True)
    assert "<svg" in card and "@media print" in card


def test_unknown_certificate_is_a_404_page(page: FlaskClient) -> None:
    res = page.get("/v/GTC-NONE-XXXX")
    assert res.status_code == 404 and res.mimetype == "text/html"


def test_the_page_is_cached_until_a_revocation_shows_at_once(
    app: Flask, page: FlaskClient, ledger: Session, cert_id: str
) -> None:
    assert 'data-verdict="valid"' in page.get(f"/v/{cert_id}").get_data(as_text=True)
    assert page.get(f"/api/v1/certificates/{cert_id}").json["verdict"] == "valid"
    assert 'data-verdict="valid"' in page.get(f"/v/{cert_id}").get_data(as_text=True)
    info = view_cache(app).info()
    assert (info.hits, info.misses) == (2, 1)

    issuer = certificates.get_certificate(ledger, cert_id).issuer_id
    res = page.post(
        f"/api/v1/certificates/{cert_id}/revoke",
        json={"reason": "returned"},
        headers=bearer(ledger, issuer),
    )
    assert res.status_code == 200, res.json
    html = page.get(f"/v/{cert_id}").get_data(as_text=True)
    assert 'data-verdict="revoked"' in html and "returned" in html
    assert page.get(f"/api/v1/certificates/{cert_id}").json["verdict"] == "revoked"


def test_an_anonymous_visitors_page_is_rendered_once_per_language_and_ledger_state(
    app: Flask, page: FlaskClient, ledger: Session, cert_id: str
) -> None:
    spanish = page.get(f"/v/{cert_id}").get_data(as_text=True)
    page.set_cookie("lang", "en")
    english = page.get(f"/v/{cert_id}").get_data(as_text=True)
    again = page.get(f"/v/{cert_id}").get_data(as_text=True)
    assert again == english and 'lang="en"' in english and 'lang="es"' in spanish
    info = page_cache(app).info()
    assert (info.hits, info.misses) == (1, 2)

    issuer = certificates.get_certificate(ledger, cert_id).issuer_id
    res = page.post(
        f"/api/v1/certificates/{cert_id}/revoke",
        json={"reason": "returned"},
        headers=bearer(ledger, issuer),
    )
    assert res.status_code == 200, res.json
    html = page.get(f"/v/{cert_id}").get_data(as_text=True)
    assert 'data-verdict="revoked"' in html and 'lang="en"' in html


def test_a_signed_in_visitor_sees_their_own_page_never_a_cached_one(
    app: Flask, ledger: Session, cert_id: str
) -> None:
    anonymous = app.test_client()
    assert "@" not in anonymous.get(f"/v/{cert_id}").get_data(as_text=True).split("<main")[0]
    accounts.add_user(
        ledger,
        email="ana@trader.example",
        org_id="trader",
        role="operator",
        password="pw-123456789",
    )
    ledger.commit()
    signed_in = app.test_client()
    log_in(signed_in, "ana@trader.example", "pw-123456789")
    assert "ana@trader.example" in signed_in.get(f"/v/{cert_id}").get_data(as_text=True)
    assert "ana@trader.example" not in anonymous.get(f"/v/{cert_id}").get_data(as_text=True)


def test_the_journey_names_organizations_and_transformations_in_the_visitors_language(
    page: FlaskClient, ledger: Session, cert_id: str
) -> None:
    refiner = get_org(ledger, "refiner").name
    spanish = page.get(f"/v/{cert_id}").get_data(as_text=True)
    assert f"despachó a {refiner}" in spanish
    assert "Refinación, merma" in spanish and "Fabricación, merma" in spanish
    assert "Fairmined" in spanish and ">fairmined<" not in spanish
    page.set_cookie("lang", "en")
    english = page.get(f"/v/{cert_id}").get_data(as_text=True)
    assert f"dispatched to {refiner}" in english
    assert "Refining, loss" in english and "Manufacture, loss" in english
