"""A fixed standard-body key and its genesis event body, for tests that build ledgers in memory."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from goldtrace.ledger.events import build_body
from goldtrace.ledger.keys import b64, key_id, public_bytes

ORIGIN = "goldtrace.test/log"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KID = key_id(public_bytes(KEY))
TIME = "2026-01-15T12:00:00.000Z"


def genesis_body() -> dict[str, Any]:
    """The standard body ``arm`` registering itself with ``KEY``."""
    return build_body(
        type="org.register",
        actor="arm",
        occurred_at=TIME,
        fields={
            "org": {"id": "arm", "name": "ARM", "kind": "standard_body", "country": "CO"},
            "key": {"kid": KID, "public": b64(public_bytes(KEY))},
        },
    )
