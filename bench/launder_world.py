"""The laundering simulator's world: a ledger on a scratch database, the clock of the synthetic year,
and the two ways anything is written into it, a legitimate operation or a laundering attempt.

Everything goes through ``goldtrace.services``; nothing here writes a row, and every lot operation
states the instant of its synthetic day (``occurred_at``), so the dates the rules judge are the
year's, not the machine's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from random import Random
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.pe import ruc as sunat_ruc

from goldtrace.db.models import Flag as FlagRow
from goldtrace.db.models import LogHead
from goldtrace.domain.flags import SEVERITIES
from goldtrace.domain.organizations import OrgProfile
from goldtrace.errors import GoldtraceError
from goldtrace.services import organizations, registry
from goldtrace.services.context import Context
from goldtrace.services.lots import Written


def ruc(prefix: str, serial: int) -> str:
    """An 11-digit RUC with SUNAT's check digit (prefix 10 or 20 and an 8-digit serial)."""
    base = f"{prefix}{serial:08d}"
    return base + sunat_ruc.calc_check_digit(base)


def instant(day: date, hour: int = 15, minute: int = 0) -> str:
    """The RFC 3339 instant of ``day`` at ``hour``:``minute`` UTC (15:00Z is 10:00 in Lima)."""
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00.000Z"


@dataclass(frozen=True)
class SeenFlag:
    """A flag raised by a write: its kind and severity."""

    kind: str
    severity: str


@dataclass
class Attempt:
    """One laundering attempt: the illegal fine gold it tried to bring in and what became of it."""

    method: str
    illegal_mg: int
    outcome: str = "silent"  # refused, high, review or silent
    code: str | None = None
    kinds: tuple[str, ...] = ()


@dataclass
class World:
    """The session, the clock and the bookkeeping of one simulator run."""

    session: Session
    ctx: Context
    rng: Random
    # The attacks draw from their own generator, so the legitimate year is the same with or
    # without any one of them.
    attack_rng: Random
    start: date
    body: str = "arm"
    today: date = field(init=False)
    attempts: list[Attempt] = field(default_factory=list)
    legit_events: int = 0
    legit_flagged: Counter[str] = field(default_factory=Counter)
    legit_flagged_events: int = 0
    legit_refused: Counter[str] = field(default_factory=Counter)
    setup_refused: Counter[str] = field(default_factory=Counter)
    refusal_examples: dict[str, str] = field(default_factory=dict)
    # The organizations, pickers and pairs an attack works through, by method, for the risk signals.
    suspects: dict[str, str] = field(default_factory=dict)
    serial: int = 0
    log_events: int = 0
    # The lot operations' results since the current attempt began, for the flags they returned.
    written: list[Written] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.today = self.start

    def day(self, offset: int) -> date:
        """The date ``offset`` days into the synthetic year."""
        return self.start + timedelta(days=offset)

    def next_serial(self) -> int:
        """A fresh number for ids, RUCs and references."""
        self.serial += 1
        return self.serial

    # -- calling services ------------------------------------------------------------------------

    def call(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        """Call the service ``fn(session, ctx, **kwargs)``; a lot operation's result is kept for
        the flags it returned."""
        result = fn(self.session, self.ctx, **kwargs)
        if isinstance(result, Written):
            self.written.append(result)
        return result

    def onboard(self, *, authorize: str | None = None, **fields: Any) -> str:
        """The standard body registers an organization (authorized for the whole year when
        ``authorize`` names a role); return its id."""
        profile = OrgProfile(**fields)
        self.call(organizations.register_org, actor=self.body, profile=profile)
        if authorize is not None:
            self.call(
                registry.record_authorization,
                actor=self.body,
                org_id=profile.id,
                role=authorize,
                valid_from=self.start - timedelta(days=60),
                valid_until=self.start + timedelta(days=500),
            )
        return profile.id

    def certify(
        self,
        mine: str,
        category: str = "fairmined",
        *,
        valid_from: date | None = None,
        valid_until: date | None = None,
    ) -> str:
        """The standard body certifies a mine; return the certificate number."""
        number = f"FM-SIM-{self.next_serial():05d}"
        self.call(
            registry.record_certification,
            actor=self.body,
            org_id=mine,
            category=category,
            number=number,
            valid_from=valid_from or self.start - timedelta(days=90),
            valid_until=valid_until or self.start + timedelta(days=500),
            certifier="IMO Swiss AG (ficticio)",
        )
        return number

    # -- legitimate work -------------------------------------------------------------------------

    def log_size(self) -> int:
        """Events in the ledger so far."""
        return int(self.session.execute(select(LogHead.size)).scalar_one())

    @contextmanager
    def legit_day(self) -> Iterator[None]:
        """One simulated day of legitimate work in one transaction; its events are counted."""
        self._end_reads()
        with self.session.begin():
            before = self.log_size()
            yield
            after = self.log_size()
            self._count_legit_flags(before, after)
        self.legit_events += after - before

    def _end_reads(self) -> None:
        # Reading a lot to size an attempt begins a transaction; it wrote nothing.
        if self.session.in_transaction():
            self.session.commit()

    def op(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        """A legitimate operation in its own savepoint: its result, or None when it is refused."""
        try:
            with self.session.begin_nested():
                return self.call(fn, **kwargs)
        except GoldtraceError as exc:
            key = f"{fn.__name__}: {exc.code}"
            self.legit_refused[key] += 1
            self.refusal_examples.setdefault(key, f"{self.today}: {exc.message}")
            return None

    def _count_legit_flags(self, first: int, end: int) -> None:
        rows = self.session.execute(
            select(FlagRow).where(FlagRow.seq >= first, FlagRow.seq < end)
        ).scalars()
        by_seq: dict[int, set[str]] = {}
        for row in rows:
            by_seq.setdefault(row.seq, set()).add(f"{row.kind} ({row.severity})")
        self.legit_flagged_events += len(by_seq)
        for kinds in by_seq.values():
            self.legit_flagged.update(kinds)

    # -- laundering attempts ---------------------------------------------------------------------

    def setup(self, label: str, steps: Callable[[], Any]) -> Any:
        """An attack's preparation (honest-looking work it builds on), in its own transaction and
        counted neither as legitimate nor as an attempt: its result, or None when refused."""
        self._end_reads()
        try:
            with self.session.begin():
                return steps()
        except GoldtraceError as exc:
            self.setup_refused[f"{label}: {exc.code}"] += 1
            return None

    def attempt(self, method: str, illegal_mg: int, steps: Callable[[], Any]) -> Attempt:
        """Run one laundering attempt in its own transaction and classify its illegal gold.

        ``steps`` calls the services; it may return a verdict of its own (``("refused", code)``)
        when the refusal shows only afterwards, as for a certificate that outlives its lot.
        """
        result = Attempt(method=method, illegal_mg=illegal_mg)
        self.written = []
        self._end_reads()
        try:
            with self.session.begin():
                before = self.log_size()
                verdict = steps()
                after = self.log_size()
                flags = self._flags(before, after, self.written)
        except GoldtraceError as exc:
            result.outcome, result.code = "refused", exc.code
            self.attempts.append(result)
            return result
        if isinstance(verdict, tuple) and verdict[0] == "refused":
            result.outcome, result.code = "refused", verdict[1]
        elif flags:
            top = max(flags, key=lambda f: SEVERITIES.index(f.severity))
            result.outcome = top.severity if top.severity in ("high", "review") else "silent"
            result.kinds = tuple(sorted({f"{f.kind} ({f.severity})" for f in flags}))
        self.attempts.append(result)
        return result

    def _flags(self, first: int, end: int, written: list[Written]) -> set[SeenFlag]:
        found = {
            SeenFlag(row.kind, row.severity)
            for row in self.session.execute(
                select(FlagRow).where(FlagRow.seq >= first, FlagRow.seq < end)
            ).scalars()
        }
        for w in written:
            found |= {SeenFlag(f.kind, f.severity) for f in w.flags}
        return found
