"""Risk signals over a real ledger: each signal raised for a mine built to raise it, none for the
ordinary mines around it; voided lots do not count; only auditors and the standard body see them.

History over several months is registered with past instants (a production date may not be older
than 31 days at registration), and the report is asked for as on TODAY.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.orm import Session

from builders import FAR_PAST, Chain, certified_chain
from goldtrace.domain import risk
from goldtrace.domain.actors import Actor
from goldtrace.errors import InvalidInput, PermissionDenied
from goldtrace.services import lots, registry
from goldtrace.services.context import Context
from goldtrace.services.risk import mine_risks, regions
from risk_builders import AUG, JUL, NOV, OCT, SEP, add_mine, register_in

TODAY = date(2026, 12, 8)
BODY = Actor(1, "arm@example.org", "arm", "standard_body", "standard_body")
AUDITOR = Actor(2, "auditora@example.org", "auditora", "auditor", "auditor")
OPERATOR = Actor(3, "op@example.org", "cecomip", "mine", "operator")


@dataclass(frozen=True)
class World:
    chain: Chain
    ordinary: tuple[str, ...]


@pytest.fixture
def world(ledger: Session, ctx: Context) -> World:
    """Three ordinary certified mines of Puno producing 2, 2.5 and 3 kg a month from July to
    November, grouped in pairs that stay far from their combined capacity."""
    chain = certified_chain(ledger, ctx)
    ordinary = tuple(add_mine(ledger, ctx, f"ordinary-{i}") for i in range(3))
    for i, mine_id in enumerate(ordinary):
        for month in (JUL, AUG, SEP, OCT, NOV):
            register_in(ledger, ctx, mine_id, month, 2_000_000 + 500_000 * i)
    registry.record_group(
        ledger, ctx, actor="arm", name="Andes", members=ordinary[:2], reason="same owner"
    )
    return World(chain, ordinary)


def signals(found: risk.Assessment, mine_id: str) -> dict[str, risk.Signal]:
    row = next(m for m in found.mines if m.mine == mine_id)
    return {s.kind: s for s in row.signals}


def test_ordinary_mines_raise_nothing(ledger: Session, world: World) -> None:
    found = mine_risks(ledger, BODY, today=TODAY)
    for mine_id in (*world.ordinary, world.chain.mine, world.chain.eco_mine):
        assert signals(found, mine_id) == {}, mine_id
    row = next(m for m in found.mines if m.mine == "ordinary-1")
    july = row.months[6]
    assert (july.month, july.fine_mg, july.capacity_mg, july.share_pct, july.lots) == (
        JUL,
        2_500_000,
        9_000_000,
        27,
        1,
    )
    # The median of the two other certified mines of Puno needs a third: none in July.
    assert july.peer_median is None
    assert (row.lag_median, row.lag_max) == (2, 2)
    (andes,) = found.groups
    assert andes.name == "Andes" and andes.signals == ()
    assert andes.months[6].fine_mg == 4_500_000 and andes.months[6].capacity_mg == 18_000_000


def test_a_mine_at_capacity_month_after_month_and_far_above_its_region(
    ledger: Session, ctx: Context, world: World
) -> None:
    add_mine(ledger, ctx, "laytaruma")
    for month in (JUL, AUG, SEP, OCT, NOV):
        register_in(ledger, ctx, "laytaruma", month, 8_640_000)
    found = mine_risks(ledger, AUDITOR, today=TODAY)
    raised = signals(found, "laytaruma")
    assert set(raised) == {"capacity_streak", "above_region_median"}
    streak = raised["capacity_streak"]
    assert streak.text % dict(streak.figures) == (
        "registered 96 % of capacity for 5 months in a row (2026-07 to 2026-11)"
    )
    peers = raised["above_region_median"]
    # Every month is 3.5 times the median; the latest is named: in November, 8.64 kg / (100 miners
    # x 30 days) = 2.9 g against the median of 2.5 kg / 3000 = 0.8 g.
    assert {k: str(v) for k, v in peers.figures.items()} == {
        "value": "2.9",
        "month": "2026-11",
        "ratio": "3.5",
        "region": "Puno",
        "median": "0.8",
        "count": "5",
    }
    row = next(m for m in found.mines if m.mine == "laytaruma")
    # December has only begun: it neither breaks nor extends the streak.
    assert (row.current_streak, row.longest_streak) == (5, 5)
    assert found.mines[0].mine == "laytaruma"  # the mines with most signals come first
    for mine_id in world.ordinary:
        assert signals(found, mine_id) == {}


def test_voided_lots_do_not_count(ledger: Session, ctx: Context, world: World) -> None:
    add_mine(ledger, ctx, "voider")
    first = register_in(ledger, ctx, "voider", JUL, 8_640_000)
    for month in (AUG, SEP):
        register_in(ledger, ctx, "voider", month, 8_640_000)
    assert "capacity_streak" in signals(mine_risks(ledger, BODY, today=TODAY), "voider")
    seq = lots.get_lot(ledger, first).created_seq
    lots.void_event(ledger, ctx, actor="voider", seq=seq, reason="registered twice")
    found = mine_risks(ledger, BODY, today=TODAY)
    assert "capacity_streak" not in signals(found, "voider")
    assert next(m for m in found.mines if m.mine == "voider").months[6].fine_mg == 0


def test_late_registration(ledger: Session, ctx: Context, world: World) -> None:
    add_mine(ledger, ctx, "late")
    for month in (JUL, AUG, SEP):
        register_in(ledger, ctx, "late", month, 1_000_000, lag=20)
    register_in(ledger, ctx, "late", OCT, 1_000_000, lag=26)
    found = mine_risks(ledger, BODY, today=TODAY)
    signal = signals(found, "late")["late_registration"]
    assert signal.text % dict(signal.figures) == (
        "half of its lots were registered 20 days or more after production (at most 26 days)"
    )
    assert all("late_registration" not in signals(found, m) for m in world.ordinary)


def test_pickers_at_the_ceiling_month_after_month(
    ledger: Session, ctx: Context, world: World
) -> None:
    add_mine(
        ledger, ctx, "cerro-lunar", miners=50, capacity_mg=2_000_000, certified=False, pickers=True
    )
    for number, name in (("41000002", "Rosa Quispe"), ("41000003", "Juana Mamani")):
        registry.register_picker(
            ledger,
            ctx,
            actor="arm",
            id_type="DNI",
            number=number,
            name=name,
            association="cerro-lunar",
            valid_from=FAR_PAST,
        )
    for month in (AUG, SEP, OCT):
        register_in(ledger, ctx, "cerro-lunar", month, 60_000, picker="41000002")
        register_in(ledger, ctx, "cerro-lunar", month, 10_000, picker="41000003")
    found = mine_risks(ledger, BODY, today=TODAY)
    raised = signals(found, "cerro-lunar")
    assert set(raised) == {"picker_at_ceiling"}
    signal = raised["picker_at_ceiling"]
    assert signal.text % dict(signal.figures) == (
        "picker Rosa Quispe (DNI:41000002) sold 90 % or more of the 66 g ceiling for 3 months in "
        "a row (2026-08 to 2026-10)"
    )
    row = next(m for m in found.mines if m.mine == "cerro-lunar")
    assert [p.person for p in row.pickers] == ["DNI:41000002"]
    assert not row.certified and row.months[7].certified is False


def test_related_mines_filling_their_combined_capacity(
    ledger: Session, ctx: Context, world: World
) -> None:
    for mine_id in ("topo-1", "topo-2"):
        add_mine(ledger, ctx, mine_id, region="Arequipa", miners=10, capacity_mg=1_200_000)
        for month in (OCT, NOV):
            register_in(ledger, ctx, mine_id, month, 1_100_000)
    registry.record_group(
        ledger, ctx, actor="arm", name="Los Topos", members=["topo-1", "topo-2"], reason="one RUC"
    )
    found = mine_risks(ledger, BODY, today=TODAY)
    topos = next(g for g in found.groups if g.name == "Los Topos")
    (signal,) = topos.signals
    assert signal.text % dict(signal.figures) == (
        "the mines of group Los Topos (Topo 1, Topo 2) registered 91 % of their combined capacity "
        "for 2 months in a row (2026-10 to 2026-11)"
    )
    # Each mine alone is two months at capacity: below the three of the mine's own signal.
    assert set(signals(found, "topo-1")) == {"group_capacity_streak"}
    andes = next(g for g in found.groups if g.name == "Andes")
    assert andes.signals == ()
    in_arequipa = mine_risks(ledger, BODY, today=TODAY, region="Arequipa")
    assert [m.mine for m in in_arequipa.mines] == ["topo-1", "topo-2"]
    assert [g.name for g in in_arequipa.groups] == ["Los Topos"]
    assert regions(ledger, BODY) == ["Arequipa", "Puno"]


def test_capacity_changes_count_from_their_date(
    ledger: Session, ctx: Context, world: World
) -> None:
    add_mine(ledger, ctx, "grown", capacity_mg=4_000_000)
    registry.change_capacity(
        ledger,
        ctx,
        actor="arm",
        org_id="grown",
        miners=100,
        capacity_mg_month=9_000_000,
        effective_from=date(2026, 8, 1),
        reason="new plant, audited",
    )
    found = mine_risks(ledger, BODY, today=TODAY, months=6)
    row = next(m for m in found.mines if m.mine == "grown")
    assert [m.month for m in row.months] == [JUL, AUG, SEP, OCT, NOV, risk.Month(2026, 12)]
    assert row.months[0].capacity_mg == 4_000_000 and row.months[1].capacity_mg == 9_000_000


def test_only_overseers_see_risk_and_months_are_bounded(ledger: Session, world: World) -> None:
    with pytest.raises(PermissionDenied):
        mine_risks(ledger, OPERATOR, today=TODAY)
    with pytest.raises(PermissionDenied):
        regions(ledger, OPERATOR)
    for months in (0, 37):
        with pytest.raises(InvalidInput):
            mine_risks(ledger, BODY, months=months, today=TODAY)
