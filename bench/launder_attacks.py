"""Every laundering method of the simulator, in the table's order, and the attackers' plan.

``prepare`` onboards the attackers (inside the chain's set-up transaction) and returns the attempts
as (day of the year, step) pairs; each step runs its attempts through ``World.attempt``, which says
what became of their illegal fine gold. The methods live in ``launder_capacity`` (capacity and
dates), ``launder_identities`` (pickers, identities, prices, duplicates) and ``launder_gains``
(downstream of the mine).
"""

from __future__ import annotations

import launder_capacity
import launder_gains
import launder_identities
from launder_chain import Chain
from launder_rogues import Plan
from launder_world import World

# Every method, in the table's order. Those marked True stay inside every declared limit and every
# tolerance: the first mile (a false capacity, a picker who sells more than she picks, a copy of a
# lot that is no longer a copy), a scale that always reads a little high, books that show a little
# less loss than the furnace. No rule can refuse them; only flags and risk signals over many
# registrations can point at them.
METHODS = (
    ("1 no capacity declared", False),
    ("1 five mines, one RUC", False),
    ("1 RUC with a wrong check digit", False),
    ("1 many small lots past capacity", False),
    ("2 produced_on in the future", False),
    ("2 banking past windows (backdated)", False),
    ("2 produced before withdrawal, sold after", False),
    ("2 first sale after withdrawal", False),
    ("2 ecological backdated into lapsed cert", False),
    ("3 made-up picker ids", False),
    ("3 one picker, variant spellings", False),
    ("3 association lot naming no picker", False),
    ("3 one picker through two associations", False),
    ("3 picker past her registration", False),
    ("4 several certificates for one bar", False),
    ("4 certificate outlives its melted bar", False),
    ("5 own trader (same RUC), fake reference", False),
    ("5 stated reference far below recorded", False),
    ("6 same production twice (same reference)", False),
    ("6 same production twice (new reference)", False),
    ("6 refining with 0 % loss (topped up)", False),
    ("6 melting with 0 % loss (topped up)", False),
    ("6 merging with 0 % loss (topped up)", False),
    ("7 +0.099 % receipts, 40 times", False),
    ("7 gain, split, gain again", False),
    ("7 ore at 1 per mille assayed to 300", False),
    ("7 ore at 1 per mille received at 300", False),
    ("7 ore at 1 per mille melted, then assayed to 300", False),
    ("7 assay creep inside lab tolerance", False),
    ("7 one receipt 2 % heavier", False),
    ("7 uncertified gold merged as certified", False),
    ("7 split that creates fine gold", False),
    ("7 sale to an unauthorized buyer", False),
    ("1 inflated capacity (400 miners)", True),
    ("1 just under capacity every month", True),
    ("2 registered 28 days after production, always", True),
    ("3 pickers at the ceiling every month", True),
    ("1 related mines, each under its cap", True),
    ("6 same production twice (1 mg lighter)", True),
    ("6 refining with 0.1 % loss (topped up)", True),
    ("7 +0.099 % once on each of many lots", True),
)


def labels() -> list[str]:
    """Every method's label, in the table's order."""
    return [label for label, _ in METHODS]


def first_mile() -> set[str]:
    """The methods only risk signals can point at."""
    return {label for label, first in METHODS if first}


def prepare(world: World, chain: Chain) -> Plan:
    """Onboard the attackers; return every attempt, by day of the year."""
    buyer = chain.traders[0]
    return (
        launder_capacity.capacity(world, buyer)
        + launder_capacity.dates(world, buyer)
        + launder_identities.pickers(world, chain)
        + launder_identities.prices(world, buyer)
        + launder_identities.duplicates(world, buyer)
        + launder_gains.prepare(world, chain)
    )
