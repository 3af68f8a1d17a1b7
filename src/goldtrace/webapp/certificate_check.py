"""``/certificates/check``: anyone uploads or pastes a proof bundle or a credential they were handed
and sees every check in plain words, and the verdict; a certificate of this ledger is also compared
with what the ledger holds now."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from goldtrace.errors import NotFound
from goldtrace.ledger import bundle_verifier
from goldtrace.ledger.bundle_verifier import BUNDLE_FORMAT, CheckFailed
from goldtrace.services import certificates, transparency
from goldtrace.webapp.request_state import ctx, db
from goldtrace.webapp.verify_page import status_text

bp = Blueprint("certificate_check", __name__)

MAX_PASTE = 1024 * 1024
# The verdicts of a certificate that has ended, which say more than "cannot be verified".
ENDED = ("revoked", "lot_consumed", "lot_voided")


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
    """What was submitted, the verdict (``valid``, ``revoked``, ``lot_consumed``, ``lot_voided``,
    ``not_verifiable``) and every check."""

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
    (
        re.compile(r"lot lifecycle"),
        _l("No record in the bundle used up or voided the piece after the certificate was issued."),
    ),
    (
        re.compile(r"status claim"),
        _l("The status the bundle states agrees with the records it carries."),
    ),
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
    "lot_consumed": _l(
        "The piece was used up in a transformation (melted, refined, split, merged, alloyed or"
        " made into another piece): the certificate is no longer valid."
    ),
    "lot_voided": _l("The record of the piece was voided: the certificate is no longer valid."),
    "status_mismatch": _l("The status the bundle states contradicts the records it carries."),
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
    # Of several endings the checks found, the one the bundle's status names is the verdict.
    status = doc.get("status")
    claimed = status.get("state") if isinstance(status, dict) else None
    endings = [code for code in ENDED if code in report.codes]
    ended = claimed if claimed in endings else next(iter(endings), None)
    if result.certificate is not None:
        ended = _compare_with_ledger(result, doc.get("credential")) or ended
    result.verdict = _verdict(result, ended)
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
    ended = None
    if result.certificate is None:
        result.lines.append(CheckLine(False, _("The credential names no goldtrace certificate.")))
    else:
        ended = _compare_with_ledger(result, doc)
        if result.known_here and all(line.ok is not False for line in result.lines):
            # The credential is ours and unchanged: check the ledger's proofs of the piece too.
            report = bundle_verifier.verify_bundle(
                certificates.bundle(db(), ctx(), result.certificate), log_key=_log_key()
            )
            result.lines += [_passed(label) for label in report.checked]
            result.lines += [
                _failed(code, message) for code, message in report.failures if code not in ENDED
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
    result.verdict = _verdict(result, ended)
    return result


def _compare_with_ledger(result: CheckResult, credential: Any) -> str | None:
    """Add what this ledger knows of the certificate; return its state here when it has ended
    (``revoked``, ``lot_consumed``, ``lot_voided``), else None."""
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
        return None
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
    status = certificates.status(db(), row)
    if status["valid"]:
        return None
    result.lines.append(CheckLine(False, status_text(status)))
    return str(status["state"])


def _verdict(result: CheckResult, ended: str | None) -> str:
    if ended is not None:
        return ended
    return "not_verifiable" if any(line.ok is False for line in result.lines) else "valid"


def _log_key() -> str | None:
    try:
        return transparency.log_verifier(db(), ctx()).vkey()
    except NotFound:
        return None
