"""The whole ledger's domain state rebuilt by replaying events in order, for ``goldtrace verify``.

Every rule is the same function the services call when the event was first written; here the facts come
from memory instead of the database. What cannot be checked from public bodies (prices, which are
committed to by hash) is checked when the private terms are supplied.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from goldtrace.domain import certificates as issued_rules
from goldtrace.domain import certification as certs
from goldtrace.domain import gains, premiums, registration
from goldtrace.domain import lots as lotrules
from goldtrace.domain.events import SaleTerms, event_date, require
from goldtrace.domain.flags import Flag
from goldtrace.domain.identities import is_normalized
from goldtrace.domain.instants import local_date, parse_date
from goldtrace.domain.keystate import KeyState
from goldtrace.domain.quantities import FINENESS_SCALE, MAX_MASS_MG
from goldtrace.errors import Conflict, InvalidInput, PermissionDenied, RuleViolation


@dataclass
class ObligationState:
    """An obligation as the ledger states it, and what has been paid on it."""

    buyer: str
    committee: str
    lot: str
    amount_cents: int
    paid_cents: int = 0
    voided: bool = False


@dataclass
class PaymentState:
    """A payment and how it was allocated."""

    buyer: str
    committee: str
    amount_cents: int
    allocations: list[tuple[int, int]]


@dataclass
class _Undo:
    """What an event changed, so that voiding it can restore the lots it touched."""

    hash: bytes
    actor: str
    before: dict[str, lotrules.LotView | None]
    # (mine, lot, picker) of a registration, whose windows and reference it counted in.
    registration: tuple[str, str, str | None] | None = None
    # (lot, gain) of a receipt or assay whose gain counted in its registration's windows.
    gain: tuple[str, int] | None = None


def _mass(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_MASS_MG:
        raise InvalidInput("a mass is not a positive integer of milligrams", code="bad_event")
    return value


def _fineness(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= FINENESS_SCALE:
        raise InvalidInput("a fineness is not an integer 0..10000", code="bad_event")
    return value


def _lot_id(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput("a lot id is missing", code="bad_event")
    return value


class Book:
    """Domain state of the ledger; ``apply`` raises a GoldtraceError when an event breaks a rule."""

    def __init__(
        self,
        terms: Mapping[int, SaleTerms] | None = None,
        *,
        max_age_days: int = registration.MAX_AGE_DAYS,
    ) -> None:
        """``terms`` are the private first-sale terms; given them (even empty), every first sale
        must have its terms and they are re-checked; without them only the commitment is checked.
        ``max_age_days`` is the registration delay the ledger was written under (Settings)."""
        self.max_age_days = max_age_days
        self.keys = KeyState()
        self.private = terms is not None
        self.terms = dict(terms or {})
        self.certs: dict[str, list[certs.Cert]] = {}
        self.auths: dict[str, list[certs.Authorization]] = {}
        self.allowances: dict[str, list[certs.Allowance]] = {}
        self.capacity: dict[str, list[registration.CapacityPeriod]] = {}
        self.late: dict[str, list[registration.LateException]] = {}
        self.memberships: dict[str, list[registration.PickerMembership]] = {}
        self.groups: dict[str, set[str]] = {}
        self.rucs: dict[str, str] = {}
        self.mine_output: dict[str, registration.Ledgered] = {}
        self.picker_output: dict[str, registration.Ledgered] = {}
        self.references: dict[tuple[str, str], str] = {}  # (mine, reference key) -> live lot
        self.reference_prices: list[tuple[date, int, int]] = []  # (day, seq, micro-USD per g)
        # Every flag the rules raised, (seq, kind) -> reviewed.
        self.flags: dict[tuple[int, str], bool] = {}
        self.pickers_of: dict[str, str | None] = {}  # registered lot -> its picker
        self.lots: dict[str, lotrules.LotView] = {}
        self.undo: dict[int, _Undo] = {}
        self.voided: set[int] = set()
        self.head_seq: dict[str, int] = {}
        self.rates: list[premiums.Rate] = []
        self.obligations: dict[int, ObligationState] = {}
        self.payments: dict[int, PaymentState] = {}
        self.received: dict[str, int] = {}
        self.invested: dict[str, int] = {}
        # Certificate id -> (issuer, issue event hash, revoked, lot); and lot id -> the lot's
        # unrevoked certificate (at most one).
        self.certificates: dict[str, tuple[str, bytes, bool, str]] = {}
        self.live_certificates: dict[str, str] = {}

    # The verifier's Rules protocol.
    def signer_for(self, seq: int, body: dict[str, Any], kid: str) -> bytes:
        """The public key that must have signed this event."""
        return self.keys.signer_for(seq, body, kid)

    def apply(self, seq: int, body: dict[str, Any], event_hash: bytes = b"") -> None:
        """Apply one event, checking every rule it is subject to."""
        kind = body.get("type")
        handler = _HANDLERS.get(str(kind))
        if handler is None:
            self.keys.apply(seq, body)
            if kind == "org.register":
                self._onboarded(seq, self.keys.orgs[str(body["org"]["id"])])
            return
        handler(self, seq, body, event_hash)

    def _onboarded(self, seq: int, profile: Any) -> None:
        if profile.ruc is not None:
            holder = self.rucs.get(profile.ruc)
            if holder is not None:
                raise Conflict(f"RUC {profile.ruc} is {holder}'s", code="duplicate_ruc")
            self.rucs[profile.ruc] = profile.id
        if profile.kind == "mine":
            self.capacity[profile.id] = [
                registration.CapacityPeriod(
                    date.min, profile.miners, profile.capacity_mg_month, seq
                )
            ]

    def reference_on(self, day: date) -> int | None:
        """The latest reference price on or before ``day`` (micro-USD per gram), as the services read it."""
        at = bisect.bisect_right(self.reference_prices, (day, 2**62, 0))
        return self.reference_prices[at - 1][2] if at else None

    def _raise_flags(self, seq: int, flags: list[Flag]) -> None:
        for flag in flags:
            self.flags[(seq, flag.kind)] = False

    def registration_facts(
        self, mine: str, req: registration.RegistrationRequest
    ) -> registration.RegistrationFacts:
        """The facts the registration rules need, from memory (as the services read them from tables)."""
        profile = self.keys.orgs[mine]
        output = self.mine_output.get(mine) or registration.Ledgered()
        key = registration.reference_key(req.reference)
        return registration.RegistrationFacts(
            mine=mine,
            mine_name=profile.name,
            capacity=self.capacity.get(mine, []),
            certs=self.certs.get(mine, []),
            allowances=self.allowances.get(mine, []),
            late_exceptions=self.late.get(mine, []),
            pickers_association=profile.pickers,
            totals=output.totals(req.produced_on, req.registered_on),
            lookalikes=output.lookalikes(req.mass_mg, req.fineness, req.produced_on),
            reference_taken=key is not None and (mine, key) in self.references,
            memberships=self.memberships.get(req.picker, []) if req.picker else (),
            picker_totals=(
                (self.picker_output.get(req.picker) or registration.Ledgered()).totals(
                    req.produced_on, req.registered_on
                )
                if req.picker
                else registration.Totals()
            ),
            max_age_days=self.max_age_days,
        )

    def _actor(self, body: dict[str, Any]) -> str:
        return str(body["actor"])

    def _org_kind(self, org: str) -> str:
        profile = self.keys.orgs.get(org)
        if profile is None:
            raise RuleViolation(f"unknown organization {org!r}", code="unknown_org")
        return profile.kind

    def _standard_body_only(self, body: dict[str, Any]) -> None:
        if body.get("actor") != self.keys.standard_body:
            raise PermissionDenied("only the standard body may do this", code="not_standard_body")

    def _lot(self, lot_id: Any) -> lotrules.LotView:
        lot = self.lots.get(str(lot_id))
        if lot is None:
            raise RuleViolation(f"unknown lot {lot_id!r}", code="unknown_lot")
        return lot

    def _touch(
        self, seq: int, event_hash: bytes, actor: str, before: dict[str, lotrules.LotView | None]
    ) -> None:
        for lot_id in before:
            previous = self.head_seq.get(lot_id)
            if previous is not None:
                self.undo.pop(previous, None)
            self.head_seq[lot_id] = seq
        self.undo[seq] = _Undo(hash=event_hash, actor=actor, before=before)

    def _check_prev(self, body: dict[str, Any], lots: list[lotrules.LotView]) -> None:
        expected = sorted({lot.head.hex() for lot in lots})
        if body.get("prev") != expected:
            raise RuleViolation("prev does not name the current head of every lot", code="bad_prev")


def _cert_record(book: Book, seq: int, body: dict[str, Any], _hash: bytes) -> None:
    book._standard_body_only(body)
    data = require(body, "cert", dict)
    org = str(data.get("org"))
    if book._org_kind(org) != "mine":
        raise RuleViolation("only mines are certified", code="not_a_mine")
    category = str(data.get("category"))
    if category not in certs.CERTIFIED_CATEGORIES:
        raise InvalidInput("certification category is unknown", code="bad_event")
    cert = certs.Cert(
        org=org,
        number=str(data.get("number")),
        category=category,
        valid_from=parse_date(str(data.get("valid_from"))),
        valid_until=parse_date(str(data.get("valid_until"))),
    )
    book.certs.setdefault(org, []).append(cert)


def _cert_status(book: Book, seq: int, body: dict[str, Any], _hash: bytes) -> None:
    book._standard_body_only(body)
    org, number = str(body.get("org")), str(body.get("number"))
    status = str(body.get("status"))
    if status not in certs.STATUSES:
        raise InvalidInput("certification status is unknown", code="bad_event")
    held = book.certs.get(org, [])
    for i, cert in enumerate(held):
        if cert.number == number:
            change = (parse_date(str(body.get("effective_on"))), status)
            held[i] = certs.Cert(
                org=cert.org,
                number=cert.number,
                category=cert.category,
                valid_from=cert.valid_from,
                valid_until=cert.valid_until,
                # Same-day changes apply in ledger order, as the services read them.
                statuses=tuple(sorted((*cert.statuses, change), key=lambda item: item[0])),
            )
            return
    raise RuleViolation(f"{org} has no certification {number}", code="unknown_certification")


def _auth_record(book: Book, seq: int, body: dict[str, Any], _hash: bytes) -> None:
    book._standard_body_only(body)
    data = require(body, "auth", dict)
    org = str(data.get("org"))
    book._org_kind(org)
    role = str(data.get("role"))
    if role not in certs.AUTH_ROLES:
        raise InvalidInput("authorization role is unknown", code="bad_event")
    book.auths.setdefault(org, []).append(
        certs.Authorization(
            org=org,
            role=role,
            valid_from=parse_date(str(data.get("valid_from"))),
            valid_until=parse_date(str(data.get("valid_until"))),
        )
    )


def _capacity_exception(book: Book, seq: int, body: dict[str, Any], _hash: bytes) -> None:
    book._standard_body_only(body)
    org = str(body.get("org"))
    if book._org_kind(org) != "mine":
        raise RuleViolation("capacity exceptions are for mines", code="not_a_mine")
    book.allowances.setdefault(org, []).append(
        certs.Allowance(
            valid_from=parse_date(str(body.get("valid_from"))),
            valid_until=parse_date(str(body.get("valid_until"))),
            extra_mg=int(require(body, "extra_fine_mg", int)),
        )
    )


def _capacity_change(book: Book, seq: int, body: dict[str, Any], _hash: bytes) -> None:
    book._standard_body_only(body)
    org = str(body.get("org"))
    if book._org_kind(org) != "mine":
        raise RuleViolation("capacity is recorded for mines", code="not_a_mine")
    change = registration.CapacityPeriod(
        parse_date(str(body.get("effective_from"))),
        require(body, "miners", int),
        require(body, "capacity_mg_month", int),
        seq,
    )
    evidence = body.get("evidence_sha256")
    registration.check_capacity_change(
        change,
        reason=str(require(body, "reason", str)),
        evidence_sha256=str(evidence) if evidence is not None else None,
    )
    book.capacity[org].append(change)


def _registration_exception(book: Book, seq: int, body: dict[str, Any], _hash: bytes) -> None:
    book._standard_body_only(body)
    org = str(body.get("org"))
    if book._org_kind(org) != "mine":
        raise RuleViolation("registration exceptions are for mines", code="not_a_mine")
    exception = registration.LateException(
        parse_date(str(body.get("produced_from"))),
        parse_date(str(body.get("produced_until"))),
        parse_date(str(body.get("register_until"))),
    )
    registration.check_late_exception(exception, reason=str(require(body, "reason", str)))
    book.late.setdefault(org, []).append(exception)


def _picker_register(book: Book, seq: int, body: dict[str, Any], _hash: bytes) -> None:
    book._standard_body_only(body)
    person = str(require(body, "person", str))
    # The configured CE pattern is the services' to apply; here the id must be in its one form.
    if not is_normalized(person):
        raise InvalidInput("a picker's id is not in its normalized form", code="bad_event")
    association = str(body.get("association"))
    profile = book.keys.orgs.get(association)
    if profile is None or profile.kind != "mine" or not profile.pickers:
        raise RuleViolation(
            f"{association} is not an association of pickers", code="not_a_picker_association"
        )
    until = body.get("valid_until")
    membership = registration.PickerMembership(
        person,
        association,
        parse_date(str(body.get("valid_from"))),
        parse_date(str(until)) if until is not None else None,
    )
    registration.check_membership(membership, name=str(require(body, "name", str)))
    held = book.memberships.setdefault(person, [])
    if any(m.association == association for m in held):
        raise Conflict(
            f"{person} is already registered with {association}", code="duplicate_picker"
        )
    held.append(membership)


def _org_group(book: Book, seq: int, body: dict[str, Any], _hash: bytes) -> None:
    book._standard_body_only(body)
    name = str(require(body, "group", str)).strip()
    members = require(body, "members", list)
    if not name or len(set(members)) < 2 or not str(require(body, "reason", str)).strip():
        raise InvalidInput("a group needs a name, two members and a reason", code="bad_event")
    for org in members:
        book._org_kind(str(org))
    book.groups.setdefault(name, set()).update(str(m) for m in members)


def _flag_review(book: Book, seq: int, body: dict[str, Any], _hash: bytes) -> None:
    actor = book._actor(body)
    if actor != book.keys.standard_body and book._org_kind(actor) != "auditor":
        raise PermissionDenied(
            "only an auditor or the standard body reviews flags", code="not_reviewer"
        )
    key = (require(body, "flag_seq", int), str(require(body, "kind", str)))
    if key not in book.flags:
        raise RuleViolation(f"event {key[0]} raised no {key[1]} flag", code="unknown_flag")
    if book.flags[key]:
        raise Conflict("that flag was already reviewed", code="already_reviewed")
    check_review(
        outcome=str(body.get("outcome")),
        reviewer=str(require(body, "reviewer", str)),
        note=str(require(body, "note", str)),
    )
    book.flags[key] = True


REVIEW_OUTCOMES = ("cleared", "confirmed")


def check_review(*, outcome: str, reviewer: str, note: str) -> None:
    """Raise InvalidInput unless a flag review names its reviewer, its outcome and a note."""
    if outcome not in REVIEW_OUTCOMES:
        raise InvalidInput(
            f"outcome must be one of {', '.join(REVIEW_OUTCOMES)}", fields={"outcome": "unknown"}
        )
    if not reviewer.strip():
        raise InvalidInput("a review names its reviewer", fields={"reviewer": "empty"})
    if not note.strip():
        raise InvalidInput("a review says what was found", fields={"note": "empty"})


def _lot_register(book: Book, seq: int, body: dict[str, Any], event_hash: bytes) -> None:
    actor = book._actor(body)
    profile = book.keys.orgs.get(actor)
    if profile is None or profile.kind != "mine":
        raise PermissionDenied("only a mine registers lots", code="not_a_mine")
    data = require(body, "lot", dict)
    lot_id = _lot_id(data.get("id"))
    if lot_id in book.lots:
        raise Conflict(f"lot {lot_id} exists", code="duplicate_lot")
    if body.get("prev") != []:
        raise RuleViolation("a registration builds on no earlier event", code="bad_prev")
    picker = data.get("picker")
    if picker is not None and not is_normalized(picker):
        raise InvalidInput("a picker's id is not in its normalized form", code="bad_event")
    reference = data.get("reference")
    req = registration.RegistrationRequest(
        form=lotrules.parse_form(data.get("form")),
        mass_mg=_mass(data.get("mass_mg")),
        fineness=_fineness(data.get("fineness")),
        category=certs.parse_category(data.get("category")),
        produced_on=parse_date(str(data.get("produced_on"))),
        registered_on=local_date(str(body.get("occurred_at")), profile.country),
        reference=str(reference) if reference is not None else None,
        picker=picker,
    )
    decision = registration.decide_registration(book.registration_facts(actor, req), req)
    book._raise_flags(seq, decision.flags)
    fine = req.fine_mg
    record = registration.Registered(
        lot=lot_id,
        produced_on=req.produced_on,
        registered_on=req.registered_on,
        fine_mg=fine,
        mass_mg=req.mass_mg,
        fineness=req.fineness,
    )
    book.mine_output.setdefault(actor, registration.Ledgered()).add(record)
    if picker is not None:
        book.picker_output.setdefault(picker, registration.Ledgered()).add(record)
    key = registration.reference_key(req.reference)
    if key is not None:
        book.references[(actor, key)] = lot_id
    book.lots[lot_id] = lotrules.LotView(
        id=lot_id,
        form=req.form,
        mass_mg=req.mass_mg,
        fineness=req.fineness,
        category=req.category,
        holder=actor,
        status="active",
        origins={actor: fine} if fine else {},
        head=event_hash,
        mine=actor,
        produced_on=req.produced_on,
        registered_on=req.registered_on,
    )
    book._touch(seq, event_hash, actor, {lot_id: None})
    book.undo[seq].registration = (actor, lot_id, picker)
    book.pickers_of[lot_id] = picker


def _count_gain(book: Book, seq: int, lot: lotrules.LotView, gain_mg: int) -> None:
    """A gain on a mine's registered lot counts in its windows (refused beyond them)."""
    if gain_mg <= 0:
        return
    assert lot.mine is not None
    picker = book.pickers_of.get(lot.id)
    req = registration.gain_request(lot, picker)
    registration.check_established_gain(book.registration_facts(lot.mine, req), req, gain_mg)
    book.mine_output[lot.mine].grow(lot.id, gain_mg)
    if picker is not None:
        book.picker_output[picker].grow(lot.id, gain_mg)
    book.undo[seq].gain = (lot.id, gain_mg)


def _lot_dispatch(book: Book, seq: int, body: dict[str, Any], event_hash: bytes) -> None:
    actor = book._actor(body)
    lot = book._lot(body.get("lot"))
    book._check_prev(body, [lot])
    recipient = str(body.get("to"))
    commitment = body.get("terms")
    first_sale = lot.mine == actor and not lot.sold_by_mine
    if first_sale != isinstance(commitment, str):
        raise RuleViolation(
            "a mine's first sale, and only it, commits to its terms", code="terms_required"
        )
    terms = book.terms.get(seq)
    if first_sale and book.private and terms is None:
        raise RuleViolation("a first sale has no recorded terms", code="terms_missing")
    if terms is not None and terms.commitment() != commitment:
        raise RuleViolation("the sale terms do not match their commitment", code="terms_mismatch")
    prices = None
    day = event_date(body)
    recorded = book.reference_on(day)
    if first_sale:
        # Public replay cannot see the committed prices; with the private terms the rule is re-checked
        # (without them, the recorded reference stands in for the stated one and the price).
        if terms is not None:
            prices = (terms.price, terms.reference)
        else:
            prices = (recorded, recorded) if recorded is not None else (1, 1)
    lotrules.check_dispatch(
        lot,
        actor=actor,
        recipient=recipient,
        recipient_kind=book._org_kind(recipient),
        recipient_authorized=certs.is_authorized(book.auths.get(recipient, []), day),
        prices=prices,
        recorded_reference=recorded,
        seller_certified=certs.is_certified(lot.category, day, book.certs.get(actor, [])),
    )
    expected: dict[str, object] | None = None
    amount = 0
    if first_sale and lot.category in certs.CERTIFIED_CATEGORIES:
        rate = premiums.rate_on(book.rates, lot.category, event_date(body))
        amount = premiums.premium_cents(lot.fine_mg, rate.cents_per_kg)
        expected = {
            "committee": actor,
            "fine_mg": lot.fine_mg,
            "cents_per_kg": rate.cents_per_kg,
            "amount_cents": amount,
        }
    if body.get("premium") != expected:
        raise RuleViolation(
            f"the premium stated on this sale should be {expected}", code="premium_mismatch"
        )
    if expected is not None:
        book.obligations[seq] = ObligationState(
            buyer=recipient, committee=actor, lot=lot.id, amount_cents=amount
        )
    book.lots[lot.id] = lotrules.after_dispatch(
        lot, recipient, head=event_hash, first_sale=first_sale
    )
    book._touch(seq, event_hash, actor, {lot.id: lot})


def _lot_receive(book: Book, seq: int, body: dict[str, Any], event_hash: bytes) -> None:
    actor = book._actor(body)
    lot = book._lot(body.get("lot"))
    book._check_prev(body, [lot])
    mass = _mass(body.get("mass_mg"))
    fineness = None if body.get("fineness") is None else _fineness(body.get("fineness"))
    lotrules.check_receipt(lot, actor=actor)
    updated, judged = lotrules.after_receipt(lot, mass_mg=mass, fineness=fineness, head=event_hash)
    book._touch(seq, event_hash, actor, {lot.id: lot})
    _count_gain(book, seq, lot, judged.mine_gain_mg)
    book.lots[lot.id] = updated
    book._raise_flags(seq, judged.flags)


def _lot_assay(book: Book, seq: int, body: dict[str, Any], event_hash: bytes) -> None:
    actor = book._actor(body)
    lot = book._lot(body.get("lot"))
    book._check_prev(body, [lot])
    lotrules.check_custody(lot, actor)
    updated, judged = lotrules.after_assay(
        lot, fineness=_fineness(body.get("fineness")), head=event_hash
    )
    book._touch(seq, event_hash, actor, {lot.id: lot})
    _count_gain(book, seq, lot, judged.mine_gain_mg)
    book.lots[lot.id] = updated
    book._raise_flags(seq, judged.flags)


def _lot_transform(book: Book, seq: int, body: dict[str, Any], event_hash: bytes) -> None:
    actor = book._actor(body)
    inputs = [book._lot(i) for i in require(body, "inputs", list)]
    book._check_prev(body, inputs)
    outputs = require(body, "outputs", list)
    specs = [
        lotrules.OutputSpec(
            id=_lot_id(o["id"]),
            form=lotrules.parse_form(o.get("form")),
            mass_mg=_mass(o["mass_mg"]),
            fineness=_fineness(o["fineness"]),
            category=certs.parse_category(o.get("category")),
            reference=o.get("reference"),
        )
        for o in outputs
    ]
    plan = lotrules.plan_transformation(
        kind=str(body.get("kind")),
        actor=actor,
        inputs=inputs,
        outputs=specs,
        alloy_mass_mg=int(body.get("alloy_mass_mg", 0)),
    )
    recorded = {str(o["id"]): o.get("origins") for o in outputs}
    book._raise_flags(seq, plan.flags)
    if body.get("loss_mg") != plan.loss_mg:
        raise RuleViolation("the recorded loss differs from inputs minus outputs", code="bad_loss")
    before: dict[str, lotrules.LotView | None] = {lot.id: lot for lot in inputs}
    for out in plan.outputs:
        if out.id in book.lots:
            raise Conflict(f"lot {out.id} exists", code="duplicate_lot")
        if recorded[out.id] != out.origins:
            raise RuleViolation(
                f"origins of {out.id} are not those its inputs carry", code="bad_origins"
            )
        book.lots[out.id] = lotrules.LotView(
            id=out.id,
            form=out.form,
            mass_mg=out.mass_mg,
            fineness=out.fineness,
            category=out.category,
            holder=actor,
            status="active",
            origins=out.origins,
            head=event_hash,
            # What a mine makes of its own gold is still its first sale to make (price, premium).
            mine=actor if book._org_kind(actor) == "mine" else None,
            gain_pairs=out.gain_pairs,
        )
        before[out.id] = None
    for lot in inputs:
        book.lots[lot.id] = replace(lot, status="consumed", head=event_hash)
    book._touch(seq, event_hash, actor, before)


def _event_void(book: Book, seq: int, body: dict[str, Any], event_hash: bytes) -> None:
    actor = book._actor(body)
    target = require(body, "target", int)
    if target in book.voided:
        raise Conflict(f"event {target} is already voided", code="already_voided")
    if target in book.payments:
        _void_payment(book, target, actor)
        return
    obligation = book.obligations.get(target)
    if obligation is not None and obligation.paid_cents > 0:
        raise Conflict("a paid sale cannot be voided", code="obligation_paid")
    undo = book.undo.get(target)
    if undo is None:
        raise Conflict(
            f"event {target} cannot be voided: later events build on it", code="built_upon"
        )
    if actor not in (undo.actor, book.keys.standard_body):
        raise PermissionDenied(
            "only the author or the standard body voids an event", code="not_author"
        )
    if body.get("prev") != [undo.hash.hex()]:
        raise RuleViolation("a void names the voided event in prev", code="bad_prev")
    # Restored and voided lots continue from the void event, so their hash chains stay unbroken.
    for lot_id, previous in undo.before.items():
        if previous is None:
            book.lots[lot_id] = replace(book.lots[lot_id], status="voided", head=event_hash)
        else:
            book.lots[lot_id] = replace(previous, head=event_hash)
        book.head_seq[lot_id] = seq
    if undo.registration is not None:
        mine, lot_id, picker = undo.registration
        book.mine_output[mine].remove(lot_id)
        if picker is not None:
            book.picker_output[picker].remove(lot_id)
        book.references = {k: v for k, v in book.references.items() if v != lot_id}
    if undo.gain is not None:
        gained_lot, gain = undo.gain
        grown = undo.before[gained_lot]
        assert grown is not None and grown.mine is not None
        book.mine_output[grown.mine].grow(gained_lot, -gain)
        gained_picker = book.pickers_of.get(gained_lot)
        if gained_picker is not None:
            book.picker_output[gained_picker].grow(gained_lot, -gain)
    del book.undo[target]
    book.voided.add(target)
    book.flags[(seq, "voided_event")] = False
    if obligation is not None:
        obligation.voided = True


def _void_payment(book: Book, target: int, actor: str) -> None:
    payment = book.payments.pop(target)
    if actor not in (payment.buyer, book.keys.standard_body):
        raise PermissionDenied(
            "only the payer or the standard body voids a payment", code="not_author"
        )
    balance = book.received.get(payment.committee, 0) - book.invested.get(payment.committee, 0)
    if balance < payment.amount_cents:
        raise Conflict("the committee already invested this money", code="already_invested")
    book.received[payment.committee] -= payment.amount_cents
    for oid, cents in payment.allocations:
        book.obligations[oid].paid_cents -= cents
    book.voided.add(target)


def _premium_rate(book: Book, seq: int, body: dict[str, Any], _hash: bytes) -> None:
    book._standard_body_only(body)
    category = str(body.get("category"))
    if category not in certs.CERTIFIED_CATEGORIES:
        raise InvalidInput("premium rates are for fairmined categories", code="bad_event")
    cents = require(body, "cents_per_kg", int)
    if cents <= 0:
        raise InvalidInput("a rate must be positive", code="bad_event")
    book.rates.append(premiums.Rate(category, parse_date(str(body.get("effective_from"))), cents))


def _reference_price(book: Book, seq: int, body: dict[str, Any], _hash: bytes) -> None:
    book._standard_body_only(body)
    day = parse_date(str(body.get("day")))
    cents = require(body, "cents_per_troy_oz", int)
    if cents <= 0:
        raise InvalidInput("a price must be positive", code="bad_event")
    bisect.insort(book.reference_prices, (day, seq, int(premiums.reference_micro_per_g(cents))))


def _premium_payment(book: Book, seq: int, body: dict[str, Any], _hash: bytes) -> None:
    actor = book._actor(body)
    committee = str(body.get("committee"))
    if book._org_kind(committee) != "mine":
        raise RuleViolation("premium is paid to a mine's committee", code="not_a_mine")
    amount = require(body, "amount_cents", int)
    parse_date(str(body.get("paid_on")))
    allocations = []
    for item in require(body, "allocations", list):
        oid, cents = require(item, "obligation", int), require(item, "amount_cents", int)
        ob = book.obligations.get(oid)
        if ob is None or ob.voided or ob.buyer != actor or ob.committee != committee:
            raise RuleViolation(
                f"obligation {oid} is not this buyer's to this committee", code="bad_allocation"
            )
        if not 0 < cents <= ob.amount_cents - ob.paid_cents:
            raise RuleViolation(f"obligation {oid} is overpaid", code="overpayment")
        ob.paid_cents += cents
        allocations.append((oid, cents))
    if amount <= 0 or sum(c for _, c in allocations) != amount:
        raise RuleViolation(
            "a payment's allocations must add up to its amount", code="bad_allocation"
        )
    book.payments[seq] = PaymentState(actor, committee, amount, allocations)
    book.received[committee] = book.received.get(committee, 0) + amount


def _premium_investment(book: Book, seq: int, body: dict[str, Any], _hash: bytes) -> None:
    actor = book._actor(body)
    committee = str(body.get("committee"))
    if actor != committee or book._org_kind(committee) != "mine":
        raise PermissionDenied(
            "only the mine's committee records its investments", code="not_committee"
        )
    premiums.check_investment_category(str(body.get("category")))
    parse_date(str(body.get("spent_on")))
    amount = require(body, "amount_cents", int)
    balance = book.received.get(committee, 0) - book.invested.get(committee, 0)
    premiums.check_investment(amount, balance)
    book.invested[committee] = book.invested.get(committee, 0) + amount


# Certificates (issue 6). A certificate builds on the head of the lot it certifies without moving it:
# the lot's own chain goes on unchanged, and the certificate names the exact state it vouches for.
CERTIFIABLE_FORMS = {"jeweler": ("jewelry_item",), "refiner": ("bar",)}


def _certificates(book: Book) -> dict[str, tuple[str, bytes, bool, str]]:
    """Issued certificates: id -> (issuer, issue event hash, revoked, lot)."""
    issued = book.certificates
    return issued


def check_certifiable(lot: lotrules.LotView, *, actor: str, actor_kind: str) -> None:
    """The rules for issuing a certificate for ``lot``, shared by the services and the replay."""
    lotrules.check_custody(lot, actor)
    forms = CERTIFIABLE_FORMS.get(actor_kind)
    if forms is None:
        raise PermissionDenied(
            "only a jeweler or a refiner issues certificates", code="not_certifier"
        )
    if lot.form not in forms:
        raise RuleViolation(
            f"a {actor_kind} certifies only {', '.join(forms)} lots", code="unsupported_form"
        )
    if lot.category not in certs.CERTIFIED_CATEGORIES:
        raise RuleViolation("only Fairmined gold can be certified", code="unsupported_category")
    if lot.unattributed_mg * 1_000_000 > lot.fine_mg * gains.UNATTRIBUTED_HIGH_PPM:
        raise RuleViolation(
            f"{lot.unattributed_mg} mg of the lot's fine gold were registered by no mine: a "
            "certificate could not say where it came from",
            code="unattributed_gold",
        )


def _certificate_issue(book: Book, seq: int, body: dict[str, Any], event_hash: bytes) -> None:
    actor = book._actor(body)
    cert_id = require(body, "certificate", str)
    issued = _certificates(book)
    if cert_id in issued:
        raise Conflict(f"certificate {cert_id} exists", code="duplicate_certificate")
    lot = book._lot(body.get("lot"))
    book._check_prev(body, [lot])
    check_certifiable(lot, actor=actor, actor_kind=book._org_kind(actor))
    issued_rules.check_single_live(lot.id, book.live_certificates.get(lot.id))
    require(body, "subject", str)
    issued[cert_id] = (actor, event_hash, False, lot.id)
    book.live_certificates[lot.id] = cert_id


def _certificate_revoke(book: Book, seq: int, body: dict[str, Any], event_hash: bytes) -> None:
    actor = book._actor(body)
    cert_id = require(body, "certificate", str)
    found = _certificates(book).get(cert_id)
    if found is None:
        raise RuleViolation(f"unknown certificate {cert_id!r}", code="unknown_certificate")
    issuer, issue_hash, revoked, lot_id = found
    if revoked:
        raise Conflict(f"certificate {cert_id} is already revoked", code="already_revoked")
    if actor not in (issuer, book.keys.standard_body):
        raise PermissionDenied(
            "only the issuer or the standard body revokes a certificate", code="not_issuer"
        )
    if body.get("prev") != [issue_hash.hex()]:
        raise RuleViolation("a revocation names the certificate event in prev", code="bad_prev")
    if not str(require(body, "reason", str)).strip():
        raise InvalidInput("a revocation needs a reason", code="bad_event")
    _certificates(book)[cert_id] = (issuer, issue_hash, True, lot_id)
    # Revoking frees the lot for a new certificate, also after the lot was consumed or voided.
    del book.live_certificates[lot_id]


_HANDLERS = {
    "cert.record": _cert_record,
    "cert.status": _cert_status,
    "auth.record": _auth_record,
    "capacity.exception": _capacity_exception,
    "capacity.change": _capacity_change,
    "registration.exception": _registration_exception,
    "picker.register": _picker_register,
    "org.group": _org_group,
    "flag.review": _flag_review,
    "lot.register": _lot_register,
    "lot.dispatch": _lot_dispatch,
    "lot.receive": _lot_receive,
    "lot.assay": _lot_assay,
    "lot.transform": _lot_transform,
    "event.void": _event_void,
    "premium.rate": _premium_rate,
    "reference.price": _reference_price,
    "premium.payment": _premium_payment,
    "premium.investment": _premium_investment,
    "certificate.issue": _certificate_issue,
    "certificate.revoke": _certificate_revoke,
}
