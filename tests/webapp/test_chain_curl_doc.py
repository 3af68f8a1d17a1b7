"""docs/api.md's worked example, replayed over the test client: the figures the guide shows are the
figures the API gives, and every error code the guide's example meets is in its table of codes.

The guide's responses were captured from a real server; this test notices when the API drifts from
them (a changed rounding, tolerance, premium or error code) so that the guide is updated with it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from builders import FAR_FUTURE, FAR_PAST, bearer, recent
from goldtrace.domain.organizations import OrgProfile
from goldtrace.services import organizations, premiums, registry
from goldtrace.services.context import Context

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api.md"


@pytest.fixture
def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


@pytest.fixture
def documented_codes(guide: str) -> dict[str, int]:
    """The guide's table of error codes: code -> status."""
    table = guide[guide.index("## Error codes") : guide.index("## A whole chain with curl")]
    return {
        code: int(status) for code, status in re.findall(r"^\| `(\w+)` \| (\d{3}) \|", table, re.M)
    }


@pytest.fixture
def h(ledger: Session, ctx: Context) -> dict[str, dict[str, str]]:
    """The guide's organizations (as `goldtrace org add/certify/authorize` makes them) and tokens."""
    premiums.seed_rates(ledger, ctx)  # what `goldtrace init-db` does after the genesis event
    body = organizations.standard_body_id(ledger)
    # `goldtrace premium reference-price`: USD 2,674.90 a troy ounce, the guide's USD 86.00 a gram.
    premiums.record_reference_price(
        ledger, ctx, actor=body, day=FAR_PAST, cents_per_troy_oz=267_490
    )
    profiles = [
        OrgProfile(
            id="cecomip",
            name="CECOMIP",
            kind="mine",
            region="Puno",
            ruc="20448765432",
            miners=100,
            capacity_mg_month=9_000_000,
            committee="Comité del Premio de CECOMIP",
        ),
        OrgProfile(id="andes-trading", name="Andes Trading SAC", kind="trader", region="Lima"),
        OrgProfile(id="refinadora", name="Refinadora del Sur", kind="refiner", region="Arequipa"),
        OrgProfile(id="joyeria-lima", name="Joyería Lima", kind="jeweler", region="Lima"),
    ]
    for profile in profiles:
        organizations.register_org(ledger, ctx, actor=body, profile=profile)
    registry.record_certification(
        ledger,
        ctx,
        actor=body,
        org_id="cecomip",
        category="fairmined",
        number="FM-PE-0001",
        valid_from=FAR_PAST,
        valid_until=FAR_FUTURE,
    )
    for org, role in (
        ("andes-trading", "supplier"),
        ("refinadora", "supplier"),
        ("joyeria-lima", "licensee"),
    ):
        registry.record_authorization(
            ledger,
            ctx,
            actor=body,
            org_id=org,
            role=role,
            valid_from=FAR_PAST,
            valid_until=FAR_FUTURE,
        )
    return {p.id: bearer(ledger, p.id) for p in profiles}


def test_the_guides_chain_gives_the_guides_figures(
    client: FlaskClient, h: dict[str, dict[str, str]], guide: str, documented_codes: dict[str, int]
) -> None:
    mine, trader, refiner, jeweler = (
        h["cecomip"],
        h["andes-trading"],
        h["refinadora"],
        h["joyeria-lima"],
    )
    shown: list[str] = []  # figures the guide must show

    def ok(method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
        r = client.open(f"/api/v1{path}", method=method, json=body, headers=headers)
        assert r.status_code in (200, 201), r.get_json()
        return r.get_json()

    def refused(method: str, path: str, headers: dict[str, str], body: Any, code: str) -> None:
        r = client.open(f"/api/v1{path}", method=method, json=body, headers=headers)
        error = r.get_json()["error"]
        assert error["code"] == code, error
        assert documented_codes.get(code) == r.status_code, (
            f"{code} {r.status_code} not in the guide"
        )

    lot = ok(
        "POST",
        "/lots",
        mine,
        {
            "form": "dore",
            "mass_g": "1250.125",
            "fineness": "912.5",
            "category": "fairmined",
            "produced_on": recent(20).isoformat(),
            "reference": "CEC-2026-118",
        },
    )
    assert lot["fine_g"] == "1140.739"
    lot_id = lot["id"]
    sale = ok(
        "POST",
        f"/lots/{lot_id}/dispatch",
        mine,
        {"to": "andes-trading", "price_usd_per_g": "84.20", "reference_price_usd_per_g": "86.00"},
    )
    seen = ok("GET", f"/lots/{lot_id}", trader)
    assert seen["sale"] == {
        "buyer": "andes-trading",
        "price_usd_per_g": "84.20",
        "reference_price_usd_per_g": "86.00",
        "seller": "cecomip",
    }
    public = client.get(f"/api/v1/events/{sale['seq']}").get_json()["body"]
    assert "84.2" not in public and "84200000" not in public
    assert '"amount_cents":456296' in public
    shown += ['"amount_cents": 456296', "USD 4,562.96"]

    received = ok("POST", f"/lots/{lot_id}/receive", trader, {"mass_g": "1250.100"})
    assert (received["fine_g"], received["flags"]) == ("1140.716", [])
    ok("POST", f"/lots/{lot_id}/dispatch", trader, {"to": "refinadora"})
    assert "sale" not in ok("GET", f"/lots/{lot_id}", refiner)
    received = ok("POST", f"/lots/{lot_id}/receive", refiner, {"mass_g": "1248.000"})
    assert received["fine_g"] == "1138.800"
    assert [f["kind"] for f in received["flags"]] == ["weight_discrepancy"]
    assayed = ok(
        "POST",
        f"/lots/{lot_id}/assay",
        refiner,
        {"fineness": "910.8", "lab": "Laboratorio Arequipa"},
    )
    assert (assayed["fine_g"], assayed["flags"]) == ("1136.678", [])
    refined = ok(
        "POST",
        "/transformations",
        refiner,
        {
            "kind": "refine",
            "inputs": [lot_id],
            "outputs": [
                {
                    "form": "grain",
                    "mass_g": "1130.000",
                    "fineness": "999.9",
                    "reference": "RS-G-0042",
                }
            ],
        },
    )
    grain = refined["lots"][0]
    assert (grain["fine_g"], refined["flags"]) == ("1129.887", [])
    ok("POST", f"/lots/{grain['id']}/dispatch", refiner, {"to": "joyeria-lima"})
    ok("POST", f"/lots/{grain['id']}/receive", jeweler, {"mass_g": "1130.000"})
    made = ok(
        "POST",
        "/transformations",
        jeweler,
        {
            "kind": "manufacture",
            "inputs": [grain["id"]],
            "alloy_mass_g": "380.000",
            "outputs": [
                {
                    "form": "jewelry_item",
                    "mass_g": "12.000",
                    "fineness": "750",
                    "reference": "Anillo Titicaca",
                },
                {"form": "semi_finished", "mass_g": "1490.000", "fineness": "750"},
            ],
        },
    )
    ring, rest = made["lots"]
    assert (ring["fine_g"], rest["fine_g"], made["flags"]) == ("9.000", "1117.500", [])
    prov = ok("GET", f"/lots/{ring['id']}/provenance", jeweler)
    assert prov["verified"] is True
    assert [e["type"] for e in prov["events"]] == [
        "lot.register",
        "lot.dispatch",
        "lot.receive",
        "lot.dispatch",
        "lot.receive",
        "lot.assay",
        "lot.transform",
        "lot.dispatch",
        "lot.receive",
        "lot.transform",
    ]
    losses = [e["summary"]["loss_g"] for e in prov["events"] if e["type"] == "lot.transform"]
    assert losses == ["6.791", "3.387"]
    shown += ["1140.739", "1140.716", "1138.800", "1136.678", "1129.887", "1117.500", "6.791"]
    shown += ['"loss_g": "3.387"', "weight_discrepancy"]

    # The refusals of the guide's section 7, each with the code and status its table gives.
    refused("GET", "/lots", {}, None, "unauthenticated")
    refused("GET", "/lots", {"Authorization": "Bearer gt_made-up"}, None, "invalid_token")
    register = {"form": "dore", "fineness": "912.5", "category": "fairmined"}
    register["produced_on"] = recent(1).isoformat()
    refused("POST", "/lots", mine, {**register, "mass_g": 1250.125}, "float_not_allowed")
    refused("POST", "/lots", mine, {**register, "mass_g": "1250.1255"}, "invalid_input")
    second = ok(
        "POST",
        "/lots",
        mine,
        {**register, "mass_g": "310.000", "fineness": "880", "produced_on": recent(2).isoformat()},
    )
    prices = {"price_usd_per_g": "80.00", "reference_price_usd_per_g": "86.00"}
    refused(
        "POST",
        f"/lots/{second['id']}/dispatch",
        mine,
        {"to": "andes-trading", **prices},
        "price_below_minimum",
    )
    refused(
        "POST", f"/lots/{second['id']}/dispatch", mine, {"to": "andes-trading"}, "price_required"
    )
    refused(
        "POST",
        "/lots",
        mine,
        {**register, "mass_g": "8000.000", "fineness": "999.9"},
        "capacity_exceeded",
    )
    shown.append("CECOMIP would register 9412.739 g of fine gold")
    refused(
        "POST",
        "/lots",
        mine,
        {**register, "mass_g": "100.000", "category": "fairmined_ecological"},
        "not_ecological",
    )
    refused("GET", f"/lots/{lot_id}", jeweler, None, "unknown_lot")
    refused("GET", "/lots?holder=cecomip", jeweler, None, "forbidden")
    refused("POST", f"/lots/{ring['id']}/dispatch", refiner, {"to": "andes-trading"}, "not_holder")
    refused("POST", f"/lots/{ring['id']}/dispatch", jeweler, {"to": "nobody"}, "unknown_org")
    refused("POST", f"/lots/{ring['id']}/dispatch", jeweler, {"to": "cecomip"}, "recipient_kind")
    refused("POST", f"/lots/{grain['id']}/dispatch", jeweler, {"to": "refinadora"}, "lot_consumed")
    refused(
        "POST", f"/lots/{grain['id']}/receive", jeweler, {"mass_g": "1130.000"}, "not_in_transit"
    )
    melt = {"kind": "melt", "inputs": [ring["id"]]}
    scrap = {"form": "scrap", "mass_g": "12.000"}
    refused(
        "POST",
        "/transformations",
        jeweler,
        {**melt, "outputs": [{**scrap, "fineness": "760"}]},
        "fine_gold_created",
    )
    refused(
        "POST",
        "/transformations",
        jeweler,
        {**melt, "outputs": [{**scrap, "fineness": "740", "category": "fairmined_ecological"}]},
        "segregation",
    )
    refused("POST", f"/events/{sale['seq']}/void", mine, {"reason": "wrong buyer"}, "built_upon")
    refused("POST", f"/events/{sale['seq']}/void", trader, {"reason": "wrong buyer"}, "not_author")
    voided = ok(
        "POST", f"/events/{second['seq']}/void", mine, {"reason": "registered twice by mistake"}
    )
    assert voided["status"] == "voided"

    missing = [figure for figure in shown if figure not in guide]
    assert not missing, f"docs/api.md no longer shows {missing}: re-run its example"


def test_provenance_speaks_per_mille_like_the_rest_of_the_api(
    client: FlaskClient, h: dict[str, dict[str, str]]
) -> None:
    mine = h["cecomip"]
    lot = client.post(
        "/api/v1/lots",
        json={
            "form": "dore",
            "mass_g": "100.000",
            "fineness": "912.5",
            "category": "fairmined",
            "produced_on": recent().isoformat(),
        },
        headers=mine,
    ).get_json()
    r = client.post(f"/api/v1/lots/{lot['id']}/assay", json={"fineness": "910.8"}, headers=mine)
    assert r.status_code == 200
    prov = client.get(f"/api/v1/lots/{lot['id']}/provenance", headers=mine).get_json()
    assay = next(e for e in prov["events"] if e["type"] == "lot.assay")
    assert assay["summary"]["fineness"] == "910.8"
