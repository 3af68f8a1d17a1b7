"""The ledger's rules, met through the forms: a refusal is a readable Spanish sentence next to the
form as typed, and nothing is written."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from browsing import MINE, _, as_person, choose, login, lot_id_from, screenshot

PRICE_TOO_LOW = (
    "El precio está por debajo del mínimo Fairmined: el 95 por ciento del precio de referencia."
)
ABOVE_CAPACITY = (
    "Este lote llevaría a la mina por encima de lo que puede producir en 30 días. "
    "El organismo de normalización puede revisar una excepción."
)


def register(page: Page, mass: str, fineness: str, reference: str) -> int:
    """Register a Fairmined lot through the form; return the status the form's POST answered."""
    page.get_by_role("navigation").get_by_role("link", name=_("Register a lot"), exact=True).click()
    page.get_by_label(_("Mass (g)"), exact=True).fill(mass)
    page.get_by_label(_("Fineness (‰)"), exact=True).fill(fineness)
    choose(page.get_by_label(_("Category"), exact=True), _("Fairmined"))
    page.get_by_label(_("Your reference")).fill(reference)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name=_("Register"), exact=True).click()
    return answer.value.status


def test_a_first_sale_below_95_percent_of_the_reference_is_refused_on_a_phone(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = as_person(new_context, MINE, phone=True)
    assert register(page, "12,5", "880", "E2E-PRECIO-BAJO") == 302
    expect(page).to_have_url(re.compile(r"/lots/[^/?#]+$"))
    lot = lot_id_from(page)

    page.get_by_role("link", name=_("Dispatch"), exact=True).click()
    choose(page.get_by_label(_("Recipient")), "Andes Gold Trading")
    # USD 80 is 94,3 % of the demo's recorded reference (USD 84,88 a gram; the stated 85 is within
    # 2 % of it): below the Fairmined minimum.
    page.get_by_label(_("Price (USD per gram of fine gold)")).fill("80")
    page.get_by_label(_("Reference international price (USD per gram)")).fill("85")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name=_("Dispatch"), exact=True).click()
    assert answer.value.status == 422
    expect(page.get_by_role("alert")).to_have_text(PRICE_TOO_LOW)
    # The form comes back as typed, so the person corrects one number.
    expect(page.get_by_label(_("Price (USD per gram of fine gold)"))).to_have_value("80")
    screenshot(page, "dispatch-refused-phone")

    # Nothing was written: the lot is still on hand, not in transit.
    page.goto(f"/lots/{lot}")
    expect(page.get_by_role("link", name=_("Dispatch"), exact=True)).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text(_("in transit"))


def test_a_lot_above_the_mines_capacity_is_refused(page: Page) -> None:
    login(page, MINE)
    # 9 000 g of fine gold on top of what CECOMIP sold this month: above its 9 000 g a month.
    assert register(page, "9000", "999,9", "E2E-DEMASIADO") == 422
    expect(page.get_by_role("alert")).to_have_text(ABOVE_CAPACITY)
    expect(page.get_by_label(_("Mass (g)"), exact=True)).to_have_value("9000")

    page.get_by_role("navigation").get_by_role("link", name=_("Inventory"), exact=True).click()
    expect(page.get_by_role("main")).not_to_contain_text("E2E-DEMASIADO")
