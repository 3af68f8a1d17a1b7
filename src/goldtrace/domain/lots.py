"""Lots and what may happen to them: custody, receipts, transformations and the origins they carry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from goldtrace.domain import gains
from goldtrace.domain.certification import RANK, lowest, parse_category
from goldtrace.domain.flags import Flag, ppm
from goldtrace.domain.quantities import FINENESS_SCALE, MAX_MASS_MG, fine_mg
from goldtrace.errors import Conflict, InvalidInput, PermissionDenied, RuleViolation

__all__ = ["Flag", "LotView", "OutputSpec", "Plan", "PlannedOutput"]

FORMS = (
    "ore",
    "concentrate",
    "dore",
    "grain",
    "bar",
    "semi_finished",
    "jewelry_item",
    "scrap",
)
FINISHED_FORMS = ("jewelry_item",)
TRANSFORM_KINDS = ("melt", "refine", "split", "merge", "alloy", "manufacture")
RECEIVING_KINDS = ("trader", "refiner", "jeweler")

# Tolerances in parts per million of the relevant mass (DESIGN.md §5).
REFINING_LOSS_PPM = 20_000
OTHER_LOSS_PPM = 5_000
# Gold that is not yet refined: refining or melting it always loses something.
UNREFINED_FORMS = ("ore", "concentrate", "dore", "scrap")
# The least plausible loss when refining, melting or merging unrefined gold (a floor per kind). A
# melt's floor must stay above what rounding a fineness to 0.1 per mille can hide (up to one part in
# 10,000 of the mass, about 110 ppm of the fine gold of doré at 900 per mille), or a topped-up loss
# passes as rounding.
LOSS_FLOOR_PPM = {"refine": 500, "melt": 150, "merge": 150}
# A mine's first sale may not be priced below this share of the reference price.
MINIMUM_PRICE_PERCENT = 95
# A stated reference price may differ from the standard body's recorded one by at most this much.
REFERENCE_PRICE_TOLERANCE_PPM = 20_000


def parse_form(value: object, field: str = "form") -> str:
    """Return a lot form; InvalidInput for anything else."""
    if value not in FORMS:
        raise InvalidInput(
            f"{field} must be one of {', '.join(FORMS)}", fields={field: "unknown form"}
        )
    return str(value)


@dataclass(frozen=True)
class LotView:
    """What the rules need to know about a lot right now."""

    id: str
    form: str
    mass_mg: int
    fineness: int
    category: str
    holder: str
    status: str
    origins: Mapping[str, int]
    head: bytes
    in_transit_to: str | None = None
    mine: str | None = None
    sold_by_mine: bool = False
    # Set on a mine's registered lot only: its dates, for the mine's capacity windows.
    produced_on: date | None = None
    registered_on: date | None = None
    # Fine gold gained by receipts and assays, and how many growth receipts ran between each pair.
    gained_mg: int = 0
    gain_pairs: Mapping[str, int] = field(default_factory=dict)

    @property
    def fine_mg(self) -> int:
        """Fine gold in milligrams."""
        return fine_mg(self.mass_mg, self.fineness)

    @property
    def unattributed_mg(self) -> int:
        """Fine gold that no mine registered: what the origins do not cover."""
        return self.fine_mg - sum(self.origins.values())

    @property
    def established(self) -> bool:
        """True while this is still a mine's registered lot (nothing has been made of it)."""
        return self.produced_on is not None and self.mine is not None


def check_custody(lot: LotView, actor: str) -> None:
    """Raise unless ``actor`` holds ``lot`` and the lot is active (not in transit, consumed, voided)."""
    if lot.status == "voided":
        raise Conflict(f"lot {lot.id} was voided", code="lot_voided")
    if lot.status == "consumed":
        raise Conflict(f"lot {lot.id} was consumed by a transformation", code="lot_consumed")
    if lot.holder != actor:
        raise PermissionDenied(f"{actor} does not hold lot {lot.id}", code="not_holder")
    if lot.status == "in_transit":
        raise Conflict(
            f"lot {lot.id} is in transit to {lot.in_transit_to}; it must be received first",
            code="in_transit",
        )


def check_dispatch(
    lot: LotView,
    *,
    actor: str,
    recipient: str,
    recipient_kind: str,
    recipient_authorized: bool,
    prices: tuple[int, int] | None,
    recorded_reference: int | None = None,
    seller_certified: bool = True,
) -> bool:
    """Check a dispatch; return True when it is the mine's first sale (which carries prices).

    ``prices`` is (price, stated reference price) in micro-dollars per gram of fine gold;
    ``recorded_reference`` is the standard body's reference price on the sale date, which the minimum
    price is measured against. ``seller_certified`` says whether the mine holds a certification for
    the lot's category on the sale date (a first sale of certified gold needs one).
    """
    check_custody(lot, actor)
    if recipient == actor:
        raise InvalidInput("a lot cannot be dispatched to its own holder", code="self_dispatch")
    if recipient_kind not in RECEIVING_KINDS:
        raise RuleViolation(
            f"{recipient} is a {recipient_kind}; lots go to traders, refiners or jewelers",
            code="recipient_kind",
        )
    if lot.category != "none" and not recipient_authorized:
        raise RuleViolation(
            f"{recipient} is not an authorized Fairmined supplier or licensee on this date",
            code="recipient_not_authorized",
        )
    first_sale = lot.mine == actor and not lot.sold_by_mine
    if first_sale:
        if prices is None:
            raise InvalidInput(
                "a mine's first sale must state price_usd_per_g and reference_price_usd_per_g",
                code="price_required",
                fields={"price_usd_per_g": "required"},
            )
        if not seller_certified:
            raise RuleViolation(
                f"{actor} holds no active {lot.category} certification on the sale date",
                code="not_certified_on_sale",
            )
        check_minimum_price(prices[0], check_reference_price(prices[1], recorded_reference))
    elif prices is not None:
        raise InvalidInput(
            "prices are recorded only on a mine's first sale", code="price_not_applicable"
        )
    return first_sale


def check_reference_price(stated: int, recorded: int | None) -> int:
    """Return the recorded reference price; RuleViolation unless the stated one lies within 2 % of it."""
    if recorded is None:
        raise RuleViolation(
            "the standard body has recorded no reference price on or before the sale date",
            code="no_reference_price",
        )
    if abs(stated - recorded) * 1_000_000 > recorded * REFERENCE_PRICE_TOLERANCE_PPM:
        raise RuleViolation(
            f"the stated reference price ({stated / 1e6:.2f} USD/g) is more than "
            f"{REFERENCE_PRICE_TOLERANCE_PPM / 10_000:g} % from the standard body's "
            f"({recorded / 1e6:.2f} USD/g) on the sale date",
            code="reference_price_mismatch",
        )
    return recorded


def check_minimum_price(price: int, reference: int) -> None:
    """Raise RuleViolation when the price is below 95 % of the reference price."""
    if price * 100 < reference * MINIMUM_PRICE_PERCENT:
        raise RuleViolation(
            f"the price is below {MINIMUM_PRICE_PERCENT} % of the reference price",
            code="price_below_minimum",
        )


def check_receipt(lot: LotView, *, actor: str) -> None:
    """Raise unless ``actor`` is the named recipient of ``lot``, which is in transit."""
    if lot.status != "in_transit":
        raise Conflict(f"lot {lot.id} is not in transit", code="not_in_transit")
    if lot.in_transit_to != actor:
        raise PermissionDenied(
            f"lot {lot.id} was dispatched to {lot.in_transit_to}, not {actor}", code="not_recipient"
        )


@dataclass(frozen=True)
class OutputSpec:
    """An output a transformation should create, as requested."""

    id: str
    form: str
    mass_mg: int
    fineness: int
    category: str | None = None
    reference: str | None = None


@dataclass(frozen=True)
class PlannedOutput:
    """An output as it will be created: with the category and origins the inputs allow."""

    id: str
    form: str
    mass_mg: int
    fineness: int
    category: str
    origins: dict[str, int] = field(default_factory=dict)
    reference: str | None = None
    # Growth receipts per pair of organizations, carried from the inputs (the most of any input):
    # a split or a merge does not start the count of repeated growing shipments again.
    gain_pairs: dict[str, int] = field(default_factory=dict)

    @property
    def fine_mg(self) -> int:
        """Fine gold in milligrams."""
        return fine_mg(self.mass_mg, self.fineness)


@dataclass(frozen=True)
class Plan:
    """The outcome of a transformation: outputs, fine gold lost, flags."""

    outputs: list[PlannedOutput]
    loss_mg: int
    flags: list[Flag]


_SHAPES = {
    # kind: (min inputs, max inputs, min outputs, max outputs)
    "melt": (1, 1, 1, 1),
    "refine": (1, 1000, 1, 1000),
    "split": (1, 1, 2, 1000),
    "merge": (2, 1000, 1, 1),
    "alloy": (1, 1000, 1, 1),
    "manufacture": (1, 1000, 1, 1000),
}


def plan_transformation(
    *,
    kind: str,
    actor: str,
    inputs: Sequence[LotView],
    outputs: Sequence[OutputSpec],
    alloy_mass_mg: int = 0,
) -> Plan:
    """Check a transformation and return what it creates.

    Fine gold out never exceeds fine gold in; origins flow to outputs in proportion to fine gold,
    rounded down per mine; the output category is the lowest of the inputs' (segregation).
    """
    if kind not in _SHAPES:
        raise InvalidInput(f"kind must be one of {', '.join(_SHAPES)}", fields={"kind": "unknown"})
    min_in, max_in, min_out, max_out = _SHAPES[kind]
    if not min_in <= len(inputs) <= max_in or not min_out <= len(outputs) <= max_out:
        raise InvalidInput(
            f"a {kind} takes {min_in}-{max_in} inputs and makes {min_out}-{max_out} outputs",
            code="transformation_shape",
        )
    for spec in outputs:
        _check_output(spec)
    if len({lot.id for lot in inputs}) != len(inputs):
        raise InvalidInput("an input lot is listed twice", code="duplicate_input")
    if alloy_mass_mg and kind not in ("alloy", "manufacture"):
        raise InvalidInput(
            "alloy_mass_g applies only to alloy and manufacture", code="alloy_not_allowed"
        )
    if kind == "alloy" and alloy_mass_mg <= 0:
        raise InvalidInput("an alloy needs alloy_mass_g", fields={"alloy_mass_g": "required"})
    for lot in inputs:
        check_custody(lot, actor)
    fine_in = sum(lot.fine_mg for lot in inputs)
    fine_out = sum(fine_mg(o.mass_mg, o.fineness) for o in outputs)
    if fine_out > fine_in:
        raise RuleViolation(
            f"outputs hold {fine_out} mg of fine gold but inputs only {fine_in} mg",
            code="fine_gold_created",
        )
    mass_in = sum(lot.mass_mg for lot in inputs) + alloy_mass_mg
    mass_out = sum(o.mass_mg for o in outputs)
    if mass_out > mass_in:
        raise RuleViolation(
            f"outputs weigh {mass_out} mg but inputs (with alloy) only {mass_in} mg",
            code="mass_created",
        )
    category = lowest(lot.category for lot in inputs)
    # Origins flow to the outputs in proportion to fine gold, exactly: each output's buckets (one per
    # mine, and the unattributed gold) sum to its fine gold, taken in turn from what is left.
    remaining: dict[str, int] = {}
    for lot in inputs:
        for key, mg in gains.pool(lot.origins, lot.fine_mg).items():
            remaining[key] = remaining.get(key, 0) + mg
    carried: dict[str, int] = {}
    for lot in inputs:
        for pair, count in lot.gain_pairs.items():
            carried[pair] = max(carried.get(pair, 0), count)
    planned = []
    for spec in outputs:
        if spec.category is not None and RANK[spec.category] > RANK[category]:
            raise RuleViolation(
                f"output {spec.id} cannot be {spec.category}: its inputs only support {category}",
                code="segregation",
            )
        share = gains.allocate(remaining, fine_mg(spec.mass_mg, spec.fineness))
        for key, mg in share.items():
            remaining[key] -= mg
        planned.append(
            PlannedOutput(
                id=spec.id,
                form=spec.form,
                mass_mg=spec.mass_mg,
                fineness=spec.fineness,
                category=spec.category or category,
                origins=dict(sorted(gains.split_pool(share).items())),
                reference=spec.reference,
                gain_pairs=dict(carried),
            )
        )
    loss = fine_in - fine_out
    tolerance = REFINING_LOSS_PPM if kind == "refine" else OTHER_LOSS_PPM
    flags = []
    figures: dict[str, int | str] = {"kind": kind, "fine_in_mg": fine_in, "loss_mg": loss}
    if loss * 1_000_000 > fine_in * tolerance:
        flags.append(
            Flag(
                "loss_above_tolerance",
                None,
                f"{kind} lost {loss} mg of {fine_in} mg fine gold (tolerance {tolerance / 10_000} %)",
                "review",
                figures | {"tolerance_ppm": tolerance},
            )
        )
    floor = LOSS_FLOOR_PPM.get(kind, 0)
    unrefined = any(lot.form in UNREFINED_FORMS for lot in inputs)
    if unrefined and loss * 1_000_000 < fine_in * floor:
        flags.append(
            Flag(
                "implausible_low_loss",
                None,
                f"{kind} of unrefined gold lost only {loss} mg of {fine_in} mg fine gold",
                "review",
                figures | {"floor_ppm": floor, "ppm": ppm(loss, fine_in)},
            )
        )
    return Plan(outputs=planned, loss_mg=loss, flags=flags)


def _check_output(spec: OutputSpec) -> None:
    parse_form(spec.form, "outputs.form")
    if spec.category is not None:
        parse_category(spec.category, "outputs.category")
    if not 0 < spec.mass_mg <= MAX_MASS_MG:
        raise InvalidInput(
            "an output's mass must be positive and plausible",
            fields={"outputs.mass_g": "out of range"},
        )
    if not 0 <= spec.fineness <= FINENESS_SCALE:
        raise InvalidInput(
            "an output's fineness must be 0 to 1000 per mille",
            fields={"outputs.fineness": "out of range"},
        )


def after_dispatch(lot: LotView, recipient: str, *, head: bytes, first_sale: bool) -> LotView:
    """The lot once dispatched."""
    return replace(
        lot,
        status="in_transit",
        in_transit_to=recipient,
        head=head,
        sold_by_mine=lot.sold_by_mine or first_sale,
    )


def after_receipt(
    lot: LotView, *, mass_mg: int, fineness: int | None, head: bytes
) -> tuple[LotView, gains.Reweighed]:
    """The lot once received: the weighed mass (and a stated fineness) become its own. Returns the
    lot and the judgment of its fine gold change (flags, and a gain its mine's capacity must hold)."""
    assert lot.in_transit_to is not None
    new_fineness = lot.fineness if fineness is None else fineness
    judged = _reweigh(lot, mass_mg, new_fineness, (lot.holder, lot.in_transit_to))
    updated = replace(
        lot,
        status="active",
        holder=lot.in_transit_to,
        in_transit_to=None,
        mass_mg=mass_mg,
        fineness=new_fineness,
        origins=judged.origins,
        gained_mg=judged.gained_mg,
        gain_pairs=judged.gain_pairs,
        head=head,
    )
    return updated, judged


def after_assay(lot: LotView, *, fineness: int, head: bytes) -> tuple[LotView, gains.Reweighed]:
    """The lot with its assayed fineness, and the judgment of its fine gold change."""
    judged = _reweigh(lot, lot.mass_mg, fineness, None)
    updated = replace(
        lot, fineness=fineness, origins=judged.origins, gained_mg=judged.gained_mg, head=head
    )
    return updated, judged


def _reweigh(
    lot: LotView, mass_mg: int, fineness: int, shipment: tuple[str, str] | None
) -> gains.Reweighed:
    return gains.reweigh(
        lot_id=lot.id,
        mass_mg=lot.mass_mg,
        fineness=lot.fineness,
        new_mass_mg=mass_mg,
        new_fineness=fineness,
        origins=lot.origins,
        mine=lot.mine,
        established=lot.established,
        gained_mg=lot.gained_mg,
        gain_pairs=lot.gain_pairs,
        shipment=shipment,
    )
