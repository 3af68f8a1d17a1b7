"""Chain-of-custody report data for one lot family, one organization or the whole ledger over a period.

The mass balance is computed twice from the events: as flows (opening + production + receipts +
transformation outputs + adjustments - dispatches - transformation inputs) and as the stock of the lots
each organization holds at the end. The two must agree to the milligram; any difference is a finding.
Voided events and the voids themselves are left out: a void restores exactly the state before the
voided event, and nothing can have built on a voided event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from goldtrace.db.models import (
    Authorization,
    Certification,
    CertificationStatus,
    Event,
    Flag,
    LotEvent,
    Organization,
    Voided,
)
from goldtrace.domain.lots import OTHER_LOSS_PPM, RECEIPT_TOLERANCE_PPM, REFINING_LOSS_PPM
from goldtrace.domain.quantities import fine_mg
from goldtrace.services import premiums
from goldtrace.services.transparency import latest_checkpoint

PAGE = 5000
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


@dataclass
class Report:
    """Everything a chain-of-custody report shows."""

    scope: ReportScope
    organizations: list[dict[str, Any]] = field(default_factory=list)
    balances: list[Balance] = field(default_factory=list)
    premiums: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    bars: list[dict[str, Any]] = field(default_factory=list)
    events: int = 0
    checkpoint: str | None = None

    @property
    def reconciles(self) -> bool:
        """True when every balance closes to zero difference."""
        return all(b.difference == 0 for b in self.balances)

    def as_json(self) -> dict[str, Any]:
        """Return the report as JSON-ready data (masses in integer fine milligrams)."""
        return {
            "scope": {
                "kind": self.scope.kind,
                "key": self.scope.key,
                "from": self.scope.start.isoformat() if self.scope.start else None,
                "until": self.scope.until.isoformat() if self.scope.until else None,
            },
            "events": self.events,
            "reconciles": self.reconciles,
            "organizations": self.organizations,
            "mass_balance_fine_mg": [
                {**asdict(b), "expected_closing": b.expected_closing} for b in self.balances
            ],
            "premiums_cents": self.premiums,
            "findings": [asdict(f) for f in self.findings],
            "bars": self.bars,
            "checkpoint": self.checkpoint,
            "how_to_verify": VERIFY_NOTE,
        }


VERIFY_NOTE = (
    "The checkpoint is a C2SP signed note by the log key served at /api/v1/log/key. Every event "
    "named here by its seq is a leaf of that log: fetch /api/v1/events/<seq>, check that SHA-256 of "
    "its body is its hash, and check its leaf against the checkpoint root with "
    "/api/v1/log/proof/inclusion?seq=<seq>&size=<checkpoint size>; or run `goldtrace audit --url`."
)


@dataclass
class _LotState:
    holder: str
    category: str
    mass_mg: int
    fineness: int
    form: str
    active: bool = True
    in_transit_fine: int = 0
    created_seq: int = 0
    created_by: str = ""
    created_on: str = ""

    @property
    def fine(self) -> int:
        return fine_mg(self.mass_mg, self.fineness)


def _event_pages(
    session: Session, until: date | None
) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    last = -1
    while True:
        query = (
            select(Event.seq, Event.body).where(Event.seq > last).order_by(Event.seq).limit(PAGE)
        )
        rows = session.execute(query).all()
        if not rows:
            return
        last = rows[-1].seq
        page = [(r.seq, json.loads(r.body)) for r in rows]
        if until is not None:
            page = [
                (s, b) for s, b in page if str(b.get("occurred_at", ""))[:10] <= until.isoformat()
            ]
        yield page


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


class _Ledger:
    """The replay that feeds the report: lot states, flows per (org, category), findings."""

    def __init__(self, scope: ReportScope, lots: set[str] | None, voided: dict[int, int]) -> None:
        self.scope = scope
        self.lots_in_scope = lots
        self.voided = voided
        self.state: dict[str, _LotState] = {}
        self.balances: dict[tuple[str, str], Balance] = {}
        self.findings: list[Finding] = []
        self.events = 0
        self.orgs: set[str] = set()

    def _counted(self, lot: str) -> bool:
        return self.lots_in_scope is None or lot in self.lots_in_scope

    def _org_counted(self, org: str) -> bool:
        return self.scope.kind != "org" or org == self.scope.key

    def _flow(
        self, org: str, category: str, column: str, mg: int, lot: str, in_period: bool
    ) -> None:
        if not self._counted(lot) or not self._org_counted(org):
            return
        bal = self.balances.setdefault((org, category), Balance(org, category))
        self.orgs.add(org)
        if in_period:
            setattr(bal, column, getattr(bal, column) + mg)
        else:
            # Before the period every flow only moves the opening stock.
            sign = -1 if column in ("dispatches", "transform_in") else 1
            bal.opening += sign * mg

    def apply(self, seq: int, body: dict[str, Any]) -> None:
        kind = body.get("type")
        if seq in self.voided or kind == "event.void":
            return
        day = str(body.get("occurred_at", ""))[:10]
        in_period = self.scope.start is None or day >= self.scope.start.isoformat()
        actor = str(body.get("actor"))
        if kind == "lot.register":
            lot = body["lot"]
            st = _LotState(
                actor,
                lot["category"],
                lot["mass_mg"],
                lot["fineness"],
                lot["form"],
                True,
                0,
                seq,
                actor,
                day,
            )
            self.state[lot["id"]] = st
            self._flow(actor, st.category, "production", st.fine, lot["id"], in_period)
        elif kind == "lot.dispatch":
            lot_id = str(body["lot"])
            st = self.state[lot_id]
            st.in_transit_fine = st.fine
            st.active = False
            self._flow(actor, st.category, "dispatches", st.fine, lot_id, in_period)
            self._note(in_period, lot_id, actor, body.get("to"))
        elif kind == "lot.receive":
            lot_id = str(body["lot"])
            st = self.state[lot_id]
            sent_mass = st.mass_mg
            st.mass_mg = int(body["mass_mg"])
            if "fineness" in body:
                st.fineness = int(body["fineness"])
            st.holder, st.active = actor, True
            self._flow(actor, st.category, "receipts", st.fine, lot_id, in_period)
            if in_period and self._counted(lot_id):
                self._receipt_findings(seq, actor, lot_id, sent_mass, st)
        elif kind == "lot.assay":
            lot_id = str(body["lot"])
            st = self.state[lot_id]
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
            self._counted(lot) for lot in _lots_of(kind, body)
        ):
            return False
        return self.scope.kind != "org" or self.scope.key in (actor, body.get("to"))

    def _note(self, in_period: bool, lot: str, *orgs: Any) -> None:
        """Name the parties of a dispatch among the organizations involved, when it is in scope."""
        parties = {str(o) for o in orgs if o is not None}
        if not (in_period and self._counted(lot)):
            return
        if self.scope.kind == "org" and self.scope.key not in parties:
            return
        self.orgs.update(parties)

    def _receipt_findings(self, seq: int, actor: str, lot: str, sent: int, st: _LotState) -> None:
        if st.in_transit_fine != st.fine:
            self.findings.append(
                Finding(
                    "in_transit_difference",
                    seq,
                    actor,
                    lot,
                    f"dispatched {st.in_transit_fine} mg fine, received {st.fine} mg fine",
                )
            )
        if abs(st.mass_mg - sent) * 1_000_000 > sent * RECEIPT_TOLERANCE_PPM:
            self.findings.append(
                Finding(
                    "weight_discrepancy",
                    seq,
                    actor,
                    lot,
                    f"dispatched {sent} mg, received {st.mass_mg} mg",
                )
            )

    def _transform(
        self, seq: int, body: dict[str, Any], actor: str, day: str, in_period: bool
    ) -> None:
        inputs = [str(i) for i in body["inputs"]]
        fine_in = 0
        for lot_id in inputs:
            st = self.state[lot_id]
            fine_in += st.fine
            st.active = False
            self._flow(actor, st.category, "transform_in", st.fine, lot_id, in_period)
        fine_out = 0
        for out in body["outputs"]:
            st = _LotState(
                actor,
                out["category"],
                out["mass_mg"],
                out["fineness"],
                out["form"],
                True,
                0,
                seq,
                actor,
                day,
            )
            self.state[str(out["id"])] = st
            fine_out += st.fine
            self._flow(actor, st.category, "transform_out", st.fine, str(out["id"]), in_period)
        scoped = any(self._counted(i) for i in inputs)
        if not (in_period and scoped):
            return
        loss = fine_in - fine_out
        tolerance = REFINING_LOSS_PPM if body.get("kind") == "refine" else OTHER_LOSS_PPM
        if loss * 1_000_000 > fine_in * tolerance:
            self.findings.append(
                Finding(
                    "loss_above_tolerance",
                    seq,
                    actor,
                    inputs[0],
                    f"{body.get('kind')} lost {loss} of {fine_in} mg fine "
                    f"(tolerance {tolerance / 10_000}%)",
                )
            )

    def close(self) -> list[Balance]:
        stock: dict[tuple[str, str], int] = {}
        for lot_id, st in self.state.items():
            if st.active and self._counted(lot_id) and self._org_counted(st.holder):
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


def _organizations(session: Session, orgs: set[str], scope: ReportScope) -> list[dict[str, Any]]:
    start = scope.start or date.min
    until = scope.until or date.max
    result = []
    for org in session.execute(
        select(Organization).where(Organization.id.in_(orgs)).order_by(Organization.id)
    ).scalars():
        certs = []
        for cert in session.execute(
            select(Certification).where(Certification.org_id == org.id).order_by(Certification.id)
        ).scalars():
            if cert.valid_until < start or cert.valid_from > until:
                continue
            statuses = session.execute(
                select(CertificationStatus)
                .where(CertificationStatus.certification_id == cert.id)
                .order_by(CertificationStatus.effective_on, CertificationStatus.seq)
            ).scalars()
            certs.append(
                {
                    "number": cert.number,
                    "category": cert.category,
                    "valid_from": cert.valid_from.isoformat(),
                    "valid_until": cert.valid_until.isoformat(),
                    "statuses": [
                        {"status": s.status, "from": s.effective_on.isoformat()} for s in statuses
                    ],
                }
            )
        auths = [
            {
                "role": a.role,
                "valid_from": a.valid_from.isoformat(),
                "valid_until": a.valid_until.isoformat(),
            }
            for a in session.execute(
                select(Authorization)
                .where(Authorization.org_id == org.id)
                .order_by(Authorization.id)
            ).scalars()
            if not (a.valid_until < start or a.valid_from > until)
        ]
        result.append(
            {
                "id": org.id,
                "name": org.name,
                "kind": org.kind,
                "country": org.country,
                "certifications": certs,
                "authorizations": auths,
            }
        )
    return result


def _premiums(session: Session, orgs: set[str], until: date | None) -> list[dict[str, Any]]:
    rows = []
    committees = session.execute(
        select(Organization.id)
        .where(Organization.id.in_(orgs), Organization.committee.is_not(None))
        .order_by(Organization.id)
    ).scalars()
    for committee in committees:
        totals = premiums.committee_totals(session, committee, until=until)
        rows.append(
            {
                "committee": committee,
                "owed": totals.owed_cents,
                "paid": totals.received_cents,
                "outstanding": totals.owed_cents - totals.received_cents,
            }
        )
    return rows


def _stored_findings(
    session: Session, scope: ReportScope, orgs: set[str], voided: dict[int, int]
) -> list[Finding]:
    found = []
    flags = session.execute(
        select(Flag.seq, Flag.kind, Flag.org_id, Flag.lot_id, Flag.detail, Event.occurred_at)
        .join(Event, Event.seq == Flag.seq)
        .where(Flag.kind.in_(("assay_increase",)))
        .order_by(Flag.seq)
    )
    for row in flags:
        if _in_period(scope, row.occurred_at) and (scope.kind == "ledger" or row.org_id in orgs):
            found.append(Finding(row.kind, row.seq, row.org_id, row.lot_id, row.detail))
    for target, void_seq in sorted(voided.items()):
        event = session.get(Event, target)
        if event is None or not _in_period(scope, event.occurred_at):
            continue
        if scope.kind == "ledger" or event.actor in orgs:
            detail = f"{event.type} voided by event {void_seq}"
            found.append(Finding("voided_event", target, event.actor, None, detail))
    for seq, occurred, body in session.execute(
        select(Event.seq, Event.occurred_at, Event.body).where(Event.type == "capacity.exception")
    ):
        data = json.loads(body)
        if _in_period(scope, occurred) and (scope.kind == "ledger" or data.get("org") in orgs):
            found.append(
                Finding(
                    "capacity_exception",
                    seq,
                    str(data.get("org")),
                    None,
                    f"{data.get('extra_fine_mg')} mg fine extra "
                    f"{data.get('valid_from')}..{data.get('valid_until')}: {data.get('reason')}",
                )
            )
    return found


def _in_period(scope: ReportScope, occurred_at: str) -> bool:
    day = occurred_at[:10]
    if scope.start is not None and day < scope.start.isoformat():
        return False
    return scope.until is None or day <= scope.until.isoformat()


def _bars(ledger: _Ledger, scope: ReportScope) -> list[dict[str, Any]]:
    bars = []
    for lot_id, st in sorted(ledger.state.items()):
        if st.form != "bar" or not ledger._counted(lot_id):
            continue
        if not _in_period(scope, st.created_on) or not ledger._org_counted(st.created_by):
            continue
        bars.append(
            {
                "serial": lot_id,
                "refiner": st.created_by,
                "gross_mg": st.mass_mg,
                "fineness": st.fineness,
                "fine_mg": st.fine,
                "year": int(st.created_on[:4]),
            }
        )
    return bars


def build_report(session: Session, scope: ReportScope) -> Report:
    """Return the chain-of-custody report for ``scope``.

    Reads the ledger page by page; memory grows with the number of lots, not of events.
    """
    voided = {
        seq: void_seq for seq, void_seq in session.execute(select(Voided.seq, Voided.void_seq))
    }
    lots = lot_family(session, scope.key) if scope.kind == "lot" and scope.key else None
    ledger = _Ledger(scope, lots, voided)
    for page in _event_pages(session, scope.until):
        for seq, body in page:
            ledger.apply(seq, body)
    report = Report(scope=scope)
    report.balances = ledger.close()
    orgs = set(ledger.orgs)
    if scope.kind == "org" and scope.key:
        orgs.add(scope.key)
    report.events = ledger.events
    report.organizations = _organizations(session, orgs, scope)
    report.premiums = _premiums(session, orgs, scope.until)
    report.findings = ledger.findings + _stored_findings(session, scope, orgs, voided)
    report.bars = _bars(ledger, scope)
    cp = latest_checkpoint(session)
    report.checkpoint = cp.note if cp is not None else None
    return report
