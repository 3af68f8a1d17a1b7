"""What a customer and an API client see once a piece's certificate has ended: a second certificate
refused (409), and after a melt or a void the public page, the card, the API, the bundle and the
check page all saying why the certificate is no longer valid, with the event and its time."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from builders import Chain, bearer, certified_chain
from certificate_builders import make_piece
from goldtrace.domain.lots import OutputSpec
from goldtrace.ledger import bundle_verifier as bv
from goldtrace.services import certificates, lots, transparency
from goldtrace.services.context import Context


@dataclass(frozen=True)
class Piece:
    chain: Chain
    ring: str
    cert_id: str
    jeweler: dict[str, str]


@pytest.fixture
def piece(ledger: Session, ctx: Context) -> Piece:
    chain = certified_chain(ledger, ctx)
    ring = make_piece(ledger, ctx, chain)
    row = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring, description="Anillo")
    jeweler = bearer(ledger, chain.jeweler)
    ledger.commit()
    return Piece(chain, ring, row.id, jeweler)


@pytest.fixture
def web(app: Flask) -> FlaskClient:
    return app.test_client()


def melt(ledger: Session, ctx: Context, piece: Piece) -> tuple[int, str]:
    """The jeweler melts the ring; return the melt's seq and log time."""
    lot = lots.get_lot(ledger, piece.ring)
    written = lots.transform(
        ledger,
        ctx,
        actor=piece.chain.jeweler,
        kind="melt",
        inputs=[piece.ring],
        outputs=[
            OutputSpec(
                id="",
                form="grain",
                mass_mg=lot.mass_mg,
                fineness=lot.fineness,
                category=lot.category,
            )
        ],
    )
    ledger.commit()
    return written.seq, transparency.event(ledger, written.seq).logged_at


def shown(at: str) -> str:
    return f"{at[:10]} {at[11:16]} UTC"


def test_a_second_certificate_is_a_409_until_the_first_is_revoked(
    web: FlaskClient, piece: Piece
) -> None:
    res = web.post("/api/v1/certificates", json={"lot": piece.ring}, headers=piece.jeweler)
    assert res.status_code == 409
    assert res.json is not None and res.json["error"]["code"] == "lot_already_certified"
    assert piece.cert_id in res.json["error"]["message"]
    revoked = web.post(
        f"/api/v1/certificates/{piece.cert_id}/revoke",
        json={"reason": "reissued with a description"},
        headers=piece.jeweler,
    )
    assert revoked.status_code == 200
    res = web.post("/api/v1/certificates", json={"lot": piece.ring}, headers=piece.jeweler)
    assert res.status_code == 201, res.json


def test_after_a_melt_the_api_the_page_and_the_bundle_say_not_valid(
    web: FlaskClient, ledger: Session, ctx: Context, piece: Piece
) -> None:
    assert 'data-verdict="valid"' in web.get(f"/v/{piece.cert_id}").get_data(as_text=True)
    seq, at = melt(ledger, ctx, piece)

    data = web.get(f"/api/v1/certificates/{piece.cert_id}").json
    assert data is not None and data["verdict"] == "lot_consumed"
    assert data["status"] == {
        "state": "lot_consumed",
        "valid": False,
        "revoked": False,
        "seq": seq,
        "at": at,
        "by": piece.chain.jeweler,
        "kind": "melt",
    }
    assert data["reasons"] == [f"the lot was consumed by event {seq} (melt) at {at}"]

    spanish = web.get(f"/v/{piece.cert_id}").get_data(as_text=True)
    assert 'data-verdict="lot_consumed"' in spanish and "Certificado ya no válido" in spanish
    assert f"el evento {seq} del registro (fundición)" in spanish and shown(at) in spanish
    web.set_cookie("lang", "en")
    english = web.get(f"/v/{piece.cert_id}").get_data(as_text=True)
    assert "Certificate no longer valid" in english
    assert f"ledger record {seq} (melting) consumed it" in english and shown(at) in english

    bundle = json.loads(web.get(f"/api/v1/certificates/{piece.cert_id}/bundle").data)
    report = bv.verify_bundle(bundle)
    assert report.codes == {"lot_consumed"}
    assert any(f"consumed by event {seq} (melt)" in message for _, message in report.failures)


def test_after_a_void_the_page_says_the_piece_was_voided_and_why(
    web: FlaskClient, ledger: Session, ctx: Context, piece: Piece
) -> None:
    made = lots.get_lot(ledger, piece.ring).created_seq
    void = lots.void_event(ledger, ctx, actor=piece.chain.jeweler, seq=made, reason="wrong alloy")
    ledger.commit()
    at = transparency.event(ledger, void.seq).logged_at
    data = web.get(f"/api/v1/certificates/{piece.cert_id}").json
    assert data is not None and data["verdict"] == "lot_voided"
    assert (data["status"]["seq"], data["status"]["at"]) == (void.seq, at)
    web.set_cookie("lang", "en")
    html = web.get(f"/v/{piece.cert_id}").get_data(as_text=True)
    assert 'data-verdict="lot_voided"' in html
    assert f"voided on {shown(at)} by ledger record {void.seq} (reason: wrong alloy)" in html


def test_the_card_and_its_pdf_say_not_valid(
    app: Flask, web: FlaskClient, ledger: Session, ctx: Context, piece: Piece
) -> None:
    seq, _at = melt(ledger, ctx, piece)
    web.set_cookie("lang", "en")
    card = web.get(f"/v/{piece.cert_id}/card").get_data(as_text=True)
    assert 'data-verdict="lot_consumed"' in card and "Certificate no longer valid" in card
    assert f"ledger record {seq} (melting)" in card
    pdf = PdfReader(io.BytesIO(web.get(f"/v/{piece.cert_id}/card.pdf").data))
    assert len(pdf.pages) == 1
    text = " ".join(pdf.pages[0].extract_text().split())
    assert "Certificate no longer valid" in text and f"record {seq}" in text


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _check(client: FlaskClient, doc: dict[str, Any]) -> str:
    page = client.get("/certificates/check").get_data(as_text=True)
    match = CSRF.search(page)
    token = match.group(1) if match else ""
    res = client.post("/certificates/check", data={"csrf_token": token, "pasted": json.dumps(doc)})
    assert res.status_code == 200
    return res.get_data(as_text=True)


def test_the_check_page_says_not_valid_for_an_old_and_a_new_bundle(
    web: FlaskClient, ledger: Session, ctx: Context, piece: Piece
) -> None:
    before = certificates.bundle(ledger, ctx, piece.cert_id)  # downloaded while still valid
    ledger.commit()
    seq, _at = melt(ledger, ctx, piece)
    after = certificates.bundle(ledger, ctx, piece.cert_id)
    ledger.commit()
    web.set_cookie("lang", "en")
    for doc in (
        before,
        after,
        certificates.credential_of(certificates.get_certificate(ledger, piece.cert_id)),
    ):
        html = _check(web, doc)
        assert 'data-verdict="lot_consumed"' in html, html[:3000]
        assert f"ledger record {seq} (melting) consumed it" in html
    assert "The piece was used up in a transformation" in _check(web, after)
