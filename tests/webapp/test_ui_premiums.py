"""The premium pages as people use them: the public transparency page without logging in, the buyer
paying what it owes and the committee recording investments through the forms, in Spanish.

Most tests switch CSRF off to keep the form posts short; ``test_csrf_*`` keeps it on.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import date
from typing import Any

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from builders import Chain, certified_chain, register, sell
from goldtrace.db.models import Investment, Payment
from goldtrace.services import accounts, premiums
from goldtrace.services.context import Context
from goldtrace.services.transparency import head
from goldtrace.webapp import public
from goldtrace.webapp.ui import premiums as premium_pages

PASSWORD = "correct-horse-battery"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
MALICIOUS = '<script>alert("x")</script>'


@pytest.fixture
def app(app: Flask) -> Flask:
    """The application with the public pages (registered here until the factory registers them)."""
    if "public" not in app.blueprints:
        app.register_blueprint(public.bp)
    assert "ui.premiums_owed" in app.view_functions
    return app


@pytest.fixture
def chain(ledger: Session, ctx: Context) -> Chain:
    """The mine sold 1000 g at 900 per mille to the trader (USD 3600.00 of premium) and 500 g to
    the jeweler (USD 1800.00); Oro Puno sold 1000 g at 950 as ecological to the trader (USD
    5700.00)."""
    chain = certified_chain(ledger, ctx)
    sell(ledger, ctx, register(ledger, ctx, chain.mine), chain.mine, chain.trader)
    sell(ledger, ctx, register(ledger, ctx, chain.mine, mass_mg=500_000), chain.mine, chain.jeweler)
    eco = register(ledger, ctx, chain.eco_mine, fineness=9_500, category="fairmined_ecological")
    sell(ledger, ctx, eco, chain.eco_mine, chain.trader)
    return chain


@pytest.fixture
def login(app: Flask, ledger: Session, chain: Chain) -> Any:
    """``login(org)``: a client logged in as an operator of ``org`` (CSRF off unless ``csrf``)."""

    def as_member(org: str, *, csrf: bool = False) -> FlaskClient:
        app.config["WTF_CSRF_ENABLED"] = csrf
        email = f"operator.{org}@example.org"
        if ledger.scalar(select(func.count()).where(accounts.User.email == email)) == 0:
            accounts.add_user(ledger, email=email, org_id=org, role="operator", password=PASSWORD)
        client = app.test_client()
        data = {"email": email, "password": PASSWORD}
        if csrf:
            data["csrf_token"] = token(client.get("/login"))
        response = client.post("/login", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return as_member


def token(response: TestResponse) -> str:
    match = CSRF.search(response.get_data(as_text=True))
    assert match, "the page has no CSRF token"
    return match.group(1)


def html(response: TestResponse) -> str:
    """The page, with the no-break spaces that keep "USD" next to its amount made plain."""
    return response.get_data(as_text=True).replace("&nbsp;", " ")


def es(app: Flask, message: str, **variables: Any) -> str:
    """``message`` in Spanish, escaped as a page shows it; fails if it has no translation."""
    with app.test_request_context(), force_locale("es"):
        text = _(message, **variables)
    with app.test_request_context(), force_locale("en"):
        assert text != _(message, **variables), f"not translated: {message}"
    return str(escape(text))


def plain_es(app: Flask, code: str) -> str:
    """The plain refusal of a premium rule in Spanish, escaped; fails if it has no translation."""
    with app.test_request_context(), force_locale("es"):
        text = str(premium_pages.PREMIUM_PLAIN[code])
    with app.test_request_context(), force_locale("en"):
        assert text != str(premium_pages.PREMIUM_PLAIN[code]), f"not translated: {code}"
    return str(escape(text))


# --- the public page ----------------------------------------------------------------------------


def test_the_public_page_needs_no_login_and_shows_flows_and_committees(
    app: Flask, client: FlaskClient, ledger: Session, ctx: Context, chain: Chain
) -> None:
    premiums.pay(
        ledger,
        ctx,
        actor=chain.trader,
        committee=chain.mine,
        amount_cents=300_000,
        paid_on=date(2026, 11, 25),
    )
    premiums.invest(
        ledger,
        ctx,
        actor=chain.mine,
        committee=chain.mine,
        amount_cents=120_000,
        spent_on=date(2026, 11, 26),
        category="workers_welfare",
        description="Equipos de protección personal",
    )
    response = client.get("/premiums")
    assert response.status_code == 200
    page = html(response)
    assert es(app, "Fairmined premium: where it comes from and what it pays for") in page
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="sankey" role="img"' in page
    assert es(app, "Premium committees") in page and es(app, "Workers' welfare") in page
    assert "CECOMIP" in page and "Oro Puno" in page and "Trader" in page
    # CECOMIP: owed 5400.00, received 3000.00, outstanding 2400.00, invested 1200.00, balance 1800.00
    row = page.split('href="/premiums/cecomip"')[1].split("</tr>")[0]
    cells = re.findall(r'<td class="num">([^<]+)</td>', row)
    assert cells == ["USD 5.400,00", "USD 3.000,00", "USD 2.400,00", "USD 1.200,00", "USD 1.800,00"]
    rate = es(app, "%(category)s: %(amount)s per kilogram of fine gold", category="X", amount="Y")
    assert rate.replace("X", "Fairmined").replace("Y", "USD 4.000,00") in page
    assert "USD 6.000,00" in page
    assert "style=" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]


def test_the_public_page_for_a_year(
    app: Flask, client: FlaskClient, ledger: Session, ctx: Context, chain: Chain
) -> None:
    for day, cents in ((date(2026, 11, 25), 100_000), (date(2027, 1, 10), 50_000)):
        premiums.pay(
            ledger, ctx, actor=chain.trader, committee=chain.mine, amount_cents=cents, paid_on=day
        )
    page = html(client.get("/premiums?year=2027"))
    assert es(app, "Premium flows in %(year)s", year=2027) in page
    assert '<option value="2027" selected>' in page and '<option value="2026">' in page
    assert "USD 500,00" in page
    sankey = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "USD 1.000,00" not in sankey
    assert es(app, "Not invested in %(year)s", year=2027) in sankey
    assert client.get("/premiums?year=27").status_code == 400


def test_a_committee_has_a_public_page_with_its_statement(
    app: Flask, client: FlaskClient, ledger: Session, ctx: Context, chain: Chain
) -> None:
    premiums.pay(
        ledger,
        ctx,
        actor=chain.trader,
        committee=chain.mine,
        amount_cents=200_000,
        paid_on=date(2026, 3, 1),
    )
    premiums.invest(
        ledger,
        ctx,
        actor=chain.mine,
        committee=chain.mine,
        amount_cents=50_000,
        spent_on=date(2026, 6, 1),
        category="community",
        description=MALICIOUS,
        receipt_sha256="ab" * 32,
    )
    page = html(client.get("/premiums/cecomip?from=2026-04-01&to=2026-12-31"))
    assert es(app, "Premium committee of %(name)s", name="CECOMIP") in page
    statement = page.split('id="statement"')[1].split("</table>")[0]
    assert re.findall(r"USD [\d.,]+", statement) == [
        "USD 2.000,00",  # opening: received in March
        "USD 0,00",  # received in the period
        "USD 0,00",
        "USD 0,00",
        "USD 500,00",  # community
        "USD 0,00",
        "USD 0,00",
        "USD 1.500,00",  # closing
    ]
    assert MALICIOUS not in page and str(escape(MALICIOUS)) in page
    assert "abababababab…" in page
    assert page.count("<svg") == 1
    assert client.get("/premiums/trader").status_code == 404
    assert client.get("/premiums/nobody").status_code == 404
    assert client.get("/premiums/cecomip?from=2026-13-01").status_code == 400


def test_csv_exports_without_prices(
    client: FlaskClient, ledger: Session, ctx: Context, chain: Chain
) -> None:
    premiums.pay(
        ledger,
        ctx,
        actor=chain.trader,
        committee=chain.mine,
        amount_cents=100_000,
        paid_on=date(2026, 11, 25),
        reference="BCP-0042",
    )
    premiums.invest(
        ledger,
        ctx,
        actor=chain.mine,
        committee=chain.mine,
        amount_cents=10_000,
        spent_on=date(2026, 11, 26),
        category="environment",
        description="=HYPERLINK(1)",
    )

    def table(name: str, query: str = "") -> list[dict[str, str]]:
        response = client.get(f"/premiums.csv?table={name}{query}")
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))

    obligations = table("obligations")
    assert {(r["committee"], r["buyer"], r["amount_usd"], r["paid_usd"]) for r in obligations} == {
        ("cecomip", "trader", "3600.00", "1000.00"),
        ("cecomip", "jeweler", "1800.00", "0.00"),
        ("oro-puno", "trader", "5700.00", "0.00"),
    }
    assert all("price" not in key and "lot" not in key for key in obligations[0])
    payments = table("payments")
    assert [(p["buyer"], p["committee"], p["amount_usd"]) for p in payments] == [
        ("trader", "cecomip", "1000.00")
    ]
    assert "BCP-0042" not in str(payments)
    investments = table("investments")
    assert investments[0]["description"] == "'=HYPERLINK(1)"
    assert investments[0]["amount_usd"] == "100.00"
    assert table("payments", "&year=2025") == []
    assert client.get("/premiums.csv?table=prices").status_code == 400


# --- the buyer ----------------------------------------------------------------------------------


def test_a_buyer_sees_what_it_owes_in_spanish(app: Flask, login: Any, chain: Chain) -> None:
    page = html(login(chain.trader).get("/owed"))
    assert es(app, "Fairmined premium I owe") in page
    assert "USD 3.600,00" in page and "USD 5.700,00" in page  # CECOMIP and Oro Puno
    assert es(app, "0 to 30 days") in page
    assert "USD 9.300,00" in page  # all of it is less than 30 days old
    assert "900,000" in page  # fine grams of the CECOMIP lot


def test_only_buyers_owe_and_only_mines_have_a_committee_page(
    app: Flask, login: Any, chain: Chain
) -> None:
    assert login(chain.mine).get("/owed").status_code == 403
    assert login(chain.trader).get("/committee").status_code == 403
    anonymous = app.test_client()
    assert anonymous.get("/owed").status_code == 302
    assert "/login" in anonymous.get("/committee/invest").headers["Location"]


def test_a_buyer_pays_through_the_form(login: Any, ledger: Session, chain: Chain) -> None:
    client = login(chain.trader)
    form = html(client.get("/owed/pay?committee=cecomip"))
    assert '<option selected value="cecomip">' in form
    response = client.post(
        "/owed/pay",
        data={
            "committee": "cecomip",
            "amount_usd": "1000,50",
            "paid_on": "2026-11-25",
            "method": "bank_transfer",
            "reference": "BCP-0042",
        },
    )
    assert response.status_code == 302, html(response)
    assert response.headers["Location"].endswith("/owed")
    ledger.expire_all()
    payment = ledger.execute(select(Payment)).scalar_one()
    assert (payment.amount_cents, payment.method, payment.reference) == (
        100_050,
        "bank_transfer",
        "BCP-0042",
    )
    page = html(client.get("/owed"))
    assert "USD 1.000,50" in page and "USD 2.599,50" in page


def test_a_buyer_pays_chosen_obligations(login: Any, ledger: Session, chain: Chain) -> None:
    ids = [ob.id for ob in premiums.committee_obligations(ledger, chain.eco_mine)]
    client = login(chain.trader)
    response = client.post(
        "/owed/pay",
        data={
            "committee": chain.eco_mine,
            "amount_usd": "5700",
            "paid_on": "2026-11-25",
            "obligations": [str(ids[0])],
        },
    )
    assert response.status_code == 302, html(response)
    ledger.expire_all()
    assert premiums.committee_totals(ledger, chain.eco_mine).outstanding_cents == 0


@pytest.mark.parametrize(
    ("data", "code"),
    [({"amount_usd": "3600,01"}, "overpayment"), ({"obligations": "ECO"}, "wrong_committee")],
    ids=["overpayment", "another committee's obligation"],
)
def test_a_refused_payment_is_explained_in_spanish_and_writes_nothing(
    app: Flask, login: Any, ledger: Session, chain: Chain, data: dict[str, str], code: str
) -> None:
    eco_id = premiums.committee_obligations(ledger, chain.eco_mine)[0].id
    body = {"committee": "cecomip", "amount_usd": "10,00", "paid_on": "2026-11-25"} | data
    if body.get("obligations") == "ECO":
        body["obligations"] = str(eco_id)
    size = head(ledger).size
    response = login(chain.trader).post("/owed/pay", data=body)
    assert response.status_code == 422
    assert plain_es(app, code) in html(response)
    assert head(ledger).size == size


def test_invalid_payment_fields_are_shown_next_to_them(
    app: Flask, login: Any, ledger: Session, chain: Chain
) -> None:
    size = head(ledger).size
    response = login(chain.trader).post(
        "/owed/pay",
        data={"committee": "cecomip", "amount_usd": "10,001", "paid_on": "2026-11-25"},
    )
    assert response.status_code == 422
    assert es(app, "Enter US dollars with up to 2 decimals, e.g. 1500,50.") in html(response)
    response = login(chain.trader).post(
        "/owed/pay", data={"committee": "cecomip", "amount_usd": "0", "paid_on": "2026-11-25"}
    )
    assert es(app, "Enter an amount above zero.") in html(response)
    assert head(ledger).size == size


# --- the committee ------------------------------------------------------------------------------


def test_the_committee_page_shows_what_it_received_and_owes_in_spanish(
    app: Flask, login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    premiums.pay(
        ledger,
        ctx,
        actor=chain.jeweler,
        committee=chain.mine,
        amount_cents=80_000,
        paid_on=date(2026, 11, 25),
        reference="IBK-7",
    )
    page = html(login(chain.mine).get("/committee?from=2026-01-01&to=2026-12-31"))
    assert es(app, "Premium committee of %(name)s", name="CECOMIP") in page
    assert es(app, "Balance to invest") in page
    assert "USD 800,00" in page and "IBK-7" in page  # the payment received, with its reference
    assert "USD 4.600,00" in page  # still owed: 3600.00 by the trader, 1000.00 by the jeweler
    assert page.count("<svg") == 1


def test_a_committee_invests_through_the_form_with_a_receipt_file(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    premiums.pay(
        ledger,
        ctx,
        actor=chain.trader,
        committee=chain.mine,
        amount_cents=100_000,
        paid_on=date(2026, 11, 25),
    )
    receipt = b"%PDF-1.4 factura 001-2345 comedor"
    client = login(chain.mine)
    assert 'enctype="multipart/form-data"' in html(client.get("/committee/invest"))
    response = client.post(
        "/committee/invest",
        data={
            "amount_usd": "250,75",
            "spent_on": "2026-11-26",
            "category": "community",
            "description": "Ampliación del comedor",
            "receipt": (io.BytesIO(receipt), "factura.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, html(response)
    ledger.expire_all()
    row = ledger.execute(select(Investment)).scalar_one()
    assert (row.amount_cents, row.category) == (25_075, "community")
    assert row.receipt_sha256 == hashlib.sha256(receipt).hexdigest()
    assert "USD 749,25" in html(client.get("/committee"))


def test_a_committee_may_paste_the_receipt_hash(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    premiums.pay(
        ledger, ctx, actor=chain.trader, committee=chain.mine, amount_cents=100_000,
        paid_on=date(2026, 11, 25),
    )  # fmt: skip
    digest = hashlib.sha256(b"x").hexdigest()
    response = login(chain.mine).post(
        "/committee/invest",
        data={
            "amount_usd": "10",
            "spent_on": "2026-11-26",
            "category": "gender_equity",
            "description": "Taller de joyería de mujeres mineras",
            "receipt_sha256": digest.upper(),
        },
    )
    assert response.status_code == 302, html(response)
    ledger.expire_all()
    assert ledger.execute(select(Investment.receipt_sha256)).scalar_one() == digest


def test_a_pasted_hash_must_match_the_uploaded_file(
    app: Flask, login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    premiums.pay(
        ledger, ctx, actor=chain.trader, committee=chain.mine, amount_cents=100_000,
        paid_on=date(2026, 11, 25),
    )  # fmt: skip
    size = head(ledger).size
    response = login(chain.mine).post(
        "/committee/invest",
        data={
            "amount_usd": "10",
            "spent_on": "2026-11-26",
            "category": "community",
            "description": "Comedor",
            "receipt": (io.BytesIO(b"one file"), "a.pdf"),
            "receipt_sha256": hashlib.sha256(b"another file").hexdigest(),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert es(app, "The pasted SHA-256 is not that of the uploaded file.") in html(response)
    assert head(ledger).size == size


def test_investing_beyond_the_balance_is_refused_in_spanish_and_writes_nothing(
    app: Flask, login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    premiums.pay(
        ledger, ctx, actor=chain.trader, committee=chain.mine, amount_cents=10_000,
        paid_on=date(2026, 11, 25),
    )  # fmt: skip
    size = head(ledger).size
    response = login(chain.mine).post(
        "/committee/invest",
        data={
            "amount_usd": "100,01",
            "spent_on": "2026-11-26",
            "category": "community",
            "description": "Campaña médica",
        },
    )
    assert response.status_code == 422
    page = html(response)
    assert (
        es(
            app,
            "The committee cannot invest more than the premium it has received and not yet invested.",
        )
        in page
    )
    assert "USD 100,00" in page  # the balance it has
    assert head(ledger).size == size


def test_csrf_a_payment_needs_its_token(login: Any, ledger: Session, chain: Chain) -> None:
    client = login(chain.trader, csrf=True)
    data = {"committee": "cecomip", "amount_usd": "10,00", "paid_on": "2026-11-25"}
    size = head(ledger).size
    assert client.post("/owed/pay", data=data).status_code == 400
    assert head(ledger).size == size
    data["csrf_token"] = token(client.get("/owed/pay"))
    assert client.post("/owed/pay", data=data).status_code == 302


# --- the premium a piece carried ----------------------------------------------------------------


def test_the_carried_macro_lists_each_committee(app: Flask) -> None:
    template = (
        '{% from "premiums/carried.html" import premium_carried %}'
        "{{ premium_carried(carried, names) }}"
    )
    with app.test_request_context(), force_locale("es"):
        text = render_template_string(
            template,
            carried={"cecomip": 123_456, "oro-puno": 7},
            names={"cecomip": MALICIOUS},
        )
        empty = render_template_string(template, carried={}, names={})
    text = text.replace("&nbsp;", " ")
    assert text.index("USD 1.234,56") < text.index("USD 0,07")
    assert MALICIOUS not in text and str(escape(MALICIOUS)) in text
    assert 'href="/premiums/oro-puno"' in text
    assert es(app, "This gold carried no Fairmined premium.") in empty
