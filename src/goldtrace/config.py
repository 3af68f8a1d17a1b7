"""Settings read from ``GOLDTRACE_*`` environment variables, only when asked for."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from goldtrace.errors import ConfigurationError

# goldtrace is installed in editable mode from its checkout, whose root holds alembic.ini and web/.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The embedded database lives next to the checkout so that `make run` needs no set-up.
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"
DEV_SECRET_KEY = "goldtrace-development-secret-do-not-use-in-production"  # noqa: S105


@dataclass(frozen=True)
class Settings:
    """Everything the application needs from its environment."""

    database_url: str
    secret_key: str
    log_origin: str = "goldtrace.local/log"
    standard_body_id: str = "arm"
    standard_body_name: str = "Alliance for Responsible Mining"
    base_url: str = "http://127.0.0.1:5000"
    testing: bool = False
    # How many days after production a lot may be registered without the standard body's exception.
    registration_max_age_days: int = 31
    # The form of a carnet de extranjería number (DOMAIN.md: not settled; 9 digits by default).
    ce_pattern: str = r"\d{9}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Return settings from ``environ`` (default ``os.environ``).

        Raises ConfigurationError when a value is malformed.
        """
        env = os.environ if environ is None else environ
        url = env.get("GOLDTRACE_DATABASE_URL") or sqlite_url(DEFAULT_INSTANCE / "goldtrace.db")
        settings = cls(
            database_url=url,
            secret_key=env.get("GOLDTRACE_SECRET_KEY", DEV_SECRET_KEY),
            log_origin=env.get("GOLDTRACE_LOG_ORIGIN", cls.log_origin),
            standard_body_id=env.get("GOLDTRACE_STANDARD_BODY_ID", cls.standard_body_id),
            standard_body_name=env.get("GOLDTRACE_STANDARD_BODY_NAME", cls.standard_body_name),
            base_url=env.get("GOLDTRACE_BASE_URL", cls.base_url).rstrip("/"),
            registration_max_age_days=_int(
                env, "GOLDTRACE_REGISTRATION_MAX_AGE_DAYS", cls.registration_max_age_days
            ),
            ce_pattern=env.get("GOLDTRACE_CE_PATTERN", cls.ce_pattern),
        )
        settings.validate()
        return settings

    def with_overrides(self, **changes: Any) -> Settings:
        """Return a copy with some fields replaced (tests and the CLI use this)."""
        updated = replace(self, **changes)
        updated.validate()
        return updated

    def validate(self) -> None:
        """Raise ConfigurationError unless every field is usable."""
        origin = self.log_origin
        if not origin or any(c.isspace() or c == "+" or not c.isascii() for c in origin):
            raise ConfigurationError(
                "GOLDTRACE_LOG_ORIGIN must be non-empty printable ASCII without spaces or '+'"
            )
        if len(self.secret_key) < 16:
            raise ConfigurationError("GOLDTRACE_SECRET_KEY must be at least 16 characters")
        if not 0 <= self.registration_max_age_days <= 366:
            raise ConfigurationError("GOLDTRACE_REGISTRATION_MAX_AGE_DAYS must be 0 to 366")
        try:
            re.compile(self.ce_pattern)
        except re.error:
            raise ConfigurationError("GOLDTRACE_CE_PATTERN is not a regular expression") from None


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name)
    if text is None:
        return default
    if not text.strip().isdigit():
        raise ConfigurationError(f"{name} must be a whole number of days")
    return int(text)


def sqlite_url(path: Path) -> str:
    """Return the SQLAlchemy URL of an SQLite file (absolute, so the cwd does not matter)."""
    return f"sqlite:///{path.resolve()}"
