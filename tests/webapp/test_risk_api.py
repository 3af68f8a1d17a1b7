"""GET /api/v1/risk/mines: the signals with their reasons (Spanish by default, English on request),
for auditors and the standard body only; a bad ``months`` is one clear 400."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from builders import bearer, certified_chain
from goldtrace.domain.organizations import OrgProfile
from goldtrace.services import organizations
from goldtrace.services.context import Context
from risk_builders import AUG, JUL, NOV, OCT, SEP, add_mine, register_in

# Months up to today that still reach back to July 2026 for years to come.
URL = "/api/v1/risk/mines?months=36"


@pytest.fixture
def tokens(ledger: Session, ctx: Context) -> dict[str, dict[str, str]]:
    """A mine at 96 % of its capacity from July to November beside an ordinary one, and tokens."""
    certified_chain(ledger, ctx)
    organizations.register_org(
        ledger,
        ctx,
        actor="arm",
        profile=OrgProfile(id="auditora", name="Auditora Andina", kind="auditor"),
    )
    add_mine(ledger, ctx, "laytaruma")
    add_mine(ledger, ctx, "honesta", region="Arequipa")
    for month in (JUL, AUG, SEP, OCT, NOV):
        register_in(ledger, ctx, "laytaruma", month, 8_640_000)
        register_in(ledger, ctx, "honesta", month, 3_000_000)
    return {
        "standard_body": bearer(ledger, "arm", "standard_body"),
        "auditor": bearer(ledger, "auditora", "auditor"),
        "mine": bearer(ledger, "cecomip", "operator"),
        "trader": bearer(ledger, "trader", "admin"),
    }


def mine_of(payload: dict[str, object], mine_id: str) -> dict[str, object]:
    mines = payload["mines"]
    assert isinstance(mines, list)
    return next(m for m in mines if m["mine"] == mine_id)


@pytest.mark.parametrize("who", ["standard_body", "auditor"])
def test_overseers_get_each_mine_by_month_with_the_reasons_in_spanish(
    client: FlaskClient, tokens: dict[str, dict[str, str]], who: str
) -> None:
    response = client.get(URL, headers=tokens[who])
    assert response.status_code == 200
    payload = response.get_json()
    assert len(payload["months"]) == 36 and "2026-07" in payload["months"]
    assert payload["thresholds"]["high_use_pct"] == 90
    full = mine_of(payload, "laytaruma")
    (signal,) = full["signals"]
    assert signal["kind"] == "capacity_streak"
    assert signal["message"] == (
        "registró el 96 % de su capacidad durante 5 meses seguidos (jul 2026 a nov 2026)"
    )
    assert signal["figures"] == {"share": 96, "months": 5, "first": "2026-07", "last": "2026-11"}
    july = next(m for m in full["months"] if m["month"] == "2026-07")
    assert july["fine_g"] == "8640.000" and july["capacity_g"] == "9000.000"
    assert july["share_pct"] == 96 and july["g_per_miner_day"] == "2.787"
    assert july["lag_days_median"] == "2" and july["certified"] is True
    assert full["longest_streak"] == 5
    assert mine_of(payload, "honesta")["signals"] == []
    assert payload["mines"][0]["mine"] == "laytaruma"


def test_the_reasons_in_english(client: FlaskClient, tokens: dict[str, dict[str, str]]) -> None:
    client.set_cookie("lang", "en")
    payload = client.get(URL, headers=tokens["auditor"]).get_json()
    (signal,) = mine_of(payload, "laytaruma")["signals"]
    assert signal["message"] == (
        "registered 96 % of capacity for 5 months in a row (Jul 2026 to Nov 2026)"
    )


def test_a_region(client: FlaskClient, tokens: dict[str, dict[str, str]]) -> None:
    payload = client.get(URL + "&region=Arequipa", headers=tokens["auditor"]).get_json()
    assert payload["region"] == "Arequipa"
    assert [m["mine"] for m in payload["mines"]] == ["honesta"]


@pytest.mark.parametrize("who", ["mine", "trader"])
def test_operators_are_refused(
    client: FlaskClient, tokens: dict[str, dict[str, str]], who: str
) -> None:
    response = client.get(URL, headers=tokens[who])
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_a_token_is_needed(client: FlaskClient, tokens: dict[str, dict[str, str]]) -> None:
    assert client.get(URL).status_code == 401


@pytest.mark.parametrize("months", ["0", "37", "-3", "twelve", "1.5", "1e1"])
def test_bad_months_is_one_clear_400(
    client: FlaskClient, tokens: dict[str, dict[str, str]], months: str
) -> None:
    response = client.get(f"/api/v1/risk/mines?months={months}", headers=tokens["auditor"])
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error == {
        "code": "invalid_input",
        "message": "months: must be a whole number of months from 1 to 36",
        "fields": {"months": "must be a whole number of months from 1 to 36"},
    }


def test_unknown_parameters_are_refused_rather_than_ignored(
    client: FlaskClient, tokens: dict[str, dict[str, str]]
) -> None:
    response = client.get("/api/v1/risk/mines?month=6", headers=tokens["auditor"])
    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {"month": "Unknown field."}


def test_default_is_twelve_months(client: FlaskClient, tokens: dict[str, dict[str, str]]) -> None:
    payload = client.get("/api/v1/risk/mines", headers=tokens["auditor"]).get_json()
    assert len(payload["months"]) == 12
    assert len(mine_of(payload, "laytaruma")["months"]) == 12
