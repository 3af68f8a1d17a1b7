"""The risk page: linked where the flags are, for auditors and the standard body, in Spanish and English,
with one server-drawn SVG chart per mine and each signal's reason in plain words."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from babel.messages.extract import extract_python
from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

import web_forms
from builders import certified_chain
from goldtrace.domain.organizations import OrgProfile
from goldtrace.services import accounts, organizations, registry
from goldtrace.services.context import Context
from risk_builders import AUG, JUL, NOV, OCT, SEP, add_mine, register_in

PASSWORD = "correct-horse-battery"
PAGE = "/risk?months=36"
USERS = {
    "auditor": ("auditora", "auditor"),
    "standard_body": ("arm", "standard_body"),
    "mine": ("cecomip", "operator"),
}


@pytest.fixture
def world(ledger: Session, ctx: Context) -> None:
    certified_chain(ledger, ctx)
    organizations.register_org(
        ledger,
        ctx,
        actor="arm",
        profile=OrgProfile(id="auditora", name="Auditora Andina", kind="auditor"),
    )
    for name, (org, role) in USERS.items():
        accounts.add_user(
            ledger, email=f"{name}@example.org", org_id=org, role=role, password=PASSWORD
        )
    add_mine(ledger, ctx, "laytaruma")
    add_mine(ledger, ctx, "honesta", region="Arequipa")
    for month in (JUL, AUG, SEP, OCT, NOV):
        register_in(ledger, ctx, "laytaruma", month, 8_640_000)
        register_in(ledger, ctx, "honesta", month, 3_000_000)
    registry.record_group(
        ledger,
        ctx,
        actor="arm",
        name="Grupo Andino",
        members=["laytaruma", "honesta"],
        reason="same owner",
    )


def log_in(client: FlaskClient, who: str, lang: str = "es") -> None:
    client.set_cookie("lang", lang)
    web_forms.log_in(client, f"{who}@example.org", PASSWORD)


def section(page: str, mine_id: str) -> str:
    start = page.index(f'id="mine-{mine_id}"')
    return page[start : page.index("</section>", start)]


@pytest.mark.parametrize("who", ["auditor", "standard_body"])
def test_the_page_in_spanish(client: FlaskClient, world: None, who: str) -> None:
    log_in(client, who)
    response = client.get(PAGE)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Señales de riesgo</h1>" in page
    full = section(page, "laytaruma")
    assert "registró el 96 % de su capacidad durante 5 meses seguidos (jul 2026 a nov 2026)" in full
    assert "8.640,000" in full  # grams in the Spanish format
    assert "Ninguna señal." in section(page, "honesta")
    assert "Grupo Andino" in page
    assert "<script" not in page.split("</head>", 1)[1]


def test_the_page_in_english(client: FlaskClient, world: None) -> None:
    log_in(client, "auditor", "en")
    page = client.get(PAGE).get_data(as_text=True)
    assert "<h1>Risk signals</h1>" in page
    assert "registered 96 % of capacity for 5 months in a row (Jul 2026 to Nov 2026)" in page
    assert "No signal." in section(page, "honesta")
    assert "8,640.000" in section(page, "laytaruma")


def test_each_mine_has_a_well_formed_chart_of_its_months(client: FlaskClient, world: None) -> None:
    log_in(client, "auditor", "en")
    full = section(client.get(PAGE).get_data(as_text=True), "laytaruma")
    (svg,) = re.findall(r"<svg.*?</svg>", full, re.S)
    root = ET.fromstring(svg)  # noqa: S314 - our own output, parsed to prove it is well-formed
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img"
    bars = root.findall(f"{ns}rect")
    assert len(bars) == 36
    # July to November at 96 %: drawn in the warning colour, with the figures in their tooltips.
    warned = [b for b in bars if b.get("fill") == "#a33b1f"]
    assert len(warned) == 5
    tip = warned[0].find(f"{ns}title")
    assert (
        tip is not None and tip.text == "Jul 2026: 8,640.000 g of 9,000.000 g of capacity (96 %)."
    )
    assert root.find(f"{ns}path") is not None  # the capacity line


def test_linked_from_the_oversight_navigation(client: FlaskClient, world: None) -> None:
    log_in(client, "standard_body", "en")
    flags = client.get("/flags").get_data(as_text=True)
    assert 'href="/risk"' in flags and ">Risk signals</a>" in flags


def test_refused_to_a_mine_operator_and_needs_a_login(client: FlaskClient, world: None) -> None:
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    log_in(client, "mine")
    assert client.get(PAGE).status_code == 403
    assert 'href="/risk"' not in client.get("/lots").get_data(as_text=True)


def test_bad_months_on_the_page(client: FlaskClient, world: None) -> None:
    log_in(client, "auditor", "en")
    response = client.get("/risk?months=99")
    assert response.status_code == 400
    assert "months: must be a whole number of months from 1 to 36" in response.get_data(
        as_text=True
    )


def test_every_reason_of_the_domain_has_a_spanish_translation() -> None:
    # The domain marks its reasons with N_ (it knows no Flask-Babel); tests/webapp/test_translations.py
    # looks for the web layer's keywords only.
    root = Path(__file__).resolve().parents[2]
    with (root / "web/translations/es/LC_MESSAGES/messages.po").open("rb") as f:
        translated = {m.id: m.string for m in read_po(f, locale="es") if m.id}
    with (root / "src/goldtrace/domain/risk.py").open("rb") as f:
        reasons = [message for _, _, message, _ in extract_python(f, ["N_"], [], {})]
    assert len(reasons) == 5
    assert all(translated.get(reason) for reason in reasons), reasons
