"""Who is acting: a logged-in user reduced to what the rules need (no persistence here)."""

from __future__ import annotations

from dataclasses import dataclass

from goldtrace.errors import InvalidInput

ROLES = ("operator", "admin", "auditor", "standard_body")
# Auditors and the standard body act only as themselves; every other organization has operators
# (daily work) and admins (its users and tokens).
_ROLES_OF_KIND = {"auditor": ("auditor",), "standard_body": ("standard_body",)}
_MEMBER_ROLES = ("operator", "admin")


def roles_for_kind(org_kind: str) -> tuple[str, ...]:
    """Return the roles a user of an organization of ``org_kind`` may hold."""
    return _ROLES_OF_KIND.get(org_kind, _MEMBER_ROLES)


def check_role(role: str, org_kind: str) -> None:
    """Raise InvalidInput unless ``role`` is a known role that fits an organization of ``org_kind``."""
    if role not in ROLES:
        raise InvalidInput(
            f"role must be one of {', '.join(ROLES)}", code="bad_role", fields={"role": "unknown"}
        )
    allowed = roles_for_kind(org_kind)
    if role not in allowed:
        raise InvalidInput(
            f"a user of a {org_kind} organization must have role {' or '.join(allowed)}",
            code="bad_role",
            fields={"role": "does not fit the organization"},
        )


@dataclass(frozen=True)
class Actor:
    """An authenticated user as services see it, detached from any database session."""

    user_id: int
    email: str
    org_id: str
    org_kind: str
    role: str

    @property
    def is_standard_body(self) -> bool:
        """True for users of the standard body."""
        return self.role == "standard_body"

    @property
    def is_auditor(self) -> bool:
        """True for users of an auditing organization."""
        return self.role == "auditor"

    @property
    def sees_everything(self) -> bool:
        """True when the actor may read every organization's records (auditors, standard body)."""
        return self.is_auditor or self.is_standard_body
