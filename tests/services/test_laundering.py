"""Every laundering attempt of issue 14, through the services on the real database: each is refused
with its own code or raises a flag of its kind and severity, nothing partial is written, and
``goldtrace verify`` replays the rules (capacity changes, pickers, reviews) to the same verdict."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
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
from goldtrace.db.models import Event, Flag
from goldtrace.domain.actors import Actor
from goldtrace.domain.lots import OutputSpec
from goldtrace.domain.organizations import OrgProfile
from goldtrace.errors import Conflict, GoldtraceError, InvalidInput
from goldtrace.services import certificates, flags, lots, organizations, registry
from goldtrace.services.context import Context
from goldtrace.services.verify import verify_ledger


@pytest.fixture
def chain(ledger: Session, ctx: Context) -> Chain:
    return certified_chain(ledger, ctx)


def events(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Event)).scalar_one())


def refused(session: Session, call: object, *args: object, **kwargs: object) -> GoldtraceError:
    """Call a service expecting a refusal; check that it wrote no event."""
    before = events(session)
    with pytest.raises(GoldtraceError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    assert events(session) == before
    return caught.value


def flags_of(written: lots.Written) -> list[tuple[str, str]]:
    return [(f.kind, f.severity) for f in written.flags]


def mine(session: Session, ctx: Context, org_id: str, **changes: object) -> str:
    base: dict[str, object] = {
        "id": org_id,
        "name": org_id.title(),
        "kind": "mine",
        "miners": 10,
        "capacity_mg_month": 1_000_000,
    }
    organizations.register_org(
        session,
        ctx,
        actor="arm",
        profile=OrgProfile(**{**base, **changes}),  # type: ignore[arg-type]
    )
    registry.record_certification(
        session,
        ctx,
        actor="arm",
        org_id=org_id,
        category="fairmined",
        number=f"FM-{org_id}",
        valid_from=date(2020, 1, 1),
        valid_until=date(2030, 12, 31),
    )
    return org_id


def dore(session: Session, ctx: Context, org: str, grams: int, **kwargs: object) -> lots.Written:
    return lots.register_lot(
        session,
        ctx,
        actor=org,
        form="dore",
        mass_mg=grams * 1000,
        fineness=10_000,
        category="fairmined",
        produced_on=kwargs.pop("produced_on", recent()),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


# 1. Capacity from evidence.


def test_a_mine_without_miners_and_capacity_cannot_be_onboarded(
    ledger: Session, ctx: Context
) -> None:
    with pytest.raises(InvalidInput) as caught:
        OrgProfile(id="sin-limite", name="Sin límite", kind="mine")
    assert caught.value.code == "capacity_required"


def test_one_ruc_is_one_organization(ledger: Session, ctx: Context, chain: Chain) -> None:
    mine(ledger, ctx, "titular", ruc="20100047218")
    error = refused(
        ledger,
        organizations.register_org,
        ledger,
        ctx,
        actor="arm",
        profile=OrgProfile(
            id="testaferro",
            name="T",
            kind="mine",
            miners=10,
            capacity_mg_month=1,
            ruc="20100047218",
        ),
    )
    assert error.code == "duplicate_ruc"
    with pytest.raises(InvalidInput) as caught:
        OrgProfile(id="xx", name="X", kind="trader", ruc="20100047219")
    assert caught.value.code == "bad_ruc"


def test_capacity_is_the_ceiling_and_a_recorded_change_moves_it(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    # Declared 400 miners and 48 kg a month: the ceiling holds the same 48 kg, and no more.
    big = mine(ledger, ctx, "grande", miners=400, capacity_mg_month=48_000_000)
    dore(ledger, ctx, big, 47_000)
    assert refused(ledger, dore, ledger, ctx, big, 1_001).code == "capacity_exceeded"
    small = mine(ledger, ctx, "chica")
    dore(ledger, ctx, small, 900)
    assert refused(ledger, dore, ledger, ctx, small, 200).code == "capacity_exceeded"
    registry.change_capacity(
        ledger,
        ctx,
        actor="arm",
        org_id=small,
        miners=20,
        capacity_mg_month=2_000_000,
        effective_from=recent(5),
        reason="auditoría de campo 2026",
        evidence_sha256="ab" * 32,
    )
    dore(ledger, ctx, small, 200)
    with pytest.raises(InvalidInput):
        registry.change_capacity(
            ledger,
            ctx,
            actor="arm",
            org_id=small,
            miners=20,
            capacity_mg_month=2_000_000,
            effective_from=recent(5),
            reason="x",
            evidence_sha256="not a hash",
        )
    assert verify_ledger(ledger, ctx, workers=1).ok


# 2. Dates.


def test_production_dates_are_bounded_by_the_registration(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    future = refused(
        ledger, register, ledger, ctx, chain.mine, day=lima_today() + timedelta(days=1)
    )
    assert future.code == "produced_in_future"
    for days in (330, 270, 180, 32):
        old = refused(
            ledger, register, ledger, ctx, chain.mine, day=lima_today() - timedelta(days=days)
        )
        assert old.code == "registered_too_late"
    registry.grant_late_registration(
        ledger,
        ctx,
        actor="arm",
        org_id=chain.mine,
        produced_from=lima_today() - timedelta(days=40),
        produced_until=lima_today() - timedelta(days=35),
        register_until=lima_today() + timedelta(days=1),
        reason="comunidad aislada por huaicos",
    )
    register(ledger, ctx, chain.mine, day=lima_today() - timedelta(days=38))
    assert verify_ledger(ledger, ctx, workers=1).ok


def test_past_windows_cannot_be_banked_in_one_day(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    small = mine(ledger, ctx, "banquera")
    # Production spread over a month, all registered today: 300 g each, 1,000 g a month.
    for days in (30, 25, 20):
        dore(ledger, ctx, small, 300, produced_on=lima_today() - timedelta(days=days))
    error = refused(
        ledger, dore, ledger, ctx, small, 300, produced_on=lima_today() - timedelta(days=1)
    )
    assert error.code == "capacity_exceeded"


def test_certification_on_production_registration_and_sale_dates(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot = register(ledger, ctx, chain.mine, day=recent(15))
    registry.change_certification_status(
        ledger, ctx, actor="arm", number="FM-001", status="withdrawn", effective_on=recent(1)
    )
    # Produced before the withdrawal, registered after it.
    late = refused(ledger, register, ledger, ctx, chain.mine, day=recent(15))
    assert late.code == "not_certified_on_registration"
    # Registered before the withdrawal, sold after it.
    sale = refused(
        ledger,
        lots.dispatch_lot,
        ledger,
        ctx,
        actor=chain.mine,
        lot_id=lot,
        to=chain.trader,
        price=REFERENCE_MICRO,
        reference_price=REFERENCE_MICRO,
    )
    assert sale.code == "not_certified_on_sale"
    assert verify_ledger(ledger, ctx, workers=1).ok


# 3. People and identities.


@pytest.fixture
def pallaqueras(ledger: Session, ctx: Context, chain: Chain) -> str:
    org = mine(ledger, ctx, "pallaqueras", miners=40, capacity_mg_month=2_640_000, pickers=True)
    registry.register_picker(
        ledger,
        ctx,
        actor="arm",
        id_type="DNI",
        number="41000002",
        name="Juana Quispe",
        association=org,
        valid_from=date(2024, 1, 1),
    )
    return org


def ore(session: Session, ctx: Context, org: str, fine_g: int, picker: str | None) -> lots.Written:
    return lots.register_lot(
        session,
        ctx,
        actor=org,
        form="ore",
        mass_mg=fine_g * 100_000,
        fineness=100,
        category="fairmined",
        produced_on=recent(),
        picker=picker,
    )


def test_pickers_are_registered_people_with_one_id_and_one_ceiling(
    ledger: Session, ctx: Context, pallaqueras: str
) -> None:
    assert refused(ledger, ore, ledger, ctx, pallaqueras, 10, "DNI 41000099").code == (
        "unknown_picker"
    )
    assert refused(ledger, ore, ledger, ctx, pallaqueras, 10, None).code == "picker_required"
    assert refused(ledger, ore, ledger, ctx, pallaqueras, 10, "041000002").code in (
        "unknown_picker",
        "bad_person_id",
    )
    assert refused(ledger, ore, ledger, ctx, pallaqueras, 10, "4100002").code == "bad_person_id"
    written = ore(ledger, ctx, pallaqueras, 30, "41000002 ")
    assert written.lots[0].picker == "DNI:41000002"
    ore(ledger, ctx, pallaqueras, 30, "DNI41000002")
    # Three spellings, one person: 30 + 30 + 10 g is above her 66 g.
    assert refused(ledger, ore, ledger, ctx, pallaqueras, 10, "dni-41000002").code == (
        "picker_limit_exceeded"
    )
    assert verify_ledger(ledger, ctx, workers=1).ok


def test_a_picker_in_two_associations_has_one_ceiling(
    ledger: Session, ctx: Context, pallaqueras: str
) -> None:
    other = mine(ledger, ctx, "otras", miners=40, capacity_mg_month=2_640_000, pickers=True)
    registry.register_picker(
        ledger,
        ctx,
        actor="arm",
        id_type="DNI",
        number="41000002",
        name="Juana Quispe",
        association=other,
        valid_from=date(2024, 1, 1),
    )
    ore(ledger, ctx, pallaqueras, 40, "41000002")
    assert refused(ledger, ore, ledger, ctx, other, 30, "41000002").code == "picker_limit_exceeded"
    duplicate = refused(
        ledger,
        registry.register_picker,
        ledger,
        ctx,
        actor="arm",
        id_type="DNI",
        number="41000002-0",
        name="Juana",
        association=other,
        valid_from=date(2024, 1, 1),
    )
    assert duplicate.code == "duplicate_picker"


# 4. Prices.


def test_the_reference_price_is_the_standard_bodys(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot = register(ledger, ctx, chain.mine)
    own = refused(
        ledger,
        lots.dispatch_lot,
        ledger,
        ctx,
        actor=chain.mine,
        lot_id=lot,
        to=chain.trader,
        price=9_600_000,
        reference_price=10_000_000,
    )
    assert own.code == "reference_price_mismatch"
    cheap = refused(
        ledger,
        lots.dispatch_lot,
        ledger,
        ctx,
        actor=chain.mine,
        lot_id=lot,
        to=chain.trader,
        price=9_600_000,
    )
    assert cheap.code == "price_below_minimum"


def test_a_first_sale_needs_a_recorded_reference_price(ledger: Session, ctx: Context) -> None:
    mine(ledger, ctx, "sin-precio")
    organizations.register_org(
        ledger, ctx, actor="arm", profile=OrgProfile(id="comprador", name="C", kind="trader")
    )
    registry.record_authorization(
        ledger,
        ctx,
        actor="arm",
        org_id="comprador",
        role="supplier",
        valid_from=date(2020, 1, 1),
        valid_until=date(2030, 1, 1),
    )
    lot = dore(ledger, ctx, "sin-precio", 100).lots[0].id
    error = refused(
        ledger,
        lots.dispatch_lot,
        ledger,
        ctx,
        actor="sin-precio",
        lot_id=lot,
        to="comprador",
        price=REFERENCE_MICRO,
        reference_price=REFERENCE_MICRO,
    )
    assert error.code == "no_reference_price"


# 5. Certificates live with their lot: see tests/services/test_certificates.py.

# 6. Duplicates and implausible perfection.


def test_a_reference_twice_is_refused_and_a_lookalike_is_flagged(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    first = dore(ledger, ctx, chain.mine, 500, reference="CEC-2026-117")
    again = refused(ledger, dore, ledger, ctx, chain.mine, 500, reference=" cec-2026-117")
    assert again.code == "duplicate_reference"
    twin = dore(ledger, ctx, chain.mine, 500, reference="CEC-2026-118")
    assert flags_of(twin) == [("possible_duplicate", "review")]
    stored = ledger.execute(select(Flag).where(Flag.seq == twin.seq)).scalar_one()
    assert json.loads(stored.figures)["earlier_lot"] == first.lots[0].id
    # A voided registration frees its reference.
    lots.void_event(ledger, ctx, actor=chain.mine, seq=first.seq, reason="tecleado dos veces")
    dore(ledger, ctx, chain.mine, 400, reference="CEC-2026-117")
    assert verify_ledger(ledger, ctx, workers=1).ok


def test_refining_dore_without_loss_is_flagged(ledger: Session, ctx: Context, chain: Chain) -> None:
    lot = register(ledger, ctx, chain.mine, mass_mg=1_000_000, fineness=9_000)
    sell(ledger, ctx, lot, chain.mine, chain.trader)
    move(ledger, ctx, lot, chain.trader, chain.refiner)
    topped_up = lots.transform(
        ledger,
        ctx,
        actor=chain.refiner,
        kind="refine",
        inputs=[lot],
        outputs=[OutputSpec(id="", form="grain", mass_mg=900_000, fineness=10_000)],
    )
    assert flags_of(topped_up) == [("implausible_low_loss", "review")]
    assert verify_ledger(ledger, ctx, workers=1).ok


# 7. Gains are not losses.


def refined_grain(ledger: Session, ctx: Context, chain: Chain) -> str:
    lot = register(ledger, ctx, chain.mine, mass_mg=1_000_000, fineness=9_000)
    sell(ledger, ctx, lot, chain.mine, chain.trader)
    move(ledger, ctx, lot, chain.trader, chain.refiner)
    return (
        lots.transform(
            ledger,
            ctx,
            actor=chain.refiner,
            kind="refine",
            inputs=[lot],
            outputs=[OutputSpec(id="", form="grain", mass_mg=891_000, fineness=10_000)],
        )
        .lots[0]
        .id
    )


def test_receipts_just_inside_tolerance_cannot_grow_a_lot_unseen(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    from goldtrace.webapp.api import lot_json

    grain = refined_grain(ledger, ctx, chain)
    holders = (chain.refiner, chain.trader)
    raised: list[tuple[str, str]] = []
    for i in range(12):
        sender, recipient = holders[i % 2], holders[(i + 1) % 2]
        lots.dispatch_lot(ledger, ctx, actor=sender, lot_id=grain, to=recipient)
        mass = lots.get_lot(ledger, grain).mass_mg
        written = lots.receive_lot(
            ledger, ctx, actor=recipient, lot_id=grain, mass_mg=mass + mass * 990 // 1_000_000
        )
        raised += flags_of(written)
    assert ("unattributed_gold", "high") in raised
    assert ("repeated_gain_shipments", "review") in raised
    shown = lot_json(lots.get_lot(ledger, grain))
    assert shown["origins"][0]["fine_g"] == "891.000"
    assert float(shown["origins"][0]["share"]) < 0.99
    assert shown["unattributed_g"] != "0.000"
    # Melted into a bar, the unattributed gold goes with it, and no certificate can vouch for it.
    grown = lots.get_lot(ledger, grain)
    assert grown.holder_id == chain.refiner
    bar = lots.transform(
        ledger,
        ctx,
        actor=chain.refiner,
        kind="melt",
        inputs=[grain],
        outputs=[OutputSpec(id="", form="bar", mass_mg=grown.mass_mg - 500, fineness=10_000)],
    ).lots[0]
    assert lots.view(bar).unattributed_mg > 0
    error = refused(
        ledger, certificates.issue, ledger, ctx, actor=chain.refiner, lot_id=bar.id, description="x"
    )
    assert error.code == "unattributed_gold"
    assert verify_ledger(ledger, ctx, workers=1).ok


def test_a_gain_on_a_registered_lot_counts_against_the_mines_capacity(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    small = mine(ledger, ctx, "mena")
    # 10 kg of ore at 1 per mille: 10 g of the 1,000 g capacity.
    lot = (
        lots.register_lot(
            ledger,
            ctx,
            actor=small,
            form="ore",
            mass_mg=10_000_000,
            fineness=10,
            category="fairmined",
            produced_on=recent(),
        )
        .lots[0]
        .id
    )
    dore(ledger, ctx, small, 700)
    # Assayed to 300 per mille: 2,990 g more than registered, far above what is left.
    assert (
        refused(ledger, lots.assay_lot, ledger, ctx, actor=small, lot_id=lot, fineness=3_000).code
        == "capacity_exceeded"
    )
    # At 30 per mille the 290 g gain fits, and is flagged high: no lab explains it.
    written = lots.assay_lot(ledger, ctx, actor=small, lot_id=lot, fineness=300)
    assert ("fine_gold_gain", "high") in flags_of(written)
    assert lots.get_lot(ledger, lot).registered_fine_mg == 300_000
    assert verify_ledger(ledger, ctx, workers=1).ok


def test_honest_weighings_and_lab_results_raise_nothing(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot = register(ledger, ctx, chain.mine, mass_mg=2_400_000, fineness=9_100)
    lots.dispatch_lot(
        ledger,
        ctx,
        actor=chain.mine,
        lot_id=lot,
        to=chain.trader,
        price=REFERENCE_MICRO,
        reference_price=REFERENCE_MICRO,
    )
    written = lots.receive_lot(ledger, ctx, actor=chain.trader, lot_id=lot, mass_mg=2_401_400)
    assert written.flags == []
    lots.dispatch_lot(ledger, ctx, actor=chain.trader, lot_id=lot, to=chain.refiner)
    written = lots.receive_lot(ledger, ctx, actor=chain.refiner, lot_id=lot, mass_mg=2_400_300)
    assert written.flags == []
    written = lots.assay_lot(ledger, ctx, actor=chain.refiner, lot_id=lot, fineness=9_114)
    assert written.flags == []
    assert ledger.execute(select(func.count()).select_from(Flag)).scalar_one() == 0


# 8. Flags that mean something: listing and review.


def overseer(org: str, email: str, role: str) -> Actor:
    return Actor(user_id=1, email=email, org_id=org, org_kind=role, role=role)


def test_a_review_is_a_ledger_event_by_a_named_reviewer(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    twin_of = dore(ledger, ctx, chain.mine, 500, reference="A")
    twin = dore(ledger, ctx, chain.mine, 500, reference="B")
    assert twin_of.flags == []
    body = Actor(
        user_id=1,
        email="revisora@arm.example",
        org_id="arm",
        org_kind="standard_body",
        role="standard_body",
    )
    ((flag, _at),) = flags.list_flags(ledger, body, flags.FlagQuery(severity="review"))
    assert flag.seq == twin.seq
    reviewed = flags.review_flag(
        ledger, ctx, actor=body, flag_id=flag.id, outcome="cleared", note="dos bolsas del mismo día"
    )
    assert (reviewed.reviewer, reviewed.review_outcome) == ("revisora@arm.example", "cleared")
    event = ledger.get(Event, reviewed.review_seq)
    assert event is not None and event.type == "flag.review" and event.actor == "arm"
    assert flags.list_flags(ledger, body, flags.FlagQuery()) == []
    again = refused(
        ledger,
        flags.review_flag,
        ledger,
        ctx,
        actor=body,
        flag_id=flag.id,
        outcome="cleared",
        note="otra vez",
    )
    assert isinstance(again, Conflict)
    operator = Actor(user_id=2, email="op@x", org_id=chain.mine, org_kind="mine", role="operator")
    with pytest.raises(GoldtraceError) as caught:
        flags.list_flags(ledger, operator, flags.FlagQuery())
    assert caught.value.code == "forbidden"
    assert verify_ledger(ledger, ctx, workers=1).ok


def test_verify_replays_the_new_events(ledger: Session, ctx: Context, chain: Chain) -> None:
    registry.record_group(
        ledger,
        ctx,
        actor="arm",
        name="Grupo Topos",
        members=[chain.mine, chain.eco_mine],
        reason="mismo propietario según SUNARP",
    )
    assert registry.groups(ledger) == {"Grupo Topos": sorted([chain.mine, chain.eco_mine])}
    lot = register(ledger, ctx, chain.mine)
    sell(ledger, ctx, lot, chain.mine, chain.trader)
    receive_before = lots.get_lot(ledger, lot).updated_seq
    assert receive_before > 0
    report = verify_ledger(ledger, ctx, workers=1)
    assert report.ok, report.faults


def test_the_dashboard_meter_shows_the_fuller_window_and_the_capacity_in_force(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    from goldtrace.services import dashboards

    small = mine(ledger, ctx, "medidor")
    # Produced 35 days ago (outside the production window), registered today by exception.
    registry.grant_late_registration(
        ledger,
        ctx,
        actor="arm",
        org_id=small,
        produced_from=recent(40),
        produced_until=recent(35),
        register_until=lima_today(),
        reason="huaico",
    )
    dore(ledger, ctx, small, 300, produced_on=recent(35))
    operator = Actor(user_id=9, email="op@m", org_id=small, org_kind="mine", role="operator")
    shown = dashboards.summary(ledger, operator)
    assert (shown.capacity_used_mg, shown.capacity_limit_mg) == (300_000, 1_000_000)
    registry.change_capacity(
        ledger,
        ctx,
        actor="arm",
        org_id=small,
        miners=5,
        capacity_mg_month=2_000_000,
        effective_from=recent(1),
        reason="retiro de socios",
    )
    # 5 miners x 4 g x 30 days: the ceiling, whatever the declared capacity.
    assert dashboards.summary(ledger, operator).capacity_limit_mg == 600_000


# verify: events written around the services are judged by the same rules on replay.


def raw(session: Session, ctx: Context, type_: str, actor: str, **fields: object) -> int:
    from goldtrace.services.log import Draft, append

    return append(session, ctx, Draft(type=type_, actor=actor, fields=fields)).seq


def raw_lot(produced_on: date, **extra: object) -> dict[str, object]:
    lot: dict[str, object] = {
        "id": f"GT-RAW-{produced_on.toordinal()}",
        "form": "dore",
        "mass_mg": 100_000,
        "fineness": 9_000,
        "category": "fairmined",
        "produced_on": produced_on.isoformat(),
    }
    return {**lot, **extra}


@pytest.mark.parametrize(
    ("lot", "code"),
    [
        (raw_lot(lima_today() + timedelta(days=3)), "produced_in_future"),
        (raw_lot(lima_today() - timedelta(days=60)), "registered_too_late"),
        (raw_lot(recent(), mass_mg=2_000_000, fineness=10_000), "capacity_exceeded"),
    ],
)
def test_verify_refuses_a_registration_the_services_would_refuse(
    ledger: Session, ctx: Context, chain: Chain, lot: dict[str, object], code: str
) -> None:
    small = mine(ledger, ctx, "cruda")
    seq = raw(ledger, ctx, "lot.register", small, lot=lot)
    report = verify_ledger(ledger, ctx, workers=1)
    assert [(f.seq, f.code) for f in report.faults] == [(seq, code)]


def test_verify_replays_capacity_changes_pickers_and_reviews(
    ledger: Session, ctx: Context, pallaqueras: str
) -> None:
    small = mine(ledger, ctx, "cambiante")
    registry.change_capacity(
        ledger,
        ctx,
        actor="arm",
        org_id=small,
        miners=100,
        capacity_mg_month=5_000_000,
        effective_from=recent(10),
        reason="nueva planta",
    )
    # 2 kg: above the onboarding capacity, inside the recorded change.
    seq = raw(
        ledger,
        ctx,
        "lot.register",
        small,
        lot=raw_lot(recent(), mass_mg=2_000_000, fineness=10_000),
    )
    assert verify_ledger(ledger, ctx, workers=1).ok
    unknown = raw(
        ledger,
        ctx,
        "lot.register",
        pallaqueras,
        lot=raw_lot(recent(1), fineness=100, picker="DNI:41000099"),
    )
    forged = raw(
        ledger,
        ctx,
        "flag.review",
        "arm",
        flag_seq=seq,
        kind="possible_duplicate",
        reviewer="x@arm",
        outcome="cleared",
        note="no such flag",
    )
    stranger = raw(
        ledger,
        ctx,
        "flag.review",
        "trader",
        flag_seq=seq,
        kind="possible_duplicate",
        reviewer="t@x",
        outcome="cleared",
        note="n",
    )
    report = verify_ledger(ledger, ctx, workers=1)
    assert [(f.seq, f.code) for f in report.faults] == [
        (unknown, "unknown_picker"),
        (forged, "unknown_flag"),
        (stranger, "not_reviewer"),
    ]


def test_a_mine_at_capacity_three_windows_running_is_flagged_high(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    full = mine(ledger, ctx, "siempre-llena")
    raised: list[tuple[str, str]] = []
    for i, back in enumerate((70, 40, 10)):
        produced = lima_today() - timedelta(days=back)
        registered = produced + timedelta(days=1)
        written = lots.register_lot(
            ledger,
            ctx,
            actor=full,
            form="dore",
            mass_mg=950_000 + i * 1_000,
            fineness=10_000,
            category="fairmined",
            produced_on=produced,
            occurred_at=f"{registered.isoformat()}T15:00:00.000Z",
        )
        raised += flags_of(written)
    assert raised == [("sustained_high_use", "high")]
    assert verify_ledger(ledger, ctx, workers=1).ok
