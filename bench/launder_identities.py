"""Laundering through people, identities, prices and duplicates (issue 14, "What got through", 3, 5
and 6): invented or misspelled pickers, a picker in two associations or past her registration, a
picker at the ceiling every month; a trader of the mine's own RUC at a fake reference price, a low
stated reference; the same production registered twice."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from goldtrace.domain.quantities import fine_mg
from goldtrace.services import premiums, registry
from launder_chain import Chain, register_picker
from launder_rogues import (
    DORE,
    Plan,
    Step,
    each,
    once,
    produce_and_sell,
    register,
    rogue_mine,
    sell,
    varied,
)
from launder_world import World, ruc


def pickers(world: World, chain: Chain) -> Plan:
    plan: Plan = []
    assoc, buyer = chain.association, chain.association_trader
    ceiling = 66_000

    def picked(picker: str | None, fine: int = ceiling, mine: str = assoc) -> Step:
        return lambda: produce_and_sell(world, mine, fine, buyer, picker=picker, fineness=8_500)

    plan += [
        (200, each(world, "3 made-up picker ids", ceiling, picked(f"DNI:{49_000_001 + k}")))
        for k in range(20)
    ]
    number = chain.pickers[0].id.rsplit(":", 1)[-1]
    variants = (f"{number} ", f"DNI{number}", f"0{number}", f"dni:{number}", f"DNI: {number}")
    plan += [
        (210, each(world, "3 one picker, variant spellings", ceiling, picked(v))) for v in variants
    ]
    plan += [
        (220, each(world, "3 association lot naming no picker", ceiling, picked(None)))
        for _ in range(5)
    ]

    second = rogue_mine(
        world, "pallaqueras-2", miners=50, capacity_g=50 * 66, region="Puno", pickers=True
    )
    # Three pickers of the first association, each registered with the second one too, sell
    # 50 g through the first and, the next day, 50 g through the second.
    both = [
        register_picker(world, 41_800_001 + k, f"Pallaquera doble {k + 1}", assoc) for k in range(3)
    ]
    for person in both:
        register_picker(world, int(person.rsplit(":", 1)[-1]), "Pallaquera doble", second)

    def first_half(person: str) -> Step:
        return lambda: world.setup("first association", picked(person, 50_000))

    for k, person in enumerate(both):
        plan.append((230 + 30 * k, first_half(person)))
        plan.append(
            (
                231 + 30 * k,
                each(
                    world,
                    "3 one picker through two associations",
                    50_000,
                    picked(person, 50_000, second),
                ),
            )
        )

    gone = world.call(
        registry.register_picker,
        actor=world.body,
        id_type="DNI",
        number="41999001",
        name="Pallaquera que dejó la asociación",
        association=assoc,
        valid_from=world.start - timedelta(days=30),
        valid_until=world.day(100),
    ).person_id
    plan += [
        (150 + 20 * k, each(world, "3 picker past her registration", 50_000, picked(gone, 50_000)))
        for k in range(2)
    ]

    at_ceiling = [
        register_picker(world, 41_900_001 + k, f"Pallaquera al tope {k + 1}", assoc)
        for k in range(5)
    ]
    world.suspects |= dict.fromkeys(at_ceiling, "3 pickers at the ceiling every month")
    # She really picks about 15 g a month; she registers 62-65 g, every month.
    plan += [
        (
            5 + 30 * month,
            varied(
                world,
                "3 pickers at the ceiling every month",
                65_000,
                15_000,
                assoc,
                buyer,
                picker=p,
            ),
        )
        for month in range(12)
        for p in at_ceiling
    ]
    return plan


def prices(world: World, buyer: str) -> Plan:
    plan: Plan = []
    owner = ruc("20", 71_000_555)
    seller = rogue_mine(world, "precio", miners=80, capacity_g=9_000, ruc_number=owner)

    def own_trader(k: int) -> Step:
        def steps() -> None:
            trader = world.onboard(
                id=f"rogue-trader-{k}",
                name="Comercial Propia (ficticia)",
                kind="trader",
                region="Madre de Dios",
                ruc=owner,
                authorize="supplier",
            )
            lot_id = register(world, seller, 3_000_000)
            sell(world, seller, lot_id, trader, price=9_600_000, reference=10_000_000)

        return lambda: once(world, "5 own trader (same RUC), fake reference", 3_000_000, steps)

    plan += [(90 + 30 * k, own_trader(k)) for k in range(3)]

    def low_reference() -> None:
        recorded = premiums.reference_micro_on(world.session, world.today)
        assert recorded is not None
        lot_id = register(world, seller, 3_000_000)
        sell(
            world,
            seller,
            lot_id,
            buyer,
            price=recorded * 60 * 96 // 10_000,
            reference=recorded * 60 // 100,
        )

    plan += [
        (
            100 + 30 * k,
            each(world, "5 stated reference far below recorded", 3_000_000, low_reference),
        )
        for k in range(3)
    ]
    return plan


def duplicates(world: World, buyer: str) -> Plan:
    """The same production registered again: same reference, a new one, or 1 mg lighter too."""
    plan: Plan = []
    mine = rogue_mine(world, "duplicada", miners=100, capacity_g=11_000)
    world.suspects[mine] = "6 same production twice (1 mg lighter)"

    def twice(label: str, mass: int) -> None:
        reference = f"{mine}-{world.today.isoformat()}"
        produced = world.today - timedelta(days=3)
        original = world.setup(
            "original",
            lambda: produce_and_sell(
                world, mine, 0, buyer, produced_on=produced, reference=reference, mass=mass
            ),
        )
        if original is None:
            return
        same_reference = reference if label == DUPLICATES[0] else None
        copy = mass - 1 if label == DUPLICATES[2] else mass
        once(
            world,
            label,
            fine_mg(mass, DORE),
            lambda: produce_and_sell(
                world, mine, 0, buyer, produced_on=produced, reference=same_reference, mass=copy
            ),
        )

    for k in range(3):
        for n, label in enumerate(DUPLICATES):
            # Every original of its own mass, so that only its own copy can look like it.
            mass = 1_500_000 * 10_000 // DORE + 7_777 * (3 * k + n)
            plan.append((120 + 30 * k + 3 * n, partial(twice, label, mass)))
    return plan


DUPLICATES = (
    "6 same production twice (same reference)",
    "6 same production twice (new reference)",
    "6 same production twice (1 mg lighter)",
)
