"""Premium flows: rates and reference prices, obligations from first sales, payments, investments.

Every figure here is derived from ledger events: a first sale's body states its obligation, a payment's
body states how it is allocated, an investment's body what it paid for; ``goldtrace verify`` recomputes
them all.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from goldtrace.db.models import (
    Event,
    Investment,
    Lot,
    Obligation,
    Payment,
    PaymentAllocation,
    PremiumRate,
    ReferencePrice,
    Voided,
)
from goldtrace.domain import premiums as rules
from goldtrace.domain.actors import Actor
from goldtrace.domain.certification import CERTIFIED_CATEGORIES
from goldtrace.domain.instants import parse_date
from goldtrace.domain.quantities import parse_money
from goldtrace.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from goldtrace.services.context import Context
from goldtrace.services.log import Draft, Recorded, append, check_seq, lock_head
from goldtrace.services.organizations import get_org, require_standard_body, standard_body_id


def rates(session: Session) -> list[rules.Rate]:
    """Every recorded premium rate."""
    rows = session.execute(select(PremiumRate).order_by(PremiumRate.seq)).scalars()
    return [rules.Rate(r.category, r.effective_from, r.cents_per_kg) for r in rows]


def record_rate(
    session: Session,
    ctx: Context,
    *,
    actor: str,
    category: str,
    effective_from: date,
    cents_per_kg: int,
) -> PremiumRate:
    """Standard body: the premium rate of ``category`` from ``effective_from`` on."""
    require_standard_body(session, actor)
    if category not in CERTIFIED_CATEGORIES:
        raise InvalidInput(
            "premium rates are for fairmined categories", fields={"category": "unknown"}
        )
    if cents_per_kg <= 0:
        raise InvalidInput("a rate must be positive", fields={"rate": "not positive"})
    rec = append(
        session,
        ctx,
        Draft(
            type="premium.rate",
            actor=actor,
            fields={
                "category": category,
                "effective_from": effective_from.isoformat(),
                "cents_per_kg": cents_per_kg,
            },
        ),
    )
    row = PremiumRate(
        category=category, effective_from=effective_from, cents_per_kg=cents_per_kg, seq=rec.seq
    )
    session.add(row)
    session.flush()
    return row


def seed_rates(session: Session, ctx: Context) -> None:
    """Record the Fairmined rates in force since 2014 unless some rate is already recorded."""
    if session.execute(select(PremiumRate.id).limit(1)).first() is not None:
        return
    body = standard_body_id(session)
    for category, since, cents in rules.SEED_RATES:
        record_rate(
            session, ctx, actor=body, category=category, effective_from=since, cents_per_kg=cents
        )


def record_reference_price(
    session: Session, ctx: Context, *, actor: str, day: date, cents_per_troy_oz: int
) -> ReferencePrice:
    """Standard body: the international gold price on ``day`` in cents per troy ounce."""
    require_standard_body(session, actor)
    if cents_per_troy_oz <= 0:
        raise InvalidInput("a price must be positive", fields={"usd_per_troy_oz": "not positive"})
    rec = append(
        session,
        ctx,
        Draft(
            type="reference.price",
            actor=actor,
            fields={"day": day.isoformat(), "cents_per_troy_oz": cents_per_troy_oz},
        ),
    )
    row = ReferencePrice(day=day, cents_per_troy_oz=cents_per_troy_oz, seq=rec.seq)
    session.add(row)
    session.flush()
    return row


def import_reference_prices(session: Session, ctx: Context, *, actor: str, text: str) -> int:
    """Import ``date,usd_per_troy_oz`` CSV lines (a header line is allowed); return how many.

    The whole file is checked before anything is recorded: one bad line refuses it all.
    """
    parsed = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or (number == 1 and not row[0][:1].isdigit()):
            continue
        if len(row) != 2:
            raise InvalidInput(f"line {number}: expected date,usd_per_troy_oz", code="bad_csv")
        try:
            parsed.append(
                (parse_date(row[0].strip()), parse_money(row[1].strip(), "usd_per_troy_oz"))
            )
        except InvalidInput as exc:
            raise InvalidInput(f"line {number}: {exc.message}", code="bad_csv") from None
    for day, cents in parsed:
        record_reference_price(session, ctx, actor=actor, day=day, cents_per_troy_oz=cents)
    return len(parsed)


def reference_micro_on(session: Session, day: date) -> int | None:
    """The latest reference price on or before ``day``, in micro-USD per gram (rounded down)."""
    row = session.execute(
        select(ReferencePrice)
        .where(ReferencePrice.day <= day)
        .order_by(ReferencePrice.day.desc(), ReferencePrice.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if row is None else int(rules.reference_micro_per_g(row.cents_per_troy_oz))


def obligation_for_sale(
    session: Session, *, lot: Lot, mine: str, fine_mg: int, sold_on: date
) -> dict[str, object] | None:
    """The premium a first sale of ``lot`` creates (to state in the dispatch body), or None."""
    if lot.category not in CERTIFIED_CATEGORIES:
        return None
    rate = rules.rate_on(rates(session), lot.category, sold_on)
    return {
        "committee": mine,
        "fine_mg": fine_mg,
        "cents_per_kg": rate.cents_per_kg,
        "amount_cents": rules.premium_cents(fine_mg, rate.cents_per_kg),
    }


def store_obligation(
    session: Session,
    *,
    rec: Recorded,
    lot: Lot,
    buyer: str,
    premium: dict[str, object],
    sold_on: date,
) -> Obligation:
    """Record the obligation a first sale's event stated."""
    row = Obligation(
        id=rec.seq,
        lot_id=lot.id,
        buyer_id=buyer,
        committee_id=str(premium["committee"]),
        category=lot.category,
        fine_mg=int(str(premium["fine_mg"])),
        cents_per_kg=int(str(premium["cents_per_kg"])),
        amount_cents=int(str(premium["amount_cents"])),
        paid_cents=0,
        sold_on=sold_on,
        voided=False,
    )
    session.add(row)
    session.flush()
    return row


def open_obligations(session: Session, *, buyer: str, committee: str) -> list[Obligation]:
    """The buyer's obligations to a committee that are not settled, oldest first."""
    return list(
        session.execute(
            select(Obligation)
            .where(
                Obligation.buyer_id == buyer,
                Obligation.committee_id == committee,
                Obligation.voided.is_(False),
                Obligation.paid_cents < Obligation.amount_cents,
            )
            .order_by(Obligation.id)
            .execution_options(populate_existing=True)
        ).scalars()
    )


def pay(
    session: Session,
    ctx: Context,
    *,
    actor: str,
    committee: str,
    amount_cents: int,
    paid_on: date,
    method: str | None = None,
    reference: str | None = None,
    obligations: list[int] | None = None,
) -> Payment:
    """A buyer pays premium to a committee, settling the named obligations or the oldest first."""
    lock_head(session)
    if get_org(session, committee).kind != "mine":
        raise InvalidInput(
            "the committee is named by its mine's id", fields={"committee": "not a mine"}
        )
    open_rows = open_obligations(session, buyer=actor, committee=committee)
    if obligations is not None:
        _check_ownership(session, actor, committee, obligations)
    owed = [rules.Owed(o.id, o.amount_cents - o.paid_cents) for o in open_rows]
    allocation = rules.allocate(amount_cents, owed, obligations)
    fields: dict[str, object] = {
        "committee": committee,
        "amount_cents": amount_cents,
        "paid_on": paid_on.isoformat(),
        "allocations": [{"obligation": oid, "amount_cents": cents} for oid, cents in allocation],
    }
    if method:
        fields["method"] = method
    if reference:
        fields["reference"] = reference
    rec = append(session, ctx, Draft(type="premium.payment", actor=actor, fields=fields))
    payment = Payment(
        seq=rec.seq,
        buyer_id=actor,
        committee_id=committee,
        amount_cents=amount_cents,
        paid_on=paid_on,
        method=method,
        reference=reference,
        voided=False,
    )
    session.add(payment)
    session.flush()
    by_id = {o.id: o for o in open_rows}
    for oid, cents in allocation:
        session.add(PaymentAllocation(payment_seq=rec.seq, obligation_id=oid, amount_cents=cents))
        by_id[oid].paid_cents += cents
    session.flush()
    return payment


def _check_ownership(session: Session, actor: str, committee: str, ids: list[int]) -> None:
    for oid in ids:
        row = session.get(Obligation, oid)
        if row is None or row.voided:
            raise InvalidInput(
                f"there is no obligation {oid}",
                code="unknown_obligation",
                fields={"obligations": "unknown"},
            )
        if row.buyer_id != actor:
            raise PermissionDenied(
                f"obligation {oid} is another buyer's", code="not_your_obligation"
            )
        if row.committee_id != committee:
            raise InvalidInput(
                f"obligation {oid} is owed to {row.committee_id}", code="wrong_committee"
            )


def invest(
    session: Session,
    ctx: Context,
    *,
    actor: str,
    committee: str,
    amount_cents: int,
    spent_on: date,
    category: str,
    description: str,
    receipt_sha256: str | None = None,
) -> Investment:
    """A mine's committee records what it spent premium on; never beyond the balance received."""
    lock_head(session)
    if actor != committee:
        raise PermissionDenied(
            "only the mine's committee records its investments", code="not_committee"
        )
    if get_org(session, committee).kind != "mine":
        raise InvalidInput("committees belong to mines", fields={"committee": "not a mine"})
    rules.check_investment_category(category)
    if not description.strip():
        raise InvalidInput("describe the investment", fields={"description": "empty"})
    if receipt_sha256 is not None and (
        len(receipt_sha256) != 64 or any(c not in "0123456789abcdef" for c in receipt_sha256)
    ):
        raise InvalidInput(
            "receipt_sha256 must be 64 lowercase hex digits", fields={"receipt_sha256": "bad"}
        )
    totals = committee_totals(session, committee)
    rules.check_investment(amount_cents, totals.balance_cents)
    fields: dict[str, object] = {
        "committee": committee,
        "amount_cents": amount_cents,
        "spent_on": spent_on.isoformat(),
        "category": category,
        "description": description,
    }
    if receipt_sha256:
        fields["receipt_sha256"] = receipt_sha256
    rec = append(session, ctx, Draft(type="premium.investment", actor=actor, fields=fields))
    row = Investment(
        seq=rec.seq,
        committee_id=committee,
        amount_cents=amount_cents,
        spent_on=spent_on,
        category=category,
        description=description,
        receipt_sha256=receipt_sha256,
        voided=False,
    )
    session.add(row)
    session.flush()
    return row


def void_payment(session: Session, ctx: Context, *, actor: str, seq: int, reason: str) -> Recorded:
    """Correct a payment recorded by mistake: its allocations are released.

    Refused when the committee has already invested money it would then not have received.
    """
    lock_head(session)
    payment = session.get(Payment, check_seq(seq))
    if payment is None or payment.voided:
        raise NotFound(f"there is no valid payment {seq}", code="unknown_payment")
    if actor not in (payment.buyer_id, standard_body_id(session)):
        raise PermissionDenied(
            "only the payer or the standard body voids a payment", code="not_author"
        )
    if not reason.strip():
        raise InvalidInput("a void needs a reason", fields={"reason": "empty"})
    totals = committee_totals(session, payment.committee_id)
    if totals.balance_cents < payment.amount_cents:
        raise Conflict(
            "the committee already invested this money; record a correcting payment instead",
            code="already_invested",
        )
    target = session.get(Event, seq)
    assert target is not None
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
    payment.voided = True
    for alloc in session.execute(
        select(PaymentAllocation).where(PaymentAllocation.payment_seq == seq)
    ).scalars():
        obligation = session.get(Obligation, alloc.obligation_id)
        assert obligation is not None
        obligation.paid_cents -= alloc.amount_cents
    session.add(Voided(seq=seq, void_seq=rec.seq, reason=reason))
    session.flush()
    return rec


@dataclass
class Totals:
    """A committee's or a buyer's premium figures in cents."""

    owed_cents: int = 0
    received_cents: int = 0
    invested_cents: int = 0

    @property
    def outstanding_cents(self) -> int:
        return self.owed_cents - self.received_cents

    @property
    def balance_cents(self) -> int:
        return self.received_cents - self.invested_cents


def committee_totals(session: Session, committee: str, *, until: date | None = None) -> Totals:
    """Owed to, received and invested by a committee (up to a date when given)."""
    owed = select(func.coalesce(func.sum(Obligation.amount_cents), 0)).where(
        Obligation.committee_id == committee, Obligation.voided.is_(False)
    )
    received = select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
        Payment.committee_id == committee, Payment.voided.is_(False)
    )
    invested = select(func.coalesce(func.sum(Investment.amount_cents), 0)).where(
        Investment.committee_id == committee, Investment.voided.is_(False)
    )
    if until is not None:
        owed = owed.where(Obligation.sold_on <= until)
        received = received.where(Payment.paid_on <= until)
        invested = invested.where(Investment.spent_on <= until)
    return Totals(
        owed_cents=int(session.execute(owed).scalar_one()),
        received_cents=int(session.execute(received).scalar_one()),
        invested_cents=int(session.execute(invested).scalar_one()),
    )


@dataclass
class Statement:
    """A committee's statement for a period."""

    opening_cents: int
    received_cents: int
    invested_by_category: dict[str, int] = field(default_factory=dict)

    @property
    def closing_cents(self) -> int:
        return self.opening_cents + self.received_cents - sum(self.invested_by_category.values())


def statement(session: Session, committee: str, *, start: date, end: date) -> Statement:
    """Opening balance, premium received, invested by category and closing balance for a period."""
    if end < start:
        raise InvalidInput("the period ends before it starts", fields={"to": "before from"})
    before = committee_totals(session, committee, until=date.fromordinal(start.toordinal() - 1))
    received = session.execute(
        select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
            Payment.committee_id == committee,
            Payment.voided.is_(False),
            Payment.paid_on >= start,
            Payment.paid_on <= end,
        )
    ).scalar_one()
    by_category = dict.fromkeys(rules.INVESTMENT_CATEGORIES, 0)
    for category, cents in session.execute(
        select(Investment.category, func.sum(Investment.amount_cents))
        .where(
            Investment.committee_id == committee,
            Investment.voided.is_(False),
            Investment.spent_on >= start,
            Investment.spent_on <= end,
        )
        .group_by(Investment.category)
    ).all():
        by_category[category] = int(cents)
    return Statement(
        opening_cents=before.balance_cents,
        received_cents=int(received),
        invested_by_category=by_category,
    )


def obligations_for(
    session: Session, actor: Actor, *, committee: str | None = None, buyer: str | None = None
) -> list[Obligation]:
    """Obligations the actor may see: as buyer, as the committee's mine, or all for overseers."""
    stmt = select(Obligation).where(Obligation.voided.is_(False)).order_by(Obligation.id)
    if not actor.sees_everything:
        stmt = stmt.where(
            (Obligation.buyer_id == actor.org_id) | (Obligation.committee_id == actor.org_id)
        )
    if committee is not None:
        stmt = stmt.where(Obligation.committee_id == committee)
    if buyer is not None:
        stmt = stmt.where(Obligation.buyer_id == buyer)
    return list(session.execute(stmt).scalars())


@dataclass(frozen=True)
class Flow:
    """Money from one node to another in the premium flow picture."""

    source: str
    target: str
    cents: int


def flows(session: Session, *, year: int | None = None) -> list[Flow]:
    """Buyers -> committees (premium paid) and committees -> investment categories (invested)."""
    paid = select(Payment.buyer_id, Payment.committee_id, func.sum(Payment.amount_cents)).where(
        Payment.voided.is_(False)
    )
    spent = select(
        Investment.committee_id, Investment.category, func.sum(Investment.amount_cents)
    ).where(Investment.voided.is_(False))
    if year is not None:
        paid = paid.where(
            Payment.paid_on >= date(year, 1, 1), Payment.paid_on <= date(year, 12, 31)
        )
        spent = spent.where(
            Investment.spent_on >= date(year, 1, 1), Investment.spent_on <= date(year, 12, 31)
        )
    result = [
        Flow(source=b, target=c, cents=int(s))
        for b, c, s in session.execute(paid.group_by(Payment.buyer_id, Payment.committee_id)).all()
    ]
    result += [
        Flow(source=c, target=f"category:{k}", cents=int(s))
        for c, k, s in session.execute(
            spent.group_by(Investment.committee_id, Investment.category)
        ).all()
    ]
    return sorted(result, key=lambda f: (f.source, f.target))


AGEING_BUCKETS = ((30, "0-30"), (60, "31-60"), (90, "61-90"))


def ageing(obligations: list[Obligation], today: date) -> dict[str, int]:
    """Outstanding cents by days since the sale: 0-30, 31-60, 61-90 and over 90."""
    buckets = {label: 0 for _, label in AGEING_BUCKETS} | {"over-90": 0}
    for ob in obligations:
        outstanding = ob.amount_cents - ob.paid_cents
        if ob.voided or outstanding <= 0:
            continue
        days = (today - ob.sold_on).days
        label = next((name for limit, name in AGEING_BUCKETS if days <= limit), "over-90")
        buckets[label] += outstanding
    return buckets


def committee_obligations(session: Session, committee: str) -> list[Obligation]:
    """Every valid obligation owed to a committee."""
    return list(
        session.execute(
            select(Obligation)
            .where(Obligation.committee_id == committee, Obligation.voided.is_(False))
            .order_by(Obligation.id)
        ).scalars()
    )


def event_of(session: Session, seq: int) -> Event:
    """The ledger event ``seq``."""
    row = session.get(Event, check_seq(seq))
    if row is None:
        raise NotFound(f"there is no event {seq}", code="unknown_event")
    return row


def allocations_of(session: Session, payment_seq: int) -> list[tuple[int, int]]:
    """How a payment was allocated: [(obligation id, cents)]."""
    rows = session.execute(
        select(PaymentAllocation.obligation_id, PaymentAllocation.amount_cents)
        .where(PaymentAllocation.payment_seq == payment_seq)
        .order_by(PaymentAllocation.obligation_id)
    ).all()
    return [(oid, cents) for oid, cents in rows]
