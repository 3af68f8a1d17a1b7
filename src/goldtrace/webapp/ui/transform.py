"""Transforming lots: melt, refine, split, merge, alloy or manufacture, with a preview of fine gold.

The preview (fine gold in, out, and the loss) is computed here with the domain's integer rounding and
again in the browser by ``web/static/transform.js`` as the person types; both floor fine gold alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol
from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from goldtrace.db.models import Lot
from goldtrace.domain.certification import CATEGORIES
from goldtrace.domain.lots import FORMS, TRANSFORM_KINDS, OutputSpec
from goldtrace.domain.quantities import fine_mg, parse_fineness, parse_mass
from goldtrace.errors import GoldtraceError, InvalidInput
from goldtrace.services import lots
from goldtrace.webapp.request_state import ctx, db
from goldtrace.webapp.security import login_required
from goldtrace.webapp.ui import bp
from goldtrace.webapp.ui.common import actor_of_kind, refused
from goldtrace.webapp.ui.lots import decimal_text

OUTPUT_ROWS = 4
MAX_REFERENCE = 100
KIND_LABELS: dict[str, Any] = {
    "melt": _l("Melt"),
    "refine": _l("Refine"),
    "split": _l("Split"),
    "merge": _l("Merge"),
    "alloy": _l("Alloy"),
    "manufacture": _l("Manufacture"),
}
KIND_HINTS: dict[str, Any] = {
    "melt": _l("one lot into one"),
    "refine": _l("raises the fineness; a loss of up to 2 percent is expected"),
    "split": _l("one lot into several"),
    "merge": _l("several lots into one"),
    "alloy": _l("adds non-gold metal, e.g. to 750 ‰ for 18k"),
    "manufacture": _l("makes pieces, with alloy metal if any"),
}
_JEWELER_FIRST = ("alloy", "manufacture")
# The output form each kind of organization makes most often, preselected in every row.
_USUAL_FORM = {"trader": "dore", "refiner": "grain", "jeweler": "jewelry_item"}


def kinds_for(org_kind: str) -> tuple[str, ...]:
    """Every kind the service allows, alloy and manufacture first for jewelers."""
    if org_kind != "jeweler":
        return TRANSFORM_KINDS
    return _JEWELER_FIRST + tuple(k for k in TRANSFORM_KINDS if k not in _JEWELER_FIRST)


@dataclass
class OutputRow:
    """One output row of the form, as typed."""

    index: int
    form: str
    mass: str = ""
    fineness: str = ""
    category: str = ""
    reference: str = ""

    def name(self, part: str) -> str:
        """The form field name of ``part`` in this row."""
        return f"outputs-{self.index}-{part}"

    @property
    def blank(self) -> bool:
        return not (self.mass or self.fineness or self.reference)


@dataclass
class Submission:
    """The transform form as typed: kept as text so that a refused form comes back unchanged."""

    kind: str
    inputs: list[str]
    rows: list[OutputRow]
    alloy: str = ""
    invalid: set[str] = field(default_factory=set)

    @classmethod
    def empty(cls, kind: str, form: str) -> Submission:
        """A fresh form."""
        return cls(kind=kind, inputs=[], rows=[OutputRow(i, form) for i in range(OUTPUT_ROWS)])

    @classmethod
    def read(cls, data: Mapping[str, str], inputs: Sequence[str]) -> Submission:
        """The form as posted (unknown and surplus fields are ignored)."""
        rows = [
            OutputRow(
                index=i,
                form=data.get(f"outputs-{i}-form", ""),
                mass=data.get(f"outputs-{i}-mass_g", "").strip(),
                fineness=data.get(f"outputs-{i}-fineness", "").strip(),
                category=data.get(f"outputs-{i}-category", ""),
                reference=data.get(f"outputs-{i}-reference", "").strip(),
            )
            for i in range(OUTPUT_ROWS)
        ]
        return cls(
            kind=data.get("kind", ""),
            inputs=list(dict.fromkeys(inputs)),
            rows=rows,
            alloy=data.get("alloy_mass_g", "").strip(),
        )

    def parse(self) -> tuple[list[OutputSpec], int]:
        """The outputs and the alloy mass in milligrams; InvalidInput naming every bad field."""
        outputs = []
        for row in self.rows:
            if row.blank:
                continue
            mass = self._field(parse_mass, row.mass, row.name("mass_g"))
            parts = self._field(parse_fineness, row.fineness, row.name("fineness"))
            if row.form not in FORMS:
                self.invalid.add(row.name("form"))
            if row.category and row.category not in CATEGORIES:
                self.invalid.add(row.name("category"))
            if len(row.reference) > MAX_REFERENCE:
                self.invalid.add(row.name("reference"))
            outputs.append(
                OutputSpec(
                    id="",
                    form=row.form,
                    mass_mg=mass or 0,
                    fineness=parts or 0,
                    category=row.category or None,
                    reference=row.reference or None,
                )
            )
        alloy = self._field(parse_mass, self.alloy, "alloy_mass_g") if self.alloy else 0
        if self.invalid:
            raise InvalidInput(
                "some fields are not valid", fields=dict.fromkeys(self.invalid, "invalid")
            )
        return outputs, alloy or 0

    def _field(self, parser: Callable[[Any, str], int], text: str, name: str) -> int | None:
        try:
            value = parser(decimal_text(text), name)
        except InvalidInput:
            self.invalid.add(name)
            return None
        return value


@dataclass(frozen=True)
class Preview:
    """Fine gold in and out of a transformation as typed, in milligrams."""

    fine_in_mg: int
    fine_out_mg: int

    @property
    def loss_mg(self) -> int:
        return self.fine_in_mg - self.fine_out_mg

    @property
    def loss_percent(self) -> str:
        """The loss as a percentage of fine gold in, 2 decimals truncated toward zero (as BigInt
        division in the browser); a dash when nothing goes in."""
        if not self.fine_in_mg:
            return "—"
        hundredths = abs(self.loss_mg) * 10_000 // self.fine_in_mg
        if self.loss_mg < 0:
            hundredths = -hundredths
        text = format_decimal(
            Decimal(hundredths) / 100, format="#,##0.00", locale=str(get_locale())
        )
        return f"{text} %"


def preview(available: Sequence[Lot], submission: Submission) -> Preview:
    """What the chosen lots hold and the complete output rows would hold; bad rows count as nothing."""
    chosen = set(submission.inputs)
    fine_in = sum(fine_mg(lot.mass_mg, lot.fineness) for lot in available if lot.id in chosen)
    fine_out = 0
    for row in submission.rows:
        try:
            mass = parse_mass(decimal_text(row.mass))
            parts = parse_fineness(decimal_text(row.fineness))
        except InvalidInput:
            continue
        fine_out += fine_mg(mass, parts)
    return Preview(fine_in, fine_out)


@bp.route("/transform", methods=["GET", "POST"])
@login_required
def transform() -> str | Response | tuple[str, int]:
    """Choose input lots and describe the outputs; success opens the first new lot."""
    actor = actor_of_kind("trader", "refiner", "jeweler")
    session = db()
    kinds = kinds_for(actor.org_kind)
    if request.method == "GET":
        submission = Submission.empty(kinds[0], _USUAL_FORM.get(actor.org_kind, FORMS[0]))
        return _page(submission, kinds, lots.list_lots(session, actor, status="active"))
    submission = Submission.read(request.form, request.form.getlist("inputs"))
    try:
        outputs, alloy_mg = submission.parse()
        written = lots.transform(
            session,
            ctx(),
            actor=actor.org_id,
            kind=submission.kind,
            inputs=submission.inputs,
            outputs=outputs,
            alloy_mass_mg=alloy_mg,
        )
    except GoldtraceError as exc:
        status = refused(exc)
        submission.invalid.update(exc.fields)
        available = lots.list_lots(session, actor, status="active")
        return _page(submission, kinds, available), status
    session.commit()
    created = [lot.id for lot in written.lots]
    flash(_("Recorded. New lots: %(lots)s", lots=", ".join(created)), "ok")
    if written.flags:
        flash(_("The loss is above the tolerance and was flagged for the auditor."), "warn")
    return redirect(url_for("ui.lot_detail", lot_id=created[0]))  # type: ignore[return-value]


def _page(submission: Submission, kinds: Sequence[str], available: Sequence[Lot]) -> str:
    locale = str(get_locale())
    return render_template(
        "transform.html",
        submission=submission,
        kinds=kinds,
        kind_labels=KIND_LABELS,
        kind_hints=KIND_HINTS,
        lots=available,
        forms=FORMS,
        preview=preview(available, submission),
        decimal_mark=get_decimal_symbol(locale),
        group_mark=get_group_symbol(locale),
        fine_mg=fine_mg,
    )
