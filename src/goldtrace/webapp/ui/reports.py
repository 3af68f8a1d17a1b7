"""The reports page: choose a scope, a period and a format, export in the background, download.

Auditors and the standard body export anything: the whole ledger, one organization, one lot or
piece. A member organization's people export their own organization only; any other scope is 403.
The export runs as a job of this process (services/export_jobs.py) whose progress the page polls
with web/static/verify.js (or a refresh without script); its file is served only to whoever
started it.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from goldtrace.db.models import Organization
from goldtrace.domain.actors import Actor
from goldtrace.errors import GoldtraceError, NotFound
from goldtrace.services import export_jobs, exports
from goldtrace.services.reports import ReportScope
from goldtrace.webapp.request_state import ctx, db
from goldtrace.webapp.security import login_required, ui_actor
from goldtrace.webapp.ui import bp
from goldtrace.webapp.ui.common import job_status_json

SCOPE_LABELS: dict[str, Any] = {
    "ledger": _l("The whole ledger"),
    "org": _l("One organization"),
    "lot": _l("One lot or piece, with its ancestry and what became of it"),
}
FORMAT_LABELS: dict[str, Any] = {
    "pdf": _l("PDF report"),
    "csv": _l("CSV tables in a zip (with the weight list of bars)"),
    "json": _l("JSON"),
    "epcis": _l("GS1 EPCIS 2.0 (JSON-LD)"),
}
# Refusals of the scope check, in the words shown next to the field they concern.
SCOPE_REFUSALS: dict[str, Any] = {
    "unknown_org": _l("There is no such organization."),
    "unknown_lot": _l("There is no lot or piece with this identifier."),
    "bad_period": _l("The period ends before it starts."),
}
_REQUIRED = _l("This field is required.")


class ExportForm(FlaskForm):  # type: ignore[misc]
    scope = SelectField(_l("What the report covers"))
    # Required by the scope that needs them (the inline validators below), empty otherwise.
    org = SelectField(_l("Organization"), validate_choice=False)
    lot = StringField(_l("Lot or piece"), validators=[Length(max=64)])
    start = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])
    fmt = SelectField(_l("Format"))

    def validate_org(self, field: Any) -> None:
        if self.scope.data != "org":
            return
        if not field.data:
            raise ValidationError(str(_REQUIRED))
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(str(SCOPE_REFUSALS["unknown_org"]))

    def validate_lot(self, field: Any) -> None:
        if self.scope.data == "lot" and not (field.data or "").strip():
            raise ValidationError(str(_REQUIRED))

    def validate_until(self, field: Any) -> None:
        if self.start.data and field.data and self.start.data > field.data:
            raise ValidationError(str(SCOPE_REFUSALS["bad_period"]))

    def report_scope(self) -> ReportScope:
        """The scope and period chosen (call after validation)."""
        kind = self.scope.data
        key = {"ledger": None, "org": self.org.data, "lot": (self.lot.data or "").strip()}[kind]
        return ReportScope(kind=kind, key=key, start=self.start.data, until=self.until.data)


def _form(actor: Actor) -> ExportForm:
    """The form with the scopes and organizations ``actor`` may choose."""
    form = ExportForm()
    form.fmt.choices = [SelectChoice(f, FORMAT_LABELS.get(f, f.upper())) for f in exports.FORMATS]
    if actor.sees_everything:
        form.scope.choices = [SelectChoice(k, v) for k, v in SCOPE_LABELS.items()]
        orgs = db().execute(select(Organization.id, Organization.name).order_by(Organization.name))
        form.org.choices = [SelectChoice("", "—")] + [
            SelectChoice(org_id, f"{name} ({org_id})") for org_id, name in orgs
        ]
    else:
        form.scope.choices = [SelectChoice("org", SCOPE_LABELS["org"])]
        name = (
            db()
            .execute(select(Organization.name).where(Organization.id == actor.org_id))
            .scalar_one()
        )
        form.org.choices = [SelectChoice(actor.org_id, f"{name} ({actor.org_id})")]
        if not form.is_submitted():
            form.org.data = actor.org_id
    return form


def _within_reach(actor: Actor) -> None:
    """403 unless ``actor`` may export what the submitted form asks for: a member organization's
    people only their own organization."""
    if actor.sees_everything:
        return
    if request.form.get("scope") != "org" or request.form.get("org") != actor.org_id:
        abort(403)


def _page(form: ExportForm, actor: Actor, status: int = 200, **context: Any) -> ResponseReturnValue:
    mine = export_jobs.registry().of_owner(actor.user_id)
    page = render_template(
        "reports/index.html",
        form=form,
        exports=mine,
        scope_labels=SCOPE_LABELS,
        format_labels=FORMAT_LABELS,
        may_pick_lot=actor.sees_everything,
        **context,
    )
    return page, status


@bp.route("/reports", methods=["GET", "POST"])
@login_required
def reports() -> ResponseReturnValue:
    """The export form; after a valid submission the export starts and the page shows its progress."""
    actor = ui_actor()
    if request.method == "POST":
        _within_reach(actor)
    form = _form(actor)
    if request.method == "GET":
        return _page(form, actor, job=_shown_job(actor))
    if not form.validate_on_submit():
        flash(_("Some fields are not valid."), "error")
        return _page(form, actor, 422)
    try:
        job_id = export_jobs.registry().start_export(
            db(),
            current_app.extensions["goldtrace"]["sessions"],
            ctx(),
            owner=actor.user_id,
            scope=form.report_scope(),
            fmt=form.fmt.data,
            lang=str(get_locale()),
        )
    except GoldtraceError as exc:
        field = {"org": form.org, "lot": form.lot, "until": form.until}.get(
            next(iter(exc.fields), "")
        )
        message = str(SCOPE_REFUSALS.get(exc.code, exc.message))
        if field is None:
            flash(message, "error")
        else:
            flash(_("Some fields are not valid."), "error")
            field.errors.append(message)
        return _page(form, actor, 422)
    return redirect(url_for("ui.reports", job=job_id, _anchor="export"))


def _shown_job(actor: Actor) -> export_jobs.ExportStatus | None:
    """The job named by ``?job=``, if it is the actor's (403 if another person's)."""
    job_id = request.args.get("job")
    if not job_id:
        return None
    try:
        return export_jobs.registry().owned(job_id, actor.user_id)
    except NotFound:
        flash(
            _("That export is not known here (the server may have restarted). Start a new one."),
            "error",
        )
        return None


@bp.get("/reports/jobs/<job_id>")
@login_required
def report_status(job_id: str) -> tuple[Response, int]:
    """The export's progress as JSON, for web/static/verify.js; 404 when this process knows no such
    job, 403 when someone else started it."""
    actor = ui_actor()
    return job_status_json(job_id, lambda: export_jobs.registry().owned(job_id, actor.user_id))


@bp.get("/reports/jobs/<job_id>/download")
@login_required
def report_download(job_id: str) -> Response:
    """The finished export's file, as an attachment, to whoever started it (409 before it is done)."""
    actor = ui_actor()
    status = export_jobs.registry().finished_file(job_id, actor.user_id)
    response = send_file(
        status.path,
        mimetype=status.mimetype,
        as_attachment=True,
        download_name=status.filename,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
