"""Languages (Spanish by default, English on request) and locale-aware formatting of quantities."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.numbers import format_decimal
from flask import Blueprint, Flask, Response, redirect, request, url_for
from flask_babel import Babel, format_date, get_locale

from goldtrace.config import PROJECT_ROOT
from goldtrace.domain.quantities import fine_mg

LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "es"
COOKIE = "lang"

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The language the visitor chose (a cookie), else Spanish."""
    chosen = request.cookies.get(COOKIE)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


@bp.get("/lang/<code>")
def switch(code: str) -> Response:
    """Switch language and stay on the page; the choice sticks for a year."""
    target = request.args.get("next") or url_for("pages.home")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("pages.home")
    response = redirect(target)
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response  # type: ignore[return-value]


def grams(mg: int) -> str:
    """Milligrams as grams with 3 decimals in the locale's format: 1234567 -> "1.234,567" (es)."""
    return format_decimal(Decimal(mg) / 1000, format="#,##0.000", locale=str(get_locale()))


def fineness(parts: int) -> str:
    """Parts per ten thousand as per mille with the locale's decimal mark: 9999 -> "999,9 ‰"."""
    text = format_decimal(Decimal(parts) / 10, format="0.#", locale=str(get_locale()))
    return f"{text} ‰"


def money(cents: int) -> str:
    """Cents as USD with 2 decimals in the locale's format."""
    amount = format_decimal(Decimal(cents) / 100, format="#,##0.00", locale=str(get_locale()))
    return f"USD {amount}"


def fine_grams(mass_mg: int, parts: int) -> str:
    """Fine gold of a mass at a fineness, formatted as grams."""
    return grams(fine_mg(mass_mg, parts))


def day(value: date | str | None) -> str:
    """A date in the locale's medium format."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return str(format_date(value, "medium"))


def install(app: Flask) -> None:
    """Attach Babel, the language switch and the formatting filters to ``app``."""
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LANGUAGE
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(PROJECT_ROOT / "web" / "translations")
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.jinja_env.filters.update(grams=grams, fineness=fineness, money=money, day=day)
    app.jinja_env.globals.update(
        fine_grams=fine_grams, languages=LANGUAGES, current_locale=get_locale
    )
