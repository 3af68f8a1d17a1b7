"""Certification, authorization and production-capacity rules (pure functions over plain facts)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from goldtrace.errors import InvalidInput, RuleViolation

# Ranked: mixing keeps the lowest category present (DESIGN.md §5, segregation).
CATEGORIES = ("none", "fairmined", "fairmined_ecological")
CERTIFIED_CATEGORIES = ("fairmined", "fairmined_ecological")
RANK = {name: i for i, name in enumerate(CATEGORIES)}
STATUSES = ("active", "suspended", "withdrawn")
AUTH_ROLES = ("supplier", "licensee")

# The Fairmined productivity ceiling and the legal monthly ceiling of an individual ore picker.
CEILING_MG_PER_MINER_DAY = 4_000
PICKER_LIMIT_MG = 66_000
WINDOW_DAYS = 30


def parse_category(value: object, field: str = "category") -> str:
    """Return a category name; InvalidInput for anything else."""
    if value not in CATEGORIES:
        raise InvalidInput(
            f"{field} must be one of {', '.join(CATEGORIES)}", fields={field: "unknown category"}
        )
    return str(value)


def lowest(categories: Iterable[str]) -> str:
    """The category of a mix: the lowest ranked one present."""
    return min(categories, key=RANK.__getitem__)


@dataclass(frozen=True)
class Cert:
    """A certification with its dated status history."""

    org: str
    number: str
    category: str
    valid_from: date
    valid_until: date
    # (effective date, status), in date order; "active" from valid_from when empty.
    statuses: tuple[tuple[date, str], ...] = ()

    def status_on(self, day: date) -> str:
        """The status in force on ``day``."""
        current = "active"
        for effective, status in self.statuses:
            if effective <= day:
                current = status
        return current

    def covers(self, category: str, day: date) -> bool:
        """True when this certificate allows producing ``category`` gold on ``day``.

        An ecological certificate also covers plain Fairmined: its rules are a superset.
        """
        if not self.valid_from <= day <= self.valid_until or self.status_on(day) != "active":
            return False
        return self.category == category or (
            self.category == "fairmined_ecological" and category == "fairmined"
        )


def check_certified(
    mine: str, category: str, day: date, certs: Sequence[Cert], *, code: str = "not_certified"
) -> None:
    """Raise RuleViolation (``code``) unless ``mine`` may register ``category`` gold on ``day``."""
    if category == "none":
        return
    if any(c.covers(category, day) for c in certs):
        return
    if category == "fairmined_ecological" and any(c.covers("fairmined", day) for c in certs):
        raise RuleViolation(
            f"{mine} is certified Fairmined but not Ecological on {day}: ecological lots only from "
            "ecological mines",
            # On the registration (or sale) date the caller's code says which date failed.
            code="not_ecological" if code == "not_certified" else code,
        )
    raise RuleViolation(f"{mine} holds no active {category} certification on {day}", code=code)


def is_certified(category: str, day: date, certs: Sequence[Cert]) -> bool:
    """True when ``certs`` allow ``category`` gold on ``day`` (always, for non-Fairmined gold)."""
    return category == "none" or any(c.covers(category, day) for c in certs)


@dataclass(frozen=True)
class Authorization:
    """A supplier or licensee authorization with its validity."""

    org: str
    role: str
    valid_from: date
    valid_until: date


def is_authorized(auths: Iterable[Authorization], day: date) -> bool:
    """True when some authorization is valid on ``day``."""
    return any(a.valid_from <= day <= a.valid_until for a in auths)


def capacity_limit_mg(miners: int | None, capacity_mg_month: int | None) -> int | None:
    """The most fine gold a mine may register in any 30-day window, or None if nothing is declared.

    The declared monthly capacity, and never more than miners x 4 g/day over the window.
    """
    limits = []
    if capacity_mg_month is not None:
        limits.append(capacity_mg_month)
    if miners is not None:
        limits.append(miners * CEILING_MG_PER_MINER_DAY * WINDOW_DAYS)
    return min(limits) if limits else None


@dataclass(frozen=True)
class Allowance:
    """Extra fine gold allowed, after review, in windows that overlap [valid_from, valid_until]."""

    valid_from: date
    valid_until: date
    extra_mg: int


def check_window(
    *,
    day: date,
    new_mg: int,
    history: Iterable[tuple[date, int]],
    limit_mg: int,
    exceptions: Sequence[Allowance] = (),
    code: str,
    who: str,
) -> None:
    """Raise RuleViolation if adding ``new_mg`` on ``day`` puts any 30-day window over the limit.

    ``history`` is every earlier registration (date, fine mg) within 29 days either side.
    """
    near = [(d, mg) for d, mg in history if abs((d - day).days) < WINDOW_DAYS]
    for offset in range(WINDOW_DAYS):
        start = day - timedelta(days=offset)
        end = start + timedelta(days=WINDOW_DAYS - 1)
        total = new_mg + sum(mg for d, mg in near if start <= d <= end)
        allowed = limit_mg + sum(
            e.extra_mg for e in exceptions if e.valid_from <= end and start <= e.valid_until
        )
        if total > allowed:
            raise RuleViolation(
                f"{who} would register {total / 1000:.3f} g of fine gold in the 30 days from "
                f"{start}, above the limit of {allowed / 1000:.3f} g",
                code=code,
            )
