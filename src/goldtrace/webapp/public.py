"""The public premium transparency pages (no login): where the Fairmined premium came from, which
committees received it, and what they invested it in; and the same figures as CSV.

Nothing here shows a sale price: obligations are published as sums per year, committee, buyer and
category (never per lot), payments without their bank references, investments in full (what the
premium paid for is the point of publishing it).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from goldtrace.db.models import Investment, Obligation, Organization, Payment
from goldtrace.domain.instants import parse_date
from goldtrace.domain.quantities import format_mass, format_money
from goldtrace.errors import InvalidInput
from goldtrace.services import premiums
from goldtrace.services.organizations import get_org
from goldtrace.webapp.request_state import db
from goldtrace.webapp.sankey import (
    CATEGORY,
    CATEGORY_LABELS,
    EARLIER,
    UNSPENT,
    flow_labels,
    render_sankey,
)

bp = Blueprint("public", __name__)

# Peru keeps UTC-5 all year: a committee's "today" is the day in Puno, not on the server.
PERU = timezone(timedelta(hours=-5))
CSV_TABLES = ("obligations", "payments", "investments")
AGEING_LABELS: dict[str, Any] = {
    "0-30": _l("0 to 30 days"),
    "31-60": _l("31 to 60 days"),
    "61-90": _l("61 to 90 days"),
    "over-90": _l("more than 90 days"),
}
RATE_CATEGORIES: dict[str, Any] = {
    "fairmined": _l("Fairmined"),
    "fairmined_ecological": _l("Fairmined Ecological"),
}
# A spreadsheet runs a cell that starts like a formula; published text must never do that.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def today() -> date:
    """The date in Peru."""
    return datetime.now(PERU).date()


@dataclass(frozen=True)
class CommitteeRow:
    """A committee's figures as the public table shows them."""

    id: str
    name: str
    totals: premiums.Totals


def _year_arg() -> int | None:
    raw = request.args.get("year") or ""
    if not raw:
        return None
    if not (raw.isdigit() and len(raw) == 4):
        raise InvalidInput("year must be four digits", fields={"year": "bad"})
    return int(raw)


def period_args(default_start: date, default_end: date) -> tuple[date, date]:
    """The statement period from the ``from`` and ``to`` query arguments (InvalidInput if bad)."""
    raw_start, raw_end = request.args.get("from"), request.args.get("to")
    start = parse_date(raw_start, "from") if raw_start else default_start
    end = parse_date(raw_end, "to") if raw_end else default_end
    if end < start:
        raise InvalidInput("the period ends before it starts", fields={"to": "before from"})
    return start, end


def years(session: Session) -> list[int]:
    """Every year from the first premium event to the latest, newest first."""
    bounds = [
        session.execute(select(func.min(column), func.max(column))).one()
        for column in (Obligation.sold_on, Payment.paid_on, Investment.spent_on)
    ]
    firsts = [first for first, _last in bounds if first is not None]
    lasts = [last for _first, last in bounds if last is not None]
    if not firsts:
        return []
    return list(range(max(lasts).year, min(firsts).year - 1, -1))


def committees(session: Session, *, until: date | None = None) -> list[CommitteeRow]:
    """Every mine that is owed, received or invested premium, with its figures, by name."""
    ids = session.execute(
        union(
            select(Obligation.committee_id),
            select(Payment.committee_id),
            select(Investment.committee_id),
        )
    ).scalars()
    rows = []
    for org_id in ids:
        org = get_org(session, org_id)
        rows.append(
            CommitteeRow(org_id, org.name, premiums.committee_totals(session, org_id, until=until))
        )
    return sorted(rows, key=lambda r: (r.name.lower(), r.id))


def invested_by_category(flows: list[premiums.Flow]) -> dict[str, int]:
    """Cents invested per category code in ``flows``, every category listed."""
    result = dict.fromkeys(CATEGORY_LABELS, 0)
    for flow in flows:
        if flow.target.startswith(CATEGORY):
            code = flow.target[len(CATEGORY) :]
            result[code] = result.get(code, 0) + flow.cents
    return result


def committee_context(
    session: Session, mine_id: str, *, start: date, end: date, ident: str = "committee-sankey"
) -> dict[str, Any]:
    """What a committee's page shows: totals, ageing, the statement for a period, its investments
    and its own flows as a picture (shared by the public and the members' page)."""
    mine = get_org(session, mine_id)
    flows = [f for f in premiums.flows(session) if mine_id in (f.source, f.target)]
    investments = session.execute(
        select(Investment)
        .where(Investment.committee_id == mine_id, Investment.voided.is_(False))
        .order_by(Investment.spent_on.desc(), Investment.seq.desc())
    ).scalars()
    return {
        "mine": mine,
        "totals": premiums.committee_totals(session, mine_id),
        "ageing": premiums.ageing(premiums.committee_obligations(session, mine_id), today()),
        "ageing_labels": AGEING_LABELS,
        "statement": premiums.statement(session, mine_id, start=start, end=end),
        "start": start,
        "end": end,
        "investments": list(investments),
        "categories": CATEGORY_LABELS,
        "sankey": render_sankey(
            flows,
            flow_labels(session, flows),
            title=_("Premium flows of %(name)s", name=mine.name),
            ident=ident,
        ),
    }


def rates_in_force(session: Session, day: date) -> list[tuple[str, Any, int]]:
    """(category, label, cents per kg of fine gold) of each premium rate in force on ``day``."""
    recorded = premiums.rates(session)
    result = []
    for category, label in RATE_CATEGORIES.items():
        candidates = [r for r in recorded if r.category == category and r.effective_from <= day]
        if candidates:
            rate = max(candidates, key=lambda r: r.effective_from)
            result.append((category, label, rate.cents_per_kg))
    return result


@bp.get("/premiums")
def overview() -> str:
    """The transparency page: the flows picture (overall or for a year), every committee's figures
    and what the premium was invested in."""
    session = db()
    year = _year_arg()
    flows = premiums.flows(session, year=year)
    labels = flow_labels(session, flows)
    title = _("Premium flows")
    if year is not None:
        title = _("Premium flows in %(year)s", year=year)
        labels[UNSPENT] = _("Not invested in %(year)s", year=year)
        labels[EARLIER] = _("Received before %(year)s", year=year)
    rows = committees(session, until=date(year, 12, 31) if year is not None else None)
    total = premiums.Totals(
        owed_cents=sum(r.totals.owed_cents for r in rows),
        received_cents=sum(r.totals.received_cents for r in rows),
        invested_cents=sum(r.totals.invested_cents for r in rows),
    )
    return render_template(
        "premiums/public.html",
        year=year,
        years=years(session),
        sankey=render_sankey(flows, labels, title=title),
        committees=rows,
        total=total,
        by_category=invested_by_category(flows),
        categories=CATEGORY_LABELS,
        rates=rates_in_force(session, today()),
        tables=CSV_TABLES,
    )


@bp.get("/premiums/<mine_id>")
def committee(mine_id: str) -> str:
    """A committee's public page: its figures, a statement for a period, its investments and flows."""
    session = db()
    org = session.get(Organization, mine_id)
    if org is None or org.kind != "mine":
        abort(404)
    start, end = period_args(date(today().year, 1, 1), today())
    return render_template(
        "premiums/committee_public.html",
        **committee_context(session, mine_id, start=start, end=end),
    )


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _names(session: Session) -> dict[str, str]:
    rows = session.execute(select(Organization.id, Organization.name)).all()
    return {org_id: name for org_id, name in rows}


def _obligation_rows(session: Session, year: int | None) -> list[list[object]]:
    """Obligations summed per year, committee, buyer and category: no lot, no single sale."""
    names = _names(session)
    stmt = select(Obligation).where(Obligation.voided.is_(False))
    if year is not None:
        stmt = stmt.where(
            Obligation.sold_on >= date(year, 1, 1), Obligation.sold_on <= date(year, 12, 31)
        )
    sums: dict[tuple[int, str, str, str], list[int]] = {}
    for ob in session.execute(stmt).scalars():
        key = (ob.sold_on.year, ob.committee_id, ob.buyer_id, ob.category)
        row = sums.setdefault(key, [0, 0, 0, 0])
        row[0] += 1
        row[1] += ob.fine_mg
        row[2] += ob.amount_cents
        row[3] += ob.paid_cents
    header: list[object] = [
        "year",
        "committee",
        "committee_name",
        "buyer",
        "buyer_name",
        "category",
        "obligations",
        "fine_g",
        "amount_usd",
        "paid_usd",
        "outstanding_usd",
    ]
    body: list[list[object]] = [
        [
            y,
            c,
            names.get(c, c),
            b,
            names.get(b, b),
            cat,
            n,
            format_mass(mg),
            format_money(owed),
            format_money(paid),
            format_money(owed - paid),
        ]
        for (y, c, b, cat), (n, mg, owed, paid) in sorted(sums.items())
    ]
    return [header, *body]


def _payment_rows(session: Session, year: int | None) -> list[list[object]]:
    """Valid payments without their method and bank reference."""
    names = _names(session)
    stmt = select(Payment).where(Payment.voided.is_(False)).order_by(Payment.paid_on, Payment.seq)
    if year is not None:
        stmt = stmt.where(
            Payment.paid_on >= date(year, 1, 1), Payment.paid_on <= date(year, 12, 31)
        )
    header: list[object] = [
        "seq",
        "paid_on",
        "buyer",
        "buyer_name",
        "committee",
        "committee_name",
        "amount_usd",
    ]
    return [header] + [
        [
            p.seq,
            p.paid_on.isoformat(),
            p.buyer_id,
            names.get(p.buyer_id, p.buyer_id),
            p.committee_id,
            names.get(p.committee_id, p.committee_id),
            format_money(p.amount_cents),
        ]
        for p in session.execute(stmt).scalars()
    ]


def _investment_rows(session: Session, year: int | None) -> list[list[object]]:
    """Valid investments in full."""
    names = _names(session)
    stmt = (
        select(Investment)
        .where(Investment.voided.is_(False))
        .order_by(Investment.spent_on, Investment.seq)
    )
    if year is not None:
        stmt = stmt.where(
            Investment.spent_on >= date(year, 1, 1), Investment.spent_on <= date(year, 12, 31)
        )
    header: list[object] = [
        "seq",
        "spent_on",
        "committee",
        "committee_name",
        "category",
        "amount_usd",
        "description",
        "receipt_sha256",
    ]
    return [header] + [
        [
            i.seq,
            i.spent_on.isoformat(),
            i.committee_id,
            names.get(i.committee_id, i.committee_id),
            i.category,
            format_money(i.amount_cents),
            i.description,
            i.receipt_sha256,
        ]
        for i in session.execute(stmt).scalars()
    ]


@bp.get("/premiums.csv")
def export() -> Response:
    """``?table=obligations|payments|investments`` (and optionally ``&year=``) as CSV (UTF-8,
    dot decimals, ISO dates)."""
    table = request.args.get("table", "")
    if table not in CSV_TABLES:
        raise InvalidInput(
            f"table must be one of {', '.join(CSV_TABLES)}", fields={"table": "unknown"}
        )
    year = _year_arg()
    build = {
        "obligations": _obligation_rows,
        "payments": _payment_rows,
        "investments": _investment_rows,
    }[table]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in build(db(), year):
        writer.writerow([_cell(value) for value in row])
    name = f"premium-{table}" + (f"-{year}" if year is not None else "") + ".csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
