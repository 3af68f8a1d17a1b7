"""Flags: what an auditor or the standard body should look at, with a severity and the figures behind it.

A flag never refuses an operation. Each kind has one severity rule (docs/laundering.md lists them):

- ``high``: fine gold that no mine registered, or a figure no honest process produces;
- ``review``: plausible but unusual, worth a look (a loss above tolerance, a look-alike registration);
- ``info``: recorded for completeness (a voided event).

Differences inside the weighing and lab tolerances raise nothing at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

SEVERITIES = ("info", "review", "high")

# Every kind a rule can raise, with what it means (the UI and docs render these).
KINDS = {
    "weight_discrepancy": "received lighter than dispatched, beyond the weighing tolerance",
    "fine_gold_gain": "a receipt or assay raised the lot's fine gold beyond the tolerances",
    "cumulative_gain": "gains since registration add up beyond the tolerances",
    "unattributed_gold": "the lot holds fine gold that no mine registered",
    "repeated_gain_shipments": "shipments between the same two organizations keep growing the lot",
    "loss_above_tolerance": "a transformation lost more fine gold than its tolerance",
    "implausible_low_loss": "a refining or melting of unrefined gold lost less than is plausible",
    "possible_duplicate": "a registration looks like an earlier one (same mass, fineness, dates)",
    "sustained_high_use": "a mine registered 90 % of its capacity in three 30-day windows running",
    "voided_event": "an event was voided",
}


@dataclass(frozen=True)
class Flag:
    """Something to review, raised by a rule: its kind, the lot, a short English summary, the
    severity and the figures (integers or short texts) the summary is made of."""

    kind: str
    lot: str | None
    detail: str
    severity: str = "review"
    figures: Mapping[str, int | str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown flag kind {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown flag severity {self.severity!r}")


def ppm(part: int, whole: int) -> int:
    """``part`` in parts per million of ``whole`` (rounded down; 0 of nothing)."""
    return part * 1_000_000 // whole if whole > 0 else 0
