"""`exports.count_events` knows beforehand the count an export returns (the progress bar's end)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from goldtrace.db.models import Lot, Organization
from goldtrace.errors import InvalidInput
from goldtrace.services import demo, epcis, exports, premiums, report_replay
from goldtrace.services.context import Context
from goldtrace.services.reports import ReportScope


@pytest.fixture
def demo_ledger(ledger: Session, ctx: Context) -> Session:
    premiums.seed_rates(ledger, ctx)
    demo.load(ledger, ctx)
    return ledger


def test_the_count_is_what_every_export_returns(
    demo_ledger: Session, ctx: Context, tmp_path: Path
) -> None:
    orgs = demo_ledger.execute(select(Organization.id).order_by(Organization.id)).scalars()
    some_lot = demo_ledger.execute(select(Lot.id).order_by(Lot.id).limit(1)).scalar_one()
    scopes = [ReportScope(), ReportScope(kind="lot", key=some_lot)]
    scopes += [ReportScope(kind="org", key=org) for org in orgs]
    scopes += [ReportScope(start=date(2100, 1, 1)), ReportScope(until=date(2000, 1, 1))]
    nonzero = 0
    for scope in scopes:
        for fmt in ("epcis", "json"):
            expected = exports.count_events(demo_ledger, scope=scope, fmt=fmt)
            written = exports.export(
                demo_ledger,
                scope=scope,
                fmt=fmt,
                out=tmp_path / f"out.{fmt}",
                base_url=ctx.settings.base_url,
            )
            assert expected == written, (scope, fmt)
            nonzero += expected > 0
    # The demo's organizations all take part in some exported event.
    assert nonzero >= len(scopes)


def test_an_unknown_format_has_no_count(ledger: Session) -> None:
    with pytest.raises(InvalidInput, match="unknown format 'xml'"):
        exports.count_events(ledger, scope=ReportScope(), fmt="xml")


@pytest.mark.parametrize("fmt", ["json", "csv", "pdf", "epcis"])
def test_progress_climbs_to_the_count_in_every_format(
    demo_ledger: Session, ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setattr(report_replay, "PROGRESS_EVERY", 5)
    monkeypatch.setattr(epcis, "PROGRESS_EVERY", 5)
    seen: list[int] = []
    total = exports.export(
        demo_ledger,
        scope=ReportScope(),
        fmt=fmt,
        out=tmp_path / f"out.{fmt}",
        base_url=ctx.settings.base_url,
        progress=seen.append,
    )
    assert total == exports.count_events(demo_ledger, scope=ReportScope(), fmt=fmt) > 5
    assert seen[-1] == total
    assert len(seen) >= 2 and seen == sorted(seen), seen
