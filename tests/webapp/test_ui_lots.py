"""The lot pages as people use them: logged in through the login form, writing through the forms.

Most tests switch CSRF off to keep the form posts short; ``test_csrf_*`` keep it on and fetch the token
from the forms as a browser does.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from builders import (
    FAR_FUTURE,
    FAR_PAST,
    REFERENCE_MICRO,
    Chain,
    certified_chain,
    move,
    recent,
    register,
    sell,
)
from goldtrace.db.models import Event, Flag, Lot, SaleTerms, Voided
from goldtrace.domain.lots import OutputSpec
from goldtrace.domain.organizations import OrgProfile
from goldtrace.errors import GoldtraceError
from goldtrace.services import accounts, lots, organizations, registry
from goldtrace.services.context import Context
from goldtrace.webapp.messages import plain

PASSWORD = "correct-horse-battery"
AUDITOR = "auditora"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def chain(ledger: Session, ctx: Context) -> Chain:
    chain = certified_chain(ledger, ctx)
    organizations.register_org(
        ledger,
        ctx,
        actor=chain.body,
        profile=OrgProfile(id=AUDITOR, name="Auditora Andina", kind="auditor"),
    )
    return chain


@pytest.fixture
def login(app: Flask, ledger: Session, chain: Chain) -> Any:
    """``login(org)``: a client logged in as an operator of ``org`` (CSRF off unless ``csrf``)."""

    def as_member(org: str, *, csrf: bool = False) -> FlaskClient:
        app.config["WTF_CSRF_ENABLED"] = csrf
        role = {AUDITOR: "auditor", chain.body: "standard_body"}.get(org, "operator")
        email = f"{role}.{org}@example.org"
        if ledger.scalar(select(func.count()).where(accounts.User.email == email)) == 0:
            accounts.add_user(ledger, email=email, org_id=org, role=role, password=PASSWORD)
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
    return response.get_data(as_text=True)


def event_count(session: Session, kind: str | None = None) -> int:
    query = select(func.count()).select_from(Event)
    if kind is not None:
        query = query.where(Event.type == kind)
    return int(session.scalar(query) or 0)


def fresh_lot(session: Session, lot_id: str) -> Lot:
    session.expire_all()
    lot = session.get(Lot, lot_id)
    assert lot is not None
    return lot


def spanish(app: Flask, code: str) -> str:
    """The plain Spanish refusal for ``code``, escaped as a page shows it."""
    with app.test_request_context(), force_locale("es"):
        text = plain(GoldtraceError("precise", code=code))
    with app.test_request_context(), force_locale("en"):
        assert text != plain(GoldtraceError("precise", code=code)), "not translated"
    return str(escape(text))


# --- inventory -------------------------------------------------------------------------------


def test_the_inventory_shows_on_hand_incoming_and_outgoing_lots(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    kept = register(ledger, ctx, chain.mine)
    sent = register(ledger, ctx, chain.mine, mass_mg=2_000_000)
    lots.dispatch_lot(
        ledger,
        ctx,
        actor=chain.mine,
        lot_id=sent,
        to=chain.trader,
        price=REFERENCE_MICRO,
        reference_price=REFERENCE_MICRO,
    )
    page = html(login(chain.mine).get("/lots"))
    on_hand, rest = page.split('id="incoming"')
    incoming, outgoing = rest.split('id="outgoing"')
    assert kept in on_hand and sent not in on_hand
    assert sent in outgoing and sent not in incoming
    assert "1.000,000" in on_hand and "900 ‰" in on_hand

    trader_page = html(login(chain.trader).get("/lots"))
    assert sent in trader_page.split('id="incoming"')[1].split('id="outgoing"')[0]
    assert kept not in trader_page


def test_the_inventory_filters_by_status_and_form(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    kept = register(ledger, ctx, chain.mine)
    sent = register(ledger, ctx, chain.mine)
    lots.dispatch_lot(
        ledger,
        ctx,
        actor=chain.mine,
        lot_id=sent,
        to=chain.trader,
        price=REFERENCE_MICRO,
        reference_price=REFERENCE_MICRO,
    )
    client = login(chain.mine)
    page = html(client.get("/lots?status=in_transit"))
    assert sent in page and kept not in page
    assert '<option value="in_transit" selected>' in page
    assert kept not in html(client.get("/lots?form=bar"))
    unknown = html(client.get("/lots?status=nonsense&form=<b>"))
    assert kept in unknown and sent in unknown


@pytest.mark.parametrize("org", [AUDITOR, "arm"])
def test_overseers_have_no_inventory(login: Any, org: str) -> None:
    assert login(org).get("/lots").status_code == 403


def test_pages_send_anonymous_visitors_to_the_login(app: Flask, chain: Chain) -> None:
    client = app.test_client()
    for url in ("/lots", "/lots/new", "/lots/GT-AAAA-AAAA", "/lots/GT-AAAA-AAAA/dispatch"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- register --------------------------------------------------------------------------------


def registration() -> dict[str, str]:
    """The registration form as a mine fills it in: a lot produced three days ago in Peru."""
    return {
        "form": "dore",
        "mass_g": "1250,5",
        "fineness": "912.5",
        "category": "fairmined",
        "produced_on": recent().isoformat(),
        "reference": "BOLSA-7",
        "picker": "",
    }


def pickers_association(session: Session, ctx: Context, chain: Chain) -> str:
    """A certified association of pickers with one registered member; returns its id."""
    organizations.register_org(
        session,
        ctx,
        actor=chain.body,
        profile=OrgProfile(
            id="pallay",
            name="Asociación de Pallaqueras",
            kind="mine",
            miners=40,
            capacity_mg_month=10**7,
            pickers=True,
        ),
    )
    registry.record_certification(
        session,
        ctx,
        actor=chain.body,
        org_id="pallay",
        category="fairmined",
        number="FM-PALLAY",
        valid_from=FAR_PAST,
        valid_until=FAR_FUTURE,
    )
    registry.register_picker(
        session,
        ctx,
        actor=chain.body,
        id_type="DNI",
        number="41000002",
        name="Rosa Quispe",
        association="pallay",
        valid_from=FAR_PAST,
    )
    return "pallay"


def test_only_a_mine_gets_the_registration_form(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    page = login(chain.mine).get("/lots/new")
    assert page.status_code == 200
    text = html(page)
    for name in ("form", "mass_g", "fineness", "category", "produced_on", "reference"):
        assert f'<label for="{name}">' in text and f'id="{name}"' in text
    # Only an association of pickers names the picker, one of its registered members.
    assert '<label for="picker">' not in text
    association = html(login(pickers_association(ledger, ctx, chain)).get("/lots/new"))
    assert '<label for="picker">' in association and 'id="picker"' in association
    assert 'value="DNI:41000002"' in association and "Rosa Quispe" in association
    assert 'value="fairmined_ecological"' not in text  # CECOMIP is certified plain Fairmined
    eco = html(login(chain.eco_mine).get("/lots/new"))
    assert 'value="fairmined_ecological"' in eco and 'value="fairmined"' in eco
    for org in (chain.trader, chain.jeweler, AUDITOR, chain.body):
        assert login(org).get("/lots/new").status_code == 403


def test_a_mine_registers_a_lot_through_the_form(login: Any, ledger: Session, chain: Chain) -> None:
    client = login(chain.mine)
    before = event_count(ledger, "lot.register")
    response = client.post("/lots/new", data=registration())
    assert response.status_code == 302
    lot_id = response.headers["Location"].rsplit("/", 1)[1]
    assert event_count(ledger, "lot.register") == before + 1
    lot = fresh_lot(ledger, lot_id)
    assert (lot.mass_mg, lot.fineness, lot.category, lot.reference, lot.holder_id) == (
        1_250_500,
        9_125,
        "fairmined",
        "BOLSA-7",
        chain.mine,
    )
    page = html(client.get(response.headers["Location"]))
    assert lot_id in page and 'class="flash ok"' in page


def test_invalid_fields_are_shown_next_to_them_and_nothing_is_written(
    login: Any, ledger: Session, chain: Chain
) -> None:
    before = event_count(ledger)
    bad = {**registration(), "mass_g": "1.250,5", "fineness": "1200", "produced_on": "ayer"}
    response = login(chain.mine).post("/lots/new", data=bad)
    assert response.status_code == 422
    page = html(response)
    for name in ("mass_g", "fineness", "produced_on"):
        assert f'id="{name}-error"' in page
        assert re.search(rf'id="{name}"[^>]*aria-invalid="true"', page) or re.search(
            rf'aria-invalid="true"[^>]*id="{name}"', page
        )
    assert 'value="1.250,5"' in page  # the input is kept
    assert event_count(ledger) == before


def test_a_registration_beyond_capacity_is_refused_in_spanish_and_writes_nothing(
    app: Flask, login: Any, ledger: Session, chain: Chain
) -> None:
    before = event_count(ledger)
    response = login(chain.mine).post("/lots/new", data={**registration(), "mass_g": "20000"})
    assert response.status_code == 422
    page = html(response)
    assert spanish(app, "capacity_exceeded") in page
    assert 'value="20000"' in page and 'value="BOLSA-7"' in page
    assert event_count(ledger) == before


# --- detail ----------------------------------------------------------------------------------


def test_a_lot_page_shows_facts_origins_and_history(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine, mass_mg=1_234_567, fineness=9_125)
    client = login(chain.mine)
    client.set_cookie("lang", "en")
    response = client.get(f"/lots/{lot_id}")
    assert response.status_code == 200
    page = html(response)
    assert "1,234.567 g" in page and "912.5 ‰" in page and "1,126.542 g" in page
    assert "CECOMIP" in page and "100.0 %" in page
    register_event = ledger.scalars(select(Event).where(Event.type == "lot.register")).all()[-1]
    assert f"Event no. {register_event.seq}" in page and register_event.hash.hex()[:12] in page
    assert "Registration" in page
    assert f'href="/lots/{lot_id}/dispatch"' in page and f'href="/lots/{lot_id}/assay"' in page
    assert f'action="/events/{register_event.seq}/void"' in page
    assert "/receive" not in page


def test_a_lot_is_seen_only_by_who_may_see_it(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine)
    for org in (chain.eco_mine, chain.trader, chain.refiner):
        assert login(org).get(f"/lots/{lot_id}").status_code == 404
    for org in (chain.mine, AUDITOR, chain.body):
        assert login(org).get(f"/lots/{lot_id}").status_code == 200
    assert login(chain.mine).get("/lots/GT-NONE-XXXX").status_code == 404


def test_sale_terms_only_for_seller_buyer_and_overseers(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine)
    sell(ledger, ctx, lot_id, chain.mine, chain.trader)
    move(ledger, ctx, lot_id, chain.trader, chain.refiner)
    for org in (chain.mine, chain.trader, AUDITOR, chain.body):
        assert "USD 90,00" in html(login(org).get(f"/lots/{lot_id}")), org
    assert "USD 90" not in html(login(chain.refiner).get(f"/lots/{lot_id}"))


def test_the_provenance_include_point_does_not_break_the_page(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine)
    assert login(chain.mine).get(f"/lots/{lot_id}").status_code == 200


# --- dispatch --------------------------------------------------------------------------------


def test_a_first_sale_asks_for_prices_and_dispatches(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine)
    client = login(chain.mine)
    page = html(client.get(f"/lots/{lot_id}/dispatch"))
    assert '<label for="price">' in page and '<label for="reference_price">' in page
    assert f'value="{chain.trader}"' in page and f'value="{chain.mine}"' not in page
    assert f'value="{chain.eco_mine}"' not in page and f'value="{AUDITOR}"' not in page
    before = event_count(ledger, "lot.dispatch")
    response = client.post(
        f"/lots/{lot_id}/dispatch",
        data={"to": chain.trader, "price": "86,50", "reference_price": "90"},
    )
    assert response.status_code == 302
    assert event_count(ledger, "lot.dispatch") == before + 1
    lot = fresh_lot(ledger, lot_id)
    assert (lot.status, lot.in_transit_to) == ("in_transit", chain.trader)
    terms = ledger.scalars(select(SaleTerms).where(SaleTerms.lot_id == lot_id)).one()
    assert (terms.price_microusd_per_g, terms.reference_microusd_per_g) == (86_500_000, 90_000_000)


def test_a_price_below_95_percent_is_refused_in_spanish_and_writes_nothing(
    app: Flask, login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine)
    before = event_count(ledger)
    response = login(chain.mine).post(
        f"/lots/{lot_id}/dispatch",
        data={"to": chain.trader, "price": "80", "reference_price": "90"},
    )
    assert response.status_code == 422
    page = html(response)
    assert spanish(app, "price_below_minimum") in page
    assert 'value="80"' in page
    assert event_count(ledger) == before
    assert fresh_lot(ledger, lot_id).status == "active"


def test_a_first_sale_without_prices_is_refused_next_to_the_fields(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine)
    before = event_count(ledger)
    response = login(chain.mine).post(f"/lots/{lot_id}/dispatch", data={"to": chain.trader})
    assert response.status_code == 422
    assert 'id="price-error"' in html(response) and 'id="reference_price-error"' in html(response)
    assert event_count(ledger) == before


def test_a_later_dispatch_has_no_price_fields(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine)
    sell(ledger, ctx, lot_id, chain.mine, chain.trader)
    client = login(chain.trader)
    page = html(client.get(f"/lots/{lot_id}/dispatch"))
    assert 'id="price"' not in page and f'value="{chain.trader}"' not in page
    response = client.post(f"/lots/{lot_id}/dispatch", data={"to": chain.refiner})
    assert response.status_code == 302
    assert fresh_lot(ledger, lot_id).in_transit_to == chain.refiner


def test_only_the_holder_dispatches(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine)
    assert login(chain.trader).get(f"/lots/{lot_id}/dispatch").status_code == 404
    assert login(AUDITOR).get(f"/lots/{lot_id}/dispatch").status_code == 403
    lots.dispatch_lot(
        ledger,
        ctx,
        actor=chain.mine,
        lot_id=lot_id,
        to=chain.trader,
        price=REFERENCE_MICRO,
        reference_price=REFERENCE_MICRO,
    )
    assert login(chain.trader).get(f"/lots/{lot_id}/dispatch").status_code == 403
    assert login(chain.mine).get(f"/lots/{lot_id}/dispatch").status_code == 409


# --- receive ---------------------------------------------------------------------------------


def test_the_recipient_receives_with_the_weighed_mass(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine)
    lots.dispatch_lot(
        ledger,
        ctx,
        actor=chain.mine,
        lot_id=lot_id,
        to=chain.trader,
        price=REFERENCE_MICRO,
        reference_price=REFERENCE_MICRO,
    )
    client = login(chain.trader)
    detail = html(client.get(f"/lots/{lot_id}"))
    assert f'href="/lots/{lot_id}/receive"' in detail and "/dispatch" not in detail
    form = html(client.get(f"/lots/{lot_id}/receive"))
    assert 'value="1000,000"' in form and 'data-dispatched-mg="1000000"' in form
    assert "lots.js" in form
    before = event_count(ledger, "lot.receive")
    response = client.post(f"/lots/{lot_id}/receive", data={"mass_g": "998,5"})
    assert response.status_code == 302
    assert event_count(ledger, "lot.receive") == before + 1
    lot = fresh_lot(ledger, lot_id)
    assert (lot.holder_id, lot.status, lot.mass_mg) == (chain.trader, "active", 998_500)
    flagged = ledger.scalars(select(Flag).where(Flag.lot_id == lot_id)).all()
    assert [f.kind for f in flagged] == ["weight_discrepancy"]
    page = html(client.get(response.headers["Location"]))
    assert "-1,500 g (-0,15 %)" in page


def test_only_the_named_recipient_receives(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine)
    assert login(chain.mine).get(f"/lots/{lot_id}/receive").status_code == 409
    lots.dispatch_lot(
        ledger,
        ctx,
        actor=chain.mine,
        lot_id=lot_id,
        to=chain.trader,
        price=REFERENCE_MICRO,
        reference_price=REFERENCE_MICRO,
    )
    assert login(chain.mine).get(f"/lots/{lot_id}/receive").status_code == 403
    assert login(chain.refiner).get(f"/lots/{lot_id}/receive").status_code == 404
    assert login(AUDITOR).get(f"/lots/{lot_id}/receive").status_code == 403
    assert login(chain.trader).get(f"/lots/{lot_id}/receive").status_code == 200


def test_a_receipt_with_a_bad_mass_shows_the_error_and_writes_nothing(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine)
    lots.dispatch_lot(
        ledger,
        ctx,
        actor=chain.mine,
        lot_id=lot_id,
        to=chain.trader,
        price=REFERENCE_MICRO,
        reference_price=REFERENCE_MICRO,
    )
    before = event_count(ledger)
    response = login(chain.trader).post(f"/lots/{lot_id}/receive", data={"mass_g": "0"})
    assert response.status_code == 422 and 'id="mass_g-error"' in html(response)
    assert event_count(ledger) == before


# --- assay -----------------------------------------------------------------------------------


def test_the_holder_records_an_assay(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine)
    sell(ledger, ctx, lot_id, chain.mine, chain.trader)
    client = login(chain.trader)
    assert client.get(f"/lots/{lot_id}/assay").status_code == 200
    before = event_count(ledger, "lot.assay")
    response = client.post(
        f"/lots/{lot_id}/assay", data={"fineness": "905,5", "lab": "Lab Juliaca"}
    )
    assert response.status_code == 302
    assert event_count(ledger, "lot.assay") == before + 1
    assert fresh_lot(ledger, lot_id).fineness == 9_055
    assert login(chain.mine).get(f"/lots/{lot_id}/assay").status_code == 403
    assert login(chain.refiner).get(f"/lots/{lot_id}/assay").status_code == 404


# --- void ------------------------------------------------------------------------------------


def test_the_author_voids_the_latest_event_with_a_reason(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine)
    seq = fresh_lot(ledger, lot_id).created_seq
    client = login(chain.mine)
    before = event_count(ledger)
    empty = client.post(f"/events/{seq}/void", data={"reason": " ", "lot": lot_id})
    assert empty.status_code == 422 and 'id="reason-error"' in html(empty)
    assert event_count(ledger) == before
    response = client.post(
        f"/events/{seq}/void", data={"reason": "peso mal anotado", "lot": lot_id}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/lots/{lot_id}"
    assert fresh_lot(ledger, lot_id).status == "voided"
    assert ledger.get(Voided, seq) is not None
    assert "peso mal anotado" in html(client.get(f"/lots/{lot_id}"))
    assert client.get(f"/events/{seq}/void").status_code == 405
    assert client.post(f"/events/{2**63}/void", data={"reason": "x"}).status_code == 404


def test_only_the_author_may_void(
    app: Flask, login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine)
    lots.dispatch_lot(
        ledger,
        ctx,
        actor=chain.mine,
        lot_id=lot_id,
        to=chain.trader,
        price=REFERENCE_MICRO,
        reference_price=REFERENCE_MICRO,
    )
    seq = fresh_lot(ledger, lot_id).updated_seq
    trader = login(chain.trader)
    assert "/void" not in html(trader.get(f"/lots/{lot_id}"))
    before = event_count(ledger)
    response = trader.post(f"/events/{seq}/void", data={"reason": "no", "lot": lot_id})
    assert response.status_code == 422
    assert spanish(app, "not_author") in html(response)
    assert event_count(ledger) == before


# --- CSRF ------------------------------------------------------------------------------------


def test_csrf_a_form_post_without_its_token_is_refused(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    client = login(chain.mine, csrf=True)
    before = event_count(ledger)
    assert client.post("/lots/new", data=registration()).status_code == 400
    lot_id = register(ledger, ctx, chain.mine)
    seq = fresh_lot(ledger, lot_id).created_seq
    before = event_count(ledger)
    response = client.post(f"/events/{seq}/void", data={"reason": "x", "lot": lot_id})
    assert response.status_code == 400
    assert event_count(ledger) == before


def test_csrf_a_form_post_with_its_token_goes_through(
    login: Any, ledger: Session, chain: Chain
) -> None:
    client = login(chain.mine, csrf=True)
    data = {**registration(), "csrf_token": token(client.get("/lots/new"))}
    response = client.post("/lots/new", data=data)
    assert response.status_code == 302
    lot_id = response.headers["Location"].rsplit("/", 1)[1]
    assert fresh_lot(ledger, lot_id).mass_mg == 1_250_500


def test_a_history_names_transformations_and_voids(
    login: Any, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine)
    sell(ledger, ctx, lot_id, chain.mine, chain.trader)
    move(ledger, ctx, lot_id, chain.trader, chain.refiner)
    grain = lots.transform(
        ledger,
        ctx,
        actor=chain.refiner,
        kind="refine",
        inputs=[lot_id],
        outputs=[OutputSpec(id="", form="grain", mass_mg=890_000, fineness=9_999)],
    ).lots[0]
    client = login(chain.refiner)
    client.set_cookie("lang", "en")
    used = html(client.get(f"/lots/{lot_id}"))
    assert "Transformation: refining" in used and f"made into {grain.id}" in used
    made = client.get(f"/lots/{grain.id}")
    assert f"made from {lot_id}" in html(made) and "CECOMIP" in html(made)
    seq = fresh_lot(ledger, grain.id).created_seq
    response = client.post(f"/events/{seq}/void", data={"reason": "wrong", "lot": grain.id})
    assert response.status_code == 302
    page = html(client.get(f"/lots/{lot_id}"))
    assert "Void of an earlier event" in page and f"event {seq}: wrong" in page
    assert fresh_lot(ledger, lot_id).status == "active"
