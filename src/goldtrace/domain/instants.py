"""UTC instants as RFC 3339 text with millisecond precision and a ``Z``, the only form the ledger stores."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from goldtrace.errors import InvalidInput

_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def format_instant(moment: datetime) -> str:
    """Return ``moment`` as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC. Naive datetimes are refused."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: goldtrace stores UTC instants only")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_instant(text: str) -> datetime:
    """Return the aware UTC datetime of an instant in the stored form; InvalidInput otherwise."""
    if not _INSTANT.match(text):
        raise InvalidInput(
            f"not an RFC 3339 UTC instant with milliseconds: {text!r}", code="bad_instant"
        )
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"not a valid instant: {text!r}", code="bad_instant") from None


def now_instant() -> str:
    """Return the current UTC instant in the stored form."""
    return format_instant(datetime.now(UTC))


def parse_date(text: str, field: str = "date") -> date:
    """Return a calendar date from ``YYYY-MM-DD``; InvalidInput naming ``field`` otherwise."""
    if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise InvalidInput(f"{field} must be a date YYYY-MM-DD", fields={field: "bad date"})
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{field} is not a real date: {text}", fields={field: "bad date"}
        ) from None


def day_in_period(moment: str, start: date | None, until: date | None) -> bool:
    """True when the day of an instant or date (its first 10 characters) lies in [start, until];
    a missing end is open."""
    day = moment[:10]
    if start is not None and day < start.isoformat():
        return False
    return until is None or day <= until.isoformat()


# The time zone a country's calendar dates are read in (a mine's production and registration dates).
TIME_ZONES = {"PE": "America/Lima", "CO": "America/Bogota", "BO": "America/La_Paz"}


def local_date(moment: str, country: str) -> date:
    """The calendar date of an instant in ``country``'s time zone (UTC where none is known)."""
    zone = ZoneInfo(TIME_ZONES.get(country, "UTC"))
    return parse_instant(moment).astimezone(zone).date()
