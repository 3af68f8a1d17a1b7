"""Lot operations through the services, each checked against the ledger's own replay."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import (
    REFERENCE_MICRO,
    Chain,
    certified_chain,
    lima_today,
    move,
    recent,
    register,
    sell,
)
from goldtrace.db.models import Flag
from goldtrace.domain.lots import OutputSpec
from goldtrace.errors import Conflict, InvalidInput, PermissionDenied, RuleViolation
from goldtrace.services import lots, registry
from goldtrace.services.context import Context
from goldtrace.services.provenance import provenance
from goldtrace.services.verify import verify_ledger


@pytest.fixture
def chain(ledger: Session, ctx: Context) -> Chain:
    return certified_chain(ledger, ctx)


def test_a_whole_chain_from_mine_to_piece_verifies(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    a = register(ledger, ctx, chain.mine, mass_mg=1_000_000, fineness=9_000)
    b = register(
        ledger,
        ctx,
        chain.eco_mine,
        mass_mg=500_000,
        fineness=8_000,
        category="fairmined_ecological",
    )
    sell(ledger, ctx, a, chain.mine, chain.trader)
    sell(ledger, ctx, b, chain.eco_mine, chain.trader)
    move(ledger, ctx, a, chain.trader, chain.refiner)
    move(ledger, ctx, b, chain.trader, chain.refiner)
    refined = lots.transform(
        ledger,
        ctx,
        actor=chain.refiner,
        kind="refine",
        inputs=[a, b],
        outputs=[OutputSpec(id="", form="grain", mass_mg=1_290_000, fineness=9_999)],
    )
    grain = refined.lots[0]
    assert grain.category == "fairmined"
    move(ledger, ctx, grain.id, chain.refiner, chain.jeweler)
    piece = lots.transform(
        ledger,
        ctx,
        actor=chain.jeweler,
        kind="manufacture",
        inputs=[grain.id],
        outputs=[OutputSpec(id="", form="jewelry_item", mass_mg=1_700_000, fineness=7_500)],
        alloy_mass_mg=430_000,
    ).lots[0]
    assert piece.holder_id == chain.jeweler
    report = verify_ledger(ledger, ctx, workers=1)
    assert report.ok, report.first


def test_capacity_window_refuses_laundering(ledger: Session, ctx: Context, chain: Chain) -> None:
    # The first lot was produced 40 days ago and registered the next day: the second falls in its
    # 30-day window by production date (19 days apart), the third in no window of it (35 and 39 days).
    first = recent(40)
    register(
        ledger,
        ctx,
        chain.mine,
        mass_mg=8_000_000,
        fineness=10_000,
        day=first,
        registered_on=first + timedelta(days=1),
    )
    with pytest.raises(RuleViolation) as err:
        register(
            ledger,
            ctx,
            chain.mine,
            mass_mg=1_500_000,
            fineness=10_000,
            day=first + timedelta(days=19),
        )
    assert err.value.code == "capacity_exceeded"
    register(
        ledger, ctx, chain.mine, mass_mg=1_500_000, fineness=10_000, day=first + timedelta(days=35)
    )
    assert verify_ledger(ledger, ctx, workers=1).ok


def test_uncertified_and_non_ecological_registrations_are_refused(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    with pytest.raises(RuleViolation) as err:
        register(ledger, ctx, chain.mine, category="fairmined_ecological")
    assert err.value.code == "not_ecological"
    # Production before the certificate starts (registered the next day, as it was then).
    with pytest.raises(RuleViolation) as err:
        register(ledger, ctx, chain.mine, day=date(2019, 6, 1), registered_on=date(2019, 6, 2))
    assert err.value.code == "not_certified"
    suspended = lima_today() - timedelta(days=10)
    registry.change_certification_status(
        ledger,
        ctx,
        actor=chain.body,
        number="FM-001",
        status="suspended",
        effective_on=suspended,
    )
    before = suspended - timedelta(days=1)
    register(ledger, ctx, chain.mine, day=before, registered_on=before)
    with pytest.raises(RuleViolation) as err:
        register(ledger, ctx, chain.mine, day=suspended, registered_on=suspended)
    assert err.value.code == "not_certified"


def test_custody_and_receipt_rules(ledger: Session, ctx: Context, chain: Chain) -> None:
    lot = register(ledger, ctx, chain.mine)
    with pytest.raises(InvalidInput) as err:
        lots.dispatch_lot(ledger, ctx, actor=chain.mine, lot_id=lot, to=chain.trader)
    assert err.value.code == "price_required"
    with pytest.raises(RuleViolation) as err:
        lots.dispatch_lot(
            ledger,
            ctx,
            actor=chain.mine,
            lot_id=lot,
            to=chain.trader,
            price=85_000_000,
            reference_price=REFERENCE_MICRO,
        )
    assert err.value.code == "price_below_minimum"
    with pytest.raises(PermissionDenied):
        lots.dispatch_lot(ledger, ctx, actor=chain.trader, lot_id=lot, to=chain.refiner)
    # Exactly 95 % of the reference price is allowed.
    lots.dispatch_lot(
        ledger,
        ctx,
        actor=chain.mine,
        lot_id=lot,
        to=chain.trader,
        price=REFERENCE_MICRO * 95 // 100,
        reference_price=REFERENCE_MICRO,
    )
    with pytest.raises(PermissionDenied):
        lots.receive_lot(ledger, ctx, actor=chain.refiner, lot_id=lot, mass_mg=1_000_000)
    lots.receive_lot(ledger, ctx, actor=chain.trader, lot_id=lot, mass_mg=990_000)
    with pytest.raises(Conflict):
        lots.receive_lot(ledger, ctx, actor=chain.trader, lot_id=lot, mass_mg=990_000)
    kinds = ledger.execute(select(Flag.kind)).scalars().all()
    assert "weight_discrepancy" in kinds
    assert verify_ledger(ledger, ctx, workers=1).ok


def test_void_restores_and_is_refused_once_built_upon(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot = register(ledger, ctx, chain.mine)
    first = lots.dispatch_lot(
        ledger,
        ctx,
        actor=chain.mine,
        lot_id=lot,
        to=chain.trader,
        price=REFERENCE_MICRO,
        reference_price=REFERENCE_MICRO,
    )
    lots.void_event(ledger, ctx, actor=chain.mine, seq=first.seq, reason="wrong buyer")
    assert lots.get_lot(ledger, lot).status == "active"
    sell(ledger, ctx, lot, chain.mine, chain.trader)
    registration = lots.get_lot(ledger, lot).created_seq
    with pytest.raises(Conflict) as err:
        lots.void_event(ledger, ctx, actor=chain.mine, seq=registration, reason="late")
    assert err.value.code == "built_upon"
    assert verify_ledger(ledger, ctx, workers=1).ok


def test_segregation_and_fine_gold_rules(ledger: Session, ctx: Context, chain: Chain) -> None:
    lot = register(ledger, ctx, chain.mine)
    with pytest.raises(RuleViolation) as err:
        lots.transform(
            ledger,
            ctx,
            actor=chain.mine,
            kind="melt",
            inputs=[lot],
            outputs=[OutputSpec(id="", form="dore", mass_mg=1_000_000, fineness=9_500)],
        )
    assert err.value.code == "fine_gold_created"
    with pytest.raises(RuleViolation) as err:
        lots.transform(
            ledger,
            ctx,
            actor=chain.mine,
            kind="melt",
            inputs=[lot],
            outputs=[
                OutputSpec(
                    id="",
                    form="dore",
                    mass_mg=990_000,
                    fineness=9_000,
                    category="fairmined_ecological",
                )
            ],
        )
    assert err.value.code == "segregation"
    sell(ledger, ctx, lot, chain.mine, chain.trader)
    assert verify_ledger(ledger, ctx, workers=1).ok


def test_provenance_follows_every_generation_and_nothing_beside_it(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    # A bar grown by twelve successive merges (thirteen generations), then split in two; an
    # unrelated lot is merged elsewhere. The provenance of one half holds exactly its ancestry.
    sold = []
    for _ in range(13):
        lot = register(ledger, ctx, chain.mine, mass_mg=100_000, fineness=9_000)
        sell(ledger, ctx, lot, chain.mine, chain.trader)
        sold.append(lot)
    bars = [sold[0]]
    for i, lot in enumerate(sold[1:], start=2):
        bars.append(
            lots.transform(
                ledger,
                ctx,
                actor=chain.trader,
                kind="merge",
                inputs=[bars[-1], lot],
                outputs=[OutputSpec(id="", form="dore", mass_mg=100_000 * i, fineness=9_000)],
            )
            .lots[0]
            .id
        )
    half, other_half = (
        lot.id
        for lot in lots.transform(
            ledger,
            ctx,
            actor=chain.trader,
            kind="split",
            inputs=[bars[-1]],
            outputs=[
                OutputSpec(id="", form="dore", mass_mg=650_000, fineness=9_000),
                OutputSpec(id="", form="dore", mass_mg=650_000, fineness=9_000),
            ],
        ).lots
    )
    stranger = register(ledger, ctx, chain.mine, mass_mg=100_000, fineness=9_000)
    doc = provenance(ledger, half)
    assert doc["verified"], doc["problems"]
    assert {lot["id"] for lot in doc["lots"]} == {half, *sold, *bars}
    assert other_half not in {lot["id"] for lot in doc["lots"]}
    assert stranger not in {lot["id"] for lot in doc["lots"]}
    # 13 registrations, 13 first sales (dispatch and receipt), 12 merges and the split (which
    # names both halves, but only the half asked about is in the ancestry).
    assert len(doc["events"]) == 13 + 2 * 13 + 12 + 1
    split = max(doc["events"], key=lambda e: e["seq"])
    assert split["lots"] == {bars[-1]: "input", half: "output"}
    assert doc["origins"] == [
        {
            "mine": chain.mine,
            "name": doc["origins"][0]["name"],
            "region": doc["origins"][0]["region"],
            "fine_g": "585.000",
            "share": "1.0000",
        }
    ]


def test_provenance_of_a_piece_reaches_both_mines_and_verifies(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    a = register(ledger, ctx, chain.mine, mass_mg=1_000_000, fineness=9_000)
    b = register(ledger, ctx, chain.mine, mass_mg=1_000_000, fineness=8_000)
    sell(ledger, ctx, a, chain.mine, chain.trader)
    sell(ledger, ctx, b, chain.mine, chain.trader)
    merged = lots.transform(
        ledger,
        ctx,
        actor=chain.trader,
        kind="merge",
        inputs=[a, b],
        outputs=[OutputSpec(id="", form="dore", mass_mg=1_990_000, fineness=8_500)],
    ).lots[0]
    doc = provenance(ledger, merged.id)
    assert doc["verified"], doc["problems"]
    assert [o["mine"] for o in doc["origins"]] == [chain.mine]
    assert {e["type"] for e in doc["events"]} >= {"lot.register", "lot.dispatch", "lot.transform"}
    assert len(doc["lots"]) == 3
    transform_seq = max(e["seq"] for e in doc["events"])
    assert sum(1 for e in doc["edges"] if e["to"] == transform_seq) == 2
