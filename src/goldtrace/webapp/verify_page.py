"""The public verification page ``/v/<id>`` (no login), its QR codes and the printable card."""

from __future__ import annotations

import io

import segno
from flask import Blueprint, Response, render_template

from goldtrace.services import certificates
from goldtrace.webapp.request_state import ctx, db

bp = Blueprint("verification", __name__)


@bp.get("/v/<cert_id>")
def page(cert_id: str) -> str:
    """The verdict first, then origins, the journey, the premium carried and the proof status."""
    return render_template(
        "certificates/verify.html", cert=certificates.public_view(db(), ctx(), cert_id)
    )


@bp.get("/v/<cert_id>/card")
def card(cert_id: str) -> str:
    """A printable certificate card (A6, print CSS) with the QR code."""
    view = certificates.public_view(db(), ctx(), cert_id)
    return render_template(
        "certificates/card.html", cert=view, qr_svg=_qr(view["verify_url"]).svg_inline(scale=3)
    )


def _qr(url: str) -> segno.QRCode:
    return segno.make_qr(url, error="m")


@bp.get("/v/<cert_id>/qr.svg")
def qr_svg(cert_id: str) -> Response:
    """The QR code of the verification URL, as SVG."""
    certificates.get_certificate(db(), cert_id)
    out = io.BytesIO()
    _qr(certificates.verify_url(ctx(), cert_id)).save(out, kind="svg", scale=4, xmldecl=False)
    return Response(out.getvalue(), mimetype="image/svg+xml")


@bp.get("/v/<cert_id>/qr.png")
def qr_png(cert_id: str) -> Response:
    """The QR code of the verification URL, as PNG."""
    certificates.get_certificate(db(), cert_id)
    out = io.BytesIO()
    _qr(certificates.verify_url(ctx(), cert_id)).save(out, kind="png", scale=8)
    return Response(out.getvalue(), mimetype="image/png")
