"""Mass, fineness and money: decimal strings at the edges, integers inside, one rounding policy.

- mass: integer milligrams; spoken as grams with up to 3 decimals ("1250.125").
- fineness: integer parts per ten thousand; spoken as per mille with up to 1 decimal ("999.9").
- fine gold = floor(mass_mg * fineness / 10000) mg: rounding down is conservative and the only
  rounding of mass.
- prices: integer micro-dollars per gram; spoken as USD with up to 6 decimals.
- money: integer cents; spoken as USD with exactly 2 decimals.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from goldtrace.errors import InvalidInput

# 100 tonnes: far beyond any lot, small enough that no product of two quantities nears 2**63.
MAX_MASS_MG = 100_000_000_000
MAX_PRICE_MICRO = 10**12
FINENESS_SCALE = 10_000
TROY_OUNCE_MG = Decimal("31103.4768")

# ASCII digits only: \d would also take Arabic-Indic or full-width digits as numbers.
_DECIMAL = re.compile(r"(?P<int>[0-9]{1,15})(?:\.(?P<frac>[0-9]+))?")


def _parse(value: Any, *, field: str, decimals: int, what: str) -> int:
    """Return value x 10**decimals as an exact integer, from a decimal string."""
    if not isinstance(value, str):
        raise InvalidInput(
            f'{field} must be a decimal string such as "12.5", not a JSON {type(value).__name__}',
            fields={field: "not a decimal string"},
        )
    match = _DECIMAL.fullmatch(value.strip())
    if not match:
        raise InvalidInput(
            f"{field} is not a non-negative decimal number: {value!r}",
            fields={field: "not a number"},
        )
    frac: str = match.group("frac") or ""
    if len(frac) > decimals:
        raise InvalidInput(
            f"{field} has more than {decimals} decimals ({what})",
            fields={field: "too many decimals"},
        )
    whole: int = int(match.group("int"))
    return int(whole * 10**decimals + int(frac.ljust(decimals, "0") or "0"))


def parse_mass(value: Any, field: str = "mass_g") -> int:
    """Return milligrams from a gram string with up to 3 decimals; positive and below 100 t."""
    mg = _parse(value, field=field, decimals=3, what="milligrams")
    if mg <= 0:
        raise InvalidInput(f"{field} must be more than zero", fields={field: "not positive"})
    if mg > MAX_MASS_MG:
        raise InvalidInput(f"{field} is implausibly large", fields={field: "too large"})
    return mg


def parse_fineness(value: Any, field: str = "fineness") -> int:
    """Return parts per ten thousand from a per-mille string with up to 1 decimal (0..1000)."""
    parts = _parse(value, field=field, decimals=1, what="per mille to one decimal")
    if parts > FINENESS_SCALE:
        raise InvalidInput(f"{field} cannot exceed 1000 per mille", fields={field: "above 1000"})
    return parts


def parse_price(value: Any, field: str) -> int:
    """Return micro-dollars per gram from a USD string with up to 6 decimals (positive)."""
    micro = _parse(value, field=field, decimals=6, what="micro-dollars")
    if micro <= 0 or micro > MAX_PRICE_MICRO:
        raise InvalidInput(
            f"{field} must be a positive, plausible price", fields={field: "out of range"}
        )
    return micro


def parse_money(value: Any, field: str = "amount_usd") -> int:
    """Return cents from a USD string with up to 2 decimals."""
    return _parse(value, field=field, decimals=2, what="cents")


def fine_mg(mass_mg: int, fineness: int) -> int:
    """Fine gold in milligrams: floor(mass x fineness / 10000)."""
    return mass_mg * fineness // FINENESS_SCALE


def format_mass(mg: int) -> str:
    """Grams with exactly 3 decimals: 1250125 -> "1250.125"."""
    sign = "-" if mg < 0 else ""
    mg = abs(mg)
    return f"{sign}{mg // 1000}.{mg % 1000:03d}"


def format_fineness(parts: int) -> str:
    """Per mille with one decimal, trailing ".0" dropped: 9999 -> "999.9", 7500 -> "750"."""
    whole, tenth = divmod(parts, 10)
    return f"{whole}" if tenth == 0 else f"{whole}.{tenth}"


def format_money(cents: int) -> str:
    """USD with 2 decimals: 450617 -> "4506.17"."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def format_price(micro: int) -> str:
    """USD per gram with up to 6 decimals, at least 2."""
    text = f"{micro // 1_000_000}.{micro % 1_000_000:06d}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def round_cents(amount: Decimal) -> int:
    """Round a dollar amount half-up to whole cents (the one rounding of money)."""
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def troy_ounces(mg: int) -> Decimal:
    """Troy ounces to 3 decimals, for display and LBMA-style lists only."""
    return (Decimal(mg) / TROY_OUNCE_MG).quantize(Decimal("0.001"))
