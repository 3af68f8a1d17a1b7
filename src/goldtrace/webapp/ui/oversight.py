"""Pages for auditors and the standard body: every organization, the ledger and its verification, flags."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from goldtrace.db.models import (
    Authorization,
    Certification,
    CertificationStatus,
    Checkpoint,
    Cosignature,
    Organization,
    Witness,
)
from goldtrace.domain import certification as rules
from goldtrace.domain.instants import format_instant
from goldtrace.domain.organizations import KINDS
from goldtrace.errors import GoldtraceError, NotFound
from goldtrace.services import flags as flag_service
from goldtrace.services import jobs, transparency, witnesses
from goldtrace.webapp.request_state import ctx, db
from goldtrace.webapp.security import login_required
from goldtrace.webapp.ui import bp
from goldtrace.webapp.ui.common import actor_of_kind, job_status_json, refused

OVERSEERS = ("auditor", "standard_body")
FLAGS_SHOWN = 500
CHECKPOINTS_SHOWN = 20

# The words for stored codes, shared with the admin forms.
KIND_LABELS: dict[str, Any] = {
    "mine": _l("Mine"),
    "trader": _l("Trader"),
    "refiner": _l("Refiner"),
    "jeweler": _l("Jeweler"),
    "auditor": _l("Auditor"),
    "standard_body": _l("Standard body"),
}
CATEGORY_LABELS: dict[str, Any] = {
    "fairmined": _l("Fairmined"),
    "fairmined_ecological": _l("Fairmined Ecological"),
}
CERT_STATUS_LABELS: dict[str, Any] = {
    "active": _l("Active"),
    "suspended": _l("Suspended"),
    "withdrawn": _l("Withdrawn"),
}
# What a certification is today: its status inside the validity period, or outside it.
CERT_STATE_LABELS: dict[str, Any] = {
    "in_force": _l("in force"),
    "suspended": _l("suspended"),
    "withdrawn": _l("withdrawn"),
    "expired": _l("expired"),
    "not_yet_valid": _l("not yet valid"),
}
AUTH_ROLE_LABELS: dict[str, Any] = {
    "supplier": _l("Authorized supplier"),
    "licensee": _l("Licensee"),
}
FLAG_LABELS: dict[str, Any] = {
    "weight_discrepancy": _l("Received lighter than dispatched"),
    "fine_gold_gain": _l("Fine gold rose at a receipt or assay"),
    "cumulative_gain": _l("Gains since registration add up"),
    "unattributed_gold": _l("Gold that no mine registered"),
    "repeated_gain_shipments": _l("Repeated shipments that grow the lot"),
    "loss_above_tolerance": _l("Loss above tolerance"),
    "implausible_low_loss": _l("Implausibly small loss"),
    "possible_duplicate": _l("Possible duplicate registration"),
    "sustained_high_use": _l("At capacity three windows running"),
    "voided_event": _l("Voided event"),
}
SEVERITY_LABELS: dict[str, Any] = {
    "high": _l("high"),
    "review": _l("review"),
    "info": _l("information"),
}
OUTCOME_LABELS: dict[str, Any] = {
    "cleared": _l("cleared: explained, nothing wrong"),
    "confirmed": _l("confirmed: a problem to act on"),
}
LABELS = {
    "kind": KIND_LABELS,
    "category": CATEGORY_LABELS,
    "cert_status": CERT_STATUS_LABELS,
    "cert_state": CERT_STATE_LABELS,
    "auth_role": AUTH_ROLE_LABELS,
    "flag": FLAG_LABELS,
    "severity": SEVERITY_LABELS,
    "outcome": OUTCOME_LABELS,
}


@dataclass(frozen=True)
class CertView:
    """A certification as the organizations page shows it."""

    row: Certification
    state: str
    history: list[CertificationStatus]


@dataclass(frozen=True)
class AuthView:
    """An authorization and whether it is valid today."""

    row: Authorization
    current: bool


@dataclass(frozen=True)
class OrgView:
    """An organization with its 30-day production limit, certifications and authorizations."""

    org: Organization
    limit_mg: int | None
    certifications: list[CertView]
    authorizations: list[AuthView]


def cert_state(cert: Certification, history: list[CertificationStatus], today: date) -> str:
    """One of CERT_STATE_LABELS: the status in force today, or where today lies outside the validity."""
    if today < cert.valid_from:
        return "not_yet_valid"
    if today > cert.valid_until:
        return "expired"
    status = rules.Cert(
        org=cert.org_id,
        number=cert.number,
        category=cert.category,
        valid_from=cert.valid_from,
        valid_until=cert.valid_until,
        statuses=tuple((s.effective_on, s.status) for s in history),
    ).status_on(today)
    return "in_force" if status == "active" else status


def _organizations(session: Session, kind: str | None, today: date) -> list[OrgView]:
    orgs_query = select(Organization).order_by(Organization.kind, Organization.name)
    if kind is not None:
        orgs_query = orgs_query.where(Organization.kind == kind)
    orgs = list(session.execute(orgs_query).scalars())
    history: dict[int, list[CertificationStatus]] = defaultdict(list)
    for status in session.execute(
        select(CertificationStatus).order_by(
            CertificationStatus.effective_on, CertificationStatus.seq
        )
    ).scalars():
        history[status.certification_id].append(status)
    certs: dict[str, list[CertView]] = defaultdict(list)
    for cert in session.execute(select(Certification).order_by(Certification.valid_from)).scalars():
        past = history[cert.id]
        certs[cert.org_id].append(CertView(cert, cert_state(cert, past, today), past))
    auths: dict[str, list[AuthView]] = defaultdict(list)
    for auth in session.execute(select(Authorization).order_by(Authorization.valid_from)).scalars():
        current = auth.valid_from <= today <= auth.valid_until
        auths[auth.org_id].append(AuthView(auth, current))
    return [
        OrgView(
            org=org,
            limit_mg=rules.capacity_limit_mg(org.miners, org.capacity_mg_month)
            if org.kind == "mine"
            else None,
            certifications=certs[org.id],
            authorizations=auths[org.id],
        )
        for org in orgs
    ]


@dataclass(frozen=True)
class WitnessMark:
    """One witness's cosignature of a checkpoint: who (name and key id) and when."""

    name: str
    key_id: str
    signed_at: str


@dataclass(frozen=True)
class CheckpointView:
    """A signed checkpoint with the cosignatures it carries."""

    checkpoint: Checkpoint
    witnesses: list[WitnessMark]


def _recent_checkpoints(session: Session) -> list[CheckpointView]:
    """The latest CHECKPOINTS_SHOWN checkpoints, newest first, each with its witnesses by name."""
    checkpoints = list(
        session.execute(
            select(Checkpoint).order_by(Checkpoint.size.desc()).limit(CHECKPOINTS_SHOWN)
        ).scalars()
    )
    marks: dict[int, list[WitnessMark]] = defaultdict(list)
    if checkpoints:
        rows = session.execute(
            select(Cosignature, Witness)
            .join(Witness, Witness.name == Cosignature.witness_name)
            .where(Cosignature.checkpoint_size.in_([c.size for c in checkpoints]))
            .order_by(Cosignature.witness_name)
        )
        for cosignature, witness in rows:
            marks[cosignature.checkpoint_size].append(
                WitnessMark(
                    name=witness.name,
                    key_id=witnesses.witness_verifier(witness).key_id.hex(),
                    signed_at=format_instant(datetime.fromtimestamp(cosignature.timestamp, UTC)),
                )
            )
    return [CheckpointView(c, marks[c.size]) for c in checkpoints]


@bp.get("/organizations")
@login_required
def organizations() -> str:
    """Every organization (optionally one kind) with its identifiers, certifications and authorizations."""
    actor_of_kind(*OVERSEERS)
    kind = request.args.get("kind")
    if kind not in KINDS:
        kind = None
    today = datetime.now(UTC).date()
    return render_template(
        "oversight/organizations.html",
        views=_organizations(db(), kind, today),
        kind=kind,
        kinds=KINDS,
        labels=LABELS,
    )


@bp.get("/ledger")
@login_required
def ledger() -> str:
    """The log's size and root, the latest checkpoints with their witnesses' cosignatures, and the
    verification started from here, if any."""
    actor_of_kind(*OVERSEERS)
    session = db()
    job: jobs.JobStatus | None = None
    job_id = request.args.get("job")
    if job_id:
        try:
            job = jobs.status(job_id)
        except NotFound:
            flash(
                _(
                    "That verification is not known here (the server may have restarted). "
                    "Start a new one."
                ),
                "error",
            )
    return render_template(
        "oversight/ledger.html",
        tree=transparency.head(session),
        checkpoint=transparency.latest_checkpoint(session),
        checkpoints=_recent_checkpoints(session),
        job=job,
    )


@bp.post("/ledger/verify")
@login_required
def verify_start() -> Response:
    """Start verifying the whole ledger in the background and show its progress."""
    actor_of_kind(*OVERSEERS)
    sessions = current_app.extensions["goldtrace"]["sessions"]
    job_id = jobs.start_verification(sessions, ctx())
    return redirect(url_for("ui.ledger", job=job_id, _anchor="verification"))  # type: ignore[return-value]


@bp.get("/ledger/verify/<job_id>")
@login_required
def verify_status(job_id: str) -> tuple[Response, int]:
    """The job's progress as JSON, for web/static/verify.js; 404 when this process knows no such job."""
    actor_of_kind(*OVERSEERS)
    return job_status_json(job_id, lambda: jobs.status(job_id))


@bp.get("/flags")
@login_required
def flags() -> str:
    """Flags to review (or reviewed, or all), newest first, high severity first in each event."""
    actor = actor_of_kind(*OVERSEERS)
    show = _show(request.args.get("show"))
    severity = request.args.get("severity")
    query = flag_service.FlagQuery(
        status=show,
        severity=severity if severity in SEVERITY_LABELS else None,
        limit=FLAGS_SHOWN + 1,
    )
    session = db()
    found = flag_service.list_flags(session, actor, query)
    names = {
        org_id: name for org_id, name in session.execute(select(Organization.id, Organization.name))
    }
    rows = [(flag, names.get(flag.org_id, flag.org_id), at) for flag, at in found]
    return render_template(
        "oversight/flags.html",
        rows=rows[:FLAGS_SHOWN],
        more=len(rows) > FLAGS_SHOWN,
        show=show,
        severity=query.severity,
        labels=LABELS,
        lot_links="ui.lot_detail" in current_app.view_functions,
    )


@bp.post("/flags/<int:flag_id>/review")
@login_required
def flag_review(flag_id: int) -> Response | tuple[str, int]:
    """Review a flag (a ledger event naming the reviewer, the outcome and a note), then go back."""
    actor = actor_of_kind(*OVERSEERS)
    session = db()
    show = _show(request.form.get("show"))
    try:
        flag_service.review_flag(
            session,
            ctx(),
            actor=actor,
            flag_id=flag_id,
            outcome=request.form.get("outcome", ""),
            note=request.form.get("note", ""),
        )
    except NotFound:
        raise
    except GoldtraceError as exc:
        refused(exc)
        return redirect(url_for("ui.flags", show=show))  # type: ignore[return-value]
    session.commit()
    flash(_("Flag %(id)s reviewed.", id=flag_id), "ok")
    return redirect(url_for("ui.flags", show=show))  # type: ignore[return-value]


def _show(value: str | None) -> str:
    return value if value in ("open", "reviewed", "all") else "open"
