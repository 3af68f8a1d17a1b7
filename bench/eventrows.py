"""Rows shaped like what one append writes: an ``event`` row and the ``log_node`` rows its leaf finishes.

The raw baselines insert these with plain DB-API calls, so the only difference from a real append is the
work goldtrace does around the insert (encoding, signing, hashing, locking the head, the ORM).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from goldtrace.domain.instants import now_instant
from goldtrace.ledger.envelope import LeafEnvelope
from goldtrace.ledger.events import build_body, encode
from goldtrace.ledger.keys import b64, key_id, public_bytes, sign_event

BENCH_ORIGIN = "goldtrace.bench/log"

EVENT_COLUMNS = "seq, hash, type, actor, occurred_at, body, kid, sig, leaf, logged_at"
NODE_COLUMNS = "level, idx, hash"

EventRow = tuple[int, bytes, str, str, str, bytes, str, bytes, bytes, str]
NodeRow = tuple[int, int, bytes]


def fake_key_json() -> dict[str, str]:
    """Return a well-formed ``key`` field (32 random bytes and their kid), far cheaper than a real key.

    Enough for events that only have to pass the append path, which does not replay the domain rules.
    """
    public = os.urandom(32)
    return {"kid": key_id(public), "public": b64(public)}


def nodes_finished_by(seq: int) -> list[tuple[int, int]]:
    """Return the (level, idx) of every perfect subtree that leaf ``seq`` completes (2 on average)."""
    keys = [(0, seq)]
    level = 0
    while (seq >> level) & 1:
        level += 1
        keys.append((level, seq >> level))
    return keys


@dataclass(frozen=True)
class RowMaker:
    """Makes event rows of the exact size a ``key.rotate`` append stores, with unique hashes."""

    body: bytes
    leaf: bytes
    kid: str
    sig: bytes
    instant: str
    salt: bytes

    @classmethod
    def new(cls) -> RowMaker:
        """Encode and sign one real key.rotate event and keep its bytes as the row template."""
        signer = Ed25519PrivateKey.generate()
        encoded = encode(
            build_body(
                type="key.rotate",
                actor="bench-org-00",
                occurred_at=now_instant(),
                fields={"key": fake_key_json()},
            )
        )
        kid = key_id(public_bytes(signer))
        sig = sign_event(signer, encoded.hash)
        instant = now_instant()
        leaf = LeafEnvelope(
            origin=BENCH_ORIGIN,
            seq=1_000_000,
            time=instant,
            event_hash=encoded.hash,
            kid=kid,
            sig=sig,
        ).to_bytes()
        return cls(encoded.body, leaf, kid, sig, instant, os.urandom(16))

    def event(self, seq: int) -> EventRow:
        """Return the event row for ``seq`` (its hash is unique per seq and per maker)."""
        digest = hashlib.sha256(self.salt + seq.to_bytes(8, "big")).digest()
        return (
            seq,
            digest,
            "key.rotate",
            "bench-org-00",
            self.instant,
            self.body,
            self.kid,
            self.sig,
            self.leaf,
            self.instant,
        )

    def nodes(self, seq: int) -> list[NodeRow]:
        """Return the node rows leaf ``seq`` finishes, with hash-sized values."""
        digest = hashlib.sha256(self.salt + b"n" + seq.to_bytes(8, "big")).digest()
        return [(level, idx, digest) for level, idx in nodes_finished_by(seq)]


def insert_event_sql(placeholder: str) -> str:
    """Return the INSERT of one event row for a driver's parameter marker."""
    marks = ", ".join([placeholder] * 10)
    return f"INSERT INTO event ({EVENT_COLUMNS}) VALUES ({marks})"  # noqa: S608


def insert_node_sql(placeholder: str) -> str:
    """Return the INSERT of one log_node row for a driver's parameter marker."""
    marks = ", ".join([placeholder] * 3)
    return f"INSERT INTO log_node ({NODE_COLUMNS}) VALUES ({marks})"  # noqa: S608
