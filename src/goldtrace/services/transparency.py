"""The public face of the log: its key, checkpoints, raw leaves and Merkle proofs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.orm import Session

from goldtrace.db.durability import commit_synchronously
from goldtrace.db.models import Checkpoint, Event, LogHead, LogKey, LogNode
from goldtrace.domain.instants import now_instant
from goldtrace.errors import ConfigurationError, IntegrityFault, InvalidInput, NotFound
from goldtrace.ledger import merkle, note
from goldtrace.ledger.keys import public_bytes
from goldtrace.services.context import Context
from goldtrace.services.log import check_seq, lock_head

MAX_ENTRIES_PER_PAGE = 1000


@dataclass(frozen=True)
class TreeHead:
    """Size and root of the log as it stands."""

    size: int
    root: bytes


def head(session: Session) -> TreeHead:
    """Return the current size and root (not locked)."""
    row = session.get(LogHead, 1)
    if row is None:
        raise ConfigurationError("the database has no log head: run `goldtrace init-db`")
    return TreeHead(size=row.size, root=row.root)


def ensure_log_key(session: Session, ctx: Context) -> LogKey:
    """Return the log's signing key for the configured origin, creating it on first use."""
    row = session.get(LogKey, ctx.origin)
    if row is not None:
        return row
    others = session.execute(select(LogKey.origin)).scalars().first()
    if others is not None:
        raise ConfigurationError(
            f"this database's log origin is {others!r}, not {ctx.origin!r}: set GOLDTRACE_LOG_ORIGIN"
        )
    private_key = Ed25519PrivateKey.generate()
    row = LogKey(
        origin=ctx.origin,
        public_key=public_bytes(private_key),
        private_key_sealed=ctx.seal.seal(private_key, _seal_id(ctx.origin)),
        created_at=now_instant(),
    )
    session.add(row)
    session.flush()
    return row


def log_verifier(session: Session, ctx: Context) -> note.Verifier:
    """Return the verifier key of the log (the text form is served at /api/v1/log/key)."""
    row = session.get(LogKey, ctx.origin)
    if row is None:
        raise NotFound("the log has no key yet: run `goldtrace init-db`", code="no_log_key")
    return note.Verifier.from_public_key(ctx.origin, row.public_key)


def _seal_id(origin: str) -> str:
    # The seal binds the ciphertext to a label; for the log key that is a fixed ASCII name.
    return "log-" + hashlib.sha256(origin.encode("utf-8")).hexdigest()


def latest_checkpoint(session: Session) -> Checkpoint | None:
    """Return the largest signed checkpoint, or None before the first one."""
    return session.execute(
        select(Checkpoint).order_by(Checkpoint.size.desc()).limit(1)
    ).scalar_one_or_none()


def cut_checkpoint(session: Session, ctx: Context) -> Checkpoint:
    """Sign a checkpoint of the log as it stands and return it (the existing one if the log did not grow).

    Before signing, the new tree is proved a consistent extension of the last checkpoint; a log never
    signs two roots for one size (the size is the checkpoint table's primary key as well). The
    transaction commits synchronously: nobody sees the checkpoint before it, and every entry it
    covers, is on disk (see db.durability).
    """
    commit_synchronously(session)
    head_row = lock_head(session)
    key_row = ensure_log_key(session, ctx)
    last = latest_checkpoint(session)
    if last is not None:
        if last.size == head_row.size:
            if last.root != head_row.root:
                raise IntegrityFault(
                    f"the head root differs from the signed checkpoint at size {last.size}",
                    seq=last.size - 1,
                )
            return last
        if last.size > head_row.size:
            raise IntegrityFault(
                f"the log has {head_row.size} entries but a checkpoint was signed at {last.size}",
                seq=head_row.size,
            )
        # Every tree extends the empty one; RFC 9162 has no proof for size 0.
        proof = [] if last.size == 0 else consistency_proof(session, last.size, head_row.size)
        try:
            merkle.verify_consistency(last.size, head_row.size, last.root, head_row.root, proof)
        except Exception as exc:
            raise IntegrityFault(
                f"the log is not a consistent extension of checkpoint {last.size}: {exc}",
                seq=last.size,
            ) from exc
    private_key = ctx.seal.open(key_row.private_key_sealed, _seal_id(ctx.origin))
    signer = note.Signer(ctx.origin, private_key)
    cp = note.Checkpoint(origin=ctx.origin, size=head_row.size, root=head_row.root)
    row = Checkpoint(
        size=cp.size, root=cp.root, note=note.sign_checkpoint(cp, signer), created_at=now_instant()
    )
    session.add(row)
    session.flush()
    return row


def _nodes(session: Session, keys: Iterable[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    if session.get_bind().dialect.name == "sqlite":
        # SQLite plans a row-value IN as a full scan; OR-ed key pairs use the primary key.
        condition = or_(*(and_(LogNode.level == lv, LogNode.idx == ix) for lv, ix in wanted))
    else:
        condition = tuple_(LogNode.level, LogNode.idx).in_(wanted)
    rows = session.execute(select(LogNode.level, LogNode.idx, LogNode.hash).where(condition)).all()
    found = {(level, idx): h for level, idx, h in rows}
    if len(found) != len(wanted):
        missing = next(k for k in wanted if k not in found)
        raise IntegrityFault(f"log node {missing} is missing", seq=(missing[1] << missing[0]))
    return found


def _check_size(session: Session, size: int) -> None:
    current = head(session).size
    if size > current:
        raise InvalidInput(
            f"size {size} is beyond the log size {current}", fields={"size": "too big"}
        )


def root_at(session: Session, size: int) -> bytes:
    """Return the Merkle root of the first ``size`` entries, from stored subtree hashes."""
    _check_size(session, size)
    if size == 0:
        return merkle.EMPTY_ROOT
    return merkle.range_hash(0, size, _nodes(session, merkle.range_nodes(0, size)))


def inclusion_proof(session: Session, seq: int, size: int) -> list[bytes]:
    """Return the RFC 9162 audit path of entry ``seq`` in the tree of ``size`` entries."""
    if not 0 <= seq < size:
        raise InvalidInput("need 0 <= seq < size", fields={"seq": "out of range"})
    _check_size(session, size)
    ranges = merkle.inclusion_ranges(seq, size)
    return merkle.assemble(ranges, _nodes(session, merkle.nodes_for(ranges)))


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    """Return the RFC 9162 consistency proof between tree sizes ``first`` and ``second``."""
    if not 0 < first <= second:
        raise InvalidInput("need 0 < first <= second", fields={"first": "out of range"})
    _check_size(session, second)
    ranges = merkle.consistency_ranges(first, second)
    return merkle.assemble(ranges, _nodes(session, merkle.nodes_for(ranges)))


def entries(session: Session, start: int, end: int) -> list[tuple[int, bytes]]:
    """Return (seq, leaf bytes) for start <= seq < end, at most MAX_ENTRIES_PER_PAGE of them."""
    if start < 0 or end <= start:
        raise InvalidInput("need 0 <= start < end", fields={"start": "out of range"})
    if end - start > MAX_ENTRIES_PER_PAGE:
        raise InvalidInput(
            f"at most {MAX_ENTRIES_PER_PAGE} entries per request", fields={"end": "too many"}
        )
    rows = session.execute(
        select(Event.seq, Event.leaf).where(Event.seq >= start, Event.seq < end).order_by(Event.seq)
    ).all()
    return [(seq, leaf) for seq, leaf in rows]


def event(session: Session, seq: int) -> Event:
    """Return the stored event ``seq``; NotFound if there is none."""
    row = session.get(Event, check_seq(seq))
    if row is None:
        raise NotFound(f"there is no event {seq}", code="unknown_event")
    return row
