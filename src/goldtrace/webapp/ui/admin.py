"""Pages: admin (to be filled)."""

from __future__ import annotations

from goldtrace.webapp.ui import bp  # noqa: F401
