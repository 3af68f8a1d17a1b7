"""What a laundering attacker does, each a plain service call: onboard a mine of its own, register,
sell and receive lots; and the steps that run an attempt through ``World.attempt``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from goldtrace.services import lots, premiums
from launder_world import World, instant, ruc

Step = Callable[[], object]
Plan = list[tuple[int, Step]]
DORE = 9_000


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
    fields: dict[str, Any] = {
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


def once(world: World, method: str, illegal_mg: int, steps: Callable[[], object]) -> None:
    """Run one attempt now."""
    world.attempt(method, illegal_mg, steps)


def each(world: World, method: str, illegal_mg: int, steps: Callable[[], object]) -> Step:
    """A step that runs one attempt when its day comes."""
    return lambda: once(world, method, illegal_mg, steps)


def varied(
    world: World,
    method: str,
    fine: int,
    honest: int,
    mine: str,
    buyer: str,
    picker: str | None = None,
    late_days: int = 2,
) -> Step:
    """An attempt to register and sell up to ``fine`` mg (0-4 % less each time), produced
    ``late_days`` before, of which only ``honest`` mg were really produced."""

    def step() -> None:
        varied = int(fine * world.attack_rng.uniform(0.96, 1.0))
        fineness = DORE if picker is None else 8_500
        produced = world.today - timedelta(days=late_days)
        world.attempt(
            method,
            varied - honest,
            lambda: produce_and_sell(
                world, mine, varied, buyer, picker=picker, fineness=fineness, produced_on=produced
            ),
        )

    return step
