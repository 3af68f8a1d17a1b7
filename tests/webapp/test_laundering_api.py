"""The laundering rules at the edge: bad national ids, RUCs and dates answer 4xx and write nothing;
flags are listed and reviewed over the API by auditors and the standard body only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from builders import Chain, bearer, certified_chain, lima_today, recent, run_cli
from goldtrace.db.models import Event
from goldtrace.domain.organizations import OrgProfile
from goldtrace.services import organizations, registry
from goldtrace.services.context import Context


@pytest.fixture
def chain(ledger: Session, ctx: Context) -> Chain:
    return certified_chain(ledger, ctx)


def events(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Event)).scalar_one())


def lot_body(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "form": "ore",
        "mass_g": "300",
        "fineness": "10",
        "category": "fairmined",
        "produced_on": recent().isoformat(),
    }
    return {**body, **changes}


@pytest.fixture
def pickers(ledger: Session, ctx: Context, chain: Chain) -> dict[str, str]:
    organizations.register_org(
        ledger,
        ctx,
        actor="arm",
        profile=OrgProfile(
            id="pallaqueras",
            name="Pallaqueras",
            kind="mine",
            miners=40,
            capacity_mg_month=2_640_000,
            pickers=True,
        ),
    )
    registry.record_certification(
        ledger,
        ctx,
        actor="arm",
        org_id="pallaqueras",
        category="fairmined",
        number="FM-PAL",
        valid_from=date(2020, 1, 1),
        valid_until=date(2030, 1, 1),
    )
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
    return bearer(ledger, "pallaqueras")


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"picker": "4100000"}, 400, "bad_person_id"),
        ({"picker": "DNI 4100000X"}, 400, "bad_person_id"),
        ({"picker": "41000099"}, 422, "unknown_picker"),
        ({}, 400, "picker_required"),
        (
            {"produced_on": (lima_today() + timedelta(days=1)).isoformat(), "picker": "41000002"},
            422,
            "produced_in_future",
        ),
        (
            {"produced_on": (lima_today() - timedelta(days=60)).isoformat(), "picker": "41000002"},
            422,
            "registered_too_late",
        ),
        ({"produced_on": "2026-02-30", "picker": "41000002"}, 400, "invalid_input"),
        ({"mass_g": "7000", "picker": "41000002"}, 422, "picker_limit_exceeded"),
    ],
)
def test_bad_registrations_answer_4xx_and_write_nothing(
    client: FlaskClient,
    ledger: Session,
    pickers: dict[str, str],
    changes: dict[str, object],
    status: int,
    code: str,
) -> None:
    before = events(ledger)
    r = client.post("/api/v1/lots", json=lot_body(**changes), headers=pickers)
    assert r.status_code == status, r.get_json()
    assert r.get_json()["error"]["code"] == code
    assert events(ledger) == before


def test_a_registered_picker_in_any_spelling_registers(
    client: FlaskClient, ledger: Session, pickers: dict[str, str]
) -> None:
    r = client.post("/api/v1/lots", json=lot_body(picker=" dni-41000002 "), headers=pickers)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["flags"] == []


def test_flags_are_listed_filtered_and_reviewed_by_overseers_only(
    client: FlaskClient, ledger: Session, ctx: Context, chain: Chain
) -> None:
    mine = bearer(ledger, chain.mine)
    body = {
        "form": "dore",
        "mass_g": "500",
        "fineness": "900",
        "category": "fairmined",
        "produced_on": recent().isoformat(),
    }
    assert (
        client.post("/api/v1/lots", json=body | {"reference": "A"}, headers=mine).status_code == 201
    )
    r = client.post("/api/v1/lots", json=body | {"reference": "B"}, headers=mine)
    assert r.get_json()["flags"][0]["kind"] == "possible_duplicate"
    assert r.get_json()["flags"][0]["severity"] == "review"
    organizations.register_org(
        ledger, ctx, actor="arm", profile=OrgProfile(id="auditora", name="A", kind="auditor")
    )
    auditor = bearer(ledger, "auditora", role="auditor")
    assert client.get("/api/v1/flags", headers=mine).status_code == 403
    listed = client.get("/api/v1/flags?status=open&severity=review", headers=auditor)
    assert listed.status_code == 200
    (flag,) = listed.get_json()["flags"]
    assert (flag["kind"], flag["lot"], flag["status"]) == (
        "possible_duplicate",
        r.get_json()["id"],
        "open",
    )
    assert client.get("/api/v1/flags?severity=high", headers=auditor).get_json()["flags"] == []
    for bad in ("status=closed", "severity=urgent", "since=yesterday", "limit=x", "limit=0"):
        answer = client.get(f"/api/v1/flags?{bad}", headers=auditor)
        assert answer.status_code == 400, bad
    before = events(ledger)
    refused = client.post(
        f"/api/v1/flags/{flag['id']}/review",
        json={"outcome": "maybe", "note": "x"},
        headers=auditor,
    )
    assert refused.status_code == 400 and events(ledger) == before
    done = client.post(
        f"/api/v1/flags/{flag['id']}/review",
        json={"outcome": "cleared", "note": "dos bolsas pesadas el mismo día"},
        headers=auditor,
    )
    assert done.status_code == 200, done.get_json()
    review = done.get_json()["review"]
    assert review["reviewer"] == "auditor.auditora@example.org" and review["outcome"] == "cleared"
    assert events(ledger) == before + 1
    again = client.post(
        f"/api/v1/flags/{flag['id']}/review",
        json={"outcome": "cleared", "note": "x"},
        headers=auditor,
    )
    assert again.status_code == 409
    assert (
        client.get("/api/v1/flags?status=reviewed", headers=auditor).get_json()["flags"][0][
            "review"
        ]["seq"]
        == review["seq"]
    )


def test_the_cli_refuses_bad_rucs_and_mines_without_capacity_in_one_line(
    fresh_database_url: str,
) -> None:
    cli, database_url = run_cli, fresh_database_url
    assert cli(database_url, "init-db").returncode == 0
    bad = cli(
        database_url,
        "org",
        "add",
        "--id",
        "mina-x",
        "--name",
        "X",
        "--kind",
        "mine",
        "--miners",
        "10",
        "--capacity-g-month",
        "100",
        "--ruc",
        "20100047219",
    )
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1
    assert "RUC" in bad.stderr
    bare = cli(database_url, "org", "add", "--id", "mina-y", "--name", "Y", "--kind", "mine")
    assert bare.returncode == 1 and "capacity" in bare.stderr
    picker = cli(
        database_url,
        "picker",
        "add",
        "--number",
        "123",
        "--name",
        "Z",
        "--association",
        "arm",
        "--from",
        "2026-01-01",
    )
    assert picker.returncode == 1 and len(picker.stderr.strip().splitlines()) == 1
