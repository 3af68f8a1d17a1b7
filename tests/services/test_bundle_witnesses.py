"""Witness cosignatures in the offline bundle: carried with the witnesses' keys, and each one checked."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from builders import certified_chain
from certificate_builders import make_piece
from goldtrace.cli import cli
from goldtrace.ledger import bundle_verifier as bv
from goldtrace.ledger import note
from goldtrace.services import certificates, transparency, witnesses
from goldtrace.services.context import Context

WITNESS = "witness.test/w1"


def cosigner(name: str = WITNESS) -> note.Signer:
    return note.Signer(name, Ed25519PrivateKey.generate(), note.SIG_TYPE_COSIGNATURE)


@pytest.fixture
def witness() -> note.Signer:
    return cosigner()


@pytest.fixture
def bundle(ledger: Session, ctx: Context, witness: note.Signer) -> dict[str, Any]:
    """The bundle of a certified ring whose checkpoint a registered witness cosigned."""
    chain = certified_chain(ledger, ctx)
    row = certificates.issue(
        ledger, ctx, actor=chain.jeweler, lot_id=make_piece(ledger, ctx, chain)
    )
    latest = transparency.latest_checkpoint(ledger)
    assert latest is not None
    witnesses.register_witness(ledger, witness.verifier.vkey())
    witnesses.add_cosignature(ledger, witness.cosign(note.parse_note(latest.note).text, 1768478460))
    doc: dict[str, Any] = json.loads(json.dumps(certificates.bundle(ledger, ctx, row.id)))
    return doc


def test_the_bundle_carries_the_cosignature_and_the_witness_key(
    bundle: dict[str, Any], witness: note.Signer
) -> None:
    assert bundle["log"]["witnesses"] == [witness.verifier.vkey()]
    assert f"\n— {WITNESS} " in bundle["log"]["checkpoint"]
    report = bv.verify_bundle(bundle)
    assert report.ok, report.failures
    assert report.witnesses == {WITNESS: "verified"}
    assert f"witness {WITNESS} cosignature (key from the bundle)" in report.checked
    assert report.notes == []


def test_a_tampered_cosignature_fails(bundle: dict[str, Any]) -> None:
    text, _, lines = bundle["log"]["checkpoint"].partition("\n\n")
    signed = []
    for line in lines.splitlines():
        name, blob = line[2:].split(" ")
        if name == WITNESS:
            raw = bytearray(base64.b64decode(blob))
            raw[-1] ^= 1
            line = f"— {name} {base64.b64encode(bytes(raw)).decode()}"
        signed.append(line + "\n")
    bundle["log"]["checkpoint"] = text + "\n\n" + "".join(signed)
    report = bv.verify_bundle(bundle)
    assert report.codes == {"witness_cosignature"}
    assert f"the cosignature by {WITNESS} does not verify" in report.failures[0][1]
    assert report.witnesses == {WITNESS: "failed"}


def test_a_cosignature_by_an_unknown_witness_is_unverified_not_accepted(
    bundle: dict[str, Any],
) -> None:
    bundle["log"]["witnesses"] = []
    report = bv.verify_bundle(bundle)
    assert report.ok  # nothing failed, but nothing about the witness was checked either
    assert report.witnesses == {WITNESS: "unverified"}
    assert [code for code, _ in report.notes] == ["unverified_witness"]
    assert not any("witness" in label for label in report.checked)


def test_a_witness_key_of_another_type_in_the_bundle_is_refused(bundle: dict[str, Any]) -> None:
    log_type = note.Signer(WITNESS, Ed25519PrivateKey.generate()).verifier.vkey()
    bundle["log"]["witnesses"] = [log_type]
    report = bv.verify_bundle(bundle)
    assert "bad_bundle" in report.codes
    assert report.witnesses == {WITNESS: "unverified"}


def test_a_pinned_witness_verifies_with_the_pinned_key(
    bundle: dict[str, Any], witness: note.Signer
) -> None:
    bundle["log"]["witnesses"] = []
    report = bv.verify_bundle(bundle, witness_keys=[witness.verifier.vkey()])
    assert report.ok, report.failures
    assert f"witness {WITNESS} cosignature (pinned key)" in report.checked


def test_a_pinned_witness_that_did_not_cosign_fails(bundle: dict[str, Any]) -> None:
    other = cosigner("witness.test/w2").verifier.vkey()
    report = bv.verify_bundle(bundle, witness_keys=[other])
    assert report.codes == {"witness_missing"}
    assert report.witnesses == {WITNESS: "verified"}


def test_a_pinned_key_that_differs_from_the_bundles_fails(bundle: dict[str, Any]) -> None:
    impostor = cosigner(WITNESS).verifier.vkey()
    report = bv.verify_bundle(bundle, witness_keys=[impostor])
    assert report.codes == {"witness_key", "witness_missing"}
    assert report.witnesses == {WITNESS: "unverified"}


def test_verify_bundle_command_with_witness_keys(
    bundle: dict[str, Any], witness: note.Signer, tmp_path: Path
) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    runner = CliRunner()
    pinned = runner.invoke(
        cli, ["verify-bundle", str(path), "--witness-key", witness.verifier.vkey()]
    )
    assert pinned.exit_code == 0, pinned.output
    assert f"ok   witness {WITNESS} cosignature (pinned key)" in pinned.output

    missing = cosigner("witness.test/w2").verifier.vkey()
    result = runner.invoke(
        cli,
        [
            "verify-bundle",
            str(path),
            "--witness-key",
            witness.verifier.vkey(),
            "--witness-key",
            missing,
        ],
    )
    assert result.exit_code == 1
    assert "FAIL witness_missing: pinned witness witness.test/w2" in result.output

    bad = runner.invoke(cli, ["verify-bundle", str(path), "--witness-key", "w+00+AA=="])
    assert bad.exit_code == 2 and "--witness-key" in bad.output

    bundle["log"]["witnesses"] = []
    path.write_text(json.dumps(bundle), encoding="utf-8")
    unknown = runner.invoke(cli, ["verify-bundle", str(path)])
    assert unknown.exit_code == 0, unknown.output
    assert f"note: {WITNESS} cosigned the checkpoint" in unknown.output
    assert "unverified" in unknown.output
