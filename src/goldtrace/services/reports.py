"""Chain-of-custody report data for one lot family, one organization or the whole ledger over a period.

The mass balance is computed twice from the events: as flows (opening + production + receipts +
transformation outputs + adjustments - dispatches - transformation inputs) and as the stock of the lots
each organization holds at the end. The two must agree to the milligram; any difference is a finding.
Voided events and the voids themselves are left out: a void restores exactly the state before the
voided event, and nothing can have built on a voided event. The replay of the events, and what it
keeps in memory, is ``report_replay``; this module adds what the database states besides the events
(organizations, certifications, premiums, stored flags) and the anchoring checkpoint.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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
    Organization,
)
from goldtrace.services import premiums
from goldtrace.services.report_replay import FLOWS as FLOWS
from goldtrace.services.report_replay import Balance as Balance
from goldtrace.services.report_replay import Finding as Finding
from goldtrace.services.report_replay import Replay
from goldtrace.services.report_replay import ReportScope as ReportScope
from goldtrace.services.report_replay import lot_family as lot_family
from goldtrace.services.report_replay import replay as replay
from goldtrace.services.transparency import latest_checkpoint


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
    session: Session, scope: ReportScope, orgs: set[str], ledger: Replay
) -> list[Finding]:
    """The flags the rules raised when each event was written (one rule, one place: the report does
    not judge the events again), for the scope and period; then the voided events."""
    voided = ledger.voided
    found = []
    flags = session.execute(
        select(
            Flag.seq,
            Flag.kind,
            Flag.severity,
            Flag.org_id,
            Flag.lot_id,
            Flag.detail,
            Event.occurred_at,
        )
        .join(Event, Event.seq == Flag.seq)
        .where(Flag.kind != "voided_event")
        .order_by(Flag.seq, Flag.id)
    )
    for row in flags:
        if not scope.in_period(row.occurred_at) or row.seq in voided:
            continue
        if scope.kind == "lot" and not (row.lot_id is not None and ledger.counted(row.lot_id)):
            continue
        if scope.kind == "ledger" or row.org_id in orgs:
            found.append(
                Finding(row.kind, row.seq, row.org_id, row.lot_id, row.detail, row.severity)
            )
    for target, void_seq in sorted(voided.items()):
        event = session.get(Event, target)
        if event is None or not scope.in_period(event.occurred_at):
            continue
        if scope.kind == "ledger" or event.actor in orgs:
            detail = f"{event.type} voided by event {void_seq}"
            found.append(Finding("voided_event", target, event.actor, None, detail, "info"))
    for seq, occurred, body in session.execute(
        select(Event.seq, Event.occurred_at, Event.body).where(Event.type == "capacity.exception")
    ):
        data = json.loads(body)
        if scope.in_period(occurred) and (scope.kind == "ledger" or data.get("org") in orgs):
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


def build_report(
    session: Session, scope: ReportScope, progress: Callable[[int], None] | None = None
) -> Report:
    """Return the chain-of-custody report for ``scope``; ``progress`` receives the running count
    of the scope's events replayed.

    Reads the ledger page by page; memory grows with the lots that can still move (not consumed by
    a transformation) and the bars, not with the events: see ``report_replay``.
    """
    ledger = replay(session, scope, progress)
    report = Report(scope=scope)
    report.balances = ledger.close()
    orgs = set(ledger.orgs)
    if scope.kind == "org" and scope.key:
        orgs.add(scope.key)
    report.events = ledger.events
    report.organizations = _organizations(session, orgs, scope)
    report.premiums = _premiums(session, orgs, scope.until)
    report.findings = ledger.findings + _stored_findings(session, scope, orgs, ledger)
    report.bars = ledger.bars()
    cp = latest_checkpoint(session)
    report.checkpoint = cp.note if cp is not None else None
    return report
