"""Premium administration: rates and reference prices."""

from __future__ import annotations

from typing import TextIO

import click

from goldtrace.cli.base import cli, day_option, transaction
from goldtrace.domain.quantities import parse_money
from goldtrace.services import organizations, premiums


@cli.group()
def premium() -> None:
    """Premium rates and reference gold prices (as the standard body)."""


@premium.command("rate")
@click.option("--category", required=True, type=click.Choice(["fairmined", "fairmined_ecological"]))
@click.option(
    "--from", "effective_from", required=True, help="YYYY-MM-DD: applies to sales from then on"
)
@click.option("--usd-per-kg", required=True, help="USD per kg of fine gold, e.g. 4000.00")
def premium_rate(category: str, effective_from: str, usd_per_kg: str) -> None:
    """Record a premium rate from a date on."""
    with transaction() as (session, ctx):
        row = premiums.record_rate(
            session,
            ctx,
            actor=organizations.standard_body_id(session),
            category=category,
            effective_from=day_option(effective_from, "from"),
            cents_per_kg=parse_money(usd_per_kg, "usd_per_kg"),
        )
        seq = row.seq
    click.echo(f"premium rate for {category} from {effective_from} recorded (event {seq})")


@premium.command("reference-price")
@click.option("--date", "day", required=True, help="YYYY-MM-DD")
@click.option("--usd-per-troy-oz", required=True, help="e.g. 2640.00")
def premium_reference_price(day: str, usd_per_troy_oz: str) -> None:
    """Record the international gold price of a day (USD per troy ounce)."""
    with transaction() as (session, ctx):
        row = premiums.record_reference_price(
            session,
            ctx,
            actor=organizations.standard_body_id(session),
            day=day_option(day, "date"),
            cents_per_troy_oz=parse_money(usd_per_troy_oz, "usd_per_troy_oz"),
        )
        seq = row.seq
    click.echo(f"reference price for {day} recorded (event {seq})")


@premium.command("import-prices")
@click.argument("csv_file", type=click.File("r", encoding="utf-8"))
def premium_import_prices(csv_file: TextIO) -> None:
    """Import reference prices from a CSV file of `date,usd_per_troy_oz` lines (all or nothing)."""
    with transaction() as (session, ctx):
        count = premiums.import_reference_prices(
            session, ctx, actor=organizations.standard_body_id(session), text=csv_file.read()
        )
    click.echo(f"{count} reference prices imported")
