"""Who may call what: every lot endpoint of the API x every kind of caller.

Each endpoint is called in a state where the operation is possible for the right caller (a lot held by
the mine, in transit to the trader, held by the refiner...). Exactly the callers listed as allowed
succeed; every other one is refused without writing anything: 401 without a (valid) token, 404 for
reading a lot the caller may not see (its existence is not disclosed), 403 for any other refusal.

Prices are private: the ``sale`` block of a lot goes only to its seller, its buyer, auditors and the
standard body, and the public event of a first sale carries only a commitment to the terms.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import REFERENCE_MICRO, Chain, bearer, certified_chain, move, register
from goldtrace.db.models import Lot, SaleTerms
from goldtrace.domain.events import SaleTerms as Terms
from goldtrace.domain.organizations import OrgProfile
from goldtrace.services import lots, organizations
from goldtrace.services.context import Context
from lot_states import fill, in_transit_to_trader, mine_lot, refiner_lot, state, trader_lot

AUDITOR = "auditora"

# caller id -> (organization, role); None is a request without any Authorization header.
CALLERS: dict[str, tuple[str, str] | None] = {
    "mine": ("cecomip", "operator"),
    "trader": ("trader", "operator"),
    "refiner": ("refiner", "operator"),
    "jeweler": ("jeweler", "operator"),
    "other_mine": ("oro-puno", "operator"),
    "auditor": (AUDITOR, "auditor"),
    "standard_body": ("arm", "standard_body"),
    "no_token": None,
    "unknown_token": None,
}


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


def headers_for(session: Session, caller: str) -> dict[str, str]:
    if caller == "no_token":
        return {}
    if caller == "unknown_token":
        return {"Authorization": "Bearer gt_" + "A" * 43}
    who = CALLERS[caller]
    assert who is not None
    return bearer(session, *who)


# --- the state each endpoint is called in ------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One operation, the state it is called in, and who may perform it."""

    name: str
    method: str
    path: str
    body: dict[str, Any] | None
    setup: Callable[[Session, Context, Chain], dict[str, str]]
    allowed: frozenset[str]
    ok: int = 200
    denied: int = 403  # the status for a caller with a valid token who is not allowed
    denied_code: str = "not_holder"
    writes: bool = True


SEES_TRADER_LOT = frozenset({"mine", "trader", "auditor", "standard_body"})
WITH_TOKEN = frozenset(c for c in CALLERS if CALLERS[c] is not None)

ENDPOINTS = [
    Endpoint(
        "register",
        "POST",
        "/api/v1/lots",
        {
            "form": "dore",
            "mass_g": "100.000",
            "fineness": "900",
            "category": "fairmined",
            "produced_on": "2026-11-10",
        },
        lambda s, c, ch: {},
        frozenset({"mine", "other_mine"}),
        ok=201,
        denied_code="not_a_mine",
    ),
    Endpoint(
        "list",
        "GET",
        "/api/v1/lots",
        None,
        trader_lot,
        WITH_TOKEN,
        writes=False,
    ),
    Endpoint(
        "show",
        "GET",
        "/api/v1/lots/{lot}",
        None,
        trader_lot,
        SEES_TRADER_LOT,
        denied=404,
        denied_code="unknown_lot",
        writes=False,
    ),
    Endpoint(
        "provenance",
        "GET",
        "/api/v1/lots/{lot}/provenance",
        None,
        trader_lot,
        SEES_TRADER_LOT,
        denied=404,
        denied_code="unknown_lot",
        writes=False,
    ),
    Endpoint(
        "dispatch",
        "POST",
        "/api/v1/lots/{lot}/dispatch",
        {"to": "trader", "price_usd_per_g": "90.00", "reference_price_usd_per_g": "90.00"},
        mine_lot,
        frozenset({"mine"}),
    ),
    Endpoint(
        "receive",
        "POST",
        "/api/v1/lots/{lot}/receive",
        {"mass_g": "1000.000"},
        in_transit_to_trader,
        frozenset({"trader"}),
        denied_code="not_recipient",
    ),
    Endpoint(
        "assay",
        "POST",
        "/api/v1/lots/{lot}/assay",
        {"fineness": "895.5", "lab": "Laboratorio Juliaca"},
        refiner_lot,
        frozenset({"refiner"}),
    ),
    Endpoint(
        "transform",
        "POST",
        "/api/v1/transformations",
        {
            "kind": "refine",
            "inputs": ["{lot}"],
            "outputs": [{"form": "grain", "mass_g": "890.000", "fineness": "999.9"}],
        },
        refiner_lot,
        frozenset({"refiner"}),
        ok=201,
    ),
    Endpoint(
        "void",
        "POST",
        "/api/v1/events/{seq}/void",
        {"reason": "registered twice by mistake"},
        mine_lot,
        frozenset({"mine", "standard_body"}),
        denied_code="not_author",
    ),
]


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_exactly_the_allowed_callers_may_call_each_endpoint(
    client: FlaskClient,
    ledger: Session,
    ctx: Context,
    chain: Chain,
    endpoint: Endpoint,
    caller: str,
) -> None:
    values = endpoint.setup(ledger, ctx, chain)
    headers = headers_for(ledger, caller)
    ledger.flush()
    before = state(ledger)

    response = client.open(
        endpoint.path.format_map(values),
        method=endpoint.method,
        json=fill(endpoint.body, values) if endpoint.body is not None else None,
        headers=headers,
    )

    text = response.get_data(as_text=True)[:500]
    after = state(ledger)
    if caller in endpoint.allowed:
        assert response.status_code == endpoint.ok, text
        assert after[0]["log size"] == before[0]["log size"] + (1 if endpoint.writes else 0)
        return
    error = response.get_json()["error"]
    assert error["message"]
    if CALLERS[caller] is None:
        assert response.status_code == 401, text
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert error["code"] == ("unauthenticated" if caller == "no_token" else "invalid_token")
    else:
        assert response.status_code == endpoint.denied, text
        assert error["code"] == endpoint.denied_code
    if endpoint.denied == 404 and CALLERS[caller] is not None:
        # Exactly what a lot that does not exist gets: nothing tells the caller it exists.
        assert error == {
            "code": "unknown_lot",
            "message": f"unknown lot {values['lot']!r}",
            "fields": {"lot": "unknown"},
        }
    assert after == before


@pytest.mark.parametrize(
    ("caller", "sees"),
    [
        ("mine", False),  # sold it: no longer holds it
        ("trader", True),
        ("refiner", False),
        ("jeweler", False),
        ("other_mine", False),
        ("auditor", True),
        ("standard_body", True),
    ],
)
def test_a_list_shows_only_what_the_caller_holds_or_is_sent_unless_it_oversees(
    client: FlaskClient, ledger: Session, ctx: Context, chain: Chain, caller: str, sees: bool
) -> None:
    lot_id = trader_lot(ledger, ctx, chain)["lot"]
    headers = headers_for(ledger, caller)
    listed = client.get("/api/v1/lots", headers=headers).get_json()["lots"]
    assert (lot_id in [x["id"] for x in listed]) is sees
    assert all("sale" not in x for x in listed)
    # Listing another organization's lots is for overseers only.
    r = client.get("/api/v1/lots?holder=trader", headers=headers)
    if caller in ("trader", "auditor", "standard_body"):
        assert r.status_code == 200
        assert lot_id in [x["id"] for x in r.get_json()["lots"]]
    else:
        assert r.status_code == 403
        assert r.get_json()["error"]["code"] == "forbidden"


# Micro-USD per gram: digits no other field contains; the reference within 2 % of the recorded one.
PRICE, REFERENCE = 86_123_456, 88_654_321


@pytest.fixture
def sold_and_refined(ledger: Session, ctx: Context, chain: Chain) -> tuple[str, int]:
    """A lot the mine sold to the trader at PRICE, moved on to the refiner; and the sale's seq."""
    lot_id = register(ledger, ctx, chain.mine)
    written = lots.dispatch_lot(
        ledger,
        ctx,
        actor=chain.mine,
        lot_id=lot_id,
        to=chain.trader,
        price=PRICE,
        reference_price=REFERENCE,
    )
    lots.receive_lot(ledger, ctx, actor=chain.trader, lot_id=lot_id, mass_mg=1_000_000)
    move(ledger, ctx, lot_id, chain.trader, chain.refiner)
    # The ecological mine's own sale to the trader, at other prices.
    eco_lot = register(ledger, ctx, chain.eco_mine, category="fairmined_ecological")
    lots.dispatch_lot(
        ledger,
        ctx,
        actor=chain.eco_mine,
        lot_id=eco_lot,
        to=chain.trader,
        price=99_000_000,
        reference_price=REFERENCE_MICRO,
    )
    return lot_id, written.seq


def price_texts() -> list[str]:
    return ["86.123456", "88.654321", str(PRICE), str(REFERENCE)]


@pytest.mark.parametrize(
    ("caller", "sees_sale"),
    [
        ("mine", True),  # the seller
        ("trader", True),  # the buyer
        ("refiner", False),  # holds the lot now, but was not party to the sale
        ("auditor", True),
        ("standard_body", True),
    ],
)
def test_sale_terms_only_for_seller_buyer_auditor_and_standard_body(
    client: FlaskClient,
    ledger: Session,
    sold_and_refined: tuple[str, int],
    caller: str,
    sees_sale: bool,
) -> None:
    lot_id, _ = sold_and_refined
    headers = headers_for(ledger, caller)
    r = client.get(f"/api/v1/lots/{lot_id}", headers=headers)
    assert r.status_code == 200
    shown = r.get_json()
    if sees_sale:
        assert shown["sale"] == {
            "seller": "cecomip",
            "buyer": "trader",
            "price_usd_per_g": "86.123456",
            "reference_price_usd_per_g": "88.654321",
        }
    else:
        assert "sale" not in shown
        assert not any(p in r.get_data(as_text=True) for p in price_texts())
    # Nowhere else do prices appear: not in lists, not in provenance.
    for path in ("/api/v1/lots", f"/api/v1/lots/{lot_id}/provenance"):
        r = client.get(path, headers=headers)
        assert r.status_code == 200
        assert not any(p in r.get_data(as_text=True) for p in price_texts()), path
        assert "99.00" not in r.get_data(as_text=True)


def test_another_mines_prices_are_never_shown(
    client: FlaskClient, ledger: Session, sold_and_refined: tuple[str, int]
) -> None:
    # The trader bought from both mines; each mine sees its own terms and nothing of the other's.
    eco_lot = ledger.execute(select(Lot.id).where(Lot.mine_id == "oro-puno")).scalar_one()
    lot_id, _ = sold_and_refined
    mine = headers_for(ledger, "mine")
    other = headers_for(ledger, "other_mine")
    assert client.get(f"/api/v1/lots/{eco_lot}", headers=mine).status_code == 404
    assert client.get(f"/api/v1/lots/{lot_id}", headers=other).status_code == 404
    eco = client.get(f"/api/v1/lots/{eco_lot}", headers=other).get_json()
    assert eco["sale"]["price_usd_per_g"] == "99.00"
    for headers in (mine, other):
        text = client.get("/api/v1/lots", headers=headers).get_data(as_text=True)
        assert "sale" not in text


def test_the_public_event_of_a_first_sale_carries_only_a_commitment(
    client: FlaskClient, ledger: Session, sold_and_refined: tuple[str, int]
) -> None:
    lot_id, seq = sold_and_refined
    r = client.get(f"/api/v1/events/{seq}")  # public: no token
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert not any(p in text for p in price_texts())
    body = json.loads(r.get_json()["body"])
    assert body["type"] == "lot.dispatch" and body["lot"] == lot_id and body["to"] == "trader"
    assert not {"price", "reference", "price_usd_per_g", "salt"} & set(body)
    # Public facts only: who sent what to whom, the terms commitment, and the premium owed (which
    # follows from the fine gold and the published rate, not from the price).
    assert set(body) <= {
        "v",
        "type",
        "actor",
        "occurred_at",
        "prev",
        "lot",
        "to",
        "terms",
        "premium",
    }
    # The commitment binds the private terms: seller and buyer can prove them, nobody can read them.
    terms = ledger.execute(select(SaleTerms).where(SaleTerms.seq == seq)).scalar_one()
    assert (
        body["terms"]
        == Terms(
            terms.price_microusd_per_g, terms.reference_microusd_per_g, terms.salt
        ).commitment()
    )
    assert len(terms.salt) == 16
    guess = json.dumps(
        {"price": PRICE, "reference": REFERENCE, "salt": ""}, sort_keys=True, separators=(",", ":")
    )
    assert body["terms"] != hashlib.sha256(guess.encode()).hexdigest()


def test_a_later_sale_has_no_terms(
    client: FlaskClient, ledger: Session, ctx: Context, chain: Chain
) -> None:
    lot_id = trader_lot(ledger, ctx, chain)["lot"]
    written = lots.dispatch_lot(ledger, ctx, actor=chain.trader, lot_id=lot_id, to=chain.refiner)
    body = json.loads(client.get(f"/api/v1/events/{written.seq}").get_json()["body"])
    assert "terms" not in body
    assert ledger.execute(select(SaleTerms).where(SaleTerms.seq == written.seq)).first() is None
