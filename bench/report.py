"""Result rows and the printed table: each figure beside the baseline it is a ratio of, and its target."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Baseline:
    """A physical rate or latency measured in this run."""

    key: str
    name: str
    db: str
    value: float
    unit: str
    note: str = ""


@dataclass(frozen=True)
class Figure:
    """A goldtrace figure, its ratio to a baseline and whether it meets its target (None: no target)."""

    name: str
    db: str
    value: float
    unit: str
    baseline: str  # the Baseline.key it is compared with, "" when none
    ratio: float | None
    target: str
    met: bool | None
    note: str = ""


def fmt(value: float, unit: str) -> str:
    """Return a number with sensible precision for its unit."""
    if unit == "ms":
        return f"{value:.2f} ms"
    if unit == "x":
        return f"{value:g}"
    if value >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.3g} {unit}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = [
        " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
        "-+-".join("-" * w for w in widths),
    ]
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


@dataclass(frozen=True)
class Cost:
    """Microseconds of one step of a code path, per event, on one core."""

    path: str
    step: str
    micros: float


def render(
    baselines: Sequence[Baseline], figures: Sequence[Figure], costs: Sequence[Cost] = ()
) -> str:
    """Return the baseline, figure and per-step cost tables as text."""
    names = {b.key: f"{b.name} [{b.db}]" if b.db != "-" else b.name for b in baselines}
    base_rows = [[b.key, b.name, b.db, fmt(b.value, b.unit), b.note] for b in baselines]
    fig_rows = [
        [
            f.name,
            f.db,
            fmt(f.value, f.unit),
            f"{f.ratio:.2f}x {f.baseline}" if f.ratio is not None else "-",
            f.target or "-",
            {True: "met", False: "MISSED", None: "-"}[f.met],
            f.note,
        ]
        for f in figures
    ]
    parts = []
    if base_rows:
        parts.append("Baselines (physical, this run)")
        parts.append(_table(["key", "baseline", "db", "value", "note"], base_rows))
    if fig_rows:
        parts.append("")
        parts.append("Figures (ratio = figure / baseline, same run)")
        parts.append(
            _table(
                ["figure", "db", "value", "ratio to baseline", "target", "status", "note"], fig_rows
            )
        )
    if costs:
        verify = max((c.micros for c in costs if "Ed25519 verify" in c.step), default=0.0)
        cost_rows = [
            [c.path, c.step, f"{c.micros:.1f}", f"{c.micros / verify:.2f}" if verify else "-"]
            for c in costs
        ]
        parts.append("")
        parts.append("Per-event CPU cost of each step (one core, profiling aid)")
        parts.append(_table(["path", "step", "us/event", "x Ed25519 verify"], cost_rows))
    missing = sorted({f.baseline for f in figures if f.baseline and f.baseline not in names})
    if missing:
        parts.append(f"(baselines not measured in this run: {', '.join(missing)})")
    return "\n".join(parts)


def to_json(
    baselines: Sequence[Baseline],
    figures: Sequence[Figure],
    costs: Sequence[Cost],
    meta: dict[str, str],
) -> str:
    """Return everything measured as JSON (for docs and for comparing runs)."""
    return json.dumps(
        {
            "meta": meta,
            "baselines": [asdict(b) for b in baselines],
            "figures": [asdict(f) for f in figures],
            "costs": [asdict(c) for c in costs],
        },
        indent=2,
    )


def _md(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(data: dict[str, Any]) -> str:
    """Return the tables of a ``--json`` result file as Markdown (for docs/performance.md)."""
    baselines = [Baseline(**b) for b in data["baselines"]]
    figures = [Figure(**f) for f in data["figures"]]
    costs = [Cost(**c) for c in data.get("costs", [])]
    status = {True: "**met**", False: "**missed**", None: "-"}
    parts = [
        _md(
            ["figure", "db", "value", "ratio to baseline", "target", "status", "note"],
            [
                [
                    f.name,
                    f.db,
                    fmt(f.value, f.unit),
                    f"{f.ratio:.2f}x `{f.baseline}`" if f.ratio is not None else "-",
                    f.target or "-",
                    status[f.met],
                    f.note,
                ]
                for f in figures
            ],
        ),
        "",
        _md(
            ["key", "baseline", "db", "value", "note"],
            [[f"`{b.key}`", b.name, b.db, fmt(b.value, b.unit), b.note] for b in baselines],
        ),
    ]
    if costs:
        parts += [
            "",
            _md(
                ["path", "step", "us/event"],
                [[c.path, c.step, f"{c.micros:.1f}"] for c in costs],
            ),
        ]
    return "\n".join(parts)


if __name__ == "__main__":
    # python bench/report.py results.json  ->  Markdown tables on stdout
    print(markdown(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))))
