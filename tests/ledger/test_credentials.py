"""eddsa-jcs-2022: the W3C test vector verifies, and any change breaks it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from goldtrace.config import PROJECT_ROOT
from goldtrace.ledger import credentials as vc

VECTOR = PROJECT_ROOT / "tests" / "data" / "standards" / "vc-di-eddsa-jcs-2022-signed-vector.json"
VECTOR_KEY = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


def vector() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(VECTOR.read_text(encoding="utf-8"))
    return data


def test_the_w3c_vector_verifies_with_its_multikey() -> None:
    key = vc.multikey_public(VECTOR_KEY)
    assert vc.multikey(key) == VECTOR_KEY
    assert vc.verify_credential(vector(), key) == key
    assert vc.verify_credential(vector()) == key  # from the verification method


@pytest.mark.parametrize(
    "path, value",
    [
        (("name",), "Alumni Credential!"),
        (("credentialSubject", "alumniOf"), "The School of Counterexamples"),
        (("validFrom",), "2023-01-01T00:00:01Z"),
        (("issuer",), "https://vc.example/issuers/5679"),
        (("proof", "created"), "2023-02-24T23:36:39Z"),
        (("proof", "proofPurpose"), "authentication"),
        (("@context",), ["https://www.w3.org/ns/credentials/v2"]),
    ],
)
def test_any_change_to_the_vector_fails(path: tuple[str, ...], value: object) -> None:
    doc = vector()
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    assert not vc.is_valid(doc, vc.multikey_public(VECTOR_KEY))


def test_a_changed_proof_value_or_key_fails() -> None:
    doc = vector()
    value = doc["proof"]["proofValue"]
    doc["proof"]["proofValue"] = value[:-1] + ("5" if value[-1] != "5" else "6")
    assert not vc.is_valid(doc)
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    assert not vc.is_valid(vector(), other)


def test_added_member_fails() -> None:
    doc = vector()
    doc["credentialSubject"]["extra"] = 1
    assert not vc.is_valid(doc)


def test_sign_then_verify_round_trip() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    doc = {k: v for k, v in vector().items() if k != "proof"}
    signed = vc.sign_credential(doc, key, created="2026-11-27T00:00:00Z")
    assert signed["proof"]["verificationMethod"].startswith("did:key:z6Mk")
    assert vc.is_valid(signed)
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "x"
    assert not vc.is_valid(tampered)


def test_base58_round_trips_leading_zeros() -> None:
    for data in (b"", b"\0", b"\0\0\x01", bytes(range(40))):
        assert vc.b58decode(vc.b58encode(data)) == data
