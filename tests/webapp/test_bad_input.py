"""Bad input over HTTP: every case is a 4xx with a clear JSON error, and the ledger is left untouched.

One table of cases. Each case builds the state it needs in-process (services and builders, inside the
test's rolled-back transaction), then makes exactly one bad request as one organization's operator.
Afterwards the log has the same size and the lots are exactly as they were: no lot created, moved,
consumed or voided.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from builders import (
    FAR_FUTURE,
    FAR_PAST,
    Chain,
    bearer,
    certified_chain,
    lima_today,
    recent,
    register,
)
from goldtrace.domain.lots import OutputSpec
from goldtrace.domain.organizations import OrgProfile
from goldtrace.services import lots, organizations, registry
from goldtrace.services.context import Context
from lot_states import (
    Setup,
    fill,
    in_transit_to_refiner,
    in_transit_to_trader,
    mine_lot,
    refiner_lot,
    state,
    trader_lot,
)


def nothing(session: Session, ctx: Context, chain: Chain) -> dict[str, str]:
    return {}


def built_upon(session: Session, ctx: Context, chain: Chain) -> dict[str, str]:
    """A registration that a later dispatch builds on."""
    return in_transit_to_trader(session, ctx, chain)


def voided(session: Session, ctx: Context, chain: Chain) -> dict[str, str]:
    """A registration the mine has already voided."""
    values = mine_lot(session, ctx, chain)
    lots.void_event(session, ctx, actor=chain.mine, seq=int(values["seq"]), reason="typo")
    return values


def consumed(session: Session, ctx: Context, chain: Chain) -> dict[str, str]:
    """A lot the refiner has refined: consumed, though the refiner is still its holder."""
    values = refiner_lot(session, ctx, chain)
    lots.transform(
        session,
        ctx,
        actor=chain.refiner,
        kind="refine",
        inputs=[values["lot"]],
        outputs=[OutputSpec(id="", form="grain", mass_mg=890_000, fineness=9_999)],
    )
    return values


def unlicensed_trader(session: Session, ctx: Context, chain: Chain) -> dict[str, str]:
    """A trader with no supplier authorization, and a Fairmined lot held by the mine."""
    organizations.register_org(
        session,
        ctx,
        actor=chain.body,
        profile=OrgProfile(id="unlicensed", name="Compraventa Sin Licencia", kind="trader"),
    )
    return mine_lot(session, ctx, chain)


def half_capacity_used(session: Session, ctx: Context, chain: Chain) -> dict[str, str]:
    """The mine (declared 9 kg fine a month) has registered 5 kg of fine gold this month."""
    register(session, ctx, chain.mine, mass_mg=5_000_000, fineness=10_000, day=recent(5))
    return {}


def certified_mine(
    session: Session, ctx: Context, chain: Chain, org_id: str, valid_from: date, valid_until: date
) -> None:
    """A mine certified Fairmined from ``valid_from`` to ``valid_until``."""
    organizations.register_org(
        session,
        ctx,
        actor=chain.body,
        profile=OrgProfile(
            id=org_id, name=org_id.title(), kind="mine", miners=20, capacity_mg_month=10**7
        ),
    )
    registry.record_certification(
        session,
        ctx,
        actor=chain.body,
        org_id=org_id,
        category="fairmined",
        number=f"FM-{org_id.upper()}",
        valid_from=valid_from,
        valid_until=valid_until,
    )


def certified_last_week(session: Session, ctx: Context, chain: Chain) -> dict[str, str]:
    """A mine certified only from five days ago: the lot (produced ten days ago) predates it."""
    certified_mine(session, ctx, chain, "mina-nueva", lima_today() - timedelta(days=5), FAR_FUTURE)
    return {"produced_on": recent(10).isoformat()}


def certificate_ended(session: Session, ctx: Context, chain: Chain) -> dict[str, str]:
    """A mine whose certificate ended five days ago: the lot (produced three days ago) is after it."""
    certified_mine(session, ctx, chain, "mina-vieja", FAR_PAST, lima_today() - timedelta(days=5))
    return {"produced_on": recent(3).isoformat()}


def small_mine(session: Session, ctx: Context, chain: Chain) -> dict[str, str]:
    """A certified mine of 2 miners declaring 100 kg a month: 2 x 4 g x 30 days = 240 g binds."""
    organizations.register_org(
        session,
        ctx,
        actor=chain.body,
        profile=OrgProfile(
            id="small-mine", name="Mina Chica", kind="mine", miners=2, capacity_mg_month=10**8
        ),
    )
    registry.record_certification(
        session,
        ctx,
        actor=chain.body,
        org_id="small-mine",
        category="fairmined",
        number="FM-SMALL",
        valid_from=FAR_PAST,
        valid_until=FAR_FUTURE,
    )
    return {}


PICKER = "41000002"


def pickers_association(session: Session, ctx: Context, chain: Chain) -> dict[str, str]:
    """A certified association of pickers with one registered picker, PICKER."""
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
        number=PICKER,
        name="Rosa Quispe",
        association="pallay",
        valid_from=FAR_PAST,
    )
    return {}


def picker_sold_40g(session: Session, ctx: Context, chain: Chain) -> dict[str, str]:
    """PICKER sold 40 g of fine gold through her association five days ago."""
    values = pickers_association(session, ctx, chain)
    lots.register_lot(
        session,
        ctx,
        actor="pallay",
        form="ore",
        mass_mg=40_000,
        fineness=10_000,
        category="fairmined",
        produced_on=recent(5),
        picker=PICKER,
    )
    return values


@dataclass(frozen=True)
class Case:
    """One bad request: who sends it, where, with what, and the refusal expected."""

    id: str
    method: str
    path: str
    # A JSON-able value (placeholders {lot}/{seq}, and {produced_on}: three days ago in Peru unless
    # the setup says otherwise, filled in), bytes sent raw, or None.
    body: Any
    status: int
    code: str | None  # None where the code is not a stable part of the contract
    actor: str = "cecomip"
    setup: Setup = nothing


LOT = {
    "form": "dore",
    "mass_g": "1000.000",
    "fineness": "900",
    "category": "fairmined",
    "produced_on": "{produced_on}",
}
# The reference price the chain's standard body recorded (USD 90 a gram).
PRICES = {"price_usd_per_g": "90.00", "reference_price_usd_per_g": "90.00"}
REFINE = {"kind": "refine", "inputs": ["{lot}"]}


def lot_with(**changes: Any) -> dict[str, Any]:
    """The registration body LOT with some fields changed (None removes a field)."""
    data = {**LOT, **changes}
    return {k: v for k, v in data.items() if v is not None}


def grain(mass_g: Any = "890.000", fineness: Any = "999.9", **extra: Any) -> dict[str, Any]:
    return {"form": "grain", "mass_g": mass_g, "fineness": fineness, **extra}


def refine_into(*outputs: dict[str, Any]) -> dict[str, Any]:
    return {**REFINE, "outputs": list(outputs)}


def case(*args: Any, **kwargs: Any) -> Any:
    c = Case(*args, **kwargs)
    return pytest.param(c, id=c.id)


LOTS = "/api/v1/lots"
DISPATCH = "/api/v1/lots/{lot}/dispatch"
RECEIVE = "/api/v1/lots/{lot}/receive"
ASSAY = "/api/v1/lots/{lot}/assay"
TRANSFORM = "/api/v1/transformations"
VOID = "/api/v1/events/{seq}/void"

CASES = [
    # --- masses -------------------------------------------------------------------------------
    case("mass zero", "POST", LOTS, lot_with(mass_g="0"), 400, "invalid_input"),
    case("mass 0.000", "POST", LOTS, lot_with(mass_g="0.000"), 400, "invalid_input"),
    case("mass negative", "POST", LOTS, lot_with(mass_g="-5"), 400, "invalid_input"),
    case("mass non-numeric", "POST", LOTS, lot_with(mass_g="twelve"), 400, "invalid_input"),
    case("mass empty string", "POST", LOTS, lot_with(mass_g=""), 400, "invalid_input"),
    case("mass exponent", "POST", LOTS, lot_with(mass_g="1e3"), 400, "invalid_input"),
    case("mass NaN string", "POST", LOTS, lot_with(mass_g="NaN"), 400, "invalid_input"),
    case("mass comma decimal", "POST", LOTS, lot_with(mass_g="12,5"), 400, "invalid_input"),
    case(
        "mass just over 100 t", "POST", LOTS, lot_with(mass_g="100000000.001"), 400, "invalid_input"
    ),
    case("mass 15 digits", "POST", LOTS, lot_with(mass_g="9" * 15), 400, "invalid_input"),
    case("mass 40 digits", "POST", LOTS, lot_with(mass_g="9" * 40), 400, "invalid_input"),
    case("mass 4 decimals", "POST", LOTS, lot_with(mass_g="12.5001"), 400, "invalid_input"),
    case(
        "mass arabic-indic digits",
        "POST",
        LOTS,
        lot_with(mass_g="\u0661\u0662"),
        400,
        "invalid_input",
    ),
    case(
        "mass fullwidth digits",
        "POST",
        LOTS,
        lot_with(mass_g="\uff11\uff12"),
        400,
        "invalid_input",
    ),
    case("mass JSON float", "POST", LOTS, lot_with(mass_g=12.5), 400, "float_not_allowed"),
    case("mass JSON integer", "POST", LOTS, lot_with(mass_g=12), 400, "invalid_input"),
    case("mass JSON true", "POST", LOTS, lot_with(mass_g=True), 400, "invalid_input"),
    case("mass JSON huge integer", "POST", LOTS, lot_with(mass_g=10**30), 400, "invalid_input"),
    case(
        "receive mass zero",
        "POST",
        RECEIVE,
        {"mass_g": "0"},
        400,
        "invalid_input",
        actor="trader",
        setup=in_transit_to_trader,
    ),
    case(
        "receive mass JSON number",
        "POST",
        RECEIVE,
        {"mass_g": 1000},
        400,
        "invalid_input",
        actor="trader",
        setup=in_transit_to_trader,
    ),
    case(
        "output mass 4 decimals",
        "POST",
        TRANSFORM,
        refine_into(grain(mass_g="1.0001")),
        400,
        "invalid_input",
        actor="refiner",
        setup=refiner_lot,
    ),
    # --- fineness ------------------------------------------------------------------------------
    case("fineness above 1000", "POST", LOTS, lot_with(fineness="1000.1"), 400, "invalid_input"),
    case("fineness 1001", "POST", LOTS, lot_with(fineness="1001"), 400, "invalid_input"),
    case("fineness negative", "POST", LOTS, lot_with(fineness="-1"), 400, "invalid_input"),
    case("fineness two decimals", "POST", LOTS, lot_with(fineness="999.99"), 400, "invalid_input"),
    case("fineness JSON float", "POST", LOTS, lot_with(fineness=999.9), 400, "float_not_allowed"),
    case("fineness JSON integer", "POST", LOTS, lot_with(fineness=750), 400, "invalid_input"),
    case(
        "assay fineness above 1000",
        "POST",
        ASSAY,
        {"fineness": "1000.5"},
        400,
        "invalid_input",
        setup=mine_lot,
    ),
    case(
        "output fineness negative",
        "POST",
        TRANSFORM,
        refine_into(grain(fineness="-999")),
        400,
        "invalid_input",
        actor="refiner",
        setup=refiner_lot,
    ),
    # --- shape of the body ---------------------------------------------------------------------
    case("unknown field", "POST", LOTS, lot_with(colour="yellow"), 400, "invalid_input"),
    case(
        "unknown field in an output",
        "POST",
        TRANSFORM,
        refine_into(grain(colour="red")),
        400,
        "invalid_input",
        actor="refiner",
        setup=refiner_lot,
    ),
    case(
        "unknown field on dispatch",
        "POST",
        DISPATCH,
        {"to": "trader", **PRICES, "premium_usd": "1.00"},
        400,
        "invalid_input",
        setup=mine_lot,
    ),
    case("missing mass", "POST", LOTS, lot_with(mass_g=None), 400, "invalid_input"),
    case("missing category", "POST", LOTS, lot_with(category=None), 400, "invalid_input"),
    case("missing production date", "POST", LOTS, lot_with(produced_on=None), 400, "invalid_input"),
    case("empty object", "POST", LOTS, {}, 400, "invalid_input"),
    case("missing recipient", "POST", DISPATCH, PRICES, 400, "invalid_input", setup=mine_lot),
    case(
        "missing received mass",
        "POST",
        RECEIVE,
        {},
        400,
        "invalid_input",
        actor="trader",
        setup=in_transit_to_trader,
    ),
    case(
        "missing outputs",
        "POST",
        TRANSFORM,
        REFINE,
        400,
        "invalid_input",
        actor="refiner",
        setup=refiner_lot,
    ),
    case(
        "no inputs",
        "POST",
        TRANSFORM,
        {"kind": "refine", "inputs": [], "outputs": [grain()]},
        400,
        "invalid_input",
        actor="refiner",
    ),
    case(
        "inputs not a list",
        "POST",
        TRANSFORM,
        {**refine_into(grain()), "inputs": "{lot}"},
        400,
        "invalid_input",
        actor="refiner",
        setup=refiner_lot,
    ),
    case("missing void reason", "POST", VOID, {}, 400, "invalid_input", setup=mine_lot),
    case(
        "blank void reason",
        "POST",
        VOID,
        {"reason": "   "},
        400,
        "invalid_input",
        setup=mine_lot,
    ),
    case(
        "reference of 101 characters",
        "POST",
        LOTS,
        lot_with(reference="r" * 101),
        400,
        "invalid_input",
    ),
    case(
        "void reason of 501 characters",
        "POST",
        VOID,
        {"reason": "r" * 501},
        400,
        "invalid_input",
        setup=mine_lot,
    ),
    case("unknown form", "POST", LOTS, lot_with(form="nugget"), 400, "invalid_input"),
    case("unknown category", "POST", LOTS, lot_with(category="platinum"), 400, "invalid_input"),
    case("impossible date", "POST", LOTS, lot_with(produced_on="2026-02-30"), 400, "invalid_input"),
    case("date as number", "POST", LOTS, lot_with(produced_on=20261110), 400, "invalid_input"),
    case(
        "recipient as number",
        "POST",
        DISPATCH,
        {"to": 7, **PRICES},
        400,
        "invalid_input",
        setup=mine_lot,
    ),
    case(
        "unknown transformation kind",
        "POST",
        TRANSFORM,
        {**refine_into(grain()), "kind": "transmute"},
        400,
        "invalid_input",
        actor="refiner",
        setup=refiner_lot,
    ),
    case(
        "split into one output",
        "POST",
        TRANSFORM,
        {**refine_into(grain()), "kind": "split"},
        400,
        "transformation_shape",
        actor="refiner",
        setup=refiner_lot,
    ),
    case(
        "input listed twice",
        "POST",
        TRANSFORM,
        {**refine_into(grain()), "inputs": ["{lot}", "{lot}"]},
        400,
        "duplicate_input",
        actor="refiner",
        setup=refiner_lot,
    ),
    case(
        "alloy mass on a refine",
        "POST",
        TRANSFORM,
        {**refine_into(grain()), "alloy_mass_g": "10.000"},
        400,
        "alloy_not_allowed",
        actor="refiner",
        setup=refiner_lot,
    ),
    # --- not JSON, or not the JSON we accept ---------------------------------------------------
    case("malformed JSON", "POST", LOTS, b'{"form": "dore",', 400, "invalid_json"),
    case("empty body", "POST", LOTS, b"", 400, "invalid_json"),
    case("body not UTF-8", "POST", LOTS, b'{"form": "\xff"}', 400, "invalid_json"),
    case("body a JSON array", "POST", LOTS, [LOT], 400, "invalid_json"),
    case("body JSON null", "POST", LOTS, b"null", 400, "invalid_json"),
    case("NaN literal", "POST", LOTS, b'{"mass_g": NaN}', 400, "invalid_json"),
    case("deeply nested JSON", "POST", LOTS, b"[" * 200_000, 400, "invalid_json"),
    case(
        "duplicate JSON keys",
        "POST",
        LOTS,
        json.dumps(LOT)[:-1].encode() + b', "mass_g": "1.000"}',
        400,
        "duplicate_key",
    ),
    case(
        "body over 1 MB",
        "POST",
        LOTS,
        json.dumps(lot_with(reference="x" * (1024 * 1024))).encode(),
        413,
        None,
    ),
    # --- unknown things ------------------------------------------------------------------------
    case(
        "dispatch of unknown lot",
        "POST",
        "/api/v1/lots/GT-NONE-XXXX/dispatch",
        {"to": "trader", **PRICES},
        404,
        "unknown_lot",
    ),
    case(
        "receive of unknown lot",
        "POST",
        "/api/v1/lots/GT-NONE-XXXX/receive",
        {"mass_g": "1.000"},
        404,
        "unknown_lot",
        actor="trader",
    ),
    case(
        "assay of unknown lot",
        "POST",
        "/api/v1/lots/GT-NONE-XXXX/assay",
        {"fineness": "900"},
        404,
        "unknown_lot",
    ),
    case(
        "transform of unknown lot",
        "POST",
        TRANSFORM,
        {**refine_into(grain()), "inputs": ["GT-NONE-XXXX"]},
        404,
        "unknown_lot",
        actor="refiner",
    ),
    case(
        "unknown lot id 300 chars",
        "POST",
        "/api/v1/lots/" + "G" * 300 + "/assay",
        {"fineness": "900"},
        404,
        "unknown_lot",
    ),
    case(
        "void of unknown event",
        "POST",
        "/api/v1/events/999999/void",
        {"reason": "typo"},
        404,
        "unknown_event",
    ),
    case(
        "void of event 2**63-1",
        "POST",
        f"/api/v1/events/{2**63 - 1}/void",
        {"reason": "typo"},
        404,
        "unknown_event",
    ),
    case(
        "void of event 2**63",
        "POST",
        f"/api/v1/events/{2**63}/void",
        {"reason": "typo"},
        404,
        "unknown_event",
    ),
    case("read event 2**63-1", "GET", f"/api/v1/events/{2**63 - 1}", None, 404, "unknown_event"),
    case(
        "read event 2**63",
        "GET",
        f"/api/v1/events/{2**63}",
        None,
        404,
        "unknown_event",
    ),
    case(
        "void of organization event",
        "POST",
        "/api/v1/events/0/void",
        {"reason": "typo"},
        409,
        "not_voidable",
        actor="arm",
    ),
    case("void twice", "POST", VOID, {"reason": "typo"}, 409, "already_voided", setup=voided),
    case(
        "dispatch to nobody",
        "POST",
        DISPATCH,
        {"to": "nobody", **PRICES},
        404,
        "unknown_org",
        setup=mine_lot,
    ),
    case(
        "dispatch to a mine",
        "POST",
        DISPATCH,
        {"to": "oro-puno", **PRICES},
        422,
        "recipient_kind",
        setup=mine_lot,
    ),
    case(
        "dispatch to the standard body",
        "POST",
        DISPATCH,
        {"to": "arm", **PRICES},
        422,
        "recipient_kind",
        setup=mine_lot,
    ),
    case(
        "dispatch to oneself",
        "POST",
        DISPATCH,
        {"to": "cecomip", **PRICES},
        400,
        "self_dispatch",
        setup=mine_lot,
    ),
    # --- custody -------------------------------------------------------------------------------
    case(
        "dispatch by a non-holder",
        "POST",
        DISPATCH,
        {"to": "refiner"},
        403,
        "not_holder",
        actor="trader",
        setup=mine_lot,
    ),
    case(
        "assay by a non-holder",
        "POST",
        ASSAY,
        {"fineness": "900"},
        403,
        "not_holder",
        actor="refiner",
        setup=mine_lot,
    ),
    case(
        "receive by the wrong organization",
        "POST",
        RECEIVE,
        {"mass_g": "1000.000"},
        403,
        "not_recipient",
        actor="refiner",
        setup=in_transit_to_trader,
    ),
    case(
        "receive by the sender",
        "POST",
        RECEIVE,
        {"mass_g": "1000.000"},
        403,
        "not_recipient",
        setup=in_transit_to_trader,
    ),
    case(
        "receive twice",
        "POST",
        RECEIVE,
        {"mass_g": "1000.000"},
        409,
        "not_in_transit",
        actor="trader",
        setup=trader_lot,
    ),
    case(
        "receive a lot never dispatched",
        "POST",
        RECEIVE,
        {"mass_g": "1000.000"},
        409,
        "not_in_transit",
        setup=mine_lot,
    ),
    case(
        "dispatch a lot in transit",
        "POST",
        DISPATCH,
        {"to": "jeweler"},
        409,
        "in_transit",
        actor="trader",
        setup=in_transit_to_refiner,
    ),
    case(
        "transform of a lot one does not hold",
        "POST",
        TRANSFORM,
        refine_into(grain()),
        403,
        "not_holder",
        actor="refiner",
        setup=trader_lot,
    ),
    case(
        "transform of a lot in transit, by its sender",
        "POST",
        TRANSFORM,
        refine_into(grain()),
        409,
        "in_transit",
        actor="trader",
        setup=in_transit_to_refiner,
    ),
    case(
        "transform of a lot in transit, by its recipient",
        "POST",
        TRANSFORM,
        refine_into(grain()),
        403,
        "not_holder",
        actor="refiner",
        setup=in_transit_to_refiner,
    ),
    case(
        "dispatch of a consumed lot",
        "POST",
        DISPATCH,
        {"to": "jeweler"},
        409,
        "lot_consumed",
        actor="refiner",
        setup=consumed,
    ),
    case(
        "transform of a voided lot",
        "POST",
        TRANSFORM,
        refine_into(grain()),
        409,
        "lot_voided",
        setup=voided,
    ),
    # --- rules at registration -----------------------------------------------------------------
    case(
        "not certified at the production date",
        "POST",
        LOTS,
        LOT,
        422,
        "not_certified",
        actor="mina-nueva",
        setup=certified_last_week,
    ),
    case(
        "not certified after the certificate ends",
        "POST",
        LOTS,
        LOT,
        422,
        "not_certified",
        actor="mina-vieja",
        setup=certificate_ended,
    ),
    case(
        "ecological from a non-ecological mine",
        "POST",
        LOTS,
        lot_with(category="fairmined_ecological"),
        422,
        "not_ecological",
    ),
    case("register by a trader", "POST", LOTS, LOT, 403, "not_a_mine", actor="trader"),
    case(
        "30-day declared capacity",
        "POST",
        LOTS,
        lot_with(mass_g="4000.001", fineness="1000"),
        422,
        "capacity_exceeded",
        setup=half_capacity_used,
    ),
    case(
        "30-day miners x 4 g/day",
        "POST",
        LOTS,
        lot_with(mass_g="240.001", fineness="1000"),
        422,
        "capacity_exceeded",
        actor="small-mine",
        setup=small_mine,
    ),
    case(
        "66 g picker ceiling in one lot",
        "POST",
        LOTS,
        lot_with(mass_g="66.001", fineness="1000", picker=PICKER),
        422,
        "picker_limit_exceeded",
        actor="pallay",
        setup=pickers_association,
    ),
    case(
        "66 g picker ceiling over 30 days",
        "POST",
        LOTS,
        lot_with(mass_g="26.001", fineness="1000", picker=PICKER),
        422,
        "picker_limit_exceeded",
        actor="pallay",
        setup=picker_sold_40g,
    ),
    # --- rules at dispatch ---------------------------------------------------------------------
    case(
        "recipient not authorized",
        "POST",
        DISPATCH,
        {"to": "unlicensed", **PRICES},
        422,
        "recipient_not_authorized",
        setup=unlicensed_trader,
    ),
    case(
        "first sale without prices",
        "POST",
        DISPATCH,
        {"to": "trader"},
        400,
        "price_required",
        setup=mine_lot,
    ),
    case(
        # (Only the price is enough: the reference defaults to the one recorded for the sale date.)
        "first sale with only the reference price",
        "POST",
        DISPATCH,
        {"to": "trader", "reference_price_usd_per_g": "90.00"},
        400,
        "price_required",
        setup=mine_lot,
    ),
    case(
        "price below 95 % of reference",
        "POST",
        DISPATCH,
        {"to": "trader", "price_usd_per_g": "85.49", "reference_price_usd_per_g": "90.00"},
        422,
        "price_below_minimum",
        setup=mine_lot,
    ),
    case(
        "price zero",
        "POST",
        DISPATCH,
        {"to": "trader", "price_usd_per_g": "0", "reference_price_usd_per_g": "90.00"},
        400,
        "invalid_input",
        setup=mine_lot,
    ),
    case(
        "price as JSON number",
        "POST",
        DISPATCH,
        {"to": "trader", "price_usd_per_g": 90, "reference_price_usd_per_g": "90.00"},
        400,
        "invalid_input",
        setup=mine_lot,
    ),
    case(
        "prices on a later sale",
        "POST",
        DISPATCH,
        {"to": "refiner", **PRICES},
        400,
        "price_not_applicable",
        actor="trader",
        setup=trader_lot,
    ),
    # --- rules at transformation ---------------------------------------------------------------
    case(
        "fine gold out above fine gold in",
        "POST",
        TRANSFORM,
        refine_into(grain(mass_g="900.100", fineness="1000")),
        422,
        "fine_gold_created",
        actor="refiner",
        setup=refiner_lot,
    ),
    case(
        "mass out above mass in",
        "POST",
        TRANSFORM,
        refine_into(grain(mass_g="1000.001", fineness="800")),
        422,
        "mass_created",
        actor="refiner",
        setup=refiner_lot,
    ),
    case(
        "segregation: ecological from fairmined",
        "POST",
        TRANSFORM,
        refine_into(grain(category="fairmined_ecological")),
        422,
        "segregation",
        actor="refiner",
        setup=refiner_lot,
    ),
    # --- voids ---------------------------------------------------------------------------------
    case(
        "void of an event later events build on",
        "POST",
        VOID,
        {"reason": "typo"},
        409,
        "built_upon",
        setup=built_upon,
    ),
    case(
        "void by another organization",
        "POST",
        VOID,
        {"reason": "typo"},
        403,
        "not_author",
        actor="trader",
        setup=mine_lot,
    ),
]


@pytest.mark.parametrize("bad", CASES)
def test_bad_input_is_refused_and_writes_nothing(
    client: FlaskClient, ledger: Session, ctx: Context, bad: Case
) -> None:
    chain = certified_chain(ledger, ctx)
    values = {"produced_on": recent().isoformat(), **bad.setup(ledger, ctx, chain)}
    headers = bearer(ledger, bad.actor, "standard_body" if bad.actor == chain.body else "operator")
    ledger.flush()
    before = state(ledger)

    path = fill(bad.path, values)
    if isinstance(bad.body, bytes):
        response = client.open(
            path,
            method=bad.method,
            data=bad.body,
            headers=headers,
            content_type="application/json",
        )
    else:
        response = client.open(
            path, method=bad.method, json=fill(bad.body, values), headers=headers
        )

    assert response.status_code == bad.status, response.get_data(as_text=True)[:500]
    assert response.is_json, response.get_data(as_text=True)[:500]
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"].strip()
    assert isinstance(error["fields"], dict)
    if bad.code is not None:
        assert error["code"] == bad.code, error
    if bad.code == "invalid_input" and bad.status == 400:
        assert error["fields"], "a field error names the field"
    assert state(ledger) == before
