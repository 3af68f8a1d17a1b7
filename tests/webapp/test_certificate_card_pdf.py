"""The printable certificate card as PDF: one A6 page with the QR code, in the visitor's language."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from builders import certified_chain
from certificate_builders import make_piece
from goldtrace.services import certificates
from goldtrace.services.context import Context
from goldtrace.webapp.verify_page import FONT_DIR


@pytest.fixture
def cert_id(ledger: Session, ctx: Context) -> str:
    chain = certified_chain(ledger, ctx)
    ring = make_piece(ledger, ctx, chain)
    row = certificates.issue(
        ledger, ctx, actor=chain.jeweler, lot_id=ring, description="Anillo de compromiso ñandú"
    )
    ledger.commit()
    return row.id


def _pdf(app: Flask, path: str, lang: str) -> bytes:
    client: FlaskClient = app.test_client()
    client.set_cookie("lang", lang)
    res = client.get(path)
    assert res.status_code == 200, res.data[:300]
    assert res.mimetype == "application/pdf"
    return res.data


def _page(pdf: bytes) -> tuple[int, bytes, str]:
    """(number of pages, the first page's decoded content stream, its text), read by pypdf."""
    reader = PdfReader(io.BytesIO(pdf))
    page = reader.pages[0]
    contents = page.get_contents()
    assert contents is not None
    return len(reader.pages), contents.get_data(), " ".join(page.extract_text().split())


@pytest.mark.parametrize("lang", ["es", "en"])
def test_card_pdf_is_one_page_with_qr_link_and_embedded_font(
    app: Flask, cert_id: str, lang: str
) -> None:
    pdf = _pdf(app, f"/v/{cert_id}/card.pdf", lang)
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    pages, content, _ = _page(pdf)
    assert pages == 1
    # The QR code image is clickable: its link is the verification URL, with the certificate id.
    assert f"/v/{cert_id})".encode() in pdf
    assert b"/Subtype /Image" in pdf
    # The bundled DejaVu font is embedded (as a subset), no system font is referenced.
    assert b"DejaVuSans" in pdf and b"/FontFile2" in pdf
    assert b"/Helvetica" not in pdf and b"/Times" not in pdf
    # The page draws text (glyph ids of the embedded font) in its content stream.
    assert b"BT" in content and b"Tj" in content
    assert f"/Lang ({lang})".encode() in pdf


def test_card_pdf_language_changes_the_text(app: Flask, cert_id: str) -> None:
    es = _pdf(app, f"/v/{cert_id}/card.pdf", "es")
    en = _pdf(app, f"/v/{cert_id}/card.pdf", "en")
    # Different words need different glyphs and different text runs.
    _, es_content, es_text = _page(es)
    _, en_content, en_text = _page(en)
    assert es_content != en_content
    assert "Escanee para verificar" in es_text and "Scan to verify" not in es_text
    assert "Scan to verify" in en_text and cert_id in es_text and cert_id in en_text


def test_revoked_card_and_unknown_certificate(
    app: Flask, ledger: Session, ctx: Context, cert_id: str
) -> None:
    row = certificates.get_certificate(ledger, cert_id)
    certificates.revoke(ledger, ctx, actor=row.issuer_id, cert_id=cert_id, reason="devuelto")
    ledger.commit()
    assert _pdf(app, f"/v/{cert_id}/card.pdf", "es").startswith(b"%PDF-")
    assert app.test_client().get("/v/GTC-NONE-XXXX/card.pdf").status_code == 404


def test_font_and_its_licence_are_in_the_repository() -> None:
    assert (FONT_DIR / "DejaVuSans.ttf").stat().st_size > 100_000
    assert (FONT_DIR / "DejaVuSans-Bold.ttf").stat().st_size > 100_000
    assert "Bitstream" in (FONT_DIR / "LICENSE").read_text(encoding="utf-8")
