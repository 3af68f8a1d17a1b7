"""Laundering through a mine's capacity and dates (issue 14, "What got through", 1 and 2): no
capacity, borrowed and false RUCs, lots cut small, a false capacity, a mine filled to just under its
limit every month, related mines; production dated in the future, in past windows, around a
certificate's withdrawal or an ecological certificate's lapse."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from goldtrace.services import registry
from launder_rogues import (
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


def capacity(world: World, buyer: str) -> Plan:
    plan: Plan = []

    def no_capacity() -> None:
        mine = rogue_mine(world, "sin-capacidad", miners=None, capacity_g=None)
        for _ in range(4):
            produce_and_sell(world, mine, 5_000_000, buyer)

    plan.append((40, lambda: once(world, "1 no capacity declared", 20_000_000, no_capacity)))

    shared = ruc("20", 71_000_001)
    rogue_mine(world, "ruc-1", miners=100, capacity_g=11_500, ruc_number=shared)

    def borrowed(k: int) -> Step:
        def steps() -> None:
            mine = rogue_mine(world, f"ruc-{k}", miners=100, capacity_g=11_500, ruc_number=shared)
            produce_and_sell(world, mine, 11_000_000, buyer)

        return lambda: once(world, "1 five mines, one RUC", 11_000_000, steps)

    plan += [(58 + k, borrowed(k)) for k in range(2, 6)]

    def bad_ruc() -> None:
        good = ruc("20", 71_000_777)
        wrong = good[:-1] + str((int(good[-1]) + 3) % 10)
        mine = rogue_mine(world, "ruc-falso", miners=120, capacity_g=13_000, ruc_number=wrong)
        produce_and_sell(world, mine, 5_000_000, buyer)

    plan.append((65, lambda: once(world, "1 RUC with a wrong check digit", 5_000_000, bad_ruc)))

    small = rogue_mine(world, "lotes-chicos", miners=40, capacity_g=4_600)

    def many_small() -> None:
        world.setup("many small", lambda: [register(world, small, 100_000) for _ in range(46)])
        for _ in range(40):
            once(
                world,
                "1 many small lots past capacity",
                100_000,
                lambda: register(world, small, 100_000),
            )

    plan.append((150, many_small))

    # A careful launderer never registers two look-alike lots: each lot is a little lighter.
    inflated = rogue_mine(world, "inflada", miners=400, capacity_g=47_500)
    world.suspects[inflated] = "1 inflated capacity (400 miners)"
    # It really has 30 miners at 2 g a day: 480 g in eight days of the 11 kg it registers.
    plan += [
        (
            100 + 8 * k,
            varied(world, "1 inflated capacity (400 miners)", 11_000_000, 480_000, inflated, buyer),
        )
        for k in range(10)
    ]

    topped = rogue_mine(world, "al-tope", miners=120, capacity_g=13_500)
    world.suspects[topped] = "1 just under capacity every month"
    # Every ten days a third of 99 % of its capacity, of which half its capacity is real production.
    lot, honest = 13_500_000 * 99 // 300, 13_500_000 // 2 // 3
    plan += [
        (
            20 + 10 * k,
            varied(world, "1 just under capacity every month", lot, honest, topped, buyer),
        )
        for k in range(33)
    ]

    late = rogue_mine(world, "tardia", miners=100, capacity_g=11_000)
    world.suspects[late] = LATE
    # The same, every lot dated 28 days before it is registered: gold bought since is dated back.
    plan += [
        (
            40 + 10 * k,
            varied(world, LATE, 11_000_000 * 95 // 300, 11_000_000 // 6, late, buyer, late_days=28),
        )
        for k in range(30)
    ]

    related = [rogue_mine(world, f"grupo-{k}", miners=90, capacity_g=10_000) for k in range(1, 6)]
    world.suspects |= dict.fromkeys(related, "1 related mines, each under its cap")
    world.call(
        registry.record_group,
        actor=world.body,
        name="Grupo Minero Familiar (ficticio)",
        members=related,
        reason="mismo propietario (declaración jurada)",
    )
    # One owner, five certified mines, the real output of one: four of them register borrowed gold.
    plan += [
        (
            200 + 30 * month,
            varied(world, "1 related mines, each under its cap", 9_500_000, 0, m, buyer),
        )
        for month in range(3)
        for m in related[1:]
    ]
    return plan


def dates(world: World, buyer: str) -> Plan:
    plan: Plan = []
    dated = rogue_mine(world, "fechas", miners=200, capacity_g=23_000)
    for k in range(3):
        plan.append(
            (
                330 + k,
                each(
                    world,
                    "2 produced_on in the future",
                    3_000_000,
                    lambda: produce_and_sell(
                        world, dated, 3_000_000, buyer, produced_on=world.today + timedelta(days=90)
                    ),
                ),
            )
        )

    banker = rogue_mine(world, "banco", miners=150, capacity_g=17_000)

    def banking() -> None:
        for back in range(330, 179, -30):
            once(
                world,
                "2 banking past windows (backdated)",
                5_000_000,
                partial(
                    produce_and_sell,
                    world,
                    banker,
                    5_000_000,
                    buyer,
                    produced_on=world.today - timedelta(days=back),
                ),
            )

    plan.append((340, banking))

    withdrawn_on = 320
    withdrawn = rogue_mine(world, "retirada", miners=100, capacity_g=11_000, category=None)
    number = world.certify(withdrawn)

    def withdraw() -> None:
        world.call(
            registry.change_certification_status,
            actor=world.body,
            number=number,
            status="withdrawn",
            effective_on=world.today,
        )

    held: list[str] = []

    def before_withdrawal() -> None:
        lot_id = world.setup("before withdrawal", lambda: register(world, withdrawn, 2_000_000))
        if lot_id is not None:
            held.append(lot_id)

    def sell_held() -> None:
        for lot_id in held:
            once(
                world,
                "2 first sale after withdrawal",
                2_000_000,
                partial(sell, world, withdrawn, lot_id, buyer),
            )

    plan.append((withdrawn_on - 3, before_withdrawal))
    plan.append((withdrawn_on, lambda: world.setup("withdrawal", withdraw)))
    plan.append((withdrawn_on + 2, sell_held))
    for back in (15, 10, 5):
        plan.append(
            (
                withdrawn_on + 5,
                each(
                    world,
                    "2 produced before withdrawal, sold after",
                    2_500_000,
                    partial(
                        produce_and_sell,
                        world,
                        withdrawn,
                        2_500_000,
                        buyer,
                        produced_on=world.day(withdrawn_on - back),
                    ),
                ),
            )
        )

    lapsed_on = 300
    eco = rogue_mine(world, "eco", miners=80, capacity_g=9_000, region="Puno", category=None)
    world.certify(eco, "fairmined_ecological", valid_until=world.day(lapsed_on))
    world.certify(eco, "fairmined", valid_from=world.day(lapsed_on + 1))
    for _ in range(3):
        plan.append(
            (
                lapsed_on + 20,
                each(
                    world,
                    "2 ecological backdated into lapsed cert",
                    2_000_000,
                    lambda: produce_and_sell(
                        world,
                        eco,
                        2_000_000,
                        buyer,
                        category="fairmined_ecological",
                        produced_on=world.day(lapsed_on - 3),
                    ),
                ),
            )
        )
    return plan


LATE = "2 registered 28 days after production, always"
