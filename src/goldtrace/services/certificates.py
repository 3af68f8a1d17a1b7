"""Certificates: issuing and revoking signed credentials for a piece or a bar, and proving them offline.

Issuing appends a ``certificate.issue`` event that commits to the digest of the credential's claims,
cuts a checkpoint that includes it, then signs the credential (anchored to that event and checkpoint)
with the issuer's organization key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from goldtrace.db.models import Certificate, Cosignature, Event, Lot, OrgKey, Voided, Witness
from goldtrace.domain import certificates as lifecycle
from goldtrace.domain import certification as certs
from goldtrace.domain.book import check_certifiable
from goldtrace.domain.instants import now_instant
from goldtrace.domain.quantities import fine_mg, format_fineness, format_mass, format_money
from goldtrace.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from goldtrace.ledger import bundle_verifier, note
from goldtrace.ledger.bundle_verifier import BUNDLE_FORMAT
from goldtrace.ledger.canonical import canonical, normalize
from goldtrace.ledger.credentials import VC_CONTEXT, sign_credential
from goldtrace.ledger.verifier import StoredEvent
from goldtrace.services import transparency, witnesses
from goldtrace.services.context import Context
from goldtrace.services.log import Draft, append, lock_head
from goldtrace.services.lots import get_lot, view
from goldtrace.services.organizations import get_org, standard_body_id
from goldtrace.services.provenance import ancestry, premium_carried, provenance


def new_certificate_id() -> str:
    """A fresh certificate id such as ``GTC-7KQ2-MZXA`` (40 random bits, base32)."""
    text = base64.b32encode(secrets.token_bytes(5)).decode("ascii")
    return f"GTC-{text[:4]}-{text[4:]}"


def verify_url(ctx: Context, cert_id: str) -> str:
    """The public verification URL a QR code encodes."""
    return f"{ctx.settings.base_url}/v/{cert_id}"


def get_certificate(session: Session, cert_id: str) -> Certificate:
    """The certificate; NotFound when there is none."""
    row = session.get(Certificate, cert_id)
    if row is None:
        raise NotFound(f"unknown certificate {cert_id!r}", code="unknown_certificate")
    return row


def credential_of(row: Certificate) -> dict[str, Any]:
    """The signed credential as issued."""
    data: dict[str, Any] = json.loads(row.credential)
    return data


def _check_chain(session: Session, lot_id: str, category: str) -> None:
    """Refuse a lot whose ancestry does not verify, has a voided lot, or cannot carry its category."""
    found = ancestry(session, lot_id)
    if found.problems:
        raise RuleViolation(
            f"the lot's chain does not verify: {found.problems[0]}", code="broken_chain"
        )
    if any(lot.status == "voided" for lot in found.lots.values()):
        raise RuleViolation("an ancestor of the lot was voided", code="voided_ancestor")
    supported = certs.lowest(lot.category for lot in found.lots.values())
    if certs.RANK[category] > certs.RANK[supported]:
        raise RuleViolation(
            f"the chain supports only {supported}, not {category}", code="unsupported_category"
        )


def _claims(session: Session, cert_id: str, lot_id: str, description: str | None) -> dict[str, Any]:
    lot = get_lot(session, lot_id)
    doc = provenance(session, lot_id)
    carried = premium_carried(session, lot_id)
    orgs = {mine: get_org(session, mine) for mine in carried}
    claims: dict[str, Any] = {
        "id": f"urn:goldtrace:lot:{lot.id}",
        "certificate": cert_id,
        "lot": lot.id,
        "form": lot.form,
        "mass_g": format_mass(lot.mass_mg),
        "fineness": format_fineness(lot.fineness),
        "fine_g": format_mass(fine_mg(lot.mass_mg, lot.fineness)),
        "category": lot.category,
        "origins": [{k: v for k, v in o.items() if v is not None} for o in doc["origins"]],
        "premium": [
            {
                "committee": mine,
                "name": orgs[mine].committee or orgs[mine].name,
                "usd": format_money(cents),
            }
            for mine, cents in sorted(carried.items())
        ],
    }
    if description:
        claims["description"] = description
    return claims


def _signing_key(session: Session, ctx: Context, org_id: str, kid: str) -> Any:
    key = session.get(OrgKey, kid)
    if key is None or key.org_id != org_id or key.private_key_sealed is None:
        raise PermissionDenied(
            f"organization {org_id} keeps its own key: it cannot sign here", code="self_signed_only"
        )
    return ctx.seal.open(key.private_key_sealed, kid)


def issue(
    session: Session, ctx: Context, *, actor: str, lot_id: str, description: str | None = None
) -> Certificate:
    """Issue a certificate for a lot ``actor`` holds; return it. The caller commits.

    Raises PermissionDenied (not the holder, not a jeweler/refiner), Conflict (the lot already has an
    unrevoked certificate: ``lot_already_certified``) or RuleViolation (form, category, broken chain,
    voided ancestor).
    """
    # The head lock serialises every append, so no other certificate of the lot can appear between
    # the check below and this one's event.
    lock_head(session)
    lot = get_lot(session, lot_id, for_update=True)
    check_certifiable(view(lot), actor=actor, actor_kind=get_org(session, actor).kind)
    lifecycle.check_single_live(lot_id, live_certificate(session, lot_id))
    _check_chain(session, lot_id, lot.category)
    cert_id = new_certificate_id()
    # Normalised once, so the digest on the ledger is that of the exact claims the credential states.
    claims = normalize(_claims(session, cert_id, lot_id, description))
    subject = hashlib.sha256(canonical(claims)).hexdigest()
    fields: dict[str, Any] = {"certificate": cert_id, "lot": lot_id, "subject": subject}
    rec = append(
        session,
        ctx,
        Draft(type="certificate.issue", actor=actor, fields=fields, prev=[lot.head]),
    )
    checkpoint = transparency.cut_checkpoint(session, ctx)
    issuer = get_org(session, actor)
    document: dict[str, Any] = {
        "@context": [VC_CONTEXT],
        "id": verify_url(ctx, cert_id),
        "type": ["VerifiableCredential", "FairminedGoldCertificate"],
        "name": "Fairmined gold certificate",
        "issuer": {"id": f"urn:goldtrace:org:{actor}", "name": issuer.name},
        "validFrom": rec.logged_at,
        "credentialSubject": {
            **claims,
            "ledger": {
                "origin": ctx.origin,
                "seq": rec.seq,
                "hash": rec.hash.hex(),
                "checkpoint": {
                    "size": checkpoint.size,
                    "root": base64.b64encode(checkpoint.root).decode("ascii"),
                },
            },
        },
        "credentialStatus": {
            "id": f"{ctx.settings.base_url}/api/v1/certificates/{cert_id}",
            "type": "GoldtraceLedgerStatus",
        },
    }
    signed = sign_credential(
        document, _signing_key(session, ctx, actor, rec.kid), created=rec.logged_at
    )
    row = Certificate(
        id=cert_id,
        lot_id=lot_id,
        issuer_id=actor,
        description=description,
        credential=json.dumps(signed, ensure_ascii=False, separators=(",", ":")),
        issued_seq=rec.seq,
        issued_at=rec.logged_at,
    )
    session.add(row)
    session.flush()
    return row


def live_certificate(session: Session, lot_id: str) -> str | None:
    """The id of the lot's unrevoked certificate, if it has one (it has at most one)."""
    return session.execute(
        select(Certificate.id).where(
            Certificate.lot_id == lot_id, Certificate.revoked_seq.is_(None)
        )
    ).scalar_one_or_none()


def revoke(session: Session, ctx: Context, *, actor: str, cert_id: str, reason: str) -> Certificate:
    """Revoke a certificate (the issuer or the standard body); return it. The caller commits.

    A certificate whose lot was consumed or voided is no longer valid, and may still be revoked."""
    lock_head(session)
    row = get_certificate(session, cert_id)
    if actor not in (row.issuer_id, standard_body_id(session)):
        raise PermissionDenied(
            "only the issuer or the standard body revokes a certificate", code="not_issuer"
        )
    if row.revoked_seq is not None:
        raise Conflict(f"certificate {cert_id} is already revoked", code="already_revoked")
    issued = transparency.event(session, row.issued_seq)
    rec = append(
        session,
        ctx,
        Draft(
            type="certificate.revoke",
            actor=actor,
            fields={"certificate": cert_id, "reason": reason},
            prev=[issued.hash],
        ),
    )
    transparency.cut_checkpoint(session, ctx)
    row.revoked_seq, row.revoked_by = rec.seq, actor
    row.revoked_reason, row.revoked_at = reason, rec.logged_at
    session.flush()
    return row


def _key_closure(session: Session, events: dict[int, StoredEvent | Event]) -> list[OrgKey]:
    """The keys that signed ``events``; the events that installed and retired them are added to
    ``events`` (and so the keys that signed those), until nothing new is needed."""
    keys: dict[str, OrgKey] = {}
    tried: set[str] = set()
    while wanted := {ev.kid for ev in events.values()} - tried:
        tried |= wanted
        found = session.execute(select(OrgKey).where(OrgKey.kid.in_(wanted))).scalars().all()
        keys.update({key.kid: key for key in found})
        seqs = {max(k.valid_from_seq - 1, 0) for k in found}
        seqs |= {k.valid_until_seq - 1 for k in found if k.valid_until_seq is not None}
        missing = seqs - events.keys()
        if missing:
            for ev in session.execute(select(Event).where(Event.seq.in_(missing))).scalars():
                events[ev.seq] = ev
    return sorted(keys.values(), key=lambda k: k.valid_from_seq)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _cosigned(session: Session, size: int, signed_note: str) -> tuple[str, list[str]]:
    """The checkpoint's note with the witnesses' cosignature lines, and those witnesses' verifier
    keys (C2SP form, type 0x04), so that an offline verifier can check every line."""
    lines = witnesses.cosignatures_for(session, size)
    if not lines:
        return signed_note, []
    rows = session.execute(
        select(Witness)
        .join(Cosignature, Cosignature.witness_name == Witness.name)
        .where(Cosignature.checkpoint_size == size)
        .order_by(Witness.name)
    ).scalars()
    keys = [witnesses.witness_verifier(row).vkey() for row in rows]
    return note.add_signature_lines(signed_note, lines), keys


def bundle(session: Session, ctx: Context, cert_id: str) -> dict[str, Any]:
    """The offline proof bundle: credential, ancestry events with leaves and inclusion proofs to the
    latest checkpoint, that checkpoint's note with its witness cosignatures and the witnesses' keys,
    the organization keys with their validity, and the status now."""
    row = get_certificate(session, cert_id)
    credential = credential_of(row)
    events: dict[int, StoredEvent | Event] = dict(ancestry(session, row.lot_id).events)
    for seq in (row.issued_seq, row.revoked_seq):
        if seq is not None:
            events[seq] = transparency.event(session, seq)
    keys = _key_closure(session, events)
    checkpoint = transparency.latest_checkpoint(session)
    if checkpoint is None or checkpoint.size <= max(events):
        checkpoint = transparency.cut_checkpoint(session, ctx)
    anchor = credential["credentialSubject"]["ledger"]["checkpoint"]["size"]
    consistency = (
        transparency.consistency_proof(session, anchor, checkpoint.size)
        if anchor < checkpoint.size
        else []
    )
    cosigned, witness_keys = _cosigned(session, checkpoint.size, checkpoint.note)
    return {
        "format": BUNDLE_FORMAT,
        "certificate": cert_id,
        "generated_at": now_instant(),
        "credential": credential,
        "log": {
            "origin": ctx.origin,
            "key": transparency.log_verifier(session, ctx).vkey(),
            "checkpoint": cosigned,
            "witnesses": witness_keys,
        },
        "anchor_consistency": [_b64(h) for h in consistency],
        "keys": [
            {
                "org": k.org_id,
                "kid": k.kid,
                "public": _b64(k.public_key),
                "valid_from_seq": k.valid_from_seq,
                "valid_until_seq": k.valid_until_seq,
            }
            for k in keys
        ],
        "events": [
            {
                "seq": ev.seq,
                "hash": ev.hash.hex(),
                "body": _b64(ev.body),
                "kid": ev.kid,
                "sig": _b64(ev.sig),
                "leaf": _b64(ev.leaf),
                "size": checkpoint.size,
                "proof": [
                    _b64(h) for h in transparency.inclusion_proof(session, ev.seq, checkpoint.size)
                ],
            }
            for ev in sorted(events.values(), key=lambda e: e.seq)
        ],
        "status": status(session, row),
    }


def status(session: Session, row: Certificate) -> dict[str, Any]:
    """The certificate's status now (``domain.certificates.status``): ``valid``, or ``revoked``,
    ``lot_consumed`` or ``lot_voided`` with the seq, log time and reason of the event that ended it."""
    ending = None
    if row.revoked_seq is not None:
        ending = lifecycle.Ending(
            state="revoked",
            seq=row.revoked_seq,
            at=row.revoked_at or "",
            by=row.revoked_by or "",
            reason=row.revoked_reason,
        )
    return lifecycle.status(
        (ending, _lot_ending(session, row.lot_id)), revoked=row.revoked_seq is not None
    )


def _lot_ending(session: Session, lot_id: str) -> lifecycle.Ending | None:
    """The event that consumed or voided the lot, if it is gone."""
    lot = session.get(Lot, lot_id)
    if lot is None or lot.status not in ("consumed", "voided"):
        return None
    # A consumed or voided lot takes no further event, so the last one that changed it ended it.
    event = transparency.event(session, lot.updated_seq)
    body = json.loads(event.body)
    if lot.status == "consumed":
        return lifecycle.Ending(
            state="lot_consumed",
            seq=event.seq,
            at=event.logged_at,
            by=event.actor,
            kind=str(body.get("kind")),
        )
    return lifecycle.Ending(
        state="lot_voided",
        seq=event.seq,
        at=event.logged_at,
        by=event.actor,
        reason=body.get("reason"),
        target=body.get("target"),
    )


def _revocation(row: Certificate) -> dict[str, Any]:
    """The revocation alone, as ``GET /api/v1/certificates/<id>`` has always shown it."""
    if row.revoked_seq is None:
        return {"revoked": False}
    return {
        "revoked": True,
        "seq": row.revoked_seq,
        "by": row.revoked_by,
        "reason": row.revoked_reason,
        "at": row.revoked_at,
    }


def status_reason(state: dict[str, Any]) -> str:
    """Why a certificate ended, in English, for the API's ``reasons`` (pages translate): the reason
    of a revocation as the issuer gave it, or which event consumed or voided the lot, and when."""
    if state["state"] == "revoked":
        return str(state.get("reason") or "")
    if state["state"] == "lot_consumed":
        return (
            f"the lot was consumed by event {state['seq']} ({state.get('kind')}) at {state['at']}"
        )
    if state["state"] == "lot_voided":
        return (
            f"the lot was voided by event {state['seq']} at {state['at']}:"
            f" {state.get('reason') or ''}"
        )
    return ""


def public_view(session: Session, ctx: Context, cert_id: str) -> dict[str, Any]:
    """What the public page and ``GET /api/v1/certificates/<id>`` show: the verdict first, then the
    origins, the journey, the premium carried and the proof status. No prices, nothing private."""
    row = get_certificate(session, cert_id)
    doc = bundle(session, ctx, cert_id)
    report = bundle_verifier.verify_bundle(doc)
    trail = provenance(session, row.lot_id)
    voids = session.execute(
        select(Voided.seq, Voided.void_seq, Voided.reason).where(
            Voided.seq.in_([e["seq"] for e in trail["events"]])
        )
    ).all()
    voided = {seq for seq, _, _ in voids}
    # A void recorded after issuing, of an event the certificate stood on, withdraws its ground.
    withdrawn = [
        f"event {seq} of the piece's history was voided after the certificate was issued: {reason}"
        for seq, void_seq, reason in sorted(voids)
        if seq < row.issued_seq < void_seq
    ]
    state = doc["status"]
    if not state["valid"]:
        # The certificate has ended: that is the answer, whatever else the proofs say.
        verdict, reasons = state["state"], [status_reason(state)]
    elif report.ok and not withdrawn:
        verdict, reasons = "valid", []
    else:
        verdict = "not_verifiable"
        reasons = withdrawn + [message for _, message in report.failures]
    credential = doc["credential"]
    subject = credential["credentialSubject"]
    journey = [
        {
            "seq": e["seq"],
            "type": e["type"],
            "actor": e["actor"],
            "actor_name": get_org(session, e["actor"]).name,
            "occurred_at": e["occurred_at"],
            "summary": e["summary"],
            "to_name": get_org(session, e["summary"]["to"]).name if "to" in e["summary"] else None,
        }
        for e in trail["events"]
        if e["seq"] not in voided and not e["voided"]
    ]
    checkpoint = bundle_verifier.verify_checkpoint(doc["log"]["checkpoint"], doc["log"]["key"])
    return {
        "id": cert_id,
        "verdict": verdict,
        "reasons": reasons,
        "verify_url": verify_url(ctx, cert_id),
        "issuer": {"id": row.issuer_id, "name": credential["issuer"]["name"]},
        "issued_at": row.issued_at,
        "status": state,
        "revocation": _revocation(row),
        "piece": {
            k: subject[k] for k in ("lot", "form", "mass_g", "fineness", "fine_g", "category")
        }
        | ({"description": subject["description"]} if "description" in subject else {}),
        "origins": subject["origins"],
        "premium": subject["premium"],
        "journey": journey,
        "proof": {
            "origin": doc["log"]["origin"],
            "certificate_seq": row.issued_seq,
            "anchor": subject["ledger"]["checkpoint"],
            "checkpoint_size": checkpoint.size,
            "cosignatures": sum(1 for s in report.witnesses.values() if s == "verified"),
            "witnesses": [
                {"name": name, "status": outcome}
                for name, outcome in sorted(report.witnesses.items())
            ],
            "events_checked": len(doc["events"]),
            "checks_passed": len(report.checked),
            "failures": [{"code": c, "message": m} for c, m in report.failures],
        },
        "credential": credential,
    }
