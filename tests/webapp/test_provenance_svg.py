"""The provenance picture: two mines merged into grain, then made into a piece."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from flask import Flask, render_template_string
from sqlalchemy.orm import Session

from builders import Chain, certified_chain, register, sell
from goldtrace.domain.lots import OutputSpec
from goldtrace.services import lots
from goldtrace.services.context import Context
from goldtrace.services.provenance import provenance
from goldtrace.webapp.provenance_svg import provenance_context

SVG = "{http://www.w3.org/2000/svg}"
MALICIOUS = '<script>alert("x")</script> & Co'


@pytest.fixture
def piece(ledger: Session, ctx: Context) -> tuple[Chain, list[str]]:
    """Lots of two mines sold to the jeweler, merged, then manufactured into one piece; returns the
    chain and the lot ids, the piece last."""
    chain = certified_chain(ledger, ctx)
    first = register(ledger, ctx, chain.mine, mass_mg=1_000_000, fineness=9_000)
    second = register(
        ledger,
        ctx,
        chain.eco_mine,
        mass_mg=500_000,
        fineness=9_500,
        category="fairmined_ecological",
    )
    sell(ledger, ctx, first, chain.mine, chain.jeweler)
    sell(ledger, ctx, second, chain.eco_mine, chain.jeweler)
    grain = lots.transform(
        ledger,
        ctx,
        actor=chain.jeweler,
        kind="merge",
        inputs=[first, second],
        outputs=[OutputSpec(id="", form="grain", mass_mg=1_400_000, fineness=9_800)],
    ).lots[0]
    made = lots.transform(
        ledger,
        ctx,
        actor=chain.jeweler,
        kind="manufacture",
        inputs=[grain.id],
        outputs=[
            OutputSpec(
                id="", form="jewelry_item", mass_mg=1_800_000, fineness=7_500, reference=MALICIOUS
            )
        ],
        alloy_mass_mg=400_000,
    ).lots[0]
    return chain, [first, second, grain.id, made.id]


def drawn(app: Flask, session: Session, lot_id: str) -> tuple[str, ET.Element, bool]:
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        context = provenance_context(provenance(session, lot_id))
    svg = str(context["provenance_svg"])
    # Our own output, parsed to prove it is well-formed XML.
    return svg, ET.fromstring(svg), context["provenance_verified"]  # noqa: S314


def node_x(root: ET.Element, lot_id: str) -> int:
    for group in root.iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        if title is not None and (title.text or "").startswith(lot_id):
            rect = group.find(f"{SVG}rect")
            assert rect is not None
            return int(rect.attrib["x"])
    raise AssertionError(f"no node for {lot_id}")


def test_the_picture_names_both_mines_and_every_lot_in_well_formed_svg(
    app: Flask, ledger: Session, piece: tuple[Chain, list[str]]
) -> None:
    _chain, ids = piece
    _svg, root, verified = drawn(app, ledger, ids[-1])

    text = " ".join(root.itertext())
    assert root.tag == f"{SVG}svg" and root.attrib["role"] == "img"
    assert "CECOMIP" in text and "Oro Puno" in text
    assert all(lot_id in text for lot_id in ids)
    assert verified
    labelled_by = root.attrib["aria-labelledby"].split()
    assert [root.find(f"{SVG}title"), root.find(f"{SVG}desc")] == [
        next(e for e in root.iter() if e.attrib.get("id") == i) for i in labelled_by
    ]
    assert "viewBox" in root.attrib and root.attrib["width"] == "100%"


def test_edges_say_what_happened_and_the_piece_is_on_the_right(
    app: Flask, ledger: Session, piece: tuple[Chain, list[str]]
) -> None:
    chain, (first, second, grain, made) = piece
    _svg, root, _verified = drawn(app, ledger, made)

    text = " ".join(root.itertext())
    for words in ("registered", f"sold to {chain.jeweler}", "received, 1,000.000 g", "merged"):
        assert words in text
    assert "manufactured" in text
    assert "loss 3.000 g" in text  # 1,375 g of fine gold in, 1,372 g out
    assert node_x(root, first) == node_x(root, second) < node_x(root, grain) < node_x(root, made)


def test_every_text_is_escaped(app: Flask, ledger: Session, piece: tuple[Chain, list[str]]) -> None:
    _chain, ids = piece
    svg, root, _verified = drawn(app, ledger, ids[-1])

    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    assert MALICIOUS in " ".join(root.itertext())


def test_the_panel_shows_the_picture_and_whether_it_verifies(
    app: Flask, ledger: Session, piece: tuple[Chain, list[str]]
) -> None:
    _chain, ids = piece
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        context = provenance_context(provenance(ledger, ids[-1]))
        page = render_template_string('{% include "lots/provenance_panel.html" %}', **context)
        unverified = render_template_string(
            '{% include "lots/provenance_panel.html" %}',
            **{**context, "provenance_verified": False},
        )
        nothing = render_template_string('{% include "lots/provenance_panel.html" %}')
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page
    assert 'class="verdict ok"' in page
    assert 'class="verdict bad"' in unverified
    assert nothing.strip() == ""
