"""Lot pages: the inventory, one lot's facts and history, and the forms that register, dispatch,
receive and assay a lot or void an event.

Each form page answers 200 to show the form, 422 with the fields' errors or the refusal in plain words
(nothing written), and after a write redirects to the lot with a flash. Quantities are parsed with
``domain.quantities`` from the text typed, never through floats.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal, get_decimal_symbol
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import DateField, HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from goldtrace.db.models import Lot, Organization, SaleTerms
from goldtrace.domain import lots as rules
from goldtrace.domain.actors import Actor
from goldtrace.domain.certification import CATEGORIES
from goldtrace.domain.quantities import (
    fine_mg,
    format_mass,
    parse_fineness,
    parse_mass,
    parse_price,
)
from goldtrace.errors import GoldtraceError, InvalidInput
from goldtrace.services import lots, registry
from goldtrace.services.organizations import get_org
from goldtrace.services.provenance import premium_carried, provenance
from goldtrace.webapp.i18n import day, grams
from goldtrace.webapp.i18n import fineness as fineness_text
from goldtrace.webapp.provenance_svg import provenance_context
from goldtrace.webapp.request_state import ctx, db
from goldtrace.webapp.security import login_required, ui_actor
from goldtrace.webapp.ui import bp
from goldtrace.webapp.ui.common import MEMBER_KINDS, actor_of_kind, refused

LOT_STATUSES = ("active", "in_transit", "consumed", "voided")
# Peru keeps UTC-5 all year: "today" for a production date is the day in Puno, not on the server.
PERU = timezone(timedelta(hours=-5))

FORM_LABELS = {
    "ore": _l("ore"),
    "concentrate": _l("concentrate"),
    "dore": _l("doré"),
    "grain": _l("grain"),
    "bar": _l("bar"),
    "semi_finished": _l("semi-finished"),
    "jewelry_item": _l("jewelry item"),
    "scrap": _l("scrap"),
}
CATEGORY_LABELS = {
    "fairmined": _l("Fairmined"),
    "fairmined_ecological": _l("Fairmined Ecological"),
    "none": _l("not certified"),
}
RECIPIENT_GROUPS = {"trader": _l("Traders"), "refiner": _l("Refiners"), "jeweler": _l("Jewelers")}
EVENT_LABELS = {
    "lot.register": _l("Registration"),
    "lot.dispatch": _l("Shipment"),
    "lot.receive": _l("Receipt"),
    "lot.assay": _l("Assay"),
    "event.void": _l("Void of an earlier event"),
}
TRANSFORM_LABELS = {
    "melt": _l("melting"),
    "refine": _l("refining"),
    "split": _l("split"),
    "merge": _l("merge"),
    "alloy": _l("alloying"),
    "manufacture": _l("manufacture"),
}


def decimal_text(raw: str | None) -> str:
    """The typed number with a comma accepted as the decimal mark (phones in Spanish offer one)."""
    text = (raw or "").strip()
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    return text


def _quantity(parse: Callable[[str], int], message: Any) -> Callable[[Any, Any], None]:
    """A WTForms validator that accepts what ``parse`` accepts, with ``message`` next to the field."""

    def check(_form: Any, field: Any) -> None:
        try:
            parse(decimal_text(field.data))
        except InvalidInput:
            raise ValidationError(str(message)) from None

    return check


_REQUIRED = DataRequired(message=_l("This field is required."))
_MASS = _quantity(
    parse_mass, _l("Enter grams, e.g. 1250,5 (up to 3 decimals, no thousands marks).")
)
_FINENESS = _quantity(parse_fineness, _l("Enter per mille from 0 to 1000, e.g. 912,5."))
_PRICE = _quantity(
    lambda text: parse_price(text, "price"), _l("Enter US dollars per gram, e.g. 84,50.")
)


class RegisterForm(FlaskForm):  # type: ignore[misc]
    form = SelectField(
        _l("Form"),
        choices=[SelectChoice(k, v) for k, v in FORM_LABELS.items()],
        default="dore",
    )
    mass_g = StringField(_l("Mass (g)"), validators=[_REQUIRED, _MASS])
    fineness = StringField(_l("Fineness (‰)"), validators=[_REQUIRED, _FINENESS])
    category = SelectField(_l("Category"))
    produced_on = DateField(
        _l("Production date"),
        default=lambda: datetime.now(PERU).date(),
        validators=[InputRequired(message=_l("This field is required."))],
    )
    reference = StringField(_l("Your reference"), validators=[Optional(), Length(max=100)])
    # Only for an association of pickers: its registered members (the service checks the dates).
    picker = SelectField(
        _l("Ore picker (pallaquera) who sold this ore"), validate_choice=False, default=""
    )


class DispatchForm(FlaskForm):  # type: ignore[misc]
    to = SelectField(_l("Recipient"), validators=[_REQUIRED])
    price = StringField(_l("Price (USD per gram of fine gold)"), validators=[_REQUIRED, _PRICE])
    reference_price = StringField(
        _l("Reference international price (USD per gram)"), validators=[_REQUIRED, _PRICE]
    )


class ReceiveForm(FlaskForm):  # type: ignore[misc]
    mass_g = StringField(_l("Weighed mass (g)"), validators=[_REQUIRED, _MASS])
    fineness = StringField(_l("Fineness (‰)"), validators=[Optional(), _FINENESS])


class AssayForm(FlaskForm):  # type: ignore[misc]
    fineness = StringField(_l("Assayed fineness (‰)"), validators=[_REQUIRED, _FINENESS])
    lab = StringField(_l("Laboratory"), validators=[Optional(), Length(max=200)])


class VoidForm(FlaskForm):  # type: ignore[misc]
    reason = StringField(_l("Reason"), validators=[_REQUIRED, Length(max=500)])
    lot = HiddenField(validators=[Length(max=32)])


@dataclass(frozen=True)
class HistoryRow:
    """One event that touched a lot, as its detail page lists it."""

    seq: int
    occurred_at: str
    what: str
    detail: str
    actor: str
    short_hash: str
    voided: bool
    voidable: bool


def percent(part: int, whole: int, places: int = 1) -> str:
    """``part`` as a percentage of ``whole`` in the locale's format: "12,5 %"."""
    if not whole:
        return ""
    value = Decimal(part) * 100 / Decimal(whole)
    pattern = "0." + "0" * places
    return f"{format_decimal(value, format=pattern, locale=str(get_locale()))} %"


def price_text(micro: int) -> str:
    """Micro-dollars per gram as "USD 84,50"."""
    amount = format_decimal(
        Decimal(micro) / 1_000_000, format="#,##0.00####", locale=str(get_locale())
    )
    return f"USD {amount}"


def _names(session: Session, *org_ids: str | None) -> dict[str, str]:
    return {org_id: get_org(session, org_id).name for org_id in set(org_ids) if org_id}


def _form_page(template: str, form: Any, **context: Any) -> ResponseReturnValue:
    """The form again: 200 when first shown, 422 with the fields' errors after a submission."""
    if not form.is_submitted():
        return render_template(template, form=form, **context)
    flash(_("Some fields are not valid."), "error")
    return render_template(template, form=form, **context), 422


def _refusal(exc: GoldtraceError, template: str, **context: Any) -> ResponseReturnValue:
    """The form again with the refusal in plain words; everything the request did is rolled back."""
    status = refused(exc)  # it flashes, so it must come before the page is rendered
    return render_template(template, **context), status


def _to_detail(lot_id: str) -> ResponseReturnValue:
    return redirect(url_for("ui.lot_detail", lot_id=lot_id))


def _held_lot(session: Session, actor: Actor, lot_id: str) -> Lot:
    """The lot if the actor's organization holds it and may act on it (404, 403 or 409 otherwise)."""
    lot = lots.visible_lot(session, actor, lot_id)
    rules.check_custody(lots.view(lot), actor.org_id)
    return lot


@bp.get("/lots", endpoint="lots")
@login_required
def inventory() -> ResponseReturnValue:
    """The organization's inventory: on hand, incoming to receive, in transit to others, and the
    lots it used or voided; filtered by status and form."""
    actor = actor_of_kind(*MEMBER_KINDS)
    status = request.args.get("status") if request.args.get("status") in LOT_STATUSES else None
    form = request.args.get("form") if request.args.get("form") in rules.FORMS else None
    found = lots.list_lots(db(), actor, status=status, form=form)
    mine = actor.org_id
    return render_template(
        "lots/index.html",
        on_hand=[lot for lot in found if lot.holder_id == mine and lot.status == "active"],
        incoming=[lot for lot in found if lot.in_transit_to == mine],
        outgoing=[lot for lot in found if lot.holder_id == mine and lot.status == "in_transit"],
        closed=[lot for lot in found if lot.status in ("consumed", "voided")],
        selected_status=status,
        selected_form=form,
        statuses=LOT_STATUSES,
        forms=rules.FORMS,
    )


def _category_choices(session: Session, mine: str) -> list[SelectChoice]:
    """The categories the mine holds a certificate for (an ecological one covers plain Fairmined),
    then "not certified"; the service still checks the dates."""
    held = {cert.category for cert in registry.certifications(session, mine)}
    if "fairmined_ecological" in held:
        held.add("fairmined")
    ordered = [c for c in reversed(CATEGORIES) if c in held] + ["none"]
    return [SelectChoice(c, CATEGORY_LABELS[c]) for c in ordered]


@bp.route("/lots/new", methods=["GET", "POST"])
@login_required
def lot_register() -> ResponseReturnValue:
    """A mine registers a production lot."""
    actor = actor_of_kind("mine")
    session = db()
    form = RegisterForm()
    form.category.choices = _category_choices(session, actor.org_id)
    if get_org(session, actor.org_id).pickers:
        form.picker.choices = [SelectChoice("", _("Choose the picker"))] + [
            SelectChoice(p.person_id, f"{p.name} ({p.person_id.replace(':', ' ')})")
            for p in registry.list_pickers(session, actor.org_id)
        ]
    else:
        form.picker.choices = []
    if not form.validate_on_submit():
        return _form_page("lots/register.html", form)
    try:
        written = lots.register_lot(
            session,
            ctx(),
            actor=actor.org_id,
            form=form.form.data,
            mass_mg=parse_mass(decimal_text(form.mass_g.data)),
            fineness=parse_fineness(decimal_text(form.fineness.data)),
            category=form.category.data,
            produced_on=form.produced_on.data,
            reference=(form.reference.data or "").strip() or None,
            picker=(form.picker.data or None) if form.picker.choices else None,
        )
    except GoldtraceError as exc:
        return _refusal(exc, "lots/register.html", form=form)
    lot_id = written.lots[0].id
    session.commit()
    flash(_("Lot %(lot)s registered.", lot=lot_id), "ok")
    return _to_detail(lot_id)


def _history(session: Session, actor: Actor, lot: Lot, doc: dict[str, Any]) -> list[HistoryRow]:
    """The events that touched the lot (from its provenance document ``doc``), oldest first; only
    the latest may be voided, by its author (or the standard body), if a lot event not voided."""
    events = [e for e in doc["events"] if lot.id in e["lots"]]
    names = _names(session, *(e["actor"] for e in events))
    rows = []
    for event in events:
        latest = event["hash"] == lot.head.hex()
        rows.append(
            HistoryRow(
                seq=event["seq"],
                occurred_at=event["occurred_at"],
                what=_event_label(event),
                detail=_event_detail(session, event, lot.id),
                actor=names.get(event["actor"], event["actor"]),
                short_hash=event["hash"][:12],
                voided=event["voided"],
                voidable=latest
                and event["type"].startswith("lot.")
                and not event["voided"]
                and (event["actor"] == actor.org_id or actor.is_standard_body),
            )
        )
    return rows


def _event_label(event: dict[str, Any]) -> str:
    if event["type"] == "lot.transform":
        kind = event["summary"].get("kind", "")
        return str(_("Transformation: %(kind)s", kind=TRANSFORM_LABELS.get(kind, kind)))
    return str(EVENT_LABELS.get(event["type"], event["type"]))


def _mg(grams_text: str) -> int:
    """Milligrams from the exact gram strings (3 decimals) of an event summary."""
    return int(Decimal(grams_text) * 1000)


def _event_detail(session: Session, event: dict[str, Any], lot_id: str) -> str:
    """The event's public facts in words (never prices)."""
    summary = event["summary"]
    kind = event["type"]
    text: Any = ""
    if kind == "lot.register":
        mass = grams(_mg(summary["mass_g"]))
        text = _("%(mass)s g, produced on %(day)s", mass=mass, day=day(summary["produced_on"]))
    elif kind == "lot.dispatch":
        text = _("to %(org)s", org=_names(session, summary["to"])[summary["to"]])
    elif kind == "lot.receive":
        text = _("weighed %(mass)s g", mass=grams(_mg(summary["mass_g"])))
    elif kind == "lot.assay":
        text = _("fineness %(fineness)s", fineness=fineness_text(int(summary["fineness"])))
    elif kind == "lot.transform" and event["lots"].get(lot_id) == "input":
        text = _("made into %(lots)s", lots=", ".join(summary.get("outputs") or []))
    elif kind == "lot.transform":
        text = _("made from %(lots)s", lots=", ".join(summary.get("inputs") or []))
    elif kind == "event.void":
        text = _("event %(seq)s: %(reason)s", seq=summary["target"], reason=summary["reason"])
    return str(text)


def _sale(session: Session, terms: SaleTerms | None) -> dict[str, str] | None:
    """A first sale's terms in the locale's words, for its seller, buyer and overseers only."""
    if terms is None:
        return None
    names = _names(session, terms.seller_id, terms.buyer_id)
    return {
        "price": price_text(terms.price_microusd_per_g),
        "reference": price_text(terms.reference_microusd_per_g),
        "share": percent(terms.price_microusd_per_g, terms.reference_microusd_per_g),
        "seller": names[terms.seller_id],
        "buyer": names[terms.buyer_id],
    }


def _detail_page(actor: Actor, lot_id: str, void_form: Any = None) -> str:
    session = db()
    lot = lots.visible_lot(session, actor, lot_id)
    origins: dict[str, int] = json.loads(lot.origins)
    names = _names(session, lot.holder_id, lot.in_transit_to, lot.mine_id, *origins)
    # Shares of the lot's fine gold: what no mine registered is shown apart, never rescaled.
    total = fine_mg(lot.mass_mg, lot.fineness)
    unattributed = total - sum(origins.values())
    terms = lots.sale_terms_for(session, actor, lot.id)
    doc = provenance(session, lot.id)
    history = _history(session, actor, lot, doc)
    holds = lot.holder_id == actor.org_id and lot.status == "active"
    return render_template(
        "lots/detail.html",
        lot=lot,
        names=names,
        origins=[
            (names[mine], mg, percent(mg, total))
            for mine, mg in sorted(origins.items(), key=lambda item: -item[1])
        ],
        unattributed=(unattributed, percent(unattributed, total)) if unattributed > 0 else None,
        show_picker=actor.org_id == lot.mine_id or actor.sees_everything,
        sale=_sale(session, terms),
        history=history,
        can_dispatch=holds,
        can_assay=holds,
        can_receive=lot.status == "in_transit" and lot.in_transit_to == actor.org_id,
        latest_voidable=next((row for row in history if row.voidable), None),
        void_form=void_form or VoidForm(lot=lot.id),
        carried=premium_carried(session, lot.id),
        **provenance_context(doc),
    )


@bp.get("/lots/<lot_id>")
@login_required
def lot_detail(lot_id: str) -> ResponseReturnValue:
    """A lot as the actor may see it: facts, origins, history, the sale terms if they are theirs to
    see, and the actions that fit (404 when the lot is not theirs to see)."""
    return _detail_page(ui_actor(), lot_id)


def _recipients(session: Session, actor: str) -> list[SelectChoice]:
    """Traders, refiners and jewelers other than the actor, grouped by kind, by name."""
    orgs = session.execute(
        select(Organization).where(
            Organization.kind.in_(rules.RECEIVING_KINDS), Organization.id != actor
        )
    ).scalars()
    kinds = list(RECIPIENT_GROUPS)
    return [
        SelectChoice(org.id, f"{org.name} ({org.id})", optgroup=str(RECIPIENT_GROUPS[org.kind]))
        for org in sorted(orgs, key=lambda o: (kinds.index(o.kind), o.name, o.id))
    ]


@bp.route("/lots/<lot_id>/dispatch", methods=["GET", "POST"])
@login_required
def lot_dispatch(lot_id: str) -> ResponseReturnValue:
    """The holder sends a lot; a mine's first sale states its price and the reference price."""
    actor = actor_of_kind(*MEMBER_KINDS)
    session = db()
    lot = _held_lot(session, actor, lot_id)
    first_sale = lot.mine_id == actor.org_id and not lot.sold_by_mine
    form = DispatchForm()
    form.to.choices = _recipients(session, actor.org_id)
    if not first_sale:
        del form.price
        del form.reference_price
    context = {"lot": lot, "first_sale": first_sale}
    if not form.validate_on_submit():
        return _form_page("lots/dispatch.html", form, **context)
    try:
        lots.dispatch_lot(
            session,
            ctx(),
            actor=actor.org_id,
            lot_id=lot.id,
            to=form.to.data,
            price=parse_price(decimal_text(form.price.data), "price") if first_sale else None,
            reference_price=(
                parse_price(decimal_text(form.reference_price.data), "reference_price")
                if first_sale
                else None
            ),
        )
    except GoldtraceError as exc:
        return _refusal(exc, "lots/dispatch.html", form=form, **context)
    session.commit()
    name = _names(session, form.to.data)[form.to.data]
    flash(_("Lot %(lot)s dispatched to %(org)s.", lot=lot.id, org=name), "ok")
    return _to_detail(lot.id)


def discrepancy(dispatched_mg: int, received_mg: int) -> str:
    """The weighed mass against the dispatched one, in words: "-0,120 g (-0,01 %)"."""
    difference = received_mg - dispatched_mg
    sign = "+" if difference > 0 else ("-" if difference < 0 else "")
    return f"{sign}{grams(abs(difference))} g ({sign}{percent(abs(difference), dispatched_mg, 2)})"


@bp.route("/lots/<lot_id>/receive", methods=["GET", "POST"])
@login_required
def lot_receive(lot_id: str) -> ResponseReturnValue:
    """The named recipient takes custody with the weighed mass (prefilled with the dispatched one)."""
    actor = actor_of_kind(*MEMBER_KINDS)
    session = db()
    lot = lots.visible_lot(session, actor, lot_id)
    # Raises unless the lot is in transit to the actor.
    rules.check_receipt(lots.view(lot), actor=actor.org_id)
    dispatched = lot.mass_mg
    form = ReceiveForm()
    if not form.is_submitted():
        form.mass_g.data = format_mass(dispatched).replace(
            ".", get_decimal_symbol(str(get_locale()))
        )
    context: dict[str, Any] = {
        "lot": lot,
        "sender": _names(session, lot.holder_id)[lot.holder_id],
        "difference": None,
    }
    if not form.validate_on_submit():
        return _form_page("lots/receive.html", form, **context)
    mass_mg = parse_mass(decimal_text(form.mass_g.data))
    fineness = parse_fineness(decimal_text(form.fineness.data)) if form.fineness.data else None
    context["difference"] = discrepancy(dispatched, mass_mg)
    try:
        written = lots.receive_lot(
            session, ctx(), actor=actor.org_id, lot_id=lot.id, mass_mg=mass_mg, fineness=fineness
        )
    except GoldtraceError as exc:
        return _refusal(exc, "lots/receive.html", form=form, **context)
    session.commit()
    flash(
        _(
            "Lot %(lot)s received: %(mass)s g weighed, %(difference)s against the dispatched mass.",
            lot=lot.id,
            mass=grams(mass_mg),
            difference=context["difference"],
        ),
        "ok",
    )
    if written.flags:
        flash(_("The difference is beyond the tolerance: it is flagged for the auditor."), "warn")
    return _to_detail(lot.id)


@bp.route("/lots/<lot_id>/assay", methods=["GET", "POST"])
@login_required
def lot_assay(lot_id: str) -> ResponseReturnValue:
    """The holder records an assay: the lot takes the assayed fineness."""
    actor = actor_of_kind(*MEMBER_KINDS)
    session = db()
    lot = _held_lot(session, actor, lot_id)
    form = AssayForm()
    if not form.validate_on_submit():
        return _form_page("lots/assay.html", form, lot=lot)
    try:
        written = lots.assay_lot(
            session,
            ctx(),
            actor=actor.org_id,
            lot_id=lot.id,
            fineness=parse_fineness(decimal_text(form.fineness.data)),
            lab=(form.lab.data or "").strip() or None,
        )
    except GoldtraceError as exc:
        return _refusal(exc, "lots/assay.html", form=form, lot=lot)
    session.commit()
    flash(_("Assay of lot %(lot)s recorded.", lot=lot.id), "ok")
    if written.flags:
        flash(_("The assay raised the fineness: it is flagged for the auditor."), "warn")
    return _to_detail(lot.id)


# Event numbers are 64-bit: a larger one is simply not found (404), never sent to the database.
@bp.post(f"/events/<int(max={2**63 - 1}):seq>/void")
@login_required
def lot_void(seq: int) -> ResponseReturnValue:
    """The author of the latest event of a lot (or the standard body) voids it, with a reason."""
    actor = ui_actor()
    session = db()
    form = VoidForm()
    lot_id = form.lot.data or ""
    if not form.validate_on_submit():
        if not lot_id:
            abort(400)
        flash(_("Some fields are not valid."), "error")
        return _detail_page(actor, lot_id, void_form=form), 422
    try:
        written = lots.void_event(
            session, ctx(), actor=actor.org_id, seq=seq, reason=form.reason.data.strip()
        )
    except GoldtraceError as exc:
        status = refused(exc)
        if not lot_id:
            abort(status)
        return _detail_page(actor, lot_id, void_form=form), status
    session.commit()
    flash(_("Event %(seq)s voided.", seq=seq), "ok")
    return _to_detail(lot_id or written.lots[0].id)
