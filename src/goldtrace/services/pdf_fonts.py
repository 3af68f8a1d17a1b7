"""The TrueType fonts bundled in ``web/fonts`` for every PDF goldtrace writes (certificate cards, reports).

DejaVu covers every Spanish letter and the symbols the documents print (‰, ·, —); a PDF never
refers to a system font, so it looks the same wherever it is opened.
"""

from __future__ import annotations

from fpdf import FPDF

from goldtrace.config import PROJECT_ROOT

FONT_DIR = PROJECT_ROOT / "web" / "fonts"
SANS = "DejaVu"
MONO = "DejaVuMono"


def add_fonts(pdf: FPDF, *, mono: bool = False) -> None:
    """Register DejaVu Sans (regular and bold) on ``pdf`` as the family ``SANS``, and with ``mono``
    DejaVu Sans Mono as ``MONO`` (for signed notes, hashes and keys)."""
    pdf.add_font(SANS, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(SANS, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    if mono:
        pdf.add_font(MONO, "", str(FONT_DIR / "DejaVuSansMono.ttf"))
