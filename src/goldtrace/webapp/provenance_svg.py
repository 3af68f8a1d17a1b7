"""A lot's provenance drawn as an SVG on the server: the mines on the left, the lot on the right.

Nodes are the mines and every lot the gold came through; edges are the registrations and the
transformations, labelled with the custody moves of the lot before it was transformed (sale, dispatch,
receipt, assay) and the loss of fine gold. Layers follow the longest path from the mines; within a layer
nodes are ordered once by the barycenter of their parents, which undoes most crossings of the small
graphs a chain of custody makes. Labels in a gap are then pushed apart so that none overlap.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from goldtrace.webapp.i18n import day, fineness, grams

NODE_WIDTH = 176
GAP = 160  # between layers: room for the edge labels
ROW_GAP = 24
MARGIN = 12
LINE = 15
PADDING = 8
# Characters per line that fit at 12 px (nodes) and 11 px (edge labels); text beyond is wrapped.
NODE_CHARS = 25
LABEL_CHARS = 24
BOLD = ' font-weight="bold"'

FORM_LABELS: dict[str, Any] = {
    "ore": _l("ore"),
    "concentrate": _l("concentrate"),
    "dore": _l("doré"),
    "grain": _l("grain"),
    "bar": _l("bar"),
    "semi_finished": _l("semi-finished"),
    "jewelry_item": _l("jewelry item"),
    "scrap": _l("scrap"),
}
DONE_LABELS: dict[str, Any] = {
    "melt": _l("melted"),
    "refine": _l("refined"),
    "split": _l("split"),
    "merge": _l("merged"),
    "alloy": _l("alloyed"),
    "manufacture": _l("manufactured"),
}


@dataclass
class _Node:
    key: str
    heading: str
    lines: list[str]
    tooltip: str
    parents: list[str] = field(default_factory=list)
    layer: int = 0
    x: int = 0
    y: int = 0
    final: bool = False
    mine: bool = False

    @property
    def text(self) -> list[tuple[str, bool]]:
        """Lines to draw, each with whether it is part of the heading."""
        # Three lines for names such as "Central de Cooperativas Minero Metalúrgicas de Puno (CECOMIP)".
        return [(t, True) for t in _wrap(self.heading, NODE_CHARS, 3)] + [
            (t, False) for line in self.lines for t in _wrap(line, NODE_CHARS)
        ]

    @property
    def height(self) -> int:
        return 2 * PADDING + LINE * len(self.text)


@dataclass
class _Label:
    source: str
    target: str
    lines: list[str]
    x: int = 0
    y: int = 0

    @property
    def text(self) -> list[str]:
        return [t for line in self.lines for t in _wrap(line, LABEL_CHARS)]

    @property
    def height(self) -> int:
        return LINE * len(self.text)


def _wrap(text: str, width: int, most: int = 2) -> list[str]:
    """At most ``most`` lines of ``width`` characters; what does not fit ends in an ellipsis."""
    lines = textwrap.wrap(text, width) or [""]
    if len(lines) > most:
        lines = [*lines[: most - 1], lines[most - 1][: width - 1] + "…"]
    return [line if len(line) <= width else line[: width - 1] + "…" for line in lines]


def _mg(grams_text: str | None) -> int:
    """Milligrams from the document's "1250.125" gram strings (exact, no float)."""
    return int(Decimal(grams_text or "0") * 1000)


def _graph(doc: dict[str, Any]) -> tuple[dict[str, _Node], list[_Label], list[str]]:
    """The nodes, the edges with their labels, and the final lot's moves after it was made."""
    nodes: dict[str, _Node] = {}
    for origin in doc["origins"]:
        _mine_node(nodes, origin["mine"], origin)
    lots = {lot["id"]: lot for lot in doc["lots"]}
    made_on: dict[str, str] = {}
    moves: dict[str, list[str]] = {lot_id: [] for lot_id in lots}
    edges: list[_Label] = []
    mines: set[str] = set()
    for event in doc["events"]:
        if event["voided"]:
            continue
        roles: dict[str, str] = {k: v for k, v in event["lots"].items() if k in lots}
        summary = event["summary"]
        kind = event["type"]
        if kind == "lot.register":
            mines.add(event["actor"])
            mine = _mine_node(nodes, event["actor"], None)
            for lot_id in roles:
                made_on[lot_id] = summary.get("produced_on") or event["occurred_at"]
                edges.append(_Label(mine.key, f"lot:{lot_id}", [_("registered")]))
        elif kind == "lot.transform":
            done = [str(DONE_LABELS.get(summary.get("kind"), summary.get("kind")))]
            loss = _mg(summary.get("loss_g"))
            if loss:
                done.append(_("loss %(grams)s g", grams=grams(loss)))
            inputs = [lot_id for lot_id, role in roles.items() if role == "input"]
            for out in (lot_id for lot_id, role in roles.items() if role == "output"):
                made_on[out] = event["occurred_at"]
                edges.extend(_Label(f"lot:{i}", f"lot:{out}", moves[i] + done) for i in inputs)
        elif kind == "lot.dispatch" and summary.get("lot") in lots:
            to = summary.get("to")
            moves[summary["lot"]].append(
                _("sold to %(org)s", org=to)
                if event["actor"] in mines
                else _("sent to %(org)s", org=to)
            )
        elif kind == "lot.receive" and summary.get("lot") in lots:
            moves[summary["lot"]].append(
                _("received, %(grams)s g", grams=grams(_mg(summary.get("mass_g"))))
            )
        elif kind == "lot.assay" and summary.get("lot") in lots:
            moves[summary["lot"]].append(
                _("assayed at %(fineness)s", fineness=fineness(int(summary.get("fineness") or 0)))
            )
    for lot_id, lot in lots.items():
        nodes[f"lot:{lot_id}"] = _lot_node(lot, made_on.get(lot_id), final=lot_id == doc["lot"])
    for edge in edges:
        nodes[edge.target].parents.append(edge.source)
    return nodes, edges, moves[doc["lot"]]


def _mine_node(nodes: dict[str, _Node], mine: str, origin: dict[str, Any] | None) -> _Node:
    key = f"mine:{mine}"
    if key not in nodes:
        lines = []
        if origin is not None and origin.get("region"):
            lines.append(str(origin["region"]))
        if origin is not None:
            lines.append(_("%(grams)s g fine gold", grams=grams(_mg(origin["fine_g"]))))
        name = str(origin["name"]) if origin is not None else mine
        nodes[key] = _Node(key, name, lines, " · ".join([name, *lines]), mine=True)
    return nodes[key]


def _lot_node(lot: dict[str, Any], made_on: str | None, *, final: bool) -> _Node:
    lines = [
        str(FORM_LABELS.get(lot["form"], lot["form"])),
        f"{grams(_mg(lot['mass_g']))} g",
    ]
    if made_on:
        lines.append(day(made_on))
    if lot.get("reference"):
        lines.append(str(lot["reference"]))
    return _Node(
        f"lot:{lot['id']}", str(lot["id"]), lines, " · ".join([lot["id"], *lines]), final=final
    )


def _layout(nodes: dict[str, _Node], labels: list[_Label], tail: bool) -> tuple[int, int]:
    """Place nodes and labels; return the drawing's width and height."""
    order = list(nodes)

    def depth(key: str) -> int:
        node = nodes[key]
        if not node.mine and not node.layer:
            node.layer = 1 + max((depth(p) for p in node.parents), default=0)
        return node.layer

    for key in order:
        depth(key)
    layers: dict[int, list[_Node]] = {}
    for key in order:
        layers.setdefault(nodes[key].layer, []).append(nodes[key])
    rank: dict[str, float] = {}
    for number in sorted(layers):
        members = layers[number]
        if number:
            members.sort(
                key=lambda n: sum(rank[p] for p in n.parents) / len(n.parents) if n.parents else 0.5
            )
        rank.update({n.key: (i + 0.5) / len(members) for i, n in enumerate(members)})
    stack = {n: sum(m.height for m in ms) + ROW_GAP * (len(ms) - 1) for n, ms in layers.items()}
    tallest = max(stack.values())
    for number, members in layers.items():
        y = MARGIN + (tallest - stack[number]) // 2
        for node in members:
            node.x = MARGIN + number * (NODE_WIDTH + GAP)
            node.y = y
            y += node.height + ROW_GAP
    bottom = MARGIN + tallest
    gaps: dict[int, list[_Label]] = {}
    for label in labels:
        source, target = nodes[label.source], nodes[label.target]
        label.x = target.x - GAP // 2
        label.y = (_mid(source) + _mid(target)) // 2
        gaps.setdefault(target.layer, []).append(label)
    for column in gaps.values():
        column.sort(key=lambda lab: lab.y)
        floor = MARGIN
        for label in column:
            label.y = max(label.y, floor + label.height // 2)
            floor = label.y + label.height - label.height // 2 + 4
            bottom = max(bottom, floor)
    width = MARGIN * 2 + (max(layers) + 1) * NODE_WIDTH + max(layers) * GAP + (GAP if tail else 0)
    return width, bottom + MARGIN


def _mid(node: _Node) -> int:
    return node.y + node.height // 2


def _label_text(x: int, center: int, lines: list[str]) -> str:
    """Lines centred on (x, center), with a white halo that keeps them readable over the edges."""
    top = center - LINE * len(lines) // 2 + LINE - 4
    spans = "".join(
        f'<tspan x="{x}" y="{top + i * LINE}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return (
        f'<text text-anchor="middle" font-size="11" paint-order="stroke" stroke="#fff" '
        f'stroke-width="3" stroke-linejoin="round">{spans}</text>'
    )


def render_provenance_svg(doc: dict[str, Any]) -> Markup:
    """The ``provenance()`` document of a lot as an accessible SVG (``role="img"``, title, desc).

    Every text is escaped; the drawing scales to its container (a viewBox and width 100 %).
    """
    nodes, labels, tail = _graph(doc)
    width, height = _layout(nodes, labels, bool(tail))
    prefix = "prov-" + re.sub(r"[^A-Za-z0-9_-]", "", str(doc["lot"]))
    final = nodes[f"lot:{doc['lot']}"]
    names = ", ".join(n.heading for n in nodes.values() if n.mine)
    title = _("Provenance of lot %(lot)s", lot=doc["lot"])
    description = " ".join(
        [_("Gold from %(mines)s to lot %(lot)s.", mines=names or "—", lot=doc["lot"])]
        + [
            f"{nodes[lab.source].heading} → {nodes[lab.target].heading}: {'; '.join(lab.lines)}."
            for lab in labels
        ]
        + ([f"{doc['lot']}: {'; '.join(tail)}."] if tail else [])
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="provenance" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'aria-labelledby="{prefix}-title {prefix}-desc">',
        f'<title id="{prefix}-title">{escape(title)}</title>',
        f'<desc id="{prefix}-desc">{escape(description)}</desc>',
        f'<defs><marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto">'
        '<path d="M0 0L10 5L0 10z" fill="#7a5c00"/></marker></defs>',
    ]
    arrow = f'marker-end="url(#{prefix}-arrow)"'
    for label in labels:
        source, target = nodes[label.source], nodes[label.target]
        x1, y1, x2, y2 = source.x + NODE_WIDTH, _mid(source), target.x, _mid(target)
        bend = (label.x - x1) // 2
        parts.append(
            f'<path d="M{x1} {y1}C{x1 + bend} {y1} {label.x - bend} {label.y} {label.x} {label.y}'
            f'S{x2 - GAP // 4} {y2} {x2} {y2}" fill="none" stroke="#7a5c00" stroke-width="1.5" '
            f"{arrow}/>"
        )
    if tail:
        x, y = final.x + NODE_WIDTH, _mid(final)
        parts.append(
            f'<path d="M{x} {y}H{x + GAP - 8}" fill="none" stroke="#7a5c00" stroke-width="1.5" '
            f'stroke-dasharray="4 3" {arrow}/>'
        )
        text = [t for line in tail for t in _wrap(line, LABEL_CHARS)]
        parts.append(_label_text(x + GAP // 2, y, text))
    for label in labels:
        parts.append(_label_text(label.x, label.y, label.text))
    for node in nodes.values():
        fill = "#f4efe2" if node.mine else "#ffffff"
        stroke = 'stroke="#7a5c00" stroke-width="3"' if node.final else 'stroke="#a89f8c"'
        parts.append(
            f"<g><title>{escape(node.tooltip)}</title>"
            f'<rect x="{node.x}" y="{node.y}" width="{NODE_WIDTH}" height="{node.height}" '
            f'rx="6" fill="{fill}" {stroke}/>'
        )
        spans = "".join(
            f'<tspan x="{node.x + PADDING}" y="{node.y + PADDING + (i + 1) * LINE - 4}"'
            f"{BOLD if bold else ''}>{escape(line)}</tspan>"
            for i, (line, bold) in enumerate(node.text)
        )
        parts.append(f'<text font-size="12">{spans}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()


def provenance_context(doc: dict[str, Any]) -> dict[str, Any]:
    """What the lot page merges into its context from a ``provenance()`` document:
    ``provenance_svg`` (Markup) and ``provenance_verified`` (whether the ancestry verifies)."""
    return {
        "provenance_svg": render_provenance_svg(doc),
        "provenance_verified": bool(doc["verified"]),
    }
