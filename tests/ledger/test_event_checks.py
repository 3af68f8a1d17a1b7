"""The stateless per-event checks that verification runs in worker processes."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from genesis import KEY, KID, ORIGIN, TIME, genesis_body
from goldtrace.ledger.envelope import LeafEnvelope
from goldtrace.ledger.event_checks import (
    EventRow,
    bad_signatures,
    examine,
    leaf_bytes,
)
from goldtrace.ledger.events import encode
from goldtrace.ledger.keys import public_bytes, sign_event

# Mostly the plain text real envelopes hold, sometimes anything at all.
FIELD_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)) | st.text()


@given(
    FIELD_TEXT,
    st.integers(min_value=0, max_value=2**53 - 1),
    FIELD_TEXT,
    st.binary(min_size=32, max_size=32),
    FIELD_TEXT,
    st.binary(min_size=64, max_size=64),
)
def test_leaf_bytes_are_the_envelope_bytes(
    origin: str, seq: int, time: str, event_hash: bytes, kid: str, sig: bytes
) -> None:
    envelope = LeafEnvelope(
        origin=origin, seq=seq, time=time, event_hash=event_hash, kid=kid, sig=sig
    )
    assert leaf_bytes(origin, seq, time, event_hash, kid, sig) == envelope.to_bytes()


def row(
    seq: int, body: bytes, *, event_hash: bytes | None = None, leaf: bytes | None = None
) -> EventRow:
    digest = hashlib.sha256(body).digest() if event_hash is None else event_hash
    sig = sign_event(KEY, digest)
    if leaf is None:
        leaf = leaf_bytes(ORIGIN, seq, TIME, digest, KID, sig)
    return (seq, digest, "org.register", "arm", TIME, body, KID, sig, leaf, TIME)


def test_examine_sorts_out_what_each_row_needs() -> None:
    good = encode(genesis_body()).body
    rows = [
        row(0, good),
        row(1, good, event_hash=b"\x00" * 32),
        row(2, good.replace(b'"v":1', b'"v": 1')),
        row(3, b'{"a":1,"a":2}'),
        row(4, b"{not json"),
        row(5, good, leaf=b"{}"),
        row(6, b"null"),
    ]
    found = examine(ORIGIN, rows)
    assert found.verdicts == {
        1: "hash_mismatch",
        2: "not_canonical",
        3: "not_canonical",
        4: "not_canonical",
    }
    assert found.unparsable == {3, 4}  # duplicate keys are not strict JSON either
    assert found.bad_leaves == {5}
    assert found.bodies[0] == found.bodies[1] == found.bodies[2] == genesis_body()
    assert found.bodies[6] is None and 6 not in found.unparsable
    assert found.leaf_hashes == [hashlib.sha256(b"\x00" + r[8]).digest() for r in rows]


def test_bad_signatures_names_the_seqs_that_do_not_verify() -> None:
    digest = hashlib.sha256(b"x").digest()
    public = public_bytes(KEY)
    sig = sign_event(KEY, digest)
    items = [(7, public, digest, sig), (8, public, digest, bytes(64)), (9, bytes(32), digest, sig)]
    assert bad_signatures(items) == [8, 9]
