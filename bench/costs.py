"""Per-event CPU cost of each step of the append and verify paths, on one core (a profiling aid).

A figure that misses its target is explained by these: e.g. batched appends cannot beat one Ed25519
signature plus one raw row insert per event, and verification cannot reach the Ed25519 verify rate when
the other per-event checks cost a large fraction of one verification.
"""

from __future__ import annotations

import hashlib
import json
import timeit
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from eventrows import BENCH_ORIGIN
from goldtrace.domain.instants import now_instant
from goldtrace.domain.keystate import KeyState
from goldtrace.domain.organizations import OrgProfile
from goldtrace.ledger import merkle
from goldtrace.ledger.canonical import parse_canonical
from goldtrace.ledger.envelope import LeafEnvelope
from goldtrace.ledger.event_checks import examine, leaf_bytes
from goldtrace.ledger.events import build_body, encode
from goldtrace.ledger.keys import b64, key_id, public_bytes, sign_event, verify_event_signature


def _per_call(fn: Callable[[], object], seconds: float) -> float:
    """Microseconds per call, the best of three runs of about ``seconds`` / 3 each."""
    number = 1
    while timeit.timeit(fn, number=number) < seconds / 30:
        number *= 2
    return min(timeit.repeat(fn, number=number * 10, repeat=3)) / (number * 10) * 1e6


def measure(seconds: float) -> list[tuple[str, str, float]]:
    """Return (path, step, microseconds per event) for a typical ``org.register`` event."""
    key = Ed25519PrivateKey.generate()
    public = public_bytes(key)
    profile = OrgProfile(
        id="mine-000123",
        name="Cooperativa Minera 123",
        kind="mine",
        region="Puno",
        miners=12,
        capacity_mg_month=1_000_000,
    )
    fields = {"org": profile.as_json(), "key": {"kid": key_id(public), "public": b64(public)}}
    instant = now_instant()

    def body() -> dict[str, object]:
        return build_body(type="org.register", actor="arm", occurred_at=instant, fields=fields)

    encoded = encode(body())
    sig = sign_event(key, encoded.hash)
    envelope = LeafEnvelope(
        origin=BENCH_ORIGIN,
        seq=123_456,
        time=instant,
        event_hash=encoded.hash,
        kid=key_id(public),
        sig=sig,
    )
    leaf = envelope.to_bytes()
    size = 0b1011_0111_0110_1111  # a frontier of 12 hashes, 4 of them completed by the next leaf
    frontier = [hashlib.sha256(bytes([i])).digest() for i in range(size.bit_count())]
    parsed = json.loads(encoded.body)
    kid = key_id(public)
    row = (
        123_456,
        encoded.hash,
        "org.register",
        "arm",
        instant,
        encoded.body,
        kid,
        sig,
        leaf,
        instant,
    )
    rows = [row] * 100  # examine's per-call cost is spread over a page, as verification calls it

    def fresh_state() -> KeyState:
        state = KeyState()
        state.standard_body = "arm"
        return state

    def replay() -> None:
        fresh_state().apply(7, parsed)

    steps: list[tuple[str, str, Callable[[], object]]] = [
        ("append", "build_body + encode (RFC 8785 + SHA-256)", lambda: encode(body())),
        ("append", "sign_event (Ed25519 sign)", lambda: sign_event(key, encoded.hash)),
        ("append", "now_instant", now_instant),
        ("append", "LeafEnvelope.to_bytes", envelope.to_bytes),
        (
            "append+verify",
            "leaf_hash + merkle.append",
            lambda: merkle.append(frontier, size, merkle.leaf_hash(leaf)),
        ),
        ("verify", "sha256(body)", lambda: hashlib.sha256(encoded.body).digest()),
        (
            "verify",
            "parse_canonical(body): parse + canonical check",
            lambda: parse_canonical(encoded.body),
        ),
        (
            "verify",
            "leaf_bytes (the leaf rebuilt)",
            lambda: leaf_bytes(BENCH_ORIGIN, 123_456, instant, encoded.hash, kid, sig),
        ),
        ("verify", "examine: all stateless checks, per event", lambda: examine(BENCH_ORIGIN, rows)),
        (
            "verify",
            "verify_event_signature (Ed25519 verify)",
            lambda: verify_event_signature(public, encoded.hash, sig),
        ),
    ]
    costs = [(path, step, _per_call(fn, seconds)) for path, step, fn in steps]
    costs = [
        (path, step, cost / len(rows) if step.startswith("examine") else cost)
        for path, step, cost in costs
    ]
    apply = _per_call(replay, seconds) - _per_call(fresh_state, seconds)
    costs.insert(-1, ("verify", "KeyState.apply (org.register)", max(apply, 0.0)))
    return costs
