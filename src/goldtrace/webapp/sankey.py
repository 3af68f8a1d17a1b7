"""The premium's flows drawn as a Sankey diagram on the server: buyers -> committees -> investments.

Three columns: the buyers who paid premium, the mines' premium committees that received it, and the
categories the committees invested it in. Node heights and link widths are proportional to the money,
at one scale for the whole picture, and money is conserved at every committee: what a committee
received and did not invest in the period flows to "not yet invested", and what it invested beyond
what it received in the period comes from "balance from earlier". So every column adds up to the same
total, and a committee's incoming links are exactly as tall as its outgoing ones.

``layout`` is the geometry alone (exact fractions of a pixel, so that tests can check the sums);
``render_sankey`` draws it as an accessible SVG with every text escaped.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from goldtrace.db.models import Organization
from goldtrace.domain.premiums import INVESTMENT_CATEGORIES
from goldtrace.services.premiums import Flow
from goldtrace.webapp.i18n import money

WIDTH = 720
LABEL_SPACE = 168  # left of the buyers and right of the categories, for their labels
NODE_WIDTH = 12
FLOW_HEIGHT = 360  # the height of one whole column's money
NODE_GAP = 14
LINE = 15
TOP = 34  # room for the column headings
BOTTOM = 12
NAME_CHARS = 22  # per line, two lines at most: what fits beside a bar at 12 px
BOLD = ' font-weight="bold"'

CATEGORY = "category:"
EARLIER = "balance:earlier"
UNSPENT = "balance:unspent"
BUYERS, COMMITTEES, CATEGORIES = 0, 1, 2

CATEGORY_LABELS: dict[str, Any] = {
    "organization": _l("Organization and production"),
    "workers_welfare": _l("Workers' welfare"),
    "community": _l("Community"),
    "environment": _l("Environment"),
    "gender_equity": _l("Gender equity"),
}
_SYNTHETIC_LABELS: dict[str, Any] = {
    EARLIER: _l("Balance from earlier"),
    UNSPENT: _l("Not yet invested"),
}


@dataclass(frozen=True)
class Node:
    """A buyer, a committee or an investment category, drawn as a bar."""

    key: str
    column: int
    cents: int
    x: int
    y: Fraction
    height: Fraction


@dataclass(frozen=True)
class Link:
    """Money from one node to the next column, drawn as a band ``width`` tall at both ends."""

    source: str
    target: str
    cents: int
    width: Fraction
    source_y: Fraction  # the band's top where it leaves the source
    target_y: Fraction  # the band's top where it enters the target


@dataclass(frozen=True)
class Layout:
    """The whole picture: nodes by key, links, the drawing's size and the pixels per cent."""

    nodes: dict[str, Node]
    links: list[Link]
    width: int
    height: int
    scale: Fraction

    def incoming(self, key: str) -> list[Link]:
        """The links that enter node ``key``."""
        return [link for link in self.links if link.target == key]

    def outgoing(self, key: str) -> list[Link]:
        """The links that leave node ``key``."""
        return [link for link in self.links if link.source == key]


def column_x(column: int) -> int:
    """The left edge of a column's bars."""
    first, last = LABEL_SPACE, WIDTH - LABEL_SPACE - NODE_WIDTH
    return first + (last - first) * column // 2


def _label_lines(column: int) -> int:
    # Two lines of name; a committee then shows what it received and invested, others one amount.
    return 4 if column == COMMITTEES else 3


def _balanced(flows: Iterable[Flow]) -> list[Flow]:
    """The flows with zero ones dropped and each committee's difference made explicit."""
    real = [f for f in flows if f.cents > 0]
    received: dict[str, int] = {}
    invested: dict[str, int] = {}
    for flow in real:
        if flow.target.startswith(CATEGORY):
            invested[flow.source] = invested.get(flow.source, 0) + flow.cents
        else:
            received[flow.target] = received.get(flow.target, 0) + flow.cents
    buyers = {f.source for f in real if not f.target.startswith(CATEGORY)}
    clash = buyers & (set(received) | set(invested))
    if clash:
        raise ValueError(f"{sorted(clash)[0]} is both a buyer and a committee")
    for committee in sorted(set(received) | set(invested)):
        difference = received.get(committee, 0) - invested.get(committee, 0)
        if difference > 0:
            real.append(Flow(source=committee, target=UNSPENT, cents=difference))
        elif difference < 0:
            real.append(Flow(source=EARLIER, target=committee, cents=-difference))
    return real


def _columns(flows: list[Flow]) -> dict[str, tuple[int, int]]:
    """Each node's column and money (the larger of what enters and what leaves it)."""
    into: dict[str, int] = {}
    out: dict[str, int] = {}
    for flow in flows:
        out[flow.source] = out.get(flow.source, 0) + flow.cents
        into[flow.target] = into.get(flow.target, 0) + flow.cents
    result = {}
    for key in set(into) | set(out):
        if key.startswith(CATEGORY) or key == UNSPENT:
            column = CATEGORIES
        elif key in into:
            column = COMMITTEES
        else:
            column = BUYERS
        result[key] = (column, max(into.get(key, 0), out.get(key, 0)))
    return result


def _order(flows: list[Flow], columns: dict[str, tuple[int, int]]) -> list[list[str]]:
    """Keys top to bottom in each column: committees by money, buyers next to the committees they
    paid most, categories in their fixed order; the synthetic balances last."""
    committees = sorted(
        (k for k, (c, _cents) in columns.items() if c == COMMITTEES),
        key=lambda k: (-columns[k][1], k),
    )
    rank = {k: i for i, k in enumerate(committees)}
    pull: dict[str, Fraction] = {}
    for key, (column, cents) in columns.items():
        if column == BUYERS and key != EARLIER:
            pull[key] = sum(
                (Fraction(f.cents * rank[f.target], cents) for f in flows if f.source == key),
                Fraction(0),
            )
    buyers = sorted(pull, key=lambda k: (pull[k], -columns[k][1], k))
    if EARLIER in columns:
        buyers.append(EARLIER)
    known = [CATEGORY + c for c in INVESTMENT_CATEGORIES]
    categories = sorted(
        (k for k, (c, _cents) in columns.items() if c == CATEGORIES and k != UNSPENT),
        key=lambda k: (known.index(k) if k in known else len(known), k),
    )
    if UNSPENT in columns:
        categories.append(UNSPENT)
    return [buyers, committees, categories]


def layout(flows: Iterable[Flow]) -> Layout:
    """Place the nodes and the bands of ``flows`` (buyer -> committee and committee ->
    ``category:<code>``); an empty picture when no money moved."""
    balanced = _balanced(flows)
    if not balanced:
        return Layout(nodes={}, links=[], width=WIDTH, height=TOP + BOTTOM, scale=Fraction(0))
    columns = _columns(balanced)
    order = _order(balanced, columns)
    total = sum(columns[k][1] for k in order[BUYERS])
    scale = Fraction(FLOW_HEIGHT, total)

    def slot(key: str) -> Fraction:
        column, cents = columns[key]
        return max(cents * scale, Fraction(LINE * _label_lines(column) + 2))

    stacks = [
        sum((slot(k) for k in keys), Fraction(0)) + NODE_GAP * (len(keys) - 1) for keys in order
    ]
    tallest = max(stacks)
    nodes: dict[str, Node] = {}
    for column, keys in enumerate(order):
        y = TOP + (tallest - stacks[column]) / 2
        for key in keys:
            height = columns[key][1] * scale
            nodes[key] = Node(
                key, column, columns[key][1], column_x(column), y + (slot(key) - height) / 2, height
            )
            y += slot(key) + NODE_GAP
    position = {key: i for keys in order for i, key in enumerate(keys)}
    ordered = sorted(
        balanced, key=lambda f: (nodes[f.source].column, position[f.source], position[f.target])
    )
    # Bands leave a node in the order of their targets and enter it in the order of their sources,
    # so that no two bands of one node cross each other.
    leaving = {key: node.y for key, node in nodes.items()}
    source_y = []
    for flow in ordered:
        source_y.append(leaving[flow.source])
        leaving[flow.source] += flow.cents * scale
    entering = {key: node.y for key, node in nodes.items()}
    target_y: dict[int, Fraction] = {}
    for i in sorted(
        range(len(ordered)),
        key=lambda i: (position[ordered[i].target], position[ordered[i].source]),
    ):
        target_y[i] = entering[ordered[i].target]
        entering[ordered[i].target] += ordered[i].cents * scale
    links = [
        Link(f.source, f.target, f.cents, f.cents * scale, source_y[i], target_y[i])
        for i, f in enumerate(ordered)
    ]
    size = int(TOP + tallest + BOTTOM + 1)
    return Layout(nodes=nodes, links=links, width=WIDTH, height=size, scale=scale)


def _n(value: Fraction | int) -> str:
    """A coordinate with at most two decimals."""
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _wrap(text: str) -> list[str]:
    """At most two lines of NAME_CHARS; what does not fit ends in an ellipsis."""
    lines = textwrap.wrap(text, NAME_CHARS) or [""]
    if len(lines) > 2:
        lines = [lines[0], lines[1][: NAME_CHARS - 1] + "…"]
    return [line if len(line) <= NAME_CHARS else line[: NAME_CHARS - 1] + "…" for line in lines]


def _band(link: Link, source: Node, target: Node) -> str:
    x0, x1 = source.x + NODE_WIDTH, target.x
    middle = Fraction(x0 + x1, 2)
    top0, top1 = link.source_y, link.target_y
    bottom0, bottom1 = top0 + link.width, top1 + link.width
    return (
        f"M{_n(x0)} {_n(top0)}C{_n(middle)} {_n(top0)} {_n(middle)} {_n(top1)} {_n(x1)} {_n(top1)}"
        f"L{_n(x1)} {_n(bottom1)}C{_n(middle)} {_n(bottom1)} {_n(middle)} {_n(bottom0)} "
        f"{_n(x0)} {_n(bottom0)}Z"
    )


def _amount_lines(node: Node, drawn: Layout) -> list[str]:
    if node.column != COMMITTEES:
        return [money(node.cents)]
    received = sum(link.cents for link in drawn.incoming(node.key) if link.source != EARLIER)
    invested = sum(link.cents for link in drawn.outgoing(node.key) if link.target != UNSPENT)
    return [
        _("received %(amount)s", amount=money(received)),
        _("invested %(amount)s", amount=money(invested)),
    ]


def _text(x: int, center: Fraction, bold: list[str], plain: list[str], anchor: str) -> str:
    lines = [(line, True) for line in bold] + [(line, False) for line in plain]
    top = center - Fraction(LINE * len(lines), 2) + LINE - 4
    spans = "".join(
        f'<tspan x="{x}" y="{_n(top + i * LINE)}"{BOLD if heavy else ""}>{escape(line)}</tspan>'
        for i, (line, heavy) in enumerate(lines)
    )
    return (
        f'<text text-anchor="{anchor}" paint-order="stroke" stroke="#fffdf7" stroke-width="3" '
        f'stroke-linejoin="round">{spans}</text>'
    )


def _namer(labels: Mapping[str, str]) -> Callable[[str], str]:
    def name(key: str) -> str:
        if key in labels:
            return labels[key]
        if key in _SYNTHETIC_LABELS:
            return str(_SYNTHETIC_LABELS[key])
        if key.startswith(CATEGORY) and key[len(CATEGORY) :] in CATEGORY_LABELS:
            return str(CATEGORY_LABELS[key[len(CATEGORY) :]])
        return key

    return name


def render_sankey(
    flows: list[Flow],
    labels: Mapping[str, str],
    *,
    title: str | None = None,
    ident: str = "sankey",
) -> Markup:
    """The flows as an accessible SVG (``role="img"``, a title and a description that states every
    flow). ``labels`` names the nodes (org id or ``category:<code>`` -> text); categories and the
    balances have default names. ``ident`` keeps the ids unique when a page shows two pictures.
    Every text is escaped; the drawing scales to its container (a viewBox and width 100 %)."""
    drawn = layout(flows)
    name = _namer(labels)
    heading = title or _("Premium flows")
    sentences = [
        _(
            "%(source)s to %(target)s: %(amount)s.",
            source=name(lk.source),
            target=name(lk.target),
            amount=money(lk.cents),
        )
        for lk in drawn.links
    ]
    description = " ".join(sentences) or _("No premium has been paid or invested yet.")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sankey" role="img" '
        f'viewBox="0 0 {drawn.width} {drawn.height}" width="100%" font-family="system-ui, sans-serif" '
        f'font-size="12" aria-labelledby="{ident}-title {ident}-desc">',
        f'<title id="{ident}-title">{escape(heading)}</title>',
        f'<desc id="{ident}-desc">{escape(description)}</desc>',
    ]
    if not drawn.nodes:
        parts.append(
            f'<text x="{WIDTH // 2}" y="{TOP - 8}" text-anchor="middle" fill="#5a5248">'
            f"{escape(_('No premium has been paid or invested yet.'))}</text></svg>"
        )
        return Markup("".join(parts))  # noqa: S704 - every text above went through escape()
    for column, (heading_text, anchor) in enumerate(
        ((_("Buyers"), "end"), (_("Premium committees"), "middle"), (_("Investments"), "start"))
    ):
        x = column_x(column) + (NODE_WIDTH if anchor == "start" else 0)
        x += NODE_WIDTH // 2 if anchor == "middle" else 0
        parts.append(
            f'<text x="{x}" y="16" text-anchor="{anchor}" font-weight="bold" fill="#5a5248">'
            f"{escape(heading_text)}</text>"
        )
    for link in drawn.links:
        source, target = drawn.nodes[link.source], drawn.nodes[link.target]
        synthetic = EARLIER in (link.source, link.target) or UNSPENT in (link.source, link.target)
        fill = (
            'fill="#d9cfb8" fill-opacity="0.6"'
            if synthetic
            else 'fill="#c9a227" fill-opacity="0.45"'
        )
        tip = f"{name(link.source)} → {name(link.target)}: {money(link.cents)}"
        parts.append(
            f'<path d="{_band(link, source, target)}" {fill} stroke="none">'
            f"<title>{escape(tip)}</title></path>"
        )
    for node in drawn.nodes.values():
        synthetic = node.key in (EARLIER, UNSPENT)
        amounts = _amount_lines(node, drawn)
        fill = "#a89f8c" if synthetic else "#7a5c00"
        parts.append(
            f"<g><title>{escape(' · '.join([name(node.key), *amounts]))}</title>"
            f'<rect x="{node.x}" y="{_n(node.y)}" width="{NODE_WIDTH}" height="{_n(node.height)}" '
            f'fill="{fill}"/>'
        )
        center = node.y + node.height / 2
        if node.column == BUYERS:
            parts.append(_text(node.x - 6, center, _wrap(name(node.key)), amounts, "end"))
        else:
            parts.append(
                _text(node.x + NODE_WIDTH + 6, center, _wrap(name(node.key)), amounts, "start")
            )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()


def flow_labels(session: Session, flows: Iterable[Flow]) -> dict[str, str]:
    """The names of the organizations in ``flows`` (their registered names; ids otherwise)."""
    ids = {key for f in flows for key in (f.source, f.target) if not key.startswith(CATEGORY)}
    if not ids:
        return {}
    rows = session.execute(
        select(Organization.id, Organization.name).where(Organization.id.in_(ids))
    )
    return {org_id: name for org_id, name in rows.all()}
