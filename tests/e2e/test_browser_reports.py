"""An auditor exports the demo ledger as CSV tables from the reports page and downloads the zip."""

from __future__ import annotations

import io
import zipfile

from playwright.sync_api import Page, expect

from browsing import AUDITOR, _, choose, login, screenshot


def test_an_auditor_exports_csv_and_downloads_the_zip(page: Page) -> None:
    login(page, AUDITOR)
    page.get_by_role("navigation").get_by_role("link", name=_("Reports"), exact=True).click()
    expect(page.get_by_role("heading", name=_("Chain-of-custody reports"))).to_be_visible()

    choose(page.get_by_label(_("What the report covers")), _("The whole ledger"))
    choose(page.get_by_label(_("Format")), _("CSV tables in a zip (with the weight list of bars)"))
    page.get_by_role("button", name=_("Start the export")).click()

    # The page polls the job and shows the finished export: a full bar and a download link.
    bar = page.locator("progress#export-progress")
    expect(page.get_by_text(_("The report is ready."), exact=True)).to_be_visible(timeout=60_000)
    total = bar.get_attribute("max")
    assert total and int(total) > 0
    expect(bar).to_have_attribute("value", total)
    screenshot(page, "reports-desktop")

    link = page.get_by_role("link", name=_("Download %(name)s", name="goldtrace-ledger.zip"))
    with page.expect_download() as waiting:
        link.click()
    download = waiting.value
    assert download.suggested_filename == "goldtrace-ledger.zip"
    archive = zipfile.ZipFile(io.BytesIO(download.path().read_bytes()))
    assert "mass_balance_fine_mg.csv" in archive.namelist()
    assert b"cecomip" in archive.read("organizations.csv")
