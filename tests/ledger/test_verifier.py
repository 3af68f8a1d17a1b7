"""The verifier on in-memory ledgers: forged bodies whose hashes match are faults, never crashes."""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

import pytest

from genesis import KEY, KID, ORIGIN, TIME, genesis_body
from goldtrace.domain.keystate import KeyState
from goldtrace.ledger import merkle
from goldtrace.ledger import verifier as verifier_module
from goldtrace.ledger.envelope import LeafEnvelope
from goldtrace.ledger.events import encode
from goldtrace.ledger.keys import sign_event
from goldtrace.ledger.verifier import LedgerVerifier, Report, StoredEvent


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


@pytest.fixture(params=[1, 2], ids=["in-process", "worker-pool"])
def workers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Run each test in the main process and again through the worker pool, whatever the size."""
    monkeypatch.setattr(verifier_module, "PARALLEL_THRESHOLD", 0)
    return int(request.param)


def verify(events: list[StoredEvent], workers: int = 1) -> Report:
    verifier = LedgerVerifier(
        origin=ORIGIN, rules=KeyState(), expected_size=len(events), workers=workers
    )
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


def test_a_well_formed_genesis_verifies(workers: int) -> None:
    assert verify([stored(0, encode(genesis_body()).body)], workers).ok


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
    change: dict[str, Any], code: str, workers: int
) -> None:
    report = verify([stored(0, mutated(change))], workers)
    assert not report.ok
    assert report.first is not None and report.first.seq == 0
    assert code in {f.code for f in report.faults}


def test_a_lone_surrogate_is_a_fault_not_a_crash(workers: int) -> None:
    body = encode(genesis_body()).body.replace(b'"ARM"', b'"\\ud800"')
    report = verify([stored(0, body)], workers)
    assert {f.code for f in report.faults} == {"not_canonical"}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"[" * 600 + b"]" * 600, "bad_body"),  # canonical JSON, nested 600 deep
        (b"[" * 5000 + b"]" * 5000, "bad_body"),  # too deep to parse
        (b"null", "bad_body"),
        (b'{"v":1,"v":1}', "bad_body"),
    ],
    ids=["deep", "deeper", "null", "duplicate-key"],
)
def test_odd_bodies_are_the_same_faults_in_workers_and_in_process(
    body: bytes, code: str, workers: int
) -> None:
    report = verify([stored(0, body)], workers)
    assert report.first is not None and report.first.seq == 0
    assert code in {f.code for f in report.faults}
    assert report.faults == verify([stored(0, body)], 1).faults


def test_a_verification_in_a_thread_uses_a_forkserver_pool_and_reports_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server verifies in a thread, where forking is unsafe: the pool then starts its processes
    from a forkserver instead."""
    monkeypatch.setattr(verifier_module, "PARALLEL_THRESHOLD", 0)
    monkeypatch.setattr(verifier_module, "SIGN_CHUNK", 1)
    events = [stored(0, encode(genesis_body()).body), stored(1, mutated({"prev": 5}))]
    found: list[Report] = []
    contexts: list[str] = []
    thread = threading.Thread(
        target=lambda: (
            contexts.append(verifier_module._pool_context().get_start_method()),
            found.append(verify(events, 3)),
        )
    )
    thread.start()
    thread.join()
    assert contexts == ["forkserver"]
    assert found[0].faults == verify(events, 1).faults
    assert found[0].first is not None and found[0].first.seq == 1
