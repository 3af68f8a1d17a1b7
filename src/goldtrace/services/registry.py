"""What the standard body records: certifications and their status, authorizations, capacity exceptions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from goldtrace.db.models import (
    Authorization,
    CapacityException,
    Certification,
    CertificationStatus,
)
from goldtrace.domain import certification as rules
from goldtrace.errors import Conflict, InvalidInput, NotFound, RuleViolation
from goldtrace.services.context import Context
from goldtrace.services.log import Draft, append
from goldtrace.services.organizations import get_org, require_standard_body


def _period(valid_from: date, valid_until: date) -> None:
    if valid_until < valid_from:
        raise InvalidInput("the validity ends before it starts", fields={"until": "before from"})


def record_certification(
    session: Session,
    ctx: Context,
    *,
    actor: str,
    org_id: str,
    category: str,
    number: str,
    valid_from: date,
    valid_until: date,
    certifier: str | None = None,
) -> Certification:
    """Standard body: record that a mine is certified ``category`` from ``valid_from`` to ``valid_until``."""
    require_standard_body(session, actor)
    org = get_org(session, org_id)
    if org.kind != "mine":
        raise RuleViolation(
            f"{org_id} is a {org.kind}; only mines are certified", code="not_a_mine"
        )
    if category not in rules.CERTIFIED_CATEGORIES:
        raise InvalidInput(
            "category must be fairmined or fairmined_ecological", fields={"category": "unknown"}
        )
    number = number.strip()
    if not number:
        raise InvalidInput("the certificate number is empty", fields={"number": "empty"})
    _period(valid_from, valid_until)
    if session.execute(select(Certification).where(Certification.number == number)).first():
        raise Conflict(f"certificate {number} is already recorded", code="duplicate_certificate")
    fields: dict[str, object] = {
        "org": org_id,
        "category": category,
        "number": number,
        "valid_from": valid_from.isoformat(),
        "valid_until": valid_until.isoformat(),
    }
    if certifier:
        fields["certifier"] = certifier
    rec = append(session, ctx, Draft(type="cert.record", actor=actor, fields={"cert": fields}))
    row = Certification(
        org_id=org_id,
        category=category,
        number=number,
        certifier=certifier,
        valid_from=valid_from,
        valid_until=valid_until,
        recorded_seq=rec.seq,
    )
    session.add(row)
    session.flush()
    return row


def change_certification_status(
    session: Session, ctx: Context, *, actor: str, number: str, status: str, effective_on: date
) -> CertificationStatus:
    """Standard body: suspend, withdraw or reinstate a certification from a date on."""
    require_standard_body(session, actor)
    if status not in rules.STATUSES:
        raise InvalidInput(
            f"status must be one of {', '.join(rules.STATUSES)}", fields={"status": "unknown"}
        )
    cert = session.execute(
        select(Certification).where(Certification.number == number)
    ).scalar_one_or_none()
    if cert is None:
        raise NotFound(f"no certificate {number}", code="unknown_certification")
    rec = append(
        session,
        ctx,
        Draft(
            type="cert.status",
            actor=actor,
            fields={
                "org": cert.org_id,
                "number": number,
                "status": status,
                "effective_on": effective_on.isoformat(),
            },
        ),
    )
    row = CertificationStatus(
        certification_id=cert.id, status=status, effective_on=effective_on, seq=rec.seq
    )
    session.add(row)
    session.flush()
    return row


def record_authorization(
    session: Session,
    ctx: Context,
    *,
    actor: str,
    org_id: str,
    role: str,
    valid_from: date,
    valid_until: date,
) -> Authorization:
    """Standard body: authorize a trader, refiner or jeweler as Fairmined supplier or licensee."""
    require_standard_body(session, actor)
    org = get_org(session, org_id)
    if org.kind not in ("trader", "refiner", "jeweler"):
        raise RuleViolation(
            f"{org_id} is a {org.kind}; suppliers and licensees are traders, refiners or jewelers",
            code="not_downstream",
        )
    if role not in rules.AUTH_ROLES:
        raise InvalidInput("role must be supplier or licensee", fields={"as": "unknown"})
    _period(valid_from, valid_until)
    fields = {
        "org": org_id,
        "role": role,
        "valid_from": valid_from.isoformat(),
        "valid_until": valid_until.isoformat(),
    }
    rec = append(session, ctx, Draft(type="auth.record", actor=actor, fields={"auth": fields}))
    row = Authorization(
        org_id=org_id, role=role, valid_from=valid_from, valid_until=valid_until, seq=rec.seq
    )
    session.add(row)
    session.flush()
    return row


def record_capacity_exception(
    session: Session,
    ctx: Context,
    *,
    actor: str,
    org_id: str,
    valid_from: date,
    valid_until: date,
    extra_fine_mg: int,
    reason: str,
) -> CapacityException:
    """Standard body: after review, allow a mine extra fine gold in windows touching a period."""
    require_standard_body(session, actor)
    if get_org(session, org_id).kind != "mine":
        raise RuleViolation("capacity exceptions are for mines", code="not_a_mine")
    _period(valid_from, valid_until)
    if extra_fine_mg <= 0 or not reason.strip():
        raise InvalidInput(
            "an exception needs a positive amount and a reason", code="bad_exception"
        )
    rec = append(
        session,
        ctx,
        Draft(
            type="capacity.exception",
            actor=actor,
            fields={
                "org": org_id,
                "valid_from": valid_from.isoformat(),
                "valid_until": valid_until.isoformat(),
                "extra_fine_mg": extra_fine_mg,
                "reason": reason,
            },
        ),
    )
    row = CapacityException(
        org_id=org_id,
        valid_from=valid_from,
        valid_until=valid_until,
        extra_fine_mg=extra_fine_mg,
        reason=reason,
        seq=rec.seq,
    )
    session.add(row)
    session.flush()
    return row


def certifications(session: Session, org_id: str) -> list[rules.Cert]:
    """The organization's certifications with their status histories, as the rules need them."""
    rows = session.execute(
        select(Certification).where(Certification.org_id == org_id).order_by(Certification.id)
    ).scalars()
    result = []
    for row in rows:
        statuses = session.execute(
            select(CertificationStatus.effective_on, CertificationStatus.status)
            .where(CertificationStatus.certification_id == row.id)
            .order_by(CertificationStatus.effective_on, CertificationStatus.seq)
        ).all()
        result.append(
            rules.Cert(
                org=org_id,
                number=row.number,
                category=row.category,
                valid_from=row.valid_from,
                valid_until=row.valid_until,
                statuses=tuple((d, s) for d, s in statuses),
            )
        )
    return result


def authorizations(session: Session, org_id: str) -> list[rules.Authorization]:
    """The organization's supplier and licensee authorizations."""
    rows = session.execute(select(Authorization).where(Authorization.org_id == org_id)).scalars()
    return [
        rules.Authorization(
            org=org_id, role=r.role, valid_from=r.valid_from, valid_until=r.valid_until
        )
        for r in rows
    ]


def allowances(session: Session, org_id: str) -> Sequence[rules.Allowance]:
    """Reviewed capacity exceptions of a mine."""
    rows = session.execute(
        select(CapacityException).where(CapacityException.org_id == org_id)
    ).scalars()
    return [
        rules.Allowance(
            valid_from=r.valid_from, valid_until=r.valid_until, extra_mg=r.extra_fine_mg
        )
        for r in rows
    ]
