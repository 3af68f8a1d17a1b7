"""A lot's whole journey through the browser, as the people in the chain walk it, in Spanish (the
default): the mine registers and sells it, the trader weighs it light and ships it on, the refiner
refines it, the jeweler makes a ring of it, the ring's page shows where its gold came from, and the
auditor verifies the whole ledger. Labels come from the same compiled catalog the server uses."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from browsing import (
    AUDITOR,
    JEWELER,
    MINE,
    REFINER,
    TRADER,
    _,
    as_person,
    choose,
    fact,
    lot_id_from,
    screenshot,
)

TRADER_NAME = "Andes Gold Trading S.A.C. (ficticia)"
REFINER_NAME = "Refinería del Sur S.A. (ficticia)"
JEWELER_NAME = "Asociación Divinas en Brillo de Oro"
LOT_PAGE = re.compile(r"/lots/[^/?#]+$")


def go(page: Page, menu_item: str) -> None:
    """Follow a link of the main menu."""
    page.get_by_role("navigation").get_by_role("link", name=_(menu_item), exact=True).click()


def expect_flash(page: Page, message: str) -> None:
    """The page tells the person ``message`` (a flashed line after a form)."""
    expect(page.get_by_text(message, exact=True)).to_be_visible()


def receive(page: Page, lot_id: str, *, mass: str | None = None) -> None:
    """From the inventory, open the incoming lot and receive it (at the mass prefilled, or ``mass``)."""
    go(page, "Inventory")
    incoming = page.get_by_role("region", name=_("Incoming: to receive"))
    incoming.get_by_role("link", name=lot_id, exact=True).click()
    page.get_by_role("link", name=_("Receive"), exact=True).click()
    expect(page.get_by_role("heading", name=_("Receive lot %(lot)s", lot=lot_id))).to_be_visible()
    if mass is not None:
        page.get_by_label(_("Weighed mass (g)")).fill(mass)
    page.get_by_role("button", name=_("Receive"), exact=True).click()
    expect(page).to_have_url(re.compile(rf"/lots/{lot_id}$"))


def dispatch(page: Page, lot_id: str, to: str) -> None:
    """From the lot's page, send it to the organization named ``to``."""
    page.get_by_role("link", name=_("Dispatch"), exact=True).click()
    expect(page.get_by_role("heading", name=_("Dispatch lot %(lot)s", lot=lot_id))).to_be_visible()
    choose(page.get_by_label(_("Recipient")), to)
    page.get_by_role("button", name=_("Dispatch"), exact=True).click()
    expect(page).to_have_url(re.compile(rf"/lots/{lot_id}$"))
    expect_flash(page, _("Lot %(lot)s dispatched to %(org)s.", lot=lot_id, org=to))


def output(
    page: Page, number: int, form: str, mass: str, fineness: str, reference: str = ""
) -> None:
    """Fill output row ``number`` of the transform page."""
    row = page.get_by_role("group", name=_("Output %(number)s", number=number), exact=True)
    choose(row.get_by_label(_("Form"), exact=True), _(form))
    row.get_by_label(_("Mass (g)"), exact=True).fill(mass)
    row.get_by_label(_("Fineness (‰)"), exact=True).fill(fineness)
    if reference:
        row.get_by_label(_("Reference (optional)")).fill(reference)


def test_a_lot_from_the_mine_to_a_piece_of_jewelry(
    new_context: Callable[..., BrowserContext],
) -> None:
    # 1. The mine registers a doré lot: 250 g at 880 per mille, 220 g of fine gold...
    mine = as_person(new_context, MINE)
    go(mine, "Register a lot")
    choose(mine.get_by_label(_("Form"), exact=True), _("doré"))
    mine.get_by_label(_("Mass (g)"), exact=True).fill("250")
    mine.get_by_label(_("Fineness (‰)"), exact=True).fill("880")
    choose(mine.get_by_label(_("Category"), exact=True), _("Fairmined"))
    mine.get_by_label(_("Your reference")).fill("E2E-CEC-001")
    mine.get_by_role("button", name=_("Register"), exact=True).click()
    expect(mine).to_have_url(LOT_PAGE)
    dore = lot_id_from(mine)
    expect_flash(mine, _("Lot %(lot)s registered.", lot=dore))
    expect(mine.get_by_role("heading", name=_("Lot %(lot)s", lot=dore))).to_be_visible()
    expect(mine.get_by_text("220,000 g", exact=True)).to_be_visible()

    # ... and sells it to the trader at USD 84,50 a gram against a reference of USD 85.
    mine.get_by_role("link", name=_("Dispatch"), exact=True).click()
    choose(mine.get_by_label(_("Recipient")), TRADER_NAME)
    mine.get_by_label(_("Price (USD per gram of fine gold)")).fill("84,50")
    mine.get_by_label(_("Reference international price (USD per gram)")).fill("85")
    mine.get_by_role("button", name=_("Dispatch"), exact=True).click()
    expect_flash(mine, _("Lot %(lot)s dispatched to %(org)s.", lot=dore, org=TRADER_NAME))

    # 2. The trader weighs it 0,5 g light: the difference shows as they type, and is flagged.
    trader = as_person(new_context, TRADER)
    go(trader, "Inventory")
    incoming = trader.get_by_role("region", name=_("Incoming: to receive"))
    incoming.get_by_role("link", name=dore, exact=True).click()
    trader.get_by_role("link", name=_("Receive"), exact=True).click()
    trader.get_by_label(_("Weighed mass (g)")).fill("249,5")
    difference = "-0,500 g (-0,20 %)"
    hint = _("Difference from the dispatched mass: %(difference)s", difference=difference)
    expect(trader.get_by_text(hint, exact=True)).to_be_visible()
    trader.get_by_role("button", name=_("Receive"), exact=True).click()
    expect(trader).to_have_url(re.compile(rf"/lots/{dore}$"))
    expect_flash(
        trader,
        _(
            "Lot %(lot)s received: %(mass)s g weighed, %(difference)s against the dispatched mass.",
            lot=dore,
            mass="249,500",
            difference=difference,
        ),
    )
    expect_flash(
        trader, _("The difference is beyond the tolerance: it is flagged for the auditor.")
    )
    dispatch(trader, dore, REFINER_NAME)

    # 3. The refiner receives it and refines it; the preview adds up the fine gold as they type.
    refiner = as_person(new_context, REFINER)
    receive(refiner, dore)
    go(refiner, "Transform")
    choose(refiner.get_by_label(_("Kind of transformation")), _("Refine"))
    refiner.get_by_label(dore, exact=True).check()
    preview = refiner.get_by_role("region", name=_("Preview"))
    # 249,5 g at 880 per mille hold 219,560 g of fine gold.
    expect(preview).to_contain_text(re.compile(rf"{re.escape(_('Fine gold in'))}\s*219,560 g"))
    output(refiner, 1, "grain", "219", "999,9", "E2E-RS-GRANO")
    # 219 g at 999,9 per mille hold 218,978 g: a loss of 0,582 g, 0,26 %.
    expect(preview).to_contain_text(re.compile(rf"{re.escape(_('Fine gold out'))}\s*218,978 g"))
    expect(preview).to_contain_text(re.compile(r"0,582 g\s*\(0,26 %\)"))
    screenshot(refiner, "transform-desktop")
    refiner.get_by_role("button", name=_("Record the transformation")).click()
    expect(refiner).to_have_url(LOT_PAGE)
    grain = lot_id_from(refiner)
    assert grain != dore
    expect_flash(refiner, _("Recorded. New lots: %(lots)s", lots=grain))
    dispatch(refiner, grain, JEWELER_NAME)

    # 4. The jeweler receives the grain and makes an 18k ring and a sheet, adding alloy metal.
    jeweler = as_person(new_context, JEWELER)
    receive(jeweler, grain)
    go(jeweler, "Transform")
    choose(jeweler.get_by_label(_("Kind of transformation")), _("Manufacture"))
    jeweler.get_by_label(grain, exact=True).check()
    output(jeweler, 1, "jewelry item", "20", "750", "Anillo E2E 18k")
    jeweler.get_by_text(_("More outputs (for a split or several pieces)")).click()
    output(jeweler, 2, "semi-finished", "271,9", "750", "Lámina E2E 18k")
    jeweler.get_by_label(_("Alloy metal added (g)")).fill("72,9")
    preview = jeweler.get_by_role("region", name=_("Preview"))
    # 15 g of fine gold in the ring and 203,925 g in the sheet.
    expect(preview).to_contain_text(re.compile(rf"{re.escape(_('Fine gold in'))}\s*218,978 g"))
    expect(preview).to_contain_text(re.compile(rf"{re.escape(_('Fine gold out'))}\s*218,925 g"))
    jeweler.get_by_role("button", name=_("Record the transformation")).click()
    expect(jeweler).to_have_url(LOT_PAGE)
    ring = lot_id_from(jeweler)

    # 5. The ring's page says where its gold came from: CECOMIP, in a table and in a picture.
    expect(jeweler.get_by_role("heading", name=_("Lot %(lot)s", lot=ring))).to_be_visible()
    origins = jeweler.get_by_role("region", name=_("Origins of its gold"))
    expect(origins).to_contain_text("CECOMIP")
    picture = jeweler.get_by_role("img", name=_("Provenance of lot %(lot)s", lot=ring))
    expect(picture).to_be_visible()
    expect(picture).to_contain_text("CECOMIP")
    # The lots it came through are in the picture too: the doré and the grain.
    expect(picture).to_contain_text(dore)
    expect(picture).to_contain_text(grain)
    # And the premium its gold carried to CECOMIP's committee: 15 g at USD 4 000 per kg.
    premium = jeweler.get_by_role("region", name=_("Fairmined premium this gold carried"))
    expect(
        fact(premium, "Central de Cooperativas Minero Metalúrgicas de Puno (CECOMIP)")
    ).to_have_text("USD 60,00")
    screenshot(jeweler, "lot-provenance-desktop")
    phone = as_person(new_context, JEWELER, phone=True)
    phone.goto(f"/lots/{ring}")
    expect(phone.get_by_role("img", name=_("Provenance of lot %(lot)s", lot=ring))).to_be_visible()
    screenshot(phone, "lot-provenance-phone")

    # 6. The auditor sees the trader's weight discrepancy and verifies the whole ledger.
    auditor = as_person(new_context, AUDITOR)
    go(auditor, "Flags")
    flagged = auditor.get_by_role("row").filter(has_text=dore)
    expect(flagged).to_contain_text(_("Received lighter than dispatched"))
    expect(flagged).to_contain_text(_("review"))
    go(auditor, "Ledger")
    size = int(fact(auditor.get_by_role("main"), _("Entries")).inner_text())
    auditor.get_by_role("button", name=_("Verify now")).click()
    verification = auditor.get_by_role("region", name=_("Verification"))
    expect(verification.get_by_text(_("The ledger is intact."), exact=True)).to_be_visible(
        timeout=60_000
    )
    # Every entry was checked, up to the last one the chain above added.
    expect(fact(verification, _("Entries checked"))).to_have_text(str(size))
    # The status the progress bar polls ended at the end: all entries done, verdict ok.
    job = re.search(r"[?&]job=([^&#]+)", auditor.url)
    assert job, auditor.url
    status = auditor.request.get(f"/ledger/verify/{job.group(1)}").json()
    assert status["state"] == "done" and status["ok"] is True
    assert status["done"] == status["total"] == size
    screenshot(auditor, "ledger-verify-desktop")
