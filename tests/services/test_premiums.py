"""Premium arithmetic and flows, to the cent, checked against the ledger's own replay."""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from sqlalchemy.orm import Session

from builders import Chain, certified_chain, receive, register
from goldtrace.db.models import Obligation
from goldtrace.domain import premiums as rules
from goldtrace.errors import Conflict, InvalidInput, PermissionDenied, RuleViolation
from goldtrace.services import lots, premiums
from goldtrace.services.context import Context
from goldtrace.services.verify import verify_ledger

BODY = "arm"


@pytest.fixture
def chain(ledger: Session, ctx: Context) -> Chain:
    return certified_chain(ledger, ctx)


def first_sale(
    session: Session,
    ctx: Context,
    chain: Chain,
    *,
    mass_mg: int = 1_234_567,
    fineness: int = 9_125,
    category: str = "fairmined",
    at: str = "2026-11-20T10:00:00.000Z",
    buyer: str | None = None,
) -> Obligation:
    mine = chain.eco_mine if category == "fairmined_ecological" else chain.mine
    lot = register(session, ctx, mine, mass_mg=mass_mg, fineness=fineness, category=category)
    sale = lots.dispatch_lot(
        session,
        ctx,
        actor=mine,
        lot_id=lot,
        to=buyer or chain.trader,
        price=90_000_000,
        reference_price=90_000_000,
        occurred_at=at,
    )
    row = session.get(Obligation, sale.seq)
    assert row is not None
    return row


def test_the_worked_example_to_the_cent(ledger: Session, ctx: Context, chain: Chain) -> None:
    assert rules.premium_cents(1_126_542, 400_000) == 450_617
    fairmined = first_sale(ledger, ctx, chain)
    assert (fairmined.fine_mg, fairmined.amount_cents) == (1_126_542, 450_617)
    ecological = first_sale(ledger, ctx, chain, category="fairmined_ecological")
    assert ecological.amount_cents == 675_925
    assert ecological.committee_id == chain.eco_mine
    assert verify_ledger(ledger, ctx, workers=1).ok


def test_a_rate_change_applies_from_its_date_at_midnight_utc(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    premiums.record_rate(
        ledger,
        ctx,
        actor=BODY,
        category="fairmined",
        effective_from=date(2026, 12, 1),
        cents_per_kg=500_000,
    )
    before = first_sale(
        ledger, ctx, chain, mass_mg=1_000_000, fineness=10_000, at="2026-11-30T23:59:59.999Z"
    )
    after = first_sale(
        ledger, ctx, chain, mass_mg=1_000_000, fineness=10_000, at="2026-12-01T00:00:00.000Z"
    )
    assert (before.cents_per_kg, before.amount_cents) == (400_000, 400_000)
    assert (after.cents_per_kg, after.amount_cents) == (500_000, 500_000)
    assert verify_ledger(ledger, ctx, workers=1).ok


def test_partial_payments_oldest_first_and_a_voided_payment(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    a = first_sale(ledger, ctx, chain, mass_mg=1_000_000, fineness=10_000)
    b = first_sale(ledger, ctx, chain, mass_mg=500_000, fineness=10_000)
    pay = premiums.pay(
        ledger,
        ctx,
        actor=chain.trader,
        committee=chain.mine,
        amount_cents=450_000,
        paid_on=date(2026, 11, 25),
    )
    assert (a.paid_cents, b.paid_cents) == (400_000, 50_000)
    totals = premiums.committee_totals(ledger, chain.mine)
    assert (totals.owed_cents, totals.received_cents, totals.outstanding_cents) == (
        600_000,
        450_000,
        150_000,
    )
    with pytest.raises(RuleViolation) as err:
        premiums.pay(
            ledger,
            ctx,
            actor=chain.trader,
            committee=chain.mine,
            amount_cents=150_001,
            paid_on=date(2026, 11, 26),
        )
    assert err.value.code == "overpayment"
    premiums.void_payment(ledger, ctx, actor=chain.trader, seq=pay.seq, reason="wrong amount")
    assert (a.paid_cents, b.paid_cents) == (0, 0)
    premiums.pay(
        ledger,
        ctx,
        actor=chain.trader,
        committee=chain.mine,
        amount_cents=200_000,
        paid_on=date(2026, 11, 26),
        obligations=[b.id],
    )
    assert b.paid_cents == 200_000 and a.paid_cents == 0
    assert verify_ledger(ledger, ctx, workers=1).ok


def test_investments_never_exceed_what_was_received(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    first_sale(ledger, ctx, chain, mass_mg=1_000_000, fineness=10_000)
    with pytest.raises(RuleViolation) as err:
        premiums.invest(
            ledger,
            ctx,
            actor=chain.mine,
            committee=chain.mine,
            amount_cents=1,
            spent_on=date(2026, 11, 27),
            category="community",
            description="comedor",
        )
    assert err.value.code == "beyond_balance"
    premiums.pay(
        ledger,
        ctx,
        actor=chain.trader,
        committee=chain.mine,
        amount_cents=300_000,
        paid_on=date(2026, 11, 25),
    )
    row = premiums.invest(
        ledger,
        ctx,
        actor=chain.mine,
        committee=chain.mine,
        amount_cents=250_000,
        spent_on=date(2026, 11, 27),
        category="workers_welfare",
        description="Equipos de protección personal",
    )
    assert row.amount_cents == 250_000
    with pytest.raises(PermissionDenied):
        premiums.invest(
            ledger,
            ctx,
            actor=chain.trader,
            committee=chain.mine,
            amount_cents=1,
            spent_on=date(2026, 11, 27),
            category="community",
            description="x",
        )
    st_ = premiums.statement(ledger, chain.mine, start=date(2026, 1, 1), end=date(2026, 12, 31))
    assert (st_.opening_cents, st_.received_cents, st_.closing_cents) == (0, 300_000, 50_000)
    assert st_.invested_by_category["workers_welfare"] == 250_000
    with pytest.raises(Conflict):
        pay_seq = premiums.flows(ledger)  # the payment is now partly invested: it cannot be voided
        del pay_seq
        payment = ledger.execute(__import__("sqlalchemy").select(premiums.Payment)).scalars().one()
        premiums.void_payment(ledger, ctx, actor=chain.trader, seq=payment.seq, reason="x")
    flows = {(f.source, f.target): f.cents for f in premiums.flows(ledger, year=2026)}
    assert flows == {
        (chain.trader, chain.mine): 300_000,
        (chain.mine, "category:workers_welfare"): 250_000,
    }
    assert verify_ledger(ledger, ctx, workers=1).ok


def test_paying_another_buyers_obligation_is_refused(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    ob = first_sale(ledger, ctx, chain, mass_mg=1_000_000, fineness=10_000)
    with pytest.raises(PermissionDenied):
        premiums.pay(
            ledger,
            ctx,
            actor=chain.refiner,
            committee=chain.mine,
            amount_cents=100,
            paid_on=date(2026, 11, 25),
            obligations=[ob.id],
        )
    with pytest.raises(InvalidInput):
        premiums.pay(
            ledger,
            ctx,
            actor=chain.trader,
            committee=chain.mine,
            amount_cents=100,
            paid_on=date(2026, 11, 25),
            obligations=[999_999],
        )


def test_a_voided_sale_cancels_its_obligation_unless_paid(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    ob = first_sale(ledger, ctx, chain, mass_mg=1_000_000, fineness=10_000)
    lots.void_event(ledger, ctx, actor=chain.mine, seq=ob.id, reason="wrong buyer")
    assert ob.voided
    again = first_sale(ledger, ctx, chain, mass_mg=1_000_000, fineness=10_000)
    premiums.pay(
        ledger,
        ctx,
        actor=chain.trader,
        committee=chain.mine,
        amount_cents=1,
        paid_on=date(2026, 11, 25),
    )
    with pytest.raises(Conflict) as err:
        lots.void_event(ledger, ctx, actor=chain.mine, seq=again.id, reason="late")
    assert err.value.code == "obligation_paid"
    assert verify_ledger(ledger, ctx, workers=1).ok


def test_verify_reports_an_obligation_that_differs_from_the_ledger(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    ob = first_sale(ledger, ctx, chain, mass_mg=1_000_000, fineness=10_000)
    ledger.execute(update(Obligation).where(Obligation.id == ob.id).values(amount_cents=1))
    ledger.expire_all()
    report = verify_ledger(ledger, ctx, workers=1)
    assert report.first is not None and report.first.code == "obligation_mismatch"
    assert report.first.seq == ob.id


def test_a_payment_received_lot_flows_downstream_with_its_premium(
    ledger: Session, ctx: Context, chain: Chain
) -> None:
    from goldtrace.services.provenance import premium_carried

    ob = first_sale(ledger, ctx, chain, mass_mg=1_000_000, fineness=10_000)
    receive(ledger, ctx, ob.lot_id, chain.trader)
    assert premium_carried(ledger, ob.lot_id) == {chain.mine: 400_000}


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sales=st.lists(st.integers(1_000, 2_000_000), min_size=1, max_size=4),
    payments=st.lists(st.integers(1, 900_000), max_size=6),
    spend=st.lists(st.integers(1, 500_000), max_size=4),
)
def test_owed_is_paid_plus_outstanding_and_invested_never_exceeds_received(
    ledger: Session,
    ctx: Context,
    chain: Chain,
    sales: list[int],
    payments: list[int],
    spend: list[int],
) -> None:
    nested = ledger.begin_nested()
    try:
        for mg in sales:
            first_sale(ledger, ctx, chain, mass_mg=mg, fineness=10_000)
        for cents in payments:
            with contextlib.suppress(RuleViolation):
                premiums.pay(
                    ledger,
                    ctx,
                    actor=chain.trader,
                    committee=chain.mine,
                    amount_cents=cents,
                    paid_on=date(2026, 11, 25),
                )
        for cents in spend:
            with contextlib.suppress(RuleViolation):
                premiums.invest(
                    ledger,
                    ctx,
                    actor=chain.mine,
                    committee=chain.mine,
                    amount_cents=cents,
                    spent_on=date(2026, 11, 26),
                    category="community",
                    description="obra",
                )
        totals = premiums.committee_totals(ledger, chain.mine)
        obligations = premiums.committee_obligations(ledger, chain.mine)
        assert totals.owed_cents == sum(o.amount_cents for o in obligations)
        assert totals.owed_cents == totals.received_cents + totals.outstanding_cents
        assert sum(o.paid_cents for o in obligations) == totals.received_cents
        assert all(0 <= o.paid_cents <= o.amount_cents for o in obligations)
        assert totals.invested_cents <= totals.received_cents
        assert verify_ledger(ledger, ctx, workers=1).ok
    finally:
        nested.rollback()
