"""Witnesses: registered cosignature keys, and the cosignatures they send over signed checkpoints.

A witness proves who it is by its signature: a cosignature is accepted only if it verifies under the
key registered for the witness's name, over the text of a checkpoint the log signed.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from goldtrace.db.models import Checkpoint, Cosignature, Witness
from goldtrace.domain.instants import now_instant
from goldtrace.errors import Conflict, InvalidInput, NotFound, PermissionDenied, ProofError
from goldtrace.ledger import note
from goldtrace.ledger.keys import require_usable_public_key
from goldtrace.services import transparency

MAX_SUBMISSION = 16 * 1024


def register_witness(session: Session, vkey: str) -> Witness:
    """Register a witness's cosignature verifier key (``name+id+base64(0x04 || key)``).

    Idempotent for the same key; Conflict if the name is registered with another key,
    InvalidInput(code="invalid_vkey") for a malformed or non-cosignature key, and
    InvalidInput(code="bad_public_key") for a key of small order, under which anyone could cosign.
    """
    verifier = note.Verifier.parse(vkey.strip())
    if verifier.sig_type != note.SIG_TYPE_COSIGNATURE:
        raise InvalidInput("a witness key must be a cosignature (0x04) key", code="invalid_vkey")
    require_usable_public_key(verifier.public_key)
    row = session.get(Witness, verifier.name)
    if row is not None:
        if row.public_key != verifier.public_key:
            raise Conflict(f"witness {verifier.name} is registered with another key")
        return row
    row = Witness(name=verifier.name, public_key=verifier.public_key, registered_at=now_instant())
    session.add(row)
    session.flush()
    return row


def witness_verifier(row: Witness) -> note.Verifier:
    """Return the cosignature verifier of a registered witness."""
    return note.Verifier.from_public_key(row.name, row.public_key, note.SIG_TYPE_COSIGNATURE)


def add_cosignature(session: Session, line: str, size: int | None = None) -> Cosignature:
    """Store one cosignature line over the checkpoint of ``size`` (default: the latest).

    Raises NotFound if there is no such checkpoint, InvalidInput for a malformed line,
    PermissionDenied for an unknown witness or a signature that does not verify. A witness's second
    cosignature of one checkpoint is not stored again: the first one is returned.
    """
    checkpoint = (
        transparency.latest_checkpoint(session) if size is None else session.get(Checkpoint, size)
    )
    if checkpoint is None:
        raise NotFound("there is no such checkpoint", code="unknown_checkpoint")
    text = note.parse_note(checkpoint.note).text
    line = line if line.endswith("\n") else line + "\n"
    parsed = note.parse_note(text + "\n" + line)
    if len(parsed.signatures) != 1:
        raise InvalidInput("expected one signature line", code="malformed_note")
    sig = parsed.signatures[0]
    witness = session.get(Witness, sig.name)
    if witness is None or witness_verifier(witness).key_id != sig.key_id:
        raise PermissionDenied(
            f"{sig.name} is not a registered witness key", code="unknown_witness"
        )
    try:
        note.verify_note(text + "\n" + line, [witness_verifier(witness)])
    except ProofError as exc:
        raise PermissionDenied(
            f"the cosignature by {sig.name} does not verify over checkpoint {checkpoint.size}",
            code="bad_cosignature",
        ) from exc
    existing = session.get(Cosignature, (checkpoint.size, witness.name))
    if existing is not None:
        return existing
    row = Cosignature(
        checkpoint_size=checkpoint.size,
        witness_name=witness.name,
        line=line,
        timestamp=note.cosignature_timestamp(sig),
        received_at=now_instant(),
    )
    session.add(row)
    session.flush()
    return row


def submit(session: Session, cosigned_note: str) -> list[Cosignature]:
    """Accept a cosigned checkpoint: the checkpoint text, a blank line, the witness's line(s).

    The text must be exactly that of a checkpoint the log signed (its size names which); each line
    is checked as in ``add_cosignature``.
    """
    if len(cosigned_note) > MAX_SUBMISSION:
        raise InvalidInput("the cosigned note is too large", code="malformed_note")
    parsed = note.parse_note(cosigned_note)
    checkpoint = note.parse_checkpoint(parsed.text)
    stored = session.get(Checkpoint, checkpoint.size)
    if stored is None or note.parse_note(stored.note).text != parsed.text:
        raise NotFound(
            f"the log signed no checkpoint with this text (size {checkpoint.size})",
            code="unknown_checkpoint",
        )
    lines = cosigned_note[cosigned_note.rfind("\n\n") + 2 :].splitlines()
    return [add_cosignature(session, line, checkpoint.size) for line in lines]


def cosignatures_for(session: Session, size: int) -> list[str]:
    """Return the stored cosignature lines of the checkpoint of ``size``, by witness name."""
    return list(
        session.execute(
            select(Cosignature.line)
            .where(Cosignature.checkpoint_size == size)
            .order_by(Cosignature.witness_name)
        ).scalars()
    )
