"""Risk signals over the simulated year: what the standard body would see of the gold that stayed
inside every limit and tolerance, and how many legitimate organizations each signal points at too.

The signals are computed here from the ledger's tables (read only) with plain thresholds, until the
standard body's risk page (issue 14, item 9) computes them; the simulator then shows that page's
figures instead. Each signal looks at 30-day blocks of the year.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from goldtrace.db.models import Event, Lot, LotEvent, Organization
from goldtrace.domain.quantities import fine_mg
from goldtrace.domain.registration import capacity_on
from goldtrace.services import registry
from launder_world import World

BLOCK_DAYS = 30
NEAR_CAPACITY = 0.90  # of the month's capacity
RUN_BLOCKS = 3  # months in a row
PRODUCTIVITY_FACTOR = 1.5  # g/miner/day against the regional median of the month
PRODUCTIVITY_MONTHS = 2  # months above it
PICKER_CEILING_MG = 66_000
LATE_DAYS = 20  # median days between production and registration
BIAS_RECEIPTS = 10  # receipts between two organizations before their bias is judged
BIAS_PPM = 300  # mean mass gain at receipt
LOW_LOSS_PPM = 3_000  # a refining of doré losing less than 0.3 %
LOW_LOSS_COUNT = 3


@dataclass
class Signal:
    """One signal: what it says and whom it points at."""

    name: str
    rule: str
    hits: set[str] = field(default_factory=set)


def signals(world: World) -> list[Signal]:
    """Every signal over the year, with the organizations (or pickers) it points at."""
    mines = _mine_blocks(world)
    return [
        _capacity_runs(world, mines),
        _productivity(world, mines),
        _late(world),
        _pickers(world),
        _groups(world, mines),
        _receipt_bias(world),
        _low_losses(world),
    ]


def _block(world: World, day: date) -> int:
    return (day - world.start).days // BLOCK_DAYS


def _mine_blocks(world: World) -> dict[str, dict[int, int]]:
    """Fine gold each mine registered, by 30-day block of the registration date."""
    rows = world.session.execute(
        select(Lot.mine_id, Lot.registered_on, Lot.registered_fine_mg).where(
            Lot.registered_fine_mg.is_not(None), Lot.status != "voided"
        )
    ).all()
    found: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for mine, day, fine in rows:
        if mine is not None and day is not None:
            found[mine][_block(world, day)] += fine or 0
    return found


def _capacity(world: World, mine: str, block: int) -> int:
    day = world.day(block * BLOCK_DAYS)
    return capacity_on(registry.capacity_periods(world.session, mine), day).limit_mg


def _near_capacity(world: World, mine: str, blocks: dict[int, int]) -> list[int]:
    return sorted(b for b, mg in blocks.items() if mg >= NEAR_CAPACITY * _capacity(world, mine, b))


def _longest_run(blocks: Iterable[int]) -> int:
    best = run = 0
    previous = None
    for b in sorted(blocks):
        run = run + 1 if previous is not None and b == previous + 1 else 1
        best, previous = max(best, run), b
    return best


def _capacity_runs(world: World, mines: dict[str, dict[int, int]]) -> Signal:
    signal = Signal(
        "capacity use month after month",
        f"{RUN_BLOCKS}+ months in a row at {NEAR_CAPACITY:.0%}+ of capacity",
    )
    for mine, blocks in mines.items():
        if _longest_run(_near_capacity(world, mine, blocks)) >= RUN_BLOCKS:
            signal.hits.add(mine)
    return signal


def _productivity(world: World, mines: dict[str, dict[int, int]]) -> Signal:
    signal = Signal(
        "g/miner/day against the regional median",
        f"{PRODUCTIVITY_MONTHS}+ months above {PRODUCTIVITY_FACTOR}x the median of the region's mines",
    )
    orgs = {
        o.id: o
        for o in world.session.execute(select(Organization).where(Organization.kind == "mine"))
        .scalars()
        .all()
    }
    rates: dict[tuple[str, int], dict[str, float]] = defaultdict(dict)
    for mine, blocks in mines.items():
        org = orgs[mine]
        for b, mg in blocks.items():
            day = world.day(b * BLOCK_DAYS)
            miners = capacity_on(registry.capacity_periods(world.session, mine), day).miners
            rates[(org.region or "", b)][mine] = mg / 1000 / miners / BLOCK_DAYS
    above: dict[str, int] = defaultdict(int)
    for per_mine in rates.values():
        median = statistics.median(per_mine.values())
        for mine, rate in per_mine.items():
            above[mine] += rate > PRODUCTIVITY_FACTOR * median
    signal.hits = {m for m, n in above.items() if n >= PRODUCTIVITY_MONTHS}
    return signal


def _late(world: World) -> Signal:
    signal = Signal(
        "days between production and registration",
        f"a median of {LATE_DAYS}+ days",
    )
    delays: dict[str, list[int]] = defaultdict(list)
    for mine, produced, registered in world.session.execute(
        select(Lot.mine_id, Lot.produced_on, Lot.registered_on).where(
            Lot.registered_on.is_not(None)
        )
    ).all():
        if mine is not None and produced is not None and registered is not None:
            delays[mine].append((registered - produced).days)
    signal.hits = {m for m, d in delays.items() if statistics.median(d) >= LATE_DAYS}
    return signal


def _pickers(world: World) -> Signal:
    signal = Signal(
        "pickers at the ceiling month after month",
        f"{RUN_BLOCKS}+ months in a row at {NEAR_CAPACITY:.0%}+ of 66 g",
    )
    sold: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for person, produced, fine in world.session.execute(
        select(Lot.picker, Lot.produced_on, Lot.registered_fine_mg).where(
            Lot.picker.is_not(None), Lot.status != "voided"
        )
    ).all():
        if person is not None and produced is not None:
            sold[person][_block(world, produced)] += fine or 0
    for person, blocks in sold.items():
        full = [b for b, mg in blocks.items() if mg >= NEAR_CAPACITY * PICKER_CEILING_MG]
        if _longest_run(full) >= RUN_BLOCKS:
            signal.hits.add(person)
    return signal


def _groups(world: World, mines: dict[str, dict[int, int]]) -> Signal:
    signal = Signal(
        "groups of related organizations",
        f"2+ members of a recorded group at {NEAR_CAPACITY:.0%}+ of capacity in one month",
    )
    for members in registry.groups(world.session).values():
        full = defaultdict(list)
        for mine in members:
            for b in _near_capacity(world, mine, mines.get(mine, {})):
                full[b].append(mine)
        for crowded in full.values():
            if len(crowded) >= 2:
                signal.hits |= set(members)
    return signal


def _receipt_bias(world: World) -> Signal:
    signal = Signal(
        "receipts heavier than dispatched, one pair",
        f"{BIAS_RECEIPTS}+ receipts between two organizations, {BIAS_PPM / 10_000:g} %+ heavier "
        "on average",
    )
    gains: dict[tuple[str, str], list[int]] = defaultdict(list)
    rows = world.session.execute(
        select(Event.actor, Event.body, LotEvent.before)
        .join(LotEvent, LotEvent.seq == Event.seq)
        .where(Event.type == "lot.receive", LotEvent.role == "subject")
    ).all()
    for receiver, body, before in rows:
        if before is None:
            continue
        sent = json.loads(before)
        received = json.loads(body)["mass_mg"]
        gains[(sent["holder"], receiver)].append(
            (received - sent["mass_mg"]) * 1_000_000 // sent["mass_mg"]
        )
    for (sender, receiver), ppms in gains.items():
        if len(ppms) >= BIAS_RECEIPTS and statistics.mean(ppms) >= BIAS_PPM:
            signal.hits.add(f"{sender} -> {receiver}")
    return signal


def _low_losses(world: World) -> Signal:
    signal = Signal(
        "refinings with small losses",
        f"{LOW_LOSS_COUNT}+ refinings of doré losing under {LOW_LOSS_PPM / 10_000:g} % "
        "(the rule's floor is 0.05 %)",
    )
    low: dict[str, int] = defaultdict(int)
    for actor, body in world.session.execute(
        select(Event.actor, Event.body).where(Event.type == "lot.transform")
    ).all():
        fields = json.loads(body)
        if fields.get("kind") != "refine":
            continue
        out = sum(fine_mg(o["mass_mg"], o["fineness"]) for o in fields["outputs"])
        if fields["loss_mg"] * 1_000_000 < (out + fields["loss_mg"]) * LOW_LOSS_PPM:
            low[actor] += 1
    signal.hits = {a for a, n in low.items() if n >= LOW_LOSS_COUNT}
    return signal
