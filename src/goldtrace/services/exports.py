"""Report files: JSON, a zip of CSV tables (with an LBMA-style weight list for bars), and EPCIS."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from goldtrace.domain.quantities import TROY_OUNCE_MG
from goldtrace.errors import InvalidInput
from goldtrace.services import epcis
from goldtrace.services.reports import FLOWS, Report, ReportScope, build_report, lot_family

FORMATS = ("json", "csv", "epcis")
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
        [["kind", "seq", "org", "lot", "detail"]]
        + [[f.kind, f.seq, f.org, f.lot, f.detail] for f in report.findings]
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


def export(
    session: Session,
    *,
    scope: ReportScope,
    fmt: str,
    out: Path,
    base_url: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the report of ``scope`` as ``fmt`` (json, csv or epcis) to ``out``; return its event count.

    Raises InvalidInput for an unknown format.
    """
    if fmt == "epcis":
        seqs = None
        if scope.kind == "lot" and scope.key:
            family = lot_family(session, scope.key)
            seqs = frozenset(epcis.seqs_touching(session, family))
        chosen = epcis.Scope(
            org=scope.key if scope.kind == "org" else None,
            seqs=seqs,
            start=scope.start,
            until=scope.until,
        )
        with out.open("w", encoding="utf-8") as handle:
            return epcis.write_document(
                session, handle, base_url=base_url, scope=chosen, progress=progress
            )
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}", fields={"format": "unknown"})
    report = build_report(session, scope)
    if fmt == "json":
        out.write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n", "utf-8")
    else:
        write_csv_zip(report, out)
    return report.events
