"""What the standard body records: certifications and their status, authorizations, capacity (as
onboarded, dated changes, reviewed exceptions), late-registration exceptions, the picker registry and
groups of related organizations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from goldtrace.db.models import (
    Authorization,
    CapacityChange,
    CapacityException,
    Certification,
    CertificationStatus,
    OrgGroupMember,
    PickerMembership,
    RegistrationException,
)
from goldtrace.domain import certification as rules
from goldtrace.domain import registration
from goldtrace.domain.identities import parse_person_id
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


def capacity_periods(session: Session, org_id: str) -> list[registration.CapacityPeriod]:
    """A mine's capacity as onboarded and every dated change since, as the rules need them."""
    org = get_org(session, org_id)
    periods = []
    if org.miners is not None and org.capacity_mg_month is not None:
        periods.append(
            registration.CapacityPeriod(
                date.min, org.miners, org.capacity_mg_month, org.registered_seq
            )
        )
    rows = session.execute(
        select(CapacityChange).where(CapacityChange.org_id == org_id).order_by(CapacityChange.seq)
    ).scalars()
    periods += [
        registration.CapacityPeriod(r.effective_from, r.miners, r.capacity_mg_month, r.seq)
        for r in rows
    ]
    return periods


def change_capacity(
    session: Session,
    ctx: Context,
    *,
    actor: str,
    org_id: str,
    miners: int,
    capacity_mg_month: int,
    effective_from: date,
    reason: str,
    evidence_sha256: str | None = None,
) -> CapacityChange:
    """Standard body: a mine's miners and monthly capacity from ``effective_from`` on, with the reason
    and (optionally) the SHA-256 of the evidence (a REINFO declaration, an audit report)."""
    require_standard_body(session, actor)
    if get_org(session, org_id).kind != "mine":
        raise RuleViolation("capacity is recorded for mines", code="not_a_mine")
    change = registration.CapacityPeriod(effective_from, miners, capacity_mg_month)
    registration.check_capacity_change(change, reason=reason, evidence_sha256=evidence_sha256)
    fields: dict[str, object] = {
        "org": org_id,
        "miners": miners,
        "capacity_mg_month": capacity_mg_month,
        "effective_from": effective_from.isoformat(),
        "reason": reason.strip(),
    }
    if evidence_sha256:
        fields["evidence_sha256"] = evidence_sha256.lower()
    rec = append(session, ctx, Draft(type="capacity.change", actor=actor, fields=fields))
    row = CapacityChange(
        seq=rec.seq,
        org_id=org_id,
        effective_from=effective_from,
        miners=miners,
        capacity_mg_month=capacity_mg_month,
        reason=reason.strip(),
        evidence_sha256=evidence_sha256.lower() if evidence_sha256 else None,
    )
    session.add(row)
    session.flush()
    return row


def grant_late_registration(
    session: Session,
    ctx: Context,
    *,
    actor: str,
    org_id: str,
    produced_from: date,
    produced_until: date,
    register_until: date,
    reason: str,
) -> RegistrationException:
    """Standard body: after review, let a mine register production of a period later than usual."""
    require_standard_body(session, actor)
    if get_org(session, org_id).kind != "mine":
        raise RuleViolation("registration exceptions are for mines", code="not_a_mine")
    exception = registration.LateException(produced_from, produced_until, register_until)
    registration.check_late_exception(exception, reason=reason)
    rec = append(
        session,
        ctx,
        Draft(
            type="registration.exception",
            actor=actor,
            fields={
                "org": org_id,
                "produced_from": produced_from.isoformat(),
                "produced_until": produced_until.isoformat(),
                "register_until": register_until.isoformat(),
                "reason": reason.strip(),
            },
        ),
    )
    row = RegistrationException(
        seq=rec.seq,
        org_id=org_id,
        produced_from=produced_from,
        produced_until=produced_until,
        register_until=register_until,
        reason=reason.strip(),
    )
    session.add(row)
    session.flush()
    return row


def late_exceptions(session: Session, org_id: str) -> list[registration.LateException]:
    """The mine's late-registration exceptions."""
    rows = session.execute(
        select(RegistrationException).where(RegistrationException.org_id == org_id)
    ).scalars()
    return [
        registration.LateException(r.produced_from, r.produced_until, r.register_until)
        for r in rows
    ]


def register_picker(
    session: Session,
    ctx: Context,
    *,
    actor: str,
    id_type: str,
    number: str,
    name: str,
    association: str,
    valid_from: date,
    valid_until: date | None = None,
) -> PickerMembership:
    """Standard body: record that a person (national id, name) sells through an association of
    pickers from ``valid_from`` (until ``valid_until``). Her id is stored in its one normalized form."""
    require_standard_body(session, actor)
    person = parse_person_id(number, id_type, ce_pattern=ctx.settings.ce_pattern, field="number")
    org = get_org(session, association)
    if org.kind != "mine" or not org.pickers:
        raise RuleViolation(
            f"{association} is not an association of pickers", code="not_a_picker_association"
        )
    membership = registration.PickerMembership(person, association, valid_from, valid_until)
    registration.check_membership(membership, name=name)
    taken = session.execute(
        select(PickerMembership.seq).where(
            PickerMembership.person_id == person, PickerMembership.association_id == association
        )
    ).first()
    if taken is not None:
        raise Conflict(
            f"{person} is already registered with {association}", code="duplicate_picker"
        )
    fields: dict[str, object] = {
        "person": person,
        "name": name.strip(),
        "association": association,
        "valid_from": valid_from.isoformat(),
    }
    if valid_until is not None:
        fields["valid_until"] = valid_until.isoformat()
    rec = append(session, ctx, Draft(type="picker.register", actor=actor, fields=fields))
    row = PickerMembership(
        seq=rec.seq,
        person_id=person,
        name=name.strip(),
        association_id=association,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    session.add(row)
    session.flush()
    return row


def memberships(session: Session, person: str) -> list[registration.PickerMembership]:
    """Every association the person is registered with."""
    rows = session.execute(
        select(PickerMembership).where(PickerMembership.person_id == person)
    ).scalars()
    return [
        registration.PickerMembership(r.person_id, r.association_id, r.valid_from, r.valid_until)
        for r in rows
    ]


def list_pickers(session: Session, association: str | None = None) -> list[PickerMembership]:
    """Registered pickers (of one association, or all), by name."""
    stmt = select(PickerMembership).order_by(PickerMembership.name, PickerMembership.seq)
    if association is not None:
        stmt = stmt.where(PickerMembership.association_id == association)
    return list(session.execute(stmt).scalars())


def record_group(
    session: Session, ctx: Context, *, actor: str, name: str, members: Sequence[str], reason: str
) -> list[OrgGroupMember]:
    """Standard body: record that organizations belong to one group (the same owner); members already
    in the group are kept, new ones added."""
    require_standard_body(session, actor)
    name = name.strip()
    if not name or not reason.strip():
        raise InvalidInput("a group needs a name and a reason", fields={"name": "empty"})
    unique = sorted(set(members))
    if len(unique) < 2:
        raise InvalidInput("a group has at least two organizations", fields={"members": "few"})
    for org_id in unique:
        get_org(session, org_id)
    present = set(
        session.execute(
            select(OrgGroupMember.org_id).where(OrgGroupMember.group_name == name)
        ).scalars()
    )
    rec = append(
        session,
        ctx,
        Draft(
            type="org.group",
            actor=actor,
            fields={"group": name, "members": unique, "reason": reason.strip()},
        ),
    )
    rows = [
        OrgGroupMember(group_name=name, org_id=o, reason=reason.strip(), seq=rec.seq)
        for o in unique
        if o not in present
    ]
    session.add_all(rows)
    session.flush()
    return rows


def groups(session: Session) -> dict[str, list[str]]:
    """Every recorded group: name -> member organization ids."""
    found: dict[str, list[str]] = {}
    rows = session.execute(
        select(OrgGroupMember.group_name, OrgGroupMember.org_id).order_by(
            OrgGroupMember.group_name, OrgGroupMember.org_id
        )
    ).all()
    for group, org_id in rows:
        found.setdefault(group, []).append(org_id)
    return found
