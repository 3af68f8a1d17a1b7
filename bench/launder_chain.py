"""The legitimate chain of the laundering simulator and its plan for the year.

45 mines (by default) in Puno, Arequipa and Madre de Dios, 15 to 450 miners (many small), each with a
declared capacity a little below the 4 g/miner/day ceiling and a production plan at 40-85 % of it with
monthly variation; an association of registered pallaqueras; 8 traders, 3 refiners and 20 jewelers,
onboarded, certified and authorized by the standard body. ``launder_year`` lives the year.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from random import Random

from goldtrace.domain.quantities import fine_mg
from goldtrace.services import registry
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
    for by_production, day in ((True, produced), (False, registered)):
        dated = [(m[0] if by_production else m[1], m[2]) for m in near]
        for offset in range(30):
            start = day - timedelta(days=offset)
            used = sum(mg for d, mg in dated if start <= d <= start + timedelta(days=29))
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
