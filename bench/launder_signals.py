"""Risk signals over the simulated year: what the standard body sees of the gold that stayed inside
every limit and tolerance, and how many legitimate organizations each signal points at too.

The mines' signals are the standard body's own (``services.risk``: capacity streaks, output per
miner against the region, late registration, pickers at the ceiling, groups of related mines), over
the year's twelve calendar months. Two more are computed here from the ledger's events (read only),
as proposals: they point at what the simulator shows no rule and no signal sees yet, a receiver whose
scale always reads a little high and a refiner whose losses are too small to be true.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from goldtrace.db.models import Event, LotEvent
from goldtrace.domain import risk
from goldtrace.domain.actors import Actor
from goldtrace.domain.quantities import fine_mg
from goldtrace.services import risk as risk_service
from launder_world import World

BIAS_RECEIPTS = 10  # receipts between two organizations before their bias is judged
BIAS_PPM = 300  # mean mass gain at receipt
LOW_LOSS_PPM = 3_000  # a refining of doré losing less than 0.3 %
LOW_LOSS_COUNT = 3
RULES = {
    "capacity_streak": (
        "capacity use month after month",
        f"{risk.HIGH_USE_PCT} %+ of capacity {risk.CAPACITY_STREAK_MONTHS} months in a row",
    ),
    "above_region_median": (
        "output per miner against the region",
        f"{risk.PEER_RATIO}x the median g/miner/day of {risk.MIN_PEERS}+ certified mines of the region",
    ),
    "late_registration": (
        "days between production and registration",
        f"a median of {risk.LATE_MEDIAN_DAYS}+ days",
    ),
    "picker_at_ceiling": (
        "pickers at the ceiling month after month",
        f"{risk.PICKER_CEILING_PCT} %+ of 66 g {risk.PICKER_STREAK_MONTHS} months in a row",
    ),
    "group_capacity_streak": (
        "groups of related organizations",
        f"the group at {risk.HIGH_USE_PCT} %+ of its combined capacity "
        f"{risk.GROUP_STREAK_MONTHS} months in a row",
    ),
}


@dataclass
class Signal:
    """One signal: what it says and whom it points at."""

    name: str
    rule: str
    hits: set[str] = field(default_factory=set)


def signals(world: World) -> list[Signal]:
    """Every signal over the year, with the organizations (or pickers, or pairs) it points at."""
    found = {kind: Signal(name, rule) for kind, (name, rule) in RULES.items()}
    overseer = Actor(0, "simulator@arm", world.body, "standard_body", "standard_body")
    assessment = risk_service.mine_risks(world.session, overseer, months=12, today=world.day(364))
    for mine in assessment.mines:
        # A picker's signal is raised on her association: it points at her.
        found["picker_at_ceiling"].hits |= {
            run.person for run in mine.pickers if run.months >= risk.PICKER_STREAK_MONTHS
        }
        for signal in mine.signals:
            if signal.kind != "picker_at_ceiling":
                found[signal.kind].hits.add(mine.mine)
    for group in assessment.groups:
        for signal in group.signals:
            found[signal.kind].hits |= set(group.mines)
    return [*found.values(), _receipt_bias(world), _low_losses(world)]


def _receipt_bias(world: World) -> Signal:
    signal = Signal(
        "receipts heavier than dispatched (proposed)",
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
        "refinings with small losses (proposed)",
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
