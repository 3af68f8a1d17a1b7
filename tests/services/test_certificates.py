"""Issuing, revoking and proving certificates, against the ledger's own replay and the offline verifier."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from sqlalchemy.orm import Session

from builders import Chain, certified_chain, register, sell
from certificate_builders import make_piece
from goldtrace.domain.lots import OutputSpec
from goldtrace.errors import Conflict, PermissionDenied, RuleViolation
from goldtrace.ledger import bundle_verifier as bv
from goldtrace.ledger.credentials import is_valid
from goldtrace.services import certificates, lots
from goldtrace.services.context import Context
from goldtrace.services.verify import verify_ledger


@pytest.fixture
def chain(ledger: Session, ctx: Context) -> Chain:
    return certified_chain(ledger, ctx)


def test_issue_signs_an_anchored_credential_and_replays(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    ring = make_piece(ledger, ctx, chain)
    row = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring, description="Anillo")
    credential = certificates.credential_of(row)
    assert is_valid(credential)
    subject = credential["credentialSubject"]
    assert subject["lot"] == ring and subject["category"] == "fairmined"
    assert [o["mine"] for o in subject["origins"]] == [chain.mine]
    assert subject["premium"][0]["committee"] == chain.mine
    assert subject["ledger"]["seq"] == row.issued_seq
    assert subject["ledger"]["checkpoint"]["size"] > row.issued_seq
    assert credential["proof"]["verificationMethod"].startswith("did:key:z6Mk")
    assert verify_ledger(ledger, ctx).ok


def test_the_bundle_verifies_offline(ledger: Session, ctx: Context, chain: Chain) -> None:
    ring = make_piece(ledger, ctx, chain)
    row = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring)
    doc = json.loads(json.dumps(certificates.bundle(ledger, ctx, row.id)))
    report = bv.verify_bundle(doc)
    assert report.ok, report.failures
    view = certificates.public_view(ledger, ctx, row.id)
    assert view["verdict"] == "valid"
    assert "price" not in json.dumps(view)


def test_a_refiner_certifies_a_bar(ledger: Session, ctx: Context, chain: Chain) -> None:
    dore = register(ledger, ctx, chain.eco_mine, category="fairmined_ecological")
    sell(ledger, ctx, dore, chain.eco_mine, chain.refiner)
    bar = lots.transform(
        ledger,
        ctx,
        actor=chain.refiner,
        kind="refine",
        inputs=[dore],
        outputs=[
            OutputSpec(
                id="", form="bar", mass_mg=800_000, fineness=9_999, category="fairmined_ecological"
            )
        ],
    ).lots[0]
    row = certificates.issue(ledger, ctx, actor=chain.refiner, lot_id=bar.id)
    assert (
        certificates.credential_of(row)["credentialSubject"]["category"] == "fairmined_ecological"
    )


def test_refusals(ledger: Session, ctx: Context, chain: Chain) -> None:
    ring = make_piece(ledger, ctx, chain)
    with pytest.raises(PermissionDenied):
        certificates.issue(ledger, ctx, actor=chain.refiner, lot_id=ring)
    dore = register(ledger, ctx, chain.mine)
    with pytest.raises(PermissionDenied) as exc:
        certificates.issue(ledger, ctx, actor=chain.mine, lot_id=dore)
    assert exc.value.code == "not_certifier"


def test_unsupported_category(ledger: Session, ctx: Context, chain: Chain) -> None:
    plain = register(ledger, ctx, chain.mine, category="none")
    sell(ledger, ctx, plain, chain.mine, chain.jeweler)
    ring = lots.transform(
        ledger,
        ctx,
        actor=chain.jeweler,
        kind="manufacture",
        inputs=[plain],
        outputs=[
            OutputSpec(id="", form="jewelry_item", mass_mg=900_000, fineness=9_000, category="none")
        ],
    ).lots[0]
    with pytest.raises(RuleViolation) as exc:
        certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring.id)
    assert exc.value.code == "unsupported_category"


def test_broken_chain_is_refused(ledger: Session, ctx: Context, chain: Chain) -> None:
    from goldtrace.db.models import Event

    ring = make_piece(ledger, ctx, chain)
    first = ledger.get(Event, lots.get_lot(ledger, ring).created_seq - 1)
    assert first is not None
    first.sig = bytes(64)
    ledger.flush()
    with pytest.raises(RuleViolation) as exc:
        certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring)
    assert exc.value.code == "broken_chain"


def test_revocation(ledger: Session, ctx: Context, chain: Chain) -> None:
    ring = make_piece(ledger, ctx, chain)
    row = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring)
    with pytest.raises(PermissionDenied):
        certificates.revoke(ledger, ctx, actor=chain.refiner, cert_id=row.id, reason="no")
    certificates.revoke(ledger, ctx, actor=chain.body, cert_id=row.id, reason="piece melted")
    with pytest.raises(Conflict):
        certificates.revoke(ledger, ctx, actor=chain.jeweler, cert_id=row.id, reason="again")
    assert certificates.public_view(ledger, ctx, row.id)["verdict"] == "revoked"
    report = bv.verify_bundle(certificates.bundle(ledger, ctx, row.id))
    assert report.codes == {"revoked"}
    assert verify_ledger(ledger, ctx).ok


# --- tampering with the bundle: each fails with its own reason ---------------------------------


@pytest.fixture
def bundle(ledger: Session, ctx: Context, chain: Chain) -> dict[str, Any]:
    ring = make_piece(ledger, ctx, chain)
    row = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring)
    doc: dict[str, Any] = json.loads(json.dumps(certificates.bundle(ledger, ctx, row.id)))
    assert bv.verify_bundle(doc).ok
    return doc


def _event(doc: dict[str, Any], type_: str) -> dict[str, Any]:
    for item in doc["events"]:
        if json.loads(base64.b64decode(item["body"]))["type"] == type_:
            return item
    raise AssertionError(type_)


def codes(doc: dict[str, Any]) -> set[str]:
    return bv.verify_bundle(doc).codes


def test_changed_credential_field(bundle: dict[str, Any]) -> None:
    bundle["credential"]["credentialSubject"]["fine_g"] = "99.000"
    assert "credential_signature" in codes(bundle)


def test_changed_event_body(bundle: dict[str, Any]) -> None:
    item = _event(bundle, "lot.receive")
    body = json.loads(base64.b64decode(item["body"]))
    body["mass_mg"] += 1
    item["body"] = base64.b64encode(json.dumps(body).encode()).decode()
    assert "event_hash" in codes(bundle)


def test_key_outside_its_validity(bundle: dict[str, Any]) -> None:
    item = _event(bundle, "lot.transform")
    key = next(k for k in bundle["keys"] if k["kid"] == item["kid"])
    key["valid_until_seq"] = item["seq"]
    assert "key_not_valid" in codes(bundle)


def test_inclusion_proof_for_another_checkpoint(
    ledger: Session, ctx: Context, chain: Chain, bundle: dict[str, Any]
) -> None:
    from goldtrace.services import transparency

    item = _event(bundle, "lot.register")
    register(ledger, ctx, chain.mine)
    bigger = transparency.cut_checkpoint(ledger, ctx)
    item["size"] = bigger.size
    item["proof"] = [
        base64.b64encode(h).decode()
        for h in transparency.inclusion_proof(ledger, item["seq"], bigger.size)
    ]
    assert "inclusion" in codes(bundle)


def test_checkpoint_signature_fails(bundle: dict[str, Any]) -> None:
    text, _, sigs = bundle["log"]["checkpoint"].partition("\n\n")
    lines = text.split("\n")
    lines[1] = str(int(lines[1]) + 1)
    bundle["log"]["checkpoint"] = "\n".join(lines) + "\n\n" + sigs
    assert "checkpoint_signature" in codes(bundle)


def test_missing_ancestor(bundle: dict[str, Any]) -> None:
    item = _event(bundle, "lot.dispatch")
    bundle["events"].remove(item)
    assert "missing_ancestor" in codes(bundle)


def test_revoked_status(bundle: dict[str, Any]) -> None:
    tampered = copy.deepcopy(bundle)
    tampered["status"] = {"revoked": True, "reason": "stolen"}
    assert codes(tampered) == {"revoked"}


def test_pinned_log_key(bundle: dict[str, Any]) -> None:
    assert bv.verify_bundle(bundle, log_key=bundle["log"]["key"]).ok
    other = bundle["log"]["key"][:-4] + "AAA="
    assert "checkpoint_signature" in bv.verify_bundle(bundle, log_key=other).codes


def test_verify_bundle_command(bundle: dict[str, Any], tmp_path: Any) -> None:
    from click.testing import CliRunner

    from goldtrace.cli import cli

    good = tmp_path / "good.json"
    good.write_text(json.dumps(bundle), encoding="utf-8")
    result = CliRunner().invoke(cli, ["verify-bundle", str(good)])
    assert result.exit_code == 0, result.output
    assert "ok   credential proof" in result.output and "VALID" in result.output
    bundle["credential"]["credentialSubject"]["category"] = "fairmined_ecological"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bundle), encoding="utf-8")
    result = CliRunner().invoke(cli, ["verify-bundle", str(bad)])
    assert result.exit_code == 1 and "FAIL credential_signature" in result.output
