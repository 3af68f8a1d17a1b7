"""The transform page: who may open it, a refining through the form, and a refusal that writes nothing."""

from __future__ import annotations

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from builders import Chain, certified_chain, register, sell
from goldtrace.db.models import Event, Lot
from goldtrace.domain.organizations import OrgProfile
from goldtrace.services import accounts, organizations
from goldtrace.services.context import Context
from goldtrace.webapp.ui.transform import Preview, kinds_for
from web_forms import csrf_token

PASSWORD = "correct-horse-battery"
AUDITOR = "auditora"


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


def logged_in(app: Flask, session: Session, org_id: str, role: str = "operator") -> FlaskClient:
    """A client logged in through the login form as a new user of ``org_id``."""
    email = f"{role}.{org_id}@example.org"
    accounts.add_user(session, email=email, org_id=org_id, role=role, password=PASSWORD)
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302
    return client


def event_count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Event)).scalar_one()


def refine_form(client: FlaskClient, lot_id: str, mass: str, fineness: str) -> dict[str, str]:
    token = csrf_token(client.get("/transform").get_data(as_text=True))
    return {
        "csrf_token": token,
        "kind": "refine",
        "inputs": lot_id,
        "outputs-0-form": "grain",
        "outputs-0-mass_g": mass,
        "outputs-0-fineness": fineness,
        "outputs-1-form": "grain",
        "outputs-1-mass_g": "",
    }


def test_the_page_shows_a_refiner_its_lots_with_the_figures_the_preview_uses(
    app: Flask, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine, mass_mg=1_000_500, fineness=9_125)
    sell(ledger, ctx, lot_id, chain.mine, chain.refiner)
    client = logged_in(app, ledger, chain.refiner)

    answer = client.get("/transform")

    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert f'value="{lot_id}" data-mass-mg="1000500" data-fineness="9125"' in html
    assert 'src="/static/transform.js" defer' in html
    assert "<script>" not in html  # the page works under a CSP without inline script
    assert html.index('value="melt"') < html.index('value="manufacture"')


@pytest.mark.parametrize("who", [("cecomip", "operator"), (AUDITOR, "auditor")])
def test_mines_and_auditors_may_not_transform(
    app: Flask, ledger: Session, chain: Chain, who: tuple[str, str]
) -> None:
    client = logged_in(app, ledger, *who)
    token = csrf_token(client.get("/dashboard").get_data(as_text=True))
    before = event_count(ledger)
    assert client.get("/transform").status_code == 403
    assert client.post("/transform", data={"csrf_token": token, "kind": "melt"}).status_code == 403
    assert event_count(ledger) == before


def test_nobody_logged_in_is_sent_to_log_in(client: FlaskClient, ledger: Session) -> None:
    answer = client.get("/transform")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=")


def test_jewelers_see_alloy_and_manufacture_first() -> None:
    assert kinds_for("jeweler")[:2] == ("alloy", "manufacture")
    assert set(kinds_for("jeweler")) == set(kinds_for("refiner"))


def test_a_refining_through_the_form_writes_one_event_and_the_new_lot(
    app: Flask, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine, mass_mg=1_000_000, fineness=9_000)
    sell(ledger, ctx, lot_id, chain.mine, chain.refiner)
    client = logged_in(app, ledger, chain.refiner)
    before = event_count(ledger)

    answer = client.post("/transform", data=refine_form(client, lot_id, "899,5", "999.9"))

    assert answer.status_code == 302
    assert event_count(ledger) == before + 1
    event = ledger.execute(select(Event).order_by(Event.seq.desc()).limit(1)).scalar_one()
    assert event.type == "lot.transform"
    new = ledger.execute(select(Lot).where(Lot.created_seq == event.seq)).scalar_one()
    assert (new.form, new.mass_mg, new.fineness, new.holder_id) == (
        "grain",
        899_500,
        9_999,
        chain.refiner,
    )
    assert ledger.get(Lot, lot_id, populate_existing=True).status == "consumed"  # type: ignore[union-attr]
    with app.test_request_context():
        assert answer.headers["Location"] == url_for("ui.lot_detail", lot_id=new.id)
    with client.session_transaction() as flashed:
        assert new.id in str(flashed["_flashes"])


def test_creating_fine_gold_is_refused_in_spanish_with_the_inputs_kept(
    app: Flask, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine, mass_mg=1_000_000, fineness=9_000)
    sell(ledger, ctx, lot_id, chain.mine, chain.refiner)
    client = logged_in(app, ledger, chain.refiner)
    before = event_count(ledger)

    answer = client.post("/transform", data=refine_form(client, lot_id, "1000", "999.9"))

    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "Los productos tendrían más oro fino que los insumos." in html
    assert 'value="1000" data-output-mass' in html
    assert f'value="{lot_id}" data-mass-mg="1000000" data-fineness="9000" checked' in html
    # The server's preview: 900 g in, 999.9 g out, 99.9 g (11.10 %) created.
    assert '<span data-preview="in">900,000</span>' in html
    assert '<span data-preview="out">999,900</span>' in html
    assert '<span data-preview="percent">-11,10 %</span>' in html
    assert event_count(ledger) == before
    assert ledger.get(Lot, lot_id, populate_existing=True).status == "active"  # type: ignore[union-attr]


def test_unparseable_quantities_mark_their_fields_and_write_nothing(
    app: Flask, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = register(ledger, ctx, chain.mine)
    sell(ledger, ctx, lot_id, chain.mine, chain.refiner)
    client = logged_in(app, ledger, chain.refiner)
    before = event_count(ledger)

    answer = client.post("/transform", data=refine_form(client, lot_id, "12.3456", "1200"))

    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'aria-describedby="outputs-0-mass_g-error"' in html
    assert 'aria-describedby="outputs-0-fineness-error"' in html
    assert event_count(ledger) == before


@pytest.mark.parametrize(
    ("fine_in", "fine_out", "percent"),
    [(900_000, 898_910, "0,12 %"), (900_000, 999_900, "-11,10 %"), (0, 0, "—"), (3, 2, "33,33 %")],
)
def test_the_loss_percentage_is_truncated_toward_zero_like_the_browser(
    app: Flask, fine_in: int, fine_out: int, percent: str
) -> None:
    with app.test_request_context():
        assert Preview(fine_in, fine_out).loss_percent == percent
