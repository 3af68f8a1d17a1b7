"""Lot operations: register, dispatch, receive, assay, transform and void, each one signed ledger event.

Every write first takes the log head lock, so the checks below see the state as of the moment the event
is appended: of two simultaneous dispatches of one lot, the second sees the first and is refused.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from goldtrace.db.models import (
    Event,
    Flag,
    Lot,
    LotEvent,
    Obligation,
    Organization,
    SaleTerms,
    Voided,
)
from goldtrace.domain import certification as certrules
from goldtrace.domain import lots as rules
from goldtrace.domain import registration
from goldtrace.domain.actors import Actor
from goldtrace.domain.events import SaleTerms as Terms
from goldtrace.domain.identities import parse_person_id
from goldtrace.domain.instants import local_date, now_instant
from goldtrace.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from goldtrace.services import premiums, registry
from goldtrace.services.context import Context
from goldtrace.services.log import Draft, Recorded, append, check_seq, lock_head
from goldtrace.services.organizations import get_org, standard_body_id


@dataclass(frozen=True)
class Written:
    """The outcome of a lot operation: the event and the lots it left behind."""

    seq: int
    hash: bytes
    lots: list[Lot]
    flags: list[rules.Flag]


def new_lot_id() -> str:
    """A fresh, human-readable lot id such as ``GT-7KQ2-MZXA`` (40 random bits, base32)."""
    text = base64.b32encode(secrets.token_bytes(5)).decode("ascii")
    return f"GT-{text[:4]}-{text[4:]}"


def view(lot: Lot) -> rules.LotView:
    """The rules' view of a stored lot."""
    established = lot.produced_on is not None
    return rules.LotView(
        id=lot.id,
        form=lot.form,
        mass_mg=lot.mass_mg,
        fineness=lot.fineness,
        category=lot.category,
        holder=lot.holder_id,
        status=lot.status,
        origins=json.loads(lot.origins),
        head=lot.head,
        in_transit_to=lot.in_transit_to,
        mine=lot.mine_id,
        sold_by_mine=lot.sold_by_mine,
        produced_on=lot.produced_on if established else None,
        registered_on=lot.registered_on if established else None,
        gained_mg=lot.gained_mg or 0,
        gain_pairs=json.loads(lot.gain_pairs or "{}"),
    )


def _store_view(lot: Lot, v: rules.LotView, seq: int) -> None:
    lot.form, lot.mass_mg, lot.fineness, lot.category = v.form, v.mass_mg, v.fineness, v.category
    lot.holder_id, lot.status, lot.in_transit_to = v.holder, v.status, v.in_transit_to
    lot.origins = _mapping_json(v.origins)
    lot.head, lot.sold_by_mine, lot.updated_seq = v.head, v.sold_by_mine, seq
    lot.gained_mg, lot.gain_pairs = v.gained_mg, _mapping_json(v.gain_pairs)


def _mapping_json(mapping: dict[str, int] | object) -> str:
    """A lot's origins or growth-receipt counts as stored: canonical compact JSON."""
    return json.dumps(mapping, sort_keys=True, separators=(",", ":"))


def _snapshot(v: rules.LotView) -> str:
    data = asdict(v)
    data["head"] = v.head.hex()
    data["origins"] = dict(v.origins)
    data["gain_pairs"] = dict(v.gain_pairs)
    for name in ("produced_on", "registered_on"):
        day = getattr(v, name)
        data[name] = day.isoformat() if day is not None else None
    return json.dumps(data, sort_keys=True)


def _restore(text: str) -> rules.LotView:
    data = json.loads(text)
    data["head"] = bytes.fromhex(data["head"])
    for name in ("produced_on", "registered_on"):
        if data.get(name) is not None:
            data[name] = date.fromisoformat(data[name])
    return rules.LotView(**data)


def get_lot(session: Session, lot_id: str, *, for_update: bool = False) -> Lot:
    """Return the lot (refreshed from the database when ``for_update``); NotFound otherwise."""
    stmt = select(Lot).where(Lot.id == lot_id)
    if for_update:
        stmt = stmt.execution_options(populate_existing=True)
    lot = session.execute(stmt).scalar_one_or_none()
    if lot is None:
        raise NotFound(f"unknown lot {lot_id!r}", code="unknown_lot", fields={"lot": "unknown"})
    return lot


def _record_flags(
    session: Session, seq: int, actor: str, flags: Sequence[rules.Flag], lot: str | None = None
) -> None:
    for flag in flags:
        session.add(
            Flag(
                seq=seq,
                lot_id=flag.lot or lot,
                org_id=actor,
                kind=flag.kind,
                severity=flag.severity,
                detail=flag.detail,
                figures=json.dumps(dict(flag.figures), sort_keys=True),
            )
        )


def register_lot(
    session: Session,
    ctx: Context,
    *,
    actor: str,
    form: str,
    mass_mg: int,
    fineness: int,
    category: str,
    produced_on: date,
    reference: str | None = None,
    picker: str | None = None,
    occurred_at: str | None = None,
) -> Written:
    """A mine registers a production lot: the rules of ``domain.registration`` decide it over the facts
    gathered here (certification, capacity history, nearby registrations, the picker's record)."""
    lock_head(session)
    mine = get_org(session, actor)
    if mine.kind != "mine":
        raise PermissionDenied("only a mine registers lots", code="not_a_mine")
    occurred_at = occurred_at or now_instant()
    person = None
    if picker is not None:
        person = parse_person_id(picker, ce_pattern=ctx.settings.ce_pattern)
    reference = " ".join(reference.split()) if reference else None
    request = registration.RegistrationRequest(
        form=form,
        mass_mg=mass_mg,
        fineness=fineness,
        category=category,
        produced_on=produced_on,
        registered_on=local_date(occurred_at, mine.country),
        reference=reference,
        picker=person,
    )
    decision = registration.decide_registration(
        registration_facts(session, ctx, mine, request), request
    )
    lot_id = new_lot_id()
    data: dict[str, object] = {
        "id": lot_id,
        "form": form,
        "mass_mg": mass_mg,
        "fineness": fineness,
        "category": category,
        "produced_on": produced_on.isoformat(),
    }
    if reference:
        data["reference"] = reference
    if person is not None:
        data["picker"] = person
    rec = append(
        session,
        ctx,
        Draft(type="lot.register", actor=actor, fields={"lot": data}, occurred_at=occurred_at),
    )
    fine = request.fine_mg
    lot = Lot(
        id=lot_id,
        form=form,
        mass_mg=mass_mg,
        fineness=fineness,
        category=category,
        holder_id=actor,
        status="active",
        mine_id=actor,
        produced_on=produced_on,
        registered_on=request.registered_on,
        registered_mass_mg=mass_mg,
        registered_fineness=fineness,
        picker=person,
        reference=reference,
        reference_key=registration.reference_key(reference),
        registered_fine_mg=fine,
        gained_mg=0,
        gain_pairs="{}",
        origins=_mapping_json({actor: fine} if fine else {}),
        sold_by_mine=False,
        head=rec.hash,
        created_seq=rec.seq,
        updated_seq=rec.seq,
    )
    session.add(lot)
    session.flush()
    session.add(LotEvent(lot_id=lot_id, seq=rec.seq, role="subject", before=None))
    flags = [replace(flag, lot=lot_id) for flag in decision.flags]
    _record_flags(session, rec.seq, actor, flags)
    session.flush()
    return Written(seq=rec.seq, hash=rec.hash, lots=[lot], flags=flags)


def registration_facts(
    session: Session, ctx: Context, mine: Organization, request: registration.RegistrationRequest
) -> registration.RegistrationFacts:
    """Everything the registration rules need about ``mine`` for ``request``, read once: a handful
    of indexed queries, whatever the number of lots (the windows are read as daily sums)."""
    taken = request.reference is not None and (
        session.execute(
            select(Lot.id).where(
                Lot.mine_id == mine.id,
                Lot.reference_key == registration.reference_key(request.reference),
                Lot.status != "voided",
                Lot.produced_on.is_not(None),
            )
        ).first()
        is not None
    )
    person = request.picker
    return registration.RegistrationFacts(
        mine=mine.id,
        mine_name=mine.name,
        capacity=registry.capacity_periods(session, mine.id),
        certs=registry.certifications(session, mine.id),
        allowances=registry.allowances(session, mine.id),
        late_exceptions=registry.late_exceptions(session, mine.id),
        pickers_association=mine.pickers,
        totals=_totals(session, Lot.mine_id == mine.id, request),
        lookalikes=_lookalikes(session, mine.id, request),
        reference_taken=taken,
        memberships=registry.memberships(session, person) if person else (),
        picker_totals=(
            _totals(session, Lot.picker == person, request) if person else registration.Totals()
        ),
        max_age_days=ctx.settings.registration_max_age_days,
    )


_LIVE_REGISTRATIONS = (Lot.status != "voided", Lot.produced_on.is_not(None))


def _totals(
    session: Session, criterion: object, request: registration.RegistrationRequest
) -> registration.Totals:
    """Live registered fine gold by production day near the production date (and in the 60 days
    before that window), and by registration day near the registration date."""
    span = timedelta(days=certrules.WINDOW_DAYS - 1)
    window = timedelta(days=registration.WINDOW_SPAN)
    produced, registered = request.produced_on, request.registered_on
    ranges = (
        (Lot.produced_on, produced - span, produced + span),
        (Lot.registered_on, registered - span, registered + span),
        (Lot.produced_on, produced - 3 * window + timedelta(days=1), produced - window),
    )
    found = []
    for column, low, high in ranges:
        rows = session.execute(
            select(column, func.sum(Lot.registered_fine_mg))
            .where(criterion, *_LIVE_REGISTRATIONS, column.between(low, high))  # type: ignore[arg-type]
            .group_by(column)
        ).all()
        found.append({d: int(mg or 0) for d, mg in rows if d is not None and mg})
    return registration.Totals(produced=found[0], registered=found[1], earlier=found[2])


def _lookalikes(
    session: Session, mine: str, request: registration.RegistrationRequest
) -> list[registration.Registered]:
    """The mine's live registrations of the same mass and fineness produced within 30 days."""
    span = timedelta(days=registration.LOOKALIKE_DAYS)
    rows = session.execute(
        select(Lot.id, Lot.produced_on, Lot.registered_on, Lot.registered_fine_mg)
        .where(
            Lot.mine_id == mine,
            *_LIVE_REGISTRATIONS,
            Lot.registered_mass_mg == request.mass_mg,
            Lot.registered_fineness == request.fineness,
            Lot.produced_on.between(request.produced_on - span, request.produced_on + span),
        )
        .order_by(Lot.produced_on, Lot.id)
    ).all()
    return [
        registration.Registered(
            lot=lot_id,
            produced_on=produced,
            registered_on=registered or produced,
            fine_mg=fine or 0,
            mass_mg=request.mass_mg,
            fineness=request.fineness,
        )
        for lot_id, produced, registered, fine in rows
        if produced is not None
    ]


def dispatch_lot(
    session: Session,
    ctx: Context,
    *,
    actor: str,
    lot_id: str,
    to: str,
    price: int | None = None,
    reference_price: int | None = None,
    occurred_at: str | None = None,
) -> Written:
    """The holder sends a lot to a named recipient. A mine's first sale states its price and the
    reference price (micro-USD per gram of fine gold); the public event carries only a commitment."""
    lock_head(session)
    lot = get_lot(session, lot_id, for_update=True)
    recipient = get_org(session, to)
    current = view(lot)
    # The sale date decides the premium rate; tests and imports may fix the instant.
    occurred_at = occurred_at or now_instant()
    today = date.fromisoformat(occurred_at[:10])
    recorded_reference = premiums.reference_micro_on(session, today)
    if price is not None and reference_price is None:
        # Without a stated reference, the latest reference price on or before the sale date.
        reference_price = recorded_reference
    if (price is None) != (reference_price is None):
        raise InvalidInput(
            "state price_usd_per_g and reference_price_usd_per_g (no reference price is recorded)",
            code="price_required",
            fields={"reference_price_usd_per_g": "required"},
        )
    prices = (price, reference_price) if price is not None and reference_price is not None else None
    first_sale = rules.check_dispatch(
        current,
        actor=actor,
        recipient=to,
        recipient_kind=recipient.kind,
        recipient_authorized=certrules.is_authorized(registry.authorizations(session, to), today),
        prices=prices,
        recorded_reference=recorded_reference,
        seller_certified=certrules.is_certified(
            current.category, today, registry.certifications(session, actor)
        ),
    )
    fields: dict[str, object] = {"lot": lot_id, "to": to}
    terms = None
    premium = None
    if first_sale and prices is not None:
        terms = Terms(price=prices[0], reference=prices[1], salt=os.urandom(16))
        fields["terms"] = terms.commitment()
        premium = premiums.obligation_for_sale(
            session, lot=lot, mine=actor, fine_mg=current.fine_mg, sold_on=today
        )
        if premium is not None:
            fields["premium"] = premium
    rec = append(
        session,
        ctx,
        Draft(
            type="lot.dispatch",
            actor=actor,
            fields=fields,
            prev=[lot.head],
            occurred_at=occurred_at,
        ),
    )
    _change(
        session,
        lot,
        current,
        rules.after_dispatch(current, to, head=rec.hash, first_sale=first_sale),
        rec,
    )
    if premium is not None:
        premiums.store_obligation(
            session, rec=rec, lot=lot, buyer=to, premium=premium, sold_on=today
        )
    if terms is not None:
        session.add(
            SaleTerms(
                seq=rec.seq,
                lot_id=lot_id,
                seller_id=actor,
                buyer_id=to,
                price_microusd_per_g=terms.price,
                reference_microusd_per_g=terms.reference,
                salt=terms.salt,
            )
        )
        session.flush()
    return Written(seq=rec.seq, hash=rec.hash, lots=[lot], flags=[])


def _change(
    session: Session, lot: Lot, before: rules.LotView, after: rules.LotView, rec: Recorded
) -> None:
    _store_view(lot, after, rec.seq)
    session.add(LotEvent(lot_id=lot.id, seq=rec.seq, role="subject", before=_snapshot(before)))
    session.flush()


def receive_lot(
    session: Session,
    ctx: Context,
    *,
    actor: str,
    lot_id: str,
    mass_mg: int,
    fineness: int | None = None,
    occurred_at: str | None = None,
) -> Written:
    """The named recipient takes custody with the weighed mass (and, if stated, its fineness). A loss
    beyond the weighing tolerance is flagged; a gain is judged by ``domain.gains``: counted against the
    mine's capacity while the lot is its registered lot, unattributed and flagged downstream."""
    lock_head(session)
    lot = get_lot(session, lot_id, for_update=True)
    current = view(lot)
    rules.check_receipt(current, actor=actor)
    fields: dict[str, object] = {"lot": lot_id, "mass_mg": mass_mg}
    if fineness is not None:
        fields["fineness"] = fineness
    after, judged = rules.after_receipt(current, mass_mg=mass_mg, fineness=fineness, head=b"")
    _count_established_gain(session, ctx, lot, judged.mine_gain_mg)
    rec = append(
        session,
        ctx,
        Draft(
            type="lot.receive",
            actor=actor,
            fields=fields,
            prev=[lot.head],
            occurred_at=occurred_at,
        ),
    )
    _change(session, lot, current, replace(after, head=rec.hash), rec)
    _record_flags(session, rec.seq, actor, judged.flags, lot_id)
    return Written(seq=rec.seq, hash=rec.hash, lots=[lot], flags=judged.flags)


def assay_lot(
    session: Session,
    ctx: Context,
    *,
    actor: str,
    lot_id: str,
    fineness: int,
    lab: str | None = None,
    occurred_at: str | None = None,
) -> Written:
    """The holder records an assay; the lot takes the assayed fineness, a rise judged as a receipt's."""
    lock_head(session)
    lot = get_lot(session, lot_id, for_update=True)
    current = view(lot)
    rules.check_custody(current, actor)
    fields: dict[str, object] = {"lot": lot_id, "fineness": fineness}
    if lab:
        fields["lab"] = lab
    after, judged = rules.after_assay(current, fineness=fineness, head=b"")
    _count_established_gain(session, ctx, lot, judged.mine_gain_mg)
    rec = append(
        session,
        ctx,
        Draft(
            type="lot.assay", actor=actor, fields=fields, prev=[lot.head], occurred_at=occurred_at
        ),
    )
    _change(session, lot, current, replace(after, head=rec.hash), rec)
    _record_flags(session, rec.seq, actor, judged.flags, lot_id)
    return Written(seq=rec.seq, hash=rec.hash, lots=[lot], flags=judged.flags)


def _count_established_gain(session: Session, ctx: Context, lot: Lot, gain_mg: int) -> None:
    """Fine gold gained on a mine's registered lot is the mine's production: refused beyond its
    capacity (and the picker's ceiling), otherwise counted in its windows from now on."""
    if gain_mg <= 0:
        return
    assert lot.mine_id is not None
    request = registration.gain_request(view(lot), lot.picker)
    facts = registration_facts(session, ctx, get_org(session, lot.mine_id), request)
    registration.check_established_gain(facts, request, gain_mg)
    lot.registered_fine_mg = (lot.registered_fine_mg or 0) + gain_mg


def transform(
    session: Session,
    ctx: Context,
    *,
    actor: str,
    kind: str,
    inputs: Sequence[str],
    outputs: Sequence[rules.OutputSpec],
    alloy_mass_mg: int = 0,
    occurred_at: str | None = None,
) -> Written:
    """The holder of every input melts, refines, splits, merges, alloys or manufactures them."""
    lock_head(session)
    actor_kind = get_org(session, actor).kind
    input_rows = [get_lot(session, i, for_update=True) for i in inputs]
    views = [view(r) for r in input_rows]
    specs = [
        rules.OutputSpec(
            id=new_lot_id(),
            form=s.form,
            mass_mg=s.mass_mg,
            fineness=s.fineness,
            category=s.category,
            reference=s.reference,
        )
        for s in outputs
    ]
    plan = rules.plan_transformation(
        kind=kind, actor=actor, inputs=views, outputs=specs, alloy_mass_mg=alloy_mass_mg
    )
    body_outputs = []
    for out in plan.outputs:
        item: dict[str, object] = {
            "id": out.id,
            "form": out.form,
            "mass_mg": out.mass_mg,
            "fineness": out.fineness,
            "category": out.category,
            "origins": out.origins,
        }
        if out.reference:
            item["reference"] = out.reference
        body_outputs.append(item)
    fields: dict[str, object] = {
        "kind": kind,
        "inputs": [v.id for v in views],
        "outputs": body_outputs,
        "alloy_mass_mg": alloy_mass_mg,
        "loss_mg": plan.loss_mg,
    }
    rec = append(
        session,
        ctx,
        Draft(
            type="lot.transform",
            actor=actor,
            fields=fields,
            prev=[v.head for v in views],
            occurred_at=occurred_at,
        ),
    )
    for row, v in zip(input_rows, views, strict=True):
        _store_view(row, replace(v, status="consumed", head=rec.hash), rec.seq)
        session.add(LotEvent(lot_id=row.id, seq=rec.seq, role="input", before=_snapshot(v)))
    created = []
    for out in plan.outputs:
        lot = Lot(
            id=out.id,
            form=out.form,
            mass_mg=out.mass_mg,
            fineness=out.fineness,
            category=out.category,
            holder_id=actor,
            status="active",
            reference=out.reference,
            origins=_mapping_json(out.origins),
            gain_pairs=_mapping_json(out.gain_pairs),
            # What a mine makes of its own gold is still its first sale to make (price, premium).
            mine_id=actor if actor_kind == "mine" else None,
            sold_by_mine=False,
            head=rec.hash,
            created_seq=rec.seq,
            updated_seq=rec.seq,
        )
        session.add(lot)
        session.flush()
        session.add(LotEvent(lot_id=out.id, seq=rec.seq, role="output", before=None))
        created.append(lot)
    session.flush()
    # A transformation's flags are about what it made: they name its first output.
    flags = [replace(flag, lot=created[0].id) for flag in plan.flags]
    _record_flags(session, rec.seq, actor, flags)
    return Written(seq=rec.seq, hash=rec.hash, lots=created, flags=flags)


def void_event(session: Session, ctx: Context, *, actor: str, seq: int, reason: str) -> Written:
    """The author of a lot event (or the standard body) voids it while nothing builds on it yet."""
    lock_head(session)
    if not reason.strip():
        raise InvalidInput("a void needs a reason", fields={"reason": "empty"})
    target = session.get(Event, check_seq(seq))
    if target is None:
        raise NotFound(f"there is no event {seq}", code="unknown_event")
    if not target.type.startswith("lot."):
        raise Conflict("only lot events can be voided", code="not_voidable")
    if session.get(Voided, seq) is not None:
        raise Conflict(f"event {seq} is already voided", code="already_voided")
    if actor not in (target.actor, standard_body_id(session)):
        raise PermissionDenied(
            "only the author or the standard body voids an event", code="not_author"
        )
    touched = session.execute(select(LotEvent).where(LotEvent.seq == seq)).scalars().all()
    rows = {t.lot_id: get_lot(session, t.lot_id, for_update=True) for t in touched}
    if any(row.head != target.hash for row in rows.values()):
        raise Conflict(f"event {seq} cannot be voided: later events build on it", code="built_upon")
    obligation = session.get(Obligation, seq)
    if obligation is not None and obligation.paid_cents > 0:
        raise Conflict(
            "this sale's premium was already paid (in part): void the payment first",
            code="obligation_paid",
        )
    rec = append(
        session,
        ctx,
        Draft(
            type="event.void",
            actor=actor,
            fields={"target": seq, "target_hash": target.hash.hex(), "reason": reason},
            prev=[target.hash],
        ),
    )
    if obligation is not None:
        obligation.voided = True
    for t in touched:
        row = rows[t.lot_id]
        if t.before is None:
            after = replace(view(row), status="voided", head=rec.hash)
        else:
            after = replace(_restore(t.before), head=rec.hash)
        before = view(row)
        if row.produced_on is not None and after.gained_mg != before.gained_mg:
            # A voided gain on a registered lot no longer counts in its mine's windows.
            row.registered_fine_mg = (row.registered_fine_mg or 0) - (
                before.gained_mg - after.gained_mg
            )
        _store_view(row, after, rec.seq)
        session.add(LotEvent(lot_id=row.id, seq=rec.seq, role="subject", before=_snapshot(before)))
    session.add(Voided(seq=seq, void_seq=rec.seq, reason=reason))
    first_lot = next(iter(rows), None)
    session.add(
        Flag(
            seq=rec.seq,
            lot_id=first_lot,
            org_id=actor,
            kind="voided_event",
            severity="info",
            detail=f"voided {seq}: {reason}",
            figures=json.dumps({"target": seq, "reason": reason}, sort_keys=True),
        )
    )
    session.flush()
    return Written(seq=rec.seq, hash=rec.hash, lots=list(rows.values()), flags=[])


def may_see(session: Session, actor: Actor, lot: Lot) -> bool:
    """An organization sees the lots it holds, is sent, or ever acted on; auditors and the standard
    body see every lot."""
    if actor.sees_everything or actor.org_id in (lot.holder_id, lot.in_transit_to, lot.mine_id):
        return True
    acted = session.execute(
        select(Event.seq)
        .join(LotEvent, LotEvent.seq == Event.seq)
        .where(LotEvent.lot_id == lot.id, Event.actor == actor.org_id)
        .limit(1)
    ).first()
    return acted is not None


def visible_lot(session: Session, actor: Actor, lot_id: str) -> Lot:
    """The lot if ``actor`` may see it; NotFound otherwise (its existence is not disclosed)."""
    lot = get_lot(session, lot_id)
    if not may_see(session, actor, lot):
        raise NotFound(f"unknown lot {lot_id!r}", code="unknown_lot", fields={"lot": "unknown"})
    return lot


def list_lots(
    session: Session,
    actor: Actor,
    *,
    holder: str | None = None,
    status: str | None = None,
    form: str | None = None,
    limit: int = 500,
) -> list[Lot]:
    """Lots held by (or in transit to) the actor's organization, or by ``holder`` for those who see all."""
    stmt = select(Lot).order_by(Lot.created_seq.desc()).limit(limit)
    if holder is not None and holder != actor.org_id and not actor.sees_everything:
        raise PermissionDenied("you may list only your own organization's lots", code="forbidden")
    if holder is not None:
        stmt = stmt.where(Lot.holder_id == holder)
    elif not actor.sees_everything:
        stmt = stmt.where((Lot.holder_id == actor.org_id) | (Lot.in_transit_to == actor.org_id))
    if status is not None:
        stmt = stmt.where(Lot.status == status)
    if form is not None:
        stmt = stmt.where(Lot.form == form)
    return list(session.execute(stmt).scalars())


def sale_terms_for(session: Session, actor: Actor, lot_id: str) -> SaleTerms | None:
    """A lot's first-sale terms, only for its seller and buyer, auditors and the standard body."""
    voided = select(Voided.seq)
    terms = (
        session.execute(
            select(SaleTerms)
            .where(SaleTerms.lot_id == lot_id, SaleTerms.seq.not_in(voided))
            .order_by(SaleTerms.seq.desc())
        )
        .scalars()
        .first()
    )
    if terms is None:
        return None
    if actor.sees_everything or actor.org_id in (terms.seller_id, terms.buyer_id):
        return terms
    return None
