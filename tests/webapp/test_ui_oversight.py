"""Oversight pages: organizations, ledger (with its background verification) and flags."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask, render_template
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

import web_forms
from builders import Chain, certified_chain, ledger_with_events, register
from goldtrace.config import Settings
from goldtrace.db import migrate
from goldtrace.db.models import Event, Flag
from goldtrace.db.session import make_engine
from goldtrace.domain.organizations import OrgProfile
from goldtrace.services import accounts, lots, organizations, registry, transparency
from goldtrace.services.context import Context
from goldtrace.services.jobs import JobStatus
from goldtrace.webapp import create_app

PASSWORD = "correct-horse-battery"
USERS = {
    "auditor": ("auditora", "auditor"),
    "standard_body": ("arm", "standard_body"),
    "mine": ("cecomip", "operator"),
}
PAGES = ("/organizations", "/ledger", "/flags")


def add_people(session: Session, ctx: Context, *who: str) -> None:
    """An auditing organization, and users for the callers ``who`` of USERS."""
    organizations.register_org(
        session,
        ctx,
        actor="arm",
        profile=OrgProfile(id="auditora", name="Auditora Andina", kind="auditor"),
    )
    for name in who:
        org, role = USERS[name]
        accounts.add_user(
            session, email=f"{name}@example.org", org_id=org, role=role, password=PASSWORD
        )


@pytest.fixture
def chain(ledger: Session, ctx: Context) -> Chain:
    chain = certified_chain(ledger, ctx)
    add_people(ledger, ctx, *USERS)
    return chain


def log_in(client: FlaskClient, who: str) -> str:
    """Log in as ``who`` (in English); return a CSRF token for later forms."""
    client.set_cookie("lang", "en")
    return web_forms.log_in(client, f"{who}@example.org", PASSWORD)


@pytest.mark.parametrize("who", ["auditor", "standard_body"])
def test_oversight_pages_render_for_auditors_and_the_standard_body(
    client: FlaskClient, chain: Chain, who: str
) -> None:
    log_in(client, who)
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
    organizations_page = client.get("/organizations").get_data(as_text=True)
    for text in ("CECOMIP", "Oro Puno", "FM-001", "FME-002", "Licensee", "Authorized supplier"):
        assert text in organizations_page
    ledger_page = client.get("/ledger").get_data(as_text=True)
    assert "Verify now" in ledger_page and 'action="/ledger/verify"' in ledger_page


def test_oversight_is_forbidden_to_a_mine_operator(client: FlaskClient, chain: Chain) -> None:
    token = log_in(client, "mine")
    for path in (*PAGES, "/ledger/verify/anything"):
        assert client.get(path).status_code == 403, path
    assert client.post("/ledger/verify", data={"csrf_token": token}).status_code == 403
    assert client.post("/flags/1/review", data={"csrf_token": token}).status_code == 403


def test_oversight_needs_a_login(client: FlaskClient, chain: Chain) -> None:
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_organizations_show_identifiers_capacity_and_certification_history(
    client: FlaskClient, ledger: Session, ctx: Context, chain: Chain
) -> None:
    organizations.register_org(
        ledger,
        ctx,
        actor="arm",
        profile=OrgProfile(
            id="macdesa",
            name="MACDESA",
            kind="mine",
            region="Arequipa",
            ruc="20455950253",
            reinfo="REINFO-0042",
            miners=10,
            capacity_mg_month=2_000_000,
            committee="Comité del Premio de MACDESA",
        ),
    )
    registry.record_certification(
        ledger,
        ctx,
        actor="arm",
        org_id="macdesa",
        category="fairmined",
        number="FM-MAC-7",
        certifier="Certificadora Andina",
        valid_from=date(2020, 1, 1),
        valid_until=date(2030, 12, 31),
    )
    registry.change_certification_status(
        ledger,
        ctx,
        actor="arm",
        number="FM-MAC-7",
        status="suspended",
        effective_on=date(2021, 3, 1),
    )
    log_in(client, "auditor")
    page = client.get("/organizations?kind=mine").get_data(as_text=True)
    section = page[page.index('id="org-macdesa"') :]
    for text in (
        "Arequipa",
        "20455950253",
        "REINFO-0042",
        "Comité del Premio de MACDESA",
        "2,000.000",  # the declared capacity in grams
        "1,200.000",  # the 30-day limit: 10 miners x 4 g x 30 days
        "FM-MAC-7",
        "Certificadora Andina",
        "Suspended from",
    ):
        assert text in section, text
    assert 'id="org-trader"' not in page and 'id="org-cecomip"' in page


def received_with_discrepancy(session: Session, ctx: Context, chain: Chain) -> str:
    """A lot sold by the mine and received 2 % light: a weight discrepancy flag."""
    lot_id = register(session, ctx, chain.mine)
    lots.dispatch_lot(
        session,
        ctx,
        actor=chain.mine,
        lot_id=lot_id,
        to=chain.trader,
        price=90_000_000,
        reference_price=90_000_000,
    )
    lots.receive_lot(session, ctx, actor=chain.trader, lot_id=lot_id, mass_mg=980_000)
    return lot_id


def test_flags_list_and_review(
    client: FlaskClient, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = received_with_discrepancy(ledger, ctx, chain)
    flag = ledger.execute(select(Flag).where(Flag.lot_id == lot_id)).scalar_one()
    token = log_in(client, "standard_body")
    page = client.get("/flags").get_data(as_text=True)
    for text in ("Received lighter than dispatched", lot_id, "Trader", str(flag.seq), flag.detail):
        assert text in page, text
    assert flag.severity == "review"
    # A review states its outcome and what was found (a ledger event naming the reviewer).
    note = "The trader's scale was recalibrated."
    response = client.post(
        f"/flags/{flag.id}/review",
        data={"csrf_token": token, "show": "open", "outcome": "cleared", "note": note},
    )
    assert response.status_code == 302
    ledger.expire_all()
    assert ledger.get(Flag, flag.id).reviewed  # type: ignore[union-attr]
    assert lot_id not in client.get("/flags").get_data(as_text=True)
    reviewed = client.get("/flags?show=reviewed").get_data(as_text=True)
    assert lot_id in reviewed and "recalibrated" in reviewed
    assert client.post("/flags/999999/review", data={"csrf_token": token}).status_code == 404


def test_reviewing_a_flag_needs_the_csrf_token(
    client: FlaskClient, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = received_with_discrepancy(ledger, ctx, chain)
    flag = ledger.execute(select(Flag).where(Flag.lot_id == lot_id)).scalar_one()
    log_in(client, "auditor")
    assert client.post(f"/flags/{flag.id}/review").status_code == 400
    ledger.expire_all()
    assert not ledger.get(Flag, flag.id).reviewed  # type: ignore[union-attr]


# "Verify now" runs a real thread with its own session, so it needs a database of its own.


@pytest.fixture
def live_app(fresh_database_url: str, settings: Settings) -> Iterator[Flask]:
    migrate.upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    ctx = Context(settings)
    with Session(engine) as session, session.begin():
        organizations.bootstrap(session, ctx)
        ledger_with_events(session, ctx, 40)
        transparency.cut_checkpoint(session, ctx)
        add_people(session, ctx, "auditor")
    engine.dispose()
    app = create_app(settings.with_overrides(database_url=fresh_database_url))
    yield app
    app.extensions["goldtrace"]["sessions"].kw["bind"].dispose()


def finished(client: FlaskClient, status_url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = client.get(status_url)
        assert response.status_code == 200
        status: dict[str, Any] = response.json  # type: ignore[assignment]
        if status["state"] != "running":
            return status
        time.sleep(0.05)
    raise AssertionError("the verification did not finish in 60 s")


def verify_now(client: FlaskClient, token: str) -> tuple[str, dict[str, Any]]:
    response = client.post("/ledger/verify", data={"csrf_token": token})
    assert response.status_code == 302
    job_id = re.search(r"job=(\w+)", response.headers["Location"]).group(1)  # type: ignore[union-attr]
    return job_id, finished(client, f"/ledger/verify/{job_id}")


def test_verify_now_reports_an_intact_ledger_then_the_first_bad_seq(live_app: Flask) -> None:
    client = live_app.test_client()
    token = log_in(client, "auditor")
    page = client.get("/ledger").get_data(as_text=True)
    assert "Latest checkpoint" in page and "goldtrace.test/log" in page

    job_id, status = verify_now(client, token)
    assert status["state"] == "done" and status["ok"] is True
    size = status["size"]
    assert status["done"] == status["total"] == size > 40
    assert status["checkpoints"] == 1 and status["first_fault"] is None
    page = client.get(f"/ledger?job={job_id}").get_data(as_text=True)
    assert "The ledger is intact." in page and 'class="verdict ok"' in page

    engine = live_app.extensions["goldtrace"]["sessions"].kw["bind"]
    with engine.begin() as conn:
        body = conn.execute(select(Event.body).where(Event.seq == 17)).scalar_one()
        conn.execute(
            update(Event)
            .where(Event.seq == 17)
            .values(body=body[:5] + bytes([body[5] ^ 1]) + body[6:])
        )
    job_id, status = verify_now(client, token)
    assert status["state"] == "done" and status["ok"] is False
    assert status["first_fault"]["seq"] == 17
    page = client.get(f"/ledger?job={job_id}").get_data(as_text=True)
    assert 'class="verdict bad"' in page and "First bad entry: 17." in page


def test_a_job_unknown_to_this_process_is_reported(client: FlaskClient, chain: Chain) -> None:
    log_in(client, "auditor")
    response = client.get("/ledger/verify/no-such-job")
    assert response.status_code == 404 and response.json == {
        "id": "no-such-job",
        "state": "unknown",
    }
    page = client.get("/ledger?job=no-such-job").get_data(as_text=True)
    assert "That verification is not known here" in page
    assert "Verify now" in page


def test_a_running_verification_shows_a_progress_bar_that_works_without_script(
    app: Flask, ledger: Session
) -> None:
    running = JobStatus(
        id="abc123", state="running", done=5000, total=20000, started_at="2026-01-01T00:00:00.000Z"
    )
    with app.test_request_context("/ledger?job=abc123"):
        page = render_template(
            "oversight/ledger.html",
            tree=transparency.head(ledger),
            checkpoint=None,
            job=running,
        )
    assert 'data-verify-status="/ledger/verify/abc123"' in page
    assert '<progress id="verify-progress" max="20000" value="5000">' in page
    assert 'href="/ledger?job=abc123#verification"' in page  # the refresh link
    assert '<script src="/static/verify.js" defer>' in page
    assert "<script>" not in page  # no inline script: the CSP forbids it
    assert "Verify now" not in page
