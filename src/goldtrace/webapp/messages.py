"""Refusals in plain words for people, by error code, in their language.

The domain raises with a precise English message for logs, the API and auditors; a person at a form
reads the sentence below (and can open the precise one).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from goldtrace.errors import GoldtraceError

PLAIN: dict[str, object] = {
    "not_certified": _l(
        "The mine holds no active Fairmined certification for that category on the production date."
    ),
    "not_ecological": _l(
        "Ecological gold can only be registered by a mine certified as Fairmined Ecological."
    ),
    "capacity_exceeded": _l(
        "This lot would take the mine above what it can produce in 30 days. "
        "The standard body can review an exception."
    ),
    "picker_limit_exceeded": _l("An individual ore picker may sell at most 66 g a month."),
    "not_holder": _l("Your organization does not hold this lot."),
    "in_transit": _l("This lot is in transit: it must be received first."),
    "lot_consumed": _l("This lot was already used in a transformation."),
    "lot_voided": _l("This lot was voided."),
    "lot_already_certified": _l(
        "This lot already has a valid certificate: revoke it before issuing another."
    ),
    "not_in_transit": _l("This lot is not waiting to be received."),
    "not_recipient": _l("This lot was sent to another organization."),
    "self_dispatch": _l("A lot cannot be sent to its own holder."),
    "recipient_kind": _l("Lots can only be sent to traders, refiners or jewelers."),
    "recipient_not_authorized": _l(
        "The recipient is not an authorized Fairmined supplier or licensee on this date."
    ),
    "price_required": _l("A mine's first sale must state the price and the reference price."),
    "price_not_applicable": _l("Prices are only recorded on a mine's first sale."),
    "price_below_minimum": _l(
        "The price is below the Fairmined minimum: 95 percent of the reference price."
    ),
    "fine_gold_created": _l("The outputs would contain more fine gold than the inputs."),
    "mass_created": _l("The outputs would weigh more than the inputs and the alloy."),
    "segregation": _l(
        "Fairmined gold cannot come from inputs that are not Fairmined (or Ecological from non-Ecological)."
    ),
    "transformation_shape": _l(
        "This kind of transformation needs a different number of inputs or outputs."
    ),
    "duplicate_input": _l("A lot is listed twice among the inputs."),
    "alloy_not_allowed": _l("Alloy metal is only added when alloying or manufacturing."),
    "built_upon": _l("This event cannot be voided: later events build on it."),
    "already_voided": _l("This event was already voided."),
    "not_author": _l(
        "Only the organization that recorded the event, or the standard body, may void it."
    ),
    "not_a_mine": _l("Only a mine can do this."),
    "unknown_org": _l("There is no such organization."),
    "unknown_lot": _l("There is no such lot."),
    "forbidden": _l("You may not see or do this."),
    "not_standard_body": _l("Only the standard body may do this."),
    "duplicate_org": _l("An organization with that id already exists."),
    "duplicate_email": _l("A user with that email already exists."),
    "bad_role": _l("That role does not fit the organization."),
    "invalid_input": _l("Some fields are not valid."),
    "too_many_attempts": _l("Too many failed attempts. Wait 15 minutes and try again."),
    "unauthenticated": _l("Wrong email or password."),
    "duplicate_certificate": _l("A certification with that number is already recorded."),
    "unknown_certification": _l("There is no certification with that number."),
    "not_downstream": _l(
        "Only traders, refiners and jewelers can be authorized suppliers or licensees."
    ),
    "weak_password": _l("A password needs at least 10 characters."),
    "produced_in_future": _l("The production date cannot be after today (in Peru)."),
    "registered_too_late": _l(
        "The production date is too long ago: lots are registered within 31 days of production. "
        "The standard body can review an exception."
    ),
    "not_certified_on_registration": _l(
        "The mine's certification for that category does not hold today, the registration date."
    ),
    "not_certified_on_sale": _l(
        "The mine's certification for this lot's category does not hold on the sale date."
    ),
    "duplicate_reference": _l("The mine already registered a lot with that reference."),
    "picker_required": _l("Choose the picker (pallaquera) who sold this ore."),
    "picker_not_applicable": _l("Only an association of pickers names a picker."),
    "unknown_picker": _l("That person is not a registered picker of this association."),
    "picker_inactive": _l("That picker's membership does not cover these dates."),
    "bad_person_id": _l("That national id is not valid: a DNI has exactly 8 digits."),
    "duplicate_picker": _l("That person is already registered with this association."),
    "not_a_picker_association": _l("That organization is not an association of pickers."),
    "capacity_required": _l(
        "A mine is onboarded with its number of miners and its monthly capacity."
    ),
    "bad_ruc": _l("That RUC is not valid: 11 digits whose last one is SUNAT's check digit."),
    "duplicate_ruc": _l("Another organization already has that RUC."),
    "no_reference_price": _l(
        "The standard body has recorded no reference price on or before the sale date."
    ),
    "reference_price_mismatch": _l(
        "The reference price stated differs by more than 2 percent from the standard body's."
    ),
    "unattributed_gold": _l(
        "Part of this lot's fine gold was registered by no mine: it cannot be certified."
    ),
    "already_reviewed": _l("This flag was already reviewed."),
    "unknown_flag": _l("There is no such flag."),
}


def plain(exc: GoldtraceError) -> str:
    """The person-facing sentence for a refusal (falls back to the precise message)."""
    message = PLAIN.get(exc.code)
    return str(message) if message is not None else exc.message
