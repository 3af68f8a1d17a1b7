"""Standalone offline verifier of goldtrace certificate proof bundles.

This one file depends only on the Python standard library, ``PyNaCl`` (libsodium) and ``rfc8785``
so that a third party can read it whole and run it without goldtrace: ``python -m
goldtrace.ledger.bundle_verifier FILE`` or ``python bundle_verifier.py FILE``. It uses no database
and no network. It checks:

- the credential's ``eddsa-jcs-2022`` Data Integrity proof against its Multikey verification method;
- the checkpoint's C2SP signed note against the log key (pin the key with ``--log-key``);
- every witness cosignature on that note (C2SP tlog-cosignature) against the witness keys the bundle
  carries or the auditor pins (``--witness-key``); a cosignature by a witness whose key is in neither is
  reported as unverified, never counted as checked;
- every event: its body hashes to its hash, its log leaf commits to that hash, signature and key, and its
  RFC 9162 inclusion proof leads to the checkpoint's root at the checkpoint's size;
- every event signature, by a key of the bundle valid at the event's ``seq``, and each key's history
  against the key events in the bundle;
- the certificate event against the credential (id, lot, issuer, signing key, subject digest, anchor);
- that every event the certificate builds on (``prev``, transitively) is present;
- that the certificate is not revoked;
- that the certified lot still exists: no event the bundle carries consumed it (a transformation) or
  voided it after the certificate was issued, and a status that says otherwise names such an event.

Exit status 0 only when every check passes.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import rfc8785
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

BUNDLE_FORMAT = "goldtrace.bundle/v1"
EVENT_SIGNATURE_CONTEXT = b"goldtrace/event-signature/v1\n"
CRYPTOSUITE = "eddsa-jcs-2022"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
_MULTIKEY_ED25519 = b"\xed\x01"
_KEY_EVENTS = ("org.register", "key.rotate", "key.register", "key.revoke")
_NOTE_ED25519 = 0x01
_NOTE_COSIGNATURE = 0x04


class CheckFailed(Exception):
    """A check did not pass; ``code`` names which kind."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- base58btc and Multikey ---------------------------------------------------------------------


def b58encode(data: bytes) -> str:
    """Return the base58 (Bitcoin alphabet) text of ``data``."""
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rem = divmod(number, 58)
        out = _B58[rem] + out
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + out


def b58decode(text: str) -> bytes:
    """Decode base58 (Bitcoin alphabet); CheckFailed on any other character."""
    number = 0
    for char in text:
        if char not in _B58_INDEX:
            raise CheckFailed("bad_encoding", f"{char!r} is not a base58 character")
        number = number * 58 + _B58_INDEX[char]
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multikey(public_key: bytes) -> str:
    """Return the Multikey text (``z6Mk...``) of a 32-byte Ed25519 public key."""
    return "z" + b58encode(_MULTIKEY_ED25519 + public_key)


def multikey_public(text: str) -> bytes:
    """Return the 32-byte Ed25519 key of a Multikey; CheckFailed unless it is one."""
    if not text.startswith("z"):
        raise CheckFailed("bad_key", "a Multikey is base58btc, starting with 'z'")
    raw = b58decode(text[1:])
    if len(raw) != 34 or raw[:2] != _MULTIKEY_ED25519:
        raise CheckFailed("bad_key", "the Multikey is not an Ed25519 public key")
    return raw[2:]


# --- eddsa-jcs-2022 -----------------------------------------------------------------------------


def jcs(value: Any) -> bytes:
    """Return the RFC 8785 bytes of a JSON value."""
    data: bytes = rfc8785.dumps(value)
    return data


def proof_hash_data(document: dict[str, Any], proof_config: dict[str, Any]) -> bytes:
    """SHA-256(JCS(proof config)) || SHA-256(JCS(document without proof)): what is signed."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    return hashlib.sha256(jcs(proof_config)).digest() + hashlib.sha256(jcs(unsecured)).digest()


def proof_config(document: dict[str, Any], proof: dict[str, Any]) -> dict[str, Any]:
    """The proof without ``proofValue``, carrying the document's ``@context`` when it has one."""
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in document:
        config["@context"] = document["@context"]
    return config


def verification_key(method: str) -> bytes:
    """The Ed25519 key named by a verification method ending in ``#z6Mk...`` or being a Multikey."""
    fragment = method.rsplit("#", 1)[-1]
    if fragment.startswith("did:key:"):
        fragment = fragment[len("did:key:") :]
    return multikey_public(fragment)


def verify_credential(document: dict[str, Any], public_key: bytes | None = None) -> bytes:
    """Check a credential's ``eddsa-jcs-2022`` proof; return the public key that verified it.

    Without ``public_key`` the key comes from the proof's ``verificationMethod``. CheckFailed otherwise.
    """
    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise CheckFailed("credential_signature", "the credential has no proof object")
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        raise CheckFailed(
            "credential_signature", "the proof is not a DataIntegrityProof/eddsa-jcs-2022"
        )
    if "@context" in proof and proof["@context"] != document.get("@context"):
        raise CheckFailed(
            "credential_signature", "the proof's @context differs from the document's"
        )
    value = proof.get("proofValue")
    method = proof.get("verificationMethod")
    if not isinstance(value, str) or not value.startswith("z") or not isinstance(method, str):
        raise CheckFailed("credential_signature", "the proof has no base58btc proofValue")
    key = public_key if public_key is not None else verification_key(method)
    try:
        data = proof_hash_data(document, proof_config(document, proof))
    except (rfc8785.CanonicalizationError, ValueError, TypeError) as exc:
        raise CheckFailed(
            "credential_signature", f"the credential is not JSON JCS accepts: {exc}"
        ) from None
    if not _ed25519_ok(key, b58decode(value[1:]), data):
        raise CheckFailed("credential_signature", "the credential's proof does not verify")
    return key


def _ed25519_ok(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Ed25519 with libsodium's rules, as goldtrace itself checks: keys and R points of small order
    and non-canonical keys are refused (with them anyone could sign anything)."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    try:
        crypto_sign_open(signature + message, public_key)
    except BadSignatureError:
        return False
    return True


# --- RFC 6962 / 9162 Merkle proofs --------------------------------------------------------------


def leaf_hash(leaf: bytes) -> bytes:
    """SHA-256(0x00 || leaf)."""
    return hashlib.sha256(b"\0" + leaf).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\1" + left + right).digest()


def inclusion_root(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root an RFC 9162 §2.1.3.2 audit path leads to; CheckFailed for a path of the wrong length."""
    if not 0 <= index < size:
        raise CheckFailed("inclusion", f"index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise CheckFailed("inclusion", "the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise CheckFailed("inclusion", "the inclusion proof is too short")
    return r


def check_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: the tree (first, first_root) is a prefix of (second, second_root)."""
    if not 0 < first <= second:
        raise CheckFailed("anchor", f"no consistency from size {first} to {second}")
    if first == second:
        if proof or first_root != second_root:
            raise CheckFailed("anchor", "two roots for one tree size")
        return
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    if not path:
        raise CheckFailed("anchor", "the consistency proof is empty")
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise CheckFailed("anchor", "the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != first_root or sr != second_root:
        raise CheckFailed("anchor", "the consistency proof does not lead to both roots")


# --- C2SP signed notes and checkpoints ----------------------------------------------------------


def _b64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise CheckFailed("bad_bundle", f"{what} is not base64 text")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise CheckFailed("bad_bundle", f"{what} is not base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise CheckFailed("bad_bundle", f"{what} is not canonical base64")
    return raw


def note_key_id(name: str, public_key: bytes, sig_type: int) -> bytes:
    """First 4 bytes of SHA-256(name || 0x0A || type || key)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint whose log signature verified, its note text and its other signature lines
    (``(signer name, key id || payload)``: the witnesses' cosignatures)."""

    origin: str
    size: int
    root: bytes
    cosignatures: int
    text: str = ""
    others: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class NoteKey:
    """A C2SP note verifier key ``name+hexid+base64(type || key)``."""

    name: str
    key_id: bytes
    public: bytes
    sig_type: int


def note_key(vkey: str, sig_type: int, code: str) -> NoteKey:
    """Parse a verifier key of ``sig_type`` (0x01 log, 0x04 witness); CheckFailed(code) otherwise."""
    parts = vkey.split("+", 2) if isinstance(vkey, str) else []
    if len(parts) != 3 or len(parts[1]) != 8:
        raise CheckFailed(code, f"malformed verifier key {str(vkey)[:80]!r}")
    try:
        name, key_id, raw = parts[0], bytes.fromhex(parts[1]), _b64(parts[2], "verifier key")
    except (ValueError, CheckFailed):
        raise CheckFailed(code, f"malformed verifier key {vkey[:80]!r}") from None
    if len(raw) != 33 or raw[0] != sig_type or note_key_id(name, raw[1:], sig_type) != key_id:
        kind = "an Ed25519 note" if sig_type == _NOTE_ED25519 else "a cosignature (0x04)"
        raise CheckFailed(code, f"{name}: not a consistent {kind} verifier key")
    return NoteKey(name, key_id, raw[1:], sig_type)


def verify_cosignature(text: str, blob: bytes, key: NoteKey) -> int:
    """Check one C2SP tlog-cosignature (``key id || 8-byte timestamp || Ed25519 signature`` over
    ``"cosignature/v1\ntime <t>\n" || checkpoint text``); return its timestamp, CheckFailed if bad."""
    if blob[:4] != key.key_id:
        raise CheckFailed("witness_cosignature", f"the line of {key.name} is for another key")
    if len(blob) != 4 + 8 + 64:
        raise CheckFailed("witness_cosignature", f"the cosignature by {key.name} is malformed")
    timestamp = int.from_bytes(blob[4:12], "big")
    message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
    if timestamp >= 2**63 or not _ed25519_ok(key.public, blob[12:], message):
        raise CheckFailed(
            "witness_cosignature",
            f"the cosignature by {key.name} does not verify over the checkpoint",
        )
    return timestamp


def verify_checkpoint(note: str, vkey: str) -> SignedCheckpoint:
    """Verify a C2SP checkpoint note with a verifier key ``name+hexid+base64(0x01||key)``."""
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise CheckFailed("checkpoint_signature", "malformed log key")
    name, raw = parts[0], _b64(parts[2], "log key")
    if len(raw) != 33 or raw[0] != 1 or note_key_id(name, raw[1:], 1).hex() != parts[1]:
        raise CheckFailed("checkpoint_signature", "the log key is not a consistent Ed25519 key")
    text, sep, sigs = note.partition("\n\n")
    if not sep or not sigs.endswith("\n"):
        raise CheckFailed("checkpoint_signature", "the checkpoint is not a signed note")
    text += "\n"
    verified, others = False, []
    for line in sigs[:-1].split("\n"):
        if not line.startswith("\u2014 "):
            raise CheckFailed("checkpoint_signature", "malformed signature line")
        signer, _, blob = line[2:].partition(" ")
        sig = _b64(blob, "note signature")
        if signer == name and sig[:4] == bytes.fromhex(parts[1]):
            verified = verified or _ed25519_ok(raw[1:], sig[4:], text.encode())
        else:
            others.append((signer, sig))
    if not verified:
        raise CheckFailed("checkpoint_signature", "no valid signature by the log key")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or lines[0] != name or not lines[1].isdigit():
        raise CheckFailed("checkpoint_signature", "the note is not a checkpoint of this log")
    root = _b64(lines[2], "root")
    return SignedCheckpoint(lines[0], int(lines[1]), root, len(others), text, tuple(others))


# --- the bundle ---------------------------------------------------------------------------------


@dataclass
class Report:
    """What was checked, the failures found (code, message), what could not be checked and is not a
    failure (code, message), and each witness that cosigned: ``verified``, ``failed`` or
    ``unverified`` (no key for it)."""

    checked: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    witnesses: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return not self.failures

    @property
    def codes(self) -> set[str]:
        """The codes of the failed checks."""
        return {code for code, _ in self.failures}


@dataclass(frozen=True)
class _Event:
    seq: int
    hash: bytes
    body: dict[str, Any]
    kid: str
    sig: bytes
    time: str  # the log's time of the event, from its leaf


def _record(report: Report, label: str, check: Any) -> Any:
    try:
        result = check()
    except CheckFailed as exc:
        report.failures.append((exc.code, f"{label}: {exc.message}"))
        return None
    report.checked.append(label)
    return result


def verify_bundle(
    bundle: Any, *, log_key: str | None = None, witness_keys: Sequence[str] = ()
) -> Report:
    """Check everything a bundle claims; the report lists what passed and what failed, and why.

    ``log_key`` pins the log's verifier key; ``witness_keys`` pin witnesses (cosignature verifier
    keys): each must have cosigned the checkpoint, with the pinned key.
    """
    report = Report()
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        report.failures.append(("bad_bundle", f"not a {BUNDLE_FORMAT} document"))
        return report
    credential = bundle.get("credential")
    if not isinstance(credential, dict):
        report.failures.append(("bad_bundle", "the bundle has no credential"))
        return report
    issuer_key = _record(
        report, "credential proof (eddsa-jcs-2022)", lambda: verify_credential(credential)
    )
    log = bundle.get("log") or {}
    if log_key is not None and log.get("key") != log_key:
        report.failures.append(
            ("checkpoint_signature", "the bundle's log key is not the pinned one")
        )
    checkpoint = _record(
        report,
        "checkpoint signed note",
        lambda: verify_checkpoint(str(log.get("checkpoint")), log_key or str(log.get("key"))),
    )
    if checkpoint is not None:
        _witnesses(report, checkpoint, log.get("witnesses"), witness_keys)
    keys = _keys(report, bundle.get("keys"))
    events = _events(report, bundle.get("events"), checkpoint, keys)
    by_seq = {ev.seq: ev for ev in events}
    by_hash = {ev.hash: ev for ev in events}
    _record(report, f"key history of {len(keys)} keys", lambda: _key_history(keys, by_seq))
    issue = _record(
        report,
        "certificate event matches the credential",
        lambda: _certificate_event(credential, issuer_key, events, keys),
    )
    if issue is not None:
        _record(
            report,
            "credential anchor and checkpoint consistency",
            lambda: _anchor(credential, issue, checkpoint, bundle.get("anchor_consistency")),
        )
        _record(report, "ancestry complete", lambda: _ancestry(issue, by_hash))
        _record(
            report,
            "origins trace to mine registrations",
            lambda: _origins(credential, issue, by_hash),
        )
    _record(report, "revocation status", lambda: _revocation(bundle, credential, issue, events))
    if issue is not None:
        fate = _lot_fate(issue, events)
        _record(report, "lot lifecycle", lambda: _lot_lifecycle(fate))
        _record(report, "status claim", lambda: _status_claim(bundle, fate, by_seq))
    return report


def _witnesses(
    report: Report, checkpoint: SignedCheckpoint, carried: Any, pinned: Sequence[str]
) -> None:
    """Check each cosignature line with the pinned key of its witness, else the bundle's; a line by
    a witness with neither is noted as unverified. Each pinned witness must have cosigned."""
    trusted: dict[str, tuple[NoteKey, str]] = {}
    for vkey in carried if isinstance(carried, list) else []:
        try:
            key = note_key(vkey, _NOTE_COSIGNATURE, "bad_bundle")
        except CheckFailed as exc:
            report.failures.append((exc.code, f"witness key: {exc.message}"))
            continue
        trusted[key.name] = (key, "key from the bundle")
    pinned_names = []
    for vkey in pinned:
        try:
            key = note_key(vkey, _NOTE_COSIGNATURE, "witness_key")
        except CheckFailed as exc:
            report.failures.append((exc.code, f"pinned witness key: {exc.message}"))
            continue
        if key.name in trusted and trusted[key.name][0] != key:
            report.failures.append(
                ("witness_key", f"the bundle's key for witness {key.name} is not the pinned one")
            )
        trusted[key.name] = (key, "pinned key")
        pinned_names.append(key.name)
    for signer, blob in checkpoint.others:
        found = trusted.get(signer)
        if found is None or found[0].key_id != blob[:4]:
            report.notes.append(
                (
                    "unverified_witness",
                    f"{signer} cosigned the checkpoint with key {blob[:4].hex()}, which is neither"
                    " in the bundle nor pinned: unverified",
                )
            )
            report.witnesses.setdefault(signer, "unverified")
            continue
        key, source = found
        timestamp = _record(
            report,
            f"witness {signer} cosignature ({source})",
            lambda b=blob, k=key: verify_cosignature(checkpoint.text, b, k),
        )
        if timestamp is not None:
            report.witnesses[signer] = "verified"
        elif report.witnesses.get(signer) != "verified":
            report.witnesses[signer] = "failed"
    for name in pinned_names:
        if report.witnesses.get(name) in (None, "unverified"):
            report.failures.append(
                ("witness_missing", f"pinned witness {name} did not cosign the checkpoint")
            )


def _keys(report: Report, raw: Any) -> dict[str, dict[str, Any]]:
    keys: dict[str, dict[str, Any]] = {}
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("kid"), str):
            report.failures.append(("bad_bundle", "a key entry is malformed"))
            continue
        public = _record(
            report, f"key {item['kid']} encoding", lambda i=item: _b64(i.get("public"), "key")
        )
        if public is not None and hashlib.sha256(public).hexdigest()[:16] == item["kid"]:
            keys[item["kid"]] = {**item, "public": public}
        elif public is not None:
            report.failures.append(("bad_bundle", f"key {item['kid']}: id does not match the key"))
    return keys


def _events(
    report: Report, raw: Any, checkpoint: SignedCheckpoint | None, keys: dict[str, dict[str, Any]]
) -> list[_Event]:
    events: list[_Event] = []
    for item in raw if isinstance(raw, list) else []:
        ev = _record(
            report,
            f"event {item.get('seq') if isinstance(item, dict) else '?'}",
            lambda i=item: _event(i, checkpoint, keys),
        )
        if ev is not None:
            events.append(ev)
    return events


def _event(
    item: Any, checkpoint: SignedCheckpoint | None, keys: dict[str, dict[str, Any]]
) -> _Event:
    if not isinstance(item, dict) or not isinstance(item.get("seq"), int):
        raise CheckFailed("bad_bundle", "malformed event entry")
    seq = item["seq"]
    body_bytes = _b64(item.get("body"), "event body")
    digest = hashlib.sha256(body_bytes).digest()
    if digest.hex() != item.get("hash"):
        raise CheckFailed("event_hash", f"the body of event {seq} does not hash to its hash")
    body = json.loads(body_bytes)
    if not isinstance(body, dict) or jcs(body) != body_bytes:
        raise CheckFailed("event_hash", f"the body of event {seq} is not canonical JSON")
    sig = _b64(item.get("sig"), "signature")
    kid = str(item.get("kid"))
    leaf_bytes = _b64(item.get("leaf"), "leaf")
    leaf = json.loads(leaf_bytes)
    expected = {"event": digest.hex(), "kid": kid, "seq": seq, "sig": item.get("sig")}
    if not isinstance(leaf, dict) or any(leaf.get(k) != v for k, v in expected.items()):
        raise CheckFailed("leaf", f"the log leaf of event {seq} does not commit to this event")
    if checkpoint is None:
        raise CheckFailed("inclusion", f"event {seq}: no verified checkpoint to prove inclusion in")
    if leaf.get("origin") != checkpoint.origin:
        raise CheckFailed("leaf", f"the leaf of event {seq} belongs to another log")
    if item.get("size") != checkpoint.size:
        raise CheckFailed("inclusion", f"the proof of event {seq} is for another checkpoint")
    proof = [_b64(p, "proof hash") for p in item.get("proof") or []]
    if inclusion_root(leaf_hash(leaf_bytes), seq, checkpoint.size, proof) != checkpoint.root:
        raise CheckFailed("inclusion", f"event {seq} is not included in the checkpoint")
    key = keys.get(kid)
    if key is None:
        raise CheckFailed("unknown_key", f"event {seq} is signed by key {kid}, not in the bundle")
    until = key.get("valid_until_seq")
    if not key["valid_from_seq"] <= seq or (until is not None and seq >= until):
        raise CheckFailed("key_not_valid", f"key {kid} was not valid at event {seq}")
    if key.get("org") != body.get("actor") and seq != 0:
        raise CheckFailed("event_signature", f"event {seq} is signed by another organization's key")
    if not _ed25519_ok(key["public"], sig, EVENT_SIGNATURE_CONTEXT + digest):
        raise CheckFailed("event_signature", f"the signature of event {seq} does not verify")
    return _Event(seq, digest, body, kid, sig, str(leaf.get("time")))


def _key_history(keys: dict[str, dict[str, Any]], by_seq: dict[int, _Event]) -> None:
    """Each key's start and end are key events of its organization that are in the bundle."""
    for kid, key in keys.items():
        start = key["valid_from_seq"]
        opener = by_seq.get(max(start - 1, 0))
        if opener is None or opener.body.get("type") not in _KEY_EVENTS[:3]:
            raise CheckFailed("key_history", f"the event that installed key {kid} is missing")
        declared = opener.body.get("key") or {}
        if declared.get("kid") != kid or _b64(declared.get("public"), "key") != key["public"]:
            raise CheckFailed("key_history", f"event {opener.seq} does not install key {kid}")
        until = key.get("valid_until_seq")
        if until is not None:
            closer = by_seq.get(until - 1)
            if closer is None or closer.body.get("type") not in _KEY_EVENTS[1:]:
                raise CheckFailed("key_history", f"the event that retired key {kid} is missing")


def _certificate_event(
    credential: dict[str, Any],
    issuer_key: bytes | None,
    events: list[_Event],
    keys: dict[str, dict[str, Any]],
) -> _Event:
    subject = credential.get("credentialSubject") or {}
    cert_id = subject.get("certificate")
    found = [
        e
        for e in events
        if e.body.get("type") == "certificate.issue" and e.body.get("certificate") == cert_id
    ]
    if not found:
        raise CheckFailed("certificate_event", f"no certificate.issue event for {cert_id!r}")
    issue = found[0]
    claims = {k: v for k, v in subject.items() if k != "ledger"}
    if issue.body.get("subject") != hashlib.sha256(jcs(claims)).hexdigest():
        raise CheckFailed(
            "certificate_event", "the credential's claims differ from those on the ledger"
        )
    if issue.body.get("lot") != subject.get("lot"):
        raise CheckFailed("certificate_event", "the certificate event is for another lot")
    issuer = credential.get("issuer") or {}
    if issuer.get("id") != f"urn:goldtrace:org:{issue.body.get('actor')}":
        raise CheckFailed(
            "certificate_event", "the credential's issuer did not issue it on the ledger"
        )
    if issuer_key is None or keys[issue.kid]["public"] != issuer_key:
        raise CheckFailed(
            "certificate_event", "the credential is not signed by the issuer's ledger key"
        )
    return issue


def _anchor(
    credential: dict[str, Any], issue: _Event, checkpoint: SignedCheckpoint | None, proof: Any
) -> None:
    anchor = (credential.get("credentialSubject") or {}).get("ledger") or {}
    if anchor.get("seq") != issue.seq or anchor.get("hash") != issue.hash.hex():
        raise CheckFailed("anchor", "the credential's anchor is not the certificate event")
    if checkpoint is None or anchor.get("origin") != checkpoint.origin:
        raise CheckFailed("anchor", "the credential is anchored in another log")
    anchored = anchor.get("checkpoint") or {}
    size, root = anchored.get("size"), _b64(anchored.get("root"), "anchor root")
    if not isinstance(size, int) or size <= issue.seq:
        raise CheckFailed("anchor", "the anchor checkpoint does not include the certificate event")
    check_consistency(
        size, checkpoint.size, root, checkpoint.root, [_b64(p, "proof") for p in proof or []]
    )


def _ancestry(issue: _Event, by_hash: dict[bytes, _Event]) -> None:
    todo, seen = [issue], {issue.hash}
    while todo:
        ev = todo.pop()
        for link in ev.body.get("prev") or []:
            parent = by_hash.get(bytes.fromhex(link))
            if parent is None:
                raise CheckFailed(
                    "missing_ancestor", f"event {ev.seq} builds on {link[:16]}…, not in the bundle"
                )
            if parent.hash not in seen:
                seen.add(parent.hash)
                todo.append(parent)


def _origins(credential: dict[str, Any], issue: _Event, by_hash: dict[bytes, _Event]) -> None:
    mines = set()
    for ev in by_hash.values():
        if ev.body.get("type") == "lot.register":
            mines.add(ev.body.get("actor"))
    for origin in (credential.get("credentialSubject") or {}).get("origins") or []:
        if origin.get("mine") not in mines:
            raise CheckFailed("origins", f"no registration by {origin.get('mine')} in the bundle")


def _revocation(
    bundle: dict[str, Any], credential: dict[str, Any], issue: _Event | None, events: list[_Event]
) -> None:
    cert_id = (credential.get("credentialSubject") or {}).get("certificate")
    revokes = [
        e
        for e in events
        if e.body.get("type") == "certificate.revoke" and e.body.get("certificate") == cert_id
    ]
    status = bundle.get("status") or {}
    if revokes or status.get("revoked") or status.get("state") == "revoked":
        reason = revokes[0].body.get("reason") if revokes else status.get("reason")
        raise CheckFailed("revoked", f"the certificate was revoked: {reason}")
    if issue is None:
        raise CheckFailed("revocation", "without the certificate event the status cannot be known")


_STATES = ("valid", "revoked", "lot_consumed", "lot_voided")
_LOT_ENDINGS = {"lot_consumed": "consumed", "lot_voided": "voided"}


def _creates(body: dict[str, Any], lot: Any) -> bool:
    """Whether the event created ``lot`` (registered it, or made it in a transformation)."""
    if body.get("type") == "lot.register":
        return isinstance(body.get("lot"), dict) and body["lot"].get("id") == lot
    if body.get("type") == "lot.transform":
        outputs = body.get("outputs")
        return any(isinstance(o, dict) and o.get("id") == lot for o in outputs or [])
    return False


def _lot_fate(issue: _Event, events: list[_Event]) -> tuple[str, _Event] | None:
    """What the events say became of the certified lot after the certificate was issued:
    (``lot_consumed`` or ``lot_voided``, the event that did it), or None while the lot still exists.

    A transformation with the lot among its inputs consumes it; voiding that transformation gives it
    back; voiding the event that created the lot voids it (section 2.7 of the ledger format)."""
    lot = issue.body.get("lot")
    created = {e.seq for e in events if e.seq < issue.seq and _creates(e.body, lot)}
    fate: tuple[str, _Event] | None = None
    for ev in sorted(events, key=lambda e: e.seq):
        if ev.seq <= issue.seq:
            continue
        kind = ev.body.get("type")
        if kind == "lot.transform" and lot in (ev.body.get("inputs") or []):
            fate = ("lot_consumed", ev)
        elif kind == "event.void":
            target = ev.body.get("target")
            if fate is not None and fate[0] == "lot_consumed" and target == fate[1].seq:
                fate = None
            elif target in created:
                fate = ("lot_voided", ev)
    return fate


def _ended_message(state: str, ev: _Event) -> str:
    if state == "lot_consumed":
        return (
            f"the lot was consumed by event {ev.seq} ({ev.body.get('kind')}) at {ev.time}:"
            " the certificate is no longer valid"
        )
    return (
        f"the lot was voided by event {ev.seq} at {ev.time} ({ev.body.get('reason')}):"
        " the certificate is no longer valid"
    )


def _lot_lifecycle(fate: tuple[str, _Event] | None) -> None:
    """Fail when the events carried show that the lot is gone."""
    if fate is not None:
        raise CheckFailed(fate[0], _ended_message(*fate))


def _status_claim(
    bundle: dict[str, Any], fate: tuple[str, _Event] | None, by_seq: dict[int, _Event]
) -> None:
    """A status saying the lot is gone is checked against the event it names when the bundle
    carries it, and believed (as a failure, never a pass) when it does not."""
    raw = bundle.get("status")
    status: dict[str, Any] = raw if isinstance(raw, dict) else {}
    claimed = status.get("state")
    if claimed is not None and claimed not in _STATES:
        raise CheckFailed("status_mismatch", f"the status {str(claimed)[:40]!r} is unknown")
    if claimed in _LOT_ENDINGS:
        seq, at = status.get("seq"), status.get("at")
        named = by_seq.get(seq) if isinstance(seq, int) else None
        if named is None:
            raise CheckFailed(
                str(claimed),
                f"the status says the lot was {_LOT_ENDINGS[str(claimed)]} by event {seq} at {at};"
                " the bundle does not carry that event",
            )
        agrees = (
            fate is not None
            and fate == (claimed, named)
            and at == named.time
            and (claimed != "lot_consumed" or status.get("kind") == named.body.get("kind"))
        )
        if not agrees:
            raise CheckFailed(
                "status_mismatch",
                f"the status says the lot was {_LOT_ENDINGS[str(claimed)]} by event {seq} at {at},"
                " but the events in the bundle do not show that",
            )


def witness_key_arg(vkey: str) -> str:
    """Return ``vkey`` if it is a witness's cosignature verifier key; ValueError with the reason."""
    try:
        note_key(vkey, _NOTE_COSIGNATURE, "witness_key")
    except CheckFailed as exc:
        raise ValueError(exc.message) from None
    return vkey


def _witness_key_type(vkey: str) -> str:
    try:
        return witness_key_arg(vkey)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Verify a bundle file; print each check; return 0 only when every check passes."""
    parser = argparse.ArgumentParser(
        description="Verify a goldtrace certificate proof bundle offline."
    )
    parser.add_argument("file")
    parser.add_argument("--log-key", help="the log's verifier key, obtained independently")
    parser.add_argument(
        "--witness-key",
        action="append",
        default=[],
        type=_witness_key_type,
        metavar="VKEY",
        help="a witness's cosignature verifier key, obtained independently (repeatable): that"
        " witness must have cosigned the checkpoint",
    )
    args = parser.parse_args(argv)
    with open(args.file, encoding="utf-8") as handle:
        try:
            bundle = json.load(handle)
        except ValueError as exc:
            print(f"FAIL bad_bundle: not JSON: {exc}")
            return 1
    report = verify_bundle(bundle, log_key=args.log_key, witness_keys=args.witness_key)
    for label in report.checked:
        print(f"ok   {label}")
    for code, message in report.failures:
        print(f"FAIL {code}: {message}")
    for _code, message in report.notes:
        print(f"note: {message}")
    if args.log_key is None:
        print("note: the log key was taken from the bundle; pin it with --log-key")
    if report.witnesses and not args.witness_key:
        print("note: the witness keys were taken from the bundle; pin them with --witness-key")
    print("VALID" if report.ok else "NOT VALID")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
