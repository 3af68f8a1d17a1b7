"""Which key may sign which event: organization keys replayed from the ledger's own key events.

Event types handled here:

- ``org.register`` (actor: the standard body) registers an organization and its first public key.
  The very first event of a ledger registers the standard body itself and is signed by the key it declares.
- ``key.rotate`` (actor: the organization) replaces its key; signed by the key being replaced.
- ``key.register`` (actor: the standard body) replaces an organization's key (lost key, own key brought in).
- ``key.revoke`` (actor: the standard body) ends a key's validity with no replacement.

A key is valid for events ``from_seq <= seq < until_seq``, so old signatures stay checkable.
"""

from __future__ import annotations

import binascii
import hashlib
from dataclasses import dataclass, field
from typing import Any

from goldtrace.domain.organizations import OrgProfile
from goldtrace.errors import InvalidInput, RuleViolation


@dataclass
class KeyRecord:
    """A public key and the range of event sequence numbers it may sign."""

    kid: str
    org: str
    public_key: bytes
    from_seq: int
    until_seq: int | None = None


def decode_key(data: Any) -> tuple[str, bytes]:
    """Return (kid, public key) from an event's ``key`` field; InvalidInput when malformed."""
    if not isinstance(data, dict) or data.keys() != {"kid", "public"}:
        raise InvalidInput("key must be an object with kid and public", code="bad_event")
    text = str(data["public"])
    try:
        public = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("key.public is not base64", code="bad_event") from None
    if binascii.b2a_base64(public, newline=False).decode("ascii") != text:
        raise InvalidInput("key.public is not canonical base64", code="bad_event")
    if len(public) != 32 or hashlib.sha256(public).hexdigest()[:16] != data["kid"]:
        raise InvalidInput("key.kid does not match key.public", code="bad_event")
    return str(data["kid"]), public


@dataclass
class KeyState:
    """Organizations and keys as of some point in the ledger, rebuilt by replaying events in order."""

    orgs: dict[str, OrgProfile] = field(default_factory=dict)
    keys: dict[str, KeyRecord] = field(default_factory=dict)
    current: dict[str, str] = field(default_factory=dict)
    standard_body: str | None = None

    def signer_for(self, seq: int, body: dict[str, Any], kid: str) -> bytes:
        """Return the public key that must have signed this event.

        Raises RuleViolation when the actor is unknown or ``kid`` is not its key at ``seq``.
        """
        actor = body.get("actor")
        if seq == 0:
            if body.get("type") != "org.register":
                raise RuleViolation(
                    "the first event must register the standard body", code="genesis"
                )
            declared_kid, public = decode_key(body.get("key"))
            if declared_kid != kid:
                raise RuleViolation(
                    "genesis must be signed by the key it declares", code="bad_signer"
                )
            return public
        if not isinstance(actor, str) or actor not in self.orgs:
            raise RuleViolation(
                f"actor {actor!r} is not a registered organization", code="unknown_actor"
            )
        current = self.current.get(actor)
        if current is None:
            raise RuleViolation(f"organization {actor} has no valid key", code="no_key")
        if current != kid:
            raise RuleViolation(
                f"event signed with key {kid}, but {actor}'s key at this point is {current}",
                code="bad_signer",
            )
        return self.keys[kid].public_key

    def apply(self, seq: int, body: dict[str, Any], event_hash: bytes = b"") -> None:
        """Apply a key or organization event. Raises RuleViolation when it breaks a rule."""
        kind = body.get("type")
        actor = body.get("actor")
        if kind == "org.register":
            profile = OrgProfile.from_json(body.get("org", {}))
            if seq == 0:
                if profile.kind != "standard_body" or profile.id != actor:
                    raise RuleViolation(
                        "the first event must register the standard body", code="genesis"
                    )
                self.standard_body = profile.id
            else:
                self._require_standard_body(actor)
            if profile.id in self.orgs:
                raise RuleViolation(
                    f"organization {profile.id} already exists", code="duplicate_org"
                )
            self.orgs[profile.id] = profile
            self._install(profile.id, body.get("key"), seq if seq == 0 else seq + 1)
        elif kind == "key.rotate":
            assert isinstance(actor, str)
            self._retire(actor, seq + 1)
            self._install(actor, body.get("key"), seq + 1)
        elif kind == "key.register":
            self._require_standard_body(actor)
            org = self._known_org(body.get("org"))
            self._retire(org, seq + 1)
            self._install(org, body.get("key"), seq + 1)
        elif kind == "key.revoke":
            self._require_standard_body(actor)
            org = self._known_org(body.get("org"))
            if self.current.get(org) != body.get("kid"):
                raise RuleViolation(
                    "only an organization's current key can be revoked", code="bad_key"
                )
            self._retire(org, seq + 1)
        else:
            raise RuleViolation(f"unknown event type {kind!r}", code="unknown_type")

    def _require_standard_body(self, actor: Any) -> None:
        if actor != self.standard_body:
            raise RuleViolation("only the standard body may do this", code="not_standard_body")

    def _known_org(self, org: Any) -> str:
        if not isinstance(org, str) or org not in self.orgs:
            raise RuleViolation(f"unknown organization {org!r}", code="unknown_org")
        return org

    def _install(self, org: str, key: Any, from_seq: int) -> None:
        kid, public = decode_key(key)
        if kid in self.keys:
            raise RuleViolation(f"key {kid} was registered before", code="key_reused")
        self.keys[kid] = KeyRecord(kid=kid, org=org, public_key=public, from_seq=from_seq)
        self.current[org] = kid

    def _retire(self, org: str, until_seq: int) -> None:
        kid = self.current.pop(org, None)
        if kid is not None:
            self.keys[kid].until_seq = until_seq
