"""The public verification page ``/v/<id>`` (no login), its QR codes and the printable card (HTML and
PDF). Checking a bundle or credential someone was handed is ``certificate_check``."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import segno
from babel.numbers import format_decimal
from flask import Blueprint, Flask, Response, current_app, render_template, request
from flask import session as cookie_session
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from goldtrace.db.session import is_postgres, read_only
from goldtrace.services import certificate_views, certificates
from goldtrace.services.pdf_fonts import FONT_DIR as FONT_DIR
from goldtrace.services.pdf_fonts import add_fonts
from goldtrace.webapp.request_state import ctx, db
from goldtrace.webapp.ui.lots import TRANSFORM_LABELS

bp = Blueprint("verification", __name__)


def view_cache(app: Flask) -> certificate_views.ViewCache:
    """The application's cache of certificate views (one per process; see certificate_views)."""
    cache: certificate_views.ViewCache = app.extensions.setdefault(
        "certificate_views", certificate_views.ViewCache()
    )
    return cache


def page_cache(app: Flask) -> certificate_views.ViewCache:
    """The application's cache of rendered public pages, keyed like the views they show."""
    cache: certificate_views.ViewCache = app.extensions.setdefault(
        "certificate_pages", certificate_views.ViewCache()
    )
    return cache


def public_view(cert_id: str) -> dict[str, Any]:
    """The certificate's public view (read-only: it may be shared with other requests)."""
    return _keyed_view(cert_id)[1]


def _keyed_view(cert_id: str) -> tuple[certificate_views.ViewKey, dict[str, Any]]:
    """The certificate's public view and the cache key it is valid for.

    A cache hit only reads: on SQLite it does so in a plain snapshot, so that it never waits for the
    write lock every other transaction takes (PostgreSQL reads take no lock anyway). A miss builds
    the view in a transaction of its own, since assembling the bundle may cut a checkpoint (never
    committed here: a GET changes nothing)."""
    session, cache = db(), view_cache(current_app)
    if not is_postgres(session):
        read_only(session)
    key = certificate_views.view_key(session, cert_id)
    view = cache.get(key)
    if view is None:
        session.rollback()
        view = cache.put(key, certificates.public_view(session, ctx(), cert_id))
    return key, view


@bp.get("/v/<cert_id>")
def page(cert_id: str) -> str:
    """The verdict first, then origins, the journey, the premium carried and the proof status.

    What a scanned QR code opens, so for anonymous visitors the rendered page itself is cached, per
    ledger version, language and URL: the page then costs one small query. A signed-in visitor's
    page names them (and a pending flash message is shown once), so theirs is always rendered."""
    key, view = _keyed_view(cert_id)
    if current_user.is_authenticated or cookie_session.get("_flashes"):
        return _render_page(view)
    cert, version = key
    pages = page_cache(current_app)
    page_key = (f"{cert}\n{get_locale()}\n{request.full_path}", version)
    rendered = pages.get(page_key)
    if rendered is None:
        html = _render_page(view)
        rendered = pages.put(page_key, {"html": html})
    return str(rendered["html"])


def _render_page(view: dict[str, Any]) -> str:
    return render_template(
        "certificates/verify.html",
        cert=view,
        status_line=status_text(view["status"]),
        categories=_CATEGORIES,
        transform_labels=TRANSFORM_LABELS,
    )


def instant_text(instant: str) -> str:
    """An RFC 3339 instant as date and minute, in UTC (``2026-12-08 14:03 UTC``)."""
    return f"{instant[:10]} {instant[11:16]} UTC"


def status_text(status: dict[str, Any]) -> str:
    """Why and since when a certificate is no longer valid, in the visitor's language ("" if valid).

    ``status`` is ``certificates.status``: what the page, the card, the PDF and the check page say."""
    state = status["state"]
    if state == "revoked":
        return str(
            _(
                "Revoked on %(at)s. Reason: %(reason)s",
                at=instant_text(status["at"]),
                reason=status.get("reason") or "",
            )
        )
    if state == "lot_consumed":
        kind = status.get("kind") or ""
        return str(
            _(
                "The piece was used up on %(at)s: ledger record %(seq)s (%(kind)s) consumed it,"
                " so this certificate no longer vouches for anything.",
                at=instant_text(status["at"]),
                seq=status["seq"],
                kind=TRANSFORM_LABELS.get(kind, kind),
            )
        )
    if state == "lot_voided":
        return str(
            _(
                "The record of the piece was voided on %(at)s by ledger record %(seq)s"
                " (reason: %(reason)s), so this certificate is no longer valid.",
                at=instant_text(status["at"]),
                seq=status["seq"],
                reason=status.get("reason") or "",
            )
        )
    return ""


@bp.get("/v/<cert_id>/card")
def card(cert_id: str) -> str:
    """A printable certificate card (A6, print CSS) with the QR code."""
    view = public_view(cert_id)
    return render_template(
        "certificates/card.html",
        cert=view,
        status_line=status_text(view["status"]),
        verdicts=_VERDICTS,
        categories=_CATEGORIES,
        qr_svg=_qr(view["verify_url"]).svg_inline(scale=3),
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


# --- the printable card as PDF ------------------------------------------------------------------

_CATEGORIES = {
    "fairmined": _l("Fairmined"),
    "fairmined_ecological": _l("Fairmined Ecological"),
    "none": _l("not certified"),
}
_VERDICTS = {
    "valid": _l("Valid certificate"),
    "revoked": _l("Revoked certificate"),
    "lot_consumed": _l("Certificate no longer valid"),
    "lot_voided": _l("Certificate no longer valid"),
    "not_verifiable": _l("This certificate cannot be verified"),
}
_MAX_ORIGIN_LINES = 4


@bp.get("/v/<cert_id>/card.pdf")
def card_pdf(cert_id: str) -> Response:
    """The printable certificate card as an A6 PDF, in the visitor's language, with the QR code."""
    view = public_view(cert_id)
    response = Response(bytes(card_document(view)), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{cert_id}.pdf"'
    return response


def card_document(cert: dict[str, Any]) -> bytearray:
    """Render the card: an A6 landscape page, text on the left, the QR code and URL on the right.

    The font is the DejaVu Sans bundled in ``web/fonts`` (every Spanish letter, ‰ and ·), never a
    system font."""
    pdf = FPDF(orientation="L", unit="mm", format=(105, 148))  # A6
    pdf.set_auto_page_break(False)
    pdf.set_margins(7, 7, 7)
    add_fonts(pdf)
    pdf.set_title(_("Certificate %(id)s", id=cert["id"]))
    pdf.set_subject(cert["verify_url"])
    pdf.set_creator("goldtrace")
    pdf.set_lang(str(get_locale() or "es"))
    pdf.add_page()
    gold = (107, 78, 0)
    pdf.set_draw_color(184, 134, 11)
    pdf.rect(3, 3, pdf.w - 6, pdf.h - 6)

    # Right column: the QR code, and the URL it encodes (clickable).
    qr_size, qr_x = 38.0, pdf.w - 7 - 38.0
    png = io.BytesIO()
    _qr(cert["verify_url"]).save(png, kind="png", scale=8, border=2)
    png.seek(0)
    pdf.image(png, x=qr_x, y=9, w=qr_size, h=qr_size, link=cert["verify_url"])
    pdf.set_xy(qr_x, 9 + qr_size + 1)
    pdf.set_font("DejaVu", "", 6)
    pdf.multi_cell(qr_size, 2.8, cert["verify_url"], align="C", link=cert["verify_url"])
    pdf.set_x(qr_x)
    pdf.multi_cell(qr_size, 2.8, _("Scan to verify"), align="C")

    # Left column: the claim.
    text_w = qr_x - 7 - 4
    pdf.set_xy(7, 8)
    pdf.set_text_color(*gold)
    pdf.set_font("DejaVu", "B", 12)
    pdf.multi_cell(text_w, 5.5, _("Fairmined gold certificate"), new_x=XPos.LMARGIN)
    pdf.set_text_color(0, 0, 0)
    if cert["verdict"] != "valid":
        pdf.set_text_color(170, 0, 0)
        pdf.set_font("DejaVu", "B", 9)
        pdf.multi_cell(text_w, 4.5, str(_VERDICTS[cert["verdict"]]), new_x=XPos.LMARGIN)
        if not cert["status"]["valid"]:
            pdf.set_font("DejaVu", "", 7)
            pdf.multi_cell(text_w, 3.4, status_text(cert["status"]), new_x=XPos.LMARGIN)
        pdf.set_text_color(0, 0, 0)
    pdf.ln(1)
    piece = cert["piece"]
    rows: list[tuple[str, str]] = [(_("Certificate"), cert["id"])]
    if piece.get("description"):
        rows.append((_("Description"), piece["description"]))
    rows += [
        (_("Piece"), piece["lot"]),
        (_("Fine gold"), f"{piece['fine_g']} g ({piece['fineness']} ‰)"),
        (_("Category"), str(_CATEGORIES.get(piece["category"], piece["category"]))),
        (_("Mines"), _origins_text(cert["origins"])),
        (_("Premium carried"), _premium_text(cert["premium"])),
        (_("Issued by"), f"{cert['issuer']['name']}, {cert['issued_at'][:10]}"),
    ]
    label_w = 27.0
    for label, value in rows:
        y = pdf.get_y()
        pdf.set_font("DejaVu", "B", 7.5)
        pdf.multi_cell(label_w, 3.6, label, new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.set_font("DejaVu", "", 7.5)
        pdf.set_xy(7 + label_w, y)
        pdf.multi_cell(text_w - label_w, 3.6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_y(max(pdf.get_y(), y + 3.6) + 0.6)

    # Bottom: the ledger anchor.
    proof = cert["proof"]
    anchor = _(
        "Ledger: event %(seq)s, hash %(hash)s…, checkpoint of %(size)s records (%(origin)s)",
        seq=proof["certificate_seq"],
        hash=cert["credential"]["credentialSubject"]["ledger"]["hash"][:16],
        size=proof["anchor"]["size"],
        origin=proof["origin"],
    )
    pdf.set_font("DejaVu", "", 6)
    pdf.set_text_color(80, 80, 80)
    pdf.set_xy(7, pdf.h - 7 - 6)
    pdf.multi_cell(pdf.w - 14, 2.8, anchor, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return pdf.output()


def _origins_text(origins: list[dict[str, Any]]) -> str:
    lines = []
    for o in origins[:_MAX_ORIGIN_LINES]:
        where = f" ({o['region']})" if o.get("region") else ""
        percent = Decimal(str(o.get("share", 0))) * 100
        share = f"{format_decimal(percent, format='0.0', locale=str(get_locale() or 'es'))} %"
        lines.append(f"{o.get('name') or o.get('mine')}{where} · {o.get('fine_g', '')} g · {share}")
    if len(origins) > _MAX_ORIGIN_LINES:
        lines.append(_("and %(n)s more", n=len(origins) - _MAX_ORIGIN_LINES))
    return "\n".join(lines) or "—"


def _premium_text(premium: list[dict[str, Any]]) -> str:
    return "\n".join(f"{p['name']}: USD {p['usd']}" for p in premium) or "—"
