"""C2SP signed notes, tlog-checkpoints and Ed25519 tlog-cosignatures.

Implements c2sp.org/signed-note (Ed25519, type 0x01), c2sp.org/tlog-checkpoint and the
Ed25519 flavour of c2sp.org/tlog-cosignature (type 0x04), byte-compatible with
golang.org/x/mod/sumdb/note so that Go witnesses and verifiers accept goldtrace checkpoints.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from goldtrace.errors import InvalidInput, ProofError
from goldtrace.ledger.keys import ed25519_verify

SIG_TYPE_ED25519 = 0x01
SIG_TYPE_COSIGNATURE = 0x04

_SIG_TYPES = (SIG_TYPE_ED25519, SIG_TYPE_COSIGNATURE)
_DASH = "\u2014 "
# Go's verifier refuses more; the spec only demands at least 16 be accepted.
_MAX_SIGNATURES = 100
_MAX_TIMESTAMP = 2**63 - 1
_MAX_TREE_SIZE = 2**64 - 1
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes | None:
    """Decode canonical standard base64, or None; non-canonical forms would let a line change
    bytes without changing meaning, breaking byte-exact round trips."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if _b64(raw) == text else None


def _valid_name(name: str) -> bool:
    if not name or "+" in name or any(c.isspace() for c in name) or _CONTROL.search(name):
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates are not UTF-8
        return False
    return True


def _check_chars(data: str, code: str) -> None:
    try:
        data.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("text is not valid UTF-8", code=code) from None
    if _CONTROL.search(data):
        raise InvalidInput("text contains a control character", code=code)


def _check_text(text: str, code: str = "malformed_note") -> None:
    if not text or not text.endswith("\n"):
        raise InvalidInput("note text must be non-empty and end in a newline", code=code)
    _check_chars(text, code)


def key_id(name: str, public_key: bytes, sig_type: int = SIG_TYPE_ED25519) -> bytes:
    """Return the 4-byte key id: SHA-256(name || 0x0A || sig_type || public_key)[:4]."""
    material = name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key
    return hashlib.sha256(material).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A verifier key; construction raises InvalidInput(code="invalid_vkey") if inconsistent."""

    name: str
    key_id: bytes
    public_key: bytes
    sig_type: int

    def __post_init__(self) -> None:
        if not _valid_name(self.name):
            raise InvalidInput("invalid key name", code="invalid_vkey")
        if self.sig_type not in _SIG_TYPES or len(self.public_key) != 32:
            raise InvalidInput("unsupported key type or key length", code="invalid_vkey")
        if self.key_id != key_id(self.name, self.public_key, self.sig_type):
            raise InvalidInput("key id does not match name and key", code="invalid_vkey")

    def vkey(self) -> str:
        """Return the text form ``name+hexid+base64(type || key)``."""
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([self.sig_type]) + self.public_key)}"

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """Return the Verifier for a vkey string; raises InvalidInput(code="invalid_vkey")."""
        # Only the first two '+' separate fields: the base64 key may itself contain '+'.
        parts = vkey.split("+", 2)
        if len(parts) != 3 or not _HEX8.fullmatch(parts[1]):
            raise InvalidInput("malformed verifier key", code="invalid_vkey")
        raw = _unb64(parts[2])
        if not raw:
            raise InvalidInput("malformed verifier key material", code="invalid_vkey")
        return cls(parts[0], bytes.fromhex(parts[1]), raw[1:], raw[0])

    @classmethod
    def from_public_key(
        cls, name: str, public_key: bytes, sig_type: int = SIG_TYPE_ED25519
    ) -> Verifier:
        """Return the Verifier for a raw 32-byte Ed25519 key; raises InvalidInput if invalid."""
        if not _valid_name(name):
            raise InvalidInput("invalid key name", code="invalid_vkey")
        return cls(name, key_id(name, public_key, sig_type), public_key, sig_type)

    def _verify(self, signature: bytes, message: bytes) -> bool:
        return ed25519_verify(self.public_key, signature, message)


def _cosignature_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


@dataclass(frozen=True)
class SignatureLine:
    """One ``— name base64(key id || payload)`` line; payload is what follows the key id."""

    name: str
    key_id: bytes
    payload: bytes


def _format_line(line: SignatureLine) -> str:
    return f"{_DASH}{line.name} {_b64(line.key_id + line.payload)}\n"


def _parse_line(line: str) -> SignatureLine:
    """Parse one signature line without its newline; raises InvalidInput(malformed_note)."""
    fields = line[len(_DASH) :].split(" ") if line.startswith(_DASH) else []
    raw = _unb64(fields[1]) if len(fields) == 2 else None
    # Go requires a non-empty signature after the key id; so do we.
    if raw is None or len(raw) < 5 or not _valid_name(fields[0]):
        raise InvalidInput("malformed signature line", code="malformed_note")
    return SignatureLine(fields[0], raw[:4], raw[4:])


class Signer:
    """An Ed25519 private key under a key name, for notes (0x01) or cosignatures (0x04)."""

    def __init__(
        self, name: str, private_key: Ed25519PrivateKey, sig_type: int = SIG_TYPE_ED25519
    ) -> None:
        self.name = name
        self._key = private_key
        self._verifier = Verifier.from_public_key(
            name, private_key.public_key().public_bytes_raw(), sig_type
        )

    @property
    def verifier(self) -> Verifier:
        """Return the Verifier matching this signer."""
        return self._verifier

    def sign(self, text: str) -> str:
        """Return the signed note ``text + "\\n" + signature line``.

        Raises InvalidInput(code="malformed_note") for an invalid text and ValueError for a
        cosignature signer (use cosign).
        """
        if self._verifier.sig_type != SIG_TYPE_ED25519:
            raise ValueError("a cosignature signer must use cosign()")
        _check_text(text)
        sig = self._key.sign(text.encode("utf-8"))
        return text + "\n" + _format_line(SignatureLine(self.name, self._verifier.key_id, sig))

    def cosign(self, checkpoint_text: str, timestamp: int) -> str:
        """Return one tlog-cosignature line (with newline) over a checkpoint's note text.

        Raises ValueError for a non-cosignature signer or a timestamp outside [0, 2**63 - 1],
        InvalidInput(code="malformed_checkpoint") if the text is not a checkpoint body.
        """
        if self._verifier.sig_type != SIG_TYPE_COSIGNATURE:
            raise ValueError("only a cosignature (0x04) signer can cosign")
        if not 0 <= timestamp <= _MAX_TIMESTAMP:
            raise ValueError("cosignature timestamp out of range")
        parse_checkpoint(checkpoint_text)  # catches a whole signed note passed by mistake
        sig = self._key.sign(_cosignature_message(checkpoint_text, timestamp))
        payload = timestamp.to_bytes(8, "big") + sig
        return _format_line(SignatureLine(self.name, self._verifier.key_id, payload))


@dataclass(frozen=True)
class Note:
    """A parsed signed note: its text (with final newline) and signature lines in order."""

    text: str
    signatures: tuple[SignatureLine, ...]

    def serialize(self) -> str:
        """Return the note in wire form: text, blank line, signature lines."""
        return self.text + "\n" + "".join(_format_line(s) for s in self.signatures)


def parse_note(data: str) -> Note:
    """Return the Note in ``data`` without verifying it.

    Raises InvalidInput(code="malformed_note") on any structural error.
    """
    _check_chars(data, "malformed_note")
    # The spec lets the text hold blank lines: the signatures start after the last one.
    split = data.rfind("\n\n")
    if split < 0 or not data.endswith("\n"):
        raise InvalidInput("no signature block", code="malformed_note")
    text, block = data[: split + 1], data[split + 2 :]
    lines = block[:-1].split("\n") if block else []
    if not lines or len(lines) > _MAX_SIGNATURES:
        raise InvalidInput("wrong number of signatures", code="malformed_note")
    return Note(text, tuple(_parse_line(line) for line in lines))


def add_signature_lines(note_text: str, lines: Iterable[str]) -> str:
    """Return the signed note with extra signature lines appended (exact duplicates skipped).

    Each line may carry its trailing newline or not. Raises InvalidInput(code="malformed_note")
    if the note or a line is malformed or the result would hold too many signatures.
    """
    note = parse_note(note_text)
    sigs = list(note.signatures)
    for line in lines:
        body = line[:-1] if line.endswith("\n") else line
        if "\n" in body:
            raise InvalidInput("signature line spans several lines", code="malformed_note")
        _check_chars(body, "malformed_note")
        sig = _parse_line(body)
        if sig not in sigs:
            sigs.append(sig)
    if len(sigs) > _MAX_SIGNATURES:
        raise InvalidInput("too many signatures", code="malformed_note")
    return Note(note.text, tuple(sigs)).serialize()


def cosignature_timestamp(line: SignatureLine) -> int:
    """Return the POSIX timestamp of an Ed25519 cosignature line.

    Raises InvalidInput(code="malformed_cosignature") if the payload is not 8 + 64 bytes or the
    timestamp exceeds 2**63 - 1.
    """
    if len(line.payload) != 8 + 64:
        raise InvalidInput("not an Ed25519 cosignature", code="malformed_cosignature")
    timestamp = int.from_bytes(line.payload[:8], "big")
    if timestamp > _MAX_TIMESTAMP:
        raise InvalidInput("cosignature timestamp out of range", code="malformed_cosignature")
    return timestamp


def _verifies(verifier: Verifier, line: SignatureLine, text: str) -> bool:
    if verifier.sig_type == SIG_TYPE_ED25519:
        return len(line.payload) == 64 and verifier._verify(line.payload, text.encode("utf-8"))
    try:
        timestamp = cosignature_timestamp(line)
    except InvalidInput:
        return False
    return verifier._verify(line.payload[8:], _cosignature_message(text, timestamp))


def verify_note(data: str, verifiers: Iterable[Verifier]) -> Note:
    """Return the parsed Note once at least one signature by a known verifier verifies.

    Signatures by unknown keys (name or key id differ) are ignored. Raises
    ProofError(code="note_signature_invalid") when a known key's signature fails or none
    verifies, InvalidInput(code="malformed_note") for malformed data, and
    InvalidInput(code="ambiguous_verifier") if two different verifiers share name and key id.
    """
    known: dict[tuple[str, bytes], Verifier] = {}
    for v in verifiers:
        if known.setdefault((v.name, v.key_id), v) != v:
            raise InvalidInput(f"ambiguous key {v.name}", code="ambiguous_verifier")
    note = parse_note(data)
    verified = False
    for line in note.signatures:
        verifier = known.get((line.name, line.key_id))
        if verifier is None:
            continue
        if not _verifies(verifier, line, note.text):
            raise ProofError(
                f"invalid signature for key {line.name}+{line.key_id.hex()}",
                code="note_signature_invalid",
            )
        verified = True
    if not verified:
        raise ProofError("note has no verifiable signatures", code="note_signature_invalid")
    return note


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint body; construction raises InvalidInput(code="malformed_checkpoint")."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for line in (self.origin, *self.extensions):
            if not line or "\n" in line:
                raise InvalidInput(
                    "empty or multi-line checkpoint line", code="malformed_checkpoint"
                )
            _check_chars(line, "malformed_checkpoint")
        if not 0 <= self.size <= _MAX_TREE_SIZE:
            raise InvalidInput("tree size out of range", code="malformed_checkpoint")
        if len(self.root) != 32:
            raise InvalidInput("root hash must be 32 bytes", code="malformed_checkpoint")

    def text(self) -> str:
        """Return the note text: origin, size, base64 root, extensions, each newline-ended."""
        lines = (self.origin, str(self.size), _b64(self.root), *self.extensions)
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Return the Checkpoint in a note text; raises InvalidInput(code="malformed_checkpoint")."""
    _check_text(text, "malformed_checkpoint")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise InvalidInput("checkpoint needs origin, size and root", code="malformed_checkpoint")
    origin, size, root_b64, *extensions = lines
    root = _unb64(root_b64)
    if not _DECIMAL.fullmatch(size) or root is None:
        raise InvalidInput("malformed tree size or root hash", code="malformed_checkpoint")
    return Checkpoint(origin, int(size), root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """Return the checkpoint as a note signed by the log; ValueError if signer.name != origin."""
    if signer.name != checkpoint.origin:
        raise ValueError("the log's key name must equal the checkpoint origin")
    return signer.sign(checkpoint.text())


def open_checkpoint(
    data: str, log_verifier: Verifier, *, origin: str | None = None
) -> tuple[Checkpoint, Note]:
    """Return the checkpoint and note after verifying the log's signature.

    Raises ProofError (code "note_signature_invalid", or "checkpoint_origin_mismatch" when
    ``origin`` is given and differs), InvalidInput for a malformed note or checkpoint and
    ValueError if ``log_verifier`` is a cosignature key.
    """
    if log_verifier.sig_type != SIG_TYPE_ED25519:
        raise ValueError("a log verifier must be an Ed25519 (0x01) key")
    note = verify_note(data, [log_verifier])
    checkpoint = parse_checkpoint(note.text)
    if origin is not None and checkpoint.origin != origin:
        raise ProofError(
            f"checkpoint origin {checkpoint.origin!r}, expected {origin!r}",
            code="checkpoint_origin_mismatch",
        )
    return checkpoint, note
