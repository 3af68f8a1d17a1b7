"""The members' premium pages: a buyer sees what it owes and pays it; a mine's people see their
premium committee (received, outstanding, balance, statement) and record what it invested.

Like the lot pages, a form page answers 200 to show the form, 422 with the fields' errors or the
refusal in plain words (nothing written), and after a write redirects with a flash. Amounts are
parsed from the text typed (a comma is accepted as the decimal mark), never through floats.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from wtforms import (
    DateField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from goldtrace.db.models import Obligation, Organization, Payment
from goldtrace.domain.quantities import parse_money
from goldtrace.errors import GoldtraceError, InvalidInput, PermissionDenied
from goldtrace.services import premiums
from goldtrace.webapp.i18n import money
from goldtrace.webapp.messages import plain
from goldtrace.webapp.public import AGEING_LABELS, committee_context, period_args, today
from goldtrace.webapp.request_state import ctx, db
from goldtrace.webapp.sankey import CATEGORY_LABELS
from goldtrace.webapp.security import login_required
from goldtrace.webapp.ui import bp
from goldtrace.webapp.ui.common import actor_of_kind
from goldtrace.webapp.ui.lots import decimal_text

BUYER_KINDS = ("trader", "refiner", "jeweler")
READ_CHUNK = 64 * 1024
METHOD_LABELS: dict[str, Any] = {
    "bank_transfer": _l("Bank transfer"),
    "cash": _l("Cash"),
    "cheque": _l("Cheque"),
    "mobile_wallet": _l("Mobile wallet"),
    "other": _l("Other"),
}
# The refusals of the premium rules in plain words; other codes go through messages.plain.
PREMIUM_PLAIN: dict[str, Any] = {
    "overpayment": _l(
        "The payment is more than what is still owed on those obligations. "
        "Check the amount or choose more obligations."
    ),
    "unknown_obligation": _l("One of the chosen obligations does not exist or is already paid."),
    "not_your_obligation": _l("One of the chosen obligations is owed by another buyer."),
    "wrong_committee": _l("One of the chosen obligations is owed to another committee."),
    "beyond_balance": _l(
        "The committee cannot invest more than the premium it has received and not yet invested."
    ),
    "not_committee": _l("Only the mine's own committee can record its investments."),
}

_REQUIRED = DataRequired(message=_l("This field is required."))
_DATE_REQUIRED = InputRequired(message=_l("This field is required."))


def _amount(_form: Any, field: Any) -> None:
    """A WTForms validator: US dollars with up to 2 decimals, more than zero."""
    try:
        cents = parse_money(decimal_text(field.data))
    except InvalidInput:
        raise ValidationError(
            str(_l("Enter US dollars with up to 2 decimals, e.g. 1500,50."))
        ) from None
    if cents <= 0:
        raise ValidationError(str(_l("Enter an amount above zero.")))


class PayForm(FlaskForm):  # type: ignore[misc]
    committee = SelectField(_l("Premium committee"), validators=[_REQUIRED])
    amount_usd = StringField(_l("Amount (USD)"), validators=[_REQUIRED, _amount])
    paid_on = DateField(_l("Payment date"), default=today, validators=[_DATE_REQUIRED])
    method = SelectField(
        _l("Method"),
        choices=[SelectChoice("", "—"), *(SelectChoice(k, v) for k, v in METHOD_LABELS.items())],
        validators=[Optional()],
    )
    reference = StringField(
        _l("Reference of the transfer"), validators=[Optional(), Length(max=100)]
    )
    obligations = SelectMultipleField(
        _l("Obligations to settle"), coerce=int, validators=[Optional()]
    )


class InvestForm(FlaskForm):  # type: ignore[misc]
    amount_usd = StringField(_l("Amount (USD)"), validators=[_REQUIRED, _amount])
    spent_on = DateField(_l("Date of the expense"), default=today, validators=[_DATE_REQUIRED])
    category = SelectField(
        _l("Category"), choices=[SelectChoice(k, v) for k, v in CATEGORY_LABELS.items()]
    )
    description = TextAreaField(
        _l("What the premium paid for"), validators=[_REQUIRED, Length(max=1000)]
    )
    receipt = FileField(_l("Receipt (file)"), validators=[Optional()])
    receipt_sha256 = StringField(
        _l("Or the receipt's SHA-256"),
        validators=[
            Optional(),
            Regexp(
                r"^\s*[0-9a-fA-F]{64}\s*$",
                message=_l("A SHA-256 is 64 hexadecimal characters."),
            ),
        ],
    )


@dataclass(frozen=True)
class CommitteeOwed:
    """What a buyer owes one committee."""

    id: str
    name: str
    owed_cents: int
    paid_cents: int

    @property
    def outstanding_cents(self) -> int:
        return self.owed_cents - self.paid_cents


def _names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(Organization.id, Organization.name).where(Organization.id.in_(ids))
    )
    return {org_id: name for org_id, name in rows.all()}


def _by_committee(rows: list[Obligation], names: dict[str, str]) -> list[CommitteeOwed]:
    sums: dict[str, list[int]] = {}
    for ob in rows:
        pair = sums.setdefault(ob.committee_id, [0, 0])
        pair[0] += ob.amount_cents
        pair[1] += ob.paid_cents
    return sorted(
        (CommitteeOwed(c, names.get(c, c), owed, paid) for c, (owed, paid) in sums.items()),
        key=lambda row: (row.name.lower(), row.id),
    )


def _refusal(exc: GoldtraceError, template: str, **context: Any) -> ResponseReturnValue:
    """The form again with the refusal in plain words; everything the request did is rolled back."""
    db().rollback()
    text = PREMIUM_PLAIN.get(exc.code)
    flash(str(text) if text is not None else plain(exc), "error")
    status = 403 if isinstance(exc, PermissionDenied) else 422
    return render_template(template, **context), status


def _form_page(template: str, form: Any, **context: Any) -> ResponseReturnValue:
    """The form again: 200 when first shown, 422 with the fields' errors after a submission."""
    if not form.is_submitted():
        return render_template(template, form=form, **context)
    flash(_("Some fields are not valid."), "error")
    return render_template(template, form=form, **context), 422


# --- the buyer --------------------------------------------------------------------------------


@bp.get("/owed", endpoint="premiums_owed")
@login_required
def owed() -> ResponseReturnValue:
    """What the buyer owes each committee, its ageing, the open obligations and its payments."""
    actor = actor_of_kind(*BUYER_KINDS)
    session = db()
    rows = premiums.obligations_for(session, actor, buyer=actor.org_id)
    payments = list(
        session.execute(
            select(Payment)
            .where(Payment.buyer_id == actor.org_id)
            .order_by(Payment.paid_on.desc(), Payment.seq.desc())
        ).scalars()
    )
    names = _names(session, {ob.committee_id for ob in rows} | {p.committee_id for p in payments})
    return render_template(
        "premiums/owed.html",
        committees=_by_committee(rows, names),
        ageing=premiums.ageing(rows, today()),
        ageing_labels=AGEING_LABELS,
        open_obligations=[ob for ob in rows if ob.paid_cents < ob.amount_cents],
        payments=payments,
        names=names,
        methods=METHOD_LABELS,
    )


@bp.route("/owed/pay", methods=["GET", "POST"], endpoint="premium_pay")
@login_required
def pay() -> ResponseReturnValue:
    """The buyer pays premium to a committee: the chosen obligations, else the oldest first."""
    actor = actor_of_kind(*BUYER_KINDS)
    session = db()
    open_rows = [
        ob
        for ob in premiums.obligations_for(session, actor, buyer=actor.org_id)
        if ob.paid_cents < ob.amount_cents
    ]
    names = _names(session, {ob.committee_id for ob in open_rows})
    committees = _by_committee(open_rows, names)
    form = PayForm(committee=request.args.get("committee"))
    form.committee.choices = [
        SelectChoice(
            c.id, _("%(name)s (owed %(amount)s)", name=c.name, amount=money(c.outstanding_cents))
        )
        for c in committees
    ]
    form.obligations.choices = [SelectChoice(ob.id, str(ob.id)) for ob in open_rows]
    context = {"open_obligations": open_rows, "names": names, "committees": committees}
    if not form.validate_on_submit():
        return _form_page("premiums/pay.html", form, **context)
    amount = parse_money(decimal_text(form.amount_usd.data))
    try:
        premiums.pay(
            session,
            ctx(),
            actor=actor.org_id,
            committee=form.committee.data,
            amount_cents=amount,
            paid_on=form.paid_on.data,
            method=form.method.data or None,
            reference=(form.reference.data or "").strip() or None,
            obligations=list(form.obligations.data) or None,
        )
    except GoldtraceError as exc:
        return _refusal(exc, "premiums/pay.html", form=form, **context)
    session.commit()
    flash(
        _(
            "Payment of %(amount)s to %(committee)s recorded.",
            amount=money(amount),
            committee=names.get(form.committee.data, form.committee.data),
        ),
        "ok",
    )
    return redirect(url_for("ui.premiums_owed"))


# --- the committee ----------------------------------------------------------------------------


@bp.get("/committee", endpoint="premium_committee")
@login_required
def committee() -> ResponseReturnValue:
    """The mine's premium committee: its figures, a statement, what it is owed and by whom, the
    payments it received and its investments."""
    actor = actor_of_kind("mine")
    session = db()
    start, end = period_args(date(today().year, 1, 1), today())
    context = committee_context(session, actor.org_id, start=start, end=end)
    owed_to = [
        ob
        for ob in premiums.obligations_for(session, actor, committee=actor.org_id)
        if ob.paid_cents < ob.amount_cents
    ]
    received = list(
        session.execute(
            select(Payment)
            .where(Payment.committee_id == actor.org_id)
            .order_by(Payment.paid_on.desc(), Payment.seq.desc())
        ).scalars()
    )
    names = _names(session, {ob.buyer_id for ob in owed_to} | {p.buyer_id for p in received})
    return render_template(
        "premiums/committee.html",
        open_obligations=owed_to,
        payments=received,
        names=names,
        methods=METHOD_LABELS,
        **context,
    )


def receipt_digest(upload: FileStorage) -> str:
    """The SHA-256 of an uploaded file, read in chunks; only the hash is kept."""
    digest = hashlib.sha256()
    read: Callable[[int], bytes] = upload.stream.read
    for chunk in iter(lambda: read(READ_CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _receipt(form: InvestForm) -> str | None:
    """The receipt's hash from the uploaded file or the pasted text; ValidationError when both are
    given and differ."""
    pasted = (form.receipt_sha256.data or "").strip().lower() or None
    upload = form.receipt.data
    if not isinstance(upload, FileStorage) or not upload.filename:
        return pasted
    computed = receipt_digest(upload)
    if pasted is not None and pasted != computed:
        raise ValidationError(str(_l("The pasted SHA-256 is not that of the uploaded file.")))
    return computed


@bp.route("/committee/invest", methods=["GET", "POST"], endpoint="premium_invest")
@login_required
def invest() -> ResponseReturnValue:
    """The committee records what it spent premium on (never beyond the balance received)."""
    actor = actor_of_kind("mine")
    session = db()
    form = InvestForm()
    context = {"totals": premiums.committee_totals(session, actor.org_id)}
    if not form.validate_on_submit():
        return _form_page("premiums/invest.html", form, **context)
    try:
        receipt = _receipt(form)
    except ValidationError as exc:
        form.receipt_sha256.errors = [*form.receipt_sha256.errors, str(exc)]
        return _form_page("premiums/invest.html", form, **context)
    amount = parse_money(decimal_text(form.amount_usd.data))
    try:
        premiums.invest(
            session,
            ctx(),
            actor=actor.org_id,
            committee=actor.org_id,
            amount_cents=amount,
            spent_on=form.spent_on.data,
            category=form.category.data,
            description=(form.description.data or "").strip(),
            receipt_sha256=receipt,
        )
    except GoldtraceError as exc:
        return _refusal(exc, "premiums/invest.html", form=form, **context)
    session.commit()
    flash(_("Investment of %(amount)s recorded.", amount=money(amount)), "ok")
    return redirect(url_for("ui.premium_committee"))
