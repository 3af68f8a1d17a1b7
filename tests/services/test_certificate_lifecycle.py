"""Issue 14, laundering resistance: one live certificate per lot, and a certificate lives only as long
as its lot. Checked in the services, in the ledger's replay (``goldtrace verify``) and by the offline
bundle verifier."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sqlalchemy.orm import Session

from builders import Chain, certified_chain, move, register, sell
from certificate_builders import make_piece
from goldtrace.db.models import Certificate
from goldtrace.domain.lots import OutputSpec
from goldtrace.errors import Conflict
from goldtrace.ledger import bundle_verifier as bv
from goldtrace.services import certificates, lots, transparency
from goldtrace.services.context import Context
from goldtrace.services.log import Draft, append
from goldtrace.services.verify import verify_ledger


@pytest.fixture
def chain(ledger: Session, ctx: Context) -> Chain:
    return certified_chain(ledger, ctx)


@pytest.fixture
def ring(ledger: Session, ctx: Context, chain: Chain) -> str:
    return make_piece(ledger, ctx, chain)


def melt(session: Session, ctx: Context, actor: str, lot_id: str) -> lots.Written:
    lot = lots.get_lot(session, lot_id)
    return lots.transform(
        session,
        ctx,
        actor=actor,
        kind="melt",
        inputs=[lot_id],
        outputs=[
            OutputSpec(
                id="",
                form="grain",
                mass_mg=lot.mass_mg - 100,
                fineness=lot.fineness,
                category=lot.category,
            )
        ],
    )


def fresh_bundle(session: Session, ctx: Context, cert_id: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(json.dumps(certificates.bundle(session, ctx, cert_id)))
    return doc


def failures(doc: dict[str, Any]) -> dict[str, str]:
    return dict(bv.verify_bundle(doc).failures)


# --- one live certificate per lot ---------------------------------------------------------------


def test_a_second_certificate_is_refused_until_the_first_is_revoked(
    ledger: Session, ctx: Context, chain: Chain, ring: str
) -> None:
    first = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring)
    size = transparency.head(ledger).size
    with pytest.raises(Conflict) as exc:
        certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring, description="again")
    assert exc.value.code == "lot_already_certified"
    assert first.id in exc.value.message
    assert transparency.head(ledger).size == size  # nothing was written
    certificates.revoke(ledger, ctx, actor=chain.jeweler, cert_id=first.id, reason="reissued")
    second = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring)
    assert certificates.live_certificate(ledger, ring) == second.id
    assert certificates.public_view(ledger, ctx, second.id)["verdict"] == "valid"
    assert verify_ledger(ledger, ctx).ok


def _raw_issue(session: Session, ctx: Context, actor: str, lot_id: str, cert_id: str) -> int:
    """A ``certificate.issue`` event appended as a writer that skips the services' checks would."""
    lot = lots.get_lot(session, lot_id)
    rec = append(
        session,
        ctx,
        Draft(
            type="certificate.issue",
            actor=actor,
            fields={"certificate": cert_id, "lot": lot_id, "subject": "0" * 64},
            prev=[lot.head],
        ),
    )
    return rec.seq


def test_verify_refuses_a_ledger_with_two_live_certificates_for_one_lot(
    ledger: Session, ctx: Context, chain: Chain, ring: str
) -> None:
    certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring)
    seq = _raw_issue(ledger, ctx, chain.jeweler, ring, "GTC-TWIN-AAAA")
    report = verify_ledger(ledger, ctx)
    assert [(f.seq, f.code) for f in report.faults] == [(seq, "lot_already_certified")]


def test_verify_accepts_a_new_certificate_after_the_revocation(
    ledger: Session, ctx: Context, chain: Chain, ring: str
) -> None:
    first = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring)
    certificates.revoke(ledger, ctx, actor=chain.body, cert_id=first.id, reason="wrong piece")
    _raw_issue(ledger, ctx, chain.jeweler, ring, "GTC-NEXT-AAAA")
    assert verify_ledger(ledger, ctx).ok


# --- a certificate lives with its lot -----------------------------------------------------------


def test_melting_the_piece_ends_its_certificate(
    ledger: Session, ctx: Context, chain: Chain, ring: str
) -> None:
    row = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring)
    assert certificates.status(ledger, row) == {"state": "valid", "valid": True, "revoked": False}
    melted = melt(ledger, ctx, chain.jeweler, ring)
    at = transparency.event(ledger, melted.seq).logged_at

    expected = {
        "state": "lot_consumed",
        "valid": False,
        "revoked": False,
        "seq": melted.seq,
        "at": at,
        "by": chain.jeweler,
        "kind": "melt",
    }
    assert certificates.status(ledger, row) == expected
    view = certificates.public_view(ledger, ctx, row.id)
    assert view["verdict"] == "lot_consumed" and view["status"] == expected
    assert view["reasons"] == [f"the lot was consumed by event {melted.seq} (melt) at {at}"]
    assert view["revocation"] == {"revoked": False}
    doc = fresh_bundle(ledger, ctx, row.id)
    assert doc["status"] == expected
    found = failures(doc)
    assert set(found) == {"lot_consumed"}
    assert f"consumed by event {melted.seq} (melt) at {at}" in found["lot_consumed"]
    assert verify_ledger(ledger, ctx).ok


def test_a_bar_stays_certified_when_dispatched_and_ends_when_made_into_pieces(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    dore = register(ledger, ctx, chain.mine)
    sell(ledger, ctx, dore, chain.mine, chain.refiner)
    bar = lots.transform(
        ledger,
        ctx,
        actor=chain.refiner,
        kind="refine",
        inputs=[dore],
        outputs=[
            OutputSpec(id="", form="bar", mass_mg=895_000, fineness=9_999, category="fairmined")
        ],
    ).lots[0]
    row = certificates.issue(ledger, ctx, actor=chain.refiner, lot_id=bar.id)
    move(ledger, ctx, bar.id, chain.refiner, chain.jeweler)
    assert certificates.public_view(ledger, ctx, row.id)["verdict"] == "valid"
    assert bv.verify_bundle(fresh_bundle(ledger, ctx, row.id)).ok

    made = lots.transform(
        ledger,
        ctx,
        actor=chain.jeweler,
        kind="manufacture",
        inputs=[bar.id],
        outputs=[
            OutputSpec(
                id="", form="jewelry_item", mass_mg=1_100_000, fineness=8_000, category="fairmined"
            )
        ],
        alloy_mass_mg=250_000,
    )
    status = certificates.status(ledger, row)
    assert (status["state"], status["seq"], status["kind"]) == (
        "lot_consumed",
        made.seq,
        "manufacture",
    )
    assert status["by"] == chain.jeweler
    assert set(failures(fresh_bundle(ledger, ctx, row.id))) == {"lot_consumed"}
    # The piece made of the bar is a new lot: it may have its own certificate.
    piece = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=made.lots[0].id)
    assert certificates.public_view(ledger, ctx, piece.id)["verdict"] == "valid"
    assert verify_ledger(ledger, ctx).ok


def test_voiding_the_event_that_made_the_piece_ends_its_certificate(
    ledger: Session, ctx: Context, chain: Chain, ring: str
) -> None:
    row = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring)
    made = lots.get_lot(ledger, ring).created_seq
    void = lots.void_event(ledger, ctx, actor=chain.jeweler, seq=made, reason="wrong alloy")
    status = certificates.status(ledger, row)
    assert status == {
        "state": "lot_voided",
        "valid": False,
        "revoked": False,
        "seq": void.seq,
        "at": transparency.event(ledger, void.seq).logged_at,
        "by": chain.jeweler,
        "reason": "wrong alloy",
        "target": made,
    }
    view = certificates.public_view(ledger, ctx, row.id)
    assert view["verdict"] == "lot_voided"
    assert (
        f"voided by event {void.seq}" in view["reasons"][0] and "wrong alloy" in view["reasons"][0]
    )
    found = failures(fresh_bundle(ledger, ctx, row.id))
    assert set(found) == {"lot_voided"} and f"voided by event {void.seq}" in found["lot_voided"]


def test_voiding_a_later_event_the_certificate_stood_on_is_not_an_end_of_the_lot(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    dore = register(ledger, ctx, chain.mine)
    sell(ledger, ctx, dore, chain.mine, chain.refiner)
    bar = lots.transform(
        ledger,
        ctx,
        actor=chain.refiner,
        kind="refine",
        inputs=[dore],
        outputs=[
            OutputSpec(id="", form="bar", mass_mg=895_000, fineness=9_999, category="fairmined")
        ],
    ).lots[0]
    assay = lots.assay_lot(ledger, ctx, actor=chain.refiner, lot_id=bar.id, fineness=9_990)
    row = certificates.issue(ledger, ctx, actor=chain.refiner, lot_id=bar.id)
    lots.void_event(ledger, ctx, actor=chain.refiner, seq=assay.seq, reason="wrong sample")
    # The bar exists (with its fineness before the assay): the certificate has not ended, but the
    # state it vouched for was withdrawn, so it cannot be verified.
    assert certificates.status(ledger, row)["state"] == "valid"
    view = certificates.public_view(ledger, ctx, row.id)
    assert view["verdict"] == "not_verifiable" and "wrong sample" in view["reasons"][0]


def test_voiding_the_melt_gives_the_piece_and_its_certificate_back(
    ledger: Session, ctx: Context, chain: Chain, ring: str
) -> None:
    row = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring)
    melted = melt(ledger, ctx, chain.jeweler, ring)
    lots.void_event(ledger, ctx, actor=chain.jeweler, seq=melted.seq, reason="wrong piece")
    assert certificates.status(ledger, row)["state"] == "valid"
    assert bv.verify_bundle(fresh_bundle(ledger, ctx, row.id)).ok
    with pytest.raises(Conflict) as exc:
        certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring)
    assert exc.value.code == "lot_already_certified"


def test_a_certificate_of_a_melted_piece_can_still_be_revoked(
    ledger: Session, ctx: Context, chain: Chain, ring: str
) -> None:
    row = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring)
    melted = melt(ledger, ctx, chain.jeweler, ring)
    certificates.revoke(ledger, ctx, actor=chain.jeweler, cert_id=row.id, reason="melted")
    stored = ledger.get(Certificate, row.id)
    assert stored is not None and stored.revoked_seq is not None
    status = certificates.status(ledger, row)
    # It stopped being valid when the piece was melted; the revocation came later.
    assert (status["state"], status["seq"], status["revoked"]) == ("lot_consumed", melted.seq, True)
    view = certificates.public_view(ledger, ctx, row.id)
    assert view["verdict"] == "lot_consumed" and view["revocation"]["reason"] == "melted"
    assert set(failures(fresh_bundle(ledger, ctx, row.id))) == {"revoked", "lot_consumed"}
    assert verify_ledger(ledger, ctx).ok


# --- the bundle verifier checks a lot-ending claim against the events it carries ---------------


def _body(item: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(base64.b64decode(item["body"]))
    return body


def test_a_bundle_claiming_valid_over_a_melt_it_carries_fails(
    ledger: Session, ctx: Context, chain: Chain, ring: str
) -> None:
    row = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring)
    melted = melt(ledger, ctx, chain.jeweler, ring)
    doc = fresh_bundle(ledger, ctx, row.id)
    doc["status"] = {"state": "valid", "valid": True, "revoked": False}
    found = failures(doc)
    assert set(found) == {"lot_consumed"} and f"event {melted.seq}" in found["lot_consumed"]


def test_a_claimed_melt_the_bundle_does_not_carry_still_ends_the_certificate(
    ledger: Session, ctx: Context, chain: Chain, ring: str
) -> None:
    row = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring)
    melted = melt(ledger, ctx, chain.jeweler, ring)
    doc = fresh_bundle(ledger, ctx, row.id)
    doc["events"] = [e for e in doc["events"] if e["seq"] != melted.seq]
    found = failures(doc)
    assert set(found) == {"lot_consumed"}
    assert "does not carry that event" in found["lot_consumed"]


@pytest.mark.parametrize("lie", ["another_event", "another_time", "another_kind"])
def test_a_lot_ending_claim_that_the_carried_events_contradict_fails(
    ledger: Session, ctx: Context, chain: Chain, ring: str, lie: str
) -> None:
    row = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring)
    melted = melt(ledger, ctx, chain.jeweler, ring)
    doc = fresh_bundle(ledger, ctx, row.id)
    if lie == "another_event":
        dispatch = next(e for e in doc["events"] if _body(e)["type"] == "lot.dispatch")
        doc["status"]["seq"] = dispatch["seq"]
    elif lie == "another_time":
        doc["status"]["at"] = "2020-01-01T00:00:00.000Z"
    else:
        doc["status"]["kind"] = "refine"
    found = failures(doc)
    assert set(found) == {"status_mismatch", "lot_consumed"}
    assert f"event {melted.seq}" in found["lot_consumed"]


def test_a_valid_bundle_claiming_its_lot_consumed_fails(
    ledger: Session, ctx: Context, chain: Chain, ring: str
) -> None:
    row = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring)
    doc = fresh_bundle(ledger, ctx, row.id)
    assert bv.verify_bundle(doc).ok
    doc["status"] = {"state": "lot_consumed", "valid": False, "seq": row.issued_seq, "kind": "melt"}
    assert set(failures(doc)) == {"status_mismatch"}
    doc["status"] = {"state": "melted"}
    assert set(failures(doc)) == {"status_mismatch"}


def test_verify_bundle_command_names_the_melt(
    ledger: Session, ctx: Context, chain: Chain, ring: str, tmp_path: Any
) -> None:
    from click.testing import CliRunner

    from goldtrace.cli import cli

    row = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring)
    melted = melt(ledger, ctx, chain.jeweler, ring)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(fresh_bundle(ledger, ctx, row.id)), encoding="utf-8")
    result = CliRunner().invoke(cli, ["verify-bundle", str(path)])
    assert result.exit_code == 1, result.output
    assert f"FAIL lot_consumed: lot lifecycle: the lot was consumed by event {melted.seq}" in (
        result.output
    )
    assert "ok   status claim" in result.output and "NOT VALID" in result.output
