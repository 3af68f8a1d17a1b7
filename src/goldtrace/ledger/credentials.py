"""W3C Verifiable Credentials 2.0 secured with a Data Integrity proof, cryptosuite ``eddsa-jcs-2022``.

Verification lives in ``bundle_verifier`` (the standalone module a third party audits); this module
adds signing with the same hashing, so what goldtrace signs is exactly what the verifier checks.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from goldtrace.ledger.bundle_verifier import (
    CRYPTOSUITE,
    CheckFailed,
    b58decode,
    b58encode,
    multikey,
    multikey_public,
    proof_config,
    proof_hash_data,
    verify_credential,
)
from goldtrace.ledger.keys import public_bytes

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"

__all__ = [
    "CRYPTOSUITE",
    "VC_CONTEXT",
    "CheckFailed",
    "b58decode",
    "b58encode",
    "did_key_method",
    "is_valid",
    "multikey",
    "multikey_public",
    "sign_credential",
    "verify_credential",
]


def did_key_method(public_key: bytes) -> str:
    """The ``did:key`` verification method of an Ed25519 key: ``did:key:z6Mk...#z6Mk...``."""
    mk = multikey(public_key)
    return f"did:key:{mk}#{mk}"


def sign_credential(
    document: dict[str, Any], private_key: Ed25519PrivateKey, *, created: str
) -> dict[str, Any]:
    """Return ``document`` with an ``eddsa-jcs-2022`` DataIntegrityProof by ``private_key``.

    ``created`` is an RFC 3339 instant. The document must not already carry a proof.
    """
    if "proof" in document:
        raise ValueError("the document already has a proof")
    proof: dict[str, Any] = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": did_key_method(public_bytes(private_key)),
        "proofPurpose": "assertionMethod",
    }
    if "@context" in document:
        proof["@context"] = document["@context"]
    signature = private_key.sign(proof_hash_data(document, proof_config(document, proof)))
    return {**document, "proof": {**proof, "proofValue": "z" + b58encode(signature)}}


def is_valid(document: dict[str, Any], public_key: bytes | None = None) -> bool:
    """True when the credential's proof verifies (with ``public_key`` if given)."""
    try:
        verify_credential(document, public_key)
    except CheckFailed:
        return False
    return True
