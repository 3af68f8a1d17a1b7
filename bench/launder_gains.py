"""Laundering downstream of the mine: gains hidden in receipts, assays, splits and transformations,
segregation, custody and certificates (issue 14, "What got through", 4, 6 and 7).

The lots these attempts work on are honest: a large certified supplier mine registers and sells them
in a set-up transaction before each attempt, so what an attempt brings in is only what it adds.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from itertools import pairwise

from goldtrace.domain.lots import OutputSpec
from goldtrace.domain.quantities import fine_mg
from goldtrace.services import certificates, lots
from launder_chain import Chain
from launder_rogues import Plan, Step, receipt, register, rogue_mine, sell
from launder_world import World, instant

GRAIN = 9_999


def prepare(world: World, chain: Chain) -> Plan:
    """Onboard the supplier and the attackers downstream; return the attempts by day of the year."""
    suppliers = [
        rogue_mine(world, f"proveedora-{k}", miners=450, capacity_g=52_000, region=region)
        for k, region in ((1, "Arequipa"), (2, "Puno"))
    ]
    t, r = chain.traders, chain.refiners
    plan: Plan = []

    def supply(fine: int, holders: list[str]) -> str | None:
        """An honest lot of ``fine`` mg sold by the supplier and passed along ``holders``."""

        supplier = suppliers[world.serial % 2]

        def steps() -> str:
            lot_id = register(world, supplier, fine)
            sell(world, supplier, lot_id, holders[0])
            for sender, recipient in pairwise(holders):
                move(world, sender, lot_id, recipient)
            return lot_id

        result = world.setup("supply", steps)
        return None if result is None else str(result)

    def on(offset: int, holders: list[str], fine: int, attack: Callable[[str], None]) -> None:
        def step() -> None:
            lot_id = supply(fine, holders)
            if lot_id is not None:
                attack(lot_id)

        plan.append((offset, step))

    world.suspects[r[2]] = "6 refining with 0.1 % loss (topped up)"
    world.suspects[f"{t[6]} -> {r[1]}"] = "7 +0.099 % once on each of many lots"
    world.suspects[r[0]] = "6 refining with 0 % loss (topped up)"
    for a, b, method in (
        (t[2], t[3], "7 +0.099 % receipts, 40 times"),
        (t[4], t[5], "7 gain, split, gain again"),
        (t[1], t[5], "7 one receipt 2 % heavier"),
    ):
        world.suspects |= {f"{a} -> {b}": method, f"{b} -> {a}": method}
    for k in range(6):
        on(30 + 50 * k, [t[0], r[0]], 5_000_000, lambda i: _refine_without_loss(world, r[0], i))
        on(32 + 50 * k, [t[0], r[2]], 5_000_000, lambda i: _refine_at_floor(world, r[2], i))
        on(35 + 50 * k, [t[1]], 5_000_000, lambda i: _melt_without_loss(world, t[1], i))
    on(250, [t[2]], 9_000_000, lambda i: _repeated_receipts(world, i, t[2], t[3]))
    for k in range(24):
        on(15 + 14 * k, [t[6]], 4_000_000, lambda i: _heavier_once(world, i, t[6], r[1]))
    on(45, [t[4]], 9_000_000, lambda i: _gain_split_gain(world, i, t[4], t[5]))
    on(170, [t[7]], 5_000_000, lambda i: _assay_creep(world, t[7], i))
    for k in range(3):
        on(60 + 90 * k, [t[1]], 3_000_000, lambda i: _heavier_receipt(world, i, t[1], t[5]))
    on(75, [t[3]], 1_000_000, lambda i: _split_creating_gold(world, t[3], i))
    for k in range(4):
        plan.append((50 + 80 * k, lambda: _merge_without_loss(world, supply, t[5])))
    plan += _ore(world, t[6])
    plan += _uncertified(world, supply, t[0])
    plan += _unauthorized(world, suppliers[0])
    plan += _certificates(world, supply, t[0], r[1])
    return plan


def move(world: World, sender: str, lot_id: str, recipient: str, factor: float = 1.0) -> None:
    """A later dispatch (no prices) and its receipt, weighed at ``factor`` times the mass."""
    world.call(
        lots.dispatch_lot,
        actor=sender,
        lot_id=lot_id,
        to=recipient,
        occurred_at=instant(world.today, 16),
    )
    receipt(world, recipient, lot_id, factor=factor)


def fine_of(world: World, lot_id: str) -> int:
    """The lot's fine gold now."""
    lot = lots.get_lot(world.session, lot_id)
    return fine_mg(lot.mass_mg, lot.fineness)


def transform(
    world: World, actor: str, kind: str, inputs: list[str], outputs: list[OutputSpec], **kw: object
) -> list[str]:
    """A transformation through the service; the ids of its outputs."""
    written = world.call(
        lots.transform,
        actor=actor,
        kind=kind,
        inputs=inputs,
        outputs=outputs,
        occurred_at=instant(world.today, 18),
        **kw,
    )
    return [lot.id for lot in written.lots]


def _refine_without_loss(world: World, refiner: str, lot_id: str) -> None:
    """A real 1 % refining loss topped up with illegal gold: the books show none."""
    fine = fine_of(world, lot_id)
    grain = OutputSpec(id="", form="grain", mass_mg=fine * 10_000 // GRAIN, fineness=GRAIN)
    world.attempt(
        "6 refining with 0 % loss (topped up)",
        fine // 100,
        lambda: transform(world, refiner, "refine", [lot_id], [grain]),
    )


def _refine_at_floor(world: World, refiner: str, lot_id: str) -> None:
    """A real 1 % refining loss booked as 0.1 %: above the floor of the implausibly small."""
    fine = fine_of(world, lot_id)
    kept = fine - fine // 1000
    grain = OutputSpec(id="", form="grain", mass_mg=kept * 10_000 // GRAIN, fineness=GRAIN)
    world.attempt(
        "6 refining with 0.1 % loss (topped up)",
        fine * 9 // 1000,
        lambda: transform(world, refiner, "refine", [lot_id], [grain]),
    )


def _heavier_once(world: World, lot_id: str, sender: str, recipient: str) -> None:
    """One receipt 0.099 % heavier on each of many lots: every one inside the weighing tolerance."""
    world.attempt(
        "7 +0.099 % once on each of many lots",
        _gain(world, lot_id, 1.00099),
        lambda: move(world, sender, lot_id, recipient, 1.00099),
    )


def _merge_without_loss(
    world: World, supply: Callable[[int, list[str]], str | None], trader: str
) -> None:
    """Two doré lots melted together with their 0.1 % loss topped up: a merge has no loss floor."""
    pair = [supply(3_000_000, [trader]), supply(2_000_000, [trader])]
    inputs = [i for i in pair if i is not None]
    if len(inputs) < 2:
        return
    rows = [lots.get_lot(world.session, i) for i in inputs]
    mass = sum(r.mass_mg for r in rows)
    fine = sum(fine_mg(r.mass_mg, r.fineness) for r in rows)
    out = OutputSpec(id="", form="dore", mass_mg=mass, fineness=fine * 10_000 // mass)
    world.attempt(
        "6 merging with 0 % loss (topped up)",
        fine // 1000,
        lambda: transform(world, trader, "merge", inputs, [out]),
    )


def _melt_without_loss(world: World, trader: str, lot_id: str) -> None:
    """A melt whose 0.1 % loss is topped up."""
    lot = lots.get_lot(world.session, lot_id)
    out = OutputSpec(id="", form="dore", mass_mg=lot.mass_mg, fineness=lot.fineness)
    world.attempt(
        "6 melting with 0 % loss (topped up)",
        fine_of(world, lot_id) // 1000,
        lambda: transform(world, trader, "melt", [lot_id], [out]),
    )


def _gain(world: World, lot_id: str, factor: float) -> int:
    lot = lots.get_lot(world.session, lot_id)
    return fine_mg(round(lot.mass_mg * factor), lot.fineness) - fine_mg(lot.mass_mg, lot.fineness)


def _repeated_receipts(world: World, lot_id: str, a: str, b: str) -> None:
    """40 shipments between two traders, each received 0.099 % heavier (inside the tolerance)."""
    holder, other = a, b
    for _ in range(40):
        result = world.attempt(
            "7 +0.099 % receipts, 40 times",
            _gain(world, lot_id, 1.00099),
            partial(move, world, holder, lot_id, other, 1.00099),
        )
        if result.outcome != "refused":
            holder, other = other, holder


def _gain_split_gain(world: World, lot_id: str, a: str, b: str) -> None:
    """A gain at receipt, then a split: each new lot starts a fresh history to gain on again."""
    holder, other = a, b
    current = [lot_id]
    for _ in range(10):

        def steps(s: str = holder, r: str = other) -> None:
            move(world, s, current[-1], r, 1.00099)
            lot = lots.get_lot(world.session, current[-1])
            big = lot.mass_mg * 95 // 100
            parts = [
                OutputSpec(id="", form="dore", mass_mg=big, fineness=lot.fineness),
                OutputSpec(id="", form="dore", mass_mg=lot.mass_mg - big, fineness=lot.fineness),
            ]
            current.append(transform(world, r, "split", [current[-1]], parts)[0])

        gain = _gain(world, current[-1], 1.00099)
        if world.attempt("7 gain, split, gain again", gain, steps).outcome == "refused":
            return
        holder, other = other, holder


def _assay_creep(world: World, trader: str, lot_id: str) -> None:
    """Ten assays, each 0.19 % above the last: inside any one lab's tolerance."""
    for _ in range(10):
        lot = lots.get_lot(world.session, lot_id)
        fineness = min(10_000, round(lot.fineness * 1.0019))
        world.attempt(
            "7 assay creep inside lab tolerance",
            fine_mg(lot.mass_mg, fineness) - fine_mg(lot.mass_mg, lot.fineness),
            partial(
                world.call,
                lots.assay_lot,
                actor=trader,
                lot_id=lot_id,
                fineness=fineness,
                occurred_at=instant(world.today, 15),
            ),
        )


def _heavier_receipt(world: World, lot_id: str, sender: str, recipient: str) -> None:
    """Uncertified gold slipped into the bag between two weighings: the receipt is 2 % heavier."""
    world.attempt(
        "7 one receipt 2 % heavier",
        _gain(world, lot_id, 1.02),
        lambda: move(world, sender, lot_id, recipient, 1.02),
    )


def _split_creating_gold(world: World, trader: str, lot_id: str) -> None:
    lot = lots.get_lot(world.session, lot_id)
    half = lot.mass_mg * 101 // 200
    parts = [OutputSpec(id="", form="dore", mass_mg=half, fineness=lot.fineness)] * 2
    world.attempt(
        "7 split that creates fine gold",
        fine_mg(2 * half, lot.fineness) - fine_mg(lot.mass_mg, lot.fineness),
        lambda: transform(world, trader, "split", [lot_id], parts),
    )


def _ore(world: World, trader: str) -> Plan:
    """Ore registered at 1 per mille (10 g of the mine's capacity), then worth 300 per mille."""
    mine = rogue_mine(world, "mineral", miners=60, capacity_g=6_900)
    ore = {"form": "ore", "fineness": 10, "mass": 10_000_000}

    def assayed() -> None:
        lot_id = register(world, mine, 10_000, **ore)  # type: ignore[arg-type]
        world.call(
            lots.assay_lot,
            actor=mine,
            lot_id=lot_id,
            fineness=3_000,
            occurred_at=instant(world.today, 15),
        )
        sell(world, mine, lot_id, trader)

    def received() -> None:
        lot_id = register(world, mine, 10_000, **ore)  # type: ignore[arg-type]
        sell(world, mine, lot_id, trader, receive=False)
        receipt(world, trader, lot_id, fineness=3_000)

    def melted_then_assayed() -> None:
        # Once something is made of the lot, a gain is no longer the mine's: it is unattributed.
        lot_id = register(world, mine, 10_000, **ore)  # type: ignore[arg-type]
        sell(world, mine, lot_id, trader)
        lot = lots.get_lot(world.session, lot_id)
        out = OutputSpec(id="", form="ore", mass_mg=lot.mass_mg * 999 // 1000, fineness=10)
        (melted,) = transform(world, trader, "melt", [lot_id], [out])
        world.call(
            lots.assay_lot,
            actor=trader,
            lot_id=melted,
            fineness=3_000,
            occurred_at=instant(world.today, 19),
        )

    return [
        (80, _attempt(world, "7 ore at 1 per mille assayed to 300", 2_990_000, assayed)),
        (180, _attempt(world, "7 ore at 1 per mille assayed to 300", 2_990_000, assayed)),
        (110, _attempt(world, "7 ore at 1 per mille received at 300", 2_990_000, received)),
        (210, _attempt(world, "7 ore at 1 per mille received at 300", 2_990_000, received)),
        (125, _attempt(world, MELTED_ORE, 2_990_000, melted_then_assayed)),
        (225, _attempt(world, MELTED_ORE, 2_990_000, melted_then_assayed)),
    ]


MELTED_ORE = "7 ore at 1 per mille melted, then assayed to 300"


def _uncertified(world: World, supply: Callable[[int, list[str]], str | None], trader: str) -> Plan:
    """A trader melts uncertified gold together with Fairmined gold and calls the bar Fairmined."""
    mine = rogue_mine(world, "informal", miners=50, capacity_g=5_700, category=None)

    def step() -> None:
        def bought() -> str:
            lot_id = register(world, mine, 2_000_000, category="none")
            sell(world, mine, lot_id, trader)
            return lot_id

        dirty = world.setup("uncertified", bought)
        clean = supply(3_000_000, [trader])
        if dirty is None or clean is None:
            return
        rows = [lots.get_lot(world.session, i) for i in (dirty, clean)]
        mass = sum(r.mass_mg for r in rows)
        fineness = sum(fine_mg(r.mass_mg, r.fineness) for r in rows) * 10_000 // mass
        out = OutputSpec(id="", form="dore", mass_mg=mass, fineness=fineness, category="fairmined")
        world.attempt(
            "7 uncertified gold merged as certified",
            fine_of(world, dirty),
            lambda: transform(world, trader, "merge", [dirty, clean], [out]),
        )

    return [(140 + 60 * k, step) for k in range(3)]


def _unauthorized(world: World, supplier: str) -> Plan:
    buyer = world.onboard(
        id="rogue-comprador", name="Acopiador sin autorización (ficticio)", kind="trader"
    )

    def step() -> None:
        world.attempt(
            "7 sale to an unauthorized buyer",
            2_000_000,
            lambda: sell(world, supplier, register(world, supplier, 2_000_000), buyer),
        )

    return [(95, step), (195, step)]


def _certificates(
    world: World, supply: Callable[[int, list[str]], str | None], trader: str, refiner: str
) -> Plan:
    """A refiner's 1 kg bar: certified three times, or melted and certified again."""

    def bar() -> tuple[str, str] | None:
        lot_id = supply(1_010_000, [trader, refiner])
        if lot_id is None:
            return None

        def steps() -> tuple[str, str]:
            fine = fine_of(world, lot_id) * 992 // 1000
            spec = OutputSpec(id="", form="bar", mass_mg=fine * 10_000 // GRAIN, fineness=GRAIN)
            (made,) = transform(world, refiner, "refine", [lot_id], [spec])
            return made, issue(made)

        return world.setup("certified bar", steps)  # type: ignore[no-any-return]

    def issue(lot_id: str) -> str:
        row = world.call(certificates.issue, actor=refiner, lot_id=lot_id, description="Barra 1 kg")
        return str(row.id)

    def several() -> None:
        made = bar()
        if made is not None:
            for _ in range(2):
                world.attempt(
                    "4 several certificates for one bar",
                    fine_of(world, made[0]),
                    lambda: issue(made[0]),
                )

    def outlived() -> None:
        made = bar()
        if made is None:
            return
        old_lot, old_cert = made

        def steps() -> tuple[str, str] | None:
            lot = lots.get_lot(world.session, old_lot)
            spec = OutputSpec(
                id="", form="bar", mass_mg=lot.mass_mg * 9995 // 10_000, fineness=GRAIN
            )
            (melted,) = transform(world, refiner, "melt", [old_lot], [spec])
            issue(melted)
            verdict = certificates.public_view(world.session, world.ctx, old_cert)["verdict"]
            return None if verdict == "valid" else ("refused", f"old certificate {verdict}")

        world.attempt("4 certificate outlives its melted bar", fine_of(world, old_lot), steps)

    return [(130, several), (260, several), (140, outlived), (270, outlived)]


def _attempt(world: World, method: str, illegal_mg: int, steps: Callable[[], object]) -> Step:
    def step() -> None:
        world.attempt(method, illegal_mg, steps)

    return step
