"""What the browser tests share: the demo's people, logging in, screenshots."""

from __future__ import annotations

import gettext
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Locator, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "web" / "translations" / "es" / "LC_MESSAGES" / "messages.mo"
SCREENSHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "oro-justo-2026"  # the demo's password for every account (services/demo.py)
SECRET = "e2e-secret-key-not-for-production-0123456789"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
# Fail fast: a missing label should cost seconds, not the default 30 s per locator.
TIMEOUT_MS = 10_000

MINE = "operador@cecomip.example"
TRADER = "operador@andes-trading.example"
REFINER = "operador@refineria-sur.example"
JEWELER = "operador@divinas.example"
AUDITOR = "auditoria@auditora-andina.example"
ADMIN = "admin@arm.example"


def login(page: Page, email: str, password: str = PASSWORD) -> None:
    """Log in through the form, in whichever language the page is in, and land on the dashboard."""
    page.goto("/login")
    page.get_by_label("Correo electrónico").or_(page.get_by_label("Email")).fill(email)
    page.get_by_label("Contraseña").or_(page.get_by_label("Password", exact=True)).fill(password)
    page.get_by_role("button", name=re.compile(r"^(Iniciar sesión|Log in)$")).click()
    page.wait_for_url("**/dashboard")


def as_person(
    new_context: Callable[..., BrowserContext], email: str, *, phone: bool = False
) -> Page:
    """A fresh context with ``email`` logged in."""
    p = new_context(phone=phone).new_page()
    login(p, email)
    return p


def screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    """Save docs/screenshots/<name>.png, only when GOLDTRACE_SCREENSHOTS=1 (CI never rewrites them)."""
    if os.environ.get("GOLDTRACE_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.activeElement && document.activeElement.blur()")  # no focus ring
    page.screenshot(
        path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page, animations="disabled"
    )


def choose(select: Locator, text: str) -> None:
    """Select the option of ``select`` whose visible text contains ``text`` (names carry suffixes
    such as "(ficticia) (andes-trading)" that a test should not need to spell out)."""
    labels = [label.strip() for label in select.locator("option").all_inner_texts()]
    matches = [label for label in labels if label == text] or [
        label for label in labels if text in label
    ]
    assert len(matches) == 1, f"{text!r} should match one option of {labels}"
    select.select_option(label=matches[0])


def lot_id_from(page: Page) -> str:
    """The lot id from the URL of a lot page (/lots/<id>)."""
    match = re.search(r"/lots/([^/?#]+)$", page.url)
    assert match, f"not on a lot page: {page.url}"
    return match.group(1)


def _load_spanish() -> gettext.NullTranslations:
    if not CATALOG.exists():  # not compiled: the server falls back to the English text too
        return gettext.NullTranslations()
    with CATALOG.open("rb") as f:
        return gettext.GNUTranslations(f)


_SPANISH = _load_spanish()


def _(message: str, **values: object) -> str:
    """What a Spanish-speaking person reads for ``message``: the same compiled catalog the server
    uses (web/translations/es), so a test names a field exactly as the page labels it."""
    text = _SPANISH.gettext(message)
    return text % values if values else text


def fact(scope: Page | Locator, term: str) -> Locator:
    """The value (<dd>) next to the term (<dt>) reading exactly ``term``; the first if several."""
    dt = scope.locator("dt").filter(has_text=re.compile(rf"^\s*{re.escape(term)}\s*$")).first
    return dt.locator("xpath=following-sibling::dd[1]")
