"""The Fairmined premium: what a mine's first sale obliges its buyer to pay the mine's committee.

Rates are dated data (USD per kg of fine gold, by category, from an effective date). The premium of an
obligation is computed exactly and rounded half-up to the cent once:

    cents = round_half_up(fine_mg x rate_cents_per_kg / 1 000 000)

e.g. 1234.567 g at 912.5 per mille = 1126.542 g fine owes USD 4506.17 at USD 4000/kg.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from goldtrace.domain.quantities import TROY_OUNCE_MG
from goldtrace.errors import InvalidInput, RuleViolation

MG_PER_KG = 1_000_000
INVESTMENT_CATEGORIES = (
    "organization",
    "workers_welfare",
    "community",
    "environment",
    "gender_equity",
)
# Fairmined since 5 April 2014 (DOMAIN.md): seeded as the first rate events of a ledger.
SEED_RATES = (
    ("fairmined", date(2014, 4, 5), 400_000),
    ("fairmined_ecological", date(2014, 4, 5), 600_000),
)


@dataclass(frozen=True)
class Rate:
    """A premium rate in cents per kg of fine gold for a category, from a date on."""

    category: str
    effective_from: date
    cents_per_kg: int


def rate_on(rates: Iterable[Rate], category: str, day: date) -> Rate:
    """The rate in force for ``category`` on ``day``: the latest effective on or before it."""
    candidates = [r for r in rates if r.category == category and r.effective_from <= day]
    if not candidates:
        raise RuleViolation(
            f"no premium rate for {category} is in force on {day}", code="no_premium_rate"
        )
    return max(candidates, key=lambda r: r.effective_from)


def premium_cents(fine_mg: int, cents_per_kg: int) -> int:
    """The premium of ``fine_mg`` at ``cents_per_kg``, rounded half-up to the cent."""
    exact = Decimal(fine_mg) * Decimal(cents_per_kg) / MG_PER_KG
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Owed:
    """An obligation as the allocation of a payment needs it."""

    id: int
    outstanding_cents: int


def allocate(
    amount_cents: int, obligations: Sequence[Owed], chosen: Sequence[int] | None = None
) -> list[tuple[int, int]]:
    """Split a payment over obligations: the chosen ones in the given order, else oldest first.

    Returns [(obligation id, cents)]. Raises InvalidInput for a non-positive amount and
    RuleViolation when the payment exceeds what those obligations still owe (overpayment).
    """
    if amount_cents <= 0:
        raise InvalidInput(
            "a payment must be more than zero", fields={"amount_usd": "not positive"}
        )
    by_id = {o.id: o for o in obligations}
    if chosen is not None:
        unknown = [i for i in chosen if i not in by_id]
        if unknown:
            raise InvalidInput(
                f"obligation {unknown[0]} is not an open obligation of this buyer to this committee",
                code="unknown_obligation",
                fields={"obligations": "unknown"},
            )
        if len(set(chosen)) != len(chosen):
            raise InvalidInput("an obligation is listed twice", fields={"obligations": "duplicate"})
        targets = [by_id[i] for i in chosen]
    else:
        targets = sorted(obligations, key=lambda o: o.id)
    outstanding = sum(o.outstanding_cents for o in targets)
    if amount_cents > outstanding:
        raise RuleViolation(
            f"the payment of {amount_cents / 100:.2f} USD exceeds the {outstanding / 100:.2f} USD "
            "outstanding",
            code="overpayment",
        )
    result = []
    left = amount_cents
    for owed in targets:
        if left == 0:
            break
        part = min(left, owed.outstanding_cents)
        if part > 0:
            result.append((owed.id, part))
            left -= part
    return result


def check_investment(amount_cents: int, balance_cents: int) -> None:
    """Raise unless an investment of ``amount_cents`` fits the committee's balance."""
    if amount_cents <= 0:
        raise InvalidInput(
            "an investment must be more than zero", fields={"amount_usd": "not positive"}
        )
    if amount_cents > balance_cents:
        raise RuleViolation(
            f"the committee has {balance_cents / 100:.2f} USD of premium received and not invested",
            code="beyond_balance",
        )


def reference_micro_per_g(cents_per_troy_oz: int) -> Decimal:
    """A reference price per troy ounce (cents) as micro-dollars per gram (exact)."""
    return Decimal(cents_per_troy_oz) * 10_000 * 1000 / TROY_OUNCE_MG


def check_investment_category(category: str) -> str:
    """Return a known investment category; InvalidInput otherwise."""
    if category not in INVESTMENT_CATEGORIES:
        raise InvalidInput(
            f"category must be one of {', '.join(INVESTMENT_CATEGORIES)}",
            fields={"category": "unknown"},
        )
    return category
