"""Organization signing keys: key ids, event signatures and custodial sealing of private keys.

Organizations sign the 32-byte event hash behind a fixed context prefix, so an event signature can never
be replayed as a signature of anything else (a checkpoint, a credential) made with the same key.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from nacl.bindings import crypto_core_ed25519_is_valid_point, crypto_sign, crypto_sign_open
from nacl.exceptions import BadSignatureError

from goldtrace.errors import ConfigurationError, InvalidInput

EVENT_SIGNATURE_CONTEXT = b"goldtrace/event-signature/v1\n"
_SEAL_INFO = b"goldtrace/custodial-key-seal/v1"
_NONCE_SIZE = 12


def key_id(public_key: bytes) -> str:
    """Return the key id of an Ed25519 public key: the first 16 hex digits of its SHA-256."""
    if len(public_key) != 32:
        raise InvalidInput("an Ed25519 public key has 32 bytes", code="bad_public_key")
    return hashlib.sha256(public_key).hexdigest()[:16]


def require_usable_public_key(public_key: bytes) -> None:
    """Raise InvalidInput unless ``public_key`` is what every Ed25519 signer derives: 32 bytes, the
    canonical encoding of a point of the prime-order subgroup. Under a key of small order anyone
    could sign anything (``verify_event_signature`` refuses every signature by one)."""
    if len(public_key) != 32 or not crypto_core_ed25519_is_valid_point(public_key):
        raise InvalidInput(
            "not a usable Ed25519 public key (wrong length, not canonical, or of small order)",
            code="bad_public_key",
        )


def public_bytes(private_key: Ed25519PrivateKey) -> bytes:
    """Return the raw 32-byte public key of a private key."""
    return private_key.public_key().public_bytes_raw()


def private_bytes(private_key: Ed25519PrivateKey) -> bytes:
    """Return the raw 32-byte seed of a private key."""
    return private_key.private_bytes_raw()


def signature_message(event_hash: bytes) -> bytes:
    """Return the exact bytes an organization signs for an event."""
    return EVENT_SIGNATURE_CONTEXT + event_hash


def sign_event(private_key: Ed25519PrivateKey, event_hash: bytes) -> bytes:
    """Return the 64-byte Ed25519 signature of an event hash.

    libsodium signs (21 us here, against 32 us for OpenSSL through ``cryptography``, which keeps
    the key). Ed25519 is deterministic: both give the same bytes (docs/ledger-format.md's vectors).
    """
    secret = private_bytes(private_key) + public_bytes(private_key)
    return crypto_sign(signature_message(event_hash), secret)[:64]


def verify_event_signature(public_key: bytes, event_hash: bytes, signature: bytes) -> bool:
    """Return True when ``signature`` is a valid event signature by ``public_key``.

    Every check of an event signature comes here: when it is appended, in full verification and
    in provenance.
    """
    return ed25519_verify(public_key, signature, signature_message(event_hash))


def ed25519_verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Return True when ``signature`` is an Ed25519 signature of ``message`` by ``public_key``.

    libsodium (PyNaCl) checks it, twice as fast as OpenSSL's Ed25519 on the benchmark machine
    (docs/performance.md). It accepts every signature an RFC 8032 signer makes and refuses, where
    OpenSSL accepts them, public keys of small order (under which anyone could sign anything), R
    points of small order and non-canonical public keys (docs/ledger-format.md §3.2).
    """
    if len(public_key) != 32 or len(signature) != 64:
        return False
    try:
        crypto_sign_open(signature + message, public_key)
    except BadSignatureError:
        return False
    return True


def b64(data: bytes) -> str:
    """Return standard padded base64 text."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, *, what: str = "value") -> bytes:
    """Decode standard padded base64; InvalidInput on anything else."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise InvalidInput(f"{what} is not valid base64", code="bad_base64") from None


@dataclass
class KeySeal:
    """Encrypts custodial private keys at rest with AES-256-GCM under a key derived from the secret.

    Decrypted keys are cached per key id: the append path signs on every event and key derivation
    and decryption would otherwise dominate it.
    """

    secret: str
    _aead: AESGCM = field(init=False, repr=False)
    _cache: dict[str, Ed25519PrivateKey] = field(init=False, repr=False, default_factory=dict)
    _sealed: dict[str, bytes] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEAL_INFO).derive(
            self.secret.encode("utf-8")
        )
        self._aead = AESGCM(derived)

    def seal(self, private_key: Ed25519PrivateKey, kid: str) -> bytes:
        """Return nonce || ciphertext of the key seed, bound to ``kid`` as associated data."""
        nonce = os.urandom(_NONCE_SIZE)
        sealed = nonce + self._aead.encrypt(nonce, private_bytes(private_key), kid.encode("ascii"))
        self._cache[kid] = private_key
        self._sealed[kid] = sealed
        return sealed

    def open(self, sealed: bytes, kid: str) -> Ed25519PrivateKey:
        """Return the private key sealed for ``kid``; ConfigurationError when the secret is wrong."""
        cached = self._cache.get(kid)
        if cached is not None and sealed == self._sealed.get(kid):
            return cached
        try:
            seed = self._aead.decrypt(
                sealed[:_NONCE_SIZE], sealed[_NONCE_SIZE:], kid.encode("ascii")
            )
        except InvalidTag:
            raise ConfigurationError(
                f"cannot decrypt the custodial key {kid}: GOLDTRACE_SECRET_KEY differs from the one "
                "that sealed it"
            ) from None
        key = Ed25519PrivateKey.from_private_bytes(seed)
        self._cache[kid] = key
        self._sealed[kid] = sealed
        return key

    def opened(self, kid: str) -> Ed25519PrivateKey | None:
        """Return the private key of ``kid`` if this seal has sealed or opened it, else None.

        A key id is the hash of the public key, so the key it names never changes; whether it may
        still sign is for the caller to check.
        """
        return self._cache.get(kid)
