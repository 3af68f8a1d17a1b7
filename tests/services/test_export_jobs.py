"""Export jobs refuse bad requests before starting anything, and name their files by scope."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from builders import certified_chain
from goldtrace.errors import GoldtraceError, InvalidInput, NotFound
from goldtrace.services import export_jobs
from goldtrace.services.context import Context
from goldtrace.services.reports import ReportScope

REFUSED = {
    "unknown format": ("xlsx", "es", ReportScope(), InvalidInput),
    "unknown language": ("pdf", "fr", ReportScope(), InvalidInput),
    "unknown organization": ("json", "es", ReportScope(kind="org", key="nobody"), NotFound),
    "unknown lot": ("json", "es", ReportScope(kind="lot", key="L-NONE"), NotFound),
    "ledger with a key": ("json", "es", ReportScope(kind="ledger", key="arm"), InvalidInput),
    "unknown kind": ("json", "es", ReportScope(kind="planet", key="x"), InvalidInput),
    "period backwards": (
        "csv",
        "es",
        ReportScope(start=date(2026, 5, 2), until=date(2026, 5, 1)),
        InvalidInput,
    ),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_a_bad_request_starts_nothing_and_writes_nothing(
    ledger: Session, connection: Connection, ctx: Context, tmp_path: Path, case: str
) -> None:
    certified_chain(ledger, ctx)
    fmt, lang, scope, error = REFUSED[case]
    registry = export_jobs.ExportJobs(tmp_path)
    with pytest.raises(error) as refused:
        registry.start_export(
            ledger, sessionmaker(bind=connection), ctx, owner=1, scope=scope, fmt=fmt, lang=lang
        )
    assert isinstance(refused.value, GoldtraceError) and refused.value.fields
    assert registry.statuses(lambda _status: True) == []
    assert list(tmp_path.iterdir()) == []


def test_file_names_say_scope_period_and_format() -> None:
    name = export_jobs.filename
    assert name(ReportScope(), "csv") == "goldtrace-ledger.zip"
    assert name(ReportScope(kind="org", key="oro-puno"), "epcis") == "goldtrace-org-oro-puno.jsonld"
    period = ReportScope(kind="lot", key="GT/1 2", start=date(2026, 1, 1), until=date(2026, 3, 31))
    assert name(period, "pdf") == "goldtrace-lot-GT_1_2-from-2026-01-01-until-2026-03-31.pdf"
