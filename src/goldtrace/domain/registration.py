"""A mine's registration of a production lot, decided by one pure function over the facts it needs.

The services gather the facts from tables, ``goldtrace verify`` from its replay of the log and the
laundering simulator from the services: all three hand them to :func:`decide_registration`, so a rule
is written once. Nothing a mine declares is taken on its word alone:

- its capacity is what the standard body recorded (at onboarding, then dated changes backed by
  evidence), never more than miners x 4 g a day;
- a production date may not lie after the registration, nor more than ``max_age_days`` before it
  (unless the standard body granted a dated exception): past windows cannot be banked;
- the 30-day capacity holds over production dates and over registration dates;
- certification is checked on the production date and on the registration date;
- an association of pickers names a registered member for every lot, and each person's 66 g a month
  counts across every association;
- a reference used before by the mine is refused; a look-alike registration is flagged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from goldtrace.domain import certification as certrules
from goldtrace.domain.flags import Flag
from goldtrace.domain.lots import LotView, parse_form
from goldtrace.domain.quantities import FINENESS_SCALE, MAX_MASS_MG, fine_mg
from goldtrace.errors import InvalidInput, RuleViolation

# How long after production a lot may be registered, by default (Settings.registration_max_age_days).
MAX_AGE_DAYS = 31
# A registration whose mass and fineness equal an earlier one produced this close is flagged.
LOOKALIKE_DAYS = 30
# A mine that fills this share of its capacity in three 30-day windows running is flagged high: the
# Fairmined ceiling is a ceiling, not a productivity (Laytaruma exported ten times its production
# while declaring itself at capacity, DOMAIN.md).
SUSTAINED_USE_PERCENT = 90
WINDOW_SPAN = certrules.WINDOW_DAYS


@dataclass(frozen=True)
class CapacityPeriod:
    """A mine's recorded miners and monthly capacity, in force from ``effective_from`` (onboarding:
    ``date.min``) until a later period starts."""

    effective_from: date
    miners: int
    capacity_mg_month: int
    seq: int = 0

    @property
    def limit_mg(self) -> int:
        """The most fine gold the mine may register in any 30-day window under this period."""
        limit = certrules.capacity_limit_mg(self.miners, self.capacity_mg_month)
        assert limit is not None
        return limit


def capacity_on(periods: Sequence[CapacityPeriod], day: date) -> CapacityPeriod:
    """The period in force on ``day`` (the latest that started on or before it, in ledger order)."""
    current = None
    for period in sorted(periods, key=lambda p: (p.effective_from, p.seq)):
        if period.effective_from <= day:
            current = period
    if current is None:
        raise RuleViolation("the mine has no recorded capacity on that date", code="no_capacity")
    return current


@dataclass(frozen=True)
class LateException:
    """The standard body's reviewed permission to register production of [produced_from,
    produced_until] after the usual delay, until ``register_until``."""

    produced_from: date
    produced_until: date
    register_until: date


@dataclass(frozen=True)
class PickerMembership:
    """A person registered by the standard body as selling through an association of pickers."""

    person: str  # normalized national id, e.g. DNI:41000002
    association: str
    valid_from: date
    valid_until: date | None = None

    def active_on(self, day: date) -> bool:
        """True when the membership covers ``day``."""
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


@dataclass(frozen=True)
class Registered:
    """An earlier live registration: its dates and the fine gold counted against the windows (as
    first established: gains by later receipts and assays included)."""

    lot: str
    produced_on: date
    registered_on: date
    fine_mg: int
    mass_mg: int = 0
    fineness: int = 0


@dataclass(frozen=True)
class Totals:
    """Live fine gold registered (as first established), summed by day: by production date and by
    registration date. Only the days within 29 of the dates being judged matter."""

    produced: Mapping[date, int] = field(default_factory=dict)
    registered: Mapping[date, int] = field(default_factory=dict)
    # By production date, the two 30-day windows before the one ending on the production date
    # (days 30 to 89 before it), for the sustained-use flag.
    earlier: Mapping[date, int] = field(default_factory=dict)


class Ledgered:
    """Registrations in memory (of one mine, or naming one person), as ``goldtrace verify`` and the
    simulator keep them: daily totals for the windows and an index for look-alikes, O(1) to change."""

    def __init__(self) -> None:
        self.records: dict[str, Registered] = {}
        self._produced: dict[date, int] = {}
        self._registered: dict[date, int] = {}
        self._alike: dict[tuple[int, int], set[str]] = {}

    def add(self, record: Registered) -> None:
        """Count a new live registration (replacing an earlier record of the same lot)."""
        self.remove(record.lot)
        self.records[record.lot] = record
        self._count(record, 1)
        self._alike.setdefault((record.mass_mg, record.fineness), set()).add(record.lot)

    def remove(self, lot: str) -> None:
        """Forget a voided registration."""
        record = self.records.pop(lot, None)
        if record is not None:
            self._count(record, -1)
            self._alike[(record.mass_mg, record.fineness)].discard(lot)

    def grow(self, lot: str, gain_mg: int) -> None:
        """Count fine gold gained by a receipt or assay of a registered lot (negative: a void of it)."""
        record = self.records[lot]
        self._count(record, -1)
        self.records[lot] = replace(record, fine_mg=record.fine_mg + gain_mg)
        self._count(self.records[lot], 1)

    def totals(self, produced_on: date, registered_on: date) -> Totals:
        """The daily totals near the two dates."""
        return Totals(
            produced=_near(self._produced, produced_on),
            registered=_near(self._registered, registered_on),
            earlier={
                d: mg
                for offset in range(WINDOW_SPAN, 3 * WINDOW_SPAN)
                if (d := produced_on - timedelta(days=offset)) in self._produced
                and (mg := self._produced[d])
            },
        )

    def lookalikes(self, mass_mg: int, fineness: int, produced_on: date) -> list[Registered]:
        """Live registrations of the same mass and fineness produced within LOOKALIKE_DAYS."""
        found = (self.records[lot] for lot in self._alike.get((mass_mg, fineness), ()))
        return sorted(
            (r for r in found if abs((r.produced_on - produced_on).days) <= LOOKALIKE_DAYS),
            key=lambda r: (r.produced_on, r.lot),
        )

    def _count(self, record: Registered, sign: int) -> None:
        for totals, day in (
            (self._produced, record.produced_on),
            (self._registered, record.registered_on),
        ):
            totals[day] = totals.get(day, 0) + sign * record.fine_mg
            if totals[day] == 0:
                del totals[day]


def _near(totals: Mapping[date, int], day: date) -> dict[date, int]:
    span = certrules.WINDOW_DAYS - 1
    found = {}
    for offset in range(-span, span + 1):
        other = day + timedelta(days=offset)
        if other in totals:
            found[other] = totals[other]
    return found


@dataclass(frozen=True)
class RegistrationFacts:
    """Everything :func:`decide_registration` needs to know about the mine, gathered once."""

    mine: str
    mine_name: str
    capacity: Sequence[CapacityPeriod]
    certs: Sequence[certrules.Cert] = ()
    allowances: Sequence[certrules.Allowance] = ()
    late_exceptions: Sequence[LateException] = ()
    pickers_association: bool = False
    # The mine's registered fine gold by day near the dates, and its look-alike registrations.
    totals: Totals = field(default_factory=Totals)
    lookalikes: Sequence[Registered] = ()
    reference_taken: bool = False
    # The named person's memberships, and her registered fine gold near the dates, in every association.
    memberships: Sequence[PickerMembership] = ()
    picker_totals: Totals = field(default_factory=Totals)
    max_age_days: int = MAX_AGE_DAYS


@dataclass(frozen=True)
class RegistrationRequest:
    """A lot as the mine asks to register it."""

    form: str
    mass_mg: int
    fineness: int
    category: str
    produced_on: date
    registered_on: date  # the registration instant's date in the mine's time zone
    reference: str | None = None
    picker: str | None = None  # normalized national id

    @property
    def fine_mg(self) -> int:
        """Fine gold in milligrams."""
        return fine_mg(self.mass_mg, self.fineness)


@dataclass(frozen=True)
class Decision:
    """An accepted operation and the flags it raises."""

    flags: list[Flag] = field(default_factory=list)


def decide_registration(facts: RegistrationFacts, req: RegistrationRequest) -> Decision:
    """Accept the registration (with its flags) or raise the GoldtraceError of the first broken rule."""
    parse_form(req.form)
    certrules.parse_category(req.category)
    if not 0 < req.mass_mg <= MAX_MASS_MG:
        raise InvalidInput("mass must be positive and plausible", fields={"mass_g": "out of range"})
    if not 0 <= req.fineness <= FINENESS_SCALE:
        raise InvalidInput("fineness must be 0 to 1000 per mille", fields={"fineness": "range"})
    _check_dates(facts, req)
    certrules.check_certified(facts.mine, req.category, req.produced_on, facts.certs)
    certrules.check_certified(
        facts.mine,
        req.category,
        req.registered_on,
        facts.certs,
        code="not_certified_on_registration",
    )
    if facts.reference_taken:
        raise RuleViolation(
            f"{facts.mine_name} already registered a lot with reference {req.reference!r}",
            code="duplicate_reference",
            fields={"reference": "already used"},
        )
    check_capacity(
        facts, produced_on=req.produced_on, registered_on=req.registered_on, new_mg=req.fine_mg
    )
    _check_picker(facts, req)
    return Decision(flags=_lookalikes(facts, req) + _sustained_use(facts, req))


def _sustained_use(facts: RegistrationFacts, req: RegistrationRequest) -> list[Flag]:
    """A high flag on the registration that takes the 30-day window ending on its production date
    to 90 % of the capacity when the two windows before it were there already."""
    p = req.produced_on
    shares = []
    for back in range(3):
        end = p - timedelta(days=back * WINDOW_SPAN)
        start = end - timedelta(days=WINDOW_SPAN - 1)
        days = facts.totals.produced if back == 0 else facts.totals.earlier
        total = sum(mg for d, mg in days.items() if start <= d <= end)
        shares.append((total, capacity_on(facts.capacity, end).limit_mg))
    (now, limit), *earlier = shares
    crosses = now * 100 < limit * SUSTAINED_USE_PERCENT <= (now + req.fine_mg) * 100
    if not crosses or any(mg * 100 < cap * SUSTAINED_USE_PERCENT for mg, cap in earlier):
        return []
    return [
        Flag(
            "sustained_high_use",
            None,
            f"{facts.mine_name} registered {SUSTAINED_USE_PERCENT} % or more of its capacity in "
            "three 30-day windows running",
            "high",
            {
                "window_mg": now + req.fine_mg,
                "limit_mg": limit,
                "previous_mg": earlier[0][0],
                "before_mg": earlier[1][0],
            },
        )
    ]


def check_capacity(
    facts: RegistrationFacts, *, produced_on: date, registered_on: date, new_mg: int
) -> None:
    """Raise ``capacity_exceeded`` if ``new_mg`` more fine gold, produced and registered on these
    dates, puts any 30-day window of the mine over its limit, by production or by registration date."""
    for dated, day, history in (
        ("produced", produced_on, facts.totals.produced),
        ("registered", registered_on, facts.totals.registered),
    ):
        limit = capacity_on(facts.capacity, day).limit_mg
        certrules.check_window(
            day=day,
            new_mg=new_mg,
            history=history.items(),
            limit_mg=limit,
            exceptions=facts.allowances,
            code="capacity_exceeded",
            who=f"{facts.mine_name} ({dated})",
        )


def gain_request(lot: LotView, picker: str | None) -> RegistrationRequest:
    """A registered lot as the request whose windows a gain on it counts in (its own dates)."""
    assert lot.produced_on is not None
    return RegistrationRequest(
        form=lot.form,
        mass_mg=lot.mass_mg,
        fineness=lot.fineness,
        category=lot.category,
        produced_on=lot.produced_on,
        registered_on=lot.registered_on or lot.produced_on,
        picker=picker,
    )


def check_established_gain(
    facts: RegistrationFacts, lot: RegistrationRequest, gain_mg: int
) -> None:
    """Raise when fine gold gained by a receipt or assay of a mine's registered lot (its gold as first
    established) would put the mine's, or the picker's, 30-day windows over their limits."""
    check_capacity(
        facts, produced_on=lot.produced_on, registered_on=lot.registered_on, new_mg=gain_mg
    )
    if lot.picker is not None:
        _check_picker_windows(facts, lot.picker, lot.produced_on, lot.registered_on, gain_mg)


def reference_key(reference: str | None) -> str | None:
    """A lot reference as compared for duplicates: spacing and case folded."""
    return " ".join(reference.split()).casefold() if reference else None


def _check_dates(facts: RegistrationFacts, req: RegistrationRequest) -> None:
    if req.produced_on > req.registered_on:
        raise RuleViolation(
            f"the production date {req.produced_on} lies after the registration date "
            f"{req.registered_on} (in the mine's time zone)",
            code="produced_in_future",
            fields={"produced_on": "in the future"},
        )
    age = (req.registered_on - req.produced_on).days
    if age <= facts.max_age_days:
        return
    if any(
        e.produced_from <= req.produced_on <= e.produced_until
        and req.registered_on <= e.register_until
        for e in facts.late_exceptions
    ):
        return
    raise RuleViolation(
        f"the production date {req.produced_on} is {age} days before the registration; at most "
        f"{facts.max_age_days} are allowed without the standard body's exception",
        code="registered_too_late",
        fields={"produced_on": "too old"},
    )


def _check_picker(facts: RegistrationFacts, req: RegistrationRequest) -> None:
    if not facts.pickers_association:
        if req.picker is not None:
            raise InvalidInput(
                f"{facts.mine_name} is not an association of pickers: a lot names no picker",
                code="picker_not_applicable",
                fields={"picker": "not applicable"},
            )
        return
    if req.picker is None:
        raise InvalidInput(
            f"{facts.mine_name} is an association of pickers: name the picker (her national id)",
            code="picker_required",
            fields={"picker": "required"},
        )
    mine = [m for m in facts.memberships if m.person == req.picker and m.association == facts.mine]
    if not mine:
        raise RuleViolation(
            f"{req.picker} is not a registered picker of {facts.mine_name}",
            code="unknown_picker",
            fields={"picker": "not registered"},
        )
    for day in (req.produced_on, req.registered_on):
        if not any(m.active_on(day) for m in mine):
            raise RuleViolation(
                f"{req.picker} is not an active picker of {facts.mine_name} on {day}",
                code="picker_inactive",
                fields={"picker": "inactive"},
            )
    _check_picker_windows(facts, req.picker, req.produced_on, req.registered_on, req.fine_mg)


def _check_picker_windows(
    facts: RegistrationFacts, picker: str, produced_on: date, registered_on: date, new_mg: int
) -> None:
    for day, history in (
        (produced_on, facts.picker_totals.produced),
        (registered_on, facts.picker_totals.registered),
    ):
        certrules.check_window(
            day=day,
            new_mg=new_mg,
            history=history.items(),
            limit_mg=certrules.PICKER_LIMIT_MG,
            code="picker_limit_exceeded",
            who=f"picker {picker}",
        )


def _lookalikes(facts: RegistrationFacts, req: RegistrationRequest) -> list[Flag]:
    for earlier in facts.lookalikes:
        close = abs((earlier.produced_on - req.produced_on).days) <= LOOKALIKE_DAYS
        if close and (earlier.mass_mg, earlier.fineness) == (req.mass_mg, req.fineness):
            return [
                Flag(
                    "possible_duplicate",
                    None,
                    f"same mass and fineness as lot {earlier.lot}, produced {earlier.produced_on}",
                    "review",
                    {"earlier_lot": earlier.lot, "mass_mg": req.mass_mg, "fineness": req.fineness},
                )
            ]
    return []


_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def check_capacity_change(
    change: CapacityPeriod, *, reason: str, evidence_sha256: str | None
) -> None:
    """Raise InvalidInput unless a capacity change is complete: positive figures, a reason, and
    evidence (if any) as a SHA-256 in hex."""
    for name, value in (("miners", change.miners), ("capacity_mg_month", change.capacity_mg_month)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise InvalidInput(f"{name} must be a positive integer", fields={name: "not positive"})
    if not reason.strip():
        raise InvalidInput("a capacity change needs a reason", fields={"reason": "empty"})
    if evidence_sha256 is not None and not _SHA256_HEX.fullmatch(evidence_sha256.lower()):
        raise InvalidInput(
            "evidence must be the SHA-256 of the document, 64 hex digits",
            fields={"evidence_sha256": "not a SHA-256"},
        )


def check_late_exception(exception: LateException, *, reason: str) -> None:
    """Raise InvalidInput unless a late-registration exception is a real period with a reason."""
    if exception.produced_until < exception.produced_from:
        raise InvalidInput("the period ends before it starts", fields={"until": "before from"})
    if exception.register_until < exception.produced_until:
        raise InvalidInput(
            "registration must be allowed until after the period",
            fields={"register_until": "early"},
        )
    if not reason.strip():
        raise InvalidInput("an exception needs a reason", fields={"reason": "empty"})


def check_membership(membership: PickerMembership, *, name: str) -> None:
    """Raise InvalidInput unless a picker's membership names her and has a real period."""
    if not name.strip():
        raise InvalidInput("the picker's name is empty", fields={"name": "empty"})
    if membership.valid_until is not None and membership.valid_until < membership.valid_from:
        raise InvalidInput("the membership ends before it starts", fields={"until": "before from"})
