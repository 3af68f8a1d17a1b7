"""Event bodies: the JSON object every change of state is recorded as, and its hash."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from goldtrace.errors import InvalidInput
from goldtrace.ledger.canonical import canonical

EVENT_VERSION = 1
ENVELOPE_FIELDS = frozenset({"v", "type", "actor", "occurred_at", "prev"})


@dataclass(frozen=True)
class EncodedEvent:
    """An event body in its canonical bytes, with the SHA-256 that names it."""

    body: bytes
    hash: bytes


def build_body(
    *,
    type: str,
    actor: str,
    occurred_at: str,
    prev: Sequence[bytes] = (),
    fields: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the JSON body of an event; the type's own fields may not shadow the common ones.

    ``prev`` lists the hashes of the events this one builds on (sorted, so the body is deterministic).
    """
    extra = dict(fields or {})
    clash = ENVELOPE_FIELDS & extra.keys()
    if clash:
        raise InvalidInput(f"event fields may not be named {sorted(clash)}", code="bad_event")
    return {
        "v": EVENT_VERSION,
        "type": type,
        "actor": actor,
        "occurred_at": occurred_at,
        "prev": sorted({h.hex() for h in prev}),
        **extra,
    }


def encode(body: Mapping[str, Any]) -> EncodedEvent:
    """Return the canonical bytes and SHA-256 hash of an event body."""
    data = canonical(dict(body))
    return EncodedEvent(body=data, hash=hashlib.sha256(data).digest())
