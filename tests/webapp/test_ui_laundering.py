"""The standard body's new forms (capacity, pickers, groups) and the flag review in the browser's
forms: each writes its ledger event, or refuses in Spanish and writes nothing."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from builders import Chain, certified_chain, recent
from goldtrace.db.models import CapacityChange, Event, Flag, OrgGroupMember, PickerMembership
from goldtrace.domain.organizations import OrgProfile
from goldtrace.services import accounts, lots, organizations
from goldtrace.services.context import Context
from web_forms import csrf_token, log_in

PASSWORD = "correct-horse-battery"


@pytest.fixture
def chain(ledger: Session, ctx: Context) -> Chain:
    chain = certified_chain(ledger, ctx)
    organizations.register_org(
        ledger,
        ctx,
        actor="arm",
        profile=OrgProfile(
            id="pallaqueras",
            name="Pallaqueras de Cerro Lunar",
            kind="mine",
            miners=40,
            capacity_mg_month=2_640_000,
            pickers=True,
        ),
    )
    organizations.register_org(
        ledger, ctx, actor="arm", profile=OrgProfile(id="auditora", name="A", kind="auditor")
    )
    accounts.add_user(
        ledger, email="body@example.org", org_id="arm", role="standard_body", password=PASSWORD
    )
    accounts.add_user(
        ledger, email="aud@example.org", org_id="auditora", role="auditor", password=PASSWORD
    )
    accounts.add_user(
        ledger, email="op@example.org", org_id="pallaqueras", role="operator", password=PASSWORD
    )
    return chain


def events(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Event)).scalar_one())


def post(client: FlaskClient, path: str, data: dict[str, str]) -> tuple[int, str]:
    token = csrf_token(client.get("/admin").get_data(as_text=True))
    prefix = next(iter(data)).split("-")[0]
    r = client.post(path, data={f"{prefix}-csrf_token": token, **data})
    return r.status_code, r.get_data(as_text=True)


def test_capacity_picker_and_group_forms_write_their_events(
    client: FlaskClient, ledger: Session, chain: Chain
) -> None:
    log_in(client, "body@example.org", PASSWORD)
    page = client.get("/admin").get_data(as_text=True)
    assert "Cambiar la capacidad de una mina" in page and "Registrar una pallaquera" in page
    status, _ = post(
        client,
        "/admin/capacity",
        {
            "capacity-org": chain.mine,
            "capacity-miners": "120",
            "capacity-capacity": "12000,5",
            "capacity-effective_from": recent().isoformat(),
            "capacity-reason": "auditoría 2026",
            "capacity-evidence": "AB" * 32,
        },
    )
    assert status == 302
    change = ledger.execute(select(CapacityChange)).scalar_one()
    assert (change.miners, change.capacity_mg_month, change.evidence_sha256) == (
        120,
        12_000_500,
        "ab" * 32,
    )
    status, _ = post(
        client,
        "/admin/pickers",
        {
            "picker-id_type": "DNI",
            "picker-number": " 41000002 ",
            "picker-name": "Juana Quispe",
            "picker-association": "pallaqueras",
            "picker-valid_from": "2024-01-01",
        },
    )
    assert status == 302
    assert ledger.execute(select(PickerMembership.person_id)).scalar_one() == "DNI:41000002"
    status, _ = post(
        client,
        "/admin/groups",
        {
            "group-name": "Grupo Topos",
            "group-members": f"{chain.mine}, {chain.eco_mine}",
            "group-reason": "mismo propietario",
        },
    )
    assert status == 302
    assert len(ledger.execute(select(OrgGroupMember)).all()) == 2


@pytest.mark.parametrize(
    ("path", "data"),
    [
        (
            "/admin/pickers",
            {
                "picker-id_type": "DNI",
                "picker-number": "041000002X",
                "picker-name": "Juana",
                "picker-association": "pallaqueras",
                "picker-valid_from": "2024-01-01",
            },
        ),
        (
            "/admin/capacity",
            {
                "capacity-org": "cecomip",
                "capacity-miners": "10",
                "capacity-capacity": "100",
                "capacity-effective_from": "2026-12-01",
                "capacity-reason": "x",
                "capacity-evidence": "no es un hash",
            },
        ),
        ("/admin/groups", {"group-name": "Solo", "group-members": "cecomip", "group-reason": "x"}),
    ],
)
def test_bad_admin_input_is_refused_and_writes_nothing(
    client: FlaskClient, ledger: Session, chain: Chain, path: str, data: dict[str, str]
) -> None:
    log_in(client, "body@example.org", PASSWORD)
    before = events(ledger)
    status, html = post(client, path, data)
    assert status == 422, html
    assert 'class="flash error"' in html or "refusal" in html
    assert events(ledger) == before


def test_a_picker_association_registers_a_lot_by_choosing_a_member(
    client: FlaskClient, ledger: Session, ctx: Context, chain: Chain
) -> None:
    from datetime import date

    from goldtrace.services import registry

    registry.register_picker(
        ledger,
        ctx,
        actor="arm",
        id_type="DNI",
        number="41000002",
        name="Juana Quispe",
        association="pallaqueras",
        valid_from=date(2024, 1, 1),
    )
    log_in(client, "op@example.org", PASSWORD)
    page = client.get("/lots/new").get_data(as_text=True)
    assert "Juana Quispe (DNI 41000002)" in page
    token = csrf_token(page)
    r = client.post(
        "/lots/new",
        data={
            "csrf_token": token,
            "form": "ore",
            "mass_g": "300",
            "fineness": "10",
            "category": "none",
            "produced_on": recent().isoformat(),
            "picker": "DNI:41000002",
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    r = client.post(
        "/lots/new",
        data={
            "csrf_token": token,
            "form": "ore",
            "mass_g": "300",
            "fineness": "10",
            "category": "none",
            "produced_on": recent().isoformat(),
            "picker": "",
        },
    )
    assert r.status_code == 422


def test_an_auditor_reviews_a_flag_with_outcome_and_note(
    client: FlaskClient, ledger: Session, ctx: Context, chain: Chain
) -> None:
    for reference in ("A", "B"):
        lots.register_lot(
            ledger,
            ctx,
            actor=chain.mine,
            form="dore",
            mass_mg=500_000,
            fineness=9_000,
            category="fairmined",
            produced_on=recent(),
            reference=reference,
        )
    flag = ledger.execute(select(Flag)).scalar_one()
    log_in(client, "aud@example.org", PASSWORD)
    page = client.get("/flags").get_data(as_text=True)
    assert "Posible registro duplicado" in page and "revisar" in page
    token = csrf_token(page)
    before = events(ledger)
    empty = client.post(
        f"/flags/{flag.id}/review", data={"csrf_token": token, "outcome": "cleared", "note": " "}
    )
    assert empty.status_code == 302 and events(ledger) == before
    done = client.post(
        f"/flags/{flag.id}/review",
        data={"csrf_token": token, "outcome": "confirmed", "note": "mismo lote"},
    )
    assert done.status_code == 302 and events(ledger) == before + 1
    ledger.refresh(flag)
    assert (flag.reviewer, flag.review_outcome) == ("aud@example.org", "confirmed")
    shown = client.get("/flags?show=reviewed").get_data(as_text=True)
    assert "mismo lote" in shown and "aud@example.org" in shown
