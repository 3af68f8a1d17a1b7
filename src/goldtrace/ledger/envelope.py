"""The log leaf: a small canonical envelope that commits to an event without containing its body.

Because the leaf holds only the event hash, an event body can later be redacted (personal data) without
breaking any inclusion or consistency proof.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from goldtrace.errors import InvalidInput
from goldtrace.ledger.canonical import canonical, parse_strict
from goldtrace.ledger.keys import b64, unb64

LEAF_VERSION = 1
_FIELDS = {"v", "origin", "seq", "time", "event", "kid", "sig"}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SAFE_TEXT = re.compile(r"^[\x20\x21\x23-\x5b\x5d-\x7e]*$")


@dataclass(frozen=True)
class LeafEnvelope:
    """What one log leaf commits to: the log, the position, the log time, the event hash and signature."""

    origin: str
    seq: int
    time: str
    event_hash: bytes
    kid: str
    sig: bytes

    def as_json(self) -> dict[str, object]:
        """Return the envelope as the JSON object that is canonicalised into the leaf."""
        return {
            "v": LEAF_VERSION,
            "origin": self.origin,
            "seq": self.seq,
            "time": self.time,
            "event": self.event_hash.hex(),
            "kid": self.kid,
            "sig": b64(self.sig),
        }

    def to_bytes(self) -> bytes:
        """Return the RFC 8785 leaf bytes.

        Every envelope field is an integer or printable ASCII without quotes or backslashes, for which
        sorted compact ``json.dumps`` output is byte-for-byte RFC 8785; it is many times faster than the
        general encoder, and verification builds one envelope per event. A test holds the two equal.
        """
        obj = self.as_json()
        for key in ("origin", "time", "kid"):
            if not _SAFE_TEXT.match(str(obj[key])):
                return canonical(obj)
        return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("ascii")

    @classmethod
    def from_bytes(cls, leaf: bytes) -> LeafEnvelope:
        """Parse leaf bytes; InvalidInput unless they are exactly a canonical envelope."""
        obj = parse_strict(leaf)
        if not isinstance(obj, dict) or set(obj) != _FIELDS or obj["v"] != LEAF_VERSION:
            raise InvalidInput("leaf is not a version 1 envelope", code="bad_leaf")
        if not isinstance(obj["event"], str) or not _HEX64.match(obj["event"]):
            raise InvalidInput("leaf event hash is not 64 hex digits", code="bad_leaf")
        if not all(isinstance(obj[k], str) for k in ("origin", "time", "kid", "sig")):
            raise InvalidInput("leaf fields have the wrong types", code="bad_leaf")
        if not isinstance(obj["seq"], int) or isinstance(obj["seq"], bool):
            raise InvalidInput("leaf seq is not an integer", code="bad_leaf")
        envelope = cls(
            origin=obj["origin"],
            seq=obj["seq"],
            time=obj["time"],
            event_hash=bytes.fromhex(obj["event"]),
            kid=obj["kid"],
            sig=unb64(obj["sig"], what="leaf signature"),
        )
        if envelope.to_bytes() != leaf:
            raise InvalidInput("leaf bytes are not canonical", code="bad_leaf")
        return envelope
