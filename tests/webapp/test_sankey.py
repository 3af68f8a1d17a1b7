"""The premium flows picture: its widths add up, it states the amounts, it is well-formed and escaped.

The geometry is checked exactly on ``layout`` (fractions of a pixel), the drawing on the SVG itself.
No database: the picture is a function of the flows.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from fractions import Fraction
from itertools import pairwise

import pytest
from flask import Flask
from flask_babel import force_locale
from hypothesis import given
from hypothesis import strategies as st

from goldtrace.domain.premiums import INVESTMENT_CATEGORIES
from goldtrace.services.premiums import Flow
from goldtrace.webapp import i18n
from goldtrace.webapp.sankey import (
    COMMITTEES,
    EARLIER,
    FLOW_HEIGHT,
    UNSPENT,
    Layout,
    layout,
    render_sankey,
)

SVG = "{http://www.w3.org/2000/svg}"
MALICIOUS = '<script>alert("x")</script> & "Co" \'s'

FLOWS = [
    Flow("andes", "cecomip", 500_000),
    Flow("andes", "oro-puno", 300_000),
    Flow("joyas", "oro-puno", 120_000),
    Flow("refiner", "macdesa", 2_000),
    Flow("cecomip", "category:workers_welfare", 200_000),
    Flow("cecomip", "category:community", 100_000),
    Flow("oro-puno", "category:environment", 150_000),
    Flow("oro-puno", "category:gender_equity", 300_000),
    Flow("macdesa", "category:community", 9_000),
]
# Oro Puno invested 4500.00 of the 4200.00 it received (300.00 came from earlier), MACDESA 90.00 of
# 20.00; CECOMIP kept 2000.00 of its 5000.00.
RECEIVED = {"cecomip": 500_000, "oro-puno": 420_000, "macdesa": 2_000}
INVESTED = {"cecomip": 300_000, "oro-puno": 450_000, "macdesa": 9_000}


@pytest.fixture
def app() -> Iterator[Flask]:
    """Just enough of an application to format money and translate (no database)."""
    flask_app = Flask(__name__)
    i18n.install(flask_app)
    with flask_app.test_request_context():
        yield flask_app


def drawn(flows: list[Flow], labels: dict[str, str] | None = None, locale: str = "es") -> str:
    with force_locale(locale):
        return str(render_sankey(flows, labels or {}))


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, parsed to prove it is well-formed


def check_conservation(picture: Layout) -> None:
    """Every node is as tall as the bands that enter it and as those that leave it, and the bands
    tile each side of a node from its top to its bottom without gaps or overlaps."""
    for key, node in picture.nodes.items():
        assert node.height == node.cents * picture.scale
        incoming, outgoing = picture.incoming(key), picture.outgoing(key)
        if incoming:
            assert sum(link.width for link in incoming) == node.height
            tops = sorted((link.target_y, link.width) for link in incoming)
            assert tops[0][0] == node.y
            for (top, width), (following, _w) in pairwise(tops):
                assert top + width == following
        if outgoing:
            assert sum(link.width for link in outgoing) == node.height
            tops = sorted((link.source_y, link.width) for link in outgoing)
            assert tops[0][0] == node.y
            for (top, width), (following, _w) in pairwise(tops):
                assert top + width == following
    for link in picture.links:
        assert link.width == link.cents * picture.scale


def test_the_widths_add_up_at_every_committee() -> None:
    picture = layout(FLOWS)
    check_conservation(picture)
    for committee, received in RECEIVED.items():
        node = picture.nodes[committee]
        assert node.column == COMMITTEES
        incoming = picture.incoming(committee)
        assert sum(link.width for link in incoming) == node.height
        paid = [link for link in incoming if link.source != EARLIER]
        assert sum(link.width for link in paid) == received * picture.scale
        invested = [link for link in picture.outgoing(committee) if link.target != UNSPENT]
        assert sum(link.width for link in invested) == INVESTED[committee] * picture.scale
    assert picture.nodes[UNSPENT].cents == 200_000
    assert picture.nodes[EARLIER].cents == 30_000 + 7_000


def test_one_scale_for_the_whole_picture_and_every_column_the_same_height() -> None:
    picture = layout(FLOWS)
    for column in range(3):
        total = sum(n.height for n in picture.nodes.values() if n.column == column)
        assert total == FLOW_HEIGHT
    andes_cecomip = next(lk for lk in picture.links if lk.target == "cecomip")
    refiner_macdesa = next(lk for lk in picture.links if lk.source == "refiner")
    assert andes_cecomip.width == 250 * refiner_macdesa.width


def test_nodes_of_a_column_do_not_overlap_and_fit_the_drawing() -> None:
    picture = layout(FLOWS)
    for column in range(3):
        nodes = sorted((n for n in picture.nodes.values() if n.column == column), key=lambda n: n.y)
        for upper, lower in pairwise(nodes):
            assert upper.y + upper.height < lower.y
        assert nodes[0].y > 0 and nodes[-1].y + nodes[-1].height < picture.height


flows_strategy = st.lists(
    st.builds(
        Flow,
        source=st.sampled_from(["b1", "b2", "b3"]),
        target=st.sampled_from(["m1", "m2"]),
        cents=st.integers(min_value=0, max_value=10**9),
    ),
    max_size=6,
).flatmap(
    lambda paid: st.lists(
        st.builds(
            Flow,
            source=st.sampled_from(["m1", "m2", "m3"]),
            target=st.sampled_from([f"category:{c}" for c in INVESTMENT_CATEGORIES]),
            cents=st.integers(min_value=1, max_value=10**9),
        ),
        max_size=6,
    ).map(lambda spent: paid + spent)
)


@given(flows_strategy)
def test_the_widths_add_up_for_any_flows(flows: list[Flow]) -> None:
    picture = layout(flows)
    check_conservation(picture)
    for key, node in picture.nodes.items():
        if node.column != COMMITTEES:
            continue
        received = sum(f.cents for f in flows if f.target == key)
        invested = sum(f.cents for f in flows if f.source == key)
        assert sum(lk.width for lk in picture.incoming(key)) == node.height
        real_in = [lk for lk in picture.incoming(key) if lk.source != EARLIER]
        assert sum(lk.width for lk in real_in) == received * picture.scale
        real_out = [lk for lk in picture.outgoing(key) if lk.target != UNSPENT]
        assert sum(lk.width for lk in real_out) == invested * picture.scale
        assert node.cents == max(received, invested)


def test_the_svg_draws_the_layout_and_is_well_formed(app: Flask) -> None:
    picture = layout(FLOWS)
    svg = drawn(FLOWS, {key: key for key in picture.nodes})  # names are the keys
    root = parsed(svg)
    assert root.tag == f"{SVG}svg"
    assert root.attrib["role"] == "img"
    assert root.attrib["viewBox"] == f"0 0 {picture.width} {picture.height}"
    assert root.attrib["width"] == "100%"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert root.attrib["aria-labelledby"] == f"{title.attrib['id']} {desc.attrib['id']}"
    assert "style" not in svg  # the page's CSP allows no inline styles
    groups = list(root.iter(f"{SVG}g"))
    assert len(groups) == len(picture.nodes)
    assert len(list(root.iter(f"{SVG}path"))) == len(picture.links)
    for group in groups:
        name = (group.findtext(f"{SVG}title") or "").split(" · ")[0]
        node = picture.nodes[name]
        rect = group.find(f"{SVG}rect")
        assert rect is not None
        assert float(rect.attrib["y"]) == pytest.approx(float(node.y), abs=0.005)
        assert float(rect.attrib["height"]) == pytest.approx(float(node.height), abs=0.005)


def band_width(d: str) -> float:
    """The height of a band at its source end, from its path ("M x y C ... L x y C ... x y Z")."""
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
    top_at_source, bottom_at_source = numbers[1], numbers[-1]
    return bottom_at_source - top_at_source


def test_the_drawn_bands_add_up_to_each_committee_bar(app: Flask) -> None:
    root = parsed(drawn(FLOWS, {"cecomip": "CECOMIP"}))
    bar = next(
        g.find(f"{SVG}rect")
        for g in root.iter(f"{SVG}g")
        if (g.findtext(f"{SVG}title") or "").startswith("CECOMIP")
    )
    assert bar is not None
    into = [
        band_width(p.attrib["d"])
        for p in root.iter(f"{SVG}path")
        if "→ CECOMIP:" in (p.findtext(f"{SVG}title") or "")
    ]
    out = [
        band_width(p.attrib["d"])
        for p in root.iter(f"{SVG}path")
        if (p.findtext(f"{SVG}title") or "").startswith("CECOMIP →")
    ]
    assert len(into) == 1 and len(out) == 3
    height = float(bar.attrib["height"])
    assert sum(into) == pytest.approx(height, abs=0.02)
    assert sum(out) == pytest.approx(height, abs=0.03)


def test_the_amounts_are_shown_in_the_visitors_format(app: Flask) -> None:
    labels = {"andes": "Andes Trading", "cecomip": "CECOMIP"}
    spanish = drawn(FLOWS, labels, "es")
    assert "USD 8.000,00" in spanish  # all Andes Trading paid
    assert "USD 5.000,00" in spanish  # what CECOMIP received
    assert "USD 2.000,00" in spanish  # CECOMIP workers' welfare and what it kept
    english = drawn(FLOWS, labels, "en")
    assert "USD 8,000.00" in english and "received USD 5,000.00" in english
    assert "invested USD 3,000.00" in english
    desc = parsed(english).findtext(f"{SVG}desc") or ""
    assert "Andes Trading to CECOMIP: USD 5,000.00." in desc
    assert "CECOMIP to Community: USD 1,000.00." in desc


def test_every_text_is_escaped(app: Flask) -> None:
    flows = [Flow("evil", "cecomip", 100), Flow("cecomip", "category:community", 50)]
    svg = drawn(flows, {"evil": MALICIOUS, "cecomip": MALICIOUS}, "en")
    assert "<script>" not in svg
    root = parsed(svg)
    texts = " ".join(root.itertext())
    assert '<script>alert("x")' in texts  # shown as text, cut to fit
    assert MALICIOUS in (root.findtext(f"{SVG}desc") or "")
    assert root.find(f".//{SVG}script") is None


def test_no_flows_is_a_valid_picture_that_says_so(app: Flask) -> None:
    assert layout([]).nodes == {} and layout([Flow("a", "b", 0)]).links == []
    root = parsed(drawn([], locale="en"))
    assert "No premium has been paid or invested yet." in " ".join(root.itertext())


def test_a_buyer_that_is_also_a_committee_is_refused() -> None:
    with pytest.raises(ValueError, match="both a buyer and a committee"):
        layout([Flow("m1", "m2", 1), Flow("x", "m1", 1)])


def test_scale_is_exact() -> None:
    assert layout([Flow("b", "m", 3)]).scale == Fraction(FLOW_HEIGHT, 3)
