"""The shapes of supply-chain event bodies, parsed into plain values (shared by services and replay)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from goldtrace.domain.instants import parse_date
from goldtrace.errors import InvalidInput

EVENT_TYPES = (
    "org.register",
    "key.rotate",
    "key.register",
    "key.revoke",
    "cert.record",
    "cert.status",
    "auth.record",
    "capacity.exception",
    "capacity.change",
    "registration.exception",
    "picker.register",
    "org.group",
    "flag.review",
    "lot.register",
    "lot.dispatch",
    "lot.receive",
    "lot.assay",
    "lot.transform",
    "event.void",
)
LOT_EVENT_TYPES = ("lot.register", "lot.dispatch", "lot.receive", "lot.assay", "lot.transform")


def event_date(body: dict[str, Any]) -> date:
    """The calendar date (UTC) on which an event occurred."""
    return parse_date(str(body["occurred_at"])[:10], "occurred_at")


@dataclass(frozen=True)
class SaleTerms:
    """A mine's first-sale prices (micro-USD per gram of fine gold) and the salt of their commitment."""

    price: int
    reference: int
    salt: bytes

    def commitment(self) -> str:
        """The hex SHA-256 that the public dispatch event carries instead of the prices."""
        data = json.dumps(
            {"price": self.price, "reference": self.reference, "salt": self.salt.hex()},
            sort_keys=True,
            separators=(",", ":"),
        ).encode("ascii")
        return hashlib.sha256(data).hexdigest()


def require(body: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    """Return ``body[name]`` if it has the expected JSON type; InvalidInput otherwise."""
    value = body.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise InvalidInput(f"event field {name} is missing or malformed", code="bad_event")
    return value
