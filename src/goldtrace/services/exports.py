"""Report files: JSON, a zip of CSV tables (with an LBMA-style weight list for bars), PDF and EPCIS."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from goldtrace.db.models import Event, Voided
from goldtrace.domain.quantities import TROY_OUNCE_MG
from goldtrace.errors import InvalidInput
from goldtrace.services import epcis, report_pdf
from goldtrace.services.report_replay import REPLAYED_TYPES
from goldtrace.services.reports import FLOWS, Report, ReportScope, build_report, lot_family

FORMATS = ("json", "csv", "epcis", "pdf")
LANGUAGES = report_pdf.LANGUAGES
_OZ = Decimal("0.001")


def troy_oz(mg: int) -> str:
    """Milligrams as troy ounces with three decimals, rounded down (as weight lists do)."""
    return str((Decimal(mg) / TROY_OUNCE_MG).quantize(_OZ, rounding=ROUND_DOWN))


def _table(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def csv_tables(report: Report) -> dict[str, bytes]:
    """Return one CSV file per table of the report, by file name."""
    tables: dict[str, bytes] = {}
    orgs: list[list[Any]] = [["org", "name", "kind", "country", "record", "detail"]]
    for org in report.organizations:
        orgs.append([org["id"], org["name"], org["kind"], org["country"], "", ""])
        for cert in org["certifications"]:
            statuses = "; ".join(f"{s['status']} from {s['from']}" for s in cert["statuses"])
            detail = (
                f"{cert['category']} {cert['valid_from']}..{cert['valid_until']} {statuses}".strip()
            )
            orgs.append([org["id"], "", "", "", f"certification {cert['number']}", detail])
        for auth in org["authorizations"]:
            detail = f"{auth['valid_from']}..{auth['valid_until']}"
            orgs.append([org["id"], "", "", "", f"authorization {auth['role']}", detail])
    tables["organizations.csv"] = _table(orgs)
    balance: list[list[Any]] = [["org", "category", *FLOWS, "difference"]]
    for b in report.balances:
        balance.append([b.org, b.category, *(getattr(b, f) for f in FLOWS), b.difference])
    tables["mass_balance_fine_mg.csv"] = _table(balance)
    tables["premiums_cents.csv"] = _table(
        [["committee", "owed", "paid", "outstanding"]]
        + [[p["committee"], p["owed"], p["paid"], p["outstanding"]] for p in report.premiums]
    )
    tables["findings.csv"] = _table(
        [["kind", "seq", "org", "lot", "detail", "severity"]]
        + [[f.kind, f.seq, f.org, f.lot, f.detail, f.severity] for f in report.findings]
    )
    tables["bar_weight_list.csv"] = _table(
        [["serial", "refiner", "gross_troy_oz", "assay", "fine_troy_oz", "year"]]
        + [
            [
                bar["serial"],
                bar["refiner"],
                troy_oz(bar["gross_mg"]),
                str(Decimal(bar["fineness"]) / 10),
                troy_oz(bar["fine_mg"]),
                bar["year"],
            ]
            for bar in report.bars
        ]
    )
    tables["checkpoint.txt"] = (report.checkpoint or "").encode("utf-8")
    return tables


def write_csv_zip(report: Report, path: Path) -> None:
    """Write the report's CSV tables into one zip file."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in csv_tables(report).items():
            archive.writestr(name, data)


def _epcis_scope(session: Session, scope: ReportScope) -> epcis.Scope:
    seqs = None
    if scope.kind == "lot" and scope.key:
        seqs = frozenset(epcis.seqs_touching(session, lot_family(session, scope.key)))
    return epcis.Scope(
        org=scope.key if scope.kind == "org" else None,
        seqs=seqs,
        start=scope.start,
        until=scope.until,
    )


def _in_period(query: Select[Any], scope: ReportScope) -> Select[Any]:
    # An event's day is the first 10 characters of its RFC 3339 instant, as the exports read it.
    if scope.start is not None:
        query = query.where(Event.occurred_at >= scope.start.isoformat())
    if scope.until is not None:
        query = query.where(Event.occurred_at < (scope.until + timedelta(days=1)).isoformat())
    return query


def count_events(session: Session, *, scope: ReportScope, fmt: str) -> int:
    """Return how many events exporting ``scope`` as ``fmt`` covers: the count ``export`` returns,
    known beforehand so that a progress bar has its end. Raises InvalidInput for an unknown format.

    Both count the events of the scope in the period (for an organization, those it acted in or
    was sent): the report formats its lot events that were not voided, EPCIS the types it exports.
    """
    _check_format(fmt)
    types = epcis.EXPORTED_TYPES if fmt == "epcis" else REPLAYED_TYPES
    count = select(func.count()).select_from(Event)
    query = _in_period(count.where(Event.type.in_(types)), scope)
    sent = _in_period(select(Event.body).where(Event.type == "lot.dispatch"), scope)
    if fmt != "epcis":
        query = query.where(Event.seq.not_in(select(Voided.seq)))
        sent = sent.where(Event.seq.not_in(select(Voided.seq)))
    chosen = _epcis_scope(session, scope)
    if chosen.seqs is not None:
        return sum(
            int(session.execute(query.where(Event.seq.in_(part))).scalar_one())
            for part in _chunks(sorted(chosen.seqs))
        )
    if chosen.org is None:
        return int(session.execute(query).scalar_one())
    acted = int(session.execute(query.where(Event.actor == chosen.org)).scalar_one())
    # Dispatches to the organization name it only in their body.
    sent = sent.where(Event.actor != chosen.org).execution_options(yield_per=2000)
    received = sum(
        1 for body in session.execute(sent).scalars() if json.loads(body).get("to") == chosen.org
    )
    return acted + received


def _chunks(seqs: list[int], size: int = 5000) -> Iterator[list[int]]:
    for i in range(0, len(seqs), size):
        yield seqs[i : i + size]


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}", fields={"format": "unknown"})


def export(
    session: Session,
    *,
    scope: ReportScope,
    fmt: str,
    out: Path,
    base_url: str,
    lang: str = "es",
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the report of ``scope`` as ``fmt`` (json, csv, epcis or pdf) to ``out``; return its
    event count. ``lang`` (es or en) is the language of the PDF.

    ``progress`` receives the running count of events covered: written (EPCIS) or replayed into
    the report (the other formats, which write once the report is built). Raises InvalidInput for
    an unknown format or language, before anything is written.
    """
    _check_format(fmt)
    report_pdf.translations(lang)
    if fmt == "epcis":
        chosen = _epcis_scope(session, scope)
        with out.open("w", encoding="utf-8") as handle:
            return epcis.write_document(
                session, handle, base_url=base_url, scope=chosen, progress=progress
            )
    report = build_report(session, scope, progress)
    if fmt == "json":
        out.write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n", "utf-8")
    elif fmt == "pdf":
        out.write_bytes(report_pdf.render(report, base_url=base_url, lang=lang))
    else:
        write_csv_zip(report, out)
    return report.events
