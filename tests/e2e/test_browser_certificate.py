"""A customer scans the QR code of a demo piece: the public page gives the verdict and the mines."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from browsing import screenshot


def certificate_paths(demo_output: str) -> list[str]:
    return re.findall(r"https?://[^/\s]+(/v/[A-Za-z0-9_-]+)", demo_output)


def test_the_qr_url_shows_the_verdict_and_the_mines(phone_page: Page, demo_output: str) -> None:
    paths = certificate_paths(demo_output)
    assert len(paths) == 2, demo_output
    response = phone_page.goto(paths[0])
    assert response is not None and response.status == 200
    main = phone_page.locator("main")
    expect(main).to_contain_text("Anillo Illimani")
    expect(main).to_contain_text("CECOMIP")
    expect(main).to_contain_text("MACDESA")
    expect(main).to_contain_text("Cruz Pata")
    # No login on the way, and no prices on the page.
    assert "/login" not in phone_page.url
    assert "price" not in main.inner_text().lower()
    assert "precio" not in main.inner_text().lower()
    screenshot(phone_page, "certificate-phone", full_page=False)


def test_the_qr_code_encodes_the_public_page(page: Page, demo_output: str) -> None:
    path = certificate_paths(demo_output)[1]
    response = page.request.get(f"{path}/qr.svg")
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
