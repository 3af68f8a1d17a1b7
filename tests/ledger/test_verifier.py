"""The verifier on in-memory ledgers: forged bodies whose hashes match are faults, never crashes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from goldtrace.domain.keystate import KeyState
from goldtrace.ledger import merkle
from goldtrace.ledger.envelope import LeafEnvelope
from goldtrace.ledger.events import build_body, encode
from goldtrace.ledger.keys import b64, key_id, public_bytes, sign_event
from goldtrace.ledger.verifier import LedgerVerifier, Report, StoredEvent

ORIGIN = "goldtrace.test/log"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KID = key_id(public_bytes(KEY))
TIME = "2026-01-15T12:00:00.000Z"


def genesis_body() -> dict[str, Any]:
    return build_body(
        type="org.register",
        actor="arm",
        occurred_at=TIME,
        fields={
            "org": {"id": "arm", "name": "ARM", "kind": "standard_body", "country": "CO"},
            "key": {"kid": KID, "public": b64(public_bytes(KEY))},
        },
    )


def stored(seq: int, body: bytes) -> StoredEvent:
    """An event row whose hash, signature, leaf all match ``body``, however odd the body is."""
    digest = hashlib.sha256(body).digest()
    sig = sign_event(KEY, digest)
    leaf = LeafEnvelope(origin=ORIGIN, seq=seq, time=TIME, event_hash=digest, kid=KID, sig=sig)
    return StoredEvent(
        seq=seq,
        hash=digest,
        type="org.register",
        actor="arm",
        occurred_at=TIME,
        body=body,
        kid=KID,
        sig=sig,
        leaf=leaf.to_bytes(),
        logged_at=TIME,
    )


def verify(events: list[StoredEvent]) -> Report:
    verifier = LedgerVerifier(origin=ORIGIN, rules=KeyState(), expected_size=len(events), workers=1)
    frontier: list[bytes] = []
    nodes: dict[merkle.NodeKey, bytes] = {}
    for ev in events:
        frontier, finished = merkle.append(frontier, ev.seq, merkle.leaf_hash(ev.leaf))
        nodes.update(finished)
    verifier.feed(events, nodes)
    return verifier.finish(
        head_size=len(events),
        head_root=merkle.frontier_root(frontier),
        head_frontier=frontier,
        node_count=len(nodes),
        checkpoints=[],
        log_verifier=None,
    )


def test_a_well_formed_genesis_verifies() -> None:
    assert verify([stored(0, encode(genesis_body()).body)]).ok


def mutated(change: dict[str, Any]) -> bytes:
    body = genesis_body()
    body.update(change)
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"prev": 5}, "bad_body"),
        ({"prev": ["AB" * 32]}, "bad_body"),
        ({"prev": ["ab" * 32]}, "bad_prev"),
        ({"v": 2}, "bad_body"),
        (
            {"org": {"id": "arm", "name": 5, "kind": "standard_body", "country": "CO"}},
            "invalid_input",
        ),
        ({"org": "arm"}, "bad_event"),
        ({"type": "lot.teleport"}, "genesis"),
    ],
)
def test_forged_but_hash_consistent_bodies_are_faults_at_their_seq(
    change: dict[str, Any], code: str
) -> None:
    report = verify([stored(0, mutated(change))])
    assert not report.ok
    assert report.first is not None and report.first.seq == 0
    assert code in {f.code for f in report.faults}


def test_a_lone_surrogate_is_a_fault_not_a_crash() -> None:
    body = encode(genesis_body()).body.replace(b'"ARM"', b'"\\ud800"')
    report = verify([stored(0, body)])
    assert {f.code for f in report.faults} == {"not_canonical"}
