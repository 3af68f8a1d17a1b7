"""The laundering rules in a real browser: an association of pickers registers ore by choosing a
registered member, her 66 g ceiling refuses the next lot in Spanish, and the standard body reviews a
flag and reads the risk page."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from browsing import ADMIN, _, as_person, screenshot

PICKERS = "operador@pallaqueras-cerro-lunar.example"
PICKER_CEILING = "Una pallaquera puede vender como máximo 66 g al mes."


def test_a_picker_is_chosen_from_the_registry_and_her_ceiling_holds_on_a_phone(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = as_person(new_context, PICKERS, phone=True)

    def register(mass: str, fineness: str) -> int:
        page.get_by_role("navigation").get_by_role(
            "link", name=_("Register a lot"), exact=True
        ).click()
        page.get_by_label(_("Form"), exact=True).select_option("ore")
        page.get_by_label(_("Mass (g)"), exact=True).fill(mass)
        page.get_by_label(_("Fineness (‰)"), exact=True).fill(fineness)
        page.get_by_label(_("Category"), exact=True).select_option("none")
        picker = page.get_by_label(_("Ore picker (pallaquera) who sold this ore"))
        # Registered members only: no free text for a made-up id.
        expect(
            picker.locator("option", has_text="Juana Quispe Mamani (DNI 40112233)")
        ).to_have_count(1)
        picker.select_option("DNI:40112233")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.get_by_role("button", name=_("Register"), exact=True).click()
        return answer.value.status

    # The demo sold 38,25 g through her already; 20 g more fit, 10 g after that do not.
    assert register("2000", "10") == 302
    expect(page).to_have_url(re.compile(r"/lots/[^/?#]+$"))
    assert register("1000", "10") == 422
    expect(page.get_by_role("alert")).to_have_text(PICKER_CEILING)
    screenshot(page, "picker-ceiling-phone")


def test_the_standard_body_reviews_a_flag_and_reads_the_risk_page(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = as_person(new_context, ADMIN)
    page.goto("/flags")
    row = page.get_by_role("row").filter(has_text=_("Possible duplicate registration"))
    expect(row).to_have_count(1)
    expect(row).to_contain_text(_("review"))
    row.get_by_label(_("Outcome")).select_option("cleared")
    row.get_by_label(_("What you found")).fill("Dos bolsas del mismo día, pesadas por separado")
    row.get_by_role("button", name=_("Record the review")).click()
    expect(page.get_by_role("status").or_(page.locator(".flash.ok"))).to_contain_text("revisada")
    page.goto("/flags?show=reviewed")
    expect(page.get_by_role("main")).to_contain_text("Dos bolsas del mismo día")
    expect(page.get_by_role("main")).to_contain_text(ADMIN)

    page.goto("/risk")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("svg.risk-chart").first).to_be_visible()
    screenshot(page, "risk-desktop")
