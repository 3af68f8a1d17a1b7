"""Gains and losses of fine gold outside transformations, and origins through transformations:
exact origins, unattributed gold, and flags that mean something (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from goldtrace.domain import gains
from goldtrace.domain.lots import (
    LotView,
    OutputSpec,
    after_assay,
    after_receipt,
    plan_transformation,
)
from goldtrace.domain.quantities import fine_mg

HEAD = b"\0" * 32


def downstream(mass_mg: int = 9_000_000, fineness: int = 9_999) -> LotView:
    """A refined lot at a trader: its gold came from two mines through a transformation."""
    fine = fine_mg(mass_mg, fineness)
    return LotView(
        id="GRAIN",
        form="grain",
        mass_mg=mass_mg,
        fineness=fineness,
        category="fairmined",
        holder="trader-a",
        status="in_transit",
        in_transit_to="trader-b",
        origins={"mina-a": fine // 3, "mina-b": fine - fine // 3},
        head=HEAD,
    )


def registered(mass_mg: int = 1_000_000, fineness: int = 8_800) -> LotView:
    """A mine's registered doré, sent to its first buyer."""
    fine = fine_mg(mass_mg, fineness)
    return LotView(
        id="DORE",
        form="dore",
        mass_mg=mass_mg,
        fineness=fineness,
        category="fairmined",
        holder="mina-a",
        status="in_transit",
        in_transit_to="trader-a",
        origins={"mina-a": fine},
        head=HEAD,
        mine="mina-a",
        produced_on=date(2026, 12, 1),
        registered_on=date(2026, 12, 2),
    )


def kinds(flags: list[gains.Flag]) -> list[tuple[str, str]]:
    return [(f.kind, f.severity) for f in flags]


def test_weighings_and_lab_results_inside_the_tolerances_raise_nothing() -> None:
    for ppm in (-600, -100, 100, 600):
        lot = downstream()
        mass = lot.mass_mg + lot.mass_mg * ppm // 1_000_000
        _, judged = after_receipt(lot, mass_mg=mass, fineness=None, head=HEAD)
        assert judged.flags == [], ppm
    # The refiner's lab finds 0.2 % more than the mine's estimate: a lab difference.
    dore = replace(registered(), status="active", holder="refiner")
    _, judged = after_assay(dore, fineness=8_817, head=HEAD)
    assert judged.flags == []
    assert judged.mine_gain_mg == fine_mg(1_000_000, 8_817) - fine_mg(1_000_000, 8_800)


def test_a_receipt_lighter_beyond_tolerance_is_flagged_for_review() -> None:
    lot = downstream()
    _, judged = after_receipt(lot, mass_mg=lot.mass_mg * 998 // 1000, fineness=None, head=HEAD)
    assert kinds(judged.flags) == [("weight_discrepancy", "review")]


def test_forty_receipts_just_inside_tolerance_leave_unattributed_gold_and_flags() -> None:
    lot = replace(downstream(), in_transit_to="trader-b", holder="trader-a")
    raised: list[tuple[str, str]] = []
    for i in range(40):
        sender, recipient = ("trader-a", "trader-b") if i % 2 == 0 else ("trader-b", "trader-a")
        lot = replace(lot, status="in_transit", holder=sender, in_transit_to=recipient)
        lot, judged = after_receipt(
            lot, mass_mg=lot.mass_mg + lot.mass_mg * 990 // 1_000_000, fineness=None, head=HEAD
        )
        raised += kinds(judged.flags)
    assert lot.fine_mg > 9_300_000
    # The origins still hold exactly what the mines registered; the rest is nobody's.
    assert sum(lot.origins.values()) == fine_mg(9_000_000, 9_999)
    assert lot.unattributed_mg == lot.fine_mg - fine_mg(9_000_000, 9_999)
    assert ("unattributed_gold", "review") in raised
    assert ("unattributed_gold", "high") in raised
    assert ("repeated_gain_shipments", "review") in raised


def test_a_gain_beyond_tolerance_downstream_is_high() -> None:
    lot = downstream()
    _, judged = after_receipt(lot, mass_mg=lot.mass_mg * 1005 // 1000, fineness=None, head=HEAD)
    assert ("fine_gold_gain", "high") in kinds(judged.flags)
    assert judged.mine_gain_mg == 0


def test_ore_registered_at_one_per_mille_and_raised_to_300_is_a_high_gain_of_the_mine() -> None:
    ore = registered(mass_mg=10_000_000, fineness=10)  # 10 g fine of a 10 kg lot
    _, judged = after_receipt(ore, mass_mg=ore.mass_mg, fineness=3_000, head=HEAD)
    assert ("fine_gold_gain", "high") in kinds(judged.flags)
    assert judged.mine_gain_mg == 2_990_000
    held = replace(ore, status="active", holder="mina-a", in_transit_to=None)
    assayed, judged = after_assay(held, fineness=3_000, head=HEAD)
    assert judged.mine_gain_mg == 2_990_000
    assert assayed.origins == {"mina-a": 3_000_000}


def test_cumulative_gains_on_a_registered_lot_are_flagged_once_past_the_tolerances() -> None:
    lot = registered()
    raised: list[tuple[str, str]] = []
    for i in range(6):
        lot = replace(lot, status="in_transit", holder=f"t{i}", in_transit_to=f"t{i + 1}")
        lot, judged = after_receipt(
            lot, mass_mg=lot.mass_mg + lot.mass_mg // 1_100, fineness=None, head=HEAD
        )
        raised += kinds(judged.flags)
    # Past the tolerances (0.4 %) every further gain is flagged, not only the one that crossed them.
    assert raised.count(("cumulative_gain", "review")) == 2
    # Further gains that no lab explains: high once they pass 1 %.
    for i in range(6, 12):
        lot = replace(lot, status="in_transit", holder=f"t{i}", in_transit_to=f"t{i + 1}")
        lot, judged = after_receipt(
            lot, mass_mg=lot.mass_mg + lot.mass_mg // 1_100, fineness=None, head=HEAD
        )
        raised += kinds(judged.flags)
    assert raised.count(("cumulative_gain", "high")) == 2


def test_allocate_is_exact_and_never_exceeds_a_bucket() -> None:
    assert gains.allocate({"a": 1, "b": 1, "c": 1}, 2) == {"a": 1, "b": 1}
    assert sum(gains.allocate({"a": 7, "b": 13}, 11).values()) == 11


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from("abcdefg"), st.integers(0, 10**9), min_size=1),
    st.floats(0, 1),
)
def test_allocate_property(buckets: dict[str, int], share: float) -> None:
    total = int(sum(buckets.values()) * share)
    out = gains.allocate(buckets, total)
    assert sum(out.values()) == total
    assert all(0 < v <= buckets[k] for k, v in out.items())


steps = st.lists(
    st.tuples(
        st.sampled_from(["receipt", "assay"]),
        st.integers(-20_000, 20_000),  # change in parts per million
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(steps, st.booleans())
def test_origins_never_exceed_fine_gold_and_growth_past_them_is_flagged(
    history: list[tuple[str, int]], established: bool
) -> None:
    lot = registered() if established else downstream()
    registered_by_mines = sum(lot.origins.values())
    counted = 0
    raised: list[str] = []
    for i, (kind, ppm) in enumerate(history):
        if kind == "receipt":
            lot = replace(lot, status="in_transit", holder=f"o{i}", in_transit_to=f"o{i + 1}")
            mass = max(1, lot.mass_mg + lot.mass_mg * ppm // 1_000_000)
            lot, judged = after_receipt(lot, mass_mg=mass, fineness=None, head=HEAD)
        else:
            lot = replace(lot, status="active", in_transit_to=None)
            fineness = min(10_000, max(0, lot.fineness + lot.fineness * ppm // 1_000_000))
            lot, judged = after_assay(lot, fineness=fineness, head=HEAD)
        counted += judged.mine_gain_mg
        raised += [f.kind for f in judged.flags]
        assert 0 <= sum(lot.origins.values()) <= lot.fine_mg
        assert sum(lot.origins.values()) + lot.unattributed_mg == lot.fine_mg
        # The mines' shares never hold more than they registered plus what counted in their windows.
        assert sum(lot.origins.values()) <= registered_by_mines + counted
    if not established and lot.unattributed_mg * 1_000_000 > lot.fine_mg * 2_000:
        assert "unattributed_gold" in raised or "fine_gold_gain" in raised
    if established and counted * 1_000_000 > (registered_by_mines) * gains.CUMULATIVE_GAIN_PPM:
        assert "cumulative_gain" in raised or "fine_gold_gain" in raised


def _input(lot_id: str, mass: int, fineness: int, origins: dict[str, int]) -> LotView:
    return LotView(
        id=lot_id,
        form="dore",
        mass_mg=mass,
        fineness=fineness,
        category="fairmined",
        holder="refiner",
        status="active",
        origins=origins,
        head=HEAD,
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1_000, 5_000_000), st.integers(1, 10_000), st.integers(0, 3)),
        min_size=1,
        max_size=5,
    ),
    st.lists(st.integers(1, 100), min_size=1, max_size=6),
    st.integers(0, 30_000),
)
def test_transformation_origins_sum_exactly_to_each_outputs_fine_gold(
    specs: list[tuple[int, int, int]], weights: list[int], loss_ppm: int
) -> None:
    inputs = []
    for i, (mass, fineness, unattributed_part) in enumerate(specs):
        fine = fine_mg(mass, fineness)
        claimed = fine - fine * unattributed_part // 10
        inputs.append(
            _input(f"I{i}", mass, fineness, {f"mina-{i % 3}": claimed} if claimed else {})
        )
    fine_in = sum(lot.fine_mg for lot in inputs)
    fine_out = fine_in - fine_in * loss_ppm // 1_000_000
    outputs = []
    left = fine_out
    for j, weight in enumerate(weights):
        part = left if j == len(weights) - 1 else fine_out * weight // sum(weights)
        part = min(part, left)
        left -= part
        if part > 0:
            outputs.append(OutputSpec(id=f"O{j}", form="grain", mass_mg=part, fineness=10_000))
    if len(inputs) < 2 or not outputs:
        return
    plan = plan_transformation(
        kind="merge" if len(outputs) == 1 else "refine",
        actor="refiner",
        inputs=inputs,
        outputs=outputs,
    )
    pooled: dict[str, int] = {}
    for lot in inputs:
        for mine, mg in lot.origins.items():
            pooled[mine] = pooled.get(mine, 0) + mg
    given_out: dict[str, int] = {}
    for out in plan.outputs:
        assert sum(out.origins.values()) <= out.fine_mg
        for mine, mg in out.origins.items():
            given_out[mine] = given_out.get(mine, 0) + mg
    assert all(given_out[m] <= pooled[m] for m in given_out)
    unattributed_in = fine_in - sum(pooled.values())
    unattributed_out = sum(o.fine_mg - sum(o.origins.values()) for o in plan.outputs)
    # Unattributed gold is carried, never absorbed into a mine's share.
    assert unattributed_out <= unattributed_in
    assert sum(o.fine_mg for o in plan.outputs) - unattributed_out == sum(given_out.values())


def test_refining_dore_with_no_loss_is_flagged() -> None:
    dore = _input("D", 1_000_000, 9_000, {"mina": 900_000})
    plan = plan_transformation(
        kind="refine",
        actor="refiner",
        inputs=[dore],
        outputs=[OutputSpec(id="G", form="grain", mass_mg=900_000, fineness=10_000)],
    )
    assert [(f.kind, f.severity) for f in plan.flags] == [("implausible_low_loss", "review")]
    honest = plan_transformation(
        kind="refine",
        actor="refiner",
        inputs=[dore],
        outputs=[OutputSpec(id="G", form="grain", mass_mg=891_000, fineness=10_000)],
    )
    assert honest.flags == []


def test_a_loss_takes_unattributed_gold_first() -> None:
    lot = downstream()
    up, _ = after_receipt(lot, mass_mg=lot.mass_mg + 4_500, fineness=None, head=HEAD)
    assert up.unattributed_mg > 0
    back = replace(up, status="in_transit", holder="trader-b", in_transit_to="trader-a")
    down, judged = after_receipt(back, mass_mg=lot.mass_mg, fineness=None, head=HEAD)
    assert judged.flags == []
    assert down.origins == lot.origins and down.unattributed_mg == 0
    # A loss beyond the unattributed part scales the mines down, exactly.
    lighter = replace(down, status="in_transit", holder="trader-a", in_transit_to="trader-b")
    less, _ = after_receipt(lighter, mass_mg=lot.mass_mg - 9_000, fineness=None, head=HEAD)
    assert sum(less.origins.values()) == less.fine_mg


def test_merging_dore_with_no_loss_is_flagged_but_merging_grain_is_not() -> None:
    a = _input("A", 500_000, 9_000, {"mina": 450_000})
    b = _input("B", 500_000, 9_000, {"mina": 450_000})
    merged = plan_transformation(
        kind="merge",
        actor="refiner",
        inputs=[a, b],
        outputs=[OutputSpec(id="M", form="dore", mass_mg=1_000_000, fineness=9_000)],
    )
    assert [f.kind for f in merged.flags] == ["implausible_low_loss"]
    grains = [replace(lot, form="grain") for lot in (a, b)]
    plain = plan_transformation(
        kind="merge",
        actor="refiner",
        inputs=grains,
        outputs=[OutputSpec(id="M", form="grain", mass_mg=1_000_000, fineness=9_000)],
    )
    assert plain.flags == []


def test_a_split_carries_the_count_of_growing_shipments() -> None:
    lot = replace(downstream(), status="active", holder="trader-a", in_transit_to=None)
    lot = replace(lot, gain_pairs={gains.pair_key("trader-a", "trader-b"): 2})
    half = lot.fine_mg // 2
    plan = plan_transformation(
        kind="split",
        actor="trader-a",
        inputs=[lot],
        outputs=[
            OutputSpec(id="S1", form="grain", mass_mg=half, fineness=10_000),
            OutputSpec(id="S2", form="grain", mass_mg=half - 1_000, fineness=10_000),
        ],
    )
    part = plan.outputs[0]
    assert part.gain_pairs == {"trader-a|trader-b": 2}
    piece = LotView(
        id=part.id,
        form=part.form,
        mass_mg=part.mass_mg,
        fineness=part.fineness,
        category=part.category,
        holder="trader-a",
        status="in_transit",
        origins=part.origins,
        head=HEAD,
        in_transit_to="trader-b",
        gain_pairs=part.gain_pairs,
    )
    _, judged = after_receipt(piece, mass_mg=piece.mass_mg + 90, fineness=None, head=HEAD)
    assert ("repeated_gain_shipments", "review") in kinds(judged.flags)
