"""The registration decision as a pure function: every hole of issue 14 it closes, with no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from goldtrace.domain.certification import Allowance, Cert
from goldtrace.domain.registration import (
    CapacityPeriod,
    LateException,
    Ledgered,
    PickerMembership,
    Registered,
    RegistrationFacts,
    RegistrationRequest,
    Totals,
    capacity_on,
    check_established_gain,
    decide_registration,
    reference_key,
)
from goldtrace.errors import GoldtraceError, InvalidInput, RuleViolation

TODAY = date(2026, 12, 8)
CERT = Cert("mina", "FM-1", "fairmined", date(2020, 1, 1), date(2030, 12, 31))
ECO = Cert("mina", "FME-1", "fairmined_ecological", date(2020, 1, 1), date(2030, 12, 31))
# 10 miners: at most 10 x 4 g x 30 days = 1,200 g a month; declared 1,000 g.
CAPACITY = (CapacityPeriod(date.min, 10, 1_000_000),)


def ledgered(*records: Registered) -> Totals:
    """Daily totals of ``records`` around today, as the services and the replay hand them over."""
    index = Ledgered()
    for record in records:
        index.add(record)
    return index.totals(TODAY - timedelta(days=2), TODAY)


def facts(**changes: object) -> RegistrationFacts:
    base = RegistrationFacts(mine="mina", mine_name="Mina", capacity=CAPACITY, certs=(CERT,))
    return replace(base, **changes)


def request(**changes: object) -> RegistrationRequest:
    base = RegistrationRequest(
        form="dore",
        mass_mg=100_000,
        fineness=9_000,
        category="fairmined",
        produced_on=TODAY - timedelta(days=2),
        registered_on=TODAY,
    )
    return replace(base, **changes)


def refused(f: RegistrationFacts, r: RegistrationRequest) -> GoldtraceError:
    with pytest.raises(GoldtraceError) as caught:
        decide_registration(f, r)
    return caught.value


def test_an_ordinary_registration_is_accepted_and_raises_nothing() -> None:
    assert decide_registration(facts(), request()).flags == []


def test_production_after_the_registration_date_is_refused() -> None:
    error = refused(facts(), request(produced_on=TODAY + timedelta(days=1)))
    assert error.code == "produced_in_future"
    ninety = refused(facts(), request(produced_on=TODAY + timedelta(days=90)))
    assert ninety.code == "produced_in_future"


def test_production_older_than_the_allowed_delay_is_refused_unless_excepted() -> None:
    old = request(produced_on=TODAY - timedelta(days=32))
    assert refused(facts(), old).code == "registered_too_late"
    assert decide_registration(facts(), request(produced_on=TODAY - timedelta(days=31))).flags == []
    excepted = LateException(TODAY - timedelta(days=40), TODAY - timedelta(days=30), TODAY)
    assert decide_registration(facts(late_exceptions=(excepted,)), old).flags == []
    expired = replace(excepted, register_until=TODAY - timedelta(days=1))
    assert refused(facts(late_exceptions=(expired,)), old).code == "registered_too_late"
    assert refused(facts(max_age_days=7), request(produced_on=TODAY - timedelta(days=8))).code == (
        "registered_too_late"
    )


def test_past_windows_cannot_be_banked_the_registration_dates_count_too() -> None:
    # Six lots produced in six different past months, all registered on one day: every production
    # window is empty, but the registration window holds them all.
    earlier = tuple(
        Registered(f"L{i}", TODAY - timedelta(days=25), TODAY, 180_000) for i in range(5)
    )
    ok = request(mass_mg=200_000, fineness=10_000)
    # 5 x 180 g + 200 g = 1,100 g registered today, above 1,000 g.
    assert refused(facts(totals=ledgered(*earlier)), ok).code == "capacity_exceeded"
    assert decide_registration(facts(totals=ledgered(*earlier[:4])), ok).flags == []


def test_capacity_is_the_recorded_one_and_never_above_four_grams_a_miner_a_day() -> None:
    big = request(mass_mg=1_000_001, fineness=10_000)
    assert refused(facts(), big).code == "capacity_exceeded"
    # A declared 48 kg a month with 400 miners: the ceiling is 400 x 4 g x 30 = 48 kg; with 10
    # miners it is 1.2 kg whatever is declared.
    inflated = (CapacityPeriod(date.min, 10, 48_000_000),)
    assert refused(facts(capacity=inflated), request(mass_mg=1_200_001, fineness=10_000)).code == (
        "capacity_exceeded"
    )


def test_a_dated_capacity_change_applies_from_its_date() -> None:
    periods = (*CAPACITY, CapacityPeriod(TODAY - timedelta(days=1), 20, 2_000_000, seq=5))
    assert capacity_on(periods, TODAY - timedelta(days=2)).capacity_mg_month == 1_000_000
    assert capacity_on(periods, TODAY).capacity_mg_month == 2_000_000
    produced_yesterday = request(
        produced_on=TODAY - timedelta(days=1), mass_mg=1_500_000, fineness=10_000
    )
    assert decide_registration(facts(capacity=periods), produced_yesterday).flags == []
    # Production dated before the change is judged under the old capacity.
    assert refused(facts(capacity=periods), request(mass_mg=1_500_000, fineness=10_000)).code == (
        "capacity_exceeded"
    )


def test_a_reviewed_allowance_lifts_the_window() -> None:
    allowance = Allowance(TODAY - timedelta(days=10), TODAY, 500_000)
    big = request(mass_mg=1_400_000, fineness=10_000)
    assert decide_registration(facts(allowances=(allowance,)), big).flags == []


def test_certification_is_checked_on_the_production_and_the_registration_date() -> None:
    withdrawn = replace(CERT, statuses=((TODAY - timedelta(days=1), "withdrawn"),))
    # Produced before the withdrawal, registered after it: refused.
    error = refused(facts(certs=(withdrawn,)), request())
    assert error.code == "not_certified_on_registration"
    lapsed_eco = replace(ECO, valid_until=TODAY - timedelta(days=5))
    backdated = request(category="fairmined_ecological", produced_on=TODAY - timedelta(days=10))
    assert refused(facts(certs=(CERT, lapsed_eco)), backdated).code == (
        "not_certified_on_registration"
    )
    assert refused(facts(certs=()), request()).code == "not_certified"


def test_a_reference_used_before_is_refused_and_a_lookalike_is_flagged() -> None:
    assert refused(facts(reference_taken=True), request(reference="CEC-1")).code == (
        "duplicate_reference"
    )
    assert reference_key("  cec-2026  117 ") == reference_key("CEC-2026 117")
    twin = Registered(
        "L1", TODAY - timedelta(days=20), TODAY - timedelta(days=18), 90_000, 100_000, 9_000
    )
    index = Ledgered()
    index.add(twin)
    found = index.lookalikes(100_000, 9_000, TODAY - timedelta(days=2))
    assert found == [twin]
    (flag,) = decide_registration(facts(lookalikes=found), request()).flags
    assert (flag.kind, flag.severity, flag.figures["earlier_lot"]) == (
        "possible_duplicate",
        "review",
        "L1",
    )
    other = replace(twin, lot="L2", mass_mg=100_001)
    assert index.lookalikes(100_001, 9_000, TODAY) == []
    index.add(other)
    index.remove("L1")
    assert index.lookalikes(100_000, 9_000, TODAY) == []
    assert decide_registration(facts(lookalikes=()), request()).flags == []


PICKER = "DNI:41000002"
MEMBER = PickerMembership(PICKER, "mina", date(2024, 1, 1))


def pickers(**changes: object) -> RegistrationFacts:
    return facts(**{"pickers_association": True, "memberships": (MEMBER,), **changes})


def test_an_association_of_pickers_names_a_registered_active_member() -> None:
    ore = request(category="fairmined", mass_mg=60_000, fineness=1_000)
    assert refused(pickers(), ore).code == "picker_required"
    assert refused(pickers(memberships=()), replace(ore, picker=PICKER)).code == "unknown_picker"
    elsewhere = PickerMembership(PICKER, "otra", date(2024, 1, 1))
    assert refused(pickers(memberships=(elsewhere,)), replace(ore, picker=PICKER)).code == (
        "unknown_picker"
    )
    ended = replace(MEMBER, valid_until=TODAY - timedelta(days=1))
    assert refused(pickers(memberships=(ended,)), replace(ore, picker=PICKER)).code == (
        "picker_inactive"
    )
    assert decide_registration(pickers(), replace(ore, picker=PICKER)).flags == []
    assert refused(facts(), replace(ore, picker=PICKER)).code == "picker_not_applicable"


def test_a_pickers_66_grams_count_across_every_association() -> None:
    # 60 g already sold this month through another association.
    elsewhere = (Registered("P1", TODAY - timedelta(days=10), TODAY - timedelta(days=9), 60_000),)
    ore = request(mass_mg=70_000, fineness=1_000, picker=PICKER)  # 7 g fine
    assert refused(pickers(picker_totals=ledgered(*elsewhere)), ore).code == (
        "picker_limit_exceeded"
    )
    assert (
        decide_registration(
            pickers(picker_totals=ledgered(*elsewhere)), replace(ore, mass_mg=60_000)
        ).flags
        == []
    )


def test_bad_requests_are_invalid_input() -> None:
    for bad in (request(mass_mg=0), request(fineness=10_001), request(form="brick")):
        with pytest.raises(InvalidInput):
            decide_registration(facts(), bad)


def test_a_gain_on_a_registered_lot_counts_against_the_window() -> None:
    registered = (Registered("L1", TODAY - timedelta(days=2), TODAY, 999_000),)
    with pytest.raises(RuleViolation) as caught:
        check_established_gain(facts(totals=ledgered(*registered)), request(), 2_000)
    assert caught.value.code == "capacity_exceeded"
    check_established_gain(facts(totals=ledgered(*registered)), request(), 1_000)


def test_three_windows_at_capacity_running_raise_a_high_flag() -> None:
    index = Ledgered()
    # Two earlier 30-day windows at 95 % of the 1,000 g capacity, and 600 g in the current one.
    for i, back in enumerate((75, 45)):
        day = TODAY - timedelta(days=2 + back)
        index.add(Registered(f"E{i}", day, day, 950_000))
    index.add(Registered("N", TODAY - timedelta(days=10), TODAY - timedelta(days=9), 600_000))
    totals = index.totals(TODAY - timedelta(days=2), TODAY)
    lot = request(mass_mg=330_000, fineness=10_000)  # to 930 g: past 90 %
    (flag,) = decide_registration(facts(totals=totals), lot).flags
    assert (flag.kind, flag.severity) == ("sustained_high_use", "high")
    assert flag.figures["window_mg"] == 930_000
    # Below 90 % now, or an earlier window below it: nothing.
    assert decide_registration(facts(totals=totals), replace(lot, mass_mg=200_000)).flags == []
    index.remove("E0")
    quiet = index.totals(TODAY - timedelta(days=2), TODAY)
    assert decide_registration(facts(totals=quiet), lot).flags == []
