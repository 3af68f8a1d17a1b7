"""Request and response schemas of the JSON API (marshmallow); the OpenAPI document is built from them.

Quantities travel as decimal strings. A JSON number where a quantity belongs is refused, since a binary
float cannot say "1250.125 g" exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from goldtrace.domain import quantities
from goldtrace.domain.certification import CATEGORIES
from goldtrace.domain.instants import parse_date
from goldtrace.domain.lots import FORMS, TRANSFORM_KINDS
from goldtrace.domain.premiums import INVESTMENT_CATEGORIES
from goldtrace.errors import InvalidInput


class _Quantity(fields.Field[int]):
    """A decimal string parsed by one of the domain's parsers into an integer."""

    parser: Callable[[Any, str], int] = staticmethod(quantities.parse_mass)
    example = "1250.125"

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> int:
        try:
            return self.parser(value, attr or "value")
        except InvalidInput as exc:
            raise ValidationError(exc.message) from None


class Mass(_Quantity):
    """Grams as a decimal string with up to 3 decimals, e.g. "1250.125"."""


class Fineness(_Quantity):
    """Per mille as a decimal string with up to 1 decimal, e.g. "999.9"."""

    parser = staticmethod(quantities.parse_fineness)
    example = "912.5"


class Price(_Quantity):
    """USD per gram of fine gold as a decimal string, e.g. "84.50"."""

    example = "84.50"

    @staticmethod
    def parser(value: Any, field: str) -> int:
        return quantities.parse_price(value, field)


class Day(fields.Field[date]):
    """A calendar date YYYY-MM-DD."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> date:
        try:
            return parse_date(value, attr or "date")
        except InvalidInput as exc:
            raise ValidationError(exc.message) from None


_TEXT = validate.Length(min=1, max=100)


class LotCreate(Schema):
    form = fields.String(required=True, validate=validate.OneOf(FORMS))
    mass_g = Mass(required=True)
    fineness = Fineness(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    produced_on = Day(required=True)
    reference = fields.String(validate=_TEXT)
    picker = fields.String(validate=validate.Length(min=1, max=64))


class Dispatch(Schema):
    to = fields.String(required=True, validate=validate.Length(min=1, max=64))
    price_usd_per_g = Price()
    reference_price_usd_per_g = Price()


class Receive(Schema):
    mass_g = Mass(required=True)
    fineness = Fineness()


class Assay(Schema):
    fineness = Fineness(required=True)
    lab = fields.String(validate=_TEXT)


class Output(Schema):
    form = fields.String(required=True, validate=validate.OneOf(FORMS))
    mass_g = Mass(required=True)
    fineness = Fineness(required=True)
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    reference = fields.String(validate=_TEXT)


class Transformation(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(TRANSFORM_KINDS))
    inputs = fields.List(
        fields.String(validate=validate.Length(min=1, max=32)),
        required=True,
        validate=validate.Length(min=1, max=1000),
    )
    outputs = fields.List(
        fields.Nested(Output), required=True, validate=validate.Length(min=1, max=1000)
    )
    alloy_mass_g = Mass()


class Void(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class Origin(Schema):
    mine = fields.String()
    fine_g = fields.String()
    share = fields.String()


class LotOut(Schema):
    id = fields.String()
    form = fields.String()
    mass_g = fields.String()
    fineness = fields.String()
    fine_g = fields.String()
    category = fields.String()
    holder = fields.String()
    status = fields.String()
    in_transit_to = fields.String(allow_none=True)
    mine = fields.String(allow_none=True)
    produced_on = fields.String(allow_none=True)
    reference = fields.String(allow_none=True)
    origins = fields.List(fields.Nested(Origin))
    unattributed_g = fields.String()
    unattributed_share = fields.String()
    head = fields.String()
    created_seq = fields.Integer()
    updated_seq = fields.Integer()


class WriteOut(Schema):
    seq = fields.Integer()
    hash = fields.String()
    lots = fields.List(fields.Nested(LotOut))
    flags = fields.List(fields.Dict())


class FlagOut(Schema):
    id = fields.Integer()
    seq = fields.Integer()
    kind = fields.String()
    severity = fields.String(validate=validate.OneOf(("info", "review", "high")))
    lot = fields.String(allow_none=True)
    org = fields.String()
    occurred_at = fields.String()
    detail = fields.String()
    figures = fields.Dict()
    status = fields.String(validate=validate.OneOf(("open", "reviewed")))
    review = fields.Dict()


class FlagsOut(Schema):
    flags = fields.List(fields.Nested(FlagOut))


class ErrorOut(Schema):
    error = fields.Dict()


def load(schema: Schema, data: Any) -> dict[str, Any]:
    """Validate ``data`` against ``schema``; InvalidInput naming every bad field otherwise."""
    if not isinstance(data, dict):
        raise InvalidInput("the request body must be a JSON object", code="invalid_json")
    try:
        result: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        problems = _flatten(exc.messages)
        first = next(iter(problems.items()), ("body", "invalid"))
        raise InvalidInput(f"{first[0]}: {first[1]}", fields=problems) from None
    return result


def _flatten(messages: Any, path: str = "") -> dict[str, str]:
    """Marshmallow's nested messages as {"outputs.0.mass_g": "message"}."""
    flat: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            flat.update(_flatten(value, f"{path}.{key}" if path else str(key)))
    elif isinstance(messages, list):
        texts = [m for m in messages if isinstance(m, str)]
        if texts:
            flat[path or "body"] = " ".join(texts)
        for item in messages:
            if isinstance(item, dict):
                flat.update(_flatten(item, path))
    return flat


class Money(_Quantity):
    """USD as a decimal string with up to 2 decimals, e.g. "4506.17"."""

    example = "4506.17"

    @staticmethod
    def parser(value: Any, field: str) -> int:
        cents = quantities.parse_money(value, field)
        if cents <= 0:
            raise InvalidInput(f"{field} must be more than zero", fields={field: "not positive"})
        return cents


class PaymentIn(Schema):
    committee = fields.String(required=True, validate=validate.Length(min=1, max=64))
    amount_usd = Money(required=True)
    paid_on = Day(required=True)
    method = fields.String(validate=validate.Length(min=1, max=50))
    reference = fields.String(validate=_TEXT)
    obligations = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=0)),
        validate=validate.Length(min=1, max=1000),
    )


class InvestmentIn(Schema):
    amount_usd = Money(required=True)
    spent_on = Day(required=True)
    category = fields.String(required=True, validate=validate.OneOf(INVESTMENT_CATEGORIES))
    description = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    receipt_sha256 = fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$"))


class ObligationOut(Schema):
    id = fields.Integer()
    committee = fields.String()
    buyer = fields.String()
    lot = fields.String()
    category = fields.String()
    fine_g = fields.String()
    rate_usd_per_kg = fields.String()
    amount_usd = fields.String()
    paid_usd = fields.String()
    outstanding_usd = fields.String()
    sold_on = fields.String()


class CommitteeOut(Schema):
    committee = fields.String()
    name = fields.String()
    owed_usd = fields.String()
    received_usd = fields.String()
    outstanding_usd = fields.String()
    invested_usd = fields.String()
    balance_usd = fields.String()
    statement = fields.Dict()
    ageing = fields.Dict()
