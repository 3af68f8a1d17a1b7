"""The printable certificate card as PDF: one A6 page with the QR code, in the visitor's language."""

from __future__ import annotations

import re
import zlib

import pytest
from flask import Flask
from flask.testing import FlaskClient
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


def _streams(pdf: bytes) -> list[bytes]:
    """The decompressed content of every Flate stream in the file."""
    out = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(match.group(1)))
        except zlib.error:
            out.append(match.group(1))
    return out


@pytest.mark.parametrize("lang", ["es", "en"])
def test_card_pdf_is_one_page_with_qr_link_and_embedded_font(
    app: Flask, cert_id: str, lang: str
) -> None:
    pdf = _pdf(app, f"/v/{cert_id}/card.pdf", lang)
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type /Page\b", pdf)) == 1
    # The QR code image is clickable: its link is the verification URL, with the certificate id.
    assert f"/v/{cert_id})".encode() in pdf
    assert b"/Subtype /Image" in pdf
    # The bundled DejaVu font is embedded (as a subset), no system font is referenced.
    assert b"DejaVuSans" in pdf and b"/FontFile2" in pdf
    assert b"/Helvetica" not in pdf and b"/Times" not in pdf
    # The page draws text (glyph ids of the embedded font) in its content stream.
    assert any(b"BT" in s and b"Tj" in s for s in _streams(pdf))
    assert f"/Lang ({lang})".encode() in pdf


def test_card_pdf_language_changes_the_text(app: Flask, cert_id: str) -> None:
    es = _pdf(app, f"/v/{cert_id}/card.pdf", "es")
    en = _pdf(app, f"/v/{cert_id}/card.pdf", "en")
    # Different words need different glyphs and different text runs.
    assert [s for s in _streams(es) if b"BT" in s] != [s for s in _streams(en) if b"BT" in s]


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
