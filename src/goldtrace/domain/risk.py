"""Risk signals for the standard body: pure statistics over mines' registrations, month by month.

A rule refuses what breaks it; a signal points at what keeps just inside it. Laundering through a
certified mine looks like an honest mine that is always full: a mine that registers its capacity
month after month, produces far more per miner than the certified mines around it, declares its
production weeks after the fact, sells through pickers who are always at their ceiling, or shares an
owner with other mines that fill up together (Laytaruma, "Los Topos": DOMAIN.md). Each signal states
in plain words why it is raised: an English text with named figures, marked for translation with
:func:`N_`, which the web layer translates and fills in the reader's language.

Months are calendar months (of the dates as the mine's calendar reads them: production dates, and
registration dates in the mine's time zone). The last month of a range is usually still running: it
counts in a streak when it already reaches the threshold, and does not break one when it does not yet.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from goldtrace.domain.certification import PICKER_LIMIT_MG, Cert
from goldtrace.domain.registration import CapacityPeriod
from goldtrace.errors import InvalidInput

# How many months a report covers unless asked, and at most: three years hold a mine's whole
# certification cycle (yearly audits) without making one request read the whole ledger.
DEFAULT_MONTHS = 12
MAX_MONTHS = 36

# A month "at capacity": 90 % of the limit or more. Real production swings with the weather, the ore
# grade and the equipment; a mine that keeps registering nine tenths of its ceiling is using the
# ceiling as a target, the room in which gold from elsewhere is passed off as its own.
HIGH_USE_PCT = 90
# Three such months in a row raise the signal: one or two full months happen (a rich vein, the dry
# season); a quarter at the ceiling is the pattern the Laytaruma case showed.
CAPACITY_STREAK_MONTHS = 3

# Output per miner against certified mines of the same region: the same deposits and methods, so twice
# the typical output per miner is more than better equipment explains (miners missing from the count,
# or gold from elsewhere).
PEER_RATIO = Fraction(2)
# The median needs at least three other certified mines producing that month: a median of one or two
# mines says more about those mines than about the region.
MIN_PEERS = 3

# Days from production to registration: doré is weighed and sold within days. When half of a mine's
# lots or more are declared 15 days or more after production, it uses the allowed delay (31 days) as
# routine: the room in which gold bought elsewhere is dated into past windows.
LATE_MEDIAN_DAYS = 15

# A picker "at the ceiling": 90 % of the legal 66 g a month or more. A pallaquera earns about 300 soles
# a month picking ore from waste rock (DOMAIN.md), about a gram of gold, so the legal ceiling is far
# above what one person picks; at the ceiling three months in a row is the pattern of a borrowed
# identity (someone else's gold sold under her name).
PICKER_CEILING_PCT = 90
PICKER_STREAK_MONTHS = 3

# Related organizations (one owner) whose mines together register 90 % of their combined capacity two
# months in a row: several honest mines rarely peak together, while "Los Topos" filled every borrowed
# registration at once, so two months suffice.
GROUP_STREAK_MONTHS = 2


# The name gettext tools (pybabel extract) look for by default.
def N_(text: str) -> str:
    """Mark ``text`` for translation without translating it: the domain knows no Flask-Babel; the
    web layer translates the text and fills in the figures in the reader's language."""
    return text


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month."""

    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> Month:
        """The month ``day`` lies in."""
        return cls(day.year, day.month)

    @property
    def first(self) -> date:
        """Its first day."""
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        """Its last day."""
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def previous(self) -> Month:
        """The month before."""
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def check_months(months: int) -> int:
    """Return ``months`` if a report may cover that many months; InvalidInput otherwise."""
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise InvalidInput(
            f"months must be a whole number from 1 to {MAX_MONTHS}",
            fields={"months": f"from 1 to {MAX_MONTHS}"},
        )
    return months


def months_ending(today: date, count: int) -> tuple[Month, ...]:
    """The ``count`` calendar months that end with the month of ``today``, oldest first."""
    months = [Month.of(today)]
    for _ in range(check_months(count) - 1):
        months.append(months[-1].previous())
    return tuple(reversed(months))


def median(values: Sequence[Fraction | int]) -> Fraction | None:
    """The median of ``values`` (the mean of the middle two of an even count), exactly; None if empty."""
    if not values:
        return None
    ordered = sorted(Fraction(v) for v in values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def streaks(hits: Sequence[bool], *, last_in_progress: bool = False) -> tuple[int, int]:
    """(current, longest) runs of consecutive True in ``hits`` (oldest first). A last entry still in
    progress extends the current run when True and, when False, neither breaks nor extends it."""
    longest = run = 0
    for hit in hits:
        run = run + 1 if hit else 0
        longest = max(longest, run)
    if last_in_progress and hits and not hits[-1]:
        current = 0
        for hit in reversed(hits[:-1]):
            if not hit:
                break
            current += 1
        return current, longest
    return run, longest


def longest_run(hits: Sequence[bool]) -> tuple[int, int] | None:
    """(start index, length) of the latest longest run of True in ``hits``; None when there is none."""
    best: tuple[int, int] | None = None
    start = 0
    for i, hit in enumerate([*hits, False]):
        if hit:
            continue
        length = i - start
        if length and (best is None or length >= best[1]):
            best = (start, length)
        start = i + 1
    return best


def _days(month: Month, today: date) -> list[date]:
    """The days of ``month`` up to ``today``."""
    end = min(month.last, today)
    return [month.first + timedelta(days=n) for n in range((end - month.first).days + 1)]


def _in_force(
    periods: Sequence[CapacityPeriod], days: Sequence[date]
) -> list[CapacityPeriod | None]:
    """The period in force on each of ``days`` (the latest started on or before it, in ledger order)."""
    ordered = sorted(periods, key=lambda p: (p.effective_from, p.seq))
    found: list[CapacityPeriod | None] = []
    for day in days:
        current = None
        for period in ordered:
            if period.effective_from <= day:
                current = period
        found.append(current)
    return found


def month_capacity_mg(periods: Sequence[CapacityPeriod], month: Month) -> int | None:
    """The capacity of a calendar month: the 30-day limit in force on each of its days, averaged over
    the month (a change in the middle of a month counts for the days it was in force); None when the
    mine has no recorded capacity."""
    if not periods:
        return None
    days = _days(month, month.last)
    return sum(p.limit_mg for p in _in_force(periods, days) if p is not None) // len(days)


def miner_days(periods: Sequence[CapacityPeriod], month: Month, today: date) -> int:
    """The recorded miners on each day of ``month`` up to ``today``, added up."""
    return sum(p.miners for p in _in_force(periods, _days(month, today)) if p is not None)


@dataclass(frozen=True)
class Registration:
    """A live lot a mine registered: its dates and its fine gold as first established."""

    mine: str
    produced_on: date
    registered_on: date
    fine_mg: int
    picker: str | None = None  # normalized national id

    @property
    def lag_days(self) -> int:
        """Days from production to registration."""
        return (self.registered_on - self.produced_on).days


@dataclass(frozen=True)
class MineFacts:
    """What the signals need to know about one mine, gathered once."""

    id: str
    name: str
    region: str | None
    capacity: Sequence[CapacityPeriod]
    certs: Sequence[Cert] = ()
    registrations: Sequence[Registration] = ()


@dataclass(frozen=True)
class Signal:
    """A raised signal: its kind, why in plain words (an English text with ``%(name)s`` figures,
    marked for translation), and the figures the text is made of."""

    kind: str
    text: str
    figures: Mapping[str, int | str | Decimal | Month]


@dataclass(frozen=True)
class MonthFigures:
    """One mine in one month."""

    month: Month
    fine_mg: int
    lots: int
    capacity_mg: int | None
    miner_days: int
    certified: bool
    in_progress: bool
    lag_median: Fraction | None = None
    lag_max: int | None = None
    # The median output per miner and day of the other certified mines of the region, and how many.
    peer_median: Fraction | None = None
    peers: int = 0

    @property
    def share_pct(self) -> int | None:
        """Fine gold registered as a whole percentage of the month's capacity (rounded down)."""
        if not self.capacity_mg:
            return None
        return self.fine_mg * 100 // self.capacity_mg

    @property
    def high_use(self) -> bool:
        """True when the month reached HIGH_USE_PCT of capacity."""
        return self.share_pct is not None and self.share_pct >= HIGH_USE_PCT

    @property
    def per_miner_day(self) -> Fraction | None:
        """Fine milligrams per recorded miner and day (days so far, for a month in progress)."""
        if not self.miner_days:
            return None
        return Fraction(self.fine_mg, self.miner_days)

    @property
    def peer_ratio(self) -> Fraction | None:
        """Output per miner and day as a multiple of the peers' median, when there is one."""
        own = self.per_miner_day
        if own is None or not self.peer_median:
            return None
        return own / self.peer_median


@dataclass(frozen=True)
class PickerRun:
    """A picker's longest run of months at the ceiling, and what she sold in it."""

    person: str
    name: str | None
    first: Month
    last: Month
    months: int
    fine_mg: int


@dataclass(frozen=True)
class MineRisk:
    """A mine's figures by month, its streaks and registration delays, and its signals."""

    mine: str
    name: str
    region: str | None
    certified: bool
    groups: tuple[str, ...]
    months: tuple[MonthFigures, ...]
    current_streak: int
    longest_streak: int
    lag_median: Fraction | None
    lag_max: int | None
    pickers: tuple[PickerRun, ...]
    signals: tuple[Signal, ...]


@dataclass(frozen=True)
class GroupMonth:
    """A group's mines together in one month."""

    month: Month
    fine_mg: int
    capacity_mg: int
    in_progress: bool = False

    @property
    def share_pct(self) -> int | None:
        """Combined fine gold as a whole percentage of the combined capacity (rounded down)."""
        return self.fine_mg * 100 // self.capacity_mg if self.capacity_mg else None


@dataclass(frozen=True)
class GroupRisk:
    """A group of related organizations: its mines' combined output against their combined capacity."""

    name: str
    members: tuple[str, ...]
    mines: tuple[str, ...]
    months: tuple[GroupMonth, ...]
    current_streak: int
    longest_streak: int
    signals: tuple[Signal, ...]


@dataclass(frozen=True)
class Assessment:
    """The signals of every mine (of a region, if asked) and of every group, over ``months``."""

    months: tuple[Month, ...]
    region: str | None
    mines: tuple[MineRisk, ...]
    groups: tuple[GroupRisk, ...]


@dataclass
class _Tally:
    fine_mg: int = 0
    lags: list[int] = field(default_factory=list)


def _figures(mine: MineFacts, months: Sequence[Month], today: date) -> dict[Month, MonthFigures]:
    tallies: dict[Month, _Tally] = defaultdict(_Tally)
    for reg in mine.registrations:
        tally = tallies[Month.of(reg.produced_on)]
        tally.fine_mg += reg.fine_mg
        tally.lags.append(reg.lag_days)
    result = {}
    for month in months:
        tally = tallies.get(month, _Tally())
        days = _days(month, today)
        result[month] = MonthFigures(
            month=month,
            fine_mg=tally.fine_mg,
            lots=len(tally.lags),
            capacity_mg=month_capacity_mg(mine.capacity, month),
            miner_days=miner_days(mine.capacity, month, today),
            certified=any(c.covers("fairmined", d) for c in mine.certs for d in days),
            in_progress=today < month.last,
            lag_median=median(tally.lags),
            lag_max=max(tally.lags, default=None),
        )
    return result


def _with_peers(
    figures: dict[str, dict[Month, MonthFigures]], regions: Mapping[str, str | None]
) -> None:
    """Fill in each month's median of the other certified, producing mines of the same region."""
    for mine, months in figures.items():
        region = regions[mine]
        if region is None:
            continue
        for month, own in months.items():
            peers = []
            for other, theirs in figures.items():
                peer = theirs[month]
                value = peer.per_miner_day
                if other != mine and regions[other] == region and peer.certified and value:
                    peers.append(value)
            if len(peers) >= MIN_PEERS:
                months[month] = replace(own, peer_median=median(peers), peers=len(peers))


def grams(mg: int | Fraction) -> Decimal:
    """Milligrams as grams with three decimals (exact for integers, half up for fractions)."""
    return _decimal(Fraction(mg) / 1000, "0.001")


def _decimal(value: Fraction, places: str) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal(places), rounding=ROUND_HALF_UP
    )


def days_figure(value: Fraction) -> Decimal:
    """A median of days: whole when it is, else with its half."""
    return Decimal(int(value)) if value.denominator == 1 else _decimal(value, "0.1")


def _capacity_signal(months: Sequence[MonthFigures]) -> Signal | None:
    hits = [m.high_use for m in months]
    run = longest_run(hits)
    if run is None or run[1] < CAPACITY_STREAK_MONTHS:
        return None
    start, length = run
    streak = months[start : start + length]
    share = sum(m.share_pct or 0 for m in streak) // length
    return Signal(
        "capacity_streak",
        N_(
            "registered %(share)s %% of capacity for %(months)s months in a row (%(first)s to %(last)s)"
        ),
        {"share": share, "months": length, "first": streak[0].month, "last": streak[-1].month},
    )


def _peer_signal(mine: MineFacts, months: Sequence[MonthFigures]) -> Signal | None:
    high = [m for m in months if m.peer_ratio is not None and m.peer_ratio >= PEER_RATIO]
    if not high:
        return None
    worst = max(high, key=lambda m: (m.peer_ratio or 0, m.month))
    assert worst.per_miner_day is not None and worst.peer_median is not None
    assert worst.peer_ratio is not None
    return Signal(
        "above_region_median",
        N_(
            "%(value)s g per miner per day in %(month)s, %(ratio)s times the median of certified "
            "mines in %(region)s (%(median)s g); months at twice the median or more: %(count)s"
        ),
        {
            "value": _decimal(worst.per_miner_day / 1000, "0.1"),
            "month": worst.month,
            "ratio": _decimal(worst.peer_ratio, "0.1"),
            "region": mine.region or "",
            "median": _decimal(worst.peer_median / 1000, "0.1"),
            "count": len(high),
        },
    )


def _late_signal(lag_median: Fraction | None, lag_max: int | None) -> Signal | None:
    if lag_median is None or lag_max is None or lag_median < LATE_MEDIAN_DAYS:
        return None
    return Signal(
        "late_registration",
        N_(
            "half of its lots were registered %(median)s days or more after production "
            "(at most %(max)s days)"
        ),
        {"median": days_figure(lag_median), "max": lag_max},
    )


def picker_runs(
    registrations: Sequence[Registration],
    months: Sequence[Month],
    names: Mapping[str, str] | None = None,
) -> dict[str, PickerRun]:
    """Each picker whose sales (across every association and mine) reached PICKER_CEILING_PCT of the
    66 g ceiling for PICKER_STREAK_MONTHS months in a row or more: her latest longest run."""
    sold: dict[str, dict[Month, int]] = defaultdict(lambda: defaultdict(int))
    for reg in registrations:
        if reg.picker is not None:
            sold[reg.picker][Month.of(reg.produced_on)] += reg.fine_mg
    ceiling = PICKER_LIMIT_MG * PICKER_CEILING_PCT // 100
    runs = {}
    for person, by_month in sold.items():
        run = longest_run([by_month.get(m, 0) >= ceiling for m in months])
        if run is None or run[1] < PICKER_STREAK_MONTHS:
            continue
        start, length = run
        span = months[start : start + length]
        runs[person] = PickerRun(
            person=person,
            name=(names or {}).get(person),
            first=span[0],
            last=span[-1],
            months=length,
            fine_mg=sum(by_month.get(m, 0) for m in span),
        )
    return runs


def _picker_signal(run: PickerRun) -> Signal:
    return Signal(
        "picker_at_ceiling",
        N_(
            "picker %(person)s sold %(share)s %% or more of the 66 g ceiling for %(months)s months "
            "in a row (%(first)s to %(last)s)"
        ),
        {
            "person": f"{run.name} ({run.person})" if run.name else run.person,
            "share": PICKER_CEILING_PCT,
            "months": run.months,
            "first": run.first,
            "last": run.last,
        },
    )


def _group(
    name: str,
    members: Sequence[str],
    figures: Mapping[str, Mapping[Month, MonthFigures]],
    names: Mapping[str, str],
    months: Sequence[Month],
    today: date,
) -> GroupRisk:
    mines = tuple(m for m in members if m in figures)
    combined = tuple(
        GroupMonth(
            month=month,
            fine_mg=sum(figures[m][month].fine_mg for m in mines),
            capacity_mg=sum(figures[m][month].capacity_mg or 0 for m in mines),
            in_progress=today < month.last,
        )
        for month in months
    )
    hits = [(g.share_pct or 0) >= HIGH_USE_PCT for g in combined]
    current, longest = streaks(hits, last_in_progress=combined[-1].in_progress)
    signals: list[Signal] = []
    run = longest_run(hits)
    if mines and run is not None and run[1] >= GROUP_STREAK_MONTHS:
        start, length = run
        span = combined[start : start + length]
        signals.append(
            Signal(
                "group_capacity_streak",
                N_(
                    "the mines of group %(group)s (%(mines)s) registered %(share)s %% of their "
                    "combined capacity for %(months)s months in a row (%(first)s to %(last)s)"
                ),
                {
                    "group": name,
                    "mines": ", ".join(names.get(m, m) for m in mines),
                    "share": sum(g.share_pct or 0 for g in span) // length,
                    "months": length,
                    "first": span[0].month,
                    "last": span[-1].month,
                },
            )
        )
    return GroupRisk(
        name=name,
        members=tuple(members),
        mines=mines,
        months=combined,
        current_streak=current,
        longest_streak=longest,
        signals=tuple(signals),
    )


def assess(
    mines: Sequence[MineFacts],
    *,
    months: Sequence[Month],
    today: date,
    groups: Mapping[str, Sequence[str]] | None = None,
    picker_names: Mapping[str, str] | None = None,
    region: str | None = None,
) -> Assessment:
    """The signals of every mine of ``region`` (every mine when None) and of every group with a member
    there, over ``months`` (oldest first, the last containing ``today``). ``mines`` holds every mine,
    whatever the region: the medians and the pickers' ceilings count across all of them."""
    if not months:
        raise InvalidInput("a report covers at least one month", fields={"months": "none"})
    figures = {mine.id: _figures(mine, months, today) for mine in mines}
    _with_peers(figures, {mine.id: mine.region for mine in mines})
    names = {mine.id: mine.name for mine in mines}
    everything = [reg for mine in mines for reg in mine.registrations]
    runs = picker_runs(everything, months, picker_names)
    all_groups = {
        name: _group(name, members, figures, names, months, today)
        for name, members in sorted((groups or {}).items())
    }
    shown = [mine for mine in mines if region is None or mine.region == region]
    results = []
    for mine in shown:
        rows = tuple(figures[mine.id][m] for m in months)
        current, longest = streaks(
            [m.high_use for m in rows], last_in_progress=rows[-1].in_progress
        )
        lags = [r.lag_days for r in mine.registrations if Month.of(r.produced_on) in months]
        lag_median, lag_max = median(lags), max(lags, default=None)
        sold_here = {r.picker for r in mine.registrations if r.picker is not None}
        pickers = tuple(runs[p] for p in sorted(sold_here) if p in runs)
        member_of = tuple(name for name, g in all_groups.items() if mine.id in g.members)
        signals = [
            s
            for s in (
                _capacity_signal(rows),
                _peer_signal(mine, rows),
                _late_signal(lag_median, lag_max),
            )
            if s is not None
        ]
        signals += [_picker_signal(run) for run in pickers]
        signals += [s for name in member_of for s in all_groups[name].signals]
        results.append(
            MineRisk(
                mine=mine.id,
                name=mine.name,
                region=mine.region,
                certified=any(c.covers("fairmined", today) for c in mine.certs),
                groups=member_of,
                months=rows,
                current_streak=current,
                longest_streak=longest,
                lag_median=lag_median,
                lag_max=lag_max,
                pickers=pickers,
                signals=tuple(signals),
            )
        )
    results.sort(key=lambda r: (-len(r.signals), r.name, r.mine))
    shown_ids = {mine.id for mine in shown}
    return Assessment(
        months=tuple(months),
        region=region,
        mines=tuple(results),
        groups=tuple(
            g for g in all_groups.values() if region is None or shown_ids & set(g.members)
        ),
    )
