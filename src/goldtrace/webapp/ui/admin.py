"""The standard body's administration: organizations, certifications, authorizations and users.

Every form posts to its own endpoint, which calls one service, commits and redirects back to
``/admin``. A refusal rolls everything back and shows the page again with the inputs kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from goldtrace.db.models import Certification, Organization
from goldtrace.domain import certification as rules
from goldtrace.domain.actors import ROLES, roles_for_kind
from goldtrace.domain.organizations import KINDS, OrgProfile
from goldtrace.domain.quantities import parse_mass
from goldtrace.errors import GoldtraceError
from goldtrace.services import accounts, organizations, registry
from goldtrace.services.accounts import MIN_PASSWORD_LENGTH
from goldtrace.webapp.i18n import day
from goldtrace.webapp.request_state import ctx, db
from goldtrace.webapp.security import login_required
from goldtrace.webapp.ui import bp
from goldtrace.webapp.ui.common import actor_of_kind, refused
from goldtrace.webapp.ui.lots import decimal_text
from goldtrace.webapp.ui.oversight import (
    AUTH_ROLE_LABELS,
    CATEGORY_LABELS,
    CERT_STATUS_LABELS,
    KIND_LABELS,
)

MINE_ONLY = ("reinfo", "miners", "capacity", "committee")
ROLE_LABELS: dict[str, Any] = {
    "operator": _l("Operator"),
    "admin": _l("Administrator"),
    "auditor": _l("Auditor"),
    "standard_body": _l("Standard body"),
}


def _text(value: str | None) -> str | None:
    """A stripped text input, None when empty."""
    value = (value or "").strip()
    return value or None


class AdminForm(FlaskForm):  # type: ignore[misc]
    # Field names the services report in a refusal, where they differ from this form's.
    service_fields: ClassVar[Mapping[str, str]] = {}

    def mark(self, exc: GoldtraceError) -> None:
        """Show which inputs a refusal is about, next to them."""
        for name in exc.fields:
            field = getattr(self, self.service_fields.get(name, name), None)
            if field is not None and hasattr(field, "errors"):
                field.errors = [*field.errors, _("Check this value.")]


class OrganizationForm(AdminForm):
    service_fields: ClassVar[Mapping[str, str]] = {"id": "org_id", "capacity_mg_month": "capacity"}

    org_id = StringField(
        _l("Identifier"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("2 to 64 lowercase letters, digits, - or _ (for example cecomip)."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(k, KIND_LABELS[k]) for k in KINDS if k != "standard_body"],
        validators=[InputRequired()],
    )
    region = StringField(_l("Region"), validators=[Optional(), Length(max=100)])
    country = StringField(
        _l("Country"),
        default="PE",
        validators=[DataRequired(), Length(min=2, max=2)],
        description=_l("ISO code of two letters, for example PE."),
    )
    ruc = StringField("RUC", validators=[Optional(), Length(max=11)])
    reinfo = StringField("REINFO", validators=[Optional(), Length(max=40)])
    miners = IntegerField(_l("Number of miners"), validators=[Optional(), NumberRange(min=1)])
    capacity = StringField(
        _l("Declared capacity (g of fine gold a month)"),
        validators=[Optional(), Length(max=20)],
        description=_l("Grams with up to 3 decimals, for example 1500.5."),
    )
    committee = StringField(_l("Premium committee"), validators=[Optional(), Length(max=200)])
    pickers = BooleanField(
        _l("Association of ore pickers (pallaqueras)"),
        description=_l("Every lot then names a picker registered with the association."),
    )

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields of a mine are required for mines and refused for anyone else."""
        ok: bool = super().validate(extra_validators)
        is_mine = self.kind.data == "mine"
        for name in MINE_ONLY:
            field = getattr(self, name)
            filled = field.data not in (None, "") and str(field.data).strip() != ""
            if not is_mine and filled:
                field.errors = [*field.errors, _("Only for mines.")]
                ok = False
            elif is_mine and not filled and name != "reinfo":
                field.errors = [*field.errors, _("A mine must declare this.")]
                ok = False
        return ok

    def profile(self) -> OrgProfile:
        """The profile to register; InvalidInput when a value breaks the rules of OrgProfile."""
        capacity = _text(self.capacity.data)
        return OrgProfile(
            id=(self.org_id.data or "").strip(),
            name=(self.name.data or "").strip(),
            kind=self.kind.data,
            country=(self.country.data or "").strip().upper(),
            region=_text(self.region.data),
            ruc=_text(self.ruc.data),
            reinfo=_text(self.reinfo.data),
            miners=self.miners.data,
            capacity_mg_month=None
            if capacity is None
            else parse_mass(decimal_text(capacity), "capacity"),
            committee=_text(self.committee.data),
            pickers=bool(self.pickers.data) and self.kind.data == "mine",
        )


class CapacityForm(AdminForm):
    service_fields: ClassVar[Mapping[str, str]] = {
        "capacity_mg_month": "capacity",
        "evidence_sha256": "evidence",
    }

    org = SelectField(_l("Mine"), validators=[InputRequired()])
    miners = IntegerField(_l("Number of miners"), validators=[InputRequired(), NumberRange(min=1)])
    capacity = StringField(
        _l("Capacity (g of fine gold a month)"),
        validators=[DataRequired(), Length(max=20)],
        description=_l("Grams with up to 3 decimals, for example 1500.5."),
    )
    effective_from = DateField(_l("In force from"), validators=[InputRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    evidence = StringField(
        _l("Evidence (SHA-256)"),
        validators=[Optional(), Length(max=64)],
        description=_l("The SHA-256 of the REINFO declaration or audit report behind the change."),
    )


class PickerForm(AdminForm):
    service_fields: ClassVar[Mapping[str, str]] = {"from": "valid_from", "until": "valid_until"}

    id_type = SelectField(
        _l("Identity document"),
        choices=[SelectChoice("DNI", "DNI"), SelectChoice("CE", _l("Foreigner's card (CE)"))],
        validators=[InputRequired()],
    )
    number = StringField(
        _l("Document number"),
        validators=[DataRequired(), Length(max=20)],
        description=_l("A DNI has 8 digits."),
    )
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    association = SelectField(_l("Association"), validators=[InputRequired()])
    valid_from = DateField(_l("Member from"), validators=[InputRequired()])
    valid_until = DateField(_l("Member until"), validators=[Optional()])


class GroupForm(AdminForm):
    name = StringField(
        _l("Group"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("For example the name of the common owner."),
    )
    members = StringField(
        _l("Organizations"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l("Identifiers separated by commas, for example mine-a, mine-b."),
    )
    reason = StringField(_l("How the relation is known"), validators=[DataRequired()])


class CertificationForm(AdminForm):
    service_fields: ClassVar[Mapping[str, str]] = {"from": "valid_from", "until": "valid_until"}

    org = SelectField(_l("Mine"), validators=[InputRequired()])
    category = SelectField(
        _l("Category"),
        choices=[SelectChoice(c, CATEGORY_LABELS[c]) for c in rules.CERTIFIED_CATEGORIES],
        validators=[InputRequired()],
    )
    number = StringField(_l("Certificate number"), validators=[DataRequired(), Length(max=64)])
    certifier = StringField(_l("Certifier"), validators=[Optional(), Length(max=200)])
    valid_from = DateField(_l("Valid from"), validators=[InputRequired()])
    valid_until = DateField(_l("Valid until"), validators=[InputRequired()])


class StatusForm(AdminForm):
    number = SelectField(_l("Certificate"), validators=[InputRequired()])
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(s, CERT_STATUS_LABELS[s]) for s in rules.STATUSES],
        validators=[InputRequired()],
    )
    effective_on = DateField(_l("Effective from"), validators=[InputRequired()])


class AuthorizationForm(AdminForm):
    service_fields: ClassVar[Mapping[str, str]] = {
        "from": "valid_from",
        "until": "valid_until",
        "as": "role",
    }

    org = SelectField(_l("Organization"), validators=[InputRequired()])
    role = SelectField(
        _l("Authorized as"),
        choices=[SelectChoice(r, AUTH_ROLE_LABELS[r]) for r in rules.AUTH_ROLES],
        validators=[InputRequired()],
    )
    valid_from = DateField(_l("Valid from"), validators=[InputRequired()])
    valid_until = DateField(_l("Valid until"), validators=[InputRequired()])


class UserForm(AdminForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    org = SelectField(_l("Organization"), validators=[InputRequired()])
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES],
        validators=[InputRequired()],
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
        description=_l("At least %(count)s characters.", count=MIN_PASSWORD_LENGTH),
    )


@dataclass
class AdminForms:
    """The page's forms, by the prefix their fields carry."""

    org: OrganizationForm
    cert: CertificationForm
    status: StatusForm
    auth: AuthorizationForm
    user: UserForm
    capacity: CapacityForm
    picker: PickerForm
    group: GroupForm


FORM_CLASSES: dict[str, type[AdminForm]] = {
    "capacity": CapacityForm,
    "picker": PickerForm,
    "group": GroupForm,
    "org": OrganizationForm,
    "cert": CertificationForm,
    "status": StatusForm,
    "auth": AuthorizationForm,
    "user": UserForm,
}


def _forms(bound: str | None = None) -> AdminForms:
    """Build every form (only ``bound`` reads the posted data), with choices from the database."""
    made = {
        name: cls(formdata=request.form if name == bound else None, prefix=name)
        for name, cls in FORM_CLASSES.items()
    }
    session = db()
    orgs = list(session.execute(select(Organization).order_by(Organization.name)).scalars())

    def choices(kinds: tuple[str, ...]) -> list[SelectChoice]:
        return [SelectChoice(o.id, f"{o.name} ({o.id})") for o in orgs if o.kind in kinds]

    made["cert"].org.choices = choices(("mine",))
    made["capacity"].org.choices = choices(("mine",))
    made["picker"].association.choices = [
        SelectChoice(o.id, f"{o.name} ({o.id})") for o in orgs if o.kind == "mine" and o.pickers
    ]
    made["auth"].org.choices = choices(("trader", "refiner", "jeweler"))
    # Grouped by kind, so that the role to pick is plain from the group.
    made["user"].org.choices = [
        SelectChoice(o.id, f"{o.name} ({o.id})", optgroup=str(KIND_LABELS[o.kind]))
        for o in sorted(orgs, key=lambda o: KINDS.index(o.kind))
    ]
    certs = session.execute(
        select(Certification.number, Certification.org_id).order_by(Certification.number)
    ).all()
    made["status"].number.choices = [
        SelectChoice(number, f"{number} ({org})") for number, org in certs
    ]
    return AdminForms(**made)


def _page(forms: AdminForms, status: int = 200) -> tuple[str, int]:
    roles = [(KIND_LABELS[kind], [ROLE_LABELS[r] for r in roles_for_kind(kind)]) for kind in KINDS]
    return render_template("admin/admin.html", forms=forms, roles_by_kind=roles), status


def _standard_body() -> str:
    """The standard body's organization id; 403 for anyone else."""
    return actor_of_kind("standard_body").org_id


@bp.get("/admin")
@login_required
def admin() -> tuple[str, int]:
    """The administration page with its five forms."""
    _standard_body()
    return _page(_forms())


def _submit(name: str, action: Callable[[Any], str]) -> tuple[str, int] | Response:
    """Validate form ``name``, run ``action(form)`` (which writes and returns the success message),
    commit and redirect back; on any refusal roll back and show the form again with its inputs."""
    _standard_body()
    forms = _forms(bound=name)
    form: AdminForm = getattr(forms, name)
    if not form.validate():
        flash(_("Some fields are not valid."), "error")
        return _page(forms, 422)
    session = db()
    try:
        message = action(form)
    except GoldtraceError as exc:
        status = refused(exc)
        form.mark(exc)
        return _page(forms, status)
    session.commit()
    flash(message, "ok")
    return redirect(url_for("ui.admin", _anchor=name))  # type: ignore[return-value]


@bp.post("/admin/organizations")
@login_required
def admin_add_org() -> tuple[str, int] | Response:
    """Register an organization (a ledger event) with a custodial signing key."""

    def add(form: OrganizationForm) -> str:
        org = organizations.register_org(
            db(), ctx(), actor=_standard_body(), profile=form.profile()
        )
        return str(
            _(
                "Organization %(id)s registered (ledger event %(seq)s).",
                id=org.id,
                seq=org.registered_seq,
            )
        )

    return _submit("org", add)


@bp.post("/admin/certifications")
@login_required
def admin_certify() -> tuple[str, int] | Response:
    """Record a mine's Fairmined certification."""

    def certify(form: CertificationForm) -> str:
        cert = registry.record_certification(
            db(),
            ctx(),
            actor=_standard_body(),
            org_id=form.org.data,
            category=form.category.data,
            number=(form.number.data or "").strip(),
            valid_from=form.valid_from.data,
            valid_until=form.valid_until.data,
            certifier=_text(form.certifier.data),
        )
        return str(
            _(
                "Certification %(number)s recorded for %(org)s (ledger event %(seq)s).",
                number=cert.number,
                org=cert.org_id,
                seq=cert.recorded_seq,
            )
        )

    return _submit("cert", certify)


@bp.post("/admin/certifications/status")
@login_required
def admin_cert_status() -> tuple[str, int] | Response:
    """Suspend, withdraw or reinstate a certification from a date on."""

    def change(form: StatusForm) -> str:
        row = registry.change_certification_status(
            db(),
            ctx(),
            actor=_standard_body(),
            number=form.number.data,
            status=form.status.data,
            effective_on=form.effective_on.data,
        )
        return str(
            _(
                "Certification %(number)s: %(status)s from %(date)s (ledger event %(seq)s).",
                number=form.number.data,
                status=CERT_STATUS_LABELS[row.status],
                date=day(row.effective_on),
                seq=row.seq,
            )
        )

    return _submit("status", change)


@bp.post("/admin/authorizations")
@login_required
def admin_authorize() -> tuple[str, int] | Response:
    """Authorize a trader, refiner or jeweler as Fairmined supplier or licensee."""

    def authorize(form: AuthorizationForm) -> str:
        row = registry.record_authorization(
            db(),
            ctx(),
            actor=_standard_body(),
            org_id=form.org.data,
            role=form.role.data,
            valid_from=form.valid_from.data,
            valid_until=form.valid_until.data,
        )
        return str(
            _(
                "%(org)s authorized as %(role)s (ledger event %(seq)s).",
                org=row.org_id,
                role=AUTH_ROLE_LABELS[row.role],
                seq=row.seq,
            )
        )

    return _submit("auth", authorize)


@bp.post("/admin/users")
@login_required
def admin_add_user() -> tuple[str, int] | Response:
    """Create a user of an organization with a role that fits its kind."""

    def add(form: UserForm) -> str:
        user = accounts.add_user(
            db(),
            email=form.email.data or "",
            org_id=form.org.data,
            role=form.role.data,
            password=form.password.data or "",
        )
        return str(_("User %(email)s created for %(org)s.", email=user.email, org=user.org_id))

    return _submit("user", add)


@bp.post("/admin/capacity")
@login_required
def admin_capacity() -> tuple[str, int] | Response:
    """Change a mine's miners and monthly capacity from a date on, with the reason and evidence."""

    def change(form: CapacityForm) -> str:
        row = registry.change_capacity(
            db(),
            ctx(),
            actor=_standard_body(),
            org_id=form.org.data,
            miners=form.miners.data or 0,
            capacity_mg_month=parse_mass(decimal_text(form.capacity.data), "capacity"),
            effective_from=form.effective_from.data,
            reason=form.reason.data or "",
            evidence_sha256=_text(form.evidence.data),
        )
        return str(
            _(
                "Capacity of %(org)s from %(date)s recorded (ledger event %(seq)s).",
                org=row.org_id,
                date=day(row.effective_from),
                seq=row.seq,
            )
        )

    return _submit("capacity", change)


@bp.post("/admin/pickers")
@login_required
def admin_add_picker() -> tuple[str, int] | Response:
    """Register a picker with an association of pickers."""

    def add(form: PickerForm) -> str:
        row = registry.register_picker(
            db(),
            ctx(),
            actor=_standard_body(),
            id_type=form.id_type.data,
            number=form.number.data or "",
            name=form.name.data or "",
            association=form.association.data,
            valid_from=form.valid_from.data,
            valid_until=form.valid_until.data,
        )
        return str(
            _(
                "Picker %(person)s registered with %(org)s (ledger event %(seq)s).",
                person=row.person_id,
                org=row.association_id,
                seq=row.seq,
            )
        )

    return _submit("picker", add)


@bp.post("/admin/groups")
@login_required
def admin_group() -> tuple[str, int] | Response:
    """Record that organizations belong to one group (the same owner)."""

    def group(form: GroupForm) -> str:
        members = [m.strip() for m in (form.members.data or "").split(",") if m.strip()]
        rows = registry.record_group(
            db(),
            ctx(),
            actor=_standard_body(),
            name=form.name.data or "",
            members=members,
            reason=form.reason.data or "",
        )
        return str(
            _(
                "Group %(name)s: %(count)s organizations added.",
                name=form.name.data,
                count=len(rows),
            )
        )

    return _submit("group", group)
