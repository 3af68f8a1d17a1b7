"""The chain-of-custody report as a PDF: A4 landscape tables whose header rows repeat on every page,
"page N of M" footers, the anchoring checkpoint in monospace and a QR code of the public URL where
anyone fetches the latest checkpoint.

Spanish by default, English on request. Texts come from the web catalog (``web/translations``,
msgids in English) through Babel, so the PDF says what the web UI says; a msgid the catalog lacks
prints in English. Masses are fine grams with three decimals, written the locale's way.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

import segno
from babel.dates import format_date
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from goldtrace.config import PROJECT_ROOT
from goldtrace.domain.quantities import TROY_OUNCE_MG
from goldtrace.errors import InvalidInput
from goldtrace.services.pdf_fonts import MONO, SANS, add_fonts
from goldtrace.services.reports import Report

LANGUAGES = ("es", "en")
TRANSLATIONS_DIR = PROJECT_ROOT / "web" / "translations"
CHECKPOINT_PATH = "/api/v1/log/checkpoint"
_GOLD = (107, 78, 0)
_HEADINGS = FontFace(emphasis="BOLD", fill_color=(243, 234, 208))
_TABLE_PT = 7.5
_QR_MM = 30.0
Row = list[str]


def translations(lang: str) -> NullTranslations:
    """The catalog of ``lang`` (es or en). Raises InvalidInput for any other language."""
    if lang not in LANGUAGES:
        raise InvalidInput(
            f"unknown language {lang!r} (use {' or '.join(LANGUAGES)})", fields={"lang": "unknown"}
        )
    return Translations.load(str(TRANSLATIONS_DIR), locales=[lang], domain="messages")


def checkpoint_url(base_url: str) -> str:
    """The public URL of the latest signed checkpoint, which the report's QR code encodes."""
    return base_url.rstrip("/") + CHECKPOINT_PATH


def render(report: Report, *, base_url: str, lang: str = "es") -> bytes:
    """Return the PDF of ``report`` in ``lang``. Raises InvalidInput for an unknown language."""
    pdf = _ReportPDF(report, base_url.rstrip("/"), lang, translations(lang).gettext)
    pdf.write_all()
    return bytes(pdf.output())


class _ReportPDF(FPDF):
    """One report being drawn: the document, its language and the report's organizations by id."""

    def __init__(
        self, report: Report, base_url: str, lang: str, gettext: Callable[[str], str]
    ) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.report, self.base_url, self.lang, self.gettext = report, base_url, lang, gettext
        self.names = {str(org["id"]): str(org["name"]) for org in report.organizations}
        self.set_margins(12, 12, 12)
        self.set_auto_page_break(True, margin=14)
        add_fonts(self, mono=True)
        self.set_lang(lang)
        self.set_creator("goldtrace")
        self.set_title(gettext("Chain-of-custody report") + " · " + self.scope_text())
        self.set_subject(checkpoint_url(base_url))

    # --- words and numbers in the report's language ---------------------------------------------

    def grams(self, mg: int) -> str:
        return format_decimal(Decimal(mg) / 1000, format="#,##0.000", locale=self.lang)

    def usd(self, cents: int) -> str:
        return "USD " + format_decimal(Decimal(cents) / 100, format="#,##0.00", locale=self.lang)

    def troy_oz(self, mg: int) -> str:
        # Rounded down, as weight lists do (the same rule as the CSV weight list).
        ounces = (Decimal(mg) / TROY_OUNCE_MG).quantize(Decimal("0.001"), rounding=ROUND_DOWN)
        return format_decimal(ounces, format="#,##0.000", locale=self.lang)

    def day(self, value: date | str) -> str:
        return format_date(date.fromisoformat(str(value)), format="long", locale=self.lang)

    def org(self, org_id: str | None) -> str:
        return self.names.get(org_id, org_id) if org_id else "—"

    def scope_text(self) -> str:
        _ = self.gettext
        scope = self.report.scope
        if scope.kind == "org":
            return _("Organization: %(name)s (%(id)s)") % dict(
                name=self.org(scope.key), id=scope.key
            )
        if scope.kind == "lot":
            text = _("Lot %(lot)s: where its gold came from and what became of it")
            return text % dict(lot=scope.key)
        return _("Whole ledger")

    def period_text(self) -> str:
        _ = self.gettext
        start, until = self.report.scope.start, self.report.scope.until
        if start and until:
            return _("from %(start)s to %(until)s") % dict(
                start=self.day(start), until=self.day(until)
            )
        if start:
            return _("from %(start)s on") % {"start": self.day(start)}
        if until:
            return _("until %(until)s") % {"until": self.day(until)}
        return _("all dates")

    # --- page furniture --------------------------------------------------------------------------

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(SANS, "", 7)
        self.set_text_color(90, 90, 90)
        self.cell(0, 4, "goldtrace · " + self.scope_text(), align="L")
        self.set_x(self.l_margin)
        page = self.gettext("Page %(n)s of %(total)s") % {"n": self.page_no(), "total": "{nb}"}
        self.cell(0, 4, page, align="R")
        self.set_text_color(0, 0, 0)

    def heading(self, text: str) -> None:
        if self.get_y() > self.h - 45:  # never a heading alone at the foot of a page
            self.add_page()
        self.ln(3)
        self.set_font(SANS, "B", 12)
        self.set_text_color(*_GOLD)
        self.cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)

    def paragraph(self, text: str, size: float = 8.5) -> None:
        self.set_font(SANS, "", size)
        self.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def grid(self, header: Row, rows: list[Row], widths: tuple[float, ...], align: str) -> None:
        """A table whose header row repeats on every page; ``align`` has an L or R per column."""
        self.set_font(SANS, "", _TABLE_PT)
        style = {"headings_style": _HEADINGS, "line_height": _TABLE_PT * 0.5, "padding": 1}
        with self.table(col_widths=widths, text_align=tuple(align), **style) as table:
            for values in (header, *rows):
                row = table.row()
                for value in values:
                    row.cell(value)
        self.ln(2)

    # --- the sections ----------------------------------------------------------------------------

    def write_all(self) -> None:
        self.add_page()
        self.title_block()
        self.organizations_section()
        self.balance_section()
        self.premiums_section()
        self.findings_section()
        if self.report.bars:
            self.bars_section()
        self.checkpoint_section()

    def title_block(self) -> None:
        _ = self.gettext
        url = checkpoint_url(self.base_url)
        qr_x = self.w - self.r_margin - _QR_MM
        png = io.BytesIO()
        segno.make_qr(url, error="m").save(png, kind="png", scale=8, border=2)
        png.seek(0)
        self.image(png, x=qr_x, y=self.t_margin, w=_QR_MM, h=_QR_MM, link=url)
        self.set_xy(qr_x - 10, self.t_margin + _QR_MM)
        self.set_font(SANS, "", 6.5)
        self.multi_cell(
            _QR_MM + 10, 3, _("Scan to fetch the ledger's latest checkpoint"), align="C"
        )
        text_w = qr_x - self.l_margin - 6
        self.set_xy(self.l_margin, self.t_margin)
        self.set_font(SANS, "B", 18)
        self.set_text_color(*_GOLD)
        self.multi_cell(text_w, 9, _("Chain-of-custody report"), new_x=XPos.LMARGIN)
        self.set_text_color(0, 0, 0)
        self.set_font(SANS, "B", 11)
        self.multi_cell(text_w, 6, self.scope_text(), new_x=XPos.LMARGIN)
        self.set_font(SANS, "", 9.5)
        facts = [
            _("Period: %(period)s") % {"period": self.period_text()},
            _("Events covered: %(count)s") % {"count": self.report.events},
            _("The mass balance reconciles to the milligram.")
            if self.report.reconciles
            else _("The mass balance does NOT reconcile: see the findings."),
        ]
        for fact in facts:
            self.multi_cell(text_w, 5, fact, new_x=XPos.LMARGIN)
        self.set_y(max(self.get_y(), self.t_margin + _QR_MM + 7))

    def organizations_section(self) -> None:
        _ = self.gettext
        self.heading(_("Organizations"))
        kinds = {
            "mine": _("Mine"),
            "trader": _("Trader"),
            "refiner": _("Refiner"),
            "jeweler": _("Jeweler"),
            "auditor": _("Auditor"),
            "standard_body": _("Standard body"),
        }
        rows = [
            [
                f"{org['name']}\n{org['id']}",
                kinds.get(org["kind"], org["kind"]),
                org["country"] or "",
                "\n".join(self.certification_text(c) for c in org["certifications"]) or "—",
                "\n".join(self.authorization_text(a) for a in org["authorizations"]) or "—",
            ]
            for org in self.report.organizations
        ]
        header = [_("Organization"), _("Kind"), _("Country"), _("Certifications")]
        self.grid([*header, _("Authorizations")], rows, (50, 28, 14, 106, 75), "LLLLL")

    def category(self, name: str) -> str:
        _ = self.gettext
        labels = {
            "fairmined": _("Fairmined"),
            "fairmined_ecological": _("Fairmined Ecological"),
            "none": _("not certified"),
        }
        return labels.get(name, name)

    def certification_text(self, cert: dict[str, Any]) -> str:
        _ = self.gettext
        statuses = {
            "active": _("active since %(date)s"),
            "suspended": _("suspended since %(date)s"),
            "withdrawn": _("withdrawn since %(date)s"),
        }
        history = "; ".join(
            statuses.get(s["status"], s["status"] + " %(date)s") % {"date": s["from"]}
            for s in cert["statuses"]
        )
        parts = (cert["number"], self.category(cert["category"]), self.validity(cert), history)
        return " · ".join(part for part in parts if part)

    def authorization_text(self, auth: dict[str, Any]) -> str:
        _ = self.gettext
        roles = {"supplier": _("Authorized supplier"), "licensee": _("Licensee")}
        return f"{roles.get(auth['role'], auth['role'])} · {self.validity(auth)}"

    def validity(self, record: dict[str, Any]) -> str:
        text = self.gettext("valid %(start)s to %(until)s")
        return text % dict(start=record["valid_from"], until=record["valid_until"])

    def balance_section(self) -> None:
        _ = self.gettext
        self.heading(_("Mass balance (fine gold, grams)"))
        self.paragraph(
            _(
                "Closing stock is the fine gold in the lots each organization holds at the end of the"
                " period. Difference = closing − (opening + production + receipts + transformation"
                " outputs + adjustments − dispatches − transformation inputs); it must be zero. Loss"
                " is transformation inputs − outputs."
            )
        )
        header = [
            _("Organization"),
            _("Category"),
            _("Opening"),
            _("Production"),
            _("Receipts"),
            _("Transf. in"),
            _("Transf. out"),
            _("Loss"),
            _("Adjustments"),
            _("Dispatches"),
            _("Closing"),
            _("Difference"),
        ]
        rows = []
        for b in self.report.balances:
            loss = b.transform_in - b.transform_out
            figures = [b.opening, b.production, b.receipts, b.transform_in, b.transform_out, loss]
            figures += [b.adjustments, b.dispatches, b.closing, b.difference]
            rows.append([self.org(b.org), self.category(b.category), *map(self.grams, figures)])
        self.grid(header, rows, (40, 23, *([21] * 10)), "LL" + "R" * 10)

    def premiums_section(self) -> None:
        _ = self.gettext
        self.heading(_("Premium per committee"))
        if not self.report.premiums:
            self.paragraph(_("No premium committee takes part in this report."))
            return
        money = ("owed", "paid", "outstanding")
        rows = [
            [self.org(p["committee"]), *(self.usd(p[k]) for k in money)]
            for p in self.report.premiums
        ]
        header = [_("Premium committee"), _("Owed"), _("Paid"), _("Outstanding")]
        self.grid(header, rows, (120, 50, 50, 50), "LRRR")

    def findings_section(self) -> None:
        _ = self.gettext
        self.heading(_("Findings"))
        if not self.report.findings:
            self.paragraph(_("No findings."))
            return
        kinds = {
            "weight_discrepancy": _("Received lighter than dispatched"),
            "fine_gold_gain": _("Fine gold rose at a receipt or assay"),
            "cumulative_gain": _("Gains since registration add up"),
            "unattributed_gold": _("Gold that no mine registered"),
            "repeated_gain_shipments": _("Repeated shipments that grow the lot"),
            "loss_above_tolerance": _("Loss above tolerance"),
            "implausible_low_loss": _("Implausibly small loss"),
            "possible_duplicate": _("Possible duplicate registration"),
            "sustained_high_use": _("At capacity three windows running"),
            "mass_balance_difference": _("Mass balance difference"),
            "voided_event": _("Voided event"),
            "capacity_exception": _("Capacity exception"),
        }
        severities = {"high": _("high"), "review": _("review"), "info": _("information")}
        rows = []
        for f in self.report.findings:
            seq = "" if f.seq is None else str(f.seq)
            kind = f"{kinds.get(f.kind, f.kind)} ({severities.get(f.severity, f.severity)})"
            rows.append([kind, seq, self.org(f.org), f.lot or "—", f.detail])
        header = [_("Finding"), _("Event"), _("Organization"), _("Lot"), _("Detail")]
        self.grid(header, rows, (45, 16, 45, 32, 135), "LRLLL")

    def bars_section(self) -> None:
        _ = self.gettext
        self.heading(_("Bar weight list"))
        rows = [
            [
                str(bar["serial"]),
                self.org(bar["refiner"]),
                self.troy_oz(bar["gross_mg"]),
                format_decimal(Decimal(bar["fineness"]) / 10, format="0.0", locale=self.lang),
                self.troy_oz(bar["fine_mg"]),
                str(bar["year"]),
            ]
            for bar in self.report.bars
        ]
        header = [_("Serial"), _("Refiner"), _("Gross troy oz"), _("Assay (‰)")]
        self.grid([*header, _("Fine troy oz"), _("Year")], rows, (50, 80, 40, 30, 40, 33), "LLRRRR")

    def checkpoint_section(self) -> None:
        _ = self.gettext
        self.heading(_("Anchoring checkpoint"))
        note = self.report.checkpoint
        if note is None:
            self.paragraph(
                _(
                    "No checkpoint has been signed yet, so this report is not anchored: run"
                    " `goldtrace checkpoint` and export it again."
                )
            )
            return
        self.set_font(MONO, "", 8)
        self.set_fill_color(245, 245, 245)
        self.multi_cell(0, 4, note.rstrip("\n"), fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        lines = note.splitlines()
        self.verify_section(lines[1] if len(lines) > 1 else "?")

    def verify_section(self, size: str) -> None:
        _ = self.gettext
        self.heading(_("How to verify this report"))
        api = self.base_url + "/api/v1"
        values = {
            "size": size,
            "key_url": api + "/log/key",
            "checkpoint_url": checkpoint_url(self.base_url),
            "consistency_url": api + f"/log/proof/consistency?first={size}&second=<size>",
            "inclusion_url": api + f"/log/proof/inclusion?seq=<n>&size={size}",
            "command": f"goldtrace audit --url {self.base_url}",
        }
        steps = (
            _(
                "The checkpoint above is signed by the ledger's log key over its append-only log of"
                " %(size)s records; every event this report names by its number is one of them."
            ),
            _(
                "1. Fetch the log key at %(key_url)s, compare it with the key published by a source"
                " you trust, and check the checkpoint's signature with it."
            ),
            _(
                "2. Fetch the latest checkpoint at %(checkpoint_url)s (the QR code on the first"
                " page); if it is larger, this consistency proof shows that the log has only grown"
                " since: %(consistency_url)s"
            ),
            _("3. Any event named here is proven to be in the log by %(inclusion_url)s"),
            _("Or run %(command)s: it does all of this and recomputes every hash and signature."),
        )
        for step in steps:
            self.paragraph(step % values)
