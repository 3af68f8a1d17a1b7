"""The legitimate year of the laundering simulator: a Peru-scale Fairmined chain, day by day.

Mines in Puno, Arequipa and Madre de Dios (15 to 450 miners, many small) produce doré at 40-85 % of
a declared capacity a little below the 4 g/miner/day ceiling, with monthly variation, register it a
few days after production and sell it the same day to their trader at 96-99 % of the standard body's
reference price (recorded every week). An association of pallaqueras registers each picker's small
lots under her registered id and sells them weekly. Traders weigh what they receive (a few hundredths
of a percent off, both ways), have a third of it assayed (within 0.2 % of the mine's estimate), melt
a week's lots together (a small loss) and ship them to a refiner, which assays, refines (0.5-1.5 %
lost) and splits the grain for the jewelers, who make 18-carat pieces and certify some. Traders pay
the premium they owe every month; committees invest part of it every quarter.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from random import Random

from goldtrace.domain.lots import OutputSpec
from goldtrace.domain.premiums import INVESTMENT_CATEGORIES
from goldtrace.domain.quantities import fine_mg
from goldtrace.services import certificates, lots, premiums, registry
from launder_world import World, ruc

REGIONS = (("Puno", "pu", 0.40), ("Arequipa", "ar", 0.25), ("Madre de Dios", "md", 0.35))
TRADER_REGIONS = ("Puno",) * 3 + ("Arequipa",) * 2 + ("Madre de Dios",) * 3
CEILING_MG_PER_MINER_MONTH = 4_000 * 30
PICKER_CEILING_MG = 66_000
# A legitimate mine keeps every 30-day window at most this share of its capacity, so that the
# assays that raise its lots a little (counted against the window, issue 14) never push it over.
WINDOW_SHARE = 0.95
GRAIN = 9_999
KARAT_18 = 7_500
INVESTMENTS = (
    "Equipos de protección personal",
    "Campaña médica para trabajadores",
    "Ampliación del comedor",
    "Duchas con terma solar",
    "Capacitación en procesos sin mercurio",
)


@dataclass
class Mine:
    """A legitimate mine and its production plan."""

    id: str
    region: str
    miners: int
    capacity_mg: int
    category: str
    fineness: int
    period: int
    lag: int
    traders: tuple[str, ...]
    rates: tuple[float, ...]
    # (produced_on, registered_on, fine mg) of every lot, the mine's own capacity meter.
    meter: list[tuple[date, date, int]] = field(default_factory=list)


@dataclass
class Picker:
    """A registered pallaquera and what she sells in a month."""

    id: str
    monthly_mg: int


@dataclass
class Chain:
    """The organizations of the legitimate chain and the lots moving through it."""

    mines: list[Mine]
    association: str
    association_trader: str
    pickers: list[Picker]
    traders: list[str]
    refiners: list[str]
    jewelers: list[str]
    # day -> [(mine, produced_on, mass, fineness)] of registrations due that day
    due: dict[date, list[tuple[Mine, date, int, int]]] = field(default_factory=dict)
    picker_due: dict[date, list[tuple[Picker, date, int, int]]] = field(default_factory=dict)
    # day -> [(lot id, recipient)] arriving that day
    arriving: dict[date, list[tuple[str, str]]] = field(default_factory=dict)
    stock: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    association_stock: list[str] = field(default_factory=list)
    committees: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    price_cents: int = 405_000


def build(world: World, *, mines: int, pickers: int, scale: float) -> Chain:
    """Onboard, certify and authorize the legitimate chain; plan the mines' and pickers' year."""
    rng = world.rng
    traders = [
        world.onboard(
            id=f"trader-{i + 1}",
            name=f"Comercializadora de Oro {i + 1} (ficticia)",
            kind="trader",
            region=region,
            ruc=ruc("20", 60_000_000 + i),
            authorize="supplier",
        )
        for i, region in enumerate(TRADER_REGIONS)
    ]
    refiners = [
        world.onboard(
            id=f"refiner-{i + 1}",
            name=f"Refinería {name} (ficticia)",
            kind="refiner",
            region="Lima",
            ruc=ruc("20", 61_000_000 + i),
            authorize="supplier",
        )
        for i, name in enumerate(("del Pacífico", "Andina", "Callao"))
    ]
    jewelers = [
        world.onboard(
            id=f"jeweler-{i + 1:02d}",
            name=f"Joyería {i + 1} (ficticia)",
            kind="jeweler",
            region=("Puno", "Arequipa", "Lima", "Cusco")[i % 4],
            ruc=ruc("20", 62_000_000 + i),
            authorize="licensee",
        )
        for i in range(20)
    ]
    by_region = {
        r: [t for t, tr in zip(traders, TRADER_REGIONS, strict=True) if tr == r]
        for r in ("Puno", "Arequipa", "Madre de Dios")
    }
    planned = []
    for i in range(mines):
        region, code = _region(i, mines)
        miners = round(15 * 30 ** (rng.random() ** 2))
        capacity = int(miners * CEILING_MG_PER_MINER_MONTH * rng.uniform(0.80, 0.97)) // 1000 * 1000
        ecological = region == "Puno" and i % 9 == 0
        mine = Mine(
            id=f"mine-{code}-{i + 1:02d}",
            region=region,
            miners=miners,
            capacity_mg=capacity,
            category="fairmined_ecological" if ecological else "fairmined",
            fineness=rng.randrange(8_000, 9_100),
            period=max(1, round((3 if miners >= 150 else 5 if miners >= 50 else 10) * scale)),
            lag=rng.randrange(1, 5),
            traders=tuple(rng.sample(by_region[region], min(2, len(by_region[region])))),
            rates=_rates(rng),
        )
        world.onboard(
            id=mine.id,
            name=f"Minera Artesanal {mine.id[5:].upper()} (ficticia)",
            kind="mine",
            region=region,
            ruc=ruc("20", 63_000_000 + i),
            reinfo=f"REINFO-{code.upper()}-{i + 1:05d}",
            miners=miners,
            capacity_mg_month=capacity,
            committee=f"Comité de Prima {mine.id[5:].upper()}",
        )
        world.certify(mine.id, mine.category)
        planned.append(mine)
    association = world.onboard(
        id="pallaqueras-sim",
        name="Asociación de Pallaqueras (ficticia)",
        kind="mine",
        region="Puno",
        ruc=ruc("20", 64_000_000),
        # Its members, and the ten the attacks register later: each may sell 66 g a month.
        miners=pickers + 10,
        capacity_mg_month=(pickers + 10) * PICKER_CEILING_MG,
        committee="Comité de Prima de las Pallaqueras",
        pickers=True,
    )
    world.certify(association)
    registered = [
        Picker(
            id=register_picker(world, 41_000_001 + i, f"Pallaquera {i + 1}", association),
            monthly_mg=rng.randrange(5_000, 30_000),
        )
        for i in range(pickers)
    ]
    chain = Chain(
        mines=planned,
        association=association,
        association_trader=by_region["Puno"][0],
        pickers=registered,
        traders=traders,
        refiners=refiners,
        jewelers=jewelers,
    )
    for mine in planned:
        _plan_mine(world, chain, mine)
    _plan_pickers(world, chain)
    # Two mines of one owner, as the standard body records them.
    world.call(
        registry.record_group,
        actor=world.body,
        name="Familia Quispe (ficticia)",
        members=[planned[0].id, planned[1].id],
        reason="mismo propietario según la ficha RUC",
    )
    return chain


def change_capacities(world: World, chain: Chain) -> None:
    """Mid-year, the half-yearly REINFO declarations of three mines show more miners: the standard
    body records their new capacity, with the declaration's hash as evidence."""
    for mine in chain.mines[2:5]:
        miners = mine.miners + max(1, mine.miners // 10)
        world.op(
            registry.change_capacity,
            actor=world.body,
            org_id=mine.id,
            miners=miners,
            capacity_mg_month=mine.capacity_mg * miners // mine.miners // 1000 * 1000,
            effective_from=world.today,
            reason="declaración semestral REINFO",
            evidence_sha256=hashlib.sha256(f"REINFO {mine.id} {world.today}".encode()).hexdigest(),
        )


def register_picker(world: World, number: int, name: str, association: str) -> str:
    """The standard body registers a picker of ``association`` (DNI ``number``); return her id."""
    row = world.call(
        registry.register_picker,
        actor=world.body,
        id_type="DNI",
        number=str(number),
        name=name,
        association=association,
        valid_from=world.start - timedelta(days=30),
    )
    return str(row.person_id)


def _region(i: int, total: int) -> tuple[str, str]:
    edge = 0.0
    for region, code, share in REGIONS:
        edge += share
        if i < round(edge * total):
            return region, code
    return REGIONS[-1][0], REGIONS[-1][1]


def _rates(rng: Random) -> tuple[float, ...]:
    base = rng.uniform(0.50, 0.75)
    return tuple(min(0.85, max(0.40, base + rng.gauss(0, 0.08))) for _ in range(13))


def _plan_mine(world: World, chain: Chain, mine: Mine) -> None:
    """Plan a mine's lots over the year, keeping every 30-day window under its share of capacity."""
    rng = world.rng
    produced = world.day(rng.randrange(0, mine.period))
    end = world.day(365 - 6)
    while produced < end:
        month = (produced - world.start).days // 30
        # No two pours weigh or assay the same: +-8 % around the month's rate, +-1 % in fineness.
        fine = int(mine.capacity_mg * mine.rates[month] * mine.period / 30 * rng.uniform(0.92, 1.0))
        registered = produced + timedelta(days=mine.lag + rng.randrange(0, 2))
        fine = min(fine, _headroom(mine, produced, registered))
        fineness = round(mine.fineness * rng.uniform(0.99, 1.01))
        if fine >= 1_000:
            mass = fine * 10_000 // fineness + 1
            mine.meter.append((produced, registered, fine_mg(mass, fineness)))
            chain.due.setdefault(registered, []).append((mine, produced, mass, fineness))
        produced += timedelta(days=mine.period)


def _headroom(mine: Mine, produced: date, registered: date) -> int:
    """The fine gold a lot may hold so that no 30-day window (by production or by registration
    date) goes over the legitimate share of the mine's capacity."""
    allowed = int(mine.capacity_mg * WINDOW_SHARE) - 2_000
    room = allowed
    near = [m for m in mine.meter if (produced - m[0]).days < 40]
    for key, day in ((0, produced), (1, registered)):
        for offset in range(30):
            start = day - timedelta(days=offset)
            used = sum(m[2] for m in near if start <= m[key] <= start + timedelta(days=29))
            room = min(room, allowed - used)
    return max(room, 0)


def _plan_pickers(world: World, chain: Chain) -> None:
    """Each picker sells one to three small lots a month: any 30 days stay under her 66 g."""
    rng = world.rng
    for picker in chain.pickers:
        for month in range(12):
            count = rng.randrange(1, 4)
            for _ in range(count):
                produced = world.day(month * 30 + rng.randrange(0, 28))
                fineness = rng.randrange(7_800, 8_800)
                mass = int(picker.monthly_mg / count * rng.uniform(0.8, 1.0)) * 10_000 // fineness
                registered = produced + timedelta(days=rng.randrange(0, 3))
                chain.picker_due.setdefault(registered, []).append(
                    (picker, produced, mass, fineness)
                )


# -- the days ----------------------------------------------------------------------------------


def run_day(world: World, chain: Chain, offset: int) -> None:
    """Everything the legitimate chain does on day ``offset`` of the year, in one transaction."""
    today = world.today = world.day(offset)
    with world.legit_day():
        if offset % 7 == 0:
            _reference_price(world, chain)
        for lot_id, recipient in chain.arriving.pop(today, []):
            _arrive(world, chain, lot_id, recipient)
        for mine, produced, mass, fineness in chain.due.pop(today, []):
            _produce(world, chain, mine, produced, mass, fineness)
        for picker, produced, mass, fineness in chain.picker_due.pop(today, []):
            _pick(world, chain, picker, produced, mass, fineness)
        if offset == 182:
            change_capacities(world, chain)
        if offset % 7 == 3:
            _sell_association(world, chain)
        for i, trader in enumerate(chain.traders):
            if offset % 7 == i % 7:
                _ship(world, chain, trader)
        if (today + timedelta(days=1)).day == 1:
            _pay_premiums(world, chain)
            if today.month % 3 == 0:
                _invest(world, chain)


def _reference_price(world: World, chain: Chain) -> None:
    chain.price_cents = int(chain.price_cents * (1 + world.rng.gauss(0.002, 0.012)))
    world.op(
        premiums.record_reference_price,
        actor=world.body,
        day=world.today,
        cents_per_troy_oz=chain.price_cents,
    )


def first_sale(world: World, seller: str, lot_id: str, buyer: str) -> object:
    """A mine's first sale at 96-99 % of the recorded reference price."""
    reference = premiums.reference_micro_on(world.session, world.today)
    assert reference is not None
    return world.op(
        lots.dispatch_lot,
        actor=seller,
        lot_id=lot_id,
        to=buyer,
        price=int(reference * world.rng.uniform(0.96, 0.99)),
        reference_price=reference,
        occurred_at=world_instant(world, 16),
    )


def world_instant(world: World, hour: int) -> str:
    """Today's instant at ``hour`` UTC."""
    return f"{world.today.isoformat()}T{hour:02d}:00:00.000Z"


def _produce(
    world: World, chain: Chain, mine: Mine, produced: date, mass: int, fineness: int
) -> None:
    written = world.op(
        lots.register_lot,
        actor=mine.id,
        form="dore",
        mass_mg=mass,
        fineness=fineness,
        category=mine.category,
        produced_on=produced,
        reference=f"{mine.id}-{produced.isoformat()}",
        occurred_at=world_instant(world, 14),
    )
    if written is None:
        return
    lot_id = written.lots[0].id
    buyer = world.rng.choice(mine.traders) if world.rng.random() < 0.2 else mine.traders[0]
    if first_sale(world, mine.id, lot_id, buyer) is not None:
        chain.committees[buyer].add(mine.id)
        _send(world, chain, lot_id, buyer, 1)


def _pick(
    world: World, chain: Chain, picker: Picker, produced: date, mass: int, fineness: int
) -> None:
    written = world.op(
        lots.register_lot,
        actor=chain.association,
        form="dore",
        mass_mg=mass,
        fineness=fineness,
        category="fairmined",
        produced_on=produced,
        picker=picker.id,
        occurred_at=world_instant(world, 13),
    )
    if written is not None:
        chain.association_stock.append(written.lots[0].id)


def _sell_association(world: World, chain: Chain) -> None:
    """The association melts its week's picker lots into one doré and sells it."""
    held, chain.association_stock = chain.association_stock, []
    if not held:
        return
    lot_id = held[0] if len(held) == 1 else melt_together(world, chain.association, held, "merge")
    if lot_id is None:
        return
    if first_sale(world, chain.association, lot_id, chain.association_trader) is not None:
        chain.committees[chain.association_trader].add(chain.association)
        _send(world, chain, lot_id, chain.association_trader, 1)


def _send(world: World, chain: Chain, lot_id: str, to: str, days: int) -> None:
    chain.arriving.setdefault(world.today + timedelta(days=days), []).append((lot_id, to))


def dispatch(world: World, chain: Chain, sender: str, lot_id: str, to: str, days: int) -> None:
    """A later dispatch (no prices), arriving ``days`` later."""
    done = world.op(
        lots.dispatch_lot,
        actor=sender,
        lot_id=lot_id,
        to=to,
        occurred_at=world_instant(world, 17),
    )
    if done is not None:
        _send(world, chain, lot_id, to, days)


def weighed(world: World, mass: int) -> int:
    """A scale's reading of ``mass``: a few hundredths of a percent off, either way."""
    return round(mass * (1 + world.rng.uniform(-0.00035, 0.00035)))


def assayed(world: World, fineness: int, spread: float = 0.002) -> int:
    """A lab's result for a lot of ``fineness``: within ``spread`` of it, either way."""
    return min(10_000, round(fineness * (1 + world.rng.uniform(-spread, spread))))


def _arrive(world: World, chain: Chain, lot_id: str, recipient: str) -> None:
    lot = lots.get_lot(world.session, lot_id)
    done = world.op(
        lots.receive_lot,
        actor=recipient,
        lot_id=lot_id,
        mass_mg=weighed(world, lot.mass_mg),
        occurred_at=world_instant(world, 14),
    )
    if done is None:
        return
    kind = recipient.split("-", 1)[0]
    if kind == "trader":
        if world.rng.random() < 0.33:
            lot = lots.get_lot(world.session, lot_id)
            world.op(
                lots.assay_lot,
                actor=recipient,
                lot_id=lot_id,
                fineness=assayed(world, lot.fineness),
                lab="Laboratorio de Ensayes (ficticio)",
                occurred_at=world_instant(world, 15),
            )
        lot = lots.get_lot(world.session, lot_id)
        chain.stock[(recipient, lot.category)].append(lot_id)
    elif kind == "refiner":
        _refine(world, chain, recipient, lot_id)
    else:
        _manufacture(world, recipient, lot_id)


def melt_together(world: World, actor: str, inputs: list[str], kind: str) -> str | None:
    """Melt lots of one category into one doré, losing 0.02-0.1 % of the fine gold; its id."""
    rows = [lots.get_lot(world.session, i) for i in inputs]
    fine_in = sum(fine_mg(r.mass_mg, r.fineness) for r in rows)
    mass_in = sum(r.mass_mg for r in rows)
    lost = world.rng.uniform(0.0002, 0.001)
    mass = int(mass_in * (1 - lost))
    fineness = min(10_000, int(fine_in * (1 - lost) * 10_000 // mass))
    out = OutputSpec(id="", form="dore", mass_mg=mass, fineness=fineness)
    written = world.op(
        lots.transform,
        actor=actor,
        kind=kind,
        inputs=inputs,
        outputs=[out],
        occurred_at=world_instant(world, 18),
    )
    return None if written is None else str(written.lots[0].id)


def _ship(world: World, chain: Chain, trader: str) -> None:
    """A trader melts the week's lots of each category together and ships them to a refiner."""
    for category in ("fairmined", "fairmined_ecological"):
        held = chain.stock.pop((trader, category), [])
        if not held:
            continue
        lot_id = held[0] if len(held) == 1 else melt_together(world, trader, held, "merge")
        if lot_id is not None:
            refiner = world.rng.choice(chain.refiners)
            dispatch(world, chain, trader, lot_id, refiner, world.rng.randrange(1, 3))


def _refine(world: World, chain: Chain, refiner: str, lot_id: str) -> None:
    lot = lots.get_lot(world.session, lot_id)
    if (
        world.op(
            lots.assay_lot,
            actor=refiner,
            lot_id=lot_id,
            fineness=assayed(world, lot.fineness, 0.0015),
            occurred_at=world_instant(world, 15),
        )
        is None
    ):
        return
    lot = lots.get_lot(world.session, lot_id)
    fine = int(fine_mg(lot.mass_mg, lot.fineness) * (1 - world.rng.uniform(0.005, 0.015)))
    grain = OutputSpec(id="", form="grain", mass_mg=fine * 10_000 // GRAIN, fineness=GRAIN)
    refined = world.op(
        lots.transform,
        actor=refiner,
        kind="refine",
        inputs=[lot_id],
        outputs=[grain],
        occurred_at=world_instant(world, 16),
    )
    if refined is None:
        return
    grain_lot = refined.lots[0]
    parts = world.rng.randrange(2, 6)
    weights = [world.rng.uniform(1, 3) for _ in range(parts)]
    masses = [int(grain_lot.mass_mg * w / sum(weights)) for w in weights]
    masses[-1] = grain_lot.mass_mg - sum(masses[:-1])
    split = world.op(
        lots.transform,
        actor=refiner,
        kind="split",
        inputs=[grain_lot.id],
        outputs=[OutputSpec(id="", form="grain", mass_mg=m, fineness=GRAIN) for m in masses],
        occurred_at=world_instant(world, 17),
    )
    if split is None:
        return
    for part in split.lots:
        dispatch(world, chain, refiner, part.id, world.rng.choice(chain.jewelers), 2)


def _manufacture(world: World, jeweler: str, lot_id: str) -> None:
    """18-carat pieces of a grain lot, 0.1-0.3 % of its fine gold lost; the first one certified."""
    lot = lots.get_lot(world.session, lot_id)
    fine = int(fine_mg(lot.mass_mg, lot.fineness) * (1 - world.rng.uniform(0.001, 0.003)))
    total = fine * 10_000 // KARAT_18
    pieces = world.rng.randrange(2, 7)
    masses = [total // pieces] * (pieces - 1) + [total - total // pieces * (pieces - 1)]
    made = world.op(
        lots.transform,
        actor=jeweler,
        kind="manufacture",
        inputs=[lot_id],
        outputs=[
            OutputSpec(id="", form="jewelry_item", mass_mg=m, fineness=KARAT_18) for m in masses
        ],
        alloy_mass_mg=total - lot.mass_mg,
        occurred_at=world_instant(world, 18),
    )
    if made is not None and world.rng.random() < 0.5:
        world.op(
            certificates.issue,
            actor=jeweler,
            lot_id=made.lots[0].id,
            description="Anillo de oro de 18 quilates",
        )


def _pay_premiums(world: World, chain: Chain) -> None:
    """Every trader pays each committee what it owes at the end of the month."""
    for trader in chain.traders:
        for committee in sorted(chain.committees[trader]):
            owed = sum(
                o.amount_cents - o.paid_cents
                for o in premiums.open_obligations(world.session, buyer=trader, committee=committee)
            )
            if owed > 0:
                world.op(
                    premiums.pay,
                    actor=trader,
                    committee=committee,
                    amount_cents=owed,
                    paid_on=world.today,
                    method="transferencia",
                    reference=f"PAGO-{trader}-{committee}-{world.today.isoformat()}",
                )


def _invest(world: World, chain: Chain) -> None:
    """Every quarter each committee invests 60 % of its balance."""
    for committee in [m.id for m in chain.mines] + [chain.association]:
        balance = premiums.committee_totals(world.session, committee).balance_cents
        if balance > 10_000:
            world.op(
                premiums.invest,
                actor=committee,
                committee=committee,
                amount_cents=balance * 6 // 10,
                spent_on=world.today,
                category=world.rng.choice(INVESTMENT_CATEGORIES),
                description=world.rng.choice(INVESTMENTS),
            )
