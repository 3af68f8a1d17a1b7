"""The chain-of-custody report as PDF: it parses, says what the report says, numbers its pages, repeats
table headers across pages, carries a QR code of the checkpoint URL, and speaks Spanish by default."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
import segno
from pypdf import PdfReader
from sqlalchemy.orm import Session

from builders import certified_chain, register, sell
from goldtrace.domain.lots import OutputSpec
from goldtrace.errors import InvalidInput
from goldtrace.services import demo, exports, lots, premiums, report_pdf, transparency
from goldtrace.services.context import Context
from goldtrace.services.reports import Balance, Report, ReportScope, build_report

QR_SCALE, QR_BORDER = 8, 2  # as report_pdf draws it


@pytest.fixture
def demo_ledger(ledger: Session, ctx: Context) -> Session:
    premiums.seed_rates(ledger, ctx)
    demo.load(ledger, ctx)
    return ledger


def pages_text(pdf: Path) -> list[str]:
    """The text of every page, whitespace folded to single spaces."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages]


def english_grams(mg: int) -> str:
    return f"{Decimal(mg) / 1000:,.3f}"


def test_the_demo_report_in_english(demo_ledger: Session, ctx: Context, tmp_path: Path) -> None:
    out = tmp_path / "demo.pdf"
    base_url = ctx.settings.base_url
    count = exports.export(
        demo_ledger, scope=ReportScope(), fmt="pdf", out=out, base_url=base_url, lang="en"
    )
    report = build_report(demo_ledger, ReportScope())
    assert count == report.events
    pages = pages_text(out)
    text = " ".join(pages)
    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
    assert "Chain-of-custody report" in text and "Whole ledger" in text
    for org in report.organizations:
        assert org["name"] in text and org["id"] in text
    assert "Opening" in text and "Difference" in text
    for balance in report.balances:
        assert english_grams(balance.closing) in text
        assert english_grams(balance.receipts) in text
    assert report.findings
    for finding in report.findings:
        assert finding.detail in text
    # Findings are the flags the rules raised, named in words with their severity (a weighing
    # inside the tolerance raises nothing; the demo registers two look-alike lots).
    assert "Possible duplicate registration (review)" in text
    assert report.bars and report.bars[0]["serial"] in text
    assert report.checkpoint is not None
    for line in report.checkpoint.splitlines():
        assert line in text
    assert "How to verify this report" in text
    assert f"{base_url}/api/v1/log/key" in text
    assert "The mass balance reconciles to the milligram." in text


def test_the_qr_code_encodes_the_checkpoint_url(
    demo_ledger: Session, ctx: Context, tmp_path: Path
) -> None:
    url = report_pdf.checkpoint_url(ctx.settings.base_url)
    assert url == ctx.settings.base_url + "/api/v1/log/checkpoint"
    out = tmp_path / "demo.pdf"
    report = build_report(demo_ledger, ReportScope())
    out.write_bytes(report_pdf.render(report, base_url=ctx.settings.base_url))
    first = PdfReader(out).pages[0]
    (image,) = first.images
    picture = image.image.convert("L")
    # No QR decoder is installed here: read the modules off the drawn image instead.
    expected = segno.make_qr(url, error="m").matrix
    side, middle = len(expected), QR_SCALE // 2
    assert picture.size == ((side + 2 * QR_BORDER) * QR_SCALE,) * 2

    def dark(row: int, column: int) -> bool:
        x = (column + QR_BORDER) * QR_SCALE + middle
        y = (row + QR_BORDER) * QR_SCALE + middle
        return int(picture.getpixel((x, y))) < 128

    drawn = [[dark(r, c) for c in range(side)] for r in range(side)]
    assert drawn == [[bool(module) for module in row] for row in expected]
    # The image is also a link to the same URL.
    assert [annot.get_object()["/A"]["/URI"] for annot in first["/Annots"]] == [url]


def test_a_built_chain_with_a_loss_above_tolerance(
    ledger: Session, ctx: Context, tmp_path: Path
) -> None:
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
    checkpoint = transparency.cut_checkpoint(ledger, ctx)
    out = tmp_path / "refiner.pdf"
    scope = ReportScope(kind="org", key=chain.refiner)
    exports.export(
        ledger, scope=scope, fmt="pdf", out=out, base_url="https://gold.example.org", lang="en"
    )
    text = " ".join(pages_text(out))
    assert "Organization: Refiner (refiner)" in text
    assert "Loss above tolerance (review)" in text
    assert "melt lost 18000 mg of 900000 mg fine gold (tolerance 0.5 %)" in text
    # Receipts 900 g, into the melt 900 g, out of it 882 g: a loss of 18 g, closing 882 g.
    assert (
        "Refiner Fairmined 0.000 0.000 900.000 900.000 882.000 18.000 0.000 0.000 882.000" in text
    )
    assert "Bar weight list" in text
    bar = build_report(ledger, scope).bars[0]
    # The same figures as the CSV weight list: troy ounces rounded down.
    gross, fine = exports.troy_oz(bar["gross_mg"]), exports.troy_oz(bar["fine_mg"])
    assert (gross, fine) == ("31.507", "28.356")
    assert f"{bar['serial']} Refiner {gross} 900.0 {fine} 2026" in text
    for line in checkpoint.note.splitlines():
        assert line in text
    assert "https://gold.example.org/api/v1/log/proof/inclusion?seq=<n>&size=" in text


def test_table_headers_repeat_on_every_page_and_no_checkpoint_is_said(tmp_path: Path) -> None:
    balances = [
        Balance(f"org-{i:03d}", "fairmined", opening=i * 1000, closing=i * 1000) for i in range(120)
    ]
    report = Report(scope=ReportScope(), balances=balances)
    out = tmp_path / "long.pdf"
    out.write_bytes(report_pdf.render(report, base_url="https://gold.example.org", lang="en"))
    pages = pages_text(out)
    assert len(pages) >= 3
    with_rows = [page for page in pages if re.search(r"org-\d{3} Fairmined", page)]
    assert len(with_rows) >= 3
    for page in with_rows:
        assert "Organization Category Opening Production Receipts" in page
    assert "org-119 Fairmined 119.000" in " ".join(pages)
    assert "No checkpoint has been signed yet" in pages[-1]
    assert "No findings." in " ".join(pages)


def test_spanish_is_the_default_and_uses_the_catalog(tmp_path: Path) -> None:
    report = Report(scope=ReportScope(), balances=[Balance("mina", "fairmined", closing=1_234_567)])
    out = tmp_path / "es.pdf"
    out.write_bytes(report_pdf.render(report, base_url="https://gold.example.org"))
    text = " ".join(pages_text(out))
    # msgids already translated in web/translations/es: "Organizations", "Category", "Outstanding".
    assert "Organizaciones" in text and "Categoría" in text
    assert "Organizations" not in text
    assert "1.234,567" in text  # Spanish decimal comma and thousands point
    assert PdfReader(out).trailer["/Root"]["/Lang"] == "es"


def test_an_unknown_language_is_refused_and_nothing_is_written(
    ledger: Session, tmp_path: Path
) -> None:
    out = tmp_path / "fr.pdf"
    with pytest.raises(InvalidInput, match="unknown language 'fr'"):
        exports.export(
            ledger,
            scope=ReportScope(),
            fmt="pdf",
            out=out,
            base_url="https://x.org",
            lang="fr",
        )
    assert not out.exists()
    with pytest.raises(InvalidInput, match="unknown format"):
        exports.export(ledger, scope=ReportScope(), fmt="docx", out=out, base_url="https://x.org")
    assert not out.exists()
