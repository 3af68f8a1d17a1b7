"""Chain-of-custody reports: the demo reconciles exactly; an injected excess loss is a finding."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import certified_chain, register, sell
from goldtrace.db.models import Lot
from goldtrace.domain.lots import OutputSpec
from goldtrace.services import demo, exports, lots, premiums
from goldtrace.services.context import Context
from goldtrace.services.reports import ReportScope, build_report


@pytest.fixture
def demo_ledger(ledger: Session, ctx: Context) -> Session:
    premiums.seed_rates(ledger, ctx)
    demo.load(ledger, ctx)
    return ledger


def test_demo_mass_balance_reconciles_for_every_organization(demo_ledger: Session) -> None:
    report = build_report(demo_ledger, ReportScope())
    assert report.balances
    assert report.reconciles, [b for b in report.balances if b.difference]
    assert report.checkpoint is None or report.checkpoint.startswith("goldtrace.test/log\n")
    # The closing stock is also what the derived lot table says every holder has.
    stored: dict[tuple[str, str], int] = {}
    for lot in demo_ledger.execute(select(Lot).where(Lot.status == "active")).scalars():
        key = (lot.holder_id, lot.category)
        stored[key] = stored.get(key, 0) + lot.mass_mg * lot.fineness // 10_000
    closing = {(b.org, b.category): b.closing for b in report.balances if b.closing}
    assert closing == {k: v for k, v in stored.items() if v}


def test_every_org_and_every_lot_of_the_demo_reconciles(demo_ledger: Session) -> None:
    whole = build_report(demo_ledger, ReportScope())
    for org in {b.org for b in whole.balances}:
        report = build_report(demo_ledger, ReportScope(kind="org", key=org))
        assert report.reconciles
        assert {(b.org, b.category, b.closing) for b in report.balances} == {
            (b.org, b.category, b.closing) for b in whole.balances if b.org == org
        }
    some_lot = demo_ledger.execute(select(Lot.id).limit(1)).scalar_one()
    assert build_report(demo_ledger, ReportScope(kind="lot", key=some_lot)).reconciles


def test_a_period_moves_earlier_flows_into_the_opening_stock(demo_ledger: Session) -> None:
    whole = build_report(demo_ledger, ReportScope())
    later = build_report(demo_ledger, ReportScope(start=date(2100, 1, 1)))
    assert later.reconciles
    assert {(b.org, b.category): b.opening for b in later.balances if b.opening} == {
        (b.org, b.category): b.closing for b in whole.balances if b.closing
    }


def test_a_loss_above_tolerance_is_a_finding(ledger: Session, ctx: Context) -> None:
    chain = certified_chain(ledger, ctx)
    lot = register(ledger, ctx, chain.mine, mass_mg=1_000_000, fineness=9_000)
    sell(ledger, ctx, lot, chain.mine, chain.refiner)
    lots.transform(
        ledger,
        ctx,
        actor=chain.refiner,
        kind="melt",
        inputs=[lot],
        outputs=[OutputSpec(id="", form="bar", mass_mg=980_000, fineness=9_000)],
    )
    report = build_report(ledger, ReportScope())
    kinds = [f.kind for f in report.findings]
    assert "loss_above_tolerance" in kinds
    assert report.reconciles
    refiner = {b.category: b for b in report.balances if b.org == chain.refiner}["fairmined"]
    assert (refiner.receipts, refiner.transform_in, refiner.transform_out) == (
        900_000,
        900_000,
        882_000,
    )
    assert report.bars and report.bars[0]["gross_mg"] == 980_000


def test_csv_zip_and_json(demo_ledger: Session, ctx: Context, tmp_path: Path) -> None:
    out = tmp_path / "report.zip"
    exports.export(
        demo_ledger, scope=ReportScope(), fmt="csv", out=out, base_url=ctx.settings.base_url
    )
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        balance = archive.read("mass_balance_fine_mg.csv").decode()
    assert {"organizations.csv", "mass_balance_fine_mg.csv", "findings.csv"} <= names
    assert "bar_weight_list.csv" in names
    assert balance.splitlines()[0].startswith("org,category,opening")
    as_json = tmp_path / "report.json"
    exports.export(
        demo_ledger, scope=ReportScope(), fmt="json", out=as_json, base_url=ctx.settings.base_url
    )
    data = json.loads(as_json.read_text())
    assert data["reconciles"] is True


def test_troy_ounces() -> None:
    assert exports.troy_oz(31_103_477) == "1000.000"
    assert exports.troy_oz(12_441_391) == "400.000"
    assert exports.troy_oz(12_441_390) == "399.999"
