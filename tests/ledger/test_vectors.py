"""The worked vectors of docs/ledger-format.md, recomputed with goldtrace's functions and by hand.

Every constant here must also appear verbatim in the document, so the two cannot drift apart.
"""

from __future__ import annotations

import base64
import hashlib
import unicodedata
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from goldtrace.domain.keystate import KeyState
from goldtrace.domain.organizations import OrgProfile
from goldtrace.ledger import merkle, note
from goldtrace.ledger.canonical import canonical, is_canonical
from goldtrace.ledger.envelope import LeafEnvelope
from goldtrace.ledger.events import build_body, encode
from goldtrace.ledger.keys import (
    KeySeal,
    b64,
    key_id,
    private_bytes,
    public_bytes,
    sign_event,
    signature_message,
    verify_event_signature,
)
from goldtrace.ledger.verifier import LedgerVerifier, StoredCheckpoint, StoredEvent

DOC = Path(__file__).resolve().parents[2] / "docs" / "ledger-format.md"

# --- inputs ---------------------------------------------------------------------------------
ORG_SEED = bytes(range(32))
LOG_SEED = bytes(range(32, 64))
MINE_SEED = bytes(range(64, 96))
WITNESS_SEED = bytes(range(96, 128))
ORIGIN = "goldtrace.example/log"
WITNESS = "witness.example/w1"
OCCURRED = ("2026-01-15T12:00:00.000Z", "2026-01-15T12:00:02.000Z")
LOGGED = ("2026-01-15T12:00:01.000Z", "2026-01-15T12:00:03.000Z")
# Decomposed on purpose: canonicalization must compose it to NFC.
MINE_NAME_NFD = "Cooperativa Minera N\u0303un\u0303oa"
COSIGNATURE_TIME = 1768478460
SEAL_SECRET = "goldtrace-vector-secret-0123456789"
SEAL_NONCE = bytes(range(12))

# --- keys -----------------------------------------------------------------------------------
ORG_PUBLIC = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
ORG_PUBLIC_B64 = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
ORG_KEY_SHA256 = "56475aa75463474c0285df5dbf2bcab73da651358839e9b77481b2eab107708c"
ORG_KID = "56475aa75463474c"
MINE_PUBLIC = "2543b92ff1095511476adc8369db6ddc933665a11978dda1404ee1066ca9559d"
MINE_PUBLIC_B64 = "JUO5L/EJVRFHatyDadtt3JM2ZaEZeN2hQE7hBmypVZ0="
MINE_KID = "03396219237f75a6"
LOG_PUBLIC = "29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7"
WITNESS_PUBLIC = "174553b456dddfc6908ecab1c101fe6ab21e2baa0617795b7d43a63482993fd5"

# --- events ---------------------------------------------------------------------------------
EVENT_SIGNATURE_CONTEXT_HEX = "676f6c6474726163652f6576656e742d7369676e61747572652f76310a"
BODY0 = (
    '{"actor":"arm","key":{"kid":"56475aa75463474c",'
    '"public":"A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="},'
    '"occurred_at":"2026-01-15T12:00:00.000Z","org":{"country":"PE","id":"arm",'
    '"kind":"standard_body","name":"Alliance for Responsible Mining"},"prev":[],'
    '"type":"org.register","v":1}'
)
HASH0 = "6b8c17c21cc4f208e53937d6288e89ce50bfadc735962742fba38a9a76952945"
SIGMSG0 = EVENT_SIGNATURE_CONTEXT_HEX + HASH0
SIG0 = "6IzkE3bG03n5UbOziiWMd88pBN3wBX5xDNZo9WSTTSBrKe3YqKe6lHs4uU1tKrNiQvb1oF+Er/+xn0p4yE25CA=="
LEAF0 = (
    '{"event":"6b8c17c21cc4f208e53937d6288e89ce50bfadc735962742fba38a9a76952945",'
    '"kid":"56475aa75463474c","origin":"goldtrace.example/log","seq":0,'
    '"sig":"6IzkE3bG03n5UbOziiWMd88pBN3wBX5xDNZo9WSTTSBrKe3YqKe6lHs4uU1tKrNiQvb1oF+Er/+xn0p4yE25CA==",'
    '"time":"2026-01-15T12:00:01.000Z","v":1}'
)
LEAF0_B64 = (
    "eyJldmVudCI6IjZiOGMxN2MyMWNjNGYyMDhlNTM5MzdkNjI4OGU4OWNlNTBiZmFkYzczNTk2Mjc0MmZiYTM4YTlhNzY5"
    "NTI5NDUiLCJraWQiOiI1NjQ3NWFhNzU0NjM0NzRjIiwib3JpZ2luIjoiZ29sZHRyYWNlLmV4YW1wbGUvbG9nIiwic2Vx"
    "IjowLCJzaWciOiI2SXprRTNiRzAzbjVVYk96aWlXTWQ4OHBCTjN3Qlg1eEROWm85V1NUVFNCcktlM1lxS2U2bEhzNHVV"
    "MXRLck5pUXZiMW9GK0VyLyt4bjBwNHlFMjVDQT09IiwidGltZSI6IjIwMjYtMDEtMTVUMTI6MDA6MDEuMDAwWiIsInYi"
    "OjF9"
)
LEAF_HASH0 = "1ae95a82f306f306c91bce2917ba68580c29eff8fdc242f235e3bde41a46c88f"

MINE_NAME_NFD_UTF8 = "4ecc83756ecc836f61"
MINE_NAME_NFC_UTF8 = "c39175c3b16f61"
BODY1 = (
    '{"actor":"arm","key":{"kid":"03396219237f75a6",'
    '"public":"JUO5L/EJVRFHatyDadtt3JM2ZaEZeN2hQE7hBmypVZ0="},'
    '"occurred_at":"2026-01-15T12:00:02.000Z",'
    '"org":{"capacity_mg_month":9000000,"country":"PE","id":"cecomip","kind":"mine","miners":120,'
    '"name":"Cooperativa Minera Ñuñoa","region":"Puno"},"prev":[],'
    '"type":"org.register","v":1}'
)
BODY1_HEX = (
    "7b226163746f72223a2261726d222c226b6579223a7b226b6964223a2230333339363231393233376637356136222c"
    "227075626c6963223a224a554f354c2f454a565246486174794461647474334a4d325a61455a654e32685145376842"
    "6d7970565a303d227d2c226f636375727265645f6174223a22323032362d30312d31355431323a30303a30322e3030"
    "305a222c226f7267223a7b2263617061636974795f6d675f6d6f6e7468223a393030303030302c22636f756e747279"
    "223a225045222c226964223a226365636f6d6970222c226b696e64223a226d696e65222c226d696e657273223a3132"
    "302c226e616d65223a22436f6f7065726174697661204d696e65726120c39175c3b16f61222c22726567696f6e223a"
    "2250756e6f227d2c2270726576223a5b5d2c2274797065223a226f72672e7265676973746572222c2276223a317d"
)
HASH1 = "3a7500eb8a7daffb51bdbcecaff1fede3b22b652b5118069b8c3cd0721656638"
SIGMSG1 = EVENT_SIGNATURE_CONTEXT_HEX + HASH1
SIG1 = "Hm/as7pzF/pvk3MAlqo7vtmY4bQZdn07nLjLyhwpIO0a9heWZMTDrAlSkbDOFkL/cJKcU5B8KKekx2be6islBw=="
LEAF1 = (
    '{"event":"3a7500eb8a7daffb51bdbcecaff1fede3b22b652b5118069b8c3cd0721656638",'
    '"kid":"56475aa75463474c","origin":"goldtrace.example/log","seq":1,'
    '"sig":"Hm/as7pzF/pvk3MAlqo7vtmY4bQZdn07nLjLyhwpIO0a9heWZMTDrAlSkbDOFkL/cJKcU5B8KKekx2be6islBw==",'
    '"time":"2026-01-15T12:00:03.000Z","v":1}'
)
LEAF_HASH1 = "76f46fc018a7051c6ec1e1548a746b7af1aa2d01383872f9d961edd2f10e6873"

# --- tree, checkpoint, note -----------------------------------------------------------------
ROOT2 = "36de4c2e39c3d819b8b0b799d641577782aa40332959d002849558d01c198c91"
ROOT2_B64 = "Nt5MLjnD2Bm4sLeZ1kFXd4KqQDMpWdAChJVY0BwZjJE="
CHECKPOINT_TEXT = "goldtrace.example/log\n2\nNt5MLjnD2Bm4sLeZ1kFXd4KqQDMpWdAChJVY0BwZjJE=\n"
LOG_NOTE_KID = "3df80874"
LOG_NOTE_KID_INPUT = (
    "676f6c6474726163652e6578616d706c652f6c6f670a01"
    "29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7"
)
LOG_NOTE_KID_SHA256 = "3df80874d9391a3191c3ce55537238a7270486202e868fd1abe4a8491265438b"
CHECKPOINT_SIG = (
    "qvdAPgtRDUSeqVucxHYznZ2VnA0SLwcVPZrrSEWLWJPs53NRVkVJmbw9DLqbyDaBWL4AXaNcHz1ojBLon0WICw=="
)
LOG_SIGNATURE_LINE = (
    "— goldtrace.example/log PfgIdKr3QD4LUQ1EnqlbnMR2M52dlZwNEi8HFT2a60hFi1iT7OdzUVZFSZm8PQy6m8g2"
    "gVi+AF2jXB89aIwS6J9FiAs=\n"
)
SIGNED_NOTE = CHECKPOINT_TEXT + "\n" + LOG_SIGNATURE_LINE
LOG_VKEY = "goldtrace.example/log+3df80874+ASmsuuFBvMrwsi4alNNNC8c2HlJtC/4SyJeUvJMilm3X"

WITNESS_NOTE_KID = "858ecd0c"
WITNESS_VKEY = "witness.example/w1+858ecd0c+BBdFU7RW3d/GkI7KscEB/mqyHiuqBhd5W31DpjSCmT/V"
COSIGNATURE_TIME_HEX = "000000006968d6fc"
COSIGNED_MESSAGE = "cosignature/v1\ntime 1768478460\n" + CHECKPOINT_TEXT
COSIGNATURE_SIG = (
    "5mVlCCnPsASlSeHUOjiRFUT2EKAw9qwC5IH98upS4mfmwtrf50257RcNwGu9apybA6Gv+zSLz4DvdlfaYxJuDg=="
)
COSIGNATURE_LINE = (
    "— witness.example/w1 hY7NDAAAAABpaNb85mVlCCnPsASlSeHUOjiRFUT2EKAw9qwC5IH98upS4mfmwtrf50257Rc"
    "NwGu9apybA6Gv+zSLz4DvdlfaYxJuDg==\n"
)

# --- custodial seal -------------------------------------------------------------------------
SEAL_KEY = "c603eb8a07d9488890531b9e61cabf85a7e55d7f35e283843938c74bca4ef6b7"
SEALED = (
    "000102030405060708090a0b472441b70cc7cfad56e153f34ad55bf7c5b19cf7fb05f7102744efc651e693e97eb530"
    "c67b81452312a43d307ebb82f9"
)

DOC_CONSTANTS = {
    name: value
    for name, value in globals().items()
    if name.isupper() and isinstance(value, str) and name not in {"MINE_NAME_NFD"}
}


def _key(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


def _key_json(seed: bytes) -> dict[str, str]:
    public = public_bytes(_key(seed))
    return {"kid": key_id(public), "public": b64(public)}


def _bodies(mine_name: str = MINE_NAME_NFD) -> list[dict[str, object]]:
    genesis = build_body(
        type="org.register",
        actor="arm",
        occurred_at=OCCURRED[0],
        fields={
            "org": OrgProfile(
                id="arm", name="Alliance for Responsible Mining", kind="standard_body"
            ).as_json(),
            "key": _key_json(ORG_SEED),
        },
    )
    mine = build_body(
        type="org.register",
        actor="arm",
        occurred_at=OCCURRED[1],
        fields={
            "org": OrgProfile(
                id="cecomip",
                name=mine_name,
                kind="mine",
                region="Puno",
                miners=120,
                capacity_mg_month=9_000_000,
            ).as_json(),
            "key": _key_json(MINE_SEED),
        },
    )
    return [genesis, mine]


def _leaf(seq: int, event_hash: bytes, sig: bytes) -> bytes:
    return LeafEnvelope(
        origin=ORIGIN, seq=seq, time=LOGGED[seq], event_hash=event_hash, kid=ORG_KID, sig=sig
    ).to_bytes()


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def test_keys() -> None:
    org = public_bytes(_key(ORG_SEED))
    assert org.hex() == ORG_PUBLIC
    assert b64(org) == ORG_PUBLIC_B64
    assert hashlib.sha256(org).hexdigest() == ORG_KEY_SHA256
    assert key_id(org) == ORG_KID == ORG_KEY_SHA256[:16]
    mine = public_bytes(_key(MINE_SEED))
    assert (mine.hex(), b64(mine), key_id(mine)) == (MINE_PUBLIC, MINE_PUBLIC_B64, MINE_KID)
    assert public_bytes(_key(LOG_SEED)).hex() == LOG_PUBLIC
    assert public_bytes(_key(WITNESS_SEED)).hex() == WITNESS_PUBLIC


def test_event_bodies_and_hashes() -> None:
    encoded = [encode(body) for body in _bodies()]
    assert [e.body.decode("utf-8") for e in encoded] == [BODY0, BODY1]
    assert encoded[1].body.hex() == BODY1_HEX
    assert [e.hash.hex() for e in encoded] == [HASH0, HASH1]
    assert all(is_canonical(e.body) for e in encoded)


def test_nfc_and_nfd_names_give_the_same_bytes() -> None:
    composed = unicodedata.normalize("NFC", MINE_NAME_NFD)
    assert composed != MINE_NAME_NFD
    assert MINE_NAME_NFD.encode().hex().endswith(MINE_NAME_NFD_UTF8)
    assert composed.encode().hex().endswith(MINE_NAME_NFC_UTF8)
    assert encode(_bodies(composed)[1]).body == encode(_bodies()[1]).body
    assert bytes.fromhex(MINE_NAME_NFC_UTF8) in bytes.fromhex(BODY1_HEX)
    assert canonical({"name": MINE_NAME_NFD}) == canonical({"name": composed})


def test_event_signatures() -> None:
    org = _key(ORG_SEED)
    for event_hash, message, sig in ((HASH0, SIGMSG0, SIG0), (HASH1, SIGMSG1, SIG1)):
        digest = bytes.fromhex(event_hash)
        assert signature_message(digest).hex() == message
        assert b64(sign_event(org, digest)) == sig
        assert verify_event_signature(bytes.fromhex(ORG_PUBLIC), digest, base64.b64decode(sig))


def test_leaves() -> None:
    for seq, (event_hash, sig, leaf, leaf_hash) in enumerate(
        ((HASH0, SIG0, LEAF0, LEAF_HASH0), (HASH1, SIG1, LEAF1, LEAF_HASH1))
    ):
        data = _leaf(seq, bytes.fromhex(event_hash), base64.b64decode(sig))
        assert data.decode("ascii") == leaf
        assert data == canonical(LeafEnvelope.from_bytes(data).as_json())
        assert merkle.leaf_hash(data).hex() == leaf_hash
    assert base64.b64encode(LEAF0.encode()).decode() == LEAF0_B64


def test_tree_nodes_frontier_and_proofs() -> None:
    hashes = [bytes.fromhex(LEAF_HASH0), bytes.fromhex(LEAF_HASH1)]
    root = bytes.fromhex(ROOT2)
    frontier, done = merkle.append([], 0, hashes[0])
    assert (frontier, done) == ([hashes[0]], [((0, 0), hashes[0])])
    assert merkle.frontier_root(frontier) == hashes[0]
    frontier, done = merkle.append(frontier, 1, hashes[1])
    assert (frontier, done) == ([root], [((0, 1), hashes[1]), ((1, 0), root)])
    assert merkle.root(hashes) == root
    assert base64.b64encode(root).decode() == ROOT2_B64
    assert merkle.inclusion_proof(0, 2, hashes) == [hashes[1]]
    assert merkle.inclusion_proof(1, 2, hashes) == [hashes[0]]
    assert merkle.consistency_proof(1, 2, hashes) == [hashes[1]]
    merkle.verify_inclusion(hashes[0], 0, 2, [hashes[1]], root)
    merkle.verify_inclusion(hashes[1], 1, 2, [hashes[0]], root)
    merkle.verify_consistency(1, 2, hashes[0], root, [hashes[1]])


def test_checkpoint_note_and_log_key() -> None:
    signer = note.Signer(ORIGIN, _key(LOG_SEED))
    checkpoint = note.Checkpoint(origin=ORIGIN, size=2, root=bytes.fromhex(ROOT2))
    assert checkpoint.text() == CHECKPOINT_TEXT
    assert signer.verifier.key_id.hex() == LOG_NOTE_KID
    assert signer.verifier.vkey() == LOG_VKEY
    signed = note.sign_checkpoint(checkpoint, signer)
    assert signed == SIGNED_NOTE
    (line,) = note.parse_note(signed).signatures
    assert (line.key_id.hex(), b64(line.payload)) == (LOG_NOTE_KID, CHECKPOINT_SIG)
    opened, _ = note.open_checkpoint(SIGNED_NOTE, note.Verifier.parse(LOG_VKEY), origin=ORIGIN)
    assert opened == checkpoint


def test_cosignature() -> None:
    witness = note.Signer(WITNESS, _key(WITNESS_SEED), note.SIG_TYPE_COSIGNATURE)
    assert witness.verifier.key_id.hex() == WITNESS_NOTE_KID
    assert witness.verifier.vkey() == WITNESS_VKEY
    line = witness.cosign(CHECKPOINT_TEXT, COSIGNATURE_TIME)
    assert line == COSIGNATURE_LINE
    cosigned = note.add_signature_lines(SIGNED_NOTE, [line])
    assert cosigned == SIGNED_NOTE + COSIGNATURE_LINE
    parsed = note.verify_note(cosigned, [note.Verifier.parse(WITNESS_VKEY)])
    assert note.cosignature_timestamp(parsed.signatures[1]) == COSIGNATURE_TIME
    note.open_checkpoint(cosigned, note.Verifier.parse(LOG_VKEY), origin=ORIGIN)


def test_custodial_seal() -> None:
    sealed = bytes.fromhex(SEALED)
    assert private_bytes(KeySeal(SEAL_SECRET).open(sealed, MINE_KID)) == MINE_SEED
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"goldtrace/custodial-key-seal/v1"
    ).derive(SEAL_SECRET.encode())
    assert derived.hex() == SEAL_KEY
    assert SEAL_NONCE + AESGCM(derived).encrypt(SEAL_NONCE, MINE_SEED, MINE_KID.encode()) == sealed


def test_vectors_by_hand() -> None:
    """The same values from SHA-256 and Ed25519 primitives only, without goldtrace's ledger code."""
    assert bytes.fromhex(EVENT_SIGNATURE_CONTEXT_HEX) == b"goldtrace/event-signature/v1\n"
    org_public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(ORG_PUBLIC))
    for body, event_hash, sig in ((BODY0, HASH0, SIG0), (BODY1, HASH1, SIG1)):
        digest = _sha(body.encode("utf-8"))
        assert digest.hex() == event_hash
        message = b"goldtrace/event-signature/v1\n" + digest
        assert _key(ORG_SEED).sign(message) == base64.b64decode(sig)
        org_public.verify(base64.b64decode(sig), message)
    assert BODY1.encode("utf-8").hex() == BODY1_HEX
    leaf_hashes = [_sha(b"\x00" + leaf.encode()) for leaf in (LEAF0, LEAF1)]
    assert [h.hex() for h in leaf_hashes] == [LEAF_HASH0, LEAF_HASH1]
    root = _sha(b"\x01" + leaf_hashes[0] + leaf_hashes[1])
    assert root.hex() == ROOT2
    assert f"{ORIGIN}\n2\n{base64.b64encode(root).decode()}\n" == CHECKPOINT_TEXT
    kid_input = ORIGIN.encode() + b"\n\x01" + bytes.fromhex(LOG_PUBLIC)
    assert kid_input.hex() == LOG_NOTE_KID_INPUT
    assert _sha(kid_input).hex() == LOG_NOTE_KID_SHA256
    assert LOG_NOTE_KID_SHA256[:8] == LOG_NOTE_KID
    checkpoint_sig = _key(LOG_SEED).sign(CHECKPOINT_TEXT.encode())
    assert base64.b64encode(checkpoint_sig).decode() == CHECKPOINT_SIG
    line_payload = bytes.fromhex(LOG_NOTE_KID) + checkpoint_sig
    assert f"— {ORIGIN} {base64.b64encode(line_payload).decode()}\n" == LOG_SIGNATURE_LINE
    log_type_and_key = b"\x01" + bytes.fromhex(LOG_PUBLIC)
    assert f"{ORIGIN}+{LOG_NOTE_KID}+{base64.b64encode(log_type_and_key).decode()}" == LOG_VKEY
    witness_kid = _sha(WITNESS.encode() + b"\n\x04" + bytes.fromhex(WITNESS_PUBLIC))[:4]
    assert witness_kid.hex() == WITNESS_NOTE_KID
    assert COSIGNATURE_TIME.to_bytes(8, "big").hex() == COSIGNATURE_TIME_HEX
    cosig = _key(WITNESS_SEED).sign(COSIGNED_MESSAGE.encode())
    assert base64.b64encode(cosig).decode() == COSIGNATURE_SIG
    payload = witness_kid + bytes.fromhex(COSIGNATURE_TIME_HEX) + cosig
    assert f"— {WITNESS} {base64.b64encode(payload).decode()}\n" == COSIGNATURE_LINE


def test_vectors_form_a_ledger_that_verifies() -> None:
    events = []
    for seq, (body, event_hash, sig, leaf) in enumerate(
        ((BODY0, HASH0, SIG0, LEAF0), (BODY1, HASH1, SIG1, LEAF1))
    ):
        events.append(
            StoredEvent(
                seq=seq,
                hash=bytes.fromhex(event_hash),
                type="org.register",
                actor="arm",
                occurred_at=OCCURRED[seq],
                body=body.encode("utf-8"),
                kid=ORG_KID,
                sig=base64.b64decode(sig),
                leaf=leaf.encode(),
                logged_at=LOGGED[seq],
            )
        )
    root = bytes.fromhex(ROOT2)
    nodes = {(0, 0): bytes.fromhex(LEAF_HASH0), (0, 1): bytes.fromhex(LEAF_HASH1), (1, 0): root}
    verifier = LedgerVerifier(origin=ORIGIN, rules=KeyState(), expected_size=2, workers=1)
    verifier.want_root_at([2])
    verifier.feed(events, nodes)
    report = verifier.finish(
        head_size=2,
        head_root=root,
        head_frontier=[root],
        node_count=3,
        checkpoints=[StoredCheckpoint(size=2, root=root, note=SIGNED_NOTE)],
        log_verifier=note.Verifier.parse(LOG_VKEY),
    )
    assert report.faults == []
    assert (report.size, report.root, report.signatures, report.checkpoints) == (2, root, 2, 1)


@pytest.mark.parametrize("name", sorted(DOC_CONSTANTS))
def test_document_shows_the_vector(name: str) -> None:
    assert DOC_CONSTANTS[name] in DOC.read_text(encoding="utf-8"), f"{name} is not in {DOC.name}"
