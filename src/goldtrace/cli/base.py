"""The ``goldtrace`` command group and what its subcommands share: each owns its transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import click
from sqlalchemy.orm import Session

from goldtrace.config import Settings
from goldtrace.db.session import make_engine
from goldtrace.domain.instants import parse_date
from goldtrace.errors import GoldtraceError
from goldtrace.ledger.verifier import Fault
from goldtrace.services.context import Context


@contextmanager
def transaction() -> Iterator[tuple[Session, Context]]:
    """A session in a transaction on the configured database, committed when the block ends."""
    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session, Context(settings)
    finally:
        engine.dispose()


@click.group()
def cli() -> None:
    """goldtrace: a verifiable chain-of-custody ledger for Fairmined gold."""


def day_option(value: str, name: str) -> date:
    """A YYYY-MM-DD option's date; a usage error naming the option otherwise."""
    try:
        return parse_date(value, name)
    except GoldtraceError as exc:
        raise click.BadParameter(exc.message) from None


def echo_faults(faults: list[Fault]) -> None:
    """Print on stderr the first fault, which names the first bad seq, then up to 19 more."""
    first, *more = sorted(faults)
    click.echo(f"FAULT: first bad seq {first.seq}: {first.message} [{first.code}]", err=True)
    for fault in more[:19]:
        click.echo(f"  also {fault}", err=True)
