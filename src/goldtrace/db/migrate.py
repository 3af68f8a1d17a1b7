"""Running the Alembic migrations from code (the CLI's init-db and the test suite)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from goldtrace.config import PROJECT_ROOT
from goldtrace.errors import ConfigurationError


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """Return the Alembic configuration for ``url`` or an open ``connection``."""
    ini = PROJECT_ROOT / "alembic.ini"
    if not ini.exists():
        raise ConfigurationError(f"cannot find {ini}: install goldtrace from its checkout (pip -e)")
    config = Config(str(ini))
    config.attributes["configure_logging"] = False
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str | None = None, *, connection: Connection | None = None) -> None:
    """Migrate the database to the newest revision."""
    command.upgrade(alembic_config(url, connection), "head")


def downgrade(url: str | None = None, *, connection: Connection | None = None) -> None:
    """Migrate the database down to empty."""
    command.downgrade(alembic_config(url, connection), "base")
