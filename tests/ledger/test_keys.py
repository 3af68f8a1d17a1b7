"""Event signatures: what verify_event_signature accepts and refuses."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from goldtrace.errors import InvalidInput
from goldtrace.ledger import bundle_verifier
from goldtrace.ledger.keys import (
    ed25519_verify,
    public_bytes,
    require_usable_public_key,
    sign_event,
    signature_message,
    verify_event_signature,
)

# The encodings of two points of small order: the identity, and the point of order 2 (y = -1).
IDENTITY = bytes([1]) + bytes(31)
ORDER_TWO = bytes([0xEC]) + bytes([0xFF]) * 30 + bytes([0x7F])
# The base point B, and the scalar 1: with a public key of small order A, [1]B = B + [k]A holds
# for every message when [k]A is the identity, so (B, 1) "signs" anything under the identity key.
BASE_POINT = bytes.fromhex("58" + "66" * 31)
FORGED = BASE_POINT + (1).to_bytes(32, "little")


def openssl_accepts(public_key: bytes, event_hash: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            signature, signature_message(event_hash)
        )
    except (InvalidSignature, ValueError):
        return False
    return True


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.integers(0, 64 * 8 - 1))
def test_a_signature_verifies_and_any_changed_bit_is_refused(event_hash: bytes, bit: int) -> None:
    key = Ed25519PrivateKey.generate()
    public = public_bytes(key)
    sig = sign_event(key, event_hash)
    assert verify_event_signature(public, event_hash, sig)
    flipped = bytearray(sig)
    flipped[bit // 8] ^= 1 << (bit % 8)
    assert not verify_event_signature(public, event_hash, bytes(flipped))
    other = bytes([event_hash[0] ^ 1]) + event_hash[1:]
    assert not verify_event_signature(public, other, sig)
    assert not verify_event_signature(public_bytes(Ed25519PrivateKey.generate()), event_hash, sig)


def test_wrong_lengths_are_refused_not_shifted() -> None:
    """A 63-byte signature must not borrow the first byte of the message."""
    key = Ed25519PrivateKey.generate()
    public = public_bytes(key)
    event_hash = bytes(range(32))
    sig = sign_event(key, event_hash)
    assert not verify_event_signature(public, event_hash, sig[:63])
    assert not verify_event_signature(public, event_hash, sig + b"\x00")
    assert not verify_event_signature(public[:31], event_hash, sig)
    assert not verify_event_signature(public + b"\x00", event_hash, sig)
    assert not verify_event_signature(public, event_hash, b"")


@pytest.mark.parametrize("public_key", [IDENTITY, ORDER_TWO])
def test_keys_of_small_order_sign_nothing(public_key: bytes) -> None:
    """With such a key anyone could sign any event; OpenSSL accepts the forgery, we do not."""
    for event_hash in (bytes(32), bytes(range(32)), b"\xff" * 32):
        if public_key == IDENTITY:
            assert openssl_accepts(public_key, event_hash, FORGED)
        assert not verify_event_signature(public_key, event_hash, FORGED)


def test_a_non_canonical_public_key_is_refused() -> None:
    """y = p + 1 encodes the same point as y = 1 (the identity), but not canonically."""
    p_plus_one = (2**255 - 19 + 1).to_bytes(32, "little")
    assert not verify_event_signature(p_plus_one, bytes(32), FORGED)


def test_only_keys_a_signer_derives_are_usable() -> None:
    require_usable_public_key(public_bytes(Ed25519PrivateKey.generate()))
    p_plus_one = (2**255 - 19 + 1).to_bytes(32, "little")
    for bad in (IDENTITY, ORDER_TWO, p_plus_one, bytes(31), bytes(33)):
        with pytest.raises(InvalidInput) as refused:
            require_usable_public_key(bad)
        assert refused.value.code == "bad_public_key"


@pytest.mark.parametrize(
    "check", [ed25519_verify, bundle_verifier._ed25519_ok], ids=["goldtrace", "bundle_verifier"]
)
def test_the_standalone_bundle_verifier_applies_the_same_rules(
    check: Callable[[bytes, bytes, bytes], bool],
) -> None:
    key = Ed25519PrivateKey.generate()
    message = b"cosignature/v1\ntime 1\n"
    assert check(public_bytes(key), key.sign(message), message)
    assert not check(public_bytes(key), key.sign(message), message + b"x")
    assert not check(IDENTITY, FORGED, message)
    assert not check(public_bytes(key), key.sign(message)[:63], message)


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_events_are_signed_exactly_as_rfc_8032_signs(seed: bytes, event_hash: bytes) -> None:
    """libsodium signs; OpenSSL's signature of the same message must be the same bytes."""
    key = Ed25519PrivateKey.from_private_bytes(seed)
    assert sign_event(key, event_hash) == key.sign(signature_message(event_hash))
