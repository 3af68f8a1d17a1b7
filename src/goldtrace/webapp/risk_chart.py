"""A small bar chart drawn as SVG on the server: fine gold registered each month against the capacity.

One bar a month, the capacity as a stepped line over the bars; a month at HIGH_USE_PCT of capacity or
more is drawn in the warning colour, a month still running lighter. No script and nothing fetched:
the picture is text in the page, with a title and a description that state every figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from babel.dates import format_skeleton
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from goldtrace.domain.risk import HIGH_USE_PCT, Month
from goldtrace.webapp.i18n import grams

HEIGHT = 120  # of the plot, between the top and the month labels
TOP = 8
LABELS = 28  # below the plot: the month and, in January and at the start, the year
MARGIN = 4
SLOT = 24  # a month's width; 12 when more than 18 months are drawn
BAR = 16
FILL = "#c9a227"
WARN = "#a33b1f"
LINE = "#2f2a22"


@dataclass(frozen=True)
class Bar:
    """One month of the chart."""

    month: Month
    fine_mg: int
    capacity_mg: int | None
    in_progress: bool = False

    @property
    def high(self) -> bool:
        """True when the month reached HIGH_USE_PCT of its capacity."""
        return bool(self.capacity_mg) and self.fine_mg * 100 >= HIGH_USE_PCT * (
            self.capacity_mg or 0
        )


def month_name(month: Month) -> str:
    """A month in the reader's language: "jul 2026" (es), "Jul 2026" (en)."""
    return str(format_skeleton("yMMM", month.first, locale=str(get_locale())))


def _describe(bar: Bar) -> str:
    if bar.capacity_mg:
        return str(
            _(
                "%(month)s: %(fine)s g of %(capacity)s g of capacity (%(share)s %%).",
                month=month_name(bar.month),
                fine=grams(bar.fine_mg),
                capacity=grams(bar.capacity_mg),
                share=bar.fine_mg * 100 // bar.capacity_mg,
            )
        )
    return str(_("%(month)s: %(fine)s g.", month=month_name(bar.month), fine=grams(bar.fine_mg)))


def render_chart(bars: Sequence[Bar], *, title: str, ident: str) -> Markup:
    """The bars as an accessible SVG (``role="img"``, a title, and a description stating each month's
    figures). ``ident`` keeps element ids unique on a page with many charts. Every text is escaped."""
    slot = SLOT if len(bars) <= 18 else SLOT // 2
    bar_width = BAR if slot == SLOT else BAR // 2
    width = 2 * MARGIN + slot * len(bars)
    top_mg = max([1, *(b.fine_mg for b in bars), *(b.capacity_mg or 0 for b in bars)])
    bottom = TOP + HEIGHT

    def y(mg: int) -> int:
        return bottom - mg * HEIGHT // top_mg

    description = " ".join(_describe(b) for b in bars)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="risk-chart" role="img" '
        f'viewBox="0 0 {width} {bottom + LABELS}" width="100%" font-family="system-ui, sans-serif" '
        f'font-size="9" aria-labelledby="{ident}-title {ident}-desc">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(description)}</desc>',
        f'<line x1="{MARGIN}" y1="{bottom}" x2="{width - MARGIN}" y2="{bottom}" stroke="#a89f8c"/>',
    ]
    step: list[str] = []
    pen = False  # whether the capacity line continues from the month before
    for i, bar in enumerate(bars):
        x = MARGIN + i * slot
        top = y(bar.fine_mg)
        colour = WARN if bar.high else FILL
        opacity = ' fill-opacity="0.55"' if bar.in_progress else ""
        parts.append(
            f'<rect x="{x + (slot - bar_width) // 2}" y="{top}" width="{bar_width}" '
            f'height="{bottom - top}" fill="{colour}"{opacity}>'
            f"<title>{escape(_describe(bar))}</title></rect>"
        )
        if bar.capacity_mg:
            level = y(bar.capacity_mg)
            step.append(f"{'L' if pen else 'M'}{x} {level} L{x + slot} {level}")
        pen = bool(bar.capacity_mg)
        if slot == SLOT or i % 3 == 0:
            parts.append(
                f'<text x="{x + slot // 2}" y="{bottom + 11}" text-anchor="middle" fill="#5a5248">'
                f"{bar.month.month:02d}</text>"
            )
        if i == 0 or bar.month.month == 1:
            parts.append(
                f'<text x="{x + 1}" y="{bottom + 23}" fill="#5a5248">{bar.month.year}</text>'
            )
    path = " ".join(step)
    if path:
        parts.append(
            f'<path d="{path}" fill="none" stroke="{LINE}" stroke-width="1.5" '
            f'stroke-dasharray="4 2"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()
