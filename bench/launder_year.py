"""The legitimate year of the laundering simulator, day by day.

Mines register their doré a few days after production and sell it the same day to their trader at
96-99 % of the standard body's reference price (recorded every week). The association of
pallaqueras registers each picker's small lots under her registered id and sells them weekly.
Traders weigh what they receive (a few hundredths of a percent off, both ways), have a third of it
assayed (within 0.2 % of the mine's estimate), melt a week's lots together (a small loss) and ship
them to a refiner, which assays, refines (0.5-1.5 % lost) and splits the grain for the jewelers, who
make 18-carat pieces and certify some. Traders pay the premium they owe every month; committees
invest part of it every quarter.
"""

from __future__ import annotations

from datetime import date, timedelta

from goldtrace.domain.lots import OutputSpec
from goldtrace.domain.premiums import INVESTMENT_CATEGORIES
from goldtrace.domain.quantities import fine_mg
from goldtrace.services import certificates, lots, premiums
from launder_chain import GRAIN, INVESTMENTS, KARAT_18, Chain, Mine, Picker, change_capacities
from launder_world import World, instant


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
        occurred_at=instant(world.today, 16),
    )


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
        occurred_at=instant(world.today, 14),
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
        occurred_at=instant(world.today, 13),
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
        occurred_at=instant(world.today, 17),
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
        occurred_at=instant(world.today, 14),
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
                occurred_at=instant(world.today, 15),
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
        occurred_at=instant(world.today, 18),
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
            occurred_at=instant(world.today, 15),
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
        occurred_at=instant(world.today, 16),
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
        occurred_at=instant(world.today, 17),
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
        occurred_at=instant(world.today, 18),
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
