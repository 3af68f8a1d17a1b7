"""The one exception hierarchy of goldtrace.

Every layer raises these; only ``webapp/errors.py`` turns them into HTTP statuses and only
``cli.py`` into exit codes. Each class carries a stable machine-readable ``code``.
"""

from __future__ import annotations

from collections.abc import Mapping


class GoldtraceError(Exception):
    """Base class: a refusal or fault with a stable ``code`` and a human message."""

    code = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.fields: dict[str, str] = dict(fields or {})


class InvalidInput(GoldtraceError):
    """The request itself is malformed: wrong type, out of range, unparseable."""

    code = "invalid_input"


class PayloadTooLarge(InvalidInput):
    """The request body exceeds the accepted size."""

    code = "payload_too_large"


class Unauthenticated(GoldtraceError):
    """No valid credentials were presented."""

    code = "unauthenticated"


class PermissionDenied(GoldtraceError):
    """The actor is known but may not do this."""

    code = "forbidden"


class NotFound(GoldtraceError):
    """The named thing does not exist."""

    code = "not_found"


class Conflict(GoldtraceError):
    """The request is well-formed but clashes with the current state (e.g. a lot already received)."""

    code = "conflict"


class RuleViolation(GoldtraceError):
    """A domain rule refuses the operation (capacity, segregation, custody, price...)."""

    code = "rule_violation"


class ProofError(GoldtraceError):
    """A Merkle proof, signature or signed note does not verify."""

    code = "proof_invalid"


class IntegrityFault(GoldtraceError):
    """Stored ledger data is inconsistent: the log was tampered with or corrupted."""

    code = "integrity_fault"

    def __init__(self, message: str, *, seq: int | None = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.seq = seq


class DurabilityUnknown(GoldtraceError):
    """A transaction committed, but the wait for it to reach the disk failed (see db.durability)."""

    code = "durability_unknown"


class ConfigurationError(GoldtraceError):
    """Settings are missing or contradictory (e.g. no secret key, wrong log origin)."""

    code = "configuration"
