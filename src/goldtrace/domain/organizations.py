"""Organizations and their kinds, as the rules need them (no persistence here)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from goldtrace.domain.identities import parse_ruc
from goldtrace.errors import InvalidInput

KINDS = ("mine", "trader", "refiner", "jeweler", "auditor", "standard_body")
_ORG_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")
_COUNTRY = re.compile(r"[A-Z]{2}")


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
    # A mine that is an association of ore pickers (pallaqueras): every lot names a registered member.
    pickers: bool = False

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
        if self.ruc is not None and parse_ruc(self.ruc) != self.ruc:
            raise InvalidInput("RUC must be written as its 11 digits", fields={"ruc": "bad"})
        for name, count in counts:
            if count is not None and count <= 0:
                raise InvalidInput(f"{name} must be positive", fields={name: "not positive"})
        if not isinstance(self.pickers, bool):
            raise InvalidInput("pickers must be true or false", fields={"pickers": "not boolean"})
        if self.kind == "mine":
            if self.miners is None or self.capacity_mg_month is None:
                raise InvalidInput(
                    "a mine is onboarded with its number of miners and its declared monthly "
                    "capacity (grams of fine gold); both bound what it may register",
                    code="capacity_required",
                    fields={"miners": "required", "capacity_g_month": "required"},
                )
        elif self.miners is not None or self.capacity_mg_month is not None or self.pickers:
            raise InvalidInput(
                "miners, capacity and pickers apply to mines only", code="not_a_mine"
            )

    def as_json(self) -> dict[str, Any]:
        """Return the profile as the event field ``org`` (absent optional fields are omitted)."""
        data: dict[str, Any] = {"id": self.id, "name": self.name, "kind": self.kind}
        data["country"] = self.country
        for name in ("region", "ruc", "reinfo", "miners", "capacity_mg_month", "committee"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.pickers:
            data["pickers"] = True
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OrgProfile:
        """Return the profile recorded in an event; InvalidInput when fields are wrong."""
        allowed = {"id", "name", "kind", "country", "region", "ruc", "reinfo", "miners"}
        allowed |= {"capacity_mg_month", "committee", "pickers"}
        if not isinstance(data, dict) or not set(data) <= allowed:
            raise InvalidInput("organization record has unknown fields", code="bad_event")
        try:
            return cls(**data)
        except TypeError:
            raise InvalidInput("organization record is incomplete", code="bad_event") from None
