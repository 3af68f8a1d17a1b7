"""Tests for goldtrace.ledger.note: C2SP signed notes, checkpoints and cosignatures."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from goldtrace.errors import InvalidInput, ProofError
from goldtrace.ledger.note import (
    SIG_TYPE_COSIGNATURE,
    SIG_TYPE_ED25519,
    Checkpoint,
    Note,
    SignatureLine,
    Signer,
    Verifier,
    add_signature_lines,
    cosignature_timestamp,
    key_id,
    open_checkpoint,
    parse_checkpoint,
    parse_note,
    sign_checkpoint,
    verify_note,
)

# --- golang.org/x/mod/sumdb/note note_test.go vectors (TestSign / TestOpen) -----------------
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqd"
    "ngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwn"
    "WLox33WWd1RvMc+QQ=\n"
)
GO_NOTE = GO_TEXT + "\n" + PETER_SIG

# Seed 00..1f: its public key's base64 contains '+', which exercises the vkey field split.
FIXED_SEED = bytes(range(32))
FIXED_PUBLIC = bytes.fromhex("03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8")
FIXED_VKEY = "goldtrace.example/log+835c8b82+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"
FIXED_COSIGNER_VKEY = "goldtrace.example/log+78daf404+BAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"

ORIGIN = "goldtrace.example/log"
ROOT = hashlib.sha256(b"root").digest()


def _key(seed_byte: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed_byte]) * 32)


LOG = Signer(ORIGIN, _key(1))
WITNESS = Signer("witness.example/w1", _key(2), SIG_TYPE_COSIGNATURE)
OTHER = Signer(ORIGIN, _key(3))  # same name as LOG, different key


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _go_signer() -> Signer:
    # The Go private key is base64(0x01 || 32-byte seed) after the name and key id.
    raw = base64.b64decode(GO_SKEY.split("+", 4)[4])
    assert raw[0] == SIG_TYPE_ED25519 and len(raw) == 33
    return Signer("PeterNeumann", Ed25519PrivateKey.from_private_bytes(raw[1:]))


# --- key ids and verifier keys -----------------------------------------------------------------


@pytest.mark.parametrize("sig_type", [SIG_TYPE_ED25519, SIG_TYPE_COSIGNATURE])
def test_key_id_matches_spec_formula(sig_type: int) -> None:
    name = "witness.example/w1"
    public = _key(7).public_key().public_bytes_raw()
    expected = hashlib.sha256(name.encode() + b"\x0a" + bytes([sig_type]) + public).digest()[:4]
    assert key_id(name, public, sig_type) == expected
    assert Verifier.from_public_key(name, public, sig_type).key_id == expected


def test_fixed_seed_vkey_vector() -> None:
    signer = Signer(ORIGIN, Ed25519PrivateKey.from_private_bytes(FIXED_SEED))
    assert signer.verifier.public_key == FIXED_PUBLIC
    assert signer.verifier.vkey() == FIXED_VKEY
    name, hex_id, material = FIXED_VKEY.split("+", 2)
    assert (name, len(hex_id), hex_id) == (ORIGIN, 8, hex_id.lower())
    assert base64.b64decode(material) == b"\x01" + FIXED_PUBLIC
    assert "+" in material
    cosigner = Signer(ORIGIN, signer._key, SIG_TYPE_COSIGNATURE)
    assert cosigner.verifier.vkey() == FIXED_COSIGNER_VKEY


@pytest.mark.parametrize("vkey", [FIXED_VKEY, FIXED_COSIGNER_VKEY, GO_VKEY, ENOCH_VKEY])
def test_vkey_round_trip_with_plus_in_base64(vkey: str) -> None:
    verifier = Verifier.parse(vkey)
    assert verifier.vkey() == vkey
    assert Verifier.from_public_key(verifier.name, verifier.public_key, verifier.sig_type) == (
        verifier
    )


def test_go_vkey_parses_and_key_id_checks() -> None:
    verifier = Verifier.parse(GO_VKEY)
    assert verifier.name == "PeterNeumann"
    assert verifier.key_id == bytes.fromhex("c74f20a3")
    assert verifier.sig_type == SIG_TYPE_ED25519
    assert key_id(verifier.name, verifier.public_key) == verifier.key_id
    assert _go_signer().verifier == verifier


def test_go_vkey_manglings_rejected() -> None:
    # Mirrors Go's TestNewVerifier: every proper substring and every +1 byte change fails.
    manglings = {GO_VKEY[i:j] for i in range(len(GO_VKEY)) for j in range(i + 1, len(GO_VKEY) + 1)}
    manglings.discard(GO_VKEY)
    manglings |= {GO_VKEY[:i] + chr(ord(c) + 1) + GO_VKEY[i + 1 :] for i, c in enumerate(GO_VKEY)}
    for bad in sorted(manglings):
        with pytest.raises(InvalidInput) as info:
            Verifier.parse(bad)
        assert info.value.code == "invalid_vkey", bad


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",  # length
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # algorithm
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # key id
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # name
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+0xc74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a3+",
        "",
    ],
)
def test_bad_vkeys_rejected(vkey: str) -> None:
    with pytest.raises(InvalidInput) as info:
        Verifier.parse(vkey)
    assert info.value.code == "invalid_vkey"


def test_verifier_construction_checks_consistency() -> None:
    good = Verifier.parse(FIXED_VKEY)
    with pytest.raises(InvalidInput):
        Verifier(good.name, b"\0\0\0\0", good.public_key, good.sig_type)
    with pytest.raises(InvalidInput):
        Verifier(good.name, good.key_id, good.public_key, SIG_TYPE_COSIGNATURE)
    for name in ["", "a+b", "a b", "a\tb", "a\u00a0b"]:
        with pytest.raises(InvalidInput):
            Verifier.from_public_key(name, FIXED_PUBLIC)


# --- signed notes -------------------------------------------------------------------------------


def test_go_signed_note_reproduced_byte_for_byte() -> None:
    # Ed25519 is deterministic, so signing the Go example must give the Go bytes exactly.
    assert _go_signer().sign(GO_TEXT) == GO_NOTE
    note = verify_note(GO_NOTE, [Verifier.parse(GO_VKEY)])
    assert note.text == GO_TEXT
    assert note.signatures == (
        SignatureLine("PeterNeumann", bytes.fromhex("c74f20a3"), note.signatures[0].payload),
    )
    assert len(note.signatures[0].payload) == 64
    assert note.serialize() == GO_NOTE


def test_go_open_semantics() -> None:
    peter, enoch = Verifier.parse(GO_VKEY), Verifier.parse(ENOCH_VKEY)
    both = GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert [s.name for s in verify_note(both, [peter]).signatures] == ["PeterNeumann", "EnochRoot"]
    assert verify_note(both, [enoch]).text == GO_TEXT
    assert verify_note(both, [peter, enoch, enoch]).serialize() == both
    with pytest.raises(ProofError) as info:
        verify_note(both, [])
    assert info.value.code == "note_signature_invalid"
    # Go's "invalid signature" case: a known key whose signature does not verify.
    broken = GO_TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(ProofError, match="PeterNeumann\\+c74f20a3"):
        verify_note(broken, [peter])
    # Go's repeated-signature case: duplicates of verified and unknown signatures are fine.
    repeated = GO_TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG
    assert len(verify_note(repeated, [peter]).signatures) == 4


GOOD_SIG_BLOB = PETER_SIG[len("— PeterNeumann ") : -1]

MALFORMED_NOTES = [
    ("no signature block", GO_TEXT),
    ("blank line only", GO_TEXT + "\n"),
    ("no final newline", GO_TEXT + "\n" + PETER_SIG[:-1]),
    ("control char", "\x01" + GO_NOTE),
    ("carriage return", GO_NOTE.replace("\n", "\r\n")),
    ("tab", GO_TEXT.replace(" ", "\t") + "\n" + PETER_SIG),
    ("unit separator", "\x1f" + GO_NOTE),
    ("space in name", GO_TEXT + "\n— Bad Name " + GOOD_SIG_BLOB + "\n"),
    ("plus in name", GO_TEXT + "\n— Peter+Neumann " + GOOD_SIG_BLOB + "\n"),
    ("unexpected line", GO_NOTE + "Unexpected line.\n"),
    ("hyphen not em dash", GO_TEXT + "\n- PeterNeumann " + GOOD_SIG_BLOB + "\n"),
    ("no name", GO_TEXT + "\n—  " + GOOD_SIG_BLOB + "\n"),
    ("no signature", GO_TEXT + "\n— PeterNeumann\n"),
    ("bad base64", GO_TEXT + "\n— PeterNeumann x08go/ZJ!uBS9UG==\n"),
    ("unpadded base64", GO_TEXT + "\n— PeterNeumann " + GOOD_SIG_BLOB.rstrip("=") + "\n"),
    ("non-canonical base64", GO_TEXT + "\n— PeterNeumann AAAAAAB=\n"),
    ("payload too short", GO_TEXT + "\n— PeterNeumann " + _b64(b"\xc7\x4f\x20\xa3") + "\n"),
    ("short key id", GO_TEXT + "\n— PeterNeumann " + _b64(b"\xc7\x4f") + "\n"),
    ("trailing space", GO_TEXT + "\n— PeterNeumann " + GOOD_SIG_BLOB + " \n"),
    ("two blank lines end", GO_NOTE + "\n"),
    ("text without newline", "abc\n— PeterNeumann " + GOOD_SIG_BLOB + "\n"),
    ("too many signatures", GO_TEXT + "\n" + PETER_SIG * 101),
    ("lone surrogate", "\ud800" + GO_NOTE),
    ("empty", ""),
]


@pytest.mark.parametrize(("why", "data"), MALFORMED_NOTES, ids=[m[0] for m in MALFORMED_NOTES])
def test_malformed_notes_rejected(why: str, data: str) -> None:
    with pytest.raises(InvalidInput) as parsed:
        parse_note(data)
    with pytest.raises(InvalidInput) as verified:
        verify_note(data, [Verifier.parse(GO_VKEY)])
    assert parsed.value.code == verified.value.code == "malformed_note", why


def test_hundred_signatures_accepted() -> None:
    assert len(verify_note(GO_TEXT + "\n" + PETER_SIG * 100, [Verifier.parse(GO_VKEY)]).signatures)


def test_text_may_contain_blank_lines() -> None:
    # c2sp.org/signed-note: the signatures start after the *last* blank line.
    text = "first stanza\n\nsecond stanza\n"
    signed = LOG.sign(text)
    note = verify_note(signed, [LOG.verifier])
    assert note.text == text
    assert note.serialize() == signed


@pytest.mark.parametrize("text", ["", "no newline", "bell\x07\n", "\ud800\n"])
def test_sign_rejects_invalid_text(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        LOG.sign(text)
    assert info.value.code == "malformed_note"


def test_every_changed_text_byte_fails() -> None:
    peter = Verifier.parse(GO_VKEY)
    for i, c in enumerate(GO_TEXT):
        for new in {chr(ord(c) ^ 1), "x" if c != "x" else "y"}:
            tampered = GO_TEXT[:i] + new + GO_TEXT[i + 1 :] + "\n" + PETER_SIG
            with pytest.raises((ProofError, InvalidInput)):
                verify_note(tampered, [peter])


def test_wrong_key_and_unknown_key_only_fail() -> None:
    signed = LOG.sign("hello\n")
    for verifiers in ([OTHER.verifier], [WITNESS.verifier], [Verifier.parse(GO_VKEY)], []):
        with pytest.raises(ProofError) as info:
            verify_note(signed, verifiers)
        assert info.value.code == "note_signature_invalid"


def test_known_key_bad_signature_raises_even_if_another_verifies() -> None:
    signed = LOG.sign("hello\n")
    forged = SignatureLine(LOG.name, LOG.verifier.key_id, bytes(64))
    mixed = Note("hello\n", (*parse_note(signed).signatures, forged)).serialize()
    with pytest.raises(ProofError):
        verify_note(mixed, [LOG.verifier])


def test_ambiguous_verifiers_rejected() -> None:
    fake = object.__new__(Verifier)  # bypasses validation to forge a name+id collision
    for field, value in vars(OTHER.verifier).items():
        object.__setattr__(fake, field, value)
    object.__setattr__(fake, "key_id", LOG.verifier.key_id)
    with pytest.raises(InvalidInput) as info:
        verify_note(LOG.sign("x\n"), [LOG.verifier, fake])
    assert info.value.code == "ambiguous_verifier"


def test_add_signature_lines() -> None:
    a, b = Signer("a.example", _key(4)), Signer("b.example", _key(5))
    signed_b = b.sign("hi\n")
    line_b = signed_b.split("\n\n", 1)[1]
    combined = add_signature_lines(a.sign("hi\n"), [line_b, line_b.rstrip("\n"), line_b])
    note = verify_note(combined, [a.verifier, b.verifier])
    assert [s.name for s in note.signatures] == ["a.example", "b.example"]
    assert add_signature_lines(combined, []) == combined
    for bad in ["— x\n", "not a line", line_b + line_b, line_b + "\n"]:
        with pytest.raises(InvalidInput):
            add_signature_lines(combined, [bad])
    with pytest.raises(InvalidInput):
        add_signature_lines("hi\n", [line_b])


def test_signer_type_misuse() -> None:
    with pytest.raises(ValueError):
        WITNESS.sign("hi\n")
    with pytest.raises(ValueError):
        LOG.cosign(Checkpoint(ORIGIN, 1, ROOT).text(), 1)
    with pytest.raises(InvalidInput):
        Signer("bad name", _key(1))


# --- checkpoints and cosignatures ---------------------------------------------------------------


def test_checkpoint_round_trip_and_format() -> None:
    cp = Checkpoint(ORIGIN, 20852163, ROOT)
    assert cp.text() == f"{ORIGIN}\n20852163\n{_b64(ROOT)}\n"
    assert parse_checkpoint(cp.text()) == cp
    with_ext = Checkpoint(ORIGIN, 0, ROOT, ("ext one", "— two"))
    assert parse_checkpoint(with_ext.text()) == with_ext
    signed = sign_checkpoint(with_ext, LOG)
    assert open_checkpoint(signed, LOG.verifier, origin=ORIGIN)[0] == with_ext


def test_spec_checkpoint_example_parses() -> None:
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    cp = parse_checkpoint(text)
    assert (cp.origin, cp.size, len(cp.root), cp.text()) == (
        "example.com/behind-the-sofa",
        20852163,
        32,
        text,
    )


BAD_CHECKPOINTS = [
    ("leading zero", f"{ORIGIN}\n01\n{_b64(ROOT)}\n"),
    ("double zero", f"{ORIGIN}\n00\n{_b64(ROOT)}\n"),
    ("negative", f"{ORIGIN}\n-1\n{_b64(ROOT)}\n"),
    ("plus sign", f"{ORIGIN}\n+1\n{_b64(ROOT)}\n"),
    ("space", f"{ORIGIN}\n 1\n{_b64(ROOT)}\n"),
    ("underscore", f"{ORIGIN}\n1_0\n{_b64(ROOT)}\n"),
    ("non-ascii digit", f"{ORIGIN}\n\u0661\n{_b64(ROOT)}\n"),
    ("empty size", f"{ORIGIN}\n\n{_b64(ROOT)}\n"),
    ("too large", f"{ORIGIN}\n{2**64}\n{_b64(ROOT)}\n"),
    ("root 31 bytes", f"{ORIGIN}\n1\n{_b64(ROOT[:31])}\n"),
    ("root 33 bytes", f"{ORIGIN}\n1\n{_b64(ROOT + b'x')}\n"),
    ("root unpadded", f"{ORIGIN}\n1\n{_b64(ROOT).rstrip('=')}\n"),
    ("root hex", f"{ORIGIN}\n1\n{ROOT.hex()}\n"),
    ("missing root", f"{ORIGIN}\n1\n"),
    ("origin only", f"{ORIGIN}\n"),
    ("empty origin", f"\n1\n{_b64(ROOT)}\n"),
    ("empty extension", f"{ORIGIN}\n1\n{_b64(ROOT)}\n\n"),
    ("no final newline", f"{ORIGIN}\n1\n{_b64(ROOT)}"),
    ("empty", ""),
]


@pytest.mark.parametrize(("why", "text"), BAD_CHECKPOINTS, ids=[b[0] for b in BAD_CHECKPOINTS])
def test_bad_checkpoints_rejected(why: str, text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_checkpoint(text)
    assert info.value.code == "malformed_checkpoint", why


def test_checkpoint_construction_validates() -> None:
    for args in [("", 1, ROOT), (ORIGIN, -1, ROOT), (ORIGIN, 1, ROOT[:5]), ("a\nb", 1, ROOT)]:
        with pytest.raises(InvalidInput):
            Checkpoint(*args)
    with pytest.raises(InvalidInput):
        Checkpoint(ORIGIN, 1, ROOT, ("",))


def test_open_checkpoint_failures() -> None:
    signed = sign_checkpoint(Checkpoint(ORIGIN, 5, ROOT), LOG)
    with pytest.raises(ProofError) as info:
        open_checkpoint(signed, LOG.verifier, origin="elsewhere.example/log")
    assert info.value.code == "checkpoint_origin_mismatch"
    with pytest.raises(ProofError) as info:
        open_checkpoint(signed, OTHER.verifier)
    assert info.value.code == "note_signature_invalid"
    with pytest.raises(InvalidInput) as bad:
        open_checkpoint(LOG.sign(f"{ORIGIN}\n05\n{_b64(ROOT)}\n"), LOG.verifier)
    assert bad.value.code == "malformed_checkpoint"
    with pytest.raises(ValueError):
        open_checkpoint(signed, WITNESS.verifier)
    with pytest.raises(ValueError):
        sign_checkpoint(Checkpoint("other.example", 5, ROOT), LOG)


def test_cosignature_made_and_verified() -> None:
    cp = Checkpoint(ORIGIN, 42, ROOT)
    signed = sign_checkpoint(cp, LOG)
    t = 1_700_000_000
    line = WITNESS.cosign(cp.text(), t)
    assert line.startswith("— witness.example/w1 ") and line.endswith("\n")
    cosigned = add_signature_lines(signed, [line])

    note = verify_note(cosigned, [WITNESS.verifier])
    witness_line = note.signatures[1]
    assert witness_line.key_id == WITNESS.verifier.key_id
    assert cosignature_timestamp(witness_line) == t
    assert witness_line.payload[:8] == t.to_bytes(8, "big")
    # The signed message is exactly the tlog-cosignature/v1 one, checked independently.
    message = b"cosignature/v1\ntime 1700000000\n" + cp.text().encode()
    Ed25519PublicKey.from_public_bytes(WITNESS.verifier.public_key).verify(
        witness_line.payload[8:], message
    )
    assert open_checkpoint(cosigned, LOG.verifier, origin=ORIGIN) == (cp, note)
    assert verify_note(cosigned, [LOG.verifier, WITNESS.verifier]) == note

    # A witness key used as a plain note key has another key id, so it is only ignored.
    plain = Verifier.from_public_key(WITNESS.name, WITNESS.verifier.public_key)
    with pytest.raises(ProofError):
        verify_note(cosigned, [plain])


@pytest.mark.parametrize("delta", [1, -1, 2**62])
def test_tampered_cosignature_timestamp_fails(delta: int) -> None:
    cp = Checkpoint(ORIGIN, 42, ROOT)
    t = 1_700_000_000
    good = parse_note(WITNESS.cosign(cp.text(), t).join([cp.text() + "\n", ""]))
    line = good.signatures[0]
    forged = SignatureLine(
        line.name, line.key_id, (t + delta).to_bytes(8, "big") + line.payload[8:]
    )
    with pytest.raises(ProofError) as info:
        verify_note(Note(cp.text(), (forged,)).serialize(), [WITNESS.verifier])
    assert info.value.code == "note_signature_invalid"


def test_cosignature_timestamp_bounds() -> None:
    text = Checkpoint(ORIGIN, 1, ROOT).text()
    for bad in (-1, 2**63):
        with pytest.raises(ValueError):
            WITNESS.cosign(text, bad)
    line = parse_note(text + "\n" + WITNESS.cosign(text, 2**63 - 1)).signatures[0]
    assert cosignature_timestamp(line) == 2**63 - 1
    too_big = SignatureLine(line.name, line.key_id, (2**63).to_bytes(8, "big") + bytes(64))
    with pytest.raises(InvalidInput):
        cosignature_timestamp(too_big)
    with pytest.raises(InvalidInput):
        cosignature_timestamp(SignatureLine(line.name, line.key_id, bytes(64)))
    with pytest.raises(ProofError):
        verify_note(Note(text, (too_big,)).serialize(), [WITNESS.verifier])
    with pytest.raises(InvalidInput):
        WITNESS.cosign(LOG.sign(text), 1)  # a whole signed note, not the checkpoint text


# --- properties ---------------------------------------------------------------------------------

_CONTROL = [chr(i) for i in range(32)]
_LINE_CHARS = st.characters(exclude_categories=["Cs"], exclude_characters=_CONTROL)
valid_texts = st.lists(st.text(_LINE_CHARS, max_size=30), min_size=1, max_size=6).map(
    lambda lines: "\n".join(lines) + "\n"
)
_NAME_CHARS = st.characters(exclude_categories=["Cs", "Zs", "Zl", "Zp", "Cc"])
key_names = st.text(_NAME_CHARS, min_size=1, max_size=20).filter(
    lambda s: "+" not in s and not any(c.isspace() for c in s)
)


@settings(max_examples=150, deadline=None)
@given(text=valid_texts, name=key_names)
def test_sign_verify_round_trip(text: str, name: str) -> None:
    signer = Signer(name, _key(9))
    signed = signer.sign(text)
    note = verify_note(signed, [Verifier.parse(signer.verifier.vkey())])
    assert note.text == text
    assert note.serialize() == signed
    assert parse_note(signed) == note


@settings(max_examples=300, deadline=None)
@given(text=valid_texts, data=st.data())
def test_single_character_mutation_fails(text: str, data: st.DataObject) -> None:
    signed = LOG.sign(text)
    i = data.draw(st.integers(0, len(text) - 1), label="index")
    new = data.draw(st.characters().filter(lambda c: c != text[i]), label="replacement")
    with pytest.raises((ProofError, InvalidInput)):
        verify_note(text[:i] + new + signed[i + 1 :], [LOG.verifier])
