"""``/certificates/check``: anyone uploads or pastes a proof bundle or a credential and sees every check."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from builders import certified_chain
from certificate_builders import make_piece
from goldtrace.ledger.bundle_verifier import BUNDLE_FORMAT
from goldtrace.services import certificates
from goldtrace.services.context import Context

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def cert_id(ledger: Session, ctx: Context) -> str:
    chain = certified_chain(ledger, ctx)
    ring = make_piece(ledger, ctx, chain)
    row = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring, description="Anillo")
    ledger.commit()
    return row.id


@pytest.fixture
def visitor(app: Flask) -> FlaskClient:
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    client.set_cookie("lang", "en")
    return client


def _token(client: FlaskClient) -> str:
    page = client.get("/certificates/check")
    assert page.status_code == 200
    match = CSRF.search(page.get_data(as_text=True))
    assert match, "the form has no CSRF token"
    return match.group(1)


def paste(client: FlaskClient, text: str) -> TestResponse:
    return client.post("/certificates/check", data={"csrf_token": _token(client), "pasted": text})


def upload(client: FlaskClient, data: bytes, name: str = "bundle.json") -> TestResponse:
    return client.post(
        "/certificates/check",
        data={"csrf_token": _token(client), "upload": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _verdict(res: TestResponse) -> str:
    match = re.search(r'data-verdict="(\w+)"', res.get_data(as_text=True))
    assert match, res.get_data(as_text=True)[:2000]
    return match.group(1)


def _marks(res: TestResponse) -> list[str]:
    return re.findall(r'data-ok="(\w+)"', res.get_data(as_text=True))


def _bundle(ledger: Session, ctx: Context, cert_id: str) -> dict[str, Any]:
    doc = certificates.bundle(ledger, ctx, cert_id)
    ledger.commit()
    return doc


def test_an_uploaded_bundle_shows_every_check_passed(
    visitor: FlaskClient, ledger: Session, ctx: Context, cert_id: str
) -> None:
    doc = _bundle(ledger, ctx, cert_id)
    res = upload(visitor, json.dumps(doc).encode())
    assert res.status_code == 200
    assert _verdict(res) == "valid"
    marks = _marks(res)
    assert "fail" not in marks
    assert marks.count("pass") >= len(doc["events"]) + 5
    html = res.get_data(as_text=True)
    assert "The issuer&#39;s signature on the certificate is genuine." in html
    assert "checked against this ledger&#39;s key" in html
    assert f"/v/{cert_id}" in html


def test_a_changed_bundle_fails_with_the_reason_in_plain_words(
    visitor: FlaskClient, ledger: Session, ctx: Context, cert_id: str
) -> None:
    doc = _bundle(ledger, ctx, cert_id)
    doc["credential"]["credentialSubject"]["fine_g"] = "70.000"
    res = paste(visitor, json.dumps(doc))
    assert res.status_code == 200
    assert _verdict(res) == "not_verifiable"
    html = res.get_data(as_text=True)
    assert "it was changed or forged" in html
    assert "differs from it" in html
    assert "fail" in _marks(res)


def test_a_credential_alone(
    visitor: FlaskClient, ledger: Session, ctx: Context, cert_id: str
) -> None:
    credential = certificates.credential_of(certificates.get_certificate(ledger, cert_id))
    res = paste(visitor, json.dumps(credential))
    assert _verdict(res) == "valid"
    html = res.get_data(as_text=True)
    assert "exactly as submitted" in html and "eddsa-jcs-2022" in html
    assert "fail" not in _marks(res)
    # A changed claim breaks the signature.
    changed = json.loads(json.dumps(credential))
    changed["credentialSubject"]["category"] = "fairmined_ecological"
    res = paste(visitor, json.dumps(changed))
    assert _verdict(res) == "not_verifiable"
    assert "it was changed or forged" in res.get_data(as_text=True)


def test_a_credential_this_ledger_did_not_issue(
    visitor: FlaskClient, ledger: Session, ctx: Context, cert_id: str
) -> None:
    credential = certificates.credential_of(certificates.get_certificate(ledger, cert_id))
    credential["credentialSubject"]["certificate"] = "GTC-ELSE-WHER"
    res = paste(visitor, json.dumps(credential))
    assert _verdict(res) == "not_verifiable"
    assert "did not issue certificate GTC-ELSE-WHER" in res.get_data(as_text=True)


def test_a_revoked_certificate(
    visitor: FlaskClient, ledger: Session, ctx: Context, cert_id: str
) -> None:
    before = _bundle(ledger, ctx, cert_id)  # downloaded while still valid
    row = certificates.get_certificate(ledger, cert_id)
    certificates.revoke(ledger, ctx, actor=row.issuer_id, cert_id=cert_id, reason="returned")
    ledger.commit()
    assert _verdict(upload(visitor, json.dumps(before).encode())) == "revoked"
    after = _bundle(ledger, ctx, cert_id)
    assert _verdict(upload(visitor, json.dumps(after).encode())) == "revoked"
    res = paste(visitor, json.dumps(certificates.credential_of(row)))
    assert _verdict(res) == "revoked"
    assert "Reason: returned" in res.get_data(as_text=True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Choose a file or paste"),
        ("   ", "Choose a file or paste"),
        ("{not json", "not valid JSON"),
        ("[1, 2, 3]", "neither a proof bundle nor a credential"),
        ('{"hello": "world"}', "neither a proof bundle nor a credential"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ],
)
def test_garbage_gets_a_clear_message(visitor: FlaskClient, text: str, message: str) -> None:
    res = paste(visitor, text)
    assert res.status_code == 400
    assert message in res.get_data(as_text=True)


@pytest.mark.parametrize(
    "doc",
    [
        {"format": BUNDLE_FORMAT},
        {"format": BUNDLE_FORMAT, "credential": {"proof": 1}, "events": "x", "keys": 7, "log": []},
        {"format": BUNDLE_FORMAT, "credential": {}, "events": [1, None, {"seq": "a"}]},
        {"proof": {}, "credentialSubject": []},
        {"proof": {"type": "DataIntegrityProof"}, "credentialSubject": {"certificate": 5}},
    ],
)
def test_malformed_documents_never_crash(visitor: FlaskClient, doc: dict[str, Any]) -> None:
    res = paste(visitor, json.dumps(doc))
    assert res.status_code in (200, 400)
    if res.status_code == 200:
        assert _verdict(res) == "not_verifiable"


def test_binary_upload_and_csrf_and_size_limit(visitor: FlaskClient) -> None:
    res = upload(visitor, b"\x89PNG\r\n\x1a\n\xff\xfe", "photo.png")
    assert res.status_code == 400
    assert "not a text file" in res.get_data(as_text=True)
    assert visitor.post("/certificates/check", data={"pasted": "{}"}).status_code == 400
    big = visitor.post(
        "/certificates/check",
        data=b"-" * (1024 * 1024 + 1),
        content_type="multipart/form-data; boundary=x",
    )
    assert big.status_code == 413
    assert "too large" in big.get_data(as_text=True)


def test_the_form_is_in_spanish_by_default(app: Flask) -> None:
    res = app.test_client().get("/certificates/check")
    assert res.status_code == 200
    assert '<html lang="es"' in res.get_data(as_text=True) or 'lang="es"' in res.get_data(
        as_text=True
    )
