"""The public verification page ``/v/<id>`` (no login), its QR codes, the printable card (HTML and PDF),
and ``/certificates/check``, where anyone checks a bundle or a credential they were handed."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
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
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from werkzeug.datastructures import FileStorage
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from goldtrace.db.session import is_postgres, read_only
from goldtrace.errors import NotFound
from goldtrace.ledger import bundle_verifier
from goldtrace.ledger.bundle_verifier import BUNDLE_FORMAT, CheckFailed
from goldtrace.services import certificate_views, certificates, transparency
from goldtrace.services.pdf_fonts import FONT_DIR as FONT_DIR
from goldtrace.services.pdf_fonts import add_fonts
from goldtrace.webapp.request_state import ctx, db
from goldtrace.webapp.ui.lots import TRANSFORM_LABELS

bp = Blueprint("verification", __name__)

MAX_PASTE = 1024 * 1024


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
        categories=_CATEGORIES,
        transform_labels=TRANSFORM_LABELS,
    )


@bp.get("/v/<cert_id>/card")
def card(cert_id: str) -> str:
    """A printable certificate card (A6, print CSS) with the QR code."""
    view = public_view(cert_id)
    return render_template(
        "certificates/card.html",
        cert=view,
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


# --- checking a bundle or a credential someone was handed ---------------------------------------


class CheckForm(FlaskForm):  # type: ignore[misc]
    upload = FileField(_l("A proof bundle or credential file (JSON)"))
    pasted = TextAreaField(_l("Or paste it here"), validators=[Optional(), Length(max=MAX_PASTE)])


@dataclass(frozen=True)
class CheckLine:
    """One check in plain words: passed (True), failed (False) or a note (None); ``detail`` is the
    verifier's own wording."""

    ok: bool | None
    text: str
    detail: str = ""


@dataclass
class CheckResult:
    """What was submitted, the verdict (``valid``, ``revoked``, ``not_verifiable``) and every check."""

    kind: str
    verdict: str
    certificate: str | None = None
    known_here: bool = False
    lines: list[CheckLine] = field(default_factory=list)


class Unreadable(Exception):
    """The submission is not a bundle or a credential; the message says why, in plain words."""


_PASSED: tuple[tuple[re.Pattern[str], Any], ...] = (
    (
        re.compile(r"witness (?P<name>\S+) cosignature"),
        _l("Witness %(name)s co-signed the ledger checkpoint."),
    ),
    (re.compile(r"credential proof"), _l("The issuer's signature on the certificate is genuine.")),
    (
        re.compile(r"checkpoint signed note"),
        _l("The ledger checkpoint carries a valid signature of the log."),
    ),
    (re.compile(r"key (?P<kid>\S+) encoding"), _l("Key %(kid)s is well formed.")),
    (
        re.compile(r"event (?P<seq>\S+)$"),
        _l(
            "Ledger record %(seq)s is intact, signed by a key valid at the time,"
            " and included in the checkpoint."
        ),
    ),
    (
        re.compile(r"key history of (?P<n>\d+) keys"),
        _l("The history of the %(n)s signing keys agrees with the ledger."),
    ),
    (
        re.compile(r"certificate event matches"),
        _l("The ledger records the issuing of this certificate, with the same claims and issuer."),
    ),
    (
        re.compile(r"credential anchor"),
        _l("The certificate's anchor in the ledger agrees with the checkpoint."),
    ),
    (re.compile(r"ancestry complete"), _l("Every earlier record the piece builds on is present.")),
    (
        re.compile(r"origins trace"),
        _l("Every stated mine registered gold in the piece's history."),
    ),
    (re.compile(r"revocation status"), _l("The certificate has not been revoked.")),
)

_FAILED: dict[str, Any] = {
    "bad_bundle": _l("The file is not a complete goldtrace proof bundle."),
    "bad_encoding": _l("A key or a signature is not correctly encoded."),
    "bad_key": _l("A key or a signature is not correctly encoded."),
    "credential_signature": _l(
        "The issuer's signature does not match the certificate: it was changed or forged."
    ),
    "checkpoint_signature": _l("The signature of the ledger checkpoint does not verify."),
    "event_hash": _l("A ledger record was altered."),
    "leaf": _l("A ledger record does not match its entry in the log."),
    "inclusion": _l("A ledger record is not proven to be in the checkpoint."),
    "unknown_key": _l("A record is signed by a key that the bundle does not contain."),
    "key_not_valid": _l("A record was signed with a key that was not valid at that time."),
    "event_signature": _l("The signature of a ledger record does not verify."),
    "key_history": _l("The history of a signing key is incomplete or wrong."),
    "certificate_event": _l("The ledger's record of the issuing does not match the certificate."),
    "anchor": _l("The certificate's anchor in the ledger does not check out."),
    "missing_ancestor": _l("A record the piece builds on is missing."),
    "origins": _l("A stated mine does not appear in the piece's history."),
    "revoked": _l("The certificate was revoked."),
    "revocation": _l("The revocation status cannot be established."),
    "witness_cosignature": _l("A witness's signature on the ledger checkpoint does not verify."),
    "witness_key": _l("A witness key is malformed or not the expected one."),
    "witness_missing": _l("An expected witness did not co-sign the ledger checkpoint."),
}


def _passed(label: str) -> CheckLine:
    for pattern, text in _PASSED:
        match = pattern.search(label)
        if match:
            return CheckLine(True, str(text) % match.groupdict(), label)
    return CheckLine(True, label)


def _failed(code: str, message: str) -> CheckLine:
    return CheckLine(False, str(_FAILED.get(code, _l("A check failed."))), message)


@bp.route("/certificates/check", methods=["GET", "POST"])
def check() -> tuple[str, int]:
    """Upload or paste a proof bundle or a credential; see every check and the verdict."""
    form = CheckForm()
    result: CheckResult | None = None
    problem: str | None = None
    if form.validate_on_submit():
        try:
            result = check_document(_parse(_submitted(form)))
        except Unreadable as exc:
            problem = str(exc)
    elif form.is_submitted():
        problem = " ".join(str(e) for errors in form.errors.values() for e in errors)
    status = 400 if problem else 200
    return render_template(
        "certificates/check.html", form=form, result=result, problem=problem
    ), status


def _submitted(form: CheckForm) -> bytes:
    upload = form.upload.data
    if isinstance(upload, FileStorage) and upload.filename:
        data: bytes = upload.read(MAX_PASTE + 1)
        if data.strip():
            return data
    if form.pasted.data and form.pasted.data.strip():
        return str(form.pasted.data).encode("utf-8")
    raise Unreadable(_("Choose a file or paste a proof bundle or a credential."))


def _parse(data: bytes) -> dict[str, Any]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable(_("This is not a text file: a bundle or a credential is JSON.")) from None
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise Unreadable(_("This is not valid JSON (%(detail)s).", detail=str(exc)[:200])) from None
    if not isinstance(doc, dict):
        raise Unreadable(_("This is JSON, but neither a proof bundle nor a credential."))
    return doc


def check_document(doc: dict[str, Any]) -> CheckResult:
    """Check a proof bundle (everything in it, offline) or a credential (its signature, and what this
    ledger knows of its certificate)."""
    try:
        if doc.get("format") == BUNDLE_FORMAT:
            return _check_bundle(doc)
        if "proof" in doc and "credentialSubject" in doc:
            return _check_credential(doc)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError) as exc:
        raise Unreadable(
            _(
                "The document is malformed and cannot be checked (%(detail)s).",
                detail=str(exc)[:200],
            )
        ) from None
    raise Unreadable(_("This is JSON, but neither a proof bundle nor a credential."))


def _certificate_id(credential: Any) -> str | None:
    subject = credential.get("credentialSubject") if isinstance(credential, dict) else None
    cert_id = subject.get("certificate") if isinstance(subject, dict) else None
    return cert_id if isinstance(cert_id, str) and len(cert_id) <= 64 else None


def _check_bundle(doc: dict[str, Any]) -> CheckResult:
    log = doc.get("log")
    ours = isinstance(log, dict) and log.get("origin") == ctx().origin
    report = bundle_verifier.verify_bundle(doc, log_key=_log_key() if ours else None)
    result = CheckResult("bundle", "valid", _certificate_id(doc.get("credential")))
    result.lines = [_passed(label) for label in report.checked]
    result.lines += [_failed(code, message) for code, message in report.failures]
    result.lines += [
        CheckLine(
            None,
            _(
                "A witness co-signed the checkpoint, but its key is not in the bundle:"
                " that signature was not checked."
            ),
            message,
        )
        for _code, message in report.notes
    ]
    if ours:
        result.lines.append(
            CheckLine(None, _("The checkpoint was checked against this ledger's key."))
        )
    else:
        result.lines.append(
            CheckLine(
                None,
                _(
                    "The bundle comes from another ledger: its log key was taken from the bundle;"
                    " compare it with the key that ledger publishes."
                ),
            )
        )
    revoked = "revoked" in report.codes
    if result.certificate is not None:
        revoked |= _compare_with_ledger(result, doc.get("credential"))
    result.verdict = _verdict(result, revoked)
    return result


def _check_credential(doc: dict[str, Any]) -> CheckResult:
    result = CheckResult("credential", "valid", _certificate_id(doc))
    try:
        key = bundle_verifier.verify_credential(doc)
    except CheckFailed as exc:
        result.lines.append(_failed(exc.code, exc.message))
    else:
        result.lines.append(
            CheckLine(
                True,
                _("The issuer's signature on the certificate is genuine."),
                f"{bundle_verifier.CRYPTOSUITE}, {bundle_verifier.multikey(key)}",
            )
        )
    revoked = False
    if result.certificate is None:
        result.lines.append(CheckLine(False, _("The credential names no goldtrace certificate.")))
    else:
        revoked = _compare_with_ledger(result, doc)
        if result.known_here and all(line.ok is not False for line in result.lines):
            # The credential is ours and unchanged: check the ledger's proofs of the piece too.
            report = bundle_verifier.verify_bundle(
                certificates.bundle(db(), ctx(), result.certificate), log_key=_log_key()
            )
            result.lines += [_passed(label) for label in report.checked]
            result.lines += [
                _failed(code, message) for code, message in report.failures if code != "revoked"
            ]
        elif not result.known_here:
            result.lines.append(
                CheckLine(
                    None,
                    _(
                        "Without its proof bundle, only the signature can be checked: ask the"
                        " seller for the bundle."
                    ),
                )
            )
    result.verdict = _verdict(result, revoked)
    return result


def _compare_with_ledger(result: CheckResult, credential: Any) -> bool:
    """Add what this ledger knows of the certificate; return True when it is revoked here."""
    assert result.certificate is not None
    try:
        row = certificates.get_certificate(db(), result.certificate)
    except NotFound:
        result.lines.append(
            CheckLine(
                False if result.kind == "credential" else None,
                _("This ledger did not issue certificate %(id)s.", id=result.certificate),
            )
        )
        return False
    result.known_here = True
    if certificates.credential_of(row) == credential:
        result.lines.append(
            CheckLine(
                True, _("This ledger issued certificate %(id)s, exactly as submitted.", id=row.id)
            )
        )
    else:
        result.lines.append(
            CheckLine(
                False,
                _(
                    "This ledger issued certificate %(id)s, but what you submitted differs from it.",
                    id=row.id,
                ),
            )
        )
    if row.revoked_seq is not None:
        result.lines.append(
            CheckLine(
                False,
                _(
                    "Revoked on %(at)s. Reason: %(reason)s",
                    at=row.revoked_at,
                    reason=row.revoked_reason,
                ),
            )
        )
        return True
    return False


def _verdict(result: CheckResult, revoked: bool) -> str:
    if revoked:
        return "revoked"
    return "not_verifiable" if any(line.ok is False for line in result.lines) else "valid"


def _log_key() -> str | None:
    try:
        return transparency.log_verifier(db(), ctx()).vkey()
    except NotFound:
        return None
