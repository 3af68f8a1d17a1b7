"""What every person meets first: logging in, the dashboard, the language switch, refusals."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from browsing import ADMIN, AUDITOR, MINE, TRADER, _, as_person, login, screenshot


def test_login_page_on_a_phone_refuses_a_wrong_password_in_spanish(phone_page: Page) -> None:
    page = phone_page
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name="Iniciar sesión")).to_be_visible()
    screenshot(page, "login-phone")

    page.get_by_label("Correo electrónico").fill(MINE)
    page.get_by_label("Contraseña").fill("no-es-la-clave")
    page.get_by_role("button", name="Iniciar sesión").click()
    expect(page.get_by_role("alert")).to_have_text("Correo o contraseña incorrectos.")
    expect(page).to_have_url(re.compile(r"/login"))


def test_anonymous_visitor_is_sent_to_login_and_back(page: Page) -> None:
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Correo electrónico").fill(MINE)
    page.get_by_label("Contraseña").fill("oro-justo-2026")
    page.get_by_role("button", name="Iniciar sesión").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))


def test_mine_dashboard_shows_capacity_on_desktop_and_phone(
    new_context: Callable[..., BrowserContext],
) -> None:
    for phone in (False, True):
        page = as_person(new_context, MINE, phone=phone)
        expect(page.get_by_role("heading", name="Panel", exact=True)).to_be_visible()
        if not phone:
            expect(page.get_by_text("operador@cecomip.example · cecomip")).to_be_visible()
        expect(
            page.get_by_role("heading", name="Capacidad usada en los últimos 30 días")
        ).to_be_visible()
        meter = page.get_by_role("meter", name="Capacidad usada en los últimos 30 días")
        expect(meter).to_be_visible()
        used = float(meter.get_attribute("value") or "0")
        limit = float(meter.get_attribute("max") or "0")
        assert 0 < used < limit
        nav = page.get_by_role("navigation")
        expect(nav.get_by_role("link", name="Registrar un lote")).to_be_visible()
        # A mine does not oversee the ledger: no auditor links in its menu.
        expect(nav.get_by_role("link", name="Organizaciones")).to_have_count(0)
        screenshot(page, "dashboard-mine-phone" if phone else "dashboard-mine-desktop")


def test_language_switch_sticks_across_pages(page: Page) -> None:
    login(page, MINE)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name="Panel", exact=True)).to_be_visible()

    page.get_by_role("link", name="EN", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Capacity used in the last 30 days")).to_be_visible()

    # The next page, reached by a link, is still in English.
    page.get_by_role("link", name="Password", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()
    expect(page.get_by_label("Current password")).to_be_visible()

    # And back to Spanish, which sticks too.
    page.get_by_role("link", name="ES", exact=True).click()
    expect(page.get_by_role("heading", name="Cambiar contraseña")).to_be_visible()
    page.get_by_role("link", name="Panel", exact=True).click()
    expect(page.get_by_role("heading", name="Panel", exact=True)).to_be_visible()


def test_mine_operator_is_refused_the_organizations_page(page: Page) -> None:
    login(page, MINE)
    response = page.goto("/organizations")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="No permitido")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("No puede ver esta página.")
    # The way back leads to the person's own dashboard.
    page.get_by_role("main").get_by_role("link", name="Volver").click()
    expect(page.get_by_role("heading", name="Panel", exact=True)).to_be_visible()


def test_trader_is_refused_the_mines_register_page(page: Page) -> None:
    login(page, TRADER)
    expect(
        page.get_by_role("navigation").get_by_role("link", name="Registrar un lote")
    ).to_have_count(0)
    response = page.goto("/lots/new")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="No permitido")).to_be_visible()


def test_form_post_without_csrf_token_is_refused(context: BrowserContext, page: Page) -> None:
    login(page, MINE)
    # The session cookie rides along, the token does not: refused, and nothing happens.
    response = context.request.post("/logout", form={}, max_redirects=0)
    assert response.status == 400
    assert "No se pudo entender la solicitud." in response.text()
    response = context.request.post(
        "/login", form={"email": MINE, "password": "oro-justo-2026"}, max_redirects=0
    )
    assert response.status == 400
    # A lot registered from another site's form would carry no token either.
    response = context.request.post(
        "/lots/new",
        form={
            "form": "dore",
            "mass_g": "10",
            "fineness": "900",
            "category": "fairmined",
            "reference": "E2E-SIN-TOKEN",
        },
        max_redirects=0,
    )
    assert response.status == 400
    page.goto("/lots")
    expect(page.get_by_role("main")).not_to_contain_text("E2E-SIN-TOKEN")
    # Still logged in: the refused logout did not log anyone out.
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("heading", name="Panel", exact=True)).to_be_visible()


def test_only_the_standard_body_reaches_administration(
    new_context: Callable[..., BrowserContext],
) -> None:
    admin = as_person(new_context, ADMIN)
    admin.get_by_role("navigation").get_by_role("link", name=_("Administration")).click()
    expect(admin.get_by_role("heading", name=_("Administration"), level=1)).to_be_visible()

    auditor = as_person(new_context, AUDITOR)
    nav = auditor.get_by_role("navigation")
    expect(nav.get_by_role("link", name=_("Ledger"), exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name=_("Administration"))).to_have_count(0)
    response = auditor.goto("/admin")
    assert response is not None
    assert response.status == 403
    expect(auditor.get_by_role("heading", name="No permitido")).to_be_visible()
