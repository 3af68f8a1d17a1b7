"""Random valid sequences of lot operations: every milligram of fine gold stays accounted for.

A Hypothesis state machine drives the real lot services (register, a mine's first sale, later
dispatches, receipts with small weight differences, assays, the six transformations with random valid
outputs, voids of a lot's latest event, and a handful of operations that must be refused) on the test
ledger. Each example runs inside its own savepoint, rolled back at the end; each operation runs in a
nested savepoint, as a view's transaction would. The machine keeps a small model of every lot that is
independent of the services, and predicts which operations are refused and which flags are raised
(with their severity). Its mines are the chain's two and two associations of pickers, whose lots name
one of two pickers registered with both; lots are produced within the last 20 days in Peru and
registered now, and first sales state a reference price near the recorded USD 90 a gram.

Gains are judged apart from losses: a receipt or assay that raises fine gold beyond the weighing and
lab tolerances is flagged; on a mine's registered lot the gain is the mine's (counted against its
capacity and the picker's ceiling, refused beyond them), downstream it is gold no mine registered.

Fine gold of a lot is floor(mass x fineness / 10000). After every step:

(a) Accounting, derived from the stored events (the truth), not from the model. Only four event types
    change fine gold, and a voided event counts for nothing (a void restores every lot it touched to its
    state just before the event, and only the latest event of a lot can be voided):

    - ``lot.register`` brings in fine(mass, fineness) of the new lot (its ``registered_fine_mg``);
    - ``lot.receive`` turns fine(before) into fine(weighed mass, stated fineness or the old one);
    - ``lot.assay`` turns fine(before) into fine(same mass, assayed fineness);
    - ``lot.transform`` consumes fine(inputs) and creates fine(outputs); ``loss_mg`` is the difference.

    ``before`` is the lot's snapshot stored with the event (``lot_event.before``). Dispatches only move
    custody. A consumed lot is an input of exactly one live transformation, so its fine gold is counted
    there, as the transformation's outputs plus its loss. Hence, summing over non-voided events:

        registered + receipt/assay gains - receipt/assay shortfalls - transformation losses
            == fine gold in active and in-transit lots

    and for every live transformation fine(inputs) == fine(outputs) + loss_mg, loss_mg >= 0. The
    registered total plus the gains on registered lots equals the sum of ``Lot.registered_fine_mg``
    over non-voided registered lots, and the held total equals the model's.
(b) Origins: every lot's origins are positive integers naming mines and sum to no more than its fine
    gold; a mine's registered lot is wholly its mine's; over the active and in-transit lots, no mine
    is credited with more than it registered (gains on its registered lots included).
(c) The ``lot`` table equals the model (status, holder, recipient, form, mass, fineness, category,
    sale flag, registered fine gold, gains, latest event).

At the end of each example, ``verify_ledger`` is clean and replaying the events through the domain
``Book`` gives exactly the stored ``lot`` rows.

Transformations may take inputs that share a head event (two outputs of one split, or lots restored by
one void); ``test_inputs_sharing_a_head_pass_verify`` pins that case on its own. Outputs the
replay or the database would reject are refused up front
(``test_transform_refuses_impossible_outputs``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from builders import FAR_FUTURE, FAR_PAST, REFERENCE_MICRO, Chain, certified_chain, recent, register
from goldtrace.db.models import Event, Lot, LotEvent, SaleTerms, Voided
from goldtrace.domain import certification as certrules
from goldtrace.domain import lots as rules
from goldtrace.domain.book import Book
from goldtrace.domain.events import SaleTerms as Terms
from goldtrace.domain.organizations import OrgProfile
from goldtrace.domain.quantities import fine_mg
from goldtrace.errors import GoldtraceError
from goldtrace.services import lots, organizations, registry
from goldtrace.services.context import Context
from goldtrace.services.organizations import get_org
from goldtrace.services.verify import verify_ledger

# Every lot is produced within the last 20 days (in Peru) and registered now, so some 30-day window
# holds all of them, by production and by registration date: a mine's (or a picker's) window total is
# simply the sum of its non-voided registrations and of the gains on them.
SPAN_DAYS = 20
# Associations of pickers: one certified Fairmined, one Fairmined Ecological; both pickers are
# registered with both, so a picker's ceiling counts across associations.
ASSOCIATIONS = {"pallay-a": "fairmined", "pallay-b": "fairmined_ecological"}
PICKERS = ("41000002", "41000010")
# Tolerances the receipts and assays are judged by (parts per million; DESIGN.md §5).
WEIGHING_PPM = 1_000
LAB_PPM = 3_000
HIGH_GAIN_PPM = 50_000
UNATTRIBUTED_PPM = ((10_000, "high"), (2_000, "review"))
UNREFINED = ("ore", "concentrate", "dore", "scrap")
LOSS_FLOOR_PPM = {"refine": 500, "melt": 150, "merge": 150}
# The test's own idea of each transformation's shape: (min in, max in, min out, max out).
SHAPES = {
    "melt": (1, 1, 1, 1),
    "refine": (1, 3, 1, 3),
    "split": (1, 1, 2, 4),
    "merge": (2, 3, 1, 1),
    "alloy": (1, 3, 1, 1),
    "manufacture": (1, 3, 1, 3),
}
# Transformation inputs are lots of at least a gram, so random outputs never round down to nothing.
MIN_INPUT_MG = 1_000
LIVE = ("active", "in_transit")
LOT_EVENTS = ("lot.register", "lot.receive", "lot.assay", "lot.transform")

SETTINGS = settings(
    max_examples=30,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Model:
    """What the test expects the ``lot`` row to say."""

    id: str
    status: str
    holder: str
    mass: int
    fineness: int
    category: str
    last_seq: int
    form: str = "dore"
    to: str | None = None
    mine: str | None = None
    sold: bool = False
    # A mine's registered lot: its fine gold as registered, plus the gains on it since; and the mass
    # and fineness it was registered with.
    registered: int | None = None
    declared: tuple[int, int] | None = None
    picker: str | None = None
    gained: int = 0  # fine gold gained by receipts and assays
    pairs: tuple[tuple[str, int], ...] = ()  # growth receipts per pair of organizations

    @property
    def fine(self) -> int:
        return fine_mg(self.mass, self.fineness)


@dataclass(frozen=True)
class Step:
    """An event the machine wrote: its type, author and the lots it touched as they were before."""

    type: str
    actor: str
    before: dict[str, Model | None]


def _fine(snapshot: dict[str, Any]) -> int:
    return fine_mg(int(snapshot["mass_mg"]), int(snapshot["fineness"]))


def _ppm(part: int, whole: int) -> int:
    return part * 1_000_000 // whole if whole > 0 else 0


class LotMachine(RuleBasedStateMachine):
    """Bound to a session, context and chain by ``bind``; one instance per Hypothesis example."""

    session: Session
    ctx: Context
    chain: Chain
    limits: dict[str, int]
    day0: date

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = self.session.begin_nested()
        self.lots: dict[str, Model] = {}
        self.order: list[str] = []  # creation order: lot ids are random, choices must not be
        self.steps: dict[int, Step] = {}

    # Helpers.

    def _ids(self, pred: Callable[[Model], bool]) -> list[str]:
        return [i for i in self.order if pred(self.lots[i])]

    def _pick(self, data: st.DataObject, pred: Callable[[Model], bool], label: str) -> Model:
        return self.lots[data.draw(st.sampled_from(self._ids(pred)), label=label)]

    def _ok(self, fn: Callable[..., lots.Written], **kw: Any) -> lots.Written:
        with self.session.begin_nested():
            written = fn(self.session, self.ctx, **kw)
        event(f"{fn.__name__}: written")
        return written

    def _refused(self, code: str, fn: Callable[..., lots.Written], **kw: Any) -> None:
        size = self._size()
        with pytest.raises(GoldtraceError) as err, self.session.begin_nested():
            fn(self.session, self.ctx, **kw)
        assert err.value.code == code, err.value.message
        assert self._size() == size
        event(f"{fn.__name__}: refused {code}")

    def _size(self) -> int:
        return self.session.execute(select(func.count()).select_from(Event)).scalar_one()

    def _add(self, m: Model) -> None:
        self.lots[m.id] = m
        self.order.append(m.id)

    def _registered(self, pred: Callable[[Model], bool]) -> int:
        return sum(
            m.registered
            for m in self.lots.values()
            if m.registered is not None and m.status != "voided" and pred(m)
        )

    def _unsold(self, m: Model) -> bool:
        return m.status == "active" and m.mine is not None and m.holder == m.mine and not m.sold

    def _movable(self, m: Model) -> bool:
        return m.status == "active" and not self._unsold(m)

    def _transformable(self, m: Model) -> bool:
        return m.status == "active" and m.mass >= MIN_INPUT_MG

    def _receivers(self) -> tuple[str, ...]:
        return (self.chain.trader, self.chain.refiner, self.chain.jeweler)

    def _mines(self) -> list[str]:
        return [self.chain.mine, self.chain.eco_mine, *ASSOCIATIONS]

    @property
    def _certified(self) -> dict[str, str]:
        """The category each mine is certified for."""
        c = self.chain
        return {c.mine: "fairmined", c.eco_mine: "fairmined_ecological", **ASSOCIATIONS}

    # Rules.

    @rule(data=st.data())
    def register(self, data: st.DataObject) -> None:
        mine = data.draw(st.sampled_from(self._mines()), label="mine")
        category = data.draw(st.sampled_from(certrules.CATEGORIES), label="category")
        picker = data.draw(st.none() | st.sampled_from(PICKERS), label="picker")
        if picker is None:
            mass = data.draw(st.integers(10_000, 2_500_000), label="mass")
        else:
            mass = data.draw(st.integers(1_000, 40_000), label="mass")
        fineness = data.draw(st.integers(500, 9_999), label="fineness")
        form = data.draw(st.sampled_from(["ore", "concentrate", "dore", "grain"]), label="form")
        day = self.day0 + timedelta(days=data.draw(st.integers(0, SPAN_DAYS - 1), label="day"))
        self._register(mine, category, picker, mass, fineness, form, day)

    @rule(data=st.data())
    def register_up_to_the_limit(self, data: st.DataObject) -> None:
        """Pure gold that exactly fills what is left of the 30-day limit, or one milligram more."""
        mine = data.draw(st.sampled_from(self._mines()), label="mine")
        picker = None
        if mine in ASSOCIATIONS:
            picker = data.draw(st.sampled_from(PICKERS), label="picker")
        over = data.draw(st.booleans(), label="one_mg_over")
        left = self.limits[mine] - self._registered(lambda m: m.mine == mine)
        if picker is not None:
            left = min(
                left, certrules.PICKER_LIMIT_MG - self._registered(lambda m: m.picker == picker)
            )
        if left + over <= 0:
            return
        day = self.day0 + timedelta(days=data.draw(st.integers(0, SPAN_DAYS - 1), label="day"))
        self._register(mine, "fairmined", picker, left + over, 10_000, "grain", day)

    def _register(
        self,
        mine: str,
        category: str,
        picker: str | None,
        mass: int,
        fineness: int,
        form: str,
        day: date,
    ) -> None:
        fine = fine_mg(mass, fineness)
        kw = {
            "actor": mine,
            "form": form,
            "mass_mg": mass,
            "fineness": fineness,
            "category": category,
            "produced_on": day,
            "picker": picker,
        }
        association = mine in ASSOCIATIONS
        if category == "fairmined_ecological" and self._certified[mine] != category:
            self._refused("not_ecological", lots.register_lot, **kw)
        elif self._registered(lambda m: m.mine == mine) + fine > self.limits[mine]:
            self._refused("capacity_exceeded", lots.register_lot, **kw)
        elif picker is not None and not association:
            self._refused("picker_not_applicable", lots.register_lot, **kw)
        elif picker is None and association:
            self._refused("picker_required", lots.register_lot, **kw)
        elif (
            picker is not None
            and self._registered(lambda m: m.picker == picker) + fine > certrules.PICKER_LIMIT_MG
        ):
            self._refused("picker_limit_exceeded", lots.register_lot, **kw)
        else:
            # Registered with the same mass and fineness as another of the mine's live registrations
            # (all produced within 30 days of each other), it looks like a duplicate.
            lookalike = any(
                m.mine == mine and m.status != "voided" and m.declared == (mass, fineness)
                for m in self.lots.values()
            )
            w = self._ok(lots.register_lot, **kw)
            assert [(f.kind, f.severity) for f in w.flags] == (
                [("possible_duplicate", "review")] if lookalike else []
            )
            lot = w.lots[0]
            self._add(
                Model(
                    id=lot.id,
                    status="active",
                    holder=mine,
                    mass=mass,
                    fineness=fineness,
                    category=category,
                    last_seq=w.seq,
                    form=form,
                    mine=mine,
                    registered=fine,
                    declared=(mass, fineness),
                    picker=picker,
                )
            )
            self.steps[w.seq] = Step("lot.register", mine, {lot.id: None})

    @precondition(lambda self: self._ids(self._unsold))
    @rule(data=st.data())
    def first_sale(self, data: st.DataObject) -> None:
        m = self._pick(data, self._unsold, "lot")
        to = data.draw(st.sampled_from(self._receivers()), label="to")
        # A stated reference within 2 % of the recorded one, or (rarely) beyond.
        reference = data.draw(st.integers(88_000_000, 92_000_000), label="reference")
        price = reference * data.draw(st.integers(9_000, 12_000), label="price_bp") // 10_000
        kw = {
            "actor": m.holder,
            "lot_id": m.id,
            "to": to,
            "price": price,
            "reference_price": reference,
        }
        if abs(reference - REFERENCE_MICRO) * 50 > REFERENCE_MICRO:
            self._refused("reference_price_mismatch", lots.dispatch_lot, **kw)
            return
        # The minimum is measured against the recorded reference, whatever the stated one.
        if price * 100 < REFERENCE_MICRO * rules.MINIMUM_PRICE_PERCENT:
            self._refused("price_below_minimum", lots.dispatch_lot, **kw)
            return
        w = self._ok(lots.dispatch_lot, **kw)
        self.lots[m.id] = replace(m, status="in_transit", to=to, sold=True, last_seq=w.seq)
        self.steps[w.seq] = Step("lot.dispatch", m.holder, {m.id: m})

    @precondition(lambda self: self._ids(self._movable))
    @rule(data=st.data())
    def dispatch(self, data: st.DataObject) -> None:
        m = self._pick(data, self._movable, "lot")
        to = data.draw(st.sampled_from([r for r in self._receivers() if r != m.holder]), label="to")
        w = self._ok(lots.dispatch_lot, actor=m.holder, lot_id=m.id, to=to)
        self.lots[m.id] = replace(m, status="in_transit", to=to, last_seq=w.seq)
        self.steps[w.seq] = Step("lot.dispatch", m.holder, {m.id: m})

    @precondition(lambda self: self._ids(lambda m: m.status == "in_transit"))
    @rule(data=st.data())
    def receive(self, data: st.DataObject) -> None:
        m = self._pick(data, lambda m: m.status == "in_transit", "lot")
        assert m.to is not None
        ppm = data.draw(st.integers(-3_000, 3_000), label="difference_ppm")
        mass = max(1, m.mass + m.mass * ppm // 1_000_000)
        fineness = data.draw(
            st.none() | st.integers(max(1, m.fineness - 50), min(10_000, m.fineness + 20)),
            label="fineness",
        )
        new_fineness = m.fineness if fineness is None else fineness
        kw = {"actor": m.to, "lot_id": m.id, "mass_mg": mass, "fineness": fineness}
        expected = []
        lighter = m.mass - mass
        if lighter > 0 and _ppm(lighter, m.mass) > WEIGHING_PPM:
            expected.append(("weight_discrepancy", "review"))
        judged = self._gain(m, mass, new_fineness, (m.holder, m.to), lots.receive_lot, kw)
        if judged is None:
            return
        after, flags = judged
        w = self._ok(lots.receive_lot, **kw)
        assert [(f.kind, f.severity) for f in w.flags] == expected + flags
        self.lots[m.id] = replace(
            after, status="active", holder=m.to, to=None, mass=mass, last_seq=w.seq
        )
        self.steps[w.seq] = Step("lot.receive", m.to, {m.id: m})

    def _gain(
        self,
        m: Model,
        mass: int,
        fineness: int,
        shipment: tuple[str, str] | None,
        operation: Callable[..., lots.Written],
        kw: dict[str, Any],
    ) -> tuple[Model, list[tuple[str, str]]] | None:
        """The lot after ``operation`` (a receipt from ``shipment``'s sender, or an assay) changes its
        fine gold to fine(mass, fineness), and the flags it raises; None (after checking the refusal)
        when a gain on a registered lot would break its mine's capacity or its picker's ceiling."""
        old, new = m.fine, fine_mg(mass, fineness)
        after = replace(m, fineness=fineness)
        if new <= old:
            return after, []
        gain = new - old
        established = m.registered is not None
        if established and m.mine is not None:
            if self._registered(lambda x: x.mine == m.mine) + gain > self.limits[m.mine]:
                self._refused("capacity_exceeded", operation, **kw)
                return None
            if m.picker is not None and (
                self._registered(lambda x: x.picker == m.picker) + gain > certrules.PICKER_LIMIT_MG
            ):
                self._refused("picker_limit_exceeded", operation, **kw)
                return None
        flags = []
        gain_ppm = _ppm(gain, old) if old else 10**12
        tolerance = (WEIGHING_PPM if shipment and mass > m.mass else 0) + (
            LAB_PPM if fineness > m.fineness else 0
        )
        if gain_ppm > tolerance:
            high = not established or gain_ppm > HIGH_GAIN_PPM
            flags.append(("fine_gold_gain", "high" if high else "review"))
        if established:
            declared = old - m.gained
            for limit, severity in ((10_000, "high"), (WEIGHING_PPM + LAB_PPM, "review")):
                if declared * limit < (m.gained + gain) * 1_000_000:
                    flags.append(("cumulative_gain", severity))
                    break
            assert m.registered is not None
            after = replace(after, registered=m.registered + gain)
        else:
            # Downstream, the gain is gold no mine registered: the lot's origins stay as they are.
            covered = sum(json.loads(self._rows()[m.id].origins).values())
            for limit, severity in UNATTRIBUTED_PPM:
                if limit < _ppm(new - covered, new):
                    flags.append(("unattributed_gold", severity))
                    break
        pairs = dict(m.pairs)
        if shipment:
            key = "|".join(sorted(shipment))
            pairs[key] = pairs.get(key, 0) + 1
            if pairs[key] >= 3:
                flags.append(("repeated_gain_shipments", "review"))
        return replace(after, gained=m.gained + gain, pairs=tuple(sorted(pairs.items()))), flags

    @precondition(lambda self: self._ids(lambda m: m.status == "active"))
    @rule(data=st.data())
    def assay(self, data: st.DataObject) -> None:
        m = self._pick(data, lambda m: m.status == "active", "lot")
        fineness = data.draw(
            st.integers(max(1, m.fineness - 300), min(10_000, m.fineness + 100)), label="fineness"
        )
        kw = {"actor": m.holder, "lot_id": m.id, "fineness": fineness, "lab": "lab"}
        judged = self._gain(m, m.mass, fineness, None, lots.assay_lot, kw)
        if judged is None:
            return
        after, flags = judged
        w = self._ok(lots.assay_lot, **kw)
        assert [(f.kind, f.severity) for f in w.flags] == flags
        self.lots[m.id] = replace(after, last_seq=w.seq)
        self.steps[w.seq] = Step("lot.assay", m.holder, {m.id: m})

    @precondition(lambda self: self._ids(self._transformable))
    @rule(data=st.data())
    def transform(self, data: st.DataObject) -> None:
        held: dict[str, list[str]] = {}
        for i in self._ids(self._transformable):
            held.setdefault(self.lots[i].holder, []).append(i)
        most = max(len(ids) for ids in held.values())
        kind = data.draw(
            st.sampled_from([k for k, shape in SHAPES.items() if shape[0] <= most]), label="kind"
        )
        min_in, max_in, min_out, max_out = SHAPES[kind]
        actor = data.draw(
            st.sampled_from([h for h, ids in held.items() if len(ids) >= min_in]), label="actor"
        )
        inputs = data.draw(
            st.lists(
                st.sampled_from(held[actor]),
                min_size=min_in,
                max_size=min(max_in, len(held[actor])),
                unique=True,
            ),
            label="inputs",
        )
        ins = [self.lots[i] for i in inputs]
        count = data.draw(st.integers(min_out, max_out), label="outputs")
        specs, alloy = self._outputs(data, kind, ins, count)
        fine_in = sum(m.fine for m in ins)
        loss = fine_in - sum(fine_mg(s.mass_mg, s.fineness) for s in specs)
        tolerance = rules.REFINING_LOSS_PPM if kind == "refine" else rules.OTHER_LOSS_PPM
        w = self._ok(
            lots.transform,
            actor=actor,
            kind=kind,
            inputs=inputs,
            outputs=specs,
            alloy_mass_mg=alloy,
        )
        expected = []
        if loss * 1_000_000 > fine_in * tolerance:
            expected.append(("loss_above_tolerance", "review"))
        unrefined = any(m.form in UNREFINED for m in ins)
        if unrefined and loss * 1_000_000 < fine_in * LOSS_FLOOR_PPM.get(kind, 0):
            expected.append(("implausible_low_loss", "review"))
        assert [(f.kind, f.severity) for f in w.flags] == expected
        lowest = certrules.lowest(m.category for m in ins)
        assert len(w.lots) == len(specs)
        before: dict[str, Model | None] = {m.id: m for m in ins}
        # Outputs carry the most growth receipts any input had between each pair.
        most: dict[str, int] = {}
        for m in ins:
            for pair, count in m.pairs:
                most[pair] = max(most.get(pair, 0), count)
        carried = tuple(sorted(most.items()))
        for m in ins:
            self.lots[m.id] = replace(m, status="consumed", last_seq=w.seq)
        for lot, spec in zip(w.lots, specs, strict=True):
            assert (lot.form, lot.mass_mg, lot.fineness) == (spec.form, spec.mass_mg, spec.fineness)
            self._add(
                Model(
                    id=lot.id,
                    status="active",
                    holder=actor,
                    mass=spec.mass_mg,
                    fineness=spec.fineness,
                    category=spec.category or lowest,
                    last_seq=w.seq,
                    form=spec.form,
                    # What a mine makes of its own gold is still its first sale to make.
                    mine=actor if actor in self._mines() else None,
                    pairs=carried,
                )
            )
            before[lot.id] = None
        self.steps[w.seq] = Step("lot.transform", actor, before)

    def _outputs(
        self, data: st.DataObject, kind: str, ins: list[Model], count: int
    ) -> tuple[list[rules.OutputSpec], int]:
        """Random outputs that hold no more fine gold and (with any alloy) no more mass than the inputs."""
        fine_in = sum(m.fine for m in ins)
        mass_in = sum(m.mass for m in ins)
        loss_ppm = data.draw(st.integers(0, 30_000), label="fine_loss_ppm")
        fine_out = fine_in - fine_in * loss_ppm // 1_000_000
        weights = data.draw(
            st.lists(st.integers(1, 10), min_size=count, max_size=count), label="weights"
        )
        fine_shares = _split(fine_out, weights)
        if kind in ("melt", "split", "merge"):
            # Mass first (a little may burn off), then the fineness the fine-gold share allows.
            mass_loss_ppm = data.draw(st.integers(0, 20_000), label="mass_loss_ppm")
            masses = _split(mass_in - mass_in * mass_loss_ppm // 1_000_000, weights)
            finenesses = [
                min(9_999, f * 10_000 // max(m, 1))
                for f, m in zip(fine_shares, masses, strict=True)
            ]
        else:
            # Refined gold is nearly pure; alloys and pieces are 14k, 18k, 22k or fine gold.
            pick = (
                st.integers(9_950, 9_999)
                if kind == "refine"
                else st.sampled_from([5_850, 7_500, 9_160, 9_990])
            )
            finenesses = [data.draw(pick, label="fineness") for _ in range(count)]
            masses = [f * 10_000 // n for f, n in zip(fine_shares, finenesses, strict=True)]
        masses = [max(1, m) for m in masses]
        alloy = 0
        if kind in ("alloy", "manufacture"):
            extra = data.draw(st.integers(1 if kind == "alloy" else 0, 5_000), label="alloy_extra")
            alloy = max(0, sum(masses) - mass_in) + extra
        excess = sum(masses) - mass_in - alloy
        if excess > 0:  # rounding: take it off the heaviest output (less mass, less fine gold)
            heaviest = masses.index(max(masses))
            masses[heaviest] -= excess
            assert masses[heaviest] >= 1
        lowest = certrules.lowest(m.category for m in ins)
        allowed = [c for c in certrules.CATEGORIES if certrules.RANK[c] <= certrules.RANK[lowest]]
        forms = ["dore", "grain", "bar", "semi_finished", "jewelry_item", "scrap"]
        specs = [
            rules.OutputSpec(
                id="",
                form=data.draw(st.sampled_from(forms), label="form"),
                mass_mg=mass,
                fineness=fineness,
                category=data.draw(st.none() | st.sampled_from(allowed), label="category"),
                reference=data.draw(st.none() | st.just("piece"), label="reference"),
            )
            for mass, fineness in zip(masses, finenesses, strict=True)
        ]
        return specs, alloy

    @precondition(lambda self: self.order)
    @rule(data=st.data())
    def void_latest(self, data: st.DataObject) -> None:
        m = self._pick(data, lambda m: True, "lot")
        target = m.last_seq
        step = self.steps[target]
        c = self.chain
        stranger = c.jeweler if step.actor != c.jeweler else c.trader
        actor = data.draw(st.sampled_from([step.actor, c.body, stranger]), label="actor")
        kw = {"actor": actor, "seq": target, "reason": "entered by mistake"}
        if step.type == "event.void":
            self._refused("not_voidable", lots.void_event, **kw)
        elif actor not in (step.actor, c.body):
            self._refused("not_author", lots.void_event, **kw)
        elif any(self.lots[i].last_seq != target for i in step.before):
            self._refused("built_upon", lots.void_event, **kw)
        else:
            w = self._ok(lots.void_event, **kw)
            for i, was in step.before.items():
                if was is None:
                    self.lots[i] = replace(self.lots[i], status="voided", last_seq=w.seq)
                else:
                    self.lots[i] = replace(was, last_seq=w.seq)
            self.steps[w.seq] = Step("event.void", actor, dict.fromkeys(step.before))

    @rule(data=st.data(), case=st.sampled_from(["custody", "receipt", "fine_gold", "segregation"]))
    def refused(self, data: st.DataObject, case: str) -> None:
        """Operations the rules refuse leave the ledger and every lot exactly as they were."""
        receivers = self._receivers()
        if case == "custody":
            candidates = self._ids(lambda m: m.status != "active" or m.holder in receivers)
            if not candidates:
                return
            m = self.lots[data.draw(st.sampled_from(candidates), label="lot")]
            if m.status == "active":
                actor = next(r for r in receivers if r != m.holder)
                to = next(r for r in receivers if r not in (m.holder, actor))
                code = "not_holder"
            else:
                actor, to = m.holder, next(r for r in receivers if r != m.holder)
                code = {"in_transit": "in_transit", "consumed": "lot_consumed"}.get(
                    m.status, "lot_voided"
                )
            self._refused(code, lots.dispatch_lot, actor=actor, lot_id=m.id, to=to)
        elif case == "receipt":
            candidates = self._ids(lambda m: m.status == "in_transit")
            if not candidates:
                return
            m = self.lots[data.draw(st.sampled_from(candidates), label="lot")]
            actor = next(r for r in receivers if r != m.to)
            self._refused(
                "not_recipient", lots.receive_lot, actor=actor, lot_id=m.id, mass_mg=m.mass
            )
        else:
            if case == "fine_gold":
                candidates = self._ids(
                    lambda m: m.status == "active" and m.mass >= 10_000 and m.fineness < 10_000
                )
            else:
                candidates = self._ids(
                    lambda m: m.status == "active" and m.category != "fairmined_ecological"
                )
            if not candidates:
                return
            m = self.lots[data.draw(st.sampled_from(candidates), label="lot")]
            if case == "fine_gold":
                spec = rules.OutputSpec(id="", form="dore", mass_mg=m.mass, fineness=m.fineness + 1)
                code = "fine_gold_created"
            else:
                better = certrules.CATEGORIES[certrules.RANK[m.category] + 1]
                spec = rules.OutputSpec(
                    id="", form="dore", mass_mg=m.mass, fineness=m.fineness, category=better
                )
                code = "segregation"
            self._refused(
                code, lots.transform, actor=m.holder, kind="melt", inputs=[m.id], outputs=[spec]
            )

    # Invariants.

    def _rows(self) -> dict[str, Lot]:
        stmt = select(Lot).execution_options(populate_existing=True)
        return {row.id: row for row in self.session.execute(stmt).scalars()}

    @invariant()
    def lot_table_matches_the_model(self) -> None:
        rows = self._rows()
        assert set(rows) == set(self.lots)
        for lot_id, m in self.lots.items():
            row = rows[lot_id]
            got = (
                row.status,
                row.holder_id,
                row.in_transit_to,
                row.form,
                row.mass_mg,
                row.fineness,
                row.category,
                row.mine_id,
                row.sold_by_mine,
                row.registered_fine_mg,
                row.gained_mg or 0,
                row.updated_seq,
            )
            want = (
                m.status,
                m.holder,
                m.to,
                m.form,
                m.mass,
                m.fineness,
                m.category,
                m.mine,
                m.sold,
                m.registered,
                m.gained,
                m.last_seq,
            )
            assert got == want, lot_id

    @invariant()
    def fine_gold_is_accounted_for(self) -> None:
        voided = set(self.session.execute(select(Voided.seq)).scalars())
        befores = {
            (le.seq, le.lot_id): json.loads(le.before)
            for le in self.session.execute(select(LotEvent)).scalars()
            if le.before is not None
        }
        registered = gains = shortfalls = losses = established_gains = 0
        stmt = select(Event).where(Event.type.in_(LOT_EVENTS)).order_by(Event.seq)
        for ev in self.session.execute(stmt).scalars():
            if ev.seq in voided:
                continue
            body = json.loads(ev.body)
            if ev.type == "lot.register":
                registered += _fine(body["lot"])
            elif ev.type == "lot.transform":
                fine_in = sum(_fine(befores[(ev.seq, i)]) for i in body["inputs"])
                fine_out = sum(_fine(o) for o in body["outputs"])
                assert body["loss_mg"] == fine_in - fine_out >= 0, ev.seq
                losses += body["loss_mg"]
            else:  # receive or assay: the stored snapshot is the lot just before
                before = befores[(ev.seq, body["lot"])]
                after = {
                    "mass_mg": body.get("mass_mg", before["mass_mg"]),
                    "fineness": body.get("fineness", before["fineness"]),
                }
                delta = _fine(after) - _fine(before)
                gains += max(delta, 0)
                shortfalls += max(-delta, 0)
                if before["produced_on"] is not None:  # a mine's registered lot: the mine's gold
                    established_gains += max(delta, 0)
        rows = self._rows().values()
        held = sum(fine_mg(r.mass_mg, r.fineness) for r in rows if r.status in LIVE)
        assert registered + gains - shortfalls - losses == held
        assert registered + established_gains == sum(
            r.registered_fine_mg or 0 for r in rows if r.status != "voided"
        )
        assert held == sum(m.fine for m in self.lots.values() if m.status in LIVE)

    @invariant()
    def origins_never_exceed_the_gold(self) -> None:
        mines = set(self._mines())
        credited: dict[str, int] = {}
        for row in self._rows().values():
            origins = json.loads(row.origins)
            fine = fine_mg(row.mass_mg, row.fineness)
            assert set(origins) <= mines, row.id
            assert all(isinstance(mg, int) and mg > 0 for mg in origins.values()), row.id
            assert sum(origins.values()) <= fine, row.id
            if row.produced_on is not None and row.status in LIVE:
                assert origins == ({row.mine_id: fine} if fine else {}), row.id
            if row.status in LIVE:
                for mine, mg in origins.items():
                    credited[mine] = credited.get(mine, 0) + mg
        for mine, mg in credited.items():
            assert mg <= self._registered(lambda m, mine=mine: m.mine == mine), mine

    def teardown(self) -> None:
        try:
            report = verify_ledger(self.session, self.ctx, workers=1)
            assert report.ok, report.first
            self._replay_matches_the_tables()
        finally:
            self.savepoint.rollback()
            # Rolling back a savepoint expires only what changed in it: events (written with Core
            # inserts) loaded here would otherwise be served, stale, to the next example reusing the seqs.
            self.session.expunge_all()

    def _replay_matches_the_tables(self) -> None:
        terms = {
            row.seq: Terms(
                price=row.price_microusd_per_g,
                reference=row.reference_microusd_per_g,
                salt=row.salt,
            )
            for row in self.session.execute(select(SaleTerms)).scalars()
        }
        book = Book(terms)
        for ev in self.session.execute(select(Event).order_by(Event.seq)).scalars():
            body = json.loads(ev.body)
            book.signer_for(ev.seq, body, ev.kid)
            book.apply(ev.seq, body, ev.hash)
        rows = self._rows()
        assert set(book.lots) == set(rows)
        for lot_id, row in rows.items():
            assert lots.view(row) == book.lots[lot_id], lot_id


def _split(total: int, weights: list[int]) -> list[int]:
    """``total`` in parts proportional to ``weights`` (rounded down; the last takes the rest)."""
    parts = [total * w // sum(weights) for w in weights[:-1]]
    return [*parts, total - sum(parts)]


def _associations(session: Session, ctx: Context, chain: Chain) -> None:
    """The two certified associations of pickers, each with both pickers registered."""
    for association, category in ASSOCIATIONS.items():
        organizations.register_org(
            session,
            ctx,
            actor=chain.body,
            profile=OrgProfile(
                id=association,
                name=f"Asociación {association}",
                kind="mine",
                miners=30,
                capacity_mg_month=2_000_000,
                pickers=True,
            ),
        )
        registry.record_certification(
            session,
            ctx,
            actor=chain.body,
            org_id=association,
            category=category,
            number=f"FM-{association}",
            valid_from=FAR_PAST,
            valid_until=FAR_FUTURE,
        )
        for i, number in enumerate(PICKERS):
            registry.register_picker(
                session,
                ctx,
                actor=chain.body,
                id_type="DNI",
                number=number,
                name=f"Pallaquera {i}",
                association=association,
                valid_from=FAR_PAST,
            )


def test_random_lot_histories_account_for_every_milligram(ledger: Session, ctx: Context) -> None:
    chain = certified_chain(ledger, ctx)
    _associations(ledger, ctx, chain)
    limits = {}
    for mine in (chain.mine, chain.eco_mine, *ASSOCIATIONS):
        org = get_org(ledger, mine)
        limit = certrules.capacity_limit_mg(org.miners, org.capacity_mg_month)
        assert limit is not None
        limits[mine] = limit

    class Bound(LotMachine):
        pass

    Bound.session, Bound.ctx, Bound.chain, Bound.limits = ledger, ctx, chain, limits
    Bound.day0 = recent(SPAN_DAYS)
    run_state_machine_as_test(Bound, settings=SETTINGS)


def _split_in_two(session: Session, ctx: Context, chain: Chain) -> list[str]:
    lot = register(session, ctx, chain.mine, mass_mg=1_000_000, fineness=9_000)
    halves = [rules.OutputSpec(id="", form="dore", mass_mg=500_000, fineness=9_000)] * 2
    written = lots.transform(
        session, ctx, actor=chain.mine, kind="split", inputs=[lot], outputs=halves
    )
    return [lot.id for lot in written.lots]


@pytest.mark.parametrize("how", ["split outputs", "restored by one void"])
def test_inputs_sharing_a_head_pass_verify(ledger: Session, ctx: Context, how: str) -> None:
    chain = certified_chain(ledger, ctx)
    if how == "split outputs":
        inputs = _split_in_two(ledger, ctx, chain)
    else:
        inputs = [register(ledger, ctx, chain.mine) for _ in range(2)]
        merged = lots.transform(
            ledger,
            ctx,
            actor=chain.mine,
            kind="merge",
            inputs=inputs,
            outputs=[rules.OutputSpec(id="", form="dore", mass_mg=2_000_000, fineness=9_000)],
        )
        lots.void_event(ledger, ctx, actor=chain.mine, seq=merged.seq, reason="wrong lots")
    assert len({lots.get_lot(ledger, i).head for i in inputs}) == 1
    lots.transform(
        ledger,
        ctx,
        actor=chain.mine,
        kind="merge",
        inputs=inputs,
        outputs=[rules.OutputSpec(id="", form="bar", mass_mg=990_000, fineness=9_000)],
    )
    report = verify_ledger(ledger, ctx, workers=1)
    assert report.ok, report.first


@pytest.mark.parametrize(
    ("form", "mass_mg", "fineness", "category"),
    [
        ("nugget", 900_000, 9_000, None),
        ("dore", 900_000, 9_000, "platinum"),
        ("dore", 0, 9_000, None),
        ("dore", 100_000, 10_001, None),
    ],
    ids=["unknown form", "unknown category", "zero mass", "fineness above 1000"],
)
def test_transform_refuses_impossible_outputs(
    ledger: Session, ctx: Context, form: str, mass_mg: int, fineness: int, category: str | None
) -> None:
    chain = certified_chain(ledger, ctx)
    lot = register(ledger, ctx, chain.mine, mass_mg=1_000_000, fineness=9_000)
    size = ledger.execute(select(func.count()).select_from(Event)).scalar_one()
    spec = rules.OutputSpec(id="", form=form, mass_mg=mass_mg, fineness=fineness, category=category)
    with pytest.raises(GoldtraceError), ledger.begin_nested():
        lots.transform(ledger, ctx, actor=chain.mine, kind="melt", inputs=[lot], outputs=[spec])
    assert ledger.execute(select(func.count()).select_from(Event)).scalar_one() == size
    assert verify_ledger(ledger, ctx, workers=1).ok
