"""The standalone verifier's cosignature check against the worked vector of docs/ledger-format.md §10.7."""

from __future__ import annotations

import base64

import pytest

from goldtrace.ledger import bundle_verifier as bv

CHECKPOINT_TEXT = "goldtrace.example/log\n2\nWubL0aH8/vLtwa/BHXBvL5u3uE6gLhHUePWjd/4Nk9o=\n"
WITNESS_VKEY = "witness.example/w1+858ecd0c+BBdFU7RW3d/GkI7KscEB/mqyHiuqBhd5W31DpjSCmT/V"
LINE_BLOB = (
    "hY7NDAAAAABpaNb8ejeIr5rRIQp00xZAHLsoteyZWAf1+g62YFNwHxoeK+QTK2EZ"
    "F0Lj6/3mU/1sHTEBVbuytzkZY/O2v18pb3UvAA=="
)


def test_the_documented_cosignature_verifies() -> None:
    key = bv.note_key(WITNESS_VKEY, 0x04, "witness_key")
    assert key.name == "witness.example/w1" and key.key_id.hex() == "858ecd0c"
    blob = base64.b64decode(LINE_BLOB)
    assert bv.verify_cosignature(CHECKPOINT_TEXT, blob, key) == 1768478460


@pytest.mark.parametrize(
    ("text", "flip"),
    [
        (CHECKPOINT_TEXT.replace("\n2\n", "\n3\n"), None),  # another checkpoint
        (CHECKPOINT_TEXT, 5),  # another timestamp
        (CHECKPOINT_TEXT, 40),  # a changed signature
    ],
)
def test_a_changed_cosignature_or_checkpoint_fails(text: str, flip: int | None) -> None:
    key = bv.note_key(WITNESS_VKEY, 0x04, "witness_key")
    blob = bytearray(base64.b64decode(LINE_BLOB))
    if flip is not None:
        blob[flip] ^= 1
    with pytest.raises(bv.CheckFailed) as exc:
        bv.verify_cosignature(text, bytes(blob), key)
    assert exc.value.code == "witness_cosignature"


def test_a_log_key_is_not_a_witness_key() -> None:
    log_vkey = "goldtrace.example/log+3df80874+ASmsuuFBvMrwsi4alNNNC8c2HlJtC/4SyJeUvJMilm3X"
    with pytest.raises(bv.CheckFailed) as exc:
        bv.note_key(log_vkey, 0x04, "witness_key")
    assert exc.value.code == "witness_key"
    assert bv.note_key(log_vkey, 0x01, "checkpoint_signature").name == "goldtrace.example/log"
