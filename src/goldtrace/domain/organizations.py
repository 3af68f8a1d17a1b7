"""Organizations and their kinds, as the rules need them (no persistence here)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from goldtrace.errors import InvalidInput

KINDS = ("mine", "trader", "refiner", "jeweler", "auditor", "standard_body")
_ORG_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")
_COUNTRY = re.compile(r"[A-Z]{2}")
_RUC = re.compile(r"(10|15|17|20)\d{9}")


@dataclass(frozen=True)
class OrgProfile:
    """What the ledger records about an organization when it is registered."""

    id: str
    name: str
    kind: str
    country: str = "PE"
    region: str | None = None
    ruc: str | None = None
    reinfo: str | None = None
    miners: int | None = None
    capacity_mg_month: int | None = None
    committee: str | None = None

    def __post_init__(self) -> None:
        # Every registration the verifier replays comes through here: the checks are written out
        # plainly (no getattr loops, precompiled patterns), in the order their messages rank.
        texts: tuple[tuple[str, object], ...] = (
            ("id", self.id),
            ("name", self.name),
            ("kind", self.kind),
            ("country", self.country),
        )
        for name, text in texts:
            if not isinstance(text, str):
                raise InvalidInput(f"{name} must be text", fields={name: "not text"})
        optional: tuple[tuple[str, object], ...] = (
            ("region", self.region),
            ("ruc", self.ruc),
            ("reinfo", self.reinfo),
            ("committee", self.committee),
        )
        for name, text in optional:
            if text is not None and not isinstance(text, str):
                raise InvalidInput(f"{name} must be text", fields={name: "not text"})
        counts: tuple[tuple[str, int | None], ...] = (
            ("miners", self.miners),
            ("capacity_mg_month", self.capacity_mg_month),
        )
        for name, count in counts:
            if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
                raise InvalidInput(f"{name} must be an integer", fields={name: "not an integer"})
        if not _ORG_ID.match(self.id):
            raise InvalidInput(
                "organization id must be 2-64 lowercase letters, digits, '-' or '_'",
                fields={"id": "bad id"},
            )
        if self.kind not in KINDS:
            raise InvalidInput(
                f"kind must be one of {', '.join(KINDS)}", fields={"kind": "unknown kind"}
            )
        if not self.name.strip():
            raise InvalidInput("organization name is empty", fields={"name": "empty"})
        if not _COUNTRY.fullmatch(self.country):
            raise InvalidInput(
                "country must be an ISO 3166 alpha-2 code", fields={"country": "bad"}
            )
        if self.ruc is not None and not _RUC.fullmatch(self.ruc):
            raise InvalidInput(
                "RUC must be 11 digits starting 10, 15, 17 or 20", fields={"ruc": "bad"}
            )
        for name, count in counts:
            if count is not None and count <= 0:
                raise InvalidInput(f"{name} must be positive", fields={name: "not positive"})

    def as_json(self) -> dict[str, Any]:
        """Return the profile as the event field ``org`` (absent optional fields are omitted)."""
        data: dict[str, Any] = {"id": self.id, "name": self.name, "kind": self.kind}
        data["country"] = self.country
        for name in ("region", "ruc", "reinfo", "miners", "capacity_mg_month", "committee"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OrgProfile:
        """Return the profile recorded in an event; InvalidInput when fields are wrong."""
        allowed = {"id", "name", "kind", "country", "region", "ruc", "reinfo", "miners"}
        allowed |= {"capacity_mg_month", "committee"}
        if not isinstance(data, dict) or not set(data) <= allowed:
            raise InvalidInput("organization record has unknown fields", code="bad_event")
        try:
            return cls(**data)
        except TypeError:
            raise InvalidInput("organization record is incomplete", code="bad_event") from None
