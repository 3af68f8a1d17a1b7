"""The replay of the lot events that feeds a chain-of-custody report: flows, lot states, findings.

Memory model. The events are read a page at a time and each body is dropped once applied, so the
events themselves cost a page, whatever the size of the ledger. What the replay keeps grows with:

- the lots that can still move at the point reached: every lot registered or made and not yet consumed
  by a transformation (active, or dispatched and not yet received), one compact ``LotState`` each
  (about 250 bytes with its id). A lot a transformation consumes is forgotten once its flows are
  counted: nothing can build on it any more (a voided transformation is never applied, and the
  services refuse to move a consumed lot). Lots of voided registrations and outputs of voided
  transformations are never created;
- the bars of the weight list (one small dict each, kept when a bar is consumed) and the findings;
- the (organization, category) pairs of the balances and the organizations involved (a handful).

So a report over a ledger of 100,000 registered lots that are all still in stock holds 100,000 lot
states; one over a ledger where most gold went on through refining and manufacture holds only the
stock, the pieces and the bars.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from goldtrace.db.models import Event, LotEvent, Voided
from goldtrace.domain.instants import day_in_period
from goldtrace.domain.quantities import fine_mg
from goldtrace.services.seq_windows import seq_windows

PAGE = 5000
# The lot events the replay applies (and the report formats count); every other type changes no lot.
REPLAYED_TYPES = ("lot.register", "lot.dispatch", "lot.receive", "lot.assay", "lot.transform")
FLOWS = (
    "opening",
    "production",
    "receipts",
    "transform_out",
    "adjustments",
    "dispatches",
    "transform_in",
    "closing",
)


@dataclass(frozen=True)
class ReportScope:
    """``kind`` is ledger, org or lot; ``key`` the organization or lot id; the period is inclusive."""

    kind: str = "ledger"
    key: str | None = None
    start: date | None = None
    until: date | None = None

    def in_period(self, occurred_at: str) -> bool:
        """True when the day of an instant or date lies in the period."""
        return day_in_period(occurred_at, self.start, self.until)


@dataclass
class Balance:
    """Fine milligrams through one organization in one category over the period."""

    org: str
    category: str
    opening: int = 0
    production: int = 0
    receipts: int = 0
    transform_out: int = 0
    adjustments: int = 0
    dispatches: int = 0
    transform_in: int = 0
    closing: int = 0
    difference: int = 0

    @property
    def expected_closing(self) -> int:
        """Closing stock as the flows say it must be."""
        return (
            self.opening
            + self.production
            + self.receipts
            + self.transform_out
            + self.adjustments
            - self.dispatches
            - self.transform_in
        )


@dataclass(frozen=True)
class Finding:
    """Something an auditor must look at."""

    kind: str
    seq: int | None
    org: str | None
    lot: str | None
    detail: str
    severity: str = "review"


@dataclass(slots=True)
class LotState:
    """A lot that can still move: holder, category, mass, fineness; ``bar`` is (maker, day of
    making) for a bar, which the weight list needs, and None for every other form."""

    holder: str
    category: str
    mass_mg: int
    fineness: int
    bar: tuple[str, str] | None
    active: bool = True
    in_transit_fine: int = 0

    @property
    def fine(self) -> int:
        """Fine gold in milligrams."""
        return fine_mg(self.mass_mg, self.fineness)


def lot_family(session: Session, lot_id: str) -> set[str]:
    """Return the lot, every lot its gold came from, and every lot its gold went into."""
    family = {lot_id}
    for role_from, role_to in (("output", "input"), ("input", "output")):
        frontier = {lot_id}
        seen = {lot_id}
        while frontier:
            seqs = select(LotEvent.seq).where(
                LotEvent.lot_id.in_(frontier), LotEvent.role == role_from
            )
            found = set(
                session.execute(
                    select(LotEvent.lot_id).where(LotEvent.seq.in_(seqs), LotEvent.role == role_to)
                ).scalars()
            )
            frontier = found - seen
            seen |= found
        family |= seen
    return family


def _lots_of(kind: str, body: dict[str, Any]) -> list[str]:
    """The lots a lot event touches."""
    if kind == "lot.register":
        return [str(body["lot"]["id"])]
    if kind == "lot.transform":
        return [str(i) for i in body["inputs"]] + [str(o["id"]) for o in body["outputs"]]
    return [str(body["lot"])]


def _lot_events(session: Session, until: date | None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(seq, body) of every replayed event up to ``until``, in seq order, one window read at a time."""
    cutoff = until.isoformat() if until is not None else None
    for first, last in seq_windows(session, PAGE):
        rows = session.execute(
            select(Event.seq, Event.body)
            .where(Event.seq.between(first, last), Event.type.in_(REPLAYED_TYPES))
            .order_by(Event.seq)
        ).all()
        for seq, raw in rows:
            body = json.loads(raw)
            if cutoff is None or str(body.get("occurred_at", ""))[:10] <= cutoff:
                yield seq, body


class Replay:
    """Lot states, flows per (organization, category) and findings, event by event (see the module
    docstring for what it keeps). Voided events and the voids themselves are left out: a void
    restores exactly the state before the voided event, and nothing can have built on it."""

    def __init__(self, scope: ReportScope, lots: set[str] | None, voided: dict[int, int]) -> None:
        self.scope = scope
        self.lots_in_scope = lots
        self.voided = voided
        self.lots: dict[str, LotState] = {}
        self.balances: dict[tuple[str, str], Balance] = {}
        self.findings: list[Finding] = []
        self.events = 0
        self.orgs: set[str] = set()
        self._retired_bars: list[dict[str, Any]] = []
        # One string object per organization and category, however many lots name it.
        self._names: dict[str, str] = {}

    def _name(self, text: str) -> str:
        return self._names.setdefault(text, text)

    def counted(self, lot: str) -> bool:
        """Whether a lot is in the scope's lot family (every lot for other scopes)."""
        return self.lots_in_scope is None or lot in self.lots_in_scope

    def org_counted(self, org: str) -> bool:
        """Whether an organization's balances are part of the scope."""
        return self.scope.kind != "org" or org == self.scope.key

    def _flow(
        self, org: str, category: str, column: str, mg: int, lot: str, in_period: bool
    ) -> None:
        if not self.counted(lot) or not self.org_counted(org):
            return
        bal = self.balances.setdefault((org, category), Balance(org, category))
        self.orgs.add(org)
        if in_period:
            setattr(bal, column, getattr(bal, column) + mg)
        else:
            # Before the period every flow only moves the opening stock.
            sign = -1 if column in ("dispatches", "transform_in") else 1
            bal.opening += sign * mg

    def _create(self, actor: str, day: str, lot: dict[str, Any]) -> LotState:
        bar = (actor, day) if lot["form"] == "bar" else None
        st = LotState(
            self._name(actor), self._name(lot["category"]), lot["mass_mg"], lot["fineness"], bar
        )
        self.lots[str(lot["id"])] = st
        return st

    def apply(self, seq: int, body: dict[str, Any]) -> None:
        """Apply one event of the ledger (events must come in seq order)."""
        kind = body.get("type")
        if seq in self.voided or kind == "event.void":
            return
        day = str(body.get("occurred_at", ""))[:10]
        in_period = self.scope.start is None or day >= self.scope.start.isoformat()
        actor = str(body.get("actor"))
        if kind == "lot.register":
            lot = body["lot"]
            st = self._create(actor, day, lot)
            self._flow(actor, st.category, "production", st.fine, lot["id"], in_period)
        elif kind == "lot.dispatch":
            lot_id = str(body["lot"])
            st = self.lots[lot_id]
            st.in_transit_fine = st.fine
            st.active = False
            self._flow(actor, st.category, "dispatches", st.fine, lot_id, in_period)
            self._note(in_period, lot_id, actor, body.get("to"))
        elif kind == "lot.receive":
            lot_id = str(body["lot"])
            st = self.lots[lot_id]
            st.mass_mg = int(body["mass_mg"])
            if "fineness" in body:
                st.fineness = int(body["fineness"])
            st.holder, st.active = self._name(actor), True
            self._flow(actor, st.category, "receipts", st.fine, lot_id, in_period)
        elif kind == "lot.assay":
            lot_id = str(body["lot"])
            st = self.lots[lot_id]
            old = st.fine
            st.fineness = int(body["fineness"])
            self._flow(actor, st.category, "adjustments", st.fine - old, lot_id, in_period)
        elif kind == "lot.transform":
            self._transform(seq, body, actor, day, in_period)
        else:
            return
        if in_period and self._involved(kind, body, actor):
            self.events += 1

    def _involved(self, kind: str, body: dict[str, Any], actor: str) -> bool:
        """Whether an event belongs to the scope: it touches a lot of the scope, or the scoped
        organization acted in it or was sent the lot."""
        if self.lots_in_scope is not None and not any(
            self.counted(lot) for lot in _lots_of(kind, body)
        ):
            return False
        return self.scope.kind != "org" or self.scope.key in (actor, body.get("to"))

    def _note(self, in_period: bool, lot: str, *orgs: Any) -> None:
        """Name the parties of a dispatch among the organizations involved, when it is in scope."""
        parties = {str(o) for o in orgs if o is not None}
        if not (in_period and self.counted(lot)):
            return
        if self.scope.kind == "org" and self.scope.key not in parties:
            return
        self.orgs.update(parties)

    def _transform(
        self, seq: int, body: dict[str, Any], actor: str, day: str, in_period: bool
    ) -> None:
        inputs = [str(i) for i in body["inputs"]]
        fine_in = 0
        for lot_id in inputs:
            st = self.lots[lot_id]
            fine_in += st.fine
            self._flow(actor, st.category, "transform_in", st.fine, lot_id, in_period)
            self._forget(lot_id)
        fine_out = 0
        for out in body["outputs"]:
            st = self._create(actor, day, out)
            fine_out += st.fine
            self._flow(actor, st.category, "transform_out", st.fine, str(out["id"]), in_period)

    def _forget(self, lot_id: str) -> None:
        """Drop a consumed lot, keeping its line of the weight list if it is a bar."""
        entry = self._bar_entry(lot_id, self.lots.pop(lot_id))
        if entry is not None:
            self._retired_bars.append(entry)

    def _bar_entry(self, lot_id: str, st: LotState) -> dict[str, Any] | None:
        if st.bar is None or not self.counted(lot_id):
            return None
        maker, made_on = st.bar
        if not self.scope.in_period(made_on) or not self.org_counted(maker):
            return None
        return {
            "serial": lot_id,
            "refiner": maker,
            "gross_mg": st.mass_mg,
            "fineness": st.fineness,
            "fine_mg": st.fine,
            "year": int(made_on[:4]),
        }

    def bars(self) -> list[dict[str, Any]]:
        """The weight list: every bar of the scope made in the period, by serial, with its last
        state (consumed bars included)."""
        live = (self._bar_entry(lot_id, st) for lot_id, st in self.lots.items())
        entries = self._retired_bars + [e for e in live if e is not None]
        return sorted(entries, key=lambda e: str(e["serial"]))

    def close(self) -> list[Balance]:
        """Set the closing stock and difference of every balance (a difference is a finding);
        return the balances by organization and category."""
        stock: dict[tuple[str, str], int] = {}
        for lot_id, st in self.lots.items():
            if st.active and self.counted(lot_id) and self.org_counted(st.holder):
                key = (st.holder, st.category)
                stock[key] = stock.get(key, 0) + st.fine
        for key in stock.keys() - self.balances.keys():
            self.balances[key] = Balance(*key)
        for key, bal in self.balances.items():
            bal.closing = stock.get(key, 0)
            bal.difference = bal.closing - bal.expected_closing
            if bal.difference:
                self.findings.append(
                    Finding(
                        "mass_balance_difference",
                        None,
                        bal.org,
                        None,
                        f"{bal.category}: closing stock {bal.closing} mg fine, flows give "
                        f"{bal.expected_closing} mg fine",
                    )
                )
        return sorted(self.balances.values(), key=lambda b: (b.org, b.category))


def replay(
    session: Session, scope: ReportScope, progress: Callable[[int], None] | None = None
) -> Replay:
    """Replay the ledger's lot events for ``scope`` up to the end of its period; return the replay
    (balances not yet closed). ``progress`` receives the running count of the scope's events, every
    ``PROGRESS_EVERY`` of them and at the end."""
    voided = {
        seq: void_seq for seq, void_seq in session.execute(select(Voided.seq, Voided.void_seq))
    }
    lots = lot_family(session, scope.key) if scope.kind == "lot" and scope.key else None
    ledger = Replay(scope, lots, voided)
    reported = 0
    for seq, body in _lot_events(session, scope.until):
        ledger.apply(seq, body)
        if progress is not None and ledger.events - reported >= PROGRESS_EVERY:
            reported = ledger.events
            progress(reported)
    if progress is not None:
        progress(ledger.events)
    return ledger


PROGRESS_EVERY = 1000
