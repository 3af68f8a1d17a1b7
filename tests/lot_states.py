"""The lot states that the HTTP tables (bad input, authorization) call their endpoints in.

Each builder makes its state through the services inside the test's rolled-back transaction and
returns the values that a case's path and body refer to as placeholders ({lot}, {seq}); ``fill``
puts them in, ``state`` snapshots the database to show that a refused request wrote nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, inspect, select, table
from sqlalchemy.orm import Session

from builders import REFERENCE_MICRO, Chain, move, register, sell
from goldtrace.db.models import LogHead, Lot
from goldtrace.services import lots
from goldtrace.services.context import Context

# The state a case needs: builds it and returns the values its path and body refer to.
Setup = Callable[[Session, Context, Chain], dict[str, str]]


def mine_lot(session: Session, ctx: Context, chain: Chain) -> dict[str, str]:
    """A 1000 g lot at 900 per mille registered and held by the mine; {seq} is its registration."""
    lot_id = register(session, ctx, chain.mine)
    return {"lot": lot_id, "seq": str(lots.get_lot(session, lot_id).created_seq)}


def in_transit_to_trader(session: Session, ctx: Context, chain: Chain) -> dict[str, str]:
    """The mine's first sale, dispatched to the trader and not yet received."""
    values = mine_lot(session, ctx, chain)
    lots.dispatch_lot(
        session,
        ctx,
        actor=chain.mine,
        lot_id=values["lot"],
        to=chain.trader,
        price=REFERENCE_MICRO,
        reference_price=REFERENCE_MICRO,
    )
    return values


def trader_lot(session: Session, ctx: Context, chain: Chain) -> dict[str, str]:
    """A lot the trader bought from the mine and received: mine and trader acted on it."""
    values = mine_lot(session, ctx, chain)
    sell(session, ctx, values["lot"], chain.mine, chain.trader)
    return values


def in_transit_to_refiner(session: Session, ctx: Context, chain: Chain) -> dict[str, str]:
    """A lot the trader dispatched to the refiner, not yet received (the trader still holds it)."""
    values = trader_lot(session, ctx, chain)
    lots.dispatch_lot(session, ctx, actor=chain.trader, lot_id=values["lot"], to=chain.refiner)
    return values


def refiner_lot(session: Session, ctx: Context, chain: Chain) -> dict[str, str]:
    """A 1000 g lot at 900 per mille (900 g fine, plain Fairmined) held by the refiner."""
    values = trader_lot(session, ctx, chain)
    move(session, ctx, values["lot"], chain.trader, chain.refiner)
    return values


def fill(value: Any, values: dict[str, str]) -> Any:
    """``value`` with the placeholders {lot} and {seq} in its strings replaced."""
    if isinstance(value, str):
        return value.format_map(values) if "{" in value else value
    if isinstance(value, list):
        return [fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, values) for k, v in value.items()}
    return value


def state(session: Session) -> tuple[dict[str, int], list[tuple[Any, ...]]]:
    """Rows in every table, and every lot's mutable state, read fresh from the database."""
    names = sorted(inspect(session.connection()).get_table_names())
    counts = {
        name: session.execute(select(func.count()).select_from(table(name))).scalar_one()
        for name in names
    }
    counts["log size"] = session.execute(select(LogHead.size)).scalar_one()
    rows = session.execute(
        select(
            Lot.id,
            Lot.status,
            Lot.holder_id,
            Lot.in_transit_to,
            Lot.mass_mg,
            Lot.fineness,
            Lot.head,
            Lot.updated_seq,
        ).order_by(Lot.id)
    ).all()
    return counts, [tuple(r) for r in rows]
