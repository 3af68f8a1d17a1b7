"""The laundering simulator's table: per method, where the illegal fine gold went; the legitimate
events that raised flags; and whether the targets of issue 14 hold.

The methods come in two parts. Against the ledger's rules (a false date, an unknown picker, a gain
at a receipt...) the target applies: at least 99 % of the illegal fine gold refused or flagged
``review``/``high``. What stays inside every declared limit and tolerance (the first mile: a mine
that produces less than it declares; a scale that always reads a little high) no rule can refuse;
those rows are shown apart, with their own total: they say what flags over many registrations and
the risk signals must catch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from launder_signals import Signal
from launder_world import Attempt, World

OUTCOMES = ("refused", "high", "review", "silent")
ILLEGAL_TARGET = 0.99  # refused or flagged review/high, by fine gold
LEGIT_TARGET = 0.01  # legitimate events that raised any flag


@dataclass
class Row:
    """One method's figures (fine gold in mg) and how its attempts were refused or flagged."""

    label: str
    first_mile: bool = False
    attempts: int = 0
    grams: Counter[str] = field(default_factory=Counter)
    how: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.grams.values())

    @property
    def caught(self) -> int:
        return self.grams["refused"] + self.grams["high"] + self.grams["review"]


def rows(attempts: Sequence[Attempt], labels: Sequence[str], first_mile: set[str]) -> list[Row]:
    """The table's rows, in the order of ``labels`` (every method has its row)."""
    table = {label: Row(label, label in first_mile) for label in labels}
    for a in attempts:
        row = table.setdefault(a.method, Row(a.method))
        row.attempts += 1
        row.grams[a.outcome] += a.illegal_mg
        if a.outcome == "refused":
            row.how[a.code or "?"] += 1
        else:
            row.how.update(a.kinds)
    return list(table.values())


@dataclass(frozen=True)
class Summary:
    """Totals of a set of rows, and of the legitimate events."""

    attempts: int
    grams: Counter[str]
    legit_events: int
    legit_flagged: int

    @property
    def attempted(self) -> int:
        return sum(self.grams.values())

    @property
    def caught(self) -> int:
        return self.attempted - self.grams["silent"]

    @property
    def caught_share(self) -> float:
        return self.caught / self.attempted if self.attempted else 1.0

    @property
    def legit_share(self) -> float:
        return self.legit_flagged / self.legit_events if self.legit_events else 0.0


def summarize(table: Iterable[Row], world: World) -> Summary:
    """Totals over ``table``."""
    grams: Counter[str] = Counter()
    attempts = 0
    for r in table:
        grams.update(r.grams)
        attempts += r.attempts
    return Summary(attempts, grams, world.legit_events, world.legit_flagged_events)


def _g(mg: int) -> str:
    return f"{mg / 1000:,.0f}" if mg >= 10_000 else f"{mg / 1000:,.1f}"


def _how(row: Row) -> str:
    return ", ".join(f"{k} x{n}" if n > 1 else k for k, n in row.how.most_common(3)) or "-"


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def _cells(label: str, attempts: int, grams: Counter[str]) -> list[str]:
    total = sum(grams.values())
    return [label, str(attempts), _g(total), *(_g(grams[o]) for o in OUTCOMES)]


def _sections(table: Sequence[Row], world: World) -> list[tuple[str, list[Row], Summary]]:
    rules = [r for r in table if not r.first_mile]
    first = [r for r in table if r.first_mile]
    return [
        ("against the ledger's rules", rules, summarize(rules, world)),
        (
            "inside every declared limit and tolerance (nothing to refuse)",
            first,
            summarize(first, world),
        ),
    ]


HEAD = ("method", "n", "attempted g", "refused g", "high g", "review g", "silent g")


def text(table: Sequence[Row], world: World) -> str:
    """The table as plain text for the terminal."""
    lines: list[list[str]] = [[*HEAD, "refused with / flagged as"]]
    for title, part, s in _sections(table, world):
        lines.append([f"-- {title}"])
        lines += [[*_cells(r.label, r.attempts, r.grams), _how(r)] for r in part]
        caught = f"refused or flagged: {_share(s.caught, s.attempted)}"
        lines.append([*_cells("subtotal", s.attempts, s.grams), caught])
    s = summarize(table, world)
    lines.append(
        [
            *_cells("total", s.attempts, s.grams),
            f"refused or flagged: {_share(s.caught, s.attempted)}",
        ]
    )
    widths = [max(len(line[i]) for line in lines if len(line) > 1) for i in range(len(HEAD))]
    out = []
    for line in lines:
        if len(line) == 1:
            out.append(line[0])
            continue
        cells = [line[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(line[1:-1], widths[1:], strict=True)]
        out.append("  ".join([*cells, line[-1]]))
    return "\n".join([*out, "", *_legit_lines(world), "", *_verdict(table, world)])


def markdown(table: Sequence[Row], world: World) -> str:
    """The same table as Markdown, for docs/laundering.md."""
    out = [
        "| " + " | ".join([*HEAD, "refused with / flagged as"]) + " |",
        "|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for title, part, s in _sections(table, world):
        out.append(f"| *{title}* | | | | | | | |")
        out += [
            "| " + " | ".join([*_cells(r.label, r.attempts, r.grams), _how(r)]) + " |" for r in part
        ]
        bold = [f"**{c}**" for c in _cells("subtotal", s.attempts, s.grams)]
        out.append(
            "| "
            + " | ".join([*bold, f"refused or flagged: **{_share(s.caught, s.attempted)}**"])
            + " |"
        )
    s = summarize(table, world)
    bold = [f"**{c}**" for c in _cells("total", s.attempts, s.grams)]
    out.append(
        "| "
        + " | ".join([*bold, f"refused or flagged: **{_share(s.caught, s.attempted)}**"])
        + " |"
    )
    return "\n".join([*out, "", *_legit_lines(world), "", *_verdict(table, world)])


def _legit_lines(world: World) -> list[str]:
    flagged = world.legit_flagged_events
    lines = [
        f"Legitimate events: {world.legit_events:,}; events that raised a flag: {flagged:,} "
        f"({flagged / max(world.legit_events, 1):.2%})."
    ]
    if world.legit_flagged:
        kinds = ", ".join(f"{k}: {n}" for k, n in world.legit_flagged.most_common())
        lines.append(f"Flags on legitimate events, by kind (severity): {kinds}.")
    if world.legit_refused:
        refused = ", ".join(f"{k}: {n}" for k, n in world.legit_refused.most_common())
        lines.append(f"Legitimate operations refused: {refused}.")
        lines += [f"  e.g. {k}: {m}" for k, m in sorted(world.refusal_examples.items())]
    return lines


def _verdict(table: Sequence[Row], world: World) -> list[str]:
    (_, _, rules), (_, _, first) = _sections(table, world)
    both = summarize(table, world)
    caught = "HOLDS" if rules.caught_share >= ILLEGAL_TARGET else "DOES NOT HOLD"
    legit = "HOLDS" if both.legit_share <= LEGIT_TARGET else "DOES NOT HOLD"
    return [
        f"Target 1, at least {ILLEGAL_TARGET:.0%} of the illegal fine gold refused or flagged "
        f"review/high, against the ledger's rules: {caught} ({rules.caught_share:.1%}); "
        f"with the rest: {both.caught_share:.1%}; inside the limits and tolerances alone: "
        f"{first.caught_share:.1%}.",
        f"Target 2, at most {LEGIT_TARGET:.0%} of legitimate events flagged: {legit} "
        f"({both.legit_share:.2%}).",
    ]


def _pointed(signal: Signal, world: World) -> tuple[str, str]:
    methods = sorted({world.suspects[h] for h in signal.hits if h in world.suspects})
    others = sorted(
        h for h in signal.hits if h not in world.suspects and not h.startswith("rogue-")
    )
    attackers = sorted(h for h in signal.hits if h not in world.suspects and h.startswith("rogue-"))
    caught = "; ".join(methods) or "-"
    if attackers:
        caught += f" (and {len(attackers)} other attackers)"
    legit = f"{len(others)}" + (f": {', '.join(others[:4])}" if others else "")
    return caught, legit + (" ..." if len(others) > 4 else "")


def signals_text(found: Sequence[Signal], world: World) -> str:
    """The risk signals, plain text: whom each points at among the attackers and the rest."""
    out = [
        "Risk signals over the year (the standard body's, services.risk; those marked proposed are "
        "computed by the simulator):"
    ]
    for signal in found:
        caught, legit = _pointed(signal, world)
        out.append(f"- {signal.name} ({signal.rule}): attackers: {caught}; legitimate: {legit}")
    return "\n".join(out)


def signals_markdown(found: Sequence[Signal], world: World) -> str:
    """The risk signals as a Markdown table."""
    out = [
        "| signal | raised when | attack methods it points at | legitimate organizations it points at |",
        "|---|---|---|---|",
    ]
    for signal in found:
        caught, legit = _pointed(signal, world)
        out.append(f"| {signal.name} | {signal.rule} | {caught} | {legit} |")
    return "\n".join(out)
