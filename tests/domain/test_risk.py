"""The statistics of the risk signals: months, medians, streaks, capacities and the signals' reasons.

No database: every figure is a function of the facts handed in.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import takewhile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goldtrace.domain import risk
from goldtrace.domain.certification import Cert
from goldtrace.domain.registration import CapacityPeriod
from goldtrace.errors import InvalidInput

TODAY = date(2026, 12, 8)
MONTHS = risk.months_ending(TODAY, 12)
FAR = (date(2020, 1, 1), date(2030, 12, 31))
# 100 miners, 9 kg a month: the limit is min(9 kg, 100 x 4 g x 30 = 12 kg) = 9 kg.
CAPACITY = (CapacityPeriod(date.min, 100, 9_000_000),)


def cert(org: str) -> Cert:
    return Cert(org, f"FM-{org}", "fairmined", *FAR)


def lots(
    mine: str, fine_by_month: dict[risk.Month, int], *, lag: int = 2
) -> list[risk.Registration]:
    """One lot in each month, produced on its 3rd day and registered ``lag`` days later."""
    return [
        risk.Registration(
            mine, m.first + timedelta(days=2), m.first + timedelta(days=2 + lag), fine
        )
        for m, fine in fine_by_month.items()
    ]


def mine(mine_id: str, fine_by_month: dict[risk.Month, int], **kwargs: object) -> risk.MineFacts:
    defaults: dict[str, object] = {
        "id": mine_id,
        "name": mine_id.title(),
        "region": "Puno",
        "capacity": CAPACITY,
        "certs": (cert(mine_id),),
        "registrations": lots(mine_id, fine_by_month),
    }
    defaults.update(kwargs)
    return risk.MineFacts(**defaults)  # type: ignore[arg-type]


def kinds(found: risk.Assessment, mine_id: str) -> set[str]:
    return {s.kind for m in found.mines if m.mine == mine_id for s in m.signals}


def test_months_end_with_the_current_one_and_the_count_is_bounded() -> None:
    assert MONTHS[0] == risk.Month(2026, 1) and MONTHS[-1] == risk.Month(2026, 12)
    assert risk.months_ending(date(2026, 2, 28), 3) == (
        risk.Month(2025, 12),
        risk.Month(2026, 1),
        risk.Month(2026, 2),
    )
    assert str(risk.Month(2026, 7)) == "2026-07" and risk.Month(2024, 2).last == date(2024, 2, 29)
    for bad in (0, 37, -1, True):
        with pytest.raises(InvalidInput) as refused:
            risk.check_months(bad)  # type: ignore[arg-type]
        assert refused.value.fields == {"months": "from 1 to 36"}


def test_median_is_exact() -> None:
    assert risk.median([]) is None
    assert risk.median([3, 1, 2]) == 2
    assert risk.median([1, 2, 3, 10]) == Fraction(5, 2)
    assert risk.median([Fraction(1, 3), Fraction(2, 3)]) == Fraction(1, 2)


@pytest.mark.parametrize(
    ("hits", "in_progress", "expected"),
    [
        ([], False, (0, 0)),
        ([True, True, False, True], False, (1, 2)),
        ([True, True, True, False], False, (0, 3)),
        # A month still running that has not reached the threshold yet does not break the streak.
        ([False, True, True, False], True, (2, 2)),
        ([False, True, True, True], True, (3, 3)),
    ],
)
def test_streaks(hits: list[bool], in_progress: bool, expected: tuple[int, int]) -> None:
    assert risk.streaks(hits, last_in_progress=in_progress) == expected


def test_longest_run_prefers_the_latest_of_equal_runs() -> None:
    assert risk.longest_run([False, False]) is None
    assert risk.longest_run([True, True, False, True, True]) == (3, 2)
    assert risk.longest_run([True, True, True, False, True]) == (0, 3)


def test_month_capacity_is_the_limit_in_force_day_by_day() -> None:
    july = risk.Month(2026, 7)
    assert risk.month_capacity_mg((), july) is None
    assert risk.month_capacity_mg(CAPACITY, july) == 9_000_000
    # 10 miners cap the mine at 10 x 4 g x 30 = 1.2 kg whatever it declares.
    assert risk.month_capacity_mg((CapacityPeriod(date.min, 10, 9_000_000),), july) == 1_200_000
    # Halved from 17 July on: 16 days at 9 kg, 15 days at 4.5 kg.
    halved = (*CAPACITY, CapacityPeriod(date(2026, 7, 17), 100, 4_500_000, seq=7))
    assert risk.month_capacity_mg(halved, july) == (16 * 9_000_000 + 15 * 4_500_000) // 31
    assert risk.miner_days(halved, july, date(2026, 7, 10)) == 1000


def test_an_ordinary_mine_raises_nothing() -> None:
    varied = {m: 3_000_000 + 500_000 * (i % 3) for i, m in enumerate(MONTHS)}
    found = risk.assess([mine("honest", varied)], months=MONTHS, today=TODAY)
    (only,) = found.mines
    assert only.signals == () and only.longest_streak == 0
    assert only.lag_median == 2 and only.lag_max == 2
    july = only.months[6]
    assert (july.month, july.fine_mg, july.capacity_mg, july.share_pct) == (
        risk.Month(2026, 7),
        3_000_000,
        9_000_000,
        33,
    )
    assert july.per_miner_day == Fraction(3_000_000, 100 * 31)
    assert only.months[-1].in_progress and not july.in_progress


def test_months_at_capacity_in_a_row() -> None:
    full = {m: 8_640_000 for m in MONTHS[6:11]}  # 96 % of 9 kg from July to November
    found = risk.assess([mine("full", full)], months=MONTHS, today=TODAY)
    (only,) = found.mines
    assert (only.current_streak, only.longest_streak) == (5, 5)
    (signal,) = only.signals
    assert signal.kind == "capacity_streak"
    assert signal.text % dict(signal.figures) == (
        "registered 96 % of capacity for 5 months in a row (2026-07 to 2026-11)"
    )
    two = {m: 8_640_000 for m in MONTHS[6:8]}
    assert risk.assess([mine("two", two)], months=MONTHS, today=TODAY).mines[0].signals == ()


def test_output_per_miner_against_the_median_of_certified_mines_of_the_region() -> None:
    july = risk.Month(2026, 7)
    peers = [mine(f"peer-{i}", {july: 4_000_000 + 500_000 * i}) for i in range(3)]
    # An uncertified mine and a mine elsewhere do not count in the median.
    others = [
        mine("uncertified", {july: 100_000}, certs=()),
        mine("arequipa", {july: 100_000}, region="Arequipa"),
    ]
    suspect = mine("suspect", {july: 12_400_000})
    found = risk.assess([*peers, *others, suspect], months=MONTHS, today=TODAY)
    month = next(m for m in found.mines if m.mine == "suspect").months[6]
    assert month.peers == 3 and month.peer_median == Fraction(4_500_000, 3100)
    assert kinds(found, "suspect") == {"above_region_median"}
    (signal,) = next(m for m in found.mines if m.mine == "suspect").signals
    assert signal.figures == {
        "value": Decimal("4.0"),
        "month": july,
        "ratio": Decimal("2.8"),
        "region": "Puno",
        "median": Decimal("1.5"),
        "count": 1,
    }
    assert all(kinds(found, p.id) == set() for p in peers)
    # With only two peers there is no median to compare with.
    found = risk.assess([*peers[:2], suspect], months=MONTHS, today=TODAY)
    assert kinds(found, "suspect") == set()


def test_late_registration() -> None:
    july = risk.Month(2026, 7)
    late = mine("late", {}, registrations=lots("late", {july: 1_000_000}, lag=20))
    on_time = mine("on-time", {july: 1_000_000})
    found = risk.assess([late, on_time], months=MONTHS, today=TODAY)
    (signal,) = next(m for m in found.mines if m.mine == "late").signals
    assert signal.kind == "late_registration"
    assert signal.figures == {"median": Decimal(20), "max": 20}
    assert kinds(found, "on-time") == set()
    assert risk.days_figure(Fraction(31, 2)) == Decimal("15.5")


def test_pickers_at_the_ceiling_month_after_month_across_associations() -> None:
    def sale(mine_id: str, month: risk.Month, mg: int, person: str) -> risk.Registration:
        day = month.first + timedelta(days=4)
        return risk.Registration(mine_id, day, day, mg, person)

    # She sells 40 g + 20 g a month through two associations: 60 g, 91 % of the 66 g ceiling.
    regs_a = [sale("assoc-a", m, 40_000, "DNI:41000002") for m in MONTHS[7:10]]
    regs_b = [sale("assoc-b", m, 20_000, "DNI:41000002") for m in MONTHS[7:10]]
    regs_a += [sale("assoc-a", m, 30_000, "DNI:41000003") for m in MONTHS[7:10]]
    found = risk.assess(
        [mine("assoc-a", {}, registrations=regs_a), mine("assoc-b", {}, registrations=regs_b)],
        months=MONTHS,
        today=TODAY,
        picker_names={"DNI:41000002": "Rosa Quispe"},
    )
    for association in ("assoc-a", "assoc-b"):
        row = next(m for m in found.mines if m.mine == association)
        (signal,) = row.signals
        assert signal.kind == "picker_at_ceiling"
        assert signal.text % dict(signal.figures) == (
            "picker Rosa Quispe (DNI:41000002) sold 90 % or more of the 66 g ceiling for 3 months "
            "in a row (2026-08 to 2026-10)"
        )
        assert row.pickers[0].fine_mg == 180_000


def test_groups_of_related_mines_filling_their_combined_capacity() -> None:
    full = {m: 8_200_000 for m in MONTHS[9:11]}  # 91 % in October and November
    half = {m: 4_000_000 for m in MONTHS[9:11]}
    found = risk.assess(
        [mine("topo-1", full), mine("topo-2", full), mine("other", half)],
        months=MONTHS,
        today=TODAY,
        groups={"Los Topos": ["topo-1", "topo-2", "trader"], "Mixed": ["topo-1", "other"]},
    )
    topos, mixed = found.groups
    assert topos.mines == ("topo-1", "topo-2") and topos.longest_streak == 2
    assert topos.months[9].capacity_mg == 18_000_000 and topos.months[9].share_pct == 91
    (signal,) = topos.signals
    assert signal.text % dict(signal.figures) == (
        "the mines of group Los Topos (Topo-1, Topo-2) registered 91 % of their combined capacity "
        "for 2 months in a row (2026-10 to 2026-11)"
    )
    assert mixed.signals == ()  # (8.2 + 4) / 18 kg = 67 %
    assert kinds(found, "topo-1") == {"group_capacity_streak"}
    assert kinds(found, "other") == set()


def test_a_region_shows_its_mines_and_their_groups_but_medians_and_pickers_count_everywhere() -> (
    None
):
    found = risk.assess(
        [mine("puno", {}), mine("arequipa", {}, region="Arequipa")],
        months=MONTHS,
        today=TODAY,
        groups={"G": ["puno", "x"], "H": ["arequipa", "y"]},
        region="Arequipa",
    )
    assert [m.mine for m in found.mines] == ["arequipa"]
    assert [g.name for g in found.groups] == ["H"]


def test_every_signal_text_names_only_figures_it_is_given() -> None:
    # The texts are %-templates: a missing figure would break the translation at run time.
    full = {m: 8_640_000 for m in MONTHS}
    found = risk.assess(
        [mine("full", full, registrations=lots("full", full, lag=16))],
        months=MONTHS,
        today=TODAY,
    )
    for signal in found.mines[0].signals:
        assert "%(" not in signal.text % dict(signal.figures)


@given(st.lists(st.booleans(), max_size=40), st.booleans())
def test_streaks_agree_with_the_longest_run(hits: list[bool], in_progress: bool) -> None:
    current, longest = risk.streaks(hits, last_in_progress=in_progress)
    run = risk.longest_run(hits)
    assert longest == (run[1] if run else 0)
    assert 0 <= current <= longest
    counted = hits[:-1] if in_progress and hits and not hits[-1] else hits
    assert current == len(list(takewhile(bool, reversed(counted))))
