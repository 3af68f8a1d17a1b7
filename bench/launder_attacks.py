"""Laundering at the mine: what a certified insider tries with capacity, dates, pickers, identities,
prices and duplicates (issue 14, "What got through", 1-3, 5 and 6), each attempt through the services.

``prepare`` onboards the attackers (inside the chain's set-up transaction) and returns the attempts
as (day of the year, step) pairs; each step runs its attempts through ``World.attempt``, which says
what became of their illegal fine gold. ``launder_gains`` holds the attempts downstream of the mine.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from goldtrace.domain.quantities import fine_mg
from goldtrace.services import lots, premiums, registry
from launder_world import World, instant, ruc
from launder_year import Chain, register_picker

Step = Callable[[], None]
Plan = list[tuple[int, Step]]

# Every method, in the table's order. Those marked True stay inside every declared limit and every
# tolerance: the first mile (a false capacity, a picker who sells more than she picks, a copy of a
# lot that is no longer a copy), a scale that always reads a little high, books that show a little
# less loss than the furnace. No rule over one event can tell them from honest work; only risk
# signals over many can point at them.
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
    ("7 +0.099 % receipts, 40 times", False),
    ("7 gain, split, gain again", False),
    ("7 ore at 1 per mille assayed to 300", False),
    ("7 ore at 1 per mille received at 300", False),
    ("7 assay creep inside lab tolerance", False),
    ("7 one receipt 2 % heavier", False),
    ("7 uncertified gold merged as certified", False),
    ("7 split that creates fine gold", False),
    ("7 sale to an unauthorized buyer", False),
    ("1 inflated capacity (400 miners)", True),
    ("1 just under capacity every month", True),
    ("3 pickers at the ceiling every month", True),
    ("1 related mines, each under its cap", True),
    ("6 same production twice (1 mg lighter)", True),
    ("6 refining with 0.1 % loss (topped up)", True),
    ("7 +0.099 % once on each of many lots", True),
)
DORE = 9_000


def labels() -> list[str]:
    """Every method's label, in the table's order."""
    return [label for label, _ in METHODS]


def first_mile() -> set[str]:
    """The methods only risk signals can point at."""
    return {label for label, first in METHODS if first}


# -- what the attackers do, each a plain service call ------------------------------------------


def rogue_mine(
    world: World,
    name: str,
    *,
    miners: int | None,
    capacity_g: int | None,
    region: str = "Madre de Dios",
    ruc_number: str | None = None,
    category: str | None = "fairmined",
    pickers: bool = False,
) -> str:
    """Onboard (and certify) a mine an attacker runs; return its id."""
    fields: dict[str, object] = {
        "id": f"rogue-{name}",
        "name": f"Minera {name.title()} (ficticia)",
        "kind": "mine",
        "region": region,
        "ruc": ruc_number or ruc("20", 70_000_000 + world.next_serial()),
        "committee": f"Comité {name}",
    }
    if miners is not None:
        fields["miners"] = miners
    if capacity_g is not None:
        fields["capacity_mg_month"] = capacity_g * 1000
    if pickers:
        fields["pickers"] = True
    mine = world.onboard(**fields)
    if category is not None:
        world.certify(mine, category)
    return mine


def register(
    world: World,
    mine: str,
    fine: int,
    *,
    produced_on: date | None = None,
    fineness: int = DORE,
    category: str = "fairmined",
    form: str = "dore",
    reference: str | None = None,
    picker: str | None = None,
    mass: int | None = None,
) -> str:
    """The mine registers a lot of ``fine`` mg of fine gold produced two days ago; its id."""
    written = world.call(
        lots.register_lot,
        actor=mine,
        form=form,
        mass_mg=mass if mass is not None else fine * 10_000 // fineness + 1,
        fineness=fineness,
        category=category,
        produced_on=produced_on or world.today - timedelta(days=2),
        reference=reference or f"{mine}-{world.next_serial()}",
        picker=picker,
        occurred_at=instant(world.today, 14),
    )
    return str(written.lots[0].id)


def sell(
    world: World,
    mine: str,
    lot_id: str,
    buyer: str,
    *,
    price: int | None = None,
    reference: int | None = None,
    receive: bool = True,
) -> None:
    """The mine's first sale (at 97 % of the recorded reference unless told), and its receipt."""
    recorded = premiums.reference_micro_on(world.session, world.today)
    reference = reference if reference is not None else recorded
    assert reference is not None
    world.call(
        lots.dispatch_lot,
        actor=mine,
        lot_id=lot_id,
        to=buyer,
        price=price if price is not None else reference * 97 // 100,
        reference_price=reference,
        occurred_at=instant(world.today, 16),
    )
    if receive:
        receipt(world, buyer, lot_id)


def receipt(
    world: World, actor: str, lot_id: str, *, factor: float = 1.0, fineness: int | None = None
) -> None:
    """``actor`` receives a lot, weighed at ``factor`` times its mass."""
    lot = lots.get_lot(world.session, lot_id)
    world.call(
        lots.receive_lot,
        actor=actor,
        lot_id=lot_id,
        mass_mg=round(lot.mass_mg * factor),
        fineness=fineness,
        occurred_at=instant(world.today, 17),
    )


def produce_and_sell(world: World, mine: str, fine: int, buyer: str, **kwargs: object) -> str:
    """Register a lot and sell it; its id."""
    lot_id = register(world, mine, fine, **kwargs)  # type: ignore[arg-type]
    sell(world, mine, lot_id, buyer)
    return lot_id


# -- the methods --------------------------------------------------------------------------------


def prepare(world: World, chain: Chain) -> Plan:
    """Onboard the attackers; return every attempt at the mine, by day of the year."""
    buyer = chain.traders[0]
    plan: Plan = []
    plan += _capacity(world, buyer)
    plan += _dates(world, buyer)
    plan += _pickers(world, chain)
    plan += _prices(world, buyer)
    plan += _duplicates(world, buyer)
    return plan


def _capacity(world: World, buyer: str) -> Plan:
    plan: Plan = []

    def no_capacity() -> None:
        mine = rogue_mine(world, "sin-capacidad", miners=None, capacity_g=None)
        for _ in range(4):
            produce_and_sell(world, mine, 5_000_000, buyer)

    plan.append((40, lambda: _one(world, "1 no capacity declared", 20_000_000, no_capacity)))

    shared = ruc("20", 71_000_001)
    rogue_mine(world, "ruc-1", miners=100, capacity_g=11_500, ruc_number=shared)

    def borrowed(k: int) -> Step:
        def steps() -> None:
            mine = rogue_mine(world, f"ruc-{k}", miners=100, capacity_g=11_500, ruc_number=shared)
            produce_and_sell(world, mine, 11_000_000, buyer)

        return lambda: _one(world, "1 five mines, one RUC", 11_000_000, steps)

    plan += [(58 + k, borrowed(k)) for k in range(2, 6)]

    def bad_ruc() -> None:
        good = ruc("20", 71_000_777)
        wrong = good[:-1] + str((int(good[-1]) + 3) % 10)
        mine = rogue_mine(world, "ruc-falso", miners=120, capacity_g=13_000, ruc_number=wrong)
        produce_and_sell(world, mine, 5_000_000, buyer)

    plan.append((65, lambda: _one(world, "1 RUC with a wrong check digit", 5_000_000, bad_ruc)))

    small = rogue_mine(world, "lotes-chicos", miners=40, capacity_g=4_600)

    def many_small() -> None:
        world.setup("many small", lambda: [register(world, small, 100_000) for _ in range(46)])
        for _ in range(40):
            _one(
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
            _varied(
                world, "1 inflated capacity (400 miners)", 11_000_000, 480_000, inflated, buyer
            ),
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
            _varied(world, "1 just under capacity every month", lot, honest, topped, buyer),
        )
        for k in range(33)
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
            _varied(world, "1 related mines, each under its cap", 9_500_000, 0, m, buyer),
        )
        for month in range(3)
        for m in related[1:]
    ]
    return plan


def _dates(world: World, buyer: str) -> Plan:
    plan: Plan = []
    dated = rogue_mine(world, "fechas", miners=200, capacity_g=23_000)
    for k in range(3):
        plan.append(
            (
                330 + k,
                _each(
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
            _one(
                world,
                "2 banking past windows (backdated)",
                5_000_000,
                lambda b=back: produce_and_sell(
                    world, banker, 5_000_000, buyer, produced_on=world.today - timedelta(days=b)
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
            _one(
                world,
                "2 first sale after withdrawal",
                2_000_000,
                lambda i=lot_id: sell(world, withdrawn, i, buyer),
            )

    plan.append((withdrawn_on - 3, before_withdrawal))
    plan.append((withdrawn_on, lambda: world.setup("withdrawal", withdraw)))
    plan.append((withdrawn_on + 2, sell_held))
    for back in (15, 10, 5):
        plan.append(
            (
                withdrawn_on + 5,
                _each(
                    world,
                    "2 produced before withdrawal, sold after",
                    2_500_000,
                    lambda b=back: produce_and_sell(
                        world, withdrawn, 2_500_000, buyer, produced_on=world.day(withdrawn_on - b)
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
                _each(
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


def _pickers(world: World, chain: Chain) -> Plan:
    plan: Plan = []
    assoc, buyer = chain.association, chain.association_trader
    ceiling = 66_000

    def picked(picker: str | None, fine: int = ceiling, mine: str = assoc) -> Step:
        return lambda: produce_and_sell(world, mine, fine, buyer, picker=picker, fineness=8_500)

    plan += [
        (200, _each(world, "3 made-up picker ids", ceiling, picked(f"DNI:{49_000_001 + k}")))
        for k in range(20)
    ]
    number = chain.pickers[0].id.rsplit(":", 1)[-1]
    variants = (f"{number} ", f"DNI{number}", f"0{number}", f"dni:{number}", f"DNI: {number}")
    plan += [
        (210, _each(world, "3 one picker, variant spellings", ceiling, picked(v))) for v in variants
    ]
    plan += [
        (220, _each(world, "3 association lot naming no picker", ceiling, picked(None)))
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
                _each(
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
        (150 + 20 * k, _each(world, "3 picker past her registration", 50_000, picked(gone, 50_000)))
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
            _varied(
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


def _prices(world: World, buyer: str) -> Plan:
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

        return lambda: _one(world, "5 own trader (same RUC), fake reference", 3_000_000, steps)

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
            _each(world, "5 stated reference far below recorded", 3_000_000, low_reference),
        )
        for k in range(3)
    ]
    return plan


def _duplicates(world: World, buyer: str) -> Plan:
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
        again = {
            DUPLICATES[0]: {"reference": reference, "mass": mass},
            DUPLICATES[1]: {"mass": mass},
            DUPLICATES[2]: {"mass": mass - 1},
        }[label]
        _one(
            world,
            label,
            fine_mg(mass, DORE),
            lambda: produce_and_sell(world, mine, 0, buyer, produced_on=produced, **again),
        )

    for k in range(3):
        for n, label in enumerate(DUPLICATES):
            # Every original of its own mass, so that only its own copy can look like it.
            mass = 1_500_000 * 10_000 // DORE + 7_777 * (3 * k + n)
            plan.append((120 + 30 * k + 3 * n, lambda m=label, g=mass: twice(m, g)))
    return plan


DUPLICATES = (
    "6 same production twice (same reference)",
    "6 same production twice (new reference)",
    "6 same production twice (1 mg lighter)",
)


def _one(world: World, method: str, illegal_mg: int, steps: Callable[[], object]) -> None:
    world.attempt(method, illegal_mg, steps)


def _each(world: World, method: str, illegal_mg: int, steps: Callable[[], object]) -> Step:
    return lambda: _one(world, method, illegal_mg, steps)


def _varied(
    world: World,
    method: str,
    fine: int,
    honest: int,
    mine: str,
    buyer: str,
    picker: str | None = None,
) -> Step:
    """An attempt to register and sell up to ``fine`` mg (0-4 % less each time), of which only
    ``honest`` mg were really produced."""

    def step() -> None:
        varied = int(fine * world.attack_rng.uniform(0.96, 1.0))
        fineness = DORE if picker is None else 8_500
        world.attempt(
            method,
            varied - honest,
            lambda: produce_and_sell(world, mine, varied, buyer, picker=picker, fineness=fineness),
        )

    return step
