"""How a lot's fine gold may change outside a transformation (a receipt's weighing, an assay), and how
its origins follow.

The invariant every function here keeps: a lot's origins (fine mg per mine) never sum to more than its
fine gold, and what they do not cover is *unattributed*: gold that no mine registered. A loss at a
weighing or an assay takes unattributed gold first. It is never
rescaled into a mine's share. A gain on a lot that still is a mine's registered lot (nothing made of it
yet) is the mine's gold as first established: it is counted in the mine's share and, by the caller,
against the mine's capacity. A gain anywhere downstream is unattributed.

Gains are judged against tighter tolerances than losses: a scale or a lab may err either way, but only
a gain can bring gold in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from goldtrace.domain.flags import Flag, ppm
from goldtrace.domain.quantities import fine_mg

# Tolerances in parts per million.
WEIGHING_TOLERANCE_PPM = 1_000  # a receipt's mass against the dispatched mass, either way
LAB_TOLERANCE_PPM = 3_000  # an assay's (or a receipt's) fineness above the one it replaces
HIGH_GAIN_PPM = 50_000  # a mine's own gold growing more than this at once is not a lab difference
CUMULATIVE_GAIN_PPM = WEIGHING_TOLERANCE_PPM + LAB_TOLERANCE_PPM
CUMULATIVE_HIGH_PPM = 10_000
UNATTRIBUTED_REVIEW_PPM = 2_000
UNATTRIBUTED_HIGH_PPM = 10_000
# Growth receipts between the same two organizations, on one lot, from which each one is flagged.
REPEATED_GAIN_SHIPMENTS = 3

UNATTRIBUTED = ""  # the pool key of unattributed gold (no organization id is empty)


def allocate(buckets: Mapping[str, int], total: int) -> dict[str, int]:
    """Split ``total`` over ``buckets`` in proportion to their sizes, exactly: the shares sum to
    ``total`` and none exceeds its bucket (largest remainder; ties go to the smaller key).

    Raises ValueError when ``total`` is more than the buckets hold.
    """
    whole = sum(buckets.values())
    if not 0 <= total <= whole:
        raise ValueError(f"cannot allocate {total} of {whole}")
    if total == whole:
        return {k: v for k, v in buckets.items() if v > 0}
    shares = {k: v * total // whole for k, v in buckets.items()}
    rest = total - sum(shares.values())
    by_remainder = sorted(buckets, key=lambda k: (-(buckets[k] * total % whole), k))
    for key in by_remainder[:rest]:
        shares[key] += 1
    return {k: v for k, v in shares.items() if v > 0}


def pool(origins: Mapping[str, int], fine: int) -> dict[str, int]:
    """A lot's fine gold as buckets: one per mine, and the unattributed rest under UNATTRIBUTED."""
    buckets = {m: mg for m, mg in origins.items() if mg > 0}
    rest = fine - sum(buckets.values())
    if rest < 0:
        raise ValueError("origins claim more fine gold than the lot holds")
    if rest:
        buckets[UNATTRIBUTED] = rest
    return buckets


def split_pool(buckets: Mapping[str, int]) -> dict[str, int]:
    """The mines' part of a pool (unattributed gold is what the origins do not cover)."""
    return {m: mg for m, mg in buckets.items() if m != UNATTRIBUTED and mg > 0}


@dataclass(frozen=True)
class Reweighed:
    """What a weighing or an assay does to a lot's gold: new origins, gains, flags, and the gain to
    count against the registering mine's capacity."""

    origins: dict[str, int]
    gained_mg: int
    gain_pairs: dict[str, int]
    flags: list[Flag]
    mine_gain_mg: int


def pair_key(a: str, b: str) -> str:
    """The key of the two organizations a shipment ran between, whichever way."""
    return "|".join(sorted((a, b)))


def reweigh(
    *,
    lot_id: str,
    mass_mg: int,
    fineness: int,
    new_mass_mg: int,
    new_fineness: int,
    origins: Mapping[str, int],
    mine: str | None,
    established: bool,
    gained_mg: int,
    gain_pairs: Mapping[str, int],
    shipment: tuple[str, str] | None,
) -> Reweighed:
    """Judge a lot going from (mass, fineness) to (new mass, new fineness).

    ``established`` is true while the lot is still its mine's registered lot; ``shipment`` is
    (sender, recipient) for a receipt, None for an assay.
    """
    old_fine, new_fine = fine_mg(mass_mg, fineness), fine_mg(new_mass_mg, new_fineness)
    flags: list[Flag] = []
    pairs = dict(gain_pairs)
    lighter = mass_mg - new_mass_mg
    if shipment is not None and lighter > 0 and ppm(lighter, mass_mg) > WEIGHING_TOLERANCE_PPM:
        flags.append(
            Flag(
                "weight_discrepancy",
                lot_id,
                f"dispatched {mass_mg} mg, received {new_mass_mg} mg",
                "review",
                {
                    "dispatched_mg": mass_mg,
                    "received_mg": new_mass_mg,
                    "ppm": ppm(lighter, mass_mg),
                },
            )
        )
    if new_fine <= old_fine:
        # A loss takes unattributed gold first: a scale that reads 0.05 % high at one receipt and
        # 0.05 % low at the next leaves nothing unattributed, and no mine's share shrinks for gold
        # it never registered. Only a loss beyond the unattributed part scales the mines down.
        if new_fine >= sum(origins.values()):
            return Reweighed(dict(origins), gained_mg, pairs, flags, 0)
        return Reweighed(allocate(origins, new_fine), gained_mg, pairs, flags, 0)

    gain = new_fine - old_fine
    gain_ppm = ppm(gain, old_fine) if old_fine else 10**12
    tolerance = 0
    if shipment is not None and new_mass_mg > mass_mg:
        tolerance += WEIGHING_TOLERANCE_PPM
    if new_fineness > fineness:
        tolerance += LAB_TOLERANCE_PPM
    figures: dict[str, int | str] = {"before_fine_mg": old_fine, "after_fine_mg": new_fine}
    figures |= {"gain_mg": gain, "ppm": min(gain_ppm, 10**9), "tolerance_ppm": tolerance}
    if gain_ppm > tolerance:
        high = not established or gain_ppm > HIGH_GAIN_PPM
        flags.append(
            Flag(
                "fine_gold_gain",
                lot_id,
                f"fine gold rose from {old_fine} mg to {new_fine} mg",
                "high" if high else "review",
                figures,
            )
        )
    new_origins = dict(origins)
    mine_gain = 0
    total_gained = gained_mg + gain
    if established and mine is not None:
        new_origins[mine] = new_origins.get(mine, 0) + gain
        mine_gain = gain
        declared = old_fine - gained_mg
        # Every gain that leaves the lot past the tolerances is worth a look, past 1 % (gains no lab
        # explains) high: a flag at the crossing alone would let the gains after it creep in silently.
        for limit, severity in ((CUMULATIVE_HIGH_PPM, "high"), (CUMULATIVE_GAIN_PPM, "review")):
            if declared * limit < total_gained * 1_000_000:
                flags.append(
                    Flag(
                        "cumulative_gain",
                        lot_id,
                        f"fine gold grew {total_gained} mg since it was registered at {declared} mg",
                        severity,
                        {"declared_fine_mg": declared, "gained_mg": total_gained},
                    )
                )
                break
    else:
        after = new_fine - sum(new_origins.values())
        for limit, severity in (
            (UNATTRIBUTED_HIGH_PPM, "high"),
            (UNATTRIBUTED_REVIEW_PPM, "review"),
        ):
            if limit < ppm(after, new_fine):
                flags.append(
                    Flag(
                        "unattributed_gold",
                        lot_id,
                        f"{after} mg of the lot's {new_fine} mg fine gold were registered by no mine",
                        severity,
                        {"unattributed_mg": after, "fine_mg": new_fine},
                    )
                )
                break
    if shipment is not None:
        key = pair_key(*shipment)
        pairs[key] = pairs.get(key, 0) + 1
        if pairs[key] >= REPEATED_GAIN_SHIPMENTS:
            flags.append(
                Flag(
                    "repeated_gain_shipments",
                    lot_id,
                    f"{pairs[key]} receipts between {shipment[0]} and {shipment[1]} grew the lot",
                    "review",
                    {"receipts": pairs[key], "between": key},
                )
            )
    return Reweighed(new_origins, total_gained, pairs, flags, mine_gain)
