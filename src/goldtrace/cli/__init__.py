"""The ``goldtrace`` command. Every subcommand owns its transaction; services only flush.

Any refusal prints one line ``goldtrace: <message>`` on stderr and exits 1. The commands live in one
module per audience; importing them registers them on the group.
"""

from __future__ import annotations

import sys

import click
from sqlalchemy.exc import DBAPIError

from goldtrace.cli import admin_commands, auditor_commands, ledger_commands, premium_commands
from goldtrace.cli.base import cli
from goldtrace.errors import GoldtraceError

__all__ = [
    "admin_commands",
    "auditor_commands",
    "cli",
    "ledger_commands",
    "main",
    "premium_commands",
]


def main() -> None:
    """Entry point: run the CLI, turning goldtrace errors into one line and exit status 1."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("goldtrace: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        click.echo(f"goldtrace: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code or 1)
    except GoldtraceError as exc:
        click.echo(f"goldtrace: {exc.message}", err=True)
        sys.exit(1)
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        click.echo(f"goldtrace: database error: {reason} (has `goldtrace init-db` run?)", err=True)
        sys.exit(1)
