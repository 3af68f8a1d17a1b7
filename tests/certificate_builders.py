"""A finished piece made through the whole chain, for certificate tests."""

from __future__ import annotations

from sqlalchemy.orm import Session

from builders import Chain, move, register, sell
from goldtrace.domain.lots import OutputSpec
from goldtrace.services import lots
from goldtrace.services.context import Context


def make_piece(session: Session, ctx: Context, chain: Chain, *, eco: bool = False) -> str:
    """Mine -> trader -> refiner (refine into a bar) -> jeweler (manufacture a ring)."""
    mine = chain.eco_mine if eco else chain.mine
    category = "fairmined_ecological" if eco else "fairmined"
    dore = register(session, ctx, mine, mass_mg=1_000_000, fineness=9_000, category=category)
    sell(session, ctx, dore, mine, chain.trader)
    move(session, ctx, dore, chain.trader, chain.refiner)
    bar = lots.transform(
        session,
        ctx,
        actor=chain.refiner,
        kind="refine",
        inputs=[dore],
        outputs=[OutputSpec(id="", form="bar", mass_mg=895_000, fineness=9_999, category=category)],
    ).lots[0]
    move(session, ctx, bar.id, chain.refiner, chain.jeweler)
    ring = lots.transform(
        session,
        ctx,
        actor=chain.jeweler,
        kind="manufacture",
        inputs=[bar.id],
        outputs=[
            OutputSpec(
                id="", form="jewelry_item", mass_mg=10_000, fineness=7_500, category=category
            ),
            OutputSpec(id="", form="scrap", mass_mg=1_170_000, fineness=7_500, category=category),
        ],
        alloy_mass_mg=300_000,
    ).lots[0]
    return ring.id
