"""The laundering simulator's table: per method, where the illegal fine gold went; the legitimate
events that raised flags; and whether the targets of issue 14 hold."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from launder_world import Attempt, World

OUTCOMES = ("refused", "high", "review", "silent")
ILLEGAL_TARGET = 0.99  # refused or flagged review/high, by fine gold
LEGIT_TARGET = 0.01  # legitimate events that raised any flag


@dataclass
class Row:
    """One method's figures (fine gold in mg)."""

    label: str
    attempts: int = 0
    grams: Counter[str] = field(default_factory=Counter)
    how: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.grams.values())


def rows(attempts: Sequence[Attempt], labels: Sequence[str]) -> list[Row]:
    """The table's rows, in the order of ``labels`` (every method has its row)."""
    table = {label: Row(label) for label in labels}
    for a in attempts:
        row = table.setdefault(a.method, Row(a.method))
        row.attempts += 1
        row.grams[a.outcome] += a.illegal_mg
        if a.outcome == "refused":
            row.how[a.code or "?"] += 1
        else:
            row.how.update(k for k in a.kinds if not k.endswith("(info)") or a.outcome == "silent")
    return list(table.values())


def _g(mg: int) -> str:
    return f"{mg / 1000:,.0f}" if mg >= 10_000 else f"{mg / 1000:,.1f}"


def _how(row: Row) -> str:
    return ", ".join(f"{k} x{n}" if n > 1 else k for k, n in row.how.most_common(3)) or "-"


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


@dataclass(frozen=True)
class Summary:
    """The totals and whether each target holds."""

    attempted: int
    caught: int
    legit_events: int
    legit_flagged: int

    @property
    def caught_share(self) -> float:
        return self.caught / self.attempted if self.attempted else 1.0

    @property
    def legit_share(self) -> float:
        return self.legit_flagged / self.legit_events if self.legit_events else 0.0


def summarize(table: Sequence[Row], world: World) -> Summary:
    """Totals over every method."""
    attempted = sum(r.total for r in table)
    caught = sum(r.grams["refused"] + r.grams["high"] + r.grams["review"] for r in table)
    return Summary(attempted, caught, world.legit_events, world.legit_flagged_events)


def text(table: Sequence[Row], world: World) -> str:
    """The table as plain text for the terminal."""
    head = ("method", "n", "attempted g", "refused", "high", "review", "silent", "how")
    body = [
        (
            r.label,
            str(r.attempts),
            _g(r.total),
            *(_g(r.grams[o]) for o in OUTCOMES),
            _how(r),
        )
        for r in table
    ]
    s = summarize(table, world)
    totals = ("total", str(sum(r.attempts for r in table)), _g(s.attempted))
    totals += tuple(_g(sum(r.grams[o] for r in table)) for o in OUTCOMES)
    totals += (f"refused or flagged review/high: {_share(s.caught, s.attempted)}",)
    lines = [head, *body, totals]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head) - 1)]
    out = []
    for n, line in enumerate(lines):
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))]
        out.append("  ".join(cells) + "  " + line[-1])
        if n in (0, len(lines) - 2):
            out.append("-" * (sum(widths) + 2 * len(widths) + 20))
    return "\n".join(out + ["", *_legit_lines(world, s), "", *_verdict(s)])


def markdown(table: Sequence[Row], world: World) -> str:
    """The same table as Markdown, for docs/laundering.md."""
    out = [
        "| method | attempts | attempted g | refused g | flagged high g | flagged review g "
        "| silent g | refused with / flagged as |",
        "|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for r in table:
        cells = [r.label, str(r.attempts), _g(r.total), *(_g(r.grams[o]) for o in OUTCOMES)]
        out.append("| " + " | ".join(cells) + f" | {_how(r).replace('|', '/')} |")
    s = summarize(table, world)
    totals = ["**total**", str(sum(r.attempts for r in table)), f"**{_g(s.attempted)}**"]
    totals += [f"**{_g(sum(r.grams[o] for r in table))}**" for o in OUTCOMES]
    out.append(
        "| " + " | ".join(totals) + f" | refused or flagged: **{_share(s.caught, s.attempted)}** |"
    )
    return "\n".join(out + ["", *_legit_lines(world, s), "", *_verdict(s)])


def _legit_lines(world: World, s: Summary) -> list[str]:
    lines = [
        f"Legitimate events: {s.legit_events:,}; events that raised a flag: {s.legit_flagged:,} "
        f"({_share(s.legit_flagged, s.legit_events)})."
    ]
    if world.legit_flagged:
        kinds = ", ".join(f"{k}: {n}" for k, n in world.legit_flagged.most_common())
        lines.append(f"Flags on legitimate events by kind (severity): {kinds}.")
    if world.legit_refused:
        refused = ", ".join(f"{k}: {n}" for k, n in world.legit_refused.most_common())
        lines.append(f"Legitimate operations refused: {refused}.")
    return lines


def _verdict(s: Summary) -> list[str]:
    caught = "HOLDS" if s.caught_share >= ILLEGAL_TARGET else "DOES NOT HOLD"
    legit = "HOLDS" if s.legit_share <= LEGIT_TARGET else "DOES NOT HOLD"
    return [
        f"Target 1, at least {ILLEGAL_TARGET:.0%} of illegal fine gold refused or flagged "
        f"review/high: {caught} ({s.caught_share:.1%}).",
        f"Target 2, at most {LEGIT_TARGET:.0%} of legitimate events flagged: {legit} "
        f"({s.legit_share:.2%}).",
    ]
