"""Witnesses: registered keys, cosignatures checked against them, and the witness client."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from builders import ledger_with_events
from goldtrace import witness
from goldtrace.audit import RemoteError
from goldtrace.config import Settings
from goldtrace.db.models import LogKey, Witness
from goldtrace.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from goldtrace.ledger import note
from goldtrace.services import transparency, witnesses
from goldtrace.services.context import Context
from goldtrace.webapp import create_app, security, witness_api

BASE = "http://log.test"


def cosigner(name: str = "witness.test/w1") -> note.Signer:
    return note.Signer(name, Ed25519PrivateKey.generate(), note.SIG_TYPE_COSIGNATURE)


@pytest.fixture
def app(settings: Settings, connection: Connection) -> Flask:
    sessions = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app = create_app(settings, sessions=sessions)
    if "witness_api" not in app.blueprints:  # until create_app registers it
        security.csrf.exempt(witness_api.bp)
        app.register_blueprint(witness_api.bp)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def logged(ledger: Session, ctx: Context) -> Session:
    ledger_with_events(ledger, ctx, 6)
    transparency.cut_checkpoint(ledger, ctx)
    return ledger


def checkpoint_text(session: Session) -> tuple[int, str]:
    latest = transparency.latest_checkpoint(session)
    assert latest is not None
    return latest.size, note.parse_note(latest.note).text


def test_register_is_idempotent_and_refuses_log_keys_and_a_second_key(logged: Session) -> None:
    w = cosigner()
    witnesses.register_witness(logged, w.verifier.vkey())
    witnesses.register_witness(logged, w.verifier.vkey())
    with pytest.raises(Conflict):
        witnesses.register_witness(logged, cosigner().verifier.vkey())
    plain = note.Signer("w2", Ed25519PrivateKey.generate())
    with pytest.raises(InvalidInput):
        witnesses.register_witness(logged, plain.verifier.vkey())


def test_a_witness_key_of_small_order_is_refused(logged: Session) -> None:
    """Under the identity as key, (B, 1) would pass as a cosignature of anything."""
    identity = bytes([1]) + bytes(31)
    vkey = note.Verifier.from_public_key("w-weak", identity, note.SIG_TYPE_COSIGNATURE).vkey()
    with pytest.raises(InvalidInput) as refused:
        witnesses.register_witness(logged, vkey)
    assert refused.value.code == "bad_public_key"
    assert logged.get(Witness, "w-weak") is None


def test_cosignature_by_a_registered_witness_is_stored(logged: Session) -> None:
    w = cosigner()
    witnesses.register_witness(logged, w.verifier.vkey())
    size, text = checkpoint_text(logged)
    line = w.cosign(text, 1768478460)
    row = witnesses.add_cosignature(logged, line)
    assert (row.checkpoint_size, row.timestamp) == (size, 1768478460)
    assert witnesses.cosignatures_for(logged, size) == [line]
    again = witnesses.add_cosignature(logged, w.cosign(text, 1768478999), size)
    assert again.timestamp == 1768478460, "one cosignature per witness and checkpoint"


def test_unknown_witness_and_bad_signature_are_refused(logged: Session) -> None:
    w = cosigner()
    size, text = checkpoint_text(logged)
    with pytest.raises(PermissionDenied) as unknown:
        witnesses.add_cosignature(logged, w.cosign(text, 1))
    assert unknown.value.code == "unknown_witness"
    witnesses.register_witness(logged, w.verifier.vkey())
    other_text = text.replace(str(size), str(size + 1), 1)
    with pytest.raises(PermissionDenied) as bad:
        witnesses.add_cosignature(logged, w.cosign(other_text, 1))
    assert bad.value.code == "bad_cosignature"
    with pytest.raises(NotFound):
        witnesses.add_cosignature(logged, w.cosign(text, 1), size + 100)
    assert witnesses.cosignatures_for(logged, size) == []


def test_post_cosignatures_endpoint(logged: Session, client: FlaskClient) -> None:
    w = cosigner()
    size, text = checkpoint_text(logged)
    body = text + "\n" + w.cosign(text, 5)
    assert client.post("/api/v1/log/cosignatures", data=body).status_code == 403
    witnesses.register_witness(logged, w.verifier.vkey())
    logged.flush()
    ok = client.post("/api/v1/log/cosignatures", data=body, content_type="text/plain")
    assert ok.status_code == 200, ok.get_data(as_text=True)
    assert ok.get_json() == {"size": size, "accepted": [w.name]}
    forged = body[:-10] + ("A" if body[-10] != "A" else "B") + body[-9:]
    assert client.post("/api/v1/log/cosignatures", data=forged).status_code in (400, 403)
    assert client.post("/api/v1/log/cosignatures", data="not a note").status_code == 400
    unsigned = text.replace(str(size), "999", 1)
    assert (
        client.post(
            "/api/v1/log/cosignatures", data=unsigned + "\n" + w.cosign(unsigned, 5)
        ).status_code
        == 404
    )


def test_checkpoint_endpoint_carries_cosignatures(logged: Session, client: FlaskClient) -> None:
    w = cosigner()
    witnesses.register_witness(logged, w.verifier.vkey())
    _size, text = checkpoint_text(logged)
    line = w.cosign(text, 1768478460)
    witnesses.add_cosignature(logged, line)
    logged.flush()
    served = client.get("/api/v1/log/checkpoint").get_data(as_text=True)
    assert served.endswith(line)
    cosigned = note.verify_note(served, [w.verifier])
    assert len(cosigned.signatures) == 2


def routed(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Send the witness client's HTTP through the test client; return overrides by path."""
    overrides: dict[str, str] = {}

    def fetch(base: str, path: str, params: dict[str, int] | None = None) -> bytes:
        if path in overrides:
            return overrides[path].encode()
        resp = client.get(path, query_string=params or {})
        if resp.status_code != 200:
            raise RemoteError(f"GET {path}: HTTP {resp.status_code}")
        return resp.get_data()

    def fetch_json(base: str, path: str, params: dict[str, int] | None = None) -> Any:
        import json

        return json.loads(fetch(base, path, params))

    def post(base: str, body: str) -> str:
        resp = client.post("/api/v1/log/cosignatures", data=body, content_type="text/plain")
        if resp.status_code != 200:
            raise RemoteError(f"POST: HTTP {resp.status_code} {resp.get_data(as_text=True)}")
        return resp.get_data(as_text=True)

    funcs: dict[str, Callable[..., Any]] = {
        "fetch": fetch,
        "fetch_json": fetch_json,
        "post_cosignature": post,
    }
    for name, func in funcs.items():
        monkeypatch.setattr(witness, name, func)
    return overrides


def test_witness_client_cosigns_and_refuses_an_inconsistent_checkpoint(
    logged: Session,
    ctx: Context,
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    overrides = routed(client, monkeypatch)
    signer, created = witness.load_or_create_key(tmp_path / "w.key", "witness.test/w1")
    assert created
    again, created_again = witness.load_or_create_key(tmp_path / "w.key", "witness.test/w1")
    assert not created_again and again.verifier == signer.verifier
    witnesses.register_witness(logged, signer.verifier.vkey())
    logged.flush()
    state = tmp_path / "w.json"

    first = witness.witness_once(BASE, state, signer, now=100)
    assert first.ok, first.message
    assert len(witnesses.cosignatures_for(logged, first.size)) == 1

    ledger_with_events(logged, ctx, 9)
    second_cp = transparency.cut_checkpoint(logged, ctx)
    logged.flush()
    second = witness.witness_once(BASE, state, signer, now=200)
    assert second.ok and second.size == second_cp.size == 9

    # The log key signs a root the log never had, at a size the log does have.
    ledger_with_events(logged, ctx, 12)
    logged.flush()
    key_row = logged.get(LogKey, ctx.origin)
    assert key_row is not None
    log_signer = note.Signer(
        ctx.origin, ctx.seal.open(key_row.private_key_sealed, transparency._seal_id(ctx.origin))
    )
    bogus = note.sign_checkpoint(note.Checkpoint(ctx.origin, 12, b"\x07" * 32), log_signer)
    overrides["/api/v1/log/checkpoint"] = bogus
    refused = witness.witness_once(BASE, state, signer, now=300)
    assert not refused.ok
    assert "inconsistent" in refused.message
    assert refused.evidence is not None
    evidence = refused.evidence.read_text()
    assert bogus in evidence and second_cp.note in evidence
    assert witnesses.cosignatures_for(logged, 12) == []
